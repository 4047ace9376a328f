"""``cbec-declare demo``: the whole 方案二 flow against the embedded sandbox, with no configuration."""

from __future__ import annotations

import argparse
import collections
import io
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import attrs

from ..pipeline import PipelineSettings, State
from ..pipeline.ledger import Ledger
from ..sandbox.config import (
    BusinessConfig,
    ChannelFaults,
    FaultConfig,
    PushConfig,
    PushFaults,
    SandboxConfig,
    TimingConfig,
)
from ..signing import SignatureAlgorithm
from ..testing.harness import start_harness, throwaway_signer
from ..transport import RetryPolicy
from ._common import EXIT_INVALID, EXIT_OK, emit_json
from .progress import Progress

__all__ = ["DemoSummary", "add_parser", "run_demo"]

KINDS = ("order", "payment", "logistics", "inventory")


@attrs.frozen(kw_only=True)
class DemoSummary:
    orders: int
    declared: int
    by_state: dict[str, int]
    by_kind: dict[str, dict[str, int]]
    rejections: list[tuple[str, int]]
    retries: int
    seconds: float
    sandbox: dict[str, Any]
    signature: str

    @property
    def final(self) -> int:
        return sum(n for s, n in self.by_state.items() if State(s).is_final)

    @property
    def throughput(self) -> float:
        return self.final / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        data = attrs.asdict(self)
        data.update(final=self.final, throughput=round(self.throughput, 1))
        return data


def demo_sandbox(seed: int, *, faults: float, rejections: float, time_scale: float) -> SandboxConfig:
    return SandboxConfig(
        seed=seed,
        timing=TimingConfig(time_scale=time_scale),
        business=BusinessConfig(rejection_rate=rejections, platform_rejection_rate=rejections / 4),
        faults=FaultConfig(
            node=ChannelFaults(drop_rate=faults, error_rate=faults),
            platform=ChannelFaults(drop_rate=faults / 2, error_rate=faults / 2),
            push=PushFaults(duplicate_rate=faults, reorder_rate=faults, fail_rate=faults),
        ),
        push=PushConfig(backoff=0.05, max_backoff=1.0, attempts=30),
    )


def _summarise(
    ledger: Ledger, orders: int, seconds: float, sandbox: dict[str, Any], signature: str
) -> DemoSummary:
    by_state: collections.Counter[str] = collections.Counter()
    by_kind: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    reasons: collections.Counter[str] = collections.Counter()
    retries = 0
    records = ledger.find(limit=10_000_000)
    for record in records:
        by_state[record.state.value] += 1
        by_kind[record.kind.value][record.state.value] += 1
        retries += record.attempts
        if record.state in (State.REJECTED, State.FAILED, State.INVALID):
            reasons[f"{record.kind.value} {record.state.value}: {record.reason[:90]}"] += 1
    return DemoSummary(
        orders=orders,
        declared=len(records),
        by_state=dict(by_state),
        by_kind={k: dict(v) for k, v in by_kind.items()},
        rejections=reasons.most_common(8),
        retries=retries,
        seconds=round(seconds, 2),
        sandbox=sandbox,
        signature=signature,
    )


def run_demo(
    *,
    count: int = 300,
    seed: int = 1,
    algorithm: SignatureAlgorithm = SignatureAlgorithm.RSA_SHA1,
    faults: float = 0.02,
    rejections: float = 0.02,
    time_scale: float = 0.02,
    threads: int = 4,
    batch_size: int = 1,
    timeout: float = 600.0,
    workdir: Path | None = None,
    progress: bool = True,
) -> DemoSummary:
    """Declare ``count`` sales (order, payment, waybill, inventory each) through the sandbox; summarise."""
    signer = throwaway_signer(algorithm)
    quick_retries = collections.Counter[str]()
    retry = RetryPolicy(on_retry=lambda what, error: quick_retries.update([what.split(" ")[0]]))
    with tempfile.TemporaryDirectory(prefix="cbec-demo-") as tmp:
        folder = workdir or Path(tmp)
        started = time.monotonic()
        harness = start_harness(
            workdir=folder,
            sandbox_config=demo_sandbox(seed, faults=faults, rejections=rejections, time_scale=time_scale),
            signer=signer,
            settings=PipelineSettings(batch_size=batch_size),
            threads=threads,
            retry=retry,
        )
        try:
            factory = harness.factory(seed=seed)
            total = 0
            for _ in range(count):
                total += sum(r.created for r in harness.submit(list(factory.sale(items=3))))

            def poll() -> tuple[int, str]:
                counts = harness.pipeline.counts()
                final = sum(n for s, n in counts.items() if s.is_final)
                return final, f"released {counts[State.RELEASED]} rejected {counts[State.REJECTED]}"

            bar = Progress(total, poll, label="declaring", stream=sys.stderr if progress else io.StringIO())
            with bar:
                harness.drain(timeout=timeout)
            seconds = time.monotonic() - started
            assert harness.sandbox is not None
            stats = harness.sandbox.stats().to_dict()
            summary = _summarise(harness.ledger, count, seconds, stats, algorithm.value)
            return attrs.evolve(summary, retries=summary.retries + sum(quick_retries.values()))
        finally:
            harness.stop()


def print_summary(summary: DemoSummary) -> None:
    w = sys.stdout.write
    w(f"\ncbec-declare demo: {summary.orders} sales → {summary.declared} documents "
      f"(CEB311 order, CEB411 payment, CEB511 waybill, CEB621 inventory), signed {summary.signature}\n\n")  # fmt: skip
    rows = [
        ("declared", summary.declared),
        ("released", summary.by_state.get("released", 0)),
        ("rejected", summary.by_state.get("rejected", 0)),
        ("failed", summary.by_state.get("failed", 0)),
        ("invalid", summary.by_state.get("invalid", 0)),
        ("still pending", summary.declared - summary.final),
        ("retries", summary.retries),
    ]
    for name, value in rows:
        w(f"  {name:<16}{value:>8}\n")
    w(f"  {'time':<16}{summary.seconds:>8.1f} s\n")
    w(f"  {'throughput':<16}{summary.throughput:>8.1f} documents/s\n")
    w("\n  by document:\n")
    for kind in KINDS:
        states = summary.by_kind.get(kind, {})
        w(f"    {kind:<12}" + "  ".join(f"{s} {n}" for s, n in sorted(states.items())) + "\n")
    if summary.rejections:
        w("\n  rejections and failures (reason, count):\n")
        for reason, n in summary.rejections:
            w(f"    {n:>5}  {reason}\n")
    s = summary.sandbox
    faults = ", ".join(f"{k} {v}" for k, v in s.get("faults", {}).items()) or "none"
    w(f"\n  sandbox: faults injected: {faults}; duplicate pushes {s.get('pushes_duplicated', 0)}, "
      f"reordered {s.get('pushes_reordered', 0)}, declared twice {s.get('declared_twice', 0)}\n")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    summary = run_demo(
        count=args.count,
        seed=args.seed,
        algorithm=SignatureAlgorithm.SM2_SM3 if args.sm2 else SignatureAlgorithm.RSA_SHA1,
        faults=args.faults,
        rejections=args.rejections,
        time_scale=args.time_scale,
        threads=args.threads,
        batch_size=args.batch_size,
        timeout=args.timeout,
        progress=not args.json,
    )
    if args.json:
        emit_json(summary.to_dict())
    else:
        print_summary(summary)
    complete = summary.final == summary.declared and summary.by_state.get("failed", 0) == 0
    return EXIT_OK if complete else EXIT_INVALID


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "demo",
        help="run realistic orders through the whole flow against the embedded sandbox",
        description="Start the embedded sandbox (a local 跨境通关服务平台, 三级交换节点 and customs on 127.0.0.1), "
        "generate realistic sales (order, payment, waybill and inventory each), declare them through the "
        "whole 方案二 flow — <mo> to the platform, its 入库回执, the signed CEB in a DXP envelope to the node, "
        "customs receipts — with a few injected faults and rejections, and print a summary. "
        "Exit codes: 0 every document reached a final state, 1 some did not (or failed).",
    )
    parser.add_argument("--count", type=int, default=300, help="sales to declare (default 300)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the documents and the sandbox")
    parser.add_argument("--sm2", action="store_true", help="sign with SM2/SM3 (needs cbec-declare[sm2])")
    parser.add_argument("--faults", type=float, default=0.02, help="rate of injected faults (default 0.02)")
    parser.add_argument(
        "--rejections", type=float, default=0.02, help="customs rejection rate (default 0.02)"
    )
    parser.add_argument("--time-scale", type=float, default=0.02, help="receipt delays × this (default 0.02)")
    parser.add_argument("--threads", type=int, default=4, help="worker threads (default 4)")
    parser.add_argument("--batch-size", type=int, default=1, help="documents per CEB message (default 1)")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up after this many seconds")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(handler=run, quiet_logs=True)
