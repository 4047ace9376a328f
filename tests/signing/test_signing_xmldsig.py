"""sign() / sign_canonical(): the exact bytes customs wants, checked with lxml as an independent C14N."""

from __future__ import annotations

import base64
import hashlib
import re

import attrs
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from cbec_declare import errors
from cbec_declare.signing import PROFILES, SignatureAlgorithm, sign, sign_canonical, verify
from cbec_declare.signing.xmldsig import canonical_signed_info, document_digest
from signing.signing_support import DECLARATIONS, built_sample, remove_signature, rsa_signer, sm2_signer

DS = "{http://www.w3.org/2000/09/xmldsig#}"
CEB = "http://www.chinaport.gov.cn/ceb"


@attrs.define
class RecordingSigner:
    """A deterministic stand-in backend: records what it was asked to sign, returns fixed bytes.

    It stands in for a card, not for our code, so that SM2 (randomised) output can be compared
    byte for byte between the two signing paths.
    """

    algorithm: SignatureAlgorithm
    certificate: bytes
    key_name: str = "0001"
    seen: list[bytes] = attrs.field(factory=list)

    def sign(self, data: bytes) -> bytes:
        self.seen.append(data)
        return hashlib.sha256(data).digest() * 2


def _signature_span(signed: bytes) -> tuple[int, int]:
    start = signed.index(b"<ds:Signature")
    return start, signed.index(b"</ds:Signature>") + len(b"</ds:Signature>")


def _check_rsa_signature(signed: bytes, certificate: bytes) -> None:
    """Independent check: lxml's in-document C14N of SignedInfo and cryptography's RSA verify."""
    root = etree.fromstring(signed)
    signed_info = root.find(f"{DS}Signature/{DS}SignedInfo")
    assert signed_info is not None
    canonical = etree.tostring(signed_info, method="c14n", with_comments=False)
    value = base64.b64decode(root.findtext(f"{DS}Signature/{DS}SignatureValue") or "")
    key = x509.load_der_x509_certificate(certificate).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(value, canonical, padding.PKCS1v15(), hashes.SHA1())


def test_only_the_signature_is_added_and_it_sits_before_the_root_end_tag() -> None:
    unsigned = (
        b"\xef\xbb\xbf<?xml version='1.0' encoding='utf-8' standalone='yes'?>\n<!-- head -->\n"
        b'<ceb:CEB311Message  version="1.0" guid="G-1"\n   xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        b' xmlns:ceb="http://www.chinaport.gov.cn/ceb">\n  <ceb:Order><!-- </ceb:CEB311Message> -->'
        b"<ceb:note a='1'>x &amp; y</ceb:note></ceb:Order>\n"
        b"</ceb:CEB311Message >\n<!-- tail </ceb:CEB311Message> -->\n<?pi </ceb:CEB311Message><?pi ?>\n"
    )
    signer = rsa_signer(1024)
    signed = sign(unsigned, signer)
    start, end = _signature_span(signed)
    assert signed[:start] + signed[end:] == unsigned
    assert signed[end:].startswith(b"</ceb:CEB311Message >\n<!-- tail")
    assert signed[start - 1 : start] == b"\n"  # the whitespace that stood before the end tag stays before it
    element = signed[start:end]
    assert element.startswith(b'<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>')
    assert re.search(rb">\s+<", element) is None
    root = etree.fromstring(signed)
    assert root[-1].tag == DS + "Signature"
    _check_rsa_signature(signed, signer.certificate)
    assert verify(signed).key_name == signer.key_name


def test_digest_and_signed_info_match_an_independent_computation() -> None:
    unsigned = built_sample("2022-05", "CEB311")
    signer = rsa_signer(2048)
    signed = sign(unsigned, signer)
    root = etree.fromstring(signed)
    expected_digest = base64.b64encode(
        hashlib.sha1(
            etree.tostring(etree.fromstring(unsigned).getroottree(), method="c14n", with_comments=False)
        ).digest()
    ).decode()
    assert root.findtext(f".//{DS}DigestValue") == expected_digest
    signed_info = root.find(f"{DS}Signature/{DS}SignedInfo")
    assert signed_info is not None
    canonical = etree.tostring(signed_info, method="c14n", with_comments=False)
    assert canonical.startswith(
        b'<ds:SignedInfo xmlns:ceb="http://www.chinaport.gov.cn/ceb" xmlns:ds="http://www.w3.org/2000/09/xmldsig#"'
        b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><ds:CanonicalizationMethod'
    )
    certificate = root.findtext(f".//{DS}X509Certificate") or ""
    assert "\n" not in certificate
    assert base64.b64decode(certificate) == signer.certificate
    assert root.findtext(f".//{DS}KeyName") == signer.key_name
    transforms = root.findall(f".//{DS}Transform")
    assert [t.get("Algorithm") for t in transforms] == [
        "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
    ]
    assert root.find(f".//{DS}Reference").get("URI") == ""  # type: ignore[union-attr]
    _check_rsa_signature(signed, signer.certificate)


@pytest.mark.parametrize("version", ["2018-113", "2022-05"])
@pytest.mark.parametrize("message", DECLARATIONS)
@pytest.mark.parametrize("algorithm", ["rsa-sha1", "rsa-sha256", "sm2-sm3"])
def test_fast_path_gives_byte_identical_output(version: str, message: str, algorithm: str) -> None:
    unsigned = built_sample(version, message)
    backing = sm2_signer() if algorithm == "sm2-sm3" else rsa_signer(1024, algorithm)
    profiles = ["sm2-sm3", "sm2-sm3-w3c-sha1"] if algorithm == "sm2-sm3" else [None]
    for profile in profiles:
        generic = RecordingSigner(SignatureAlgorithm.coerce(algorithm), backing.certificate)
        fast = RecordingSigner(SignatureAlgorithm.coerce(algorithm), backing.certificate)
        assert sign_canonical(unsigned, fast, profile=profile) == sign(unsigned, generic, profile=profile)
        assert fast.seen == generic.seen
        assert len(fast.seen) == 1
    if algorithm != "sm2-sm3":  # RSA PKCS#1 v1.5 is deterministic: real signatures match too
        assert sign_canonical(unsigned, backing) == sign(unsigned, backing)
    body = unsigned[unsigned.index(b"<ceb:") :]
    assert remove_signature(sign_canonical(body, backing)) == body  # without the XML declaration too


def test_key_name_override_and_escaping() -> None:
    signer = rsa_signer(1024)
    signed = sign(built_sample("2022-05", "CEB711"), signer, key_name="a&b<c>")
    assert b"<ds:KeyName>a&amp;b&lt;c&gt;</ds:KeyName>" in signed
    assert verify(signed).key_name == "a&b<c>"
    for bad in ("", "bell\x07"):
        with pytest.raises(errors.SigningError, match="cannot be written in ds:KeyName"):
            sign(built_sample("2022-05", "CEB711"), signer, key_name=bad)


def test_default_namespace_root_puts_xmlns_first_in_signed_info() -> None:
    unsigned = (
        f'<?xml version="1.0" encoding="UTF-8"?><CEB312Message xmlns="{CEB}" guid="g" version="1.0">'
        "<OrderReturn><guid>g</guid></OrderReturn></CEB312Message>"
    ).encode()
    signer = rsa_signer(1024)
    recorder = RecordingSigner(SignatureAlgorithm.RSA_SHA1, signer.certificate)
    sign(unsigned, recorder)
    assert recorder.seen[0].startswith(
        f'<ds:SignedInfo xmlns="{CEB}" xmlns:ds="http://www.w3.org/2000/09/xmldsig#">'.encode()
    )
    signed = sign(unsigned, signer)
    _check_rsa_signature(signed, signer.certificate)
    assert verify(signed).profile == "rsa-sha1"


def test_gbk_documents_are_signed_in_place() -> None:
    text = (
        '<?xml version="1.0" encoding="GBK"?>\n'
        f'<ceb:CEB311Message xmlns:ceb="{CEB}" guid="g" version="1.0">'
        "<ceb:note>中文备注</ceb:note></ceb:CEB311Message>"
    )
    unsigned = text.encode("gbk")
    signer = rsa_signer(1024)
    signed = sign(unsigned, signer, key_name="证书😀")
    start, end = _signature_span(signed)
    assert signed[:start] + signed[end:] == unsigned
    # The KeyName in the document's encoding; what GBK cannot hold becomes a character reference.
    assert "<ds:KeyName>证书".encode("gbk") + b"&#128512;</ds:KeyName>" in signed
    assert verify(signed).key_name == "证书😀"


@pytest.mark.parametrize(
    ("document", "code"),
    [
        (b"<a><ds:Signature xmlns:ds='http://www.w3.org/2000/09/xmldsig#'/></a>", "sign.already-signed"),
        (b"<a><b/>", "sign.input"),
        (b"<!DOCTYPE a><a/>", "sign.input"),
        (b"<a/>", "sign.structure"),
        (b'<a xml:lang="zh"><b/></a>', "sign.xml-attribute"),
        (b'<a xmlns:x="urn:a&amp;b"><b/></a>', "sign.namespace"),
        ('<?xml version="1.0" encoding="UTF-16"?><a><b/></a>'.encode("utf-16"), "sign.encoding"),
    ],
)
def test_documents_that_cannot_be_signed(document: bytes, code: str) -> None:
    with pytest.raises(errors.SigningError) as caught:
        sign(document, rsa_signer(1024))
    assert caught.value.code == code


def test_profile_must_match_the_signer() -> None:
    unsigned = built_sample("2022-05", "CEB711")
    with pytest.raises(errors.UnsupportedAlgorithm, match="profile sm2-sm3 signs with sm2-sm3"):
        sign(unsigned, rsa_signer(1024), profile="sm2-sm3")
    with pytest.raises(errors.UnsupportedAlgorithm, match="profile rsa-sha1 signs with rsa-sha1"):
        sign_canonical(unsigned, sm2_signer(), profile="rsa-sha1")


def test_fast_path_refuses_what_it_cannot_vouch_for() -> None:
    signer = rsa_signer(1024)
    with pytest.raises(errors.SigningError, match="use sign\\(\\) for anything else"):
        sign_canonical(b"<?xml version='1.0'?><!-- c --><a></a>", signer)
    with pytest.raises(errors.SigningError, match="canonical root start tag"):
        sign_canonical(b"<a  b='1'></a>", signer)
    with pytest.raises(errors.SigningError, match="does not end with </a>"):
        sign_canonical(b"<a></a>x", signer)


def test_backend_failures_become_signing_errors() -> None:
    @attrs.define
    class Broken:
        algorithm: SignatureAlgorithm
        certificate: bytes
        key_name: str = "k"
        result: object = None

        def sign(self, data: bytes) -> bytes:
            if self.result is None:
                raise OSError("device gone")
            return self.result  # type: ignore[return-value]

    cert = rsa_signer(1024).certificate
    with pytest.raises(errors.SigningError, match="Broken failed: OSError") as caught:
        sign(built_sample("2022-05", "CEB711"), Broken(SignatureAlgorithm.RSA_SHA1, cert))
    assert isinstance(caught.value.__cause__, OSError)
    with pytest.raises(errors.SigningError, match="returned str, not signature bytes"):
        sign(built_sample("2022-05", "CEB711"), Broken(SignatureAlgorithm.RSA_SHA1, cert, result="sig"))


def test_signed_info_template_equals_lxml_in_context_c14n_for_odd_roots() -> None:
    # Declarations in scope on the root, in any order, with a default namespace.
    unsigned = b'<r:root xmlns:z="urn:z" xmlns="urn:d" xmlns:r="urn:r" b="2" a="1"><r:x/></r:root>'
    signer = rsa_signer(1024)
    recorder = RecordingSigner(SignatureAlgorithm.RSA_SHA1, signer.certificate)
    signed = sign(unsigned, recorder)
    signed_info = etree.fromstring(signed).find(f"{DS}Signature/{DS}SignedInfo")
    assert signed_info is not None
    assert etree.tostring(signed_info, method="c14n", with_comments=False) == recorder.seen[0]
    canonical = etree.tostring(etree.fromstring(unsigned).getroottree(), method="c14n", with_comments=False)
    digest = document_digest(canonical, PROFILES["rsa-sha1"])
    context = ' xmlns="urn:d" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:r="urn:r" xmlns:z="urn:z"'
    assert canonical_signed_info(PROFILES["rsa-sha1"], digest, context).encode() == recorder.seen[0]


def test_comments_inside_the_message_are_left_out_of_the_digest_on_both_paths() -> None:
    # The builder drops comments from xs:any fragments (its output is C14N without comments); a document
    # that carries one anyway is signed through the generic path, and Reference URI="" excludes comments.
    from cbec_declare.messages import build, parse
    from cbec_declare.models.common import ExtendMessage

    message = parse(built_sample("2022-05", "CEB311"))
    extended = attrs.evolve(
        message, extend_message=ExtendMessage(name="n", version="1", message="<x><!-- note -->y</x>")
    )
    unsigned = build(extended)
    assert b"<!--" not in unsigned
    assert b"<x>y</x>" in unsigned
    commented = unsigned.replace(b"<x>y</x>", b"<x><!-- note -->y</x>")
    signer = rsa_signer(1024)
    fast = sign_canonical(commented, signer)
    assert fast == sign(commented, signer)
    assert verify(fast).key_name == signer.key_name
    stripped = verify(fast.replace(b"<!-- note -->", b"<!-- other words -->"))  # comments are not signed
    assert stripped.profile == "rsa-sha1"
