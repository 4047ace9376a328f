"""The soak, shortened for CI: 200 declarations under every sandbox fault, the worker SIGKILLed twice.

The full run is ``python benchmarks/soak.py`` (10,000 declarations, 3 kills); see benchmarks/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from soak import run_soak  # the benchmark scripts are not a package

pytestmark = [pytest.mark.slow]


def test_short_soak_loses_nothing_and_declares_nothing_twice(tmp_path: Path) -> None:
    lines: list[str] = []
    result = run_soak(count=200, kills=2, seed=7, workdir=tmp_path, timeout=150, say=lines.append)
    report = "\n".join([*lines, *result.lines()])
    assert result.kills == 2, report
    assert result.declared == 200, report
    assert result.lost == 0, report
    assert result.final == result.declared, report
    assert result.twice_sandbox == 0, report
    assert result.twice_ledger == 0, report
    assert result.retries["pushes abandoned"] == 0, report
    assert result.retries["documents customs never saw"] == 0, report
    # every fault kind was really injected
    kinds = {name.split(".", 1)[1] for name in result.faults}
    assert {"drop", "error", "slow", "timeout", "duplicate", "reorder", "fail"} <= kinds, report
