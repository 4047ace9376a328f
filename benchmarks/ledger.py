"""Ledger throughput: submits/s and transitions/s for SQLite (FULL, NORMAL) and PostgreSQL.

Each figure is printed with its ratio to a baseline measured in the same run on the same database
settings: a plain one-row ``INSERT`` per committed transaction (what any durable ledger must pay at least).

    python benchmarks/ledger.py                 # SQLite, plus PostgreSQL on a throw-away local cluster
    python benchmarks/ledger.py --n 2000 --pg-dsn "host=/run/postgresql dbname=bench"

The throw-away cluster (tests/pipeline/_pg.py) keeps PostgreSQL's durable defaults (fsync on).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cbec_declare.pipeline.ledger import Ledger, NewDocument
from cbec_declare.pipeline.sqlite_ledger import SqliteLedger
from cbec_declare.pipeline.states import DocumentKind, State, Transition

ROOT = Path(__file__).resolve().parents[1]
_serial = iter(range(10**9))


def _doc() -> NewDocument:
    n = next(_serial)
    return NewDocument(
        kind=DocumentKind.ORDER, business_key=f"3301964J31|SO{n}", app_type="1", guid=f"g{n}",
        payload=b'{"orderNo": "SO%d", "goodsValue": "100.00"}' % n, order_no=f"SO{n}",
    )  # fmt: skip


def rate(n: int, operation: Callable[[int], object], threads: int = 1) -> float:
    """Operations per second of ``operation(i)`` for i in range(n), after an untimed warm-up of n // 5
    (a new database first pays for growing its files), on ``threads`` threads sharing the work."""
    for i in range(n // 5):
        operation(i)
    start = time.perf_counter()
    if threads == 1:
        for i in range(n):
            operation(i)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda t: [operation(i) for i in range(t, n, threads)], range(threads)))
    return n / (time.perf_counter() - start)


def count_up(record: Any) -> Transition:
    return Transition(state=record.state, customs_rank=(record.customs_rank or 0) + 1, reason="bench")


def measure_ledger(ledger: Ledger, n: int) -> dict[str, float]:
    out = {"submit (1 doc/txn)": rate(n, lambda i: ledger.submit([_doc()]))}
    batch = 100
    docs_per_s = rate(max(1, n // batch), lambda i: ledger.submit([_doc() for _ in range(batch)])) * batch
    out[f"submit ({batch} docs/txn), docs/s"] = docs_per_s
    ids = [r.id for r in ledger.submit([_doc() for _ in range(50)])]
    out["transition"] = rate(n, lambda i: ledger.transition(ids[i % len(ids)], count_up, event="bench"))
    out["transition, 4 threads"] = rate(
        n, lambda i: ledger.transition(ids[i % len(ids)], count_up, event="bench"), threads=4
    )
    now = datetime.now(timezone.utc)

    def claim_and_release(i: int) -> None:
        for record in ledger.claim_due(now=now, owner="b", limit=10, lease_seconds=60):
            ledger.release(record.id, owner="b")

    out["claim_due(10) + 10 release: 11 txns"] = rate(max(1, n // 10), claim_and_release)
    assert ledger.counts()[State.QUEUED] > 0
    return out


def sqlite_baseline(path: Path, synchronous: str, n: int) -> float:
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, payload BLOB, at INTEGER)")
        return rate(n, lambda i: conn.execute("INSERT INTO t (payload, at) VALUES (?, ?)", (b"x" * 64, i)))


def pg_baseline(dsn: str, n: int) -> float:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_t (id BIGSERIAL PRIMARY KEY, payload BYTEA, at BIGINT)"
        )
        return rate(
            n, lambda i: conn.execute("INSERT INTO bench_t (payload, at) VALUES (%s, %s)", (b"x" * 64, i))
        )


def report(title: str, baseline: float, results: dict[str, float]) -> None:
    print(f"\n{title}\n  {'baseline: plain INSERT, 1 row/txn':<38} {baseline:>9.0f} /s")
    for name, value in results.items():
        print(f"  {name:<38} {value:>9.0f} /s   {value / baseline:5.2f}× baseline")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=500, help="operations per measurement")
    parser.add_argument(
        "--pg-dsn", help="an existing, empty PostgreSQL database (default: a throw-away cluster)"
    )
    parser.add_argument("--no-pg", action="store_true", help="measure SQLite only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cbec-bench-") as folder:
        sqlite_rates = {}
        for mode in ("FULL", "NORMAL"):
            baseline = sqlite_baseline(Path(folder) / f"base-{mode}.db", mode, args.n)
            with SqliteLedger(Path(folder) / f"ledger-{mode}.db", synchronous=mode) as ledger:
                results = measure_ledger(ledger, args.n)
            report(f"SQLite, WAL, synchronous={mode}", baseline, results)
            sqlite_rates[mode] = results
        full, normal = sqlite_rates["FULL"], sqlite_rates["NORMAL"]
        print("\n  FULL / NORMAL: " + ", ".join(f"{k} {full[k] / normal[k]:.2f}" for k in full))
    if not args.no_pg:
        bench_postgres(args.pg_dsn, args.n)


def bench_postgres(dsn: str | None, n: int) -> None:
    from cbec_declare.pipeline.postgres_ledger import PostgresLedger

    cluster = None
    if dsn is None:
        sys.path.insert(0, str(ROOT / "tests"))
        from pipeline._pg import PgCluster, find_bindir

        bindir = find_bindir()
        if bindir is None:
            print("\nPostgreSQL: skipped (no initdb/pg_ctl; pass --pg-dsn)")
            return
        cluster = PgCluster(bindir).start()
        cluster.create_database("bench")
        dsn = cluster.dsn("bench")
    try:
        baseline = pg_baseline(dsn, n)
        with PostgresLedger(dsn) as ledger:
            report("PostgreSQL (fsync on, synchronous_commit on)", baseline, measure_ledger(ledger, n))
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()
