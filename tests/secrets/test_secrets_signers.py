"""Secrets audit of the signers: software keys with a password (PEM, PKCS#12, SM2), PKCS#11 tokens
(SoftHSM2), the e-port card client (its local fake), and all of them built from TOML by load_signer —
success and failure paths (wrong password, wrong PIN, missing or doubled secrets) — grepping logs at
DEBUG, exceptions (with their context and chain), reprs and outputs for every encoding of every
secret."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from cbec_declare.errors import CbecError
from cbec_declare.signing import SoftwareSigner, load_signer, sign, signer_from_config, verify
from cbec_declare.signing.eport import EportClientSigner
from cbec_declare.signing.pkcs11 import Pkcs11Signer
from cbec_declare.testing.eport_fake import EportFakeServer
from helpers import secrets_audit as support
from hostile import make_corpus
from signing._softhsm_fixtures import MAIN, MISSING, SPARE, shared_softhsm

DOCUMENT = make_corpus.ceb311()


def failing(audit: Any, where: str, call: Callable[[], object]) -> CbecError:
    with pytest.raises(CbecError) as caught:
        call()
    audit.error(where, caught.value)
    return caught.value


def _files(tmp_path: Path, password: str | None) -> tuple[Path, Path]:
    k = support.known()
    key, cert = tmp_path / "signer.key", tmp_path / "signer.crt"
    key.write_bytes(k.signer_pem(password))
    cert.write_bytes(k.signer_cert)
    return key, cert


def test_software_signer_with_a_password(audit: Any, tmp_path: Path) -> None:
    k = support.known()
    key, cert = _files(tmp_path, k.password)
    signer = SoftwareSigner.from_files(key, cert, password=k.password)
    signed = sign(DOCUMENT, signer)
    result = verify(signed)
    audit.text("signer", signer, signer.certificate_info, result, signer.key_name)
    audit.blob("signed document", signed)
    audit.text(
        "from bytes password",
        SoftwareSigner.from_pem(key.read_bytes(), cert.read_bytes(), password=k.password.encode()),
    )
    failing(audit, "wrong password", lambda: SoftwareSigner.from_files(key, cert, password=k.wrong_pin))
    failing(audit, "no password", lambda: SoftwareSigner.from_files(key, cert))
    (tmp_path / "plain").mkdir()
    plain_key, _ = _files(tmp_path / "plain", None)
    failing(
        audit,
        "password for a plain key",
        lambda: SoftwareSigner.from_files(plain_key, cert, password=k.password),
    )
    failing(
        audit,
        "key of another certificate",
        lambda: SoftwareSigner.from_pem(k.signer_pem(), make_corpus.keys().other_cert),
    )


def test_pkcs12_with_a_password(audit: Any, tmp_path: Path) -> None:
    k = support.known()
    from cryptography import x509

    bundle = pkcs12.serialize_key_and_certificates(
        b"audit",
        k.signer_key,
        x509.load_der_x509_certificate(k.signer_cert),
        None,
        serialization.BestAvailableEncryption(k.password.encode()),
    )
    path = tmp_path / "signer.p12"
    path.write_bytes(bundle)
    signer = SoftwareSigner.from_pkcs12(path, k.password)
    audit.text("pkcs12 signer", signer, sign(DOCUMENT, signer))
    failing(audit, "pkcs12 wrong password", lambda: SoftwareSigner.from_pkcs12(path, k.wrong_pin))
    failing(audit, "pkcs12 no password", lambda: SoftwareSigner.from_pkcs12(bundle, None))


def test_sm2_key_with_a_password(audit: Any) -> None:
    k = support.known()
    from cbec_declare.signing.sm2 import Sm2PrivateKey

    key = Sm2PrivateKey.load(k.sm2_pem)
    encrypted = key.private_bytes(pem=True, password=k.password.encode())
    loaded = Sm2PrivateKey.load(encrypted, k.password)
    audit.text("sm2 key", key, loaded, loaded.public_key)
    failing(audit, "sm2 wrong password", lambda: Sm2PrivateKey.load(encrypted, k.wrong_pin))
    failing(audit, "sm2 no password", lambda: Sm2PrivateKey.load(encrypted))


def test_signers_from_toml(audit: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    k = support.known()
    key, cert = _files(tmp_path, k.password)
    cases = {
        "literal.toml": f'[signer]\ntype = "software"\nkey = "signer.key"\ncert = "signer.crt"\npassword = "{k.password}"\n',
        "env.toml": '[signer]\ntype = "software"\nkey = "signer.key"\ncert = "signer.crt"\npassword_env = "AUDIT_PW"\n',
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.setenv("AUDIT_PW", k.password)
    for name in cases:
        signer = load_signer(tmp_path / name)
        audit.text(name, signer, sign(DOCUMENT, signer))
    monkeypatch.setenv("AUDIT_PW", k.wrong_pin)
    failing(audit, "toml wrong password", lambda: load_signer(tmp_path / "env.toml"))
    monkeypatch.delenv("AUDIT_PW")
    failing(audit, "toml missing env", lambda: load_signer(tmp_path / "env.toml"))
    both = {
        "type": "software",
        "key": str(key),
        "cert": str(cert),
        "password": k.password,
        "password_env": "AUDIT_PW",
    }
    failing(audit, "toml both", lambda: signer_from_config(both))
    unknown = {"type": "software", "key": str(key), "cert": str(cert), "pasword": k.password}
    failing(audit, "toml misspelt secret key", lambda: signer_from_config(unknown))
    broken = tmp_path / "broken.toml"
    broken.write_text(f'[signer]\ntype = "eport"\npin = "{k.card_pin}"\ntimeout = = 3\n', encoding="utf-8")
    failing(audit, "toml syntax error", lambda: load_signer(broken))


@pytest.mark.softhsm
@pytest.mark.skipif(MISSING is not None, reason=MISSING or "")
def test_pkcs11_token(audit: Any, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    k = support.known()
    hsm = shared_softhsm(tmp_path_factory)
    with Pkcs11Signer(hsm.module, token_label=MAIN, key_label="rsa2048", pin=k.token_pin) as signer:
        audit.text("pkcs11 signer", signer, sign(DOCUMENT, signer))
    failing(
        audit,
        "pkcs11 wrong pin",
        lambda: Pkcs11Signer(hsm.module, token_label=SPARE, key_label="rsa2048", pin=k.wrong_pin),
    )
    failing(
        audit,
        "pkcs11 no key",
        lambda: Pkcs11Signer(hsm.module, token_label=MAIN, key_label="nope", pin=k.token_pin),
    )
    failing(audit, "pkcs11 closed", lambda: signer.sign(b"closed"))
    config = tmp_path / "token.toml"
    config.write_text(
        f'[signer]\ntype = "pkcs11"\nmodule = "{hsm.module}"\ntoken_label = "{SPARE}"\nkey_label = "rsa2048"\n'
        'pin_env = "AUDIT_TOKEN_PIN"\n',
        encoding="utf-8",
    )
    spare = load_signer(config, environ={"AUDIT_TOKEN_PIN": k.spare_pin})
    audit.text("pkcs11 from toml", spare, sign(DOCUMENT, spare))
    spare.close()  # type: ignore[attr-defined]
    failing(
        audit, "pkcs11 toml wrong pin", lambda: load_signer(config, environ={"AUDIT_TOKEN_PIN": k.wrong_pin})
    )


def test_eport_card_client(audit: Any, tmp_path: Path) -> None:
    k = support.known()
    card = SoftwareSigner(k.signer_key, k.signer_cert)
    with EportFakeServer(card, pin=k.card_pin) as fake:
        with EportClientSigner(fake.url, pin=k.card_pin, timeout=5, retry_delay=0.01) as signer:
            signed = sign(DOCUMENT, signer)
            audit.text("eport signer", signer, signed, fake, fake.calls)
        with EportClientSigner(fake.url, pin=k.wrong_pin, timeout=5, retry_delay=0.01) as wrong:
            failing(audit, "eport wrong pin", lambda: wrong.sign(b"<a/>"))
            audit.text("eport wrong signer", wrong)
        fake.card_present = False
        failing(
            audit,
            "eport card absent",
            lambda: EportClientSigner(fake.url, pin=k.card_pin, timeout=5).sign(b"<a/>"),
        )
        fake.card_present = True
        config = tmp_path / "eport.toml"
        config.write_text(
            f'[signer]\ntype = "eport"\nurl = "{fake.url}"\npin = "{k.card_pin}"\n', encoding="utf-8"
        )
        from_toml = load_signer(config)
        with from_toml:  # type: ignore[attr-defined]
            audit.text("eport from toml", from_toml, sign(DOCUMENT, from_toml))
        audit.text("fake calls", fake.calls)
    failing(audit, "eport pin and pin_env", lambda: EportClientSigner(fake.url, pin=k.card_pin, pin_env="X"))


def _read_with(reader: str, path: Path) -> object:
    if reader == "load_signer":
        return load_signer(path)
    if reader == "pay179.load_config":
        from cbec_declare.pay179 import load_config

        return load_config(path)
    from cbec_declare._toml import load_toml  # what `cbec-declare serve` and `build` read their config with

    return load_toml(path)


@pytest.mark.parametrize("reader", ["load_signer", "pay179.load_config", "_toml.load_toml"])
def test_a_config_that_is_not_utf8_keeps_its_secrets(reader: str, tmp_path: Path) -> None:
    k = support.known()
    audit = support.Collector()
    broken = tmp_path / "broken.toml"
    text = f'[signer]\ntype = "eport"\npin = "{k.card_pin}"\n[receiver]\naes_key = "{k.aes_base64}"\n'
    broken.write_bytes(text.encode() + b"timeout = \xff\n")
    failing(audit, f"{reader}: not utf-8", lambda: _read_with(reader, broken))
    audit.assert_clean(k.needles())
