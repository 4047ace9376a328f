"""SIGKILL the worker at random moments, start it again: every document ends final, none is lost, none is
declared twice (customs — the sandbox — sees each business document declared once)."""

from __future__ import annotations

import random
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from cbec_declare.pipeline import Pipeline, PipelineSettings, State, open_ledger
from cbec_declare.sandbox.config import PushConfig, SandboxConfig, TimingConfig
from cbec_declare.sandbox.sandbox import Sandbox
from cbec_declare.testing.factories import DocumentFactory
from cbec_declare.testing.harness import company_for, throwaway_signer
from cbec_declare.transport import SoapNodeTransport

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_worker(args: list[str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, str(HERE / "crash_worker.py"), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == b"ready"  # bounded: the harness starts in well under a minute
    return process


def test_sigkill_at_random_moments_loses_nothing_and_declares_nothing_twice(tmp_path: Path) -> None:
    rnd = random.Random(20261128)
    port = free_port()
    config = SandboxConfig(
        seed=3,
        timing=TimingConfig(time_scale=0.02),
        # While the worker is dead, pushes fail; the platform keeps retrying (as a real one does).
        push=PushConfig(attempts=100, backoff=0.05, max_backoff=0.3, timeout=2.0),
        receivers=(f"http://127.0.0.1:{port}",),
    )
    signer = throwaway_signer()
    key, cert = tmp_path / "enterprise.key", tmp_path / "enterprise.crt"
    key.write_bytes(signer.private_key_pem(None))  # type: ignore[attr-defined]
    cert.write_bytes(signer.certificate_pem())  # type: ignore[attr-defined]
    ledger_path = tmp_path / "ledger.sqlite3"
    with Sandbox(config) as sandbox:
        credentials = sandbox.credentials
        creds_path = credentials.write(tmp_path / "credentials.json")
        # Submit everything up front, from this process.
        ledger = open_ledger(f"sqlite:///{ledger_path}")
        company = company_for(credentials)
        submitter = Pipeline(
            ledger,
            base_transfer=company.base_transfer,
            signer=signer,
            node=SoapNodeTransport(credentials.soap_node_profile()),
            platform=credentials.platform_client(),
            settings=PipelineSettings(),
        )
        factory = DocumentFactory(seed=11, company=company)
        docs = factory.sales(40, items=2)
        submitted = submitter.submit(docs)
        assert all(r.created for r in submitted)

        args = [str(creds_path), str(ledger_path), str(port), str(key), str(cert)]
        kills = 0
        for _ in range(4):
            worker = start_worker(args)
            time.sleep(rnd.uniform(0.2, 1.2))
            worker.kill()  # SIGKILL: no cleanup, no flush, mid-transaction or mid-send
            worker.wait(timeout=10)
            assert worker.stdout is not None
            worker.stdout.close()
            kills += 1
        worker = start_worker(args)
        try:
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline and submitter.pending():
                time.sleep(0.2)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            assert worker.stdout is not None
            worker.stdout.close()
        stats = sandbox.stats()

    assert kills == 4
    counts = ledger.counts()
    assert sum(counts.values()) == len(docs)  # nothing lost, nothing added
    stuck = [r for r in ledger.find(limit=1000) if not r.state.is_final]
    report = [
        (
            r.id,
            r.kind.value,
            r.state.value,
            [(h.event, h.new_state.value, h.applied, h.reason) for h in ledger.history(r.id)],
            [(m.direction, m.channel, m.message_type, m.key) for m in ledger.messages(r.id)],
        )
        for r in stuck
    ]
    assert not stuck, report
    assert counts[State.RELEASED] == len(docs), counts
    assert stats.declared_twice == 0
    # Each business document reached customs exactly once as a declaration (retries reuse the CopMsgId).
    assert stats.documents["CEB311Message"] == 40
    assert stats.documents["CEB621Message"] == 40
    ledger.close()
    with sqlite3.connect(ledger_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
