"""A worker whose rounds keep failing waits longer each time (bounded), instead of logging a traceback
several times a second for as long as the fault lasts; one good round resets the wait."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

import pytest

from cbec_declare.pipeline import Worker, open_ledger
from cbec_declare.sandbox import Sandbox, SandboxConfig
from cbec_declare.testing.harness import throwaway_signer
from pipeline.test_scale_postgres import pipeline_for


def test_failing_rounds_back_off_up_to_the_cap(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with Sandbox(SandboxConfig()) as sandbox:
        ledger = open_ledger(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
        pipeline = pipeline_for(ledger, sandbox, throwaway_signer())
        ledger.close()  # every round now fails with ledger.closed, as with a database that went away
        worker = Worker(pipeline, threads=1, idle_sleep=0.05, max_failure_sleep=0.4)
        with caplog.at_level(logging.ERROR, logger="cbec_declare.pipeline.worker"):
            worker.start()
            time.sleep(1.6)
            worker.stop()
    messages = [r.getMessage() for r in caplog.records if "a round failed" in r.getMessage()]
    # Waits of 0.05, 0.1, 0.2, 0.4, 0.4 … s: about 6 rounds in 1.6 s (32 without the back-off).
    assert 3 <= len(messages) <= 10, messages
    in_a_row = [int(m) for m in re.findall(r"\((\d+) in a row\)", " ".join(messages))]
    assert in_a_row == list(range(1, len(messages) + 1))
    pauses = [float(p) for p in re.findall(r"retrying in ([\d.]+) s", " ".join(messages))]
    assert pauses[:4] == [0.05, 0.1, 0.2, 0.4]
    assert max(pauses) == 0.4
    failures = [r.exc_info[1] for r in caplog.records if r.exc_info]
    assert len(failures) == len(messages)
    assert all(getattr(exc, "code", None) == "ledger.closed" for exc in failures), failures
