"""Peak memory while a large batch of orders goes through submit → build → validate → sign → wrap.

Run: ``python benchmarks/memory.py [--orders 100000] [--checkpoints 10000,50000,100000]``
(``run_all.py`` runs it with 10,000 orders).

What runs: one process, one thread. Orders come from a seeded
:class:`~cbec_declare.testing.factories.DocumentFactory` as a stream, 1,000 at a time: each chunk is
submitted to a :class:`~cbec_declare.pipeline.Pipeline` on a SQLite ledger and worked off with
:meth:`Pipeline.run_once` (claim → load → build → validate → sign RSA-2048 → wrap → store the exact bytes →
NODE_SENDING → send). **The flow stops at the send**: the node transport is a null one that accepts every
message at once (no HTTP, no receipts; ``flow.py`` and ``soak.py`` cover those), and no document has a
platform step. The ledger uses ``synchronous=NORMAL`` (the sync mode changes speed, not memory).

At each checkpoint (orders that have gone all the way): Python heap now and its peak so far
(``tracemalloc``, which costs time and some memory of its own; ``--no-tracemalloc`` to leave it out),
the process's peak RSS (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) and its RSS now
(``/proc/self/statm``). Flat means the peaks at 50k and 100k are those at 10k; the ledger grows on disk,
not in memory. Last, the cost of handing ``submit()`` one big list: the traced peak of a single call
with 1,000 and with 10,000 orders (the call holds its whole argument and its JSON forms at once).
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench_common import Row, write_rows

from cbec_declare.pipeline import Pipeline, PipelineSettings, open_ledger
from cbec_declare.testing.factories import DocumentFactory
from cbec_declare.testing.harness import throwaway_signer
from cbec_declare.transport import NodeReply

BENCH = "memory"
MIB = 1024 * 1024


class NullNode:
    """A node transport that accepts every DxpMsg at once: the flow measured ends at the send."""

    def __init__(self) -> None:
        self.sent = 0
        self.bytes = 0

    def send(self, dxp_msg: bytes, *, cop_msg_id: str) -> NodeReply:
        self.sent += 1
        self.bytes += len(dxp_msg)
        return NodeReply(accepted=True, transport="null", cop_msg_id=cop_msg_id)


def rss_now() -> float:
    """Resident set size now, MiB."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / MIB


def rss_peak() -> float:
    """Peak resident set size of this process so far, MiB (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def chunks(factory: DocumentFactory, total: int, size: int) -> Iterator[list[Any]]:
    done = 0
    while done < total:
        n = min(size, total - done)
        yield list(factory.orders(n, items=3))
        done += n


def make_pipeline(folder: Path, name: str) -> tuple[Pipeline, NullNode]:
    ledger = open_ledger(f"sqlite:///{folder / name}?synchronous=NORMAL")
    factory = DocumentFactory(seed=0)
    node = NullNode()
    pipeline = Pipeline(
        ledger,
        base_transfer=factory.company.base_transfer,
        signer=throwaway_signer(),
        node=node,
        settings=PipelineSettings(platform_kinds=frozenset()),
    )
    return pipeline, node


def run(total: int, checkpoints: list[int], traced: bool, folder: Path) -> list[Row]:
    pipeline, node = make_pipeline(folder, "ledger.sqlite3")
    factory = DocumentFactory(seed=3)
    rows: list[Row] = []
    if traced:
        tracemalloc.start()
    gc.collect()
    start_rss = rss_now()
    print(f"{total} orders (3 goods lines each), RSA-2048; RSS before: {start_rss:.1f} MiB; "
          f"tracemalloc {'on' if traced else 'off'}")  # fmt: skip
    print(f"\n{'orders done':>12} {'heap now':>10} {'heap peak':>10} {'RSS peak':>10} {'RSS now':>9} "
          f"{'ledger':>9} {'s':>7}")  # fmt: skip
    done, started = 0, time.perf_counter()
    pending = sorted(checkpoints)
    first: tuple[float, float] | None = None
    for chunk in chunks(factory, total, 1000):
        results = pipeline.submit(chunk)
        assert all(r.created for r in results)
        while pipeline.run_once(limit=100):
            pass
        done += len(chunk)
        del chunk, results
        if pending and done >= pending[0]:
            pending.pop(0)
            current, peak = tracemalloc.get_traced_memory() if traced else (0, 0)
            disk = (folder / "ledger.sqlite3").stat().st_size / MIB
            print(f"{done:>12} {current / MIB:>9.1f}M {peak / MIB:>9.1f}M {rss_peak():>9.1f}M "
                  f"{rss_now():>8.1f}M {disk:>8.0f}M {time.perf_counter() - started:>7.0f}")  # fmt: skip
            if first is None:
                first = (peak / MIB, rss_peak())
            else:
                rows.append(Row(BENCH, f"heap peak at {done} orders", peak / MIB, "MiB",
                                (peak / MIB) / first[0] if traced and first[0] else None,
                                f"heap peak at {checkpoints[0]}"))  # fmt: skip
                rows.append(Row(BENCH, f"RSS peak at {done} orders", rss_peak(), "MiB",
                                rss_peak() / first[1], f"RSS peak at {checkpoints[0]}"))  # fmt: skip
    assert node.sent == total, (node.sent, total)
    pipeline.ledger.close()
    if traced:
        print("\none submit() call holding the whole batch (traced peak during the call):")
        for size in (1000, 10_000):
            big, _ = make_pipeline(folder, f"submit-{size}.sqlite3")
            documents = list(DocumentFactory(seed=size).orders(size, items=3))
            gc.collect()
            tracemalloc.reset_peak()
            base, _ = tracemalloc.get_traced_memory()
            big.submit(documents)
            _, peak = tracemalloc.get_traced_memory()
            extra = (peak - base) / MIB
            print(f"  {size:>6} orders: +{extra:6.1f} MiB ({(peak - base) / size / 1024:.1f} KiB per order)")
            rows.append(Row(BENCH, f"one submit() of {size} orders: traced peak", extra, "MiB"))
            big.ledger.close()
        tracemalloc.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--checkpoints", help="orders done at which to print (default 10%%, 50%%, 100%%)")
    parser.add_argument("--no-tracemalloc", action="store_true")
    parser.add_argument("--json", help="append result rows (JSON lines) to this file")
    args = parser.parse_args()
    if args.checkpoints:
        checkpoints = [int(c) for c in args.checkpoints.split(",")]
    else:
        checkpoints = [args.orders // 10, args.orders // 2, args.orders]
    with tempfile.TemporaryDirectory(prefix="cbec-memory-") as folder:
        rows = run(args.orders, checkpoints, not args.no_tracemalloc, Path(folder))
    write_rows(args.json, rows)


if __name__ == "__main__":
    main()
