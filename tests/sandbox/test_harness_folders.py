"""The harness makes a temporary folder only when it needs one (for its ledger), and removes it.

Worker processes in the crash tests are started with a ledger URL and killed with SIGKILL: a folder they
had made would never be cleaned up (ten were left in /tmp per test run before this)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from cbec_declare.sandbox.config import SandboxConfig
from cbec_declare.testing.harness import harness


def _made(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("cbec-harness-"))


def test_with_a_ledger_url_no_folder_is_made(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    ledger = tmp_path / "ledger.sqlite3"
    with harness(sandbox_config=SandboxConfig(), ledger_url=f"sqlite:///{ledger}", start_worker=False) as h:
        assert h.workdir is None
        assert _made(scratch) == []
        assert ledger.exists()


def test_without_one_the_folder_holds_the_ledger_and_goes_away(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with harness(sandbox_config=SandboxConfig(), start_worker=False) as h:
        assert h.workdir is not None
        assert _made(scratch) == [h.workdir.name]
        assert (h.workdir / "ledger.sqlite3").exists()
    assert _made(scratch) == []
