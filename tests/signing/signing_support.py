"""Shared helpers for the signing tests (not a conftest: the root conftest owns that name).

Keys are generated once per test session (RSA-2048 generation costs ~50 ms) and cached here.
"""

from __future__ import annotations

import base64
import functools
import json
from typing import Any

from asn1crypto import keys as asn1_keys
from gmssl import sm2 as gm_sm2

from cbec_declare.messages import build, parse
from cbec_declare.signing import SoftwareSigner
from conftest import SAMPLES, VECTORS

DECLARATIONS = ("CEB311", "CEB411", "CEB511", "CEB513", "CEB621", "CEB623", "CEB625", "CEB711")
VERSIONS = ("2018-113", "2022-05")


@functools.cache
def rsa_signer(bits: int = 2048, algorithm: str = "rsa-sha1") -> SoftwareSigner:
    return SoftwareSigner.generate(algorithm, bits=bits, common_name=f"test rsa{bits}")


@functools.cache
def sm2_signer() -> SoftwareSigner:
    return SoftwareSigner.generate("sm2-sm3", common_name="test sm2")


@functools.cache
def vectors() -> dict[str, dict[str, Any]]:
    data = json.loads((VECTORS / "signature-vectors.json").read_text(encoding="utf-8"))
    return {item["id"]: item for item in data}


@functools.cache
def built_sample(version: str, message: str) -> bytes:
    """The official sample parsed and rebuilt by our builder (declaration + canonical body)."""
    raw = (SAMPLES / f"ceb-{version}" / f"{message}Message.xml").read_bytes()
    return build(parse(raw))


def unsigned_ceb621() -> bytes:
    return (VECTORS / "ceb621_real_scrambled_cert" / "CEB621Message.xml").read_bytes()


def gmssl_verify(point: bytes, signature: bytes, data: bytes) -> bool:
    """Verify raw r‖s with gmssl (pure Python): an implementation independent of tongsuopy."""
    crypt = gm_sm2.CryptSM2(private_key=None, public_key="00")
    crypt.public_key = point[1:].hex()  # set directly: its constructor lstrip("04")s the hex
    return bool(crypt.verify_with_sm3(signature.hex(), data))


def gmssl_sign(private_pem: bytes, point: bytes, data: bytes) -> bytes:
    """Sign with gmssl, for the other direction of the interop check."""
    body = b"".join(line for line in private_pem.splitlines() if not line.startswith(b"-----"))
    info = asn1_keys.PrivateKeyInfo.load(base64.b64decode(body))
    secret = info["private_key"].parsed["private_key"].native
    crypt = gm_sm2.CryptSM2(private_key=format(secret, "064x"), public_key="00")
    crypt.public_key = point[1:].hex()
    return bytes.fromhex(crypt.sign_with_sm3(data))


def remove_signature(signed: bytes) -> bytes:
    start = signed.index(b"<ds:Signature")
    end = signed.index(b"</ds:Signature>") + len(b"</ds:Signature>")
    return signed[:start] + signed[end:]
