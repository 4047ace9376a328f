"""Certificates: every input form, facts of the real customs certificates (RSA and SM2)."""

from __future__ import annotations

import base64
import shutil
import subprocess
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest
from cryptography import x509

from cbec_declare import errors
from cbec_declare.signing import (
    CertificateInfo,
    SoftwareSigner,
    certificate_info,
    certificate_pem,
    load_certificate,
)
from cbec_declare.signing.certs import public_key
from cbec_declare.signing.sm2 import Sm2PublicKey
from signing.signing_support import rsa_signer, vectors

# Facts read off the vector certificates with openssl (serial, key, CA signature algorithm).
EXPECTED = {
    "sm2_ceb311_weasley": ("03000000000cde6f", "sm2", 256, "SM3withSM2", "CN=杨如金"),
    "rsa1024_ceb621_weasley_md": ("01691f7f", "rsa", 1024, "sha1WithRSA", "CN=蒋大为"),
    "rsa2048_ceb311_hz": (
        "0201000000002199",
        "rsa",
        2048,
        "sha1WithRSA",
        "CN=宁波鑫海通达跨境电子商务有限公司",
    ),
}


@pytest.mark.parametrize("vector_id", sorted(EXPECTED))
def test_certificate_info_of_real_customs_certificates(vector_id: str) -> None:
    key_name, algorithm, size, signature, subject = EXPECTED[vector_id]
    info = certificate_info(vectors()[vector_id]["x509_b64"])
    assert isinstance(info, CertificateInfo)
    assert info.key_name == key_name
    assert info.serial == int(key_name, 16)
    assert (info.key_algorithm, info.key_size, info.signature_algorithm) == (algorithm, size, signature)
    assert subject in info.subject
    assert "中国电子业务证书管理中心" in info.issuer
    assert info.not_before < info.not_after
    assert info.not_before.tzinfo is not None
    assert info.is_valid_at(datetime(2030, 1, 1, tzinfo=timezone.utc))
    assert not info.is_valid_at(datetime(2000, 1, 1))  # naive means UTC
    assert not info.is_self_issued


def test_every_input_form_gives_the_same_der() -> None:
    der = base64.b64decode(vectors()["sm2_ceb311_weasley"]["x509_b64"])
    b64 = base64.b64encode(der).decode()
    pem = (
        "-----BEGIN CERTIFICATE-----\n" + "\n".join(textwrap.wrap(b64, 64)) + "\n-----END CERTIFICATE-----\n"
    )
    forms: list[object] = [
        der,
        bytearray(der),
        b64,
        b64.encode(),
        "\n    ".join(textwrap.wrap(b64, 76)),  # as in a pretty-printed ds:X509Certificate
        pem,
        pem.encode(),
        b"junk before\n" + pem.encode(),
        x509.load_der_x509_certificate(der),
    ]
    for form in forms:
        assert load_certificate(form) == der  # type: ignore[arg-type]
    assert certificate_pem(der).decode().replace("\n", "").startswith("-----BEGIN CERTIFICATE-----MIIEoDCC")


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("not base64 at all!", "sign.key.certificate.format"),
        ("QUJD", "sign.key.certificate.der"),  # base64 of "ABC"
        ("QUJ", "sign.key.certificate.base64"),
        (b"\x30\x03\x02\x01\x01", "sign.key.certificate.der"),
        (b"", "sign.key.certificate.format"),
        (12345, "sign.key.certificate.type"),
        (b"A" * 200_000, "sign.key.certificate.size"),
    ],
)
def test_bad_certificates_get_a_typed_reason(value: object, code: str) -> None:
    with pytest.raises(errors.KeyMaterialError) as caught:
        load_certificate(value)  # type: ignore[arg-type]
    assert caught.value.code == code


def test_public_keys_rsa_and_sm2() -> None:
    sm2_key = public_key(vectors()["sm2_ceb311_weasley"]["x509_b64"])
    assert isinstance(sm2_key, Sm2PublicKey)
    assert len(sm2_key.point) == 65
    assert sm2_key.point[0] == 4
    assert sm2_key == Sm2PublicKey(sm2_key.point)
    assert repr(sm2_key).startswith("Sm2PublicKey(04")
    rsa_key = public_key(rsa_signer(1024).certificate)
    assert rsa_key.key_size == 1024  # type: ignore[union-attr]


def test_scrambled_certificate_of_the_ceb621_vector_is_reported() -> None:
    from lxml import etree

    from conftest import VECTORS

    root = etree.parse(str(VECTORS / "ceb621_real_scrambled_cert" / "CEB621Message_signed.xml")).getroot()
    text = root.findtext(".//{http://www.w3.org/2000/09/xmldsig#}X509Certificate")
    with pytest.raises(errors.KeyMaterialError) as caught:
        load_certificate(text or "")
    assert caught.value.code == "sign.key.certificate.der"


def test_ec_p256_certificates_are_not_customs_keys() -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "p256")])
    now = datetime.now(timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(now)
        .not_valid_after(now.replace(year=now.year + 1))
        .sign(key, hashes.SHA256())
    )
    info = certificate_info(cert)
    assert (info.key_algorithm, info.key_size, info.key_name) == ("ec", 256, "07")
    with pytest.raises(errors.UnsupportedAlgorithm, match="RSA or SM2 expected"):
        public_key(cert)


OPENSSL = shutil.which("openssl")


@pytest.mark.skipif(OPENSSL is None, reason="the openssl command is not installed")
@pytest.mark.parametrize("ca_algorithm", ["rsa-sha1", "sm2-sm3"])
@pytest.mark.parametrize("leaf_algorithm", ["rsa-sha256", "sm2-sm3"])
def test_openssl_accepts_the_generated_certificate_chains(
    tmp_path: Path, ca_algorithm: str, leaf_algorithm: str
) -> None:
    ca = SoftwareSigner.generate(ca_algorithm, bits=2048, is_ca=True, common_name="Test CA")
    leaf = SoftwareSigner.generate(leaf_algorithm, bits=2048, issuer=ca, common_name="Leaf")
    other = SoftwareSigner.generate(ca_algorithm, bits=2048, is_ca=True, common_name="Test CA")  # same name
    (tmp_path / "ca.pem").write_bytes(ca.certificate_pem())
    (tmp_path / "other.pem").write_bytes(other.certificate_pem())
    (tmp_path / "leaf.pem").write_bytes(leaf.certificate_pem())
    # SM2 certificate signatures use Z with the default ID; OpenSSL 3.0 needs to be told so.
    option = ["-vfyopt", "distid:1234567812345678"] if ca_algorithm == "sm2-sm3" else []
    command = [OPENSSL or "openssl", "verify", *option, "-CAfile"]
    good = subprocess.run(
        [*command, str(tmp_path / "ca.pem"), str(tmp_path / "leaf.pem")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert good.returncode == 0, good.stdout + good.stderr
    bad = subprocess.run(
        [*command, str(tmp_path / "other.pem"), str(tmp_path / "leaf.pem")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode != 0
