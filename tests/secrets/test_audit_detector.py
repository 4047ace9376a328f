"""The audit's detector itself: every encoding it claims to search for is found when present, and
public material (certificates, public keys, signatures, ciphertext) is not mistaken for a secret."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from cryptography.hazmat.primitives import serialization

from cbec_declare.errors import ConfigError
from cbec_declare.signing import SoftwareSigner, sign
from cbec_declare.transport import AesEcbCodec
from helpers import secrets_audit as support
from hostile import make_corpus


def _planted() -> dict[str, tuple[str, Any]]:
    k = support.known()
    numbers = k.signer_key.private_numbers()
    pem_line = k.signer_pem().splitlines()[-3].decode()
    return {
        "aes raw bytes": ("blob", b"header" + k.aes_key + b"trailer"),
        "aes base64 offset 1": ("text", base64.b64encode(b"x" + k.aes_key + b"yz").decode()),
        "aes base64 offset 2": ("text", base64.b64encode(b"xy" + k.aes_key).decode()),
        "aes urlsafe base64": ("text", base64.urlsafe_b64encode(k.aes_key).decode()),
        "aes in a form body": ("text", urlencode({"key": k.aes_base64})),
        "aes hex upper": ("text", k.aes_key.hex().upper()),
        "aes bytes repr": ("text", repr(k.aes_key)),
        "key PEM line": ("text", f"loaded: {pem_line}"),
        "key DER in a blob": (
            "blob",
            b"\x00"
            + k.signer_key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        ),
        "d in decimal": ("text", f"d={numbers.d}"),
        "p hex, middle only": ("text", format(numbers.p, "x")[20:60]),
        "q decimal, middle only": ("text", str(numbers.q)[30:70]),
        "enterprise PKCS#8 base64": ("text", k.enterprise_pkcs8_base64()),
        "SM2 scalar hex": ("text", format(support._sm2_scalar(k.sm2_pem), "064x")),
        "PIN url-quoted": ("text", quote(k.card_pin, safe="")),
        "password JSON": ("text", json.dumps({"password": k.password})),
        "token PIN": ("text", f"C_Login({k.token_pin})"),
        "wrong PIN": ("text", f"tried {k.wrong_pin}"),
        "password in a blob": ("blob", b"...." + k.password.encode() + b"...."),
    }


@pytest.mark.parametrize("name", sorted(_planted()))
def test_a_planted_secret_is_found(name: str) -> None:
    kind, value = _planted()[name]
    collector = support.Collector()
    if kind == "blob":
        collector.blob(name, value)
        collector.text("something", "unrelated")
    else:
        collector.text(name, value)
    assert collector.leaks(support.known().needles()), f"{name} was not detected"


def test_secrets_in_exception_chains_and_log_records_are_found() -> None:
    k = support.known()
    needles = support.known().needles()
    try:
        try:
            raise UnicodeDecodeError("utf-8", b"pin = " + k.card_pin.encode(), 0, 1, "bad")
        except UnicodeDecodeError:
            raise ConfigError("not UTF-8") from None
    except ConfigError as exc:
        chained = support.Collector()
        chained.error("raised", exc)
        assert chained.leaks(needles)
    record = logging.LogRecord("cbec_declare.x", logging.DEBUG, __file__, 1, "sent %s", (k.aes_key,), None)
    logged = support.Collector()
    logged.logs([record])
    assert logged.leaks(needles)


def test_public_material_is_not_a_leak() -> None:
    k = support.known()
    signer = SoftwareSigner(k.signer_key, k.signer_cert)
    public = k.signer_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    enterprise_public = k.enterprise_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    collector = support.Collector()
    collector.text(
        "certificate", signer.certificate_pem().decode(), base64.b64encode(signer.certificate).decode()
    )
    collector.text("public keys", public.decode(), base64.b64encode(enterprise_public).decode())
    collector.text("signed", sign(make_corpus.ceb311(), signer).decode())
    collector.text("ciphertext", AesEcbCodec(k.aes_key).encode(make_corpus.ceb312()))
    collector.blob("signed bytes", sign(make_corpus.ceb312(), signer))
    assert collector.leaks(support.known().needles()) == []
