"""SM2/SM3: real card vectors, interop with gmssl in both directions, encodings, the missing extra."""

from __future__ import annotations

import base64
import subprocess
import sys
import textwrap

import pytest

from cbec_declare import errors
from cbec_declare.signing.certs import public_key
from cbec_declare.signing.sm2 import (
    SM2_INSTALL_HINT,
    Sm2PrivateKey,
    Sm2PublicKey,
    sm2_available,
    sm2_der_to_raw,
    sm2_point_from_spki,
    sm2_raw_to_der,
    sm2_spki,
    sm3,
)
from conftest import VECTORS
from signing.signing_support import gmssl_sign, gmssl_verify, sm2_signer, vectors

SM2_VECTORS = ("sm2_ceb311_weasley", "sm2_ceb621_weasley_readme", "sm2_179_weasley")


def _signed_bytes(vector: dict[str, str]) -> bytes:
    if "signed_bytes_file" in vector:
        return (VECTORS / vector["signed_bytes_file"]).read_bytes()
    return vector["signed_bytes_utf8"].encode("utf-8")


def test_sm3_standard_vectors() -> None:
    # GB/T 32905-2016 appendix A examples.
    assert sm3(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert sm3(b"abcd" * 16).hex() == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"


@pytest.mark.parametrize("vector_id", SM2_VECTORS)
def test_real_card_signatures_verify_with_tongsuopy_and_gmssl(vector_id: str) -> None:
    vector = vectors()[vector_id]
    key = public_key(vector["x509_b64"])
    assert isinstance(key, Sm2PublicKey)
    data = _signed_bytes(vector)
    signature = base64.b64decode(vector["signature_b64"])
    assert len(signature) == 64
    assert key.verify(signature, data)
    assert gmssl_verify(key.point, signature, data)
    assert not key.verify(signature, data + b" ")
    assert not key.verify(signature[:63], data)


def test_our_signatures_verify_with_gmssl_and_gmssl_signatures_with_us() -> None:
    signer = sm2_signer()
    key = public_key(signer.certificate)
    assert isinstance(key, Sm2PublicKey)
    for size in (0, 1, 64, 700, 5000):
        data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
        ours = signer.sign(data)
        assert gmssl_verify(key.point, ours, data), size
        theirs = gmssl_sign(signer.private_key_pem(), key.point, data)
        assert key.verify(theirs, data), size


def test_raw_der_conversions_round_trip_and_refuse_bad_input() -> None:
    signer = Sm2PrivateKey.generate()
    for _ in range(20):  # r or s with leading zero bytes appear in some of these
        raw = signer.sign(b"m")
        assert sm2_der_to_raw(sm2_raw_to_der(raw)) == raw
    with pytest.raises(errors.SigningError, match="64 bytes"):
        sm2_raw_to_der(b"\x01" * 63)
    with pytest.raises(errors.SigningError, match="not DER"):
        sm2_der_to_raw(b"\x30\x00junk")
    too_big = sm2_raw_to_der(b"\xff" * 64).replace(b"\x02\x21\x00", b"\x02\x21\x01", 1)
    with pytest.raises(errors.SigningError, match="exceed 256 bits"):
        sm2_der_to_raw(too_big)


def test_spki_round_trip_and_wrong_curve() -> None:
    point = Sm2PrivateKey.generate().public_key.point
    assert sm2_point_from_spki(sm2_spki(point)) == point
    with pytest.raises(errors.KeyMaterialError, match="65 bytes uncompressed"):
        Sm2PublicKey(point[:33])
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    p256 = ec.generate_private_key(ec.SECP256R1()).public_key()
    spki = p256.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(errors.KeyMaterialError, match="not on the SM2 curve"):
        sm2_point_from_spki(spki)
    with pytest.raises(errors.KeyMaterialError, match="cannot be read"):
        sm2_point_from_spki(b"\x30\x03\x02\x01\x00")


def test_point_off_the_curve_is_refused() -> None:
    bad = Sm2PublicKey(b"\x04" + b"\x01" * 64)
    with pytest.raises(errors.KeyMaterialError, match="not on the curve"):
        bad.verify(b"\x00" * 64, b"m")


def test_loading_garbage_or_non_sm2_keys() -> None:
    with pytest.raises(errors.KeyMaterialError, match="cannot be loaded"):
        Sm2PrivateKey.load(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    rsa_pem = rsa.generate_private_key(65537, 1024).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(errors.KeyMaterialError, match="not an SM2 key"):
        Sm2PrivateKey.load(rsa_pem)
    key = Sm2PrivateKey.generate()
    der = key.private_bytes(pem=False)
    assert Sm2PrivateKey.load(der).public_key == key.public_key


def test_without_tongsuopy_sm2_says_how_to_install_it() -> None:
    # A child interpreter where importing tongsuopy fails, as on an install without the [sm2] extra.
    script = textwrap.dedent(
        """
        import sys
        sys.modules["tongsuopy"] = None
        from cbec_declare import errors
        from cbec_declare.signing import SoftwareSigner
        from cbec_declare.signing.sm2 import Sm2PublicKey, sm2_available
        assert not sm2_available()
        for attempt in (lambda: SoftwareSigner.generate("sm2-sm3"),
                        lambda: Sm2PublicKey(b"\\x04" + b"\\x01" * 64).verify(b"\\x00" * 64, b"m")):
            try:
                attempt()
            except errors.UnsupportedAlgorithm as exc:
                print(exc.code, exc.message)
            else:
                raise SystemExit("no error")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    for line in lines:
        assert line == f"sign.algorithm.sm2-missing {SM2_INSTALL_HINT}"
    assert "pip install 'cbec-declare[sm2]'" in SM2_INSTALL_HINT
    assert sm2_available()
