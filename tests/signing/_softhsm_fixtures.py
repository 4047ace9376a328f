"""One SoftHSM2 installation for every PKCS#11 test of the process, and helpers to check signatures.

SoftHSM2 reads its configuration once per process, so the tokens are made once (the first test that
asks) and shared; test files call :func:`shared_softhsm` from their own fixtures.
"""

from __future__ import annotations

import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from cbec_declare.signing.base import SignatureAlgorithm
from cbec_declare.testing.softhsm import KeySpec, SoftHsm, TokenSpec, create_softhsm, softhsm_missing_reason

MAIN = "cbec-sig-main"  # labels unique to these tests: other test files may add tokens of their own
SPARE = "cbec-sig-spare"  # nobody keeps it logged in: a wrong PIN reaches the token itself
MAIN_PIN = "pin-main-7Q2x"
SPARE_PIN = "pin-spare-9Zk3"

MISSING = softhsm_missing_reason()
#: Apply to every test that needs SoftHSM2: the marker, and a skip naming what is missing.
needs_softhsm = [pytest.mark.softhsm, pytest.mark.skipif(MISSING is not None, reason=MISSING or "")]

_lock = threading.Lock()
_installation: list[SoftHsm] = []


def shared_softhsm(tmp_path_factory: pytest.TempPathFactory) -> SoftHsm:
    """The process's test tokens: MAIN (rsa2048 id 01, rsa1024 id 02, ec id 03, nocert id 04) and
    SPARE (rsa2048 id 01)."""
    with _lock:
        if not _installation:
            main = TokenSpec(
                label=MAIN,
                pin=MAIN_PIN,
                keys=(
                    KeySpec(label="rsa2048", key_id=b"\x01", bits=2048),
                    KeySpec(label="rsa1024", key_id=b"\x02", bits=1024),
                    KeySpec(label="ec", key_id=b"\x03", key_type="ec"),
                    KeySpec(label="nocert", key_id=b"\x04", bits=1024, with_certificate=False),
                ),
            )
            spare = TokenSpec(label=SPARE, pin=SPARE_PIN, keys=(KeySpec(label="rsa2048", key_id=b"\x01"),))
            _installation.append(create_softhsm(tmp_path_factory.mktemp("softhsm"), [main, spare]))
        return _installation[0]


def rsa_verify(certificate: bytes, signature: bytes, data: bytes, algorithm: SignatureAlgorithm) -> None:
    """Raise InvalidSignature unless ``signature`` is PKCS#1 v1.5 over ``data`` by the certificate's key."""
    key = x509.load_der_x509_certificate(certificate).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    digest = hashes.SHA256() if algorithm is SignatureAlgorithm.RSA_SHA256 else hashes.SHA1()
    key.verify(signature, data, padding.PKCS1v15(), digest)
