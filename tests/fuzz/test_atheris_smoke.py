"""The short CI run of the coverage-guided harnesses: each target, seeded from the corpus, for a few
hundred inputs through ``fuzz/run.py``; any exception other than a CbecError fails it. The long run is
described in fuzz/README.md. Skipped (with the reason) when atheris is not installed."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "fuzz" / "run.py"
TARGETS = sorted(p.stem.removeprefix("fuzz_") for p in (ROOT / "fuzz").glob("fuzz_*.py"))
RUNS = 300

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("atheris") is None,
        reason="atheris is not installed (pip install atheris; it is an optional dev tool)",
    ),
]


def test_there_is_one_harness_per_target() -> None:
    sys.path.insert(0, str(ROOT / "fuzz"))
    try:
        import targets
    finally:
        sys.path.remove(str(ROOT / "fuzz"))
    assert set(TARGETS) == set(targets.TARGETS)


@pytest.mark.parametrize("target", TARGETS)
def test_harness_runs_clean(target: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(RUNNER),
            "--target",
            target,
            "--runs",
            str(RUNS),
            "--max-len",
            "8192",
            "--json",
            "--work",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        cwd=ROOT,
    )
    assert done.stdout, done.stderr[-2000:]
    (result,) = json.loads(done.stdout)["targets"]
    log = Path(result["log"]).read_text(encoding="utf-8", errors="replace")
    assert result["findings"] == [], log[-4000:]
    assert done.returncode == 0, log[-4000:]
    assert result["executed"] >= RUNS
