"""SoftwareSigner: key formats, generation, pairing checks, and what it must never reveal."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from cbec_declare import errors
from cbec_declare.signing import SignatureAlgorithm, Signer, SoftwareSigner, certificate_info
from cbec_declare.signing.certs import public_key
from signing.signing_support import gmssl_verify, rsa_signer, sm2_signer

DATA = "<ds:SignedInfo>加签测试</ds:SignedInfo>".encode()


def _rsa_verify(signer: SoftwareSigner, signature: bytes, data: bytes, digest: hashes.HashAlgorithm) -> None:
    key = x509.load_der_x509_certificate(signer.certificate).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(signature, data, padding.PKCS1v15(), digest)


@pytest.mark.parametrize("bits", [1024, 2048])
def test_generated_rsa_signer_signs_pkcs1_sha1_by_default(bits: int) -> None:
    signer = rsa_signer(bits)
    assert isinstance(signer, Signer)
    assert signer.algorithm is SignatureAlgorithm.RSA_SHA1
    info = certificate_info(signer.certificate)
    assert (info.key_algorithm, info.key_size) == ("rsa", bits)
    assert signer.key_name == info.key_name == format(info.serial, "x").zfill(16)
    signature = signer.sign(DATA)
    assert len(signature) == bits // 8
    _rsa_verify(signer, signature, DATA, hashes.SHA1())
    with pytest.raises(InvalidSignature):
        _rsa_verify(signer, signature, DATA + b" ", hashes.SHA1())


def test_rsa_sha256_signer_uses_sha256() -> None:
    signer = rsa_signer(2048, "rsa-sha256")
    assert signer.algorithm is SignatureAlgorithm.RSA_SHA256
    _rsa_verify(signer, signer.sign(DATA), DATA, hashes.SHA256())
    with pytest.raises(InvalidSignature):
        _rsa_verify(signer, signer.sign(DATA), DATA, hashes.SHA1())


def test_generated_sm2_signer_gives_raw_r_s_that_gmssl_accepts() -> None:
    signer = sm2_signer()
    assert signer.algorithm is SignatureAlgorithm.SM2_SM3
    info = certificate_info(signer.certificate)
    assert (info.key_algorithm, info.key_size, info.signature_algorithm) == ("sm2", 256, "SM3withSM2")
    point = public_key(signer.certificate).point  # type: ignore[union-attr]
    signature = signer.sign(DATA)
    assert len(signature) == 64
    assert gmssl_verify(point, signature, DATA)
    assert not gmssl_verify(point, signature, DATA[:-1])


def test_generate_with_issuer_builds_a_chain_and_options_apply() -> None:
    ca = SoftwareSigner.generate(is_ca=True, common_name="Test CA", bits=1024)
    leaf = SoftwareSigner.generate("sm2-sm3", issuer=ca, common_name="leaf", organization="某公司", days=10)
    info = certificate_info(leaf.certificate)
    assert info.issuer == certificate_info(ca.certificate).subject
    assert "O=某公司" in info.subject
    assert (info.not_after - info.not_before).days == 10
    custom = SoftwareSigner.generate(bits=1024, serial=0x1691F7F, key_name="0001", signature_hash="sha1")
    assert custom.key_name == "0001"
    assert custom.certificate_info.key_name == "01691f7f"
    assert custom.certificate_info.signature_algorithm == "sha1WithRSA"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"bits": 512}, "sign.key.generate"),
        ({"days": 0}, "sign.key.generate"),
        ({"signature_hash": "md5", "bits": 1024}, "sign.key.generate"),
    ],
)
def test_generate_rejects_bad_options(kwargs: dict[str, object], code: str) -> None:
    with pytest.raises(errors.KeyMaterialError) as caught:
        SoftwareSigner.generate(**kwargs)  # type: ignore[arg-type]
    assert caught.value.code == code


def test_from_pem_accepts_pkcs8_pkcs1_der_and_encrypted_keys() -> None:
    signer = rsa_signer(1024)
    cert_pem = signer.certificate_pem()
    key = serialization.load_pem_private_key(signer.private_key_pem(), None)
    forms = [
        (signer.private_key_pem(), None),
        (signer.private_key_pem("口令 pass"), "口令 pass"),
        (
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            ),
            None,
        ),
        (
            key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
            None,
        ),
    ]
    for key_bytes, password in forms:
        loaded = SoftwareSigner.from_pem(key_bytes, cert_pem, password=password)
        assert loaded.certificate == signer.certificate
        _rsa_verify(signer, loaded.sign(DATA), DATA, hashes.SHA1())


def test_from_pem_loads_sm2_keys_plain_and_encrypted() -> None:
    signer = sm2_signer()
    point = public_key(signer.certificate).point  # type: ignore[union-attr]
    for password in (None, b"secret-pw"):
        loaded = SoftwareSigner.from_pem(
            signer.private_key_pem(password), signer.certificate, password=password
        )
        assert loaded.algorithm is SignatureAlgorithm.SM2_SM3
        assert gmssl_verify(point, loaded.sign(DATA), DATA)


def test_from_files_with_separate_and_combined_pem(tmp_path: Path) -> None:
    signer = rsa_signer(1024)
    key_path, cert_path, both = tmp_path / "k.pem", tmp_path / "c.pem", tmp_path / "both.pem"
    key_path.write_bytes(signer.private_key_pem("pw"))
    cert_path.write_bytes(signer.certificate_pem())
    both.write_bytes(signer.private_key_pem() + signer.certificate_pem())
    assert SoftwareSigner.from_files(key_path, cert_path, password="pw").certificate == signer.certificate
    assert SoftwareSigner.from_files(both).certificate == signer.certificate
    with pytest.raises(errors.KeyMaterialError, match="holds no certificate"):
        SoftwareSigner.from_files(key_path, password="pw")
    with pytest.raises(errors.KeyMaterialError, match="cannot be read") as caught:
        SoftwareSigner.from_files(tmp_path / "missing.pem", cert_path)
    assert caught.value.code == "sign.key.file"


def test_pkcs12_with_password(tmp_path: Path) -> None:
    signer = rsa_signer(2048)
    key = serialization.load_pem_private_key(signer.private_key_pem(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    cert = x509.load_der_x509_certificate(signer.certificate)
    blob = pkcs12.serialize_key_and_certificates(
        b"test", key, cert, None, serialization.BestAvailableEncryption(b"p12-pass")
    )
    path = tmp_path / "id.p12"
    path.write_bytes(blob)
    for loaded in (
        SoftwareSigner.from_pkcs12(path, "p12-pass"),
        SoftwareSigner.from_pkcs12(blob, b"p12-pass"),
        SoftwareSigner.from_files(path, password="p12-pass"),
    ):
        assert loaded.key_name == signer.key_name
        _rsa_verify(signer, loaded.sign(DATA), DATA, hashes.SHA1())
    with pytest.raises(errors.KeyMaterialError) as caught:
        SoftwareSigner.from_pkcs12(path, "wrong-pass")
    assert caught.value.code == "sign.key.pkcs12"
    only_cert = pkcs12.serialize_key_and_certificates(b"c", None, cert, None, serialization.NoEncryption())
    with pytest.raises(errors.KeyMaterialError, match="both a private key and its certificate"):
        SoftwareSigner.from_pkcs12(only_cert, None)


def test_key_must_belong_to_certificate() -> None:
    other = rsa_signer(1024)
    with pytest.raises(errors.KeyMaterialError) as caught:
        SoftwareSigner.from_pem(rsa_signer(2048).private_key_pem(), other.certificate)
    assert caught.value.code == "sign.key.mismatch"
    with pytest.raises(errors.KeyMaterialError, match="does not belong"):
        SoftwareSigner.from_pem(sm2_signer().private_key_pem(), other.certificate)


def test_algorithm_must_fit_the_key() -> None:
    with pytest.raises(errors.UnsupportedAlgorithm, match="does not fit an RSA key"):
        SoftwareSigner.from_pem(
            rsa_signer(1024).private_key_pem(), rsa_signer(1024).certificate, algorithm="sm2-sm3"
        )
    with pytest.raises(errors.UnsupportedAlgorithm, match="does not fit an SM2 key"):
        SoftwareSigner.from_pem(
            sm2_signer().private_key_pem(), sm2_signer().certificate, algorithm="RSA_SHA1"
        )
    with pytest.raises(errors.ConfigError, match="unknown signature algorithm"):
        SoftwareSigner.generate("rsa-md5")


def test_non_customs_key_types_are_refused() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(errors.UnsupportedAlgorithm, match="RSA or SM2 expected"):
        SoftwareSigner.from_pem(pem, rsa_signer(1024).certificate)
    with pytest.raises(errors.KeyMaterialError, match="not a PEM/DER private key"):
        SoftwareSigner.from_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", b"")


def test_signer_cannot_be_pickled() -> None:
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(rsa_signer(1024))
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(sm2_signer())
