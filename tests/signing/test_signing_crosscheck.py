"""Independent verifiers agree with us: signxml, the xmlsec1 command, gmssl (SM2 and SM3)."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import pytest
import signxml
from gmssl import func as gm_func
from gmssl import sm3 as gm_sm3
from lxml import etree
from signxml import DigestAlgorithm, SignatureConfiguration, SignatureMethod, XMLVerifier
from signxml.algorithms import CanonicalizationMethod

from cbec_declare.signing import SoftwareSigner, sign, verify
from cbec_declare.signing.certs import public_key
from signing.signing_support import built_sample, gmssl_verify, remove_signature, rsa_signer, sm2_signer

DS = "{http://www.w3.org/2000/09/xmldsig#}"
RSA_CASES = [(1024, "rsa-sha1"), (2048, "rsa-sha1"), (2048, "rsa-sha256")]
_SIGNXML = {
    "rsa-sha1": (SignatureMethod.RSA_SHA1, DigestAlgorithm.SHA1),
    "rsa-sha256": (SignatureMethod.RSA_SHA256, DigestAlgorithm.SHA256),
}


class CustomsSignXmlSigner(signxml.XMLSigner):  # type: ignore[misc]
    """signxml refuses SHA-1 by default; customs needs it (toolchain.md §3)."""

    def check_deprecated_methods(self) -> None:
        pass


def _signxml_verify(signed: bytes, signer: SoftwareSigner, profile: str) -> bytes:
    method, digest = _SIGNXML[profile]
    config = SignatureConfiguration(
        signature_methods=frozenset({method}),
        digest_algorithms=frozenset({digest}),
        require_x509=True,
        expect_references=1,
    )
    result = XMLVerifier().verify(signed, x509_cert=signer.certificate_pem().decode(), expect_config=config)
    return etree.tostring(result.signed_xml, method="c14n", with_comments=False)


@pytest.mark.parametrize(("bits", "profile"), RSA_CASES)
def test_signxml_verifies_our_rsa_signatures(bits: int, profile: str) -> None:
    signer = rsa_signer(bits, profile)
    unsigned = built_sample("2022-05", "CEB621")
    signed = sign(unsigned, signer)
    signed_data = _signxml_verify(signed, signer, profile)
    assert signed_data == unsigned[unsigned.index(b"<ceb:") :]  # what signxml says was signed: our document
    tampered = signed.replace(b"<ceb:appStatus>2<", b"<ceb:appStatus>1<", 1)
    with pytest.raises(signxml.exceptions.InvalidSignature):
        _signxml_verify(tampered, signer, profile)


@pytest.mark.parametrize(("bits", "profile"), RSA_CASES)
def test_signxml_signatures_equal_ours_byte_for_byte(bits: int, profile: str) -> None:
    signer = rsa_signer(bits, profile)
    unsigned = built_sample("2022-05", "CEB311")
    method, digest = _SIGNXML[profile]
    theirs = CustomsSignXmlSigner(
        method=signxml.methods.enveloped,
        signature_algorithm=method,
        digest_algorithm=digest,
        c14n_algorithm=CanonicalizationMethod.CANONICAL_XML_1_0,
    ).sign(
        etree.fromstring(unsigned),
        key=signer.private_key_pem(),
        cert=signer.certificate_pem().decode(),
        key_name=signer.key_name,
        exclude_c14n_transform_element=True,
    )
    theirs_bytes = etree.tostring(theirs)
    assert verify(theirs_bytes).key_name == signer.key_name  # we accept signxml's output
    ours = etree.fromstring(sign(unsigned, signer))
    for part in ("SignedInfo", "SignatureValue"):
        mine, other = ours.find(f".//{DS}{part}"), theirs.find(f".//{DS}{part}")
        assert mine is not None
        assert other is not None
        assert etree.tostring(mine, method="c14n", with_comments=False) == etree.tostring(
            other, method="c14n", with_comments=False
        )


XMLSEC1 = shutil.which("xmlsec1")
requires_xmlsec1 = pytest.mark.skipif(XMLSEC1 is None, reason="xmlsec1 is not installed")


def _xmlsec1(*args: str) -> subprocess.CompletedProcess[str]:
    assert XMLSEC1 is not None
    return subprocess.run([XMLSEC1, *args], capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.xmlsec1
@requires_xmlsec1
@pytest.mark.parametrize(("bits", "profile"), RSA_CASES)
@pytest.mark.parametrize("message", ["CEB311", "CEB621", "CEB711"])
def test_xmlsec1_verifies_our_rsa_signatures(tmp_path: Path, bits: int, profile: str, message: str) -> None:
    signer = rsa_signer(bits, profile)
    cert = tmp_path / "cert.pem"
    cert.write_bytes(signer.certificate_pem())
    signed = sign(built_sample("2018-113", message), signer)
    good, bad = tmp_path / "signed.xml", tmp_path / "tampered.xml"
    good.write_bytes(signed)
    bad.write_bytes(signed.replace(b"</ceb:BaseTransfer>", b"</ceb:BaseTransfer> ", 1))
    result = _xmlsec1("--verify", "--pubkey-cert-pem", str(cert), str(good))
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stderr
    failed = _xmlsec1("--verify", "--pubkey-cert-pem", str(cert), str(bad))
    assert failed.returncode != 0
    assert "FAIL" in failed.stderr


@pytest.mark.xmlsec1
@requires_xmlsec1
def test_we_verify_what_xmlsec1_signs(tmp_path: Path) -> None:
    signer = rsa_signer(2048)
    (tmp_path / "key.pem").write_bytes(signer.private_key_pem())
    (tmp_path / "cert.pem").write_bytes(signer.certificate_pem())
    ds = "http://www.w3.org/2000/09/xmldsig#"
    template = (
        f'<ds:Signature xmlns:ds="{ds}"><ds:SignedInfo>'
        '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>'
        f'<ds:SignatureMethod Algorithm="{ds}rsa-sha1"/><ds:Reference URI=""><ds:Transforms>'
        f'<ds:Transform Algorithm="{ds}enveloped-signature"/></ds:Transforms>'
        f'<ds:DigestMethod Algorithm="{ds}sha1"/><ds:DigestValue/></ds:Reference></ds:SignedInfo>'
        "<ds:SignatureValue/><ds:KeyInfo><ds:KeyName>k</ds:KeyName><ds:X509Data><ds:X509Certificate/>"
        "</ds:X509Data></ds:KeyInfo></ds:Signature>"
    ).encode()
    unsigned = built_sample("2022-05", "CEB623")
    end = unsigned.rindex(b"</ceb:CEB623Message>")
    (tmp_path / "template.xml").write_bytes(unsigned[:end] + template + unsigned[end:])
    out = tmp_path / "out.xml"
    result = _xmlsec1(
        "--sign",
        "--privkey-pem",
        f"{tmp_path / 'key.pem'},{tmp_path / 'cert.pem'}",
        "--output",
        str(out),
        str(tmp_path / "template.xml"),
    )
    assert result.returncode == 0, result.stderr
    verified = verify(out.read_bytes(), certificate=signer.certificate)
    assert verified.key_name == "k"
    assert remove_signature(sign(unsigned, signer)) == unsigned


@pytest.mark.parametrize("profile", ["sm2-sm3", "sm2-sm3-w3c-sha1"])
@pytest.mark.parametrize("message", ["CEB311", "CEB621"])
def test_gmssl_verifies_our_sm2_signatures_and_sm3_digests(profile: str, message: str) -> None:
    signer = sm2_signer()
    unsigned = built_sample("2022-05", message)
    signed = sign(unsigned, signer, profile=profile)
    root = etree.fromstring(signed)
    signed_info = root.find(f".//{DS}SignedInfo")
    assert signed_info is not None
    canonical_signed_info = etree.tostring(signed_info, method="c14n", with_comments=False)
    value = base64.b64decode(root.findtext(f".//{DS}SignatureValue") or "")
    point = public_key(signer.certificate).point  # type: ignore[union-attr]
    assert gmssl_verify(point, value, canonical_signed_info)
    assert not gmssl_verify(point, value, canonical_signed_info.replace(b"Reference", b"Referencf"))
    if profile == "sm2-sm3":  # the document digest with gmssl's SM3, an independent implementation
        document = etree.tostring(
            etree.fromstring(unsigned).getroottree(), method="c14n", with_comments=False
        )
        expected = bytes.fromhex(gm_sm3.sm3_hash(gm_func.bytes_to_list(document)))
        assert base64.b64decode(root.findtext(f".//{DS}DigestValue") or "") == expected
    assert verify(signed).profile == profile
