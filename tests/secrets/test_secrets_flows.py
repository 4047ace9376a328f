"""Secrets audit of the two end-to-end flows: the 179 upload (openReq → signed payExInfoStr → local
customs), and the declaration pipeline against the sandbox (platform client, node, receipt pushes,
ledger) — logs at DEBUG, reprs of what was built, and the bytes of the store and the ledger files."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from cbec_declare.errors import CbecError
from cbec_declare.pay179 import load_config
from cbec_declare.sandbox.config import SandboxConfig, TimingConfig
from cbec_declare.signing import SoftwareSigner
from cbec_declare.testing.harness import start_harness
from helpers import secrets_audit as support
from pay179.pay179_support import WAIT, Catalogue, platform_and_customs


def _signer() -> SoftwareSigner:
    k = support.known()
    return SoftwareSigner.from_pem(k.signer_pem(k.password), k.signer_cert, password=k.password)


def _databases(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and (".db" in p.name or ".sqlite" in p.name))


def test_179_upload_and_refusal(audit: Any, tmp_path: Path) -> None:
    signer = _signer()
    orders = Catalogue("SO-AUDIT-1", "SO-AUDIT-2")
    (tmp_path / "ok").mkdir()
    (tmp_path / "refused").mkdir()
    with platform_and_customs(tmp_path / "ok", signer, orders) as (server, customs):
        customs.tell_order("SO-AUDIT-1")
        result = customs.request_payment_data("SO-AUDIT-1", timeout=WAIT)
        audit.text("179 ok", server, server.service, server.service.config, customs, result, customs.uploads)
        assert result.ok, result
    other = support.known().enterprise_key  # a key customs never registered
    from hostile import make_corpus

    stranger = make_corpus.certificate(other, "stranger", 0x4001, 2020, 2050)
    with platform_and_customs(tmp_path / "refused", signer, orders, registered=stranger) as (server, customs):
        customs.tell_order("SO-AUDIT-2")
        refused = customs.request_payment_data("SO-AUDIT-2", timeout=WAIT)
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and not server.service.store.uploads_for_order("SO-AUDIT-2"):
            time.sleep(0.05)
        records = server.service.store.uploads_for_order("SO-AUDIT-2")
        audit.text("179 refused", refused, records, customs.results)
        assert not refused.ok
    assert audit.files("179 store", _databases(tmp_path)) >= 2


def test_179_config_from_toml(audit: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    k = support.known()
    (tmp_path / "signer.key").write_bytes(k.signer_pem(k.password))
    (tmp_path / "signer.crt").write_bytes(k.signer_cert)
    config = tmp_path / "pay179.toml"
    config.write_text(
        '[pay179]\nupload_url = "http://127.0.0.1:9/upload"\nstore = "p.db"\n'
        '[pay179.signer]\ntype = "software"\nkey = "signer.key"\ncert = "signer.crt"\npassword_env = "AUDIT_PW"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("AUDIT_PW", k.password)
    loaded = load_config(config)
    audit.text("179 config", loaded, loaded.signer)
    monkeypatch.setenv("AUDIT_PW", k.wrong_pin)
    with pytest.raises(CbecError) as caught:
        load_config(config)
    audit.error("179 config wrong password", caught.value)


def test_pipeline_against_the_sandbox(audit: Any, tmp_path: Path) -> None:
    """Declare a sale through platform and node with the known AES key, enterprise key and signer; take
    the receipts the sandbox pushes; then grep the ledger file (and its WAL) byte for byte."""
    k = support.known()
    config = SandboxConfig(
        timing=TimingConfig(time_scale=0.01),
        aes_key=k.aes_base64,
        enterprise_private_key=k.enterprise_pkcs8_base64(),
    )
    harness = start_harness(workdir=tmp_path / "harness", sandbox_config=config, signer=_signer())
    try:
        factory = harness.factory(seed=5)
        order = factory.order(items=1)
        results = harness.submit(
            [order, factory.payment_for(order), factory.logistics_for(order), factory.inventory_for(order)]
        )
        assert harness.drain(timeout=90)
        records = [harness.pipeline.get(r.id) for r in results]
        audit.text("pipeline", harness.pipeline, harness.credentials, records)
        for record in records:
            audit.text("history", harness.pipeline.history(record.id))
            audit.text("messages", harness.pipeline.messages(record.id))
        assert harness.sandbox is not None
        wrong = harness.sandbox.platform.make_push(b"<x/>", "CUSTOMS_CEB_CALLBACK", aes_key=k.wrong_aes_key)
        answer = harness.sandbox.platform.push_form(harness.receiver_url, wrong)
        audit.text("wrong-key push", answer, answer.body)
        assert answer.status == 400
    finally:
        harness.stop()
    assert audit.files("ledger", _databases(tmp_path / "harness")) >= 1
    assert all(r.state.value == "released" for r in records), [r.state for r in records]
