"""Timing helpers shared by the benchmark scripts: interleaved rounds, medians, a ratio table."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence

__all__ = ["measure", "print_table"]


def measure(cases: dict[str, Callable[[], object]], *, rounds: int = 7, ops: int = 200) -> dict[str, float]:
    """Median seconds per operation for each case; rounds are interleaved so drift hits every case alike."""
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for fn in cases.values():  # warm-up: caches, schema compilation, lazy imports
        for _ in range(min(ops, 20)):
            fn()
    for _ in range(rounds):
        for name, fn in cases.items():
            start = time.perf_counter()
            for _ in range(ops):
                fn()
            samples[name].append((time.perf_counter() - start) / ops)
    return {name: statistics.median(values) for name, values in samples.items()}


def print_table(title: str, rows: Sequence[tuple[str, float, str, float]]) -> None:
    """rows: (case, seconds per op, baseline name, baseline seconds per op)."""
    print(f"\n{title}")
    print(f"{'case':<52} {'µs/op':>10} {'ops/s':>10}  ratio")
    for name, seconds, base_name, base in rows:
        ratio = seconds / base if base else float("nan")
        print(f"{name:<52} {seconds * 1e6:>10.1f} {1 / seconds:>10.0f}  {ratio:5.2f}× {base_name}")
