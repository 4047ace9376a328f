"""CallableSigner and the named signature profiles."""

from __future__ import annotations

import pytest

from cbec_declare import errors
from cbec_declare.signing import (
    PROFILES,
    CallableSigner,
    SignatureAlgorithm,
    SignatureProfile,
    Signer,
    sign,
    verify,
)
from cbec_declare.signing.profiles import DEFAULT_PROFILES, resolve_profile
from cbec_declare.signing.sm2 import sm2_raw_to_der
from signing.signing_support import built_sample, rsa_signer, sm2_signer


def test_profiles_carry_the_spec_and_practice_uris() -> None:
    assert set(PROFILES) == {"rsa-sha1", "rsa-sha256", "sm2-sm3", "sm2-sm3-w3c-sha1"}
    assert PROFILES["rsa-sha1"].signature_method == "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
    assert PROFILES["rsa-sha1"].digest_method == "http://www.w3.org/2000/09/xmldsig#sha1"
    assert PROFILES["rsa-sha256"].signature_method == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    assert PROFILES["rsa-sha256"].digest_method == "http://www.w3.org/2001/04/xmlenc#sha256"
    spec = PROFILES["sm2-sm3"]
    assert spec.signature_method == "http://www.chinaport.gov.cn/2022/04/xmldsig#sm2-sm3"
    assert (spec.digest_method, spec.digest) == ("http://www.chinaport.gov.cn/2022/04/xmldsig#sm3", "sm3")
    practice = PROFILES["sm2-sm3-w3c-sha1"]
    assert practice.signature_method == "http://www.w3.org/2000/09/xmldsig#sm2-sm3"
    assert (practice.digest_method, practice.digest) == ("http://www.w3.org/2000/09/xmldsig#sha1", "sha1")
    assert DEFAULT_PROFILES[SignatureAlgorithm.SM2_SM3] is spec
    assert DEFAULT_PROFILES[SignatureAlgorithm.RSA_SHA1] is PROFILES["rsa-sha1"]
    with pytest.raises(AttributeError):
        spec.name = "x"  # type: ignore[misc]


def test_resolving_profiles() -> None:
    assert resolve_profile(None, SignatureAlgorithm.RSA_SHA256).name == "rsa-sha256"
    assert resolve_profile("sm2-sm3-w3c-sha1", SignatureAlgorithm.SM2_SM3).digest == "sha1"
    custom = SignatureProfile(
        name="rsa-sha1-custom",
        signature_algorithm=SignatureAlgorithm.RSA_SHA1,
        signature_method="urn:x-rsa",
        digest_method="urn:x-sha1",
        digest="sha1",
    )
    assert resolve_profile(custom, SignatureAlgorithm.RSA_SHA1) is custom
    with pytest.raises(errors.ConfigError, match="unknown signature profile 'rsa-md5'"):
        resolve_profile("rsa-md5", SignatureAlgorithm.RSA_SHA1)
    with pytest.raises(errors.UnsupportedAlgorithm, match="profile sm2-sm3 signs with sm2-sm3"):
        resolve_profile("sm2-sm3", SignatureAlgorithm.RSA_SHA1)
    with pytest.raises(errors.UnsupportedAlgorithm, match="profile rsa-sha256 signs with rsa-sha256"):
        resolve_profile("rsa-sha256", SignatureAlgorithm.RSA_SHA1)
    with pytest.raises(errors.ConfigError, match="unknown digest"):
        SignatureProfile(
            name="bad",
            signature_algorithm=SignatureAlgorithm.RSA_SHA1,
            signature_method="a",
            digest_method="b",
            digest="md5",
        )


def test_callable_signer_wraps_a_function_and_signs_xml() -> None:
    backing = rsa_signer(1024)
    calls: list[bytes] = []

    def remote(data: bytes) -> bytes:
        calls.append(data)
        return backing.sign(data)

    signer = CallableSigner(remote, certificate=backing.certificate_pem(), algorithm="rsa-sha1")
    assert isinstance(signer, Signer)
    assert signer.key_name == backing.key_name
    assert signer.certificate == backing.certificate
    signed = sign(built_sample("2022-05", "CEB311"), signer)
    assert calls
    assert calls[0].startswith(b"<ds:SignedInfo xmlns:ceb=")
    assert verify(signed).key_name == backing.key_name
    assert "remote" in repr(signer)
    renamed = CallableSigner(remote, certificate=backing.certificate, algorithm="rsa-sha1", key_name="0001")
    assert renamed.key_name == "0001"


def test_callable_sm2_output_in_der_is_normalised_to_raw() -> None:
    backing = sm2_signer()
    signer = CallableSigner(
        lambda data: sm2_raw_to_der(backing.sign(data)), certificate=backing.certificate, algorithm="sm2-sm3"
    )
    signature = signer.sign(b"payload")
    assert len(signature) == 64
    assert verify(sign(built_sample("2022-05", "CEB621"), signer)).profile == "sm2-sm3"


def test_callable_output_is_checked_against_the_certificate() -> None:
    wrong = rsa_signer(2048)
    signer = CallableSigner(wrong.sign, certificate=rsa_signer(1024).certificate, algorithm="rsa-sha1")
    with pytest.raises(errors.SigningError, match="does not verify with the certificate") as caught:
        signer.sign(b"x")
    assert caught.value.code == "sign.backend.output"
    sha256 = CallableSigner(
        rsa_signer(2048, "rsa-sha256").sign,
        certificate=rsa_signer(2048, "rsa-sha256").certificate,
        algorithm="rsa-sha1",
    )
    with pytest.raises(errors.SigningError, match="wrong key, hash or format"):
        sha256.sign(b"x")
    unchecked = CallableSigner(
        wrong.sign, certificate=rsa_signer(1024).certificate, algorithm="rsa-sha1", check_output=False
    )
    assert len(unchecked.sign(b"x")) == 256


def test_callable_output_type_and_configuration_errors() -> None:
    cert = rsa_signer(1024).certificate
    with pytest.raises(errors.SigningError, match="returned str; bytes expected"):
        CallableSigner(lambda data: "c2ln", certificate=cert, algorithm="rsa-sha1").sign(b"x")  # type: ignore[arg-type,return-value]
    with pytest.raises(errors.SigningError, match="must be callable"):
        CallableSigner(b"x", certificate=cert, algorithm="rsa-sha1")  # type: ignore[arg-type]
    with pytest.raises(errors.UnsupportedAlgorithm, match="does not fit the certificate's rsa key"):
        CallableSigner(lambda data: data, certificate=cert, algorithm="sm2-sm3")
    with pytest.raises(errors.SigningError, match="not DER"):
        CallableSigner(
            lambda data: b"\x01" * 10, certificate=sm2_signer().certificate, algorithm="sm2-sm3"
        ).sign(b"x")


def test_callable_cbec_errors_pass_through_unchanged() -> None:
    def unavailable(data: bytes) -> bytes:
        raise errors.SignerUnavailable("card not inserted", code="sign.unavailable.card")

    signer = CallableSigner(unavailable, certificate=rsa_signer(1024).certificate, algorithm="rsa-sha1")
    with pytest.raises(errors.SignerUnavailable) as caught:
        signer.sign(b"x")
    assert caught.value.code == "sign.unavailable.card"
