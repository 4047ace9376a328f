"""AES-ECB codec, SHA1withRSA digest and key loading, checked against the openssl command."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from cbec_declare import errors
from cbec_declare.signing import SignatureAlgorithm, SoftwareSigner
from cbec_declare.transport import (
    AesEcbCodec,
    IdentityCodec,
    RsaDigestSigner,
    RsaDigestVerifier,
    SignerDigest,
    load_aes_key,
    load_rsa_private_key,
    load_rsa_public_key,
    private_key_pkcs8_base64,
    public_key_spki_base64,
)
from cbec_declare.transport.codec import b64decode_lenient
from transport.transport_support import (
    OPENSSL,
    openssl_aes_ecb_decrypt,
    openssl_verify_sha1,
    public_pem,
    rsa_key,
)

needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="the openssl command is not installed")

PLAINTEXT = b'<mo version="1.0.0"><head><businessType>IMPORTORDER</businessType></head><body/></mo>'


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 1000])
def test_aes_round_trip(size: int) -> None:
    codec = AesEcbCodec.generate()
    data = os.urandom(size)
    content = codec.encode(data)
    assert "\n" not in content
    assert codec.decode(content) == data


@needs_openssl
def test_aes_matches_openssl() -> None:
    key = os.urandom(16)
    ciphertext = base64.b64decode(AesEcbCodec(key).encode(PLAINTEXT))
    assert len(ciphertext) % 16 == 0
    assert openssl_aes_ecb_decrypt(key, ciphertext) == PLAINTEXT


def test_aes_key_forms() -> None:
    key = os.urandom(16)
    text = base64.b64encode(key).decode()
    assert AesEcbCodec(text).encode(PLAINTEXT) == AesEcbCodec(key).encode(PLAINTEXT)
    assert load_aes_key(text) == key
    assert AesEcbCodec(key).key_base64() == text
    with pytest.raises(errors.KeyMaterialError, match="16"):
        AesEcbCodec(os.urandom(15))
    with pytest.raises(errors.KeyMaterialError, match="Base64"):
        AesEcbCodec("not base64!")


def test_codec_repr_hides_the_key() -> None:
    key = os.urandom(16)
    codec = AesEcbCodec(key)
    assert base64.b64encode(key).decode() not in repr(codec)
    assert key.hex() not in repr(codec)
    assert "hidden" in repr(codec)


def test_lenient_base64() -> None:
    codec = AesEcbCodec.generate()
    content = codec.encode(os.urandom(200))
    chunked = "\r\n".join(content[i : i + 76] for i in range(0, len(content), 76))
    assert codec.decode(chunked) == codec.decode(content)
    # A '+' that was not percent-encoded arrives as a space.
    assert b64decode_lenient(content.replace("+", " ")) == base64.b64decode(content)


@pytest.mark.parametrize(
    ("mangle", "code"),
    [
        (lambda c: c[:-1], "transport.push.base64"),
        (lambda c: c[:-4], "transport.push.decrypt"),
        (lambda c: "", "transport.push.base64"),
        (lambda c: "@@@@", "transport.push.base64"),
    ],
)
def test_damaged_content_is_refused(mangle: object, code: str) -> None:
    codec = AesEcbCodec.generate()
    content = codec.encode(PLAINTEXT)
    with pytest.raises(errors.PushRejected) as caught:
        codec.decode(mangle(content))  # type: ignore[operator]
    assert caught.value.code == code


def test_wrong_aes_key_is_refused() -> None:
    content = AesEcbCodec.generate().encode(PLAINTEXT * 3)
    with pytest.raises(errors.PushRejected) as caught:
        AesEcbCodec.generate().decode(content)
    assert caught.value.code == "transport.push.decrypt"


def test_identity_codec() -> None:
    codec = IdentityCodec()
    assert codec.decode(codec.encode(PLAINTEXT)) == PLAINTEXT
    with pytest.raises(errors.ConfigError):
        codec.encode(b"\xff")


@pytest.mark.parametrize("bits", [512, 1024])
def test_digest_sign_verify(bits: int, tmp_path: Path) -> None:
    key = rsa_key(bits)
    signer = RsaDigestSigner(pkcs8_text := private_key_pkcs8_base64(key))
    assert pkcs8_text not in repr(signer)
    digest = signer.sign(PLAINTEXT)
    assert len(base64.b64decode(digest)) == bits // 8
    RsaDigestVerifier(public_key_spki_base64(key.public_key())).verify(PLAINTEXT, digest)
    with pytest.raises(errors.SignatureMismatch):
        RsaDigestVerifier(key.public_key()).verify(PLAINTEXT + b" ", digest)
    with pytest.raises(errors.SignatureMismatch):
        RsaDigestVerifier(rsa_key(bits).public_key()).verify(PLAINTEXT, digest)
    if OPENSSL is not None:
        assert openssl_verify_sha1(public_pem(key), PLAINTEXT, base64.b64decode(digest), tmp_path)


def test_digest_is_deterministic_pkcs1v15() -> None:
    signer = RsaDigestSigner(rsa_key(512))
    assert signer.sign(PLAINTEXT) == signer.sign(PLAINTEXT)


def test_signer_protocol_adapter() -> None:
    rsa_signer = SoftwareSigner.generate(SignatureAlgorithm.RSA_SHA1, bits=1024)
    digest = SignerDigest(rsa_signer).sign(PLAINTEXT)
    RsaDigestVerifier(rsa_signer.certificate).verify(PLAINTEXT, digest)
    sha256_signer = SoftwareSigner.generate(SignatureAlgorithm.RSA_SHA256, bits=1024)
    with pytest.raises(errors.UnsupportedAlgorithm):
        SignerDigest(sha256_signer)
    SignerDigest(sha256_signer, hash_name="sha256")  # a profile asking for SHA-256 accepts it


def test_private_key_forms() -> None:
    key = rsa_key(512)
    numbers = key.private_numbers()
    pem_pkcs8 = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    pem_pkcs1 = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    b64 = private_key_pkcs8_base64(key)
    wrapped = "\n".join(b64[i : i + 64] for i in range(0, len(b64), 64))
    for form in (pem_pkcs8, pem_pkcs1, der, b64, wrapped, b64.encode(), key):
        assert load_rsa_private_key(form).private_numbers() == numbers


def test_public_key_forms() -> None:
    signer = SoftwareSigner.generate(SignatureAlgorithm.RSA_SHA1, bits=1024)
    public = load_rsa_public_key(signer.certificate)
    spki_b64 = public_key_spki_base64(public)
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    for form in (
        signer.certificate,
        base64.b64encode(signer.certificate),
        signer.certificate_pem(),
        spki_b64,
        pem,
    ):
        assert load_rsa_public_key(form).public_numbers() == public.public_numbers()


@pytest.mark.parametrize(
    "garbage", [b"", b"\x00\x01\x02", "c2VjcmV0LXN0dWZm", b"-----BEGIN PRIVATE KEY-----\nAAAA\n"]
)
def test_bad_key_material_never_echoes_input(garbage: bytes | str) -> None:
    with pytest.raises(errors.KeyMaterialError) as caught:
        load_rsa_private_key(garbage)
    text = str(caught.value)
    if garbage:
        assert (garbage if isinstance(garbage, str) else garbage.decode("latin-1")).strip() not in text
    with pytest.raises(errors.KeyMaterialError):
        load_rsa_public_key(garbage)


def test_non_rsa_key_is_refused() -> None:
    sm2 = SoftwareSigner.generate(SignatureAlgorithm.SM2_SM3)
    with pytest.raises(errors.KeyMaterialError, match="not an RSA key"):
        load_rsa_public_key(sm2.certificate)
