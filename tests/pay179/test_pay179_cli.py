"""The CLI functions: verify_payload_file (with the real SM2 upload customs accepted), configuration
from a TOML table, serve and upload_again."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import urlencode

import pytest

from cbec_declare import errors
from cbec_declare.pay179 import (
    TEST_UPLOAD_URL,
    Pay179Config,
    certificates_in,
    load_config,
    serve,
    upload_again,
    verify_payload_file,
)
from cbec_declare.signing import certificate_pem
from cbec_declare.transport.retry import RetryPolicy
from conftest import VECTORS
from pay179.pay179_support import WAIT, Catalogue, platform_and_customs, rsa_signer, sm2_signer
from signing.signing_support import vectors

CERT_NO = "03000000000cde6f"


def real_upload() -> str:
    data = json.loads((VECTORS / "179_upload_sm2.json").read_text(encoding="utf-8"))
    text: str = data["data"]["payload"]["payExInfoStr"]
    return text


def real_certificate() -> bytes:
    return base64.b64decode(vectors()["sm2_179_weasley"]["x509_b64"])


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "payload": tmp_path / "upload.json",
        "form": tmp_path / "upload.form",
        "logged": tmp_path / "logged.json",
        "der": tmp_path / "platform.cer",
        "pem": tmp_path / "platform.pem",
    }
    paths["payload"].write_text(real_upload(), encoding="utf-8")
    paths["form"].write_text(urlencode({"payExInfoStr": real_upload()}), encoding="ascii")
    paths["logged"].write_text(
        json.dumps({"payExInfoStr": real_upload()}, ensure_ascii=False), encoding="utf-8"
    )
    paths["der"].write_bytes(real_certificate())
    paths["pem"].write_bytes(certificate_pem(real_certificate()))
    return paths


@pytest.mark.parametrize("shape", ["payload", "form", "logged"])
@pytest.mark.parametrize("cert", ["der", "pem"])
def test_the_real_sm2_upload_verifies(files: dict[str, Path], shape: str, cert: str) -> None:
    ok, reason = verify_payload_file(files[shape], files[cert])
    assert ok, reason
    assert CERT_NO in reason
    assert "sm2-sm3" in reason
    assert "IHWESX-WEASLEY-20230712210643-X7E4PL" in reason


def test_the_certificate_is_found_by_cert_no_in_the_configured_folder(
    files: dict[str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "certs"
    folder.mkdir()
    (folder / "ours.pem").write_bytes(sm2_signer().certificate_pem())
    (folder / "customs-card.cer").write_bytes(real_certificate())
    (folder / "notes.txt").write_text("not a certificate")
    (folder / "broken.cer").write_bytes(b"garbage")
    assert set(certificates_in(folder)) == {CERT_NO, sm2_signer().key_name}
    ok, reason = verify_payload_file(files["payload"], config=Pay179Config(cert_dir=str(folder)))
    assert ok, reason
    (folder / "customs-card.cer").unlink()
    ok, reason = verify_payload_file(files["payload"], config=Pay179Config(cert_dir=str(folder)))
    assert not ok
    assert "verify.certificate.unknown" in reason


def test_a_tampered_upload_fails_with_the_reason(files: dict[str, Path], tmp_path: Path) -> None:
    tampered = tmp_path / "tampered.json"
    tampered.write_text(real_upload().replace('"verDept":"3"', '"verDept":"2"'), encoding="utf-8")
    ok, reason = verify_payload_file(tampered, files["der"])
    assert not ok
    assert reason.startswith("verify.signature.mismatch")
    other = tmp_path / "other.pem"
    other.write_bytes(sm2_signer().certificate_pem())
    ok, reason = verify_payload_file(files["payload"], other)  # the wrong certificate
    assert not ok
    assert "cert-no-mismatch" in reason


def test_unusable_inputs(files: dict[str, Path], tmp_path: Path) -> None:
    ok, reason = verify_payload_file(files["payload"])  # no certificate anywhere
    assert not ok
    assert "no-certificate" in reason
    not_json = tmp_path / "x.json"
    not_json.write_text("{not json", encoding="utf-8")
    assert not verify_payload_file(not_json, files["der"])[0]
    binary = tmp_path / "x.bin"
    binary.write_bytes(b"\xff\xfe\x00")
    assert verify_payload_file(binary, files["der"]) == (False, f"{binary} is not UTF-8 text")
    with pytest.raises(errors.ConfigError):
        verify_payload_file(tmp_path / "missing.json", files["der"])
    with pytest.raises(errors.ConfigError):
        verify_payload_file(files["payload"], tmp_path / "missing.cer")


def test_our_own_upload_verifies_with_the_configured_signer(tmp_path: Path) -> None:
    with platform_and_customs(tmp_path, rsa_signer(), Catalogue("SO-1")) as (server, customs):
        customs.tell_order("SO-1")
        result = customs.request_payment_data("SO-1", timeout=WAIT)
        assert result.upload is not None
        saved = tmp_path / "ours.json"
        saved.write_text(result.upload.payload, encoding="utf-8")
        ok, reason = verify_payload_file(saved, config=server.service.config)
    assert ok, reason
    assert "rsa-sha1" in reason


# -- configuration ------------------------------------------------------------------------------------


def write_keys(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "ent.key").write_bytes(sm2_signer().private_key_pem(b"s3cret-pass"))
    (keys / "ent.crt").write_bytes(sm2_signer().certificate_pem())


def test_config_from_a_toml_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_keys(tmp_path)
    (tmp_path / "cbec.toml").write_text(
        """
[pay179]
upload_url = "https://customs.example.cn/ceb2grab/grab/realTimeDataUpload"
store = "data/pay179.db"
bind = "0.0.0.0:8179"
path = "/customs/platDataOpen"
connect_timeout = 3
read_timeout = 7.5
workers = 1
queue_size = 5
cert_dir = "certs"
ledger = "ledger.db"
item_link_template = "https://shop.example.cn/item/{itemNo}"
service_time_as_text = true

[pay179.retry]
attempts = 6
deadline = 30
backoff = 0.1

[pay179.signer]
type = "software"
key = "keys/ent.key"
cert = "keys/ent.crt"
password_env = "P179_TEST_PASSWORD"
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("P179_TEST_PASSWORD", "s3cret-pass")
    loaded = load_config(tmp_path / "cbec.toml")
    assert loaded.upload_url == "https://customs.example.cn/ceb2grab/grab/realTimeDataUpload"
    assert loaded.store_path == str(tmp_path / "data/pay179.db")
    assert (loaded.bind_host, loaded.bind_port, loaded.endpoint_path) == (
        "0.0.0.0",
        8179,
        "/customs/platDataOpen",
    )
    assert (loaded.connect_timeout, loaded.read_timeout, loaded.workers, loaded.queue_size) == (3, 7.5, 1, 5)
    assert loaded.retry == RetryPolicy(attempts=6, deadline=30, backoff=0.1)
    assert loaded.cert_dir == str(tmp_path / "certs")
    assert loaded.ledger == str(tmp_path / "ledger.db")
    assert loaded.service_time_as_text is True
    assert loaded.signer is not None
    assert loaded.signer.key_name == sm2_signer().key_name
    text = repr(loaded)
    assert "s3cret" not in text
    assert "PRIVATE" not in text
    assert sm2_signer().key_name in text


def test_defaults_and_sources_by_name() -> None:
    default = Pay179Config.from_mapping({})
    assert default.upload_url == TEST_UPLOAD_URL
    assert default.retry.attempts == 5
    assert default.endpoint_path == "/platDataOpen"
    named = Pay179Config.from_mapping({"source": "pay179.pay179_support:payment_data"})
    assert callable(named.source)


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ({"uplaod_url": "x"}, "pay179.uplaod_url"),
        ({"upload_url": "ftp://x"}, "pay179.upload_url"),
        ({"upload_url": 5}, "pay179.upload_url"),
        ({"read_timeout": 0}, "pay179.read_timeout"),
        ({"read_timeout": True}, "pay179.read_timeout"),
        ({"bind": "8179"}, "pay179.bind"),
        ({"bind": "host:99999"}, "pay179.bind"),
        ({"path": "platDataOpen"}, "pay179.endpoint_path"),
        ({"workers": 0}, "pay179.workers"),
        ({"retry": {"attempts": 0}}, "pay179.retry"),
        ({"retry": {"tries": 3}}, "pay179.retry.tries"),
        ({"retry": [1]}, "pay179.retry"),
        ({"source": "no_such_module_179:x"}, "pay179.source"),
        ({"source": "json"}, "pay179.source"),
        ({"source": "json:no_such_name"}, "pay179.source"),
        ({"source": "json:__doc__"}, "pay179.source"),
        ({"signer": {"type": "software", "key": "k", "cert": "c", "pin": "1"}}, "pay179.signer.pin"),
    ],
)
def test_configuration_mistakes_name_the_setting(section: dict[str, object], field: str) -> None:
    with pytest.raises(errors.ConfigError) as caught:
        Pay179Config.from_mapping(section)
    assert caught.value.field == field


def test_a_config_file_without_the_table_or_unreadable(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text("[other]\n", encoding="utf-8")
    (tmp_path / "b.toml").write_text("[pay179\n", encoding="utf-8")
    for name, code in (
        ("a.toml", "config.pay179.missing"),
        ("b.toml", "config.toml"),
        ("c.toml", "config.file"),
    ):
        with pytest.raises(errors.ConfigError) as caught:
            load_config(tmp_path / name)
        assert caught.value.code == code


def test_uploading_needs_a_signer_and_a_source(tmp_path: Path) -> None:
    with pytest.raises(errors.ConfigError) as no_signer:
        serve(Pay179Config(store_path=str(tmp_path / "a.db"), bind_port=0), source=Catalogue())
    assert no_signer.value.field == "pay179.signer"
    with pytest.raises(errors.ConfigError) as no_source:
        serve(Pay179Config(signer=sm2_signer(), store_path=str(tmp_path / "b.db"), bind_port=0))
    assert no_source.value.field == "pay179.source"


def test_upload_again_refuses_without_a_fresh_session_and_uses_one_when_there(tmp_path: Path) -> None:
    catalogue = Catalogue()
    with platform_and_customs(tmp_path, sm2_signer(), catalogue) as (server, customs):
        settings = server.service.config
        with pytest.raises(errors.PipelineError) as refused:
            upload_again("SO-1", settings, source=catalogue)
        assert refused.value.code == "pay179.session.none"
        customs.tell_order("SO-1")
        session = customs.open_request("SO-1").session_id  # unknown order: recorded, not uploaded
        assert server.service.worker.wait_idle(WAIT)
        catalogue.known["SO-1"] = Catalogue("SO-1").known["SO-1"]
        outcome = upload_again("SO-1", settings, source=catalogue)  # a second process on the same store
        assert outcome.ok
        assert outcome.session_id == session
        assert customs.uploads[0].accepted
