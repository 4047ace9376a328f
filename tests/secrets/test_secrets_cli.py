"""Secrets audit of the command line, in-process through ``cbec_declare.cli.main``: sign (key file with
a password from the environment, signer configurations), verify, cert, push decode (AES key as an
option and from the environment), validate, receipt, dxp, and the two long-running commands (serve,
eport-fake, stopped with SIGTERM) — with their failure paths; stdout, stderr, logs at DEBUG and the
files they write are grepped."""

from __future__ import annotations

import base64
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cbec_declare.cli import main
from cbec_declare.signing import SoftwareSigner
from cbec_declare.signing.eport import EportClientSigner
from cbec_declare.testing.eport_fake import EportFakeServer
from cbec_declare.transport import RsaDigestSigner
from helpers import secrets_audit as support
from hostile import make_corpus
from signing._softhsm_fixtures import MISSING, SPARE, shared_softhsm

WAIT = 20.0


class Cli:
    """Runs commands and keeps what they print."""

    def __init__(self, audit: Any, capsys: pytest.CaptureFixture[str]) -> None:
        self.audit, self.capsys = audit, capsys

    def __call__(self, *argv: str) -> tuple[int, str]:
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code or 0)
        out, err = self.capsys.readouterr()
        self.audit.text(f"cbec-declare {argv[0]} stdout", out)
        self.audit.text(f"cbec-declare {argv[0]} stderr", err)
        return code, out + err


@pytest.fixture
def cli(audit: Any, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(audit, capsys)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    k = support.known()
    paths = {
        "key": tmp_path / "signer.key",
        "cert": tmp_path / "signer.crt",
        "doc": tmp_path / "ceb311.xml",
        "signed": tmp_path / "signed.xml",
        "platform": tmp_path / "platform.pem",
    }
    paths["key"].write_bytes(k.signer_pem(k.password))
    paths["cert"].write_bytes(SoftwareSigner(k.signer_key, k.signer_cert).certificate_pem())
    paths["doc"].write_bytes(make_corpus.ceb311())
    paths["platform"].write_bytes(make_corpus.keys().platform_public_pem())
    return paths


def test_sign_verify_cert(
    cli: Cli, files: dict[str, Path], monkeypatch: pytest.MonkeyPatch, audit: Any
) -> None:
    k = support.known()
    key, cert, doc, signed = files["key"], files["cert"], files["doc"], files["signed"]
    monkeypatch.setenv("AUDIT_PW", k.password)
    code, _ = cli(
        "sign",
        str(doc),
        "--key",
        str(key),
        "--cert",
        str(cert),
        "--password-env",
        "AUDIT_PW",
        "-o",
        str(signed),
    )
    assert code == 0
    assert (
        cli("sign", str(doc), "--key", str(key), "--cert", str(cert), "--password-env", "AUDIT_PW", "--json")[
            0
        ]
        == 0
    )
    assert cli("verify", "--json", str(signed))[0] == 0
    assert cli("verify", "--cert", str(cert), str(signed))[0] == 0
    assert cli("cert", "--json", str(cert))[0] == 0
    monkeypatch.setenv("AUDIT_PW", k.wrong_pin)
    assert cli("sign", str(doc), "--key", str(key), "--cert", str(cert), "--password-env", "AUDIT_PW")[0] == 1
    monkeypatch.delenv("AUDIT_PW")
    assert cli("sign", str(doc), "--key", str(key), "--cert", str(cert), "--password-env", "AUDIT_PW")[0] == 2
    assert cli("sign", str(doc), "--key", str(key), "--cert", str(cert))[0] == 1
    config = files["key"].with_name("signer.toml")
    config.write_text(
        f'[signer]\ntype = "software"\nkey = "signer.key"\ncert = "signer.crt"\npassword = "{k.password}"\n',
        encoding="utf-8",
    )
    assert cli("sign", str(doc), "--signer", str(config), "-o", str(signed))[0] == 0
    assert cli("cert", "--signer", str(config))[0] == 0
    config.write_text(config.read_text(encoding="utf-8").replace(k.password, k.wrong_pin), encoding="utf-8")
    assert cli("sign", str(doc), "--signer", str(config))[0] == 1
    assert cli("cert", "--signer", str(config), "--json")[0] == 1
    audit.files("cli outputs", [signed])


def test_sign_with_an_eport_signer_config(
    cli: Cli, files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    k = support.known()
    card = SoftwareSigner(k.signer_key, k.signer_cert)
    with EportFakeServer(card, pin=k.card_pin) as fake:
        config = files["key"].with_name("eport.toml")
        config.write_text(
            f'[signer]\ntype = "eport"\nurl = "{fake.url}"\npin_env = "AUDIT_PIN"\ntimeout = 5\n',
            encoding="utf-8",
        )
        monkeypatch.setenv("AUDIT_PIN", k.card_pin)
        assert cli("sign", str(files["doc"]), "--signer", str(config), "--json")[0] == 0
        assert cli("cert", "--signer", str(config))[0] == 0
        monkeypatch.setenv("AUDIT_PIN", k.wrong_pin)
        assert cli("sign", str(files["doc"]), "--signer", str(config))[0] == 1


@pytest.mark.softhsm
@pytest.mark.skipif(MISSING is not None, reason=MISSING or "")
def test_sign_with_a_pkcs11_signer_config(
    cli: Cli,
    files: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    k = support.known()
    hsm = shared_softhsm(tmp_path_factory)
    config = files["key"].with_name("token.toml")
    config.write_text(
        f'[signer]\ntype = "pkcs11"\nmodule = "{hsm.module}"\ntoken_label = "{SPARE}"\nkey_label = "rsa2048"\n'
        'pin_env = "AUDIT_TOKEN_PIN"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("AUDIT_TOKEN_PIN", k.spare_pin)
    assert cli("sign", str(files["doc"]), "--signer", str(config), "--json")[0] == 0
    assert cli("cert", "--signer", str(config))[0] == 0
    monkeypatch.setenv("AUDIT_TOKEN_PIN", k.wrong_pin)
    assert cli("sign", str(files["doc"]), "--signer", str(config))[0] == 1
    assert cli("cert", "--signer", str(config), "--json")[0] == 1


def _push_file(folder: Path, name: str, form: dict[str, str]) -> Path:
    path = folder / name
    path.write_bytes(make_corpus.form(form))
    return path


def test_push_decode(cli: Cli, files: dict[str, Path], monkeypatch: pytest.MonkeyPatch, audit: Any) -> None:
    k = support.known()
    folder = files["doc"].parent
    receipt = make_corpus.ceb312()
    good = _push_file(folder, "good.txt", make_corpus.push_form(receipt, aes=k.aes_key))
    wrong = _push_file(folder, "wrong.txt", make_corpus.push_form(receipt, aes=k.wrong_aes_key))
    platform = str(files["platform"])
    assert (
        cli("push", "decode", "--form", str(good), "--aes-key", k.aes_base64, "--platform-key", platform)[0]
        == 0
    )
    monkeypatch.setenv("AUDIT_AES", k.aes_base64)
    out = folder / "plain.xml"
    code, _ = cli(
        "push",
        "decode",
        "--json",
        "--form",
        str(good),
        "--aes-key-env",
        "AUDIT_AES",
        "--platform-key",
        platform,
        "-o",
        str(out),
    )
    assert code == 0
    assert (
        cli("push", "decode", "--form", str(wrong), "--aes-key-env", "AUDIT_AES", "--platform-key", platform)[
            0
        ]
        == 1
    )
    bad_text = k.aes_base64[:-4] + "!!!!"
    assert (
        cli("push", "decode", "--form", str(good), "--aes-key", bad_text, "--platform-key", platform)[0] == 2
    )
    short = base64.b64encode(k.aes_key[:12]).decode()
    assert cli("push", "decode", "--form", str(good), "--aes-key", short, "--platform-key", platform)[0] == 2
    assert (
        cli("push", "decode", "--form", str(good), "--aes-key-env", "NOT_SET", "--platform-key", platform)[0]
        == 2
    )
    audit.files("push decode output", [out])


def test_validate_receipt_dxp(cli: Cli, files: dict[str, Path]) -> None:
    folder = files["doc"].parent
    receipt = folder / "ceb312.xml"
    receipt.write_bytes(make_corpus.ceb312())
    assert cli("validate", str(files["doc"]))[0] in (0, 1)
    assert cli("receipt", "--json", str(receipt))[0] == 0
    envelope = folder / "dxp.xml"
    assert cli("dxp", "wrap", str(receipt), "--sender", "DXPENT0000458763", "-o", str(envelope))[0] == 0
    assert cli("dxp", "unwrap", str(envelope), "-o", str(folder / "payload.xml"))[0] == 0


# --------------------------------------------------------------------------- long-running commands


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _while_serving(port: int, work: Callable[[], None], errors: list[BaseException]) -> threading.Thread:
    """In a thread: wait (bounded) until the command listens on ``port``, do ``work``, then SIGTERM this
    process, which the command (in the main thread, inside its signal handlers) turns into a clean stop."""

    def run() -> None:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            errors.append(TimeoutError(f"nothing listened on {port}"))
            return  # never signal a process whose handlers may not be in place
        try:
            work()
        except BaseException as exc:
            errors.append(exc)
        finally:
            os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_serve(cli: Cli, files: dict[str, Path], monkeypatch: pytest.MonkeyPatch, audit: Any) -> None:
    k = support.known()
    folder, port = files["doc"].parent, _free_port()
    config = folder / "receiver.toml"
    config.write_text(
        f'[receiver]\naes_key_env = "AUDIT_AES"\nplatform_public_key = "platform.pem"\nport = {port}\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("AUDIT_AES", k.aes_base64)
    receipt = make_corpus.ceb312()
    answers: list[Any] = []

    def push() -> None:
        import requests

        url = f"http://127.0.0.1:{port}/receipts"
        forged = make_corpus.push_form(receipt, aes=k.aes_key)
        forged["data_digest"] = RsaDigestSigner(k.enterprise_key).sign(receipt)
        for form in (
            make_corpus.push_form(receipt, aes=k.aes_key),
            make_corpus.push_form(receipt, aes=k.wrong_aes_key),
            forged,
        ):
            answers.append(requests.post(url, data=form, timeout=5))

    errors: list[BaseException] = []
    thread = _while_serving(port, push, errors)
    code, _ = cli("serve", "--config", str(config), "--out", str(folder / "received"))
    thread.join(WAIT)
    assert not errors, errors
    assert code == 0
    assert [a.status_code for a in answers] == [200, 400, 400]
    audit.text("serve answers", [a.text for a in answers])
    assert audit.files("serve --out", (folder / "received").iterdir()) >= 2
    config.write_text(
        f'[receiver]\naes_key = "{k.aes_base64[:-4]}"\nplatform_public_key = "platform.pem"\n',
        encoding="utf-8",
    )
    assert cli("serve", "--config", str(config))[0] == 2
    config.write_text(
        f'[receiver]\naes_key = "{k.aes_base64}"\naes_key_env = "AUDIT_AES"\n', encoding="utf-8"
    )
    assert cli("serve", "--config", str(config))[0] == 2


def test_eport_fake(cli: Cli, files: dict[str, Path], monkeypatch: pytest.MonkeyPatch, audit: Any) -> None:
    k = support.known()
    port = _free_port()
    monkeypatch.setenv("AUDIT_PIN", k.card_pin)
    monkeypatch.setenv("AUDIT_PW", k.password)
    signatures: list[bytes] = []

    def sign() -> None:
        url = f"ws://127.0.0.1:{port}"
        with EportClientSigner(url, pin=k.card_pin, timeout=5) as signer:
            signatures.append(signer.sign(b"<a/>"))
        with EportClientSigner(url, pin=k.wrong_pin, timeout=5, attempts=1) as wrong:
            try:
                wrong.sign(b"<a/>")
            except Exception as exc:
                audit.error("eport-fake wrong pin", exc)

    errors: list[BaseException] = []
    thread = _while_serving(port, sign, errors)
    code, _ = cli(
        "eport-fake",
        "--key",
        str(files["key"]),
        "--cert",
        str(files["cert"]),
        "--password-env",
        "AUDIT_PW",
        "--pin-env",
        "AUDIT_PIN",
        "--port",
        str(port),
        "--json",
    )
    thread.join(WAIT)
    assert not errors, errors
    assert code == 0
    assert len(signatures) == 1
    monkeypatch.setenv("AUDIT_PW", k.wrong_pin)
    assert (
        cli(
            "eport-fake",
            "--key",
            str(files["key"]),
            "--cert",
            str(files["cert"]),
            "--password-env",
            "AUDIT_PW",
            "--port",
            str(port),
        )[0]
        == 1
    )
