"""Declarations per second through the full flow, against the sandbox running in another process.

Run: ``python benchmarks/flow.py [--sales 100] [--batch-sizes 1,100] [--sync FULL,NORMAL] [--push-concurrency 1]``.

The ledger's ``synchronous=FULL`` (the default: an fsync per commit) and ``NORMAL`` (no fsync per commit)
are both run, to show how much of the flow waits on the disk.

Per configuration (CEB message ``batch_size`` × SQLite ``synchronous``), a fresh sandbox starts in a
spawned process (:func:`cbec_declare.sandbox.cli.run_sandbox`, ``time_scale`` 0.001 so the simulated
customs delays are milliseconds, pushing to this process's receipt endpoint), and this process runs a
:func:`~cbec_declare.testing.harness.start_harness` pipeline on a new SQLite ledger with a 4-thread
worker. ``--sales`` sales (order, payment, waybill, inventory: 4 declarations each) are submitted and
the clock runs until every document is final: the <mo> messages to the platform (2.2), its 入库回执,
the signed CEB messages to the node (2.3), and every customs receipt pushed back (2.1), all over HTTP.

Baseline, in the same run and process: build + validate + sign (:func:`messages.build`,
:func:`validation.validate` with ``built=``, :func:`signing.sign_canonical`, same signer) of exactly the
CEB messages the flow sent — the same documents in the same groups, read back from the ledger. The
ratio says how much the whole flow (HTTP, AES, the platform, ledger transactions, receipts) costs on top
of the per-message CPU work. The sandbox shares the machine's cores with the worker.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import attrs

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench_common import Row, SandboxProcess, free_port, sales, sandbox_mapping, write_rows

from cbec_declare.messages import build
from cbec_declare.models import BaseTransfer
from cbec_declare.pipeline import PipelineSettings
from cbec_declare.pipeline.documents import load_document, to_message
from cbec_declare.pipeline.ledger import Ledger
from cbec_declare.signing import Signer, sign_canonical
from cbec_declare.testing.harness import start_harness
from cbec_declare.validation import validate

BENCH = "flow"


@attrs.frozen
class FlowResult:
    batch_size: int
    synchronous: str
    documents: int
    messages: int
    seconds: float
    baseline_seconds: float
    final: bool
    counts: dict[str, int]
    node_requests: int
    pushes: int
    writes: dict[str, int]

    @property
    def label(self) -> str:
        return f"batch_size={self.batch_size}, synchronous={self.synchronous}"


#: Ledger methods that write (each one committed transaction; with synchronous=FULL, one fsync).
WRITES = ("submit", "claim_due", "release", "transition", "record_message")


def count_writes(ledger: Ledger) -> dict[str, int]:
    """Count the ledger's write calls from now on (instance attributes shadow the methods)."""
    calls = dict.fromkeys(WRITES, 0)

    def counting(name: str) -> Any:
        method = getattr(ledger, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return method(*args, **kwargs)

        return call

    for name in WRITES:
        setattr(ledger, name, counting(name))
    return calls


def sent_groups(ledger: Ledger, document_ids: list[int]) -> list[tuple[int, ...]]:
    """The document ids of each CEB message the flow stored for sending (channel node, out)."""
    groups: dict[int, tuple[int, ...]] = {}
    for document_id in document_ids:
        for message in ledger.messages(document_id):
            if message.direction == "out" and message.channel == "node":
                groups[message.id] = message.document_ids
    return list(groups.values())


def baseline(
    ledger: Ledger,
    groups: list[tuple[int, ...]],
    *,
    signer: Signer,
    settings: PipelineSettings,
    transfer: BaseTransfer,
    repeat: int = 3,
) -> float:
    """Median seconds to build + validate + sign the same messages (documents loaded beforehand)."""
    prepared = []
    for ids in groups:
        records = [ledger.get(i) for i in ids]
        prepared.append((records[0].kind, [load_document(r.kind, r.payload) for r in records]))
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for kind, documents in prepared:
            message = to_message(kind, documents, transfer)
            data = build(message)
            report = validate(message, version=settings.spec_version, built=data)
            assert report.ok, report.errors
            sign_canonical(data, signer)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_flow(
    *,
    sales_count: int,
    batch_size: int,
    synchronous: str,
    seed: int,
    timeout: float,
    workdir: Path,
    push_concurrency: int = 1,
) -> FlowResult:
    """One configuration: a sandbox process, a pipeline here, ``4 × sales_count`` documents to final."""
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    mapping = sandbox_mapping(
        seed=seed, time_scale=0.001, receiver_port=port, push={"concurrency": push_concurrency}
    )
    with SandboxProcess(mapping, workdir) as sandbox:
        assert sandbox.credentials is not None
        settings = PipelineSettings(batch_size=batch_size, spec_version=sandbox.credentials.spec_version)
        harness = start_harness(
            credentials=sandbox.credentials,
            receiver_port=port,
            ledger_url=f"sqlite:///{workdir / 'ledger.sqlite3'}?synchronous={synchronous}",
            settings=settings,
            threads=4,
            batch=max(20, batch_size),
            start_worker=False,
        )
        try:
            documents = list(sales(harness.factory(seed), sales_count))
            writes = count_writes(harness.ledger)
            start = time.perf_counter()
            ids = [r.id for r in harness.submit(documents)]
            harness.worker.start()
            final = harness.drain(timeout=timeout)
            seconds = time.perf_counter() - start
            harness.worker.stop()
            counts = {state.value: n for state, n in harness.ledger.counts().items() if n}
            writes = dict(writes)  # before the baseline reads the ledger
            groups = sent_groups(harness.ledger, ids)
            base = baseline(harness.ledger, groups, signer=harness.signer, settings=settings,
                            transfer=harness.pipeline.base_transfer)  # fmt: skip
        finally:
            harness.stop()
        stats = sandbox.stop()
    return FlowResult(
        batch_size=batch_size,
        synchronous=synchronous,
        documents=len(documents),
        messages=len(groups),
        seconds=seconds,
        baseline_seconds=base,
        final=final,
        counts=counts,
        node_requests=int(stats.get("messages", {}).get("node", 0)),
        pushes=int(stats.get("receipts_pushed", 0)),
        writes=writes,
    )


def report(results: list[FlowResult]) -> list[Row]:
    rows: list[Row] = []
    print(f"\n{'configuration':<36} {'docs':>6} {'msgs':>6} {'flow s':>8} {'decl/s':>8} "
          f"{'b+v+s s':>8} {'b+v+s/s':>9} {'ratio':>7}  final")  # fmt: skip
    for r in results:
        rate, base_rate = r.documents / r.seconds, r.documents / r.baseline_seconds
        ratio = r.seconds / r.baseline_seconds
        print(f"{r.label:<36} {r.documents:>6} {r.messages:>6} {r.seconds:>8.2f} {rate:>8.1f} "
              f"{r.baseline_seconds:>8.3f} {base_rate:>9.0f} {ratio:>6.1f}×  "
              f"{'all' if r.final else 'NOT ALL'} {r.counts}")  # fmt: skip
        rows.append(
            Row(BENCH, f"full flow, {r.label}", rate, "decl/s", ratio, "build+validate+sign, same msgs")
        )
    print("\nwhere the flow waits: ledger write transactions and receipt pushes per declaration")
    for r in results:
        per = {name: round(n / r.documents, 2) for name, n in r.writes.items()}
        total = sum(r.writes.values()) / r.documents
        print(f"  {r.label:<36} {total:5.1f} writes/decl {per}; {r.pushes / r.documents:4.2f} pushes/decl "
              f"({r.pushes / r.seconds:.0f} pushes/s from the sandbox)")  # fmt: skip
        rows.append(Row(BENCH, f"ledger writes per declaration, {r.label}", total, "txn/decl"))
    one = {r.synchronous: r for r in results if r.batch_size == 1}
    for r in results:
        base = one.get(r.synchronous)
        if r.batch_size != 1 and base is not None:
            speedup = (r.documents / r.seconds) / (base.documents / base.seconds)
            print(
                f"batch_size={r.batch_size} vs 1 (synchronous={r.synchronous}): {speedup:.2f}× the declarations/s"
            )
            rows.append(Row(BENCH, f"batch_size={r.batch_size} vs 1, synchronous={r.synchronous}",
                            r.documents / r.seconds, "decl/s", speedup, "batch_size=1"))  # fmt: skip
    print("\nratio: flow seconds / build+validate+sign seconds for the same CEB messages (above 1: the")
    print("rest of the flow costs that many times the CPU work of the messages themselves).")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--sales", type=int, default=100, help="sales per configuration (4 declarations each)"
    )
    parser.add_argument("--batch-sizes", default="1,100", help="PipelineSettings.batch_size values")
    parser.add_argument("--sync", default="FULL,NORMAL", help="SQLite synchronous modes to run")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per configuration at most")
    parser.add_argument(
        "--push-concurrency", type=int, default=1, help="sandbox push delivery threads (1: one at a time)"
    )
    parser.add_argument("--json", help="append result rows (JSON lines) to this file")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="cbec-flow-") as folder:
        for synchronous in args.sync.split(","):
            for size in (int(s) for s in args.batch_sizes.split(",")):
                print(f"running batch_size={size}, synchronous={synchronous} ...", flush=True)
                results.append(
                    run_flow(
                        sales_count=args.sales,
                        batch_size=size,
                        synchronous=synchronous.upper(),
                        seed=args.seed,
                        timeout=args.timeout,
                        push_concurrency=args.push_concurrency,
                        workdir=Path(folder) / f"{synchronous}-{size}",
                    )
                )
    write_rows(args.json, report(results))
    if not all(r.final for r in results):
        sys.exit("some documents did not reach a final state")


if __name__ == "__main__":
    main()
