"""No PIN or password of the PKCS#11, e-port or configured signers shows in a repr, a str, an
exception (message, context, chain, traceback) or a log record, even at DEBUG."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from cbec_declare.errors import CbecError
from cbec_declare.signing.config import load_signer, signer_from_config
from cbec_declare.signing.eport import EportClientSigner
from cbec_declare.signing.pkcs11 import Pkcs11Signer
from cbec_declare.testing.eport_fake import EportFakeServer
from cbec_declare.testing.softhsm import SoftHsm
from helpers.secrets_audit import exception_texts
from signing._softhsm_fixtures import MAIN, MAIN_PIN, MISSING, SPARE, SPARE_PIN, shared_softhsm
from signing.signing_support import rsa_signer

CARD_PIN = "card-pin-W8r5"
WRONG_PIN = "wrong-pin-Jq4v"
KEY_PASSWORD = "key-pass-Hc6n"
SECRETS = (MAIN_PIN, SPARE_PIN, CARD_PIN, WRONG_PIN, KEY_PASSWORD)


def failure(call: Callable[[], object]) -> list[str]:
    with pytest.raises(CbecError) as caught:
        call()
    return exception_texts(caught.value)


def assert_no_secret(texts: list[str], caplog: pytest.LogCaptureFixture) -> None:
    logged = [record.getMessage() for record in caplog.records]
    logged += [record.exc_text or "" for record in caplog.records]
    for text in texts + logged:
        for secret in SECRETS:
            assert secret not in text, f"secret leaked in: {text[:200]!r}"


@pytest.fixture(autouse=True)
def debug_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)


def test_eport_signer_keeps_the_pin_to_itself(caplog: pytest.LogCaptureFixture) -> None:
    texts: list[str] = []
    with EportFakeServer(rsa_signer(1024), pin=CARD_PIN) as fake:
        with EportClientSigner(fake.url, pin=CARD_PIN, timeout=0.5, retry_delay=0.01) as signer:
            signer.sign(b"<a/>")
            texts += [repr(signer), str(signer), repr(fake), repr(fake.calls)]
            fake.card_present = False
            texts += failure(lambda: signer.sign(b"<a/>"))
            fake.card_present = True
            fake.reply_delay = 2.0
            texts += failure(lambda: signer.sign(b"<a/>"))
            fake.reply_delay = 0.0
            fake.drop_after(0)
            signer.sign(b"<a/>")
        with EportClientSigner(fake.url, pin=WRONG_PIN) as wrong:
            texts += failure(lambda: wrong.sign(b"<a/>"))
            texts.append(repr(wrong))
        texts += failure(lambda: EportClientSigner(fake.url, pin=CARD_PIN, pin_env="ALSO"))
    assert any(record.levelname == "DEBUG" for record in caplog.records)  # DEBUG capture was live
    assert_no_secret(texts, caplog)


@pytest.mark.softhsm
@pytest.mark.skipif(MISSING is not None, reason=MISSING or "")
def test_pkcs11_signer_keeps_the_pin_to_itself(
    tmp_path_factory: pytest.TempPathFactory, caplog: pytest.LogCaptureFixture
) -> None:
    hsm: SoftHsm = shared_softhsm(tmp_path_factory)
    texts: list[str] = []
    with Pkcs11Signer(hsm.module, token_label=MAIN, key_label="rsa2048", pin=MAIN_PIN) as signer:
        signer.sign(b"data")
        texts += [repr(signer), str(signer)]
        texts += failure(
            lambda: Pkcs11Signer(hsm.module, token_label=MAIN, key_label="rsa2048", pin=WRONG_PIN)
        )
        texts += failure(lambda: Pkcs11Signer(hsm.module, token_label=MAIN, key_label="nope", pin=MAIN_PIN))
    texts += failure(lambda: Pkcs11Signer(hsm.module, token_label=SPARE, key_label="rsa2048", pin=WRONG_PIN))
    texts += failure(lambda: signer.sign(b"closed"))
    spare = Pkcs11Signer(
        hsm.module, token_label=SPARE, key_label="rsa2048", pin_env="P", environ={"P": SPARE_PIN}
    )
    texts += [repr(spare)]
    spare.close()
    assert_no_secret(texts, caplog)


def test_configured_signers_keep_secrets_to_themselves(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    card = rsa_signer(1024)
    (tmp_path / "locked.key").write_bytes(card.private_key_pem(password=KEY_PASSWORD))
    (tmp_path / "ent.crt").write_bytes(card.certificate_pem())
    texts: list[str] = []
    with EportFakeServer(card, pin=CARD_PIN) as fake:
        literal = tmp_path / "literal.toml"
        literal.write_text(
            f'[signer]\ntype = "eport"\nurl = "{fake.url}"\npin = "{CARD_PIN}"\n', encoding="utf-8"
        )
        signer = load_signer(literal)
        assert isinstance(signer, EportClientSigner)
        with signer:
            signer.sign(b"<b/>")
            texts.append(repr(signer))
        wrong = {"type": "eport", "url": fake.url, "pin_env": "CARD"}
        wrong_signer = signer_from_config(wrong, environ={"CARD": WRONG_PIN})
        assert isinstance(wrong_signer, EportClientSigner)
        with wrong_signer:
            texts += failure(lambda: wrong_signer.sign(b"<b/>"))
    software = {"type": "software", "key": "locked.key", "cert": "ent.crt", "password_env": "KEYPASS"}
    texts.append(repr(signer_from_config(software, base_dir=tmp_path, environ={"KEYPASS": KEY_PASSWORD})))
    texts += failure(lambda: signer_from_config(software, base_dir=tmp_path, environ={"KEYPASS": WRONG_PIN}))
    both = {"type": "software", "key": "locked.key", "password": KEY_PASSWORD, "password_env": "KEYPASS"}
    texts += failure(lambda: signer_from_config(both, base_dir=tmp_path))
    assert any("prefer pin_env" in record.getMessage() for record in caplog.records)
    assert_no_secret(texts, caplog)
