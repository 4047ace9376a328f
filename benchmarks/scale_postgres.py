"""Scale-out throughput: declarations/s with 1, 2 and 4 worker processes on PostgreSQL, and 1 on SQLite.

    python benchmarks/scale_postgres.py                      # 100 sales = 400 documents per run
    python benchmarks/scale_postgres.py --sales 200 --rounds 5 --workers 1 2 4 8 --scenario node
    python benchmarks/scale_postgres.py --push-concurrency 1    # receipts pushed one at a time
    python benchmarks/scale_postgres.py --pg-url postgresql://bench@db.internal/postgres

Each run is the real thing, end to end: a fresh ledger (a new database on the PostgreSQL server — a
throw-away local cluster with PostgreSQL's durable defaults, fsync and synchronous_commit on — or a new
SQLite file, synchronous=FULL), a fresh sandbox in its own process (platform, exchange node, customs),
the same documents (same seed: orders, payments, waybills, inventories), and K worker processes
(``tests/pipeline/pg_worker.py``: 4 threads each, production lease) that start claiming together. Each
worker serves the 2.1 receipt endpoint; the sandbox pushes (from ``--push-concurrency`` threads) to one URL,
a round-robin load balancer in this process, as the platform pushes to one URL in production.

Two scenarios: ``full`` (orders and inventories through the platform, 2.2, first) and ``node`` (every
document straight to the exchange node, 2.3: the sending path alone).

The sandbox runs with a tiny ``time_scale`` (receipt delays of milliseconds), so what is measured is the
pipeline — build, validate, sign, store, send, apply receipts — not simulated customs latency. Two clocks,
both started when the workers are told to go:

* declared: every document accepted by the exchange node (DECLARED or beyond) — declarations/s;
* final: every document in its final customs state (all receipts applied) — completions/s.

Besides the rates, each configuration's cost per document: CPU of the worker processes, of the throw-away
PostgreSQL server and of the whole machine, and PostgreSQL transactions; these do not depend on how many
cores the machine has, the rates do (workers, sandbox and PostgreSQL share them; the count is printed).
Never run in CI.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import attrs

from cbec_declare.pipeline import Pipeline, PipelineSettings, State, open_ledger
from cbec_declare.sandbox.credentials import SandboxCredentials
from cbec_declare.testing.factories import DocumentFactory
from cbec_declare.testing.harness import company_for, throwaway_signer
from cbec_declare.transport import SoapNodeTransport

ROOT = Path(__file__).resolve().parents[1]
WORKER = ROOT / "tests" / "pipeline" / "pg_worker.py"
TIME_SCALE = 0.001
STARTUP = 120.0  # seconds: bound on a process becoming ready
RUN_LIMIT = 900.0  # seconds: bound on one run


# ----------------------------------------------------------------------------------- the load balancer


class LoadBalancer:
    """Round-robin HTTP forwarding to the workers' receipt endpoints (keep-alive on both sides); a
    backend that refuses the connection is skipped, as a load balancer's health check would."""

    def __init__(self) -> None:
        self.backends: list[int] = []
        self._turn = itertools.count()
        self._local = threading.local()
        balancer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body leave in two writes: no 40 ms delayed ACK

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, headers, answer = balancer.forward(self.path, dict(self.headers.items()), body)
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _connection(self, port: int) -> http.client.HTTPConnection:
        pool: dict[int, http.client.HTTPConnection] = self._local.__dict__.setdefault("pool", {})
        if port not in pool:
            pool[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        return pool[port]

    def forward(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, list[Any], bytes]:
        backends = list(self.backends)
        start = next(self._turn)
        for k in range(len(backends)):
            port = backends[(start + k) % len(backends)]
            for _ in range(2):  # a kept-alive connection the backend closed: reconnect once
                connection = self._connection(port)
                try:
                    connection.request("POST", path, body=body, headers=headers)
                    reply = connection.getresponse()
                    return reply.status, reply.getheaders(), reply.read()
                except (ConnectionError, http.client.HTTPException, OSError):
                    connection.close()
                    self._local.pool.pop(port, None)
        return 502, [("Content-Type", "text/plain")], b"no backend"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# ----------------------------------------------------------------------------------- processes


def _wait_line(process: subprocess.Popen[bytes], expected: bytes, timeout: float) -> None:
    assert process.stdout is not None
    result: list[bytes] = []
    reader = threading.Thread(target=lambda: result.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout)
    if not result or result[0].strip() != expected:
        process.kill()
        raise RuntimeError(f"process {process.args!r} did not say {expected!r} within {timeout} s")


@contextmanager
def sandbox_process(
    folder: Path, receiver: str, push_concurrency: int
) -> Iterator[tuple[SandboxCredentials, list[str]]]:
    """A sandbox in its own process; yields its credentials and (after it stopped) its final stats."""
    path, config = folder / "sandbox-credentials.json", folder / "sandbox.toml"
    config.write_text(f"[sandbox.push]\nconcurrency = {push_concurrency}\n", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "cbec_declare.sandbox.cli", "--config", str(config), "--credentials", str(path),
         "--receiver", receiver, "--time-scale", str(TIME_SCALE), "--seed", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + STARTUP
    while not path.exists():
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise RuntimeError("the sandbox did not start")
        time.sleep(0.05)
    time.sleep(0.1)  # written atomically, but give its first lines a moment
    final: list[str] = []
    try:
        yield SandboxCredentials.read(path), final
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=60)
        final.extend(out.decode("utf-8", "replace").split("--- final stats", 1)[-1].splitlines())


def start_workers(
    count: int, credentials: Path, ledger_url: str, key: Path, cert: Path, folder: Path
) -> list[tuple[subprocess.Popen[bytes], int]]:
    workers = []
    for n in range(count):
        port = _free_port()
        process = subprocess.Popen(
            [sys.executable, str(WORKER), "--credentials", str(credentials), "--ledger", ledger_url,
             "--port", str(port), "--key", str(key), "--cert", str(cert), "--events",
             str(folder / f"events-{n}.log"), "--lease", "90", "--go"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=(folder / f"worker-{n}.log").open("wb"),
        )  # fmt: skip
        workers.append((process, port))
    for process, _ in workers:
        _wait_line(process, b"ready", STARTUP)
    return workers


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ----------------------------------------------------------------------------------- CPU accounting

_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (field 3, the state, is index 0)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def cpu_seconds(pid: int, *, children: bool = False) -> float:
    """User + system CPU of a process (and of its reaped children)."""
    try:
        fields = _stat(pid)
    except (OSError, ValueError):
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + ((int(fields[13]) + int(fields[14])) if children else 0)
    return ticks / _TICK


def postgres_cpu(postmaster: int | None) -> float | None:
    """Every CPU second the server spent: the postmaster, its reaped backends, and the live ones."""
    if postmaster is None:
        return None
    total = cpu_seconds(postmaster, children=True)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_stat(int(entry.name))[1]) == postmaster:
                    total += cpu_seconds(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    return total


def machine_busy() -> float:
    """CPU seconds the whole machine spent busy since boot (every core, every process)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle, iowait = ticks[3], ticks[4]  # user nice system idle iowait irq softirq steal
    return (sum(ticks) - idle - iowait) / _TICK


@attrs.frozen
class Run:
    declared: float  # seconds until every document was declared
    final: float  # seconds until every document was final
    retries: int  # failed attempts the workers logged and retried
    worker_cpu: float  # CPU seconds of the worker processes, go → final
    database_cpu: float | None  # CPU seconds of PostgreSQL (None: SQLite, or a server elsewhere)
    machine_cpu: float  # CPU seconds of the whole machine (workers, sandbox, database, this script)
    transactions: int | None  # PostgreSQL transactions of the workers, go → stopped (None: SQLite)


def transactions(ledger_url: str) -> int | None:
    """Transactions committed or rolled back in the ledger's PostgreSQL database so far."""
    if not ledger_url.startswith("postgresql:"):
        return None
    import psycopg

    with psycopg.connect(ledger_url, autocommit=True, connect_timeout=10) as conn:
        row = conn.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    return None if row is None else int(row[0])


# ----------------------------------------------------------------------------------- one run


def one_run(
    label: str,
    ledger_url: str,
    workers: int,
    sales: int,
    folder: Path,
    *,
    platform_step: bool,
    postmaster: int | None,
    push_concurrency: int,
) -> Run:
    """One run, from "go" until every document is final (see :class:`Run`)."""
    folder.mkdir(parents=True)
    balancer = LoadBalancer()
    signer = throwaway_signer()
    key, cert = folder / "enterprise.key", folder / "enterprise.crt"
    key.write_bytes(signer.private_key_pem(None))  # type: ignore[attr-defined]
    cert.write_bytes(signer.certificate_pem())  # type: ignore[attr-defined]
    try:
        with sandbox_process(folder, balancer.url, push_concurrency) as (credentials, final_stats):
            ledger = open_ledger(ledger_url)
            submitter = Pipeline(
                ledger,
                base_transfer=company_for(credentials).base_transfer,
                signer=signer,
                node=SoapNodeTransport(credentials.soap_node_profile()),
                platform=credentials.platform_client(),
                settings=PipelineSettings(
                    spec_version=credentials.spec_version,
                    # decided when a document is submitted: with none, every one goes straight to 2.3
                    **({} if platform_step else {"platform_kinds": frozenset()}),
                ),
            )
            factory = DocumentFactory(seed=2026, company=company_for(credentials))
            docs: list[Any] = []
            for order in factory.orders(sales, items=2):
                docs += [order, factory.payment_for(order), factory.logistics_for(order),
                         factory.inventory_for(order)]  # fmt: skip
            total = len(submitter.submit(docs))
            processes = start_workers(
                workers, folder / "sandbox-credentials.json", ledger_url, key, cert, folder
            )
            balancer.backends = [port for _, port in processes]
            try:
                polls = 0
                before = transactions(ledger_url)
                cpu = [
                    sum(cpu_seconds(process.pid) for process, _ in processes),
                    postgres_cpu(postmaster),
                    machine_busy(),
                ]
                start = time.perf_counter()
                for process, _ in processes:
                    assert process.stdin is not None
                    process.stdin.write(b"go\n")
                    process.stdin.flush()
                declared = final = None
                while final is None and time.perf_counter() - start < RUN_LIMIT:
                    counts = ledger.counts()
                    polls += 1
                    now = time.perf_counter() - start
                    if (
                        declared is None
                        and sum(n for s, n in counts.items() if s.rank >= State.DECLARED.rank) == total
                    ):
                        declared = now
                    if sum(n for s, n in counts.items() if s.is_final) == total:
                        final = now
                        worker_cpu = sum(cpu_seconds(process.pid) for process, _ in processes) - cpu[0]
                        pg_end = postgres_cpu(postmaster)
                        database_cpu = None if pg_end is None or cpu[1] is None else pg_end - cpu[1]
                        machine_cpu = machine_busy() - cpu[2]
                    time.sleep(0.02)
                released = ledger.counts()[State.RELEASED]
            finally:
                for process, _ in processes:
                    process.terminate()
                for process, _ in processes:
                    process.communicate(timeout=60)
            ledger.close()  # every session has ended: its statistics are in pg_stat_database
            after = transactions(ledger_url)
            # this script's polls (one transaction each, plus the last count and the reading itself)
            txns = None if before is None or after is None else after - before - polls - 2
        if declared is None or final is None:
            raise RuntimeError(f"{label}: not finished within {RUN_LIMIT} s")
        twice = [line for line in final_stats if line.startswith("declared_twice:")]
        if released != total or twice != ["declared_twice: 0"]:
            raise RuntimeError(f"{label}: {released}/{total} released, {twice}")
        retries = sum(log.read_text(errors="replace").count("failed") for log in folder.glob("worker-*.log"))
        return Run(declared, final, retries, worker_cpu, database_cpu, machine_cpu, txns)
    finally:
        balancer.close()


# ----------------------------------------------------------------------------------- main


@contextmanager
def postgres(url: str | None) -> Iterator[tuple[Any, int | None]]:
    """Yields ``new_database() -> URL`` (on a throw-away cluster, or on the server ``url`` names) and
    the postmaster's pid (the throw-away cluster's only: its CPU is measured)."""
    import psycopg
    from psycopg import sql

    cluster = None
    if url is None:
        sys.path.insert(0, str(ROOT / "tests"))
        from pipeline._pg import PgCluster, find_bindir

        bindir = find_bindir()
        if bindir is None:
            raise SystemExit("no PostgreSQL server binaries (initdb, pg_ctl): pass --pg-url")
        cluster = PgCluster(bindir, settings={"max_connections": "200"}).start()
        url = cluster.url()
    serial = itertools.count(1)
    made: list[str] = []

    def new_database() -> str:
        name = f"bench_scale_{os.getpid()}_{next(serial)}"
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        made.append(name)
        # open_ledger takes postgresql:// URLs (a keyword DSN would be read as a SQLite file name)
        return urlsplit(url)._replace(path=f"/{name}").geturl()

    postmaster = None
    if cluster is not None:
        postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
    try:
        yield new_database, postmaster
    finally:
        if cluster is not None:
            cluster.stop()
        else:
            with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
                for name in made:
                    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


SCENARIOS = {
    "full": "the 方案二 flow as in production: orders and inventories go to the platform (2.2) first,"
    " and reach the node once its 入库回执 push came back",
    "node": "every document straight to the exchange node (2.3): the sending path alone — claim, build,"
    " validate, sign, store, send",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sales", type=int, default=100, help="sales per run (4 documents each)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4], help="PostgreSQL worker counts")
    parser.add_argument("--rounds", type=int, default=3, help="runs per configuration (the median is shown)")
    parser.add_argument("--scenario", choices=[*SCENARIOS, "both"], default="both")
    parser.add_argument(
        "--push-concurrency", type=int, default=8, help="threads the sandbox pushes receipts with (default 8)"
    )
    parser.add_argument(
        "--pg-url", help="postgresql://… of a server to create databases on (default: a throw-away cluster)"
    )
    args = parser.parse_args()

    scenarios = list(SCENARIOS) if args.scenario == "both" else [args.scenario]
    cases = [(scenario, backend, workers) for scenario in scenarios
             for backend, workers in [("SQLite", 1)] + [("PostgreSQL", k) for k in args.workers]]  # fmt: skip
    results: dict[tuple[str, str, int], list[Run]] = {case: [] for case in cases}
    with (
        tempfile.TemporaryDirectory(prefix="cbec-bench-scale-") as folder,
        postgres(args.pg_url) as (new_db, postmaster),
    ):
        for round_ in range(args.rounds):
            for scenario, backend, workers in cases:  # interleaved: drift hits every case alike
                where = Path(folder) / f"{scenario}-{backend}-{workers}-{round_}"
                url = new_db() if backend == "PostgreSQL" else f"sqlite:///{where}.sqlite3"
                label = f"{scenario}: {backend} × {workers}"
                run = one_run(
                    label, url, workers, args.sales, where,
                    platform_step=scenario == "full", postmaster=postmaster if backend == "PostgreSQL" else None,
                    push_concurrency=args.push_concurrency,
                )  # fmt: skip
                results[(scenario, backend, workers)].append(run)
                print(f"  {label}: {run}", file=sys.stderr, flush=True)
    report(results, scenarios, args)


def _medians(results: dict[tuple[str, str, int], list[Run]], scenario: str) -> dict[str, dict[str, Any]]:
    """Per "backend × workers" of ``scenario``: the median of every field of its runs (None if any is)."""
    out: dict[str, dict[str, Any]] = {}
    for (name, backend, workers), runs in results.items():
        if name == scenario:
            out[f"{backend} × {workers}"] = {
                field.name: None
                if any(getattr(r, field.name) is None for r in runs)
                else statistics.median(getattr(r, field.name) for r in runs)
                for field in attrs.fields(Run)
            }
    return out


def report(results: dict[tuple[str, str, int], list[Run]], scenarios: list[str], args: Any) -> None:
    docs, base = 4 * args.sales, f"PostgreSQL × {args.workers[0]}"
    print(f"\nScale-out: {docs} documents ({args.sales} sales: order, payment, waybill, inventory) per run,"
          f" median of {args.rounds} run(s).")  # fmt: skip
    print(f"{os.cpu_count()} CPU(s), shared by the worker processes, the sandbox process and PostgreSQL.")
    print(f"Sandbox time_scale {TIME_SCALE}: simulated customs delays are milliseconds, so what is measured is"
          " the pipeline, not customs. PostgreSQL fsync on; SQLite synchronous=FULL.")  # fmt: skip
    print("declared: until every document was accepted by the exchange node; final: until every one was in")
    print(f"its final customs state (receipts pushed by {args.push_concurrency} sandbox threads through a"
          " round-robin balancer). Each worker process runs 4 threads.")  # fmt: skip
    print(f"Ratios are to {base} of the same scenario; above 1: faster.")
    for scenario in scenarios:
        medians = _medians(results, scenario)
        first, final_base = medians[base]["declared"], medians[base]["final"]
        print(f"\n[{scenario}] {SCENARIOS[scenario]}")
        print(f"{'scenario: ledger × workers':<30}{'declared s':>11}{'decl./s':>9}{'ratio':>8}"
              f"{'final s':>9}{'final/s':>9}{'ratio':>8}")  # fmt: skip
        for label, m in medians.items():
            declared, final = m["declared"], m["final"]
            print(f"{scenario + ': ' + label:<30}{declared:>11.2f}{docs / declared:>9.1f}{first / declared:>7.2f}×"
                  f"{final:>9.2f}{docs / final:>9.1f}{final_base / final:>7.2f}×")  # fmt: skip
    print("\nCost per document, go → final: CPU ms of the worker processes, of PostgreSQL and of the whole")
    print(
        "machine (sandbox and this script included); PostgreSQL transactions (reads included); attempts the"
    )
    print("workers logged as failed and retried (they explain a slow run).")
    print(
        f"{'scenario: ledger × workers':<30}{'worker ms':>10}{'db ms':>8}{'all ms':>8}{'txn':>7}{'retries':>9}"
    )
    for scenario in scenarios:
        for label, m in _medians(results, scenario).items():
            cells = [
                "-" if m[name] is None else f"{1000 * m[name] / docs:.1f}"
                for name in ("worker_cpu", "database_cpu", "machine_cpu")
            ]
            txn = "-" if m["transactions"] is None else f"{m['transactions'] / docs:.1f}"
            print(f"{scenario + ': ' + label:<30}{cells[0]:>10}{cells[1]:>8}{cells[2]:>8}{txn:>7}"
                  f"{m['retries']:>9.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
