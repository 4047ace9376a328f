"""verify(): real vectors, every failure with its own error and reason, trust, tampering."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from cbec_declare import errors
from cbec_declare.signing import PROFILES, SignatureAlgorithm, SoftwareSigner, VerifiedSignature, sign, verify
from cbec_declare.signing.certs import public_key
from cbec_declare.signing.verify import verify_signed_info
from cbec_declare.signing.xmldsig import canonical_signed_info, document_digest
from conftest import VECTORS
from signing.signing_support import built_sample, rsa_signer, sm2_signer, unsigned_ceb621, vectors

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
DS = f"{{{DS_NS}}}"
CONTEXT = (
    ' xmlns:ceb="http://www.chinaport.gov.cn/ceb" xmlns:ds="http://www.w3.org/2000/09/xmldsig#"'
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
)


def _signed(message: str = "CEB621", signer: SoftwareSigner | None = None, **kwargs: object) -> bytes:
    return sign(built_sample("2022-05", message), signer or rsa_signer(1024), **kwargs)  # type: ignore[arg-type]


def _mutate(signed: bytes, change: object) -> bytes:
    root = etree.fromstring(signed)
    change(root)  # type: ignore[operator]
    return etree.tostring(root)


# -- the real vectors ------------------------------------------------------------------------------


@pytest.mark.parametrize("vector_id", sorted(v for v in vectors() if "signed_bytes_utf8" in vectors()[v]))
def test_every_vector_signature_verifies_with_its_certificate(vector_id: str) -> None:
    vector = vectors()[vector_id]
    key = public_key(vector["x509_b64"])
    algorithm = SignatureAlgorithm.SM2_SM3 if "sm2" in vector_id else SignatureAlgorithm.RSA_SHA1
    data = vector["signed_bytes_utf8"].encode("utf-8")
    signature = base64.b64decode(vector["signature_b64"])
    assert verify_signed_info(key, algorithm, data, signature)
    assert not verify_signed_info(key, algorithm, data.replace(b"Reference", b"Referencf"), signature)
    if algorithm is SignatureAlgorithm.RSA_SHA1:  # an independent check with cryptography alone
        rsa_key = serialization.load_der_public_key(
            public_key(vector["x509_b64"]).public_bytes(  # type: ignore[union-attr]
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        assert isinstance(rsa_key, rsa.RSAPublicKey)
        rsa_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA1())


def test_the_real_sm2_ceb621_signed_info_is_reproduced_byte_for_byte() -> None:
    vector = vectors()["sm2_ceb621_weasley_readme"]
    canonical = etree.tostring(
        etree.fromstring(unsigned_ceb621()).getroottree(), method="c14n", with_comments=False
    )
    profile = PROFILES["sm2-sm3-w3c-sha1"]  # what the card tool wrote: W3C sm2-sm3 URI, SHA-1 digest
    digest = document_digest(canonical, profile)
    assert digest == "b2FtM/jHvW4fnJpMMPWk/177RwA="
    rebuilt = canonical_signed_info(profile, digest, CONTEXT).encode("utf-8")
    assert rebuilt == vector["signed_bytes_utf8"].encode("utf-8")
    key = public_key(vector["x509_b64"])
    assert verify_signed_info(
        key, SignatureAlgorithm.SM2_SM3, rebuilt, base64.b64decode(vector["signature_b64"])
    )


@pytest.mark.parametrize(
    ("vector_id", "profile"),
    [
        ("rsa1024_ceb621_weasley_md", "rsa-sha1"),
        ("rsa1024_ceb311_weasley_md", "rsa-sha1"),
        ("sm2_ceb311_weasley", "sm2-sm3-w3c-sha1"),
    ],
)
def test_our_signed_info_template_is_the_text_the_real_cards_signed(vector_id: str, profile: str) -> None:
    vector = vectors()[vector_id]
    digest = vector["signed_bytes_utf8"].split("<ds:DigestValue>")[1].split("<")[0]
    assert canonical_signed_info(PROFILES[profile], digest, CONTEXT) == vector["signed_bytes_utf8"]


def test_pretty_printed_sm2_ceb311_is_rejected_as_reformatted_after_signing() -> None:
    data = (VECTORS / "ceb311_signed_sm2_pretty.xml").read_bytes()
    with pytest.raises(errors.SignatureMismatch) as caught:
        verify(data)
    assert caught.value.context["reason"] == "signed-info-reformatted"
    assert caught.value.code == "verify.signature.reformatted"
    assert "SignedInfo was re-formatted after signing" in caught.value.message
    assert "whitespace was also inserted around ds:Signature" in caught.value.message
    # The vector's own note: the DigestValue covers the document without the Signature and its newline.
    start, end = data.index(b"<ds:Signature"), data.index(b"</ds:Signature>") + len(b"</ds:Signature>\n")
    canonical = etree.tostring(
        etree.fromstring(data[:start] + data[end:]).getroottree(), method="c14n", with_comments=False
    )
    assert base64.b64encode(hashlib.sha1(canonical).digest()) == b"S4bQ8Qh6nXZohX+NTac1SKbDvlM="


def test_real_ceb621_with_whitespace_around_the_signature_fails_on_the_digest() -> None:
    signed = (VECTORS / "ceb621_real_scrambled_cert" / "CEB621Message_signed.xml").read_bytes()
    root = etree.fromstring(signed)
    assert (
        root.findtext(f".//{DS}DigestValue") == "b2FtM/jHvW4fnJpMMPWk/177RwA="
    )  # = digest of the unsigned file
    with pytest.raises(errors.DigestMismatch) as caught:
        verify(signed)
    assert caught.value.context["reason"] == "whitespace-around-signature"
    assert caught.value.code == "verify.digest.whitespace"
    assert "whitespace was inserted around ds:Signature after signing" in caught.value.message
    # Repairing the whitespace fixes the digest; the scrambled certificate is then what fails.
    start = signed.index(b"<ds:Signature")
    end = signed.index(b"</ds:Signature>") + len(b"</ds:Signature>")
    repaired = signed[:start].rstrip() + signed[start:end] + signed[end:]
    with pytest.raises(errors.CertificateNotTrusted) as unreadable:
        verify(repaired)
    assert unreadable.value.context["reason"] == "certificate-unreadable"


# -- our own signatures ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "profile", "algorithm", "digest"),
    [
        (lambda: rsa_signer(1024), None, SignatureAlgorithm.RSA_SHA1, "sha1"),
        (lambda: rsa_signer(2048), None, SignatureAlgorithm.RSA_SHA1, "sha1"),
        (lambda: rsa_signer(2048, "rsa-sha256"), None, SignatureAlgorithm.RSA_SHA256, "sha256"),
        (sm2_signer, "sm2-sm3", SignatureAlgorithm.SM2_SM3, "sm3"),
        (sm2_signer, "sm2-sm3-w3c-sha1", SignatureAlgorithm.SM2_SM3, "sha1"),
    ],
)
def test_verified_signature_reports_what_was_checked(
    make: object, profile: str | None, algorithm: SignatureAlgorithm, digest: str
) -> None:
    signer: SoftwareSigner = make()  # type: ignore[operator]
    result = verify(_signed("CEB311", signer, profile=profile))
    assert isinstance(result, VerifiedSignature)
    assert result.certificate == signer.certificate
    assert result.key_name == signer.key_name
    assert result.key_name_matches_serial
    assert (result.signature_algorithm, result.digest_algorithm) == (algorithm, digest)
    assert result.profile == (profile or algorithm.value)
    assert result.trusted_by == "keyinfo"
    assert result.signed_info.startswith(b"<ds:SignedInfo xmlns:ceb=")
    assert result.not_before == signer.certificate_info.not_before
    assert result.not_after == signer.certificate_info.not_after


def test_default_namespace_signature_verifies() -> None:
    # A Signature written as <Signature xmlns="…xmldsig#">, as one real RSA-2048 producer does.
    unsigned = built_sample("2022-05", "CEB311")
    signer = rsa_signer(2048)
    canonical = unsigned[unsigned.index(b"<ceb:") :]
    digest = base64.b64encode(hashlib.sha1(canonical).digest()).decode()
    body = (
        '<CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315">'
        "</CanonicalizationMethod>"
        '<SignatureMethod Algorithm="http://www.w3.org/2000/09/xmldsig#rsa-sha1"></SignatureMethod>'
        '<Reference URI="">'
        '<Transforms><Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"></Transform>'
        '</Transforms><DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"></DigestMethod>'
        f"<DigestValue>{digest}</DigestValue></Reference></SignedInfo>"
    )
    in_context = (
        f'<SignedInfo xmlns="{DS_NS}" xmlns:ceb="http://www.chinaport.gov.cn/ceb" '
        f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">{body}'
    )
    value = base64.b64encode(signer.sign(in_context.encode())).decode()
    cert = base64.b64encode(signer.certificate).decode()
    element = (
        f'<Signature xmlns="{DS_NS}"><SignedInfo>{body}<SignatureValue>{value}</SignatureValue>'
        f"<KeyInfo><KeyName>0001</KeyName><X509Data><X509Certificate>{cert}</X509Certificate></X509Data>"
        "</KeyInfo></Signature>"
    ).encode()
    position = unsigned.rindex(b"</ceb:CEB311Message>")
    signed = unsigned[:position] + element + unsigned[position:]
    result = verify(signed)
    assert result.signed_info == in_context.encode()
    assert not result.key_name_matches_serial


@pytest.mark.parametrize(
    ("change", "error", "reason"),
    [
        (lambda r: r.remove(r[-1]), errors.SignatureStructureError, "missing"),
        (
            lambda r: r.append(etree.fromstring(etree.tostring(r[-1]))),
            errors.SignatureStructureError,
            "several",
        ),
        (lambda r: r[0].append(r[-1]), errors.SignatureStructureError, "not-child-of-root"),
        (
            lambda r: r.find(f".//{DS}Reference").set("URI", "#id"),
            errors.SignatureStructureError,
            "reference-uri",
        ),
        (
            lambda r: r.find(f".//{DS}Reference").attrib.pop("URI"),
            errors.SignatureStructureError,
            "reference-uri",
        ),
        (
            lambda r: etree.SubElement(r.find(f".//{DS}Transforms"), f"{DS}Transform").set(
                "Algorithm", "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
            ),
            errors.SignatureStructureError,
            "transforms",
        ),
        (
            lambda r: r.find(f".//{DS}Reference").remove(r.find(f".//{DS}Transforms")),
            errors.SignatureStructureError,
            "missing-element",
        ),
        (lambda r: etree.SubElement(r[-1], f"{DS}Object"), errors.SignatureStructureError, "object"),
        (
            lambda r: r.find(f".//{DS}SignedInfo").append(
                etree.fromstring(etree.tostring(r.find(f".//{DS}Reference")))
            ),
            errors.SignatureStructureError,
            "several-references",
        ),
        (
            lambda r: etree.SubElement(r.find(f".//{DS}SignatureMethod"), f"{DS}HMACOutputLength"),
            errors.SignatureStructureError,
            "algorithm-parameters",
        ),
        (
            lambda r: r.find(f".//{DS}SignedInfo").append(etree.Element("foreign")),
            errors.SignatureStructureError,
            "foreign-element",
        ),
        (
            lambda r: setattr(r.find(f".//{DS}DigestValue"), "text", "@@@@"),
            errors.SignatureStructureError,
            "base64",
        ),
        (
            lambda r: setattr(r.find(f".//{DS}SignatureValue"), "text", ""),
            errors.SignatureStructureError,
            "base64",
        ),
        (
            lambda r: r.find(f".//{DS}CanonicalizationMethod").set(
                "Algorithm", "http://www.w3.org/2001/10/xml-exc-c14n#"
            ),
            errors.AlgorithmNotAllowed,
            "c14n",
        ),
        (
            lambda r: r.find(f".//{DS}SignatureMethod").set(
                "Algorithm", "http://www.w3.org/2000/09/xmldsig#dsa-sha1"
            ),
            errors.AlgorithmNotAllowed,
            "unknown-algorithm",
        ),
        (
            lambda r: setattr(r.find(f".//{DS}DigestValue"), "text", "AAAA"),
            errors.DigestMismatch,
            "digest-length",
        ),
    ],
)
def test_each_failure_has_its_own_error_and_reason(
    change: object, error: type[errors.CbecError], reason: str
) -> None:
    with pytest.raises(error) as caught:
        verify(_mutate(_signed(), change))
    assert caught.value.context["reason"] == reason
    assert f"(reason: {reason})" in caught.value.message


def test_allowed_algorithms() -> None:
    rsa_doc, sm2_doc = _signed(), _signed(signer=sm2_signer(), profile="sm2-sm3-w3c-sha1")
    assert verify(rsa_doc, allowed_algorithms={"rsa-sha1"}).profile == "rsa-sha1"
    assert verify(sm2_doc, allowed_algorithms=[SignatureAlgorithm.SM2_SM3]).profile == "sm2-sm3-w3c-sha1"
    assert verify(sm2_doc, allowed_algorithms=[PROFILES["sm2-sm3-w3c-sha1"]]).digest_algorithm == "sha1"
    for document, allowed in (
        (rsa_doc, {"sm2-sm3"}),
        (sm2_doc, {"sm2-sm3"}),
        (rsa_doc, [SignatureAlgorithm.RSA_SHA256]),
    ):
        with pytest.raises(errors.AlgorithmNotAllowed) as caught:
            verify(document, allowed_algorithms=allowed)  # type: ignore[arg-type]
        assert caught.value.context["reason"] == "disallowed"
    with pytest.raises(errors.AlgorithmNotAllowed, match="unknown profile 'rsa-md5'"):
        verify(rsa_doc, allowed_algorithms={"rsa-md5"})


def test_content_change_after_signing_is_a_digest_mismatch() -> None:
    signed = _signed()
    changed = signed.replace(b"<ceb:appStatus>2</ceb:appStatus>", b"<ceb:appStatus>1</ceb:appStatus>", 1)
    assert changed != signed
    with pytest.raises(errors.DigestMismatch) as caught:
        verify(changed)
    assert caught.value.context["reason"] == "digest"


def test_signature_by_another_key_is_a_signature_mismatch() -> None:
    signed = _signed()
    other = base64.b64encode(rsa_signer(2048).certificate)
    root = etree.fromstring(signed)
    original = (root.findtext(f".//{DS}X509Certificate") or "").encode()
    with pytest.raises(errors.SignatureMismatch) as caught:
        verify(signed.replace(original, other))
    assert caught.value.context["reason"] == "signature"
    sm2_cert = base64.b64encode(sm2_signer().certificate)
    with pytest.raises(errors.CertificateNotTrusted) as wrong_type:
        verify(signed.replace(original, sm2_cert))
    assert wrong_type.value.context["reason"] == "key-type"


def test_pretty_printing_our_own_output_is_diagnosed() -> None:
    signed = _signed(signer=sm2_signer())
    start = signed.index(b"<ds:Signature")
    pretty_signature = etree.tostring(
        etree.fromstring(signed[start : signed.index(b"</ceb:CEB621Message>")]), pretty_print=True
    ).strip()
    # SignedInfo indented, nothing else touched: only the signature breaks.
    inside_only = signed[:start] + pretty_signature + signed[signed.index(b"</ceb:CEB621Message>") :]
    with pytest.raises(errors.SignatureMismatch) as caught:
        verify(inside_only)
    assert caught.value.context["reason"] == "signed-info-reformatted"
    assert "the document content also changed" not in caught.value.message
    # Whitespace around an intact Signature: only the digest breaks.
    around = (
        signed[:start] + b"\n  " + signed[start:].replace(b"</ceb:CEB621Message>", b"\n</ceb:CEB621Message>")
    )
    with pytest.raises(errors.DigestMismatch) as ws:
        verify(around)
    assert ws.value.context["reason"] == "whitespace-around-signature"


# -- certificates and trust ------------------------------------------------------------------------


def test_pinned_certificate() -> None:
    signer = rsa_signer(1024)
    signed = _signed(signer=signer)
    assert verify(signed, certificate=signer.certificate_pem()).trusted_by == "pinned"
    with pytest.raises(errors.CertificateNotTrusted) as caught:
        verify(signed, certificate=rsa_signer(2048).certificate)
    assert caught.value.context["reason"] == "certificate-mismatch"
    without_cert = _mutate(signed, lambda r: r.find(f".//{DS}KeyInfo").remove(r.find(f".//{DS}X509Data")))
    assert verify(without_cert, certificate=signer.certificate).trusted_by == "pinned"
    with pytest.raises(errors.CertificateNotTrusted) as missing:
        verify(without_cert)
    assert missing.value.context["reason"] == "no-certificate"


def test_validity_period_is_enforced_at_now() -> None:
    signer = rsa_signer(1024)
    signed = _signed(signer=signer)
    info = signer.certificate_info
    assert verify(signed, now=info.not_before + timedelta(seconds=1)).trusted_by == "keyinfo"
    with pytest.raises(errors.CertificateNotTrusted) as expired:
        verify(signed, now=info.not_after + timedelta(seconds=1))
    assert expired.value.context["reason"] == "expired"
    with pytest.raises(errors.CertificateNotTrusted) as early:
        verify(signed, now=datetime(2000, 1, 1))
    assert early.value.context["reason"] == "not-yet-valid"


@pytest.mark.parametrize("ca_algorithm", ["rsa-sha1", "sm2-sm3"])
@pytest.mark.parametrize("leaf_algorithm", ["rsa-sha1", "sm2-sm3"])
def test_chains_to_trusted_certificates(ca_algorithm: str, leaf_algorithm: str) -> None:
    root_ca = SoftwareSigner.generate(
        ca_algorithm, bits=1024, is_ca=True, common_name="Root CA", signature_hash="sha1"
    )
    middle = SoftwareSigner.generate(
        ca_algorithm, bits=1024, is_ca=True, common_name="Sub CA", issuer=root_ca
    )
    leaf = SoftwareSigner.generate(
        leaf_algorithm, bits=1024, common_name="Leaf", issuer=root_ca, signature_hash="sha1"
    )
    signed = _signed(signer=leaf)
    assert verify(signed, trusted=[root_ca.certificate]).trusted_by == "chain"
    assert verify(signed, trusted=[leaf.certificate]).trusted_by == "pinned"
    with pytest.raises(errors.CertificateNotTrusted) as caught:
        verify(signed, trusted=[middle.certificate])
    assert caught.value.context["reason"] == "untrusted"
    # Through an intermediate that travels in KeyInfo.
    deep = SoftwareSigner.generate(leaf_algorithm, bits=1024, common_name="Deep", issuer=middle)
    deep_signed = _signed(signer=deep)
    with pytest.raises(errors.CertificateNotTrusted):
        verify(deep_signed, trusted=[root_ca.certificate])
    extra = (
        f"<ds:X509Certificate>{base64.b64encode(middle.certificate).decode()}</ds:X509Certificate>".encode()
    )
    with_middle = deep_signed.replace(b"</ds:X509Data>", extra + b"</ds:X509Data>")
    assert verify(with_middle, trusted=[root_ca.certificate]).trusted_by == "chain"
    # A leaf (not a CA) cannot act as an intermediate.
    impostor = SoftwareSigner.generate(leaf_algorithm, bits=1024, issuer=leaf)
    leaf_as_middle = f"<ds:X509Certificate>{base64.b64encode(leaf.certificate).decode()}</ds:X509Certificate>"
    forged = _signed(signer=impostor).replace(b"</ds:X509Data>", leaf_as_middle.encode() + b"</ds:X509Data>")
    with pytest.raises(errors.CertificateNotTrusted):
        verify(forged, trusted=[root_ca.certificate])
    with pytest.raises(errors.CertificateNotTrusted) as expired_anchor:
        verify(
            signed, trusted=[root_ca.certificate], now=root_ca.certificate_info.not_after + timedelta(days=1)
        )
    assert expired_anchor.value.context["reason"] == "expired"


# -- tampering -------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [lambda: rsa_signer(1024), sm2_signer], ids=["rsa1024", "sm2"])
def test_flipping_any_byte_of_signed_info_is_detected(make: object) -> None:
    signed = _signed("CEB711", make())  # type: ignore[operator]
    start = signed.index(b"<ds:SignedInfo>")
    end = signed.index(b"</ds:SignedInfo>") + len(b"</ds:SignedInfo>")
    assert 500 < end - start < 1000
    for position in range(start, end):
        for mask in (0x01, 0x20):
            tampered = bytearray(signed)
            tampered[position] ^= mask
            with pytest.raises(errors.CbecError):
                verify(bytes(tampered))


def test_flipping_bytes_across_the_document_is_detected() -> None:
    # Pinned: without a pin or trust anchor a self-signed KeyInfo certificate is taken as it is, so a
    # changed subject name in it would pass — which is exactly what pinning or trusted= are for.
    signer = rsa_signer(1024)
    signed = _signed("CEB311", signer)
    body = signed.index(b"<ceb:CEB311Message")
    key_name = (signed.index(b"<ds:KeyName>") + len(b"<ds:KeyName>"), signed.index(b"</ds:KeyName>"))
    step = max(1, (len(signed) - body) // 400)
    checked = 0
    for position in range(body, len(signed), step):
        if key_name[0] <= position < key_name[1]:
            continue  # KeyName is outside SignedInfo: the profile does not sign it (see test below)
        tampered = bytearray(signed)
        tampered[position] ^= 0x01
        with pytest.raises(errors.CbecError):
            verify(bytes(tampered), certificate=signer.certificate)
        checked += 1
    assert checked >= 350


def test_key_name_and_xml_declaration_are_not_covered_by_the_signature() -> None:
    # Documented limits of the customs profile, pinned down so that nobody relies on them.
    signed = _signed("CEB711", rsa_signer(1024))
    renamed = signed.replace(b"<ds:KeyName>", b"<ds:KeyName>x", 1)
    assert verify(renamed).key_name == "x" + rsa_signer(1024).key_name
    assert verify(signed.replace(b'<?xml version="1.0" encoding="UTF-8"?>', b"", 1)).profile == "rsa-sha1"


def test_untrusted_input_limits_apply() -> None:
    with pytest.raises(errors.OversizedInputError):
        verify(_signed(), max_bytes=1000)
    with pytest.raises(errors.UnsafeXmlError):
        verify(b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>')
    with pytest.raises(errors.MalformedXmlError):
        verify(b"<a><b></a>")


def test_results_are_stable_across_calls() -> None:
    signed = _signed()
    first, second = verify(signed), verify(signed, now=datetime.now(timezone.utc))
    assert first == second
