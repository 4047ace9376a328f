"""Strict verification of a customs XML signature, with a diagnosis when it fails.

Order (XMLDSig core validation): structure and algorithms, then the Reference digest over the C14N
of the document without the Signature, then the SignatureValue over the C14N of SignedInfo in
document context, then the certificate (validity, pinning or a chain to ``trusted``). Each failure
raises its own :class:`~cbec_declare.errors.VerificationError` subclass with a machine ``reason``
(in ``context`` and in the message).

When the digest or the signature fails, the two classic customs accidents are looked for and
named: whitespace inserted around ``ds:Signature`` after signing (the digest matches once it is
taken out) and a SignedInfo pretty-printed after signing (the SignatureValue verifies over its
compact form). Both are still failures: customs verifies strictly.

A default-namespace ``<Signature xmlns="…xmldsig#">`` is accepted; lxml's C14N writes a spurious
``xmlns=""`` inside such a SignedInfo (toolchain.md §3), which is removed here — safe because the
structure check has made sure every element in SignedInfo is in the xmldsig namespace.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Collection, Sequence
from datetime import datetime, timezone

import attrs
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from .._xml import DEFAULT_MAX_BYTES, parse_untrusted
from ..errors import (
    AlgorithmNotAllowed,
    CbecError,
    CertificateNotTrusted,
    DigestMismatch,
    SignatureMismatch,
)
from ._structure import SignatureParts, read_signature
from .base import SignatureAlgorithm
from .certs import (
    CertificateInfo,
    CertificateInput,
    PublicKey,
    certificate_info,
    load_certificate,
    public_key,
)
from .profiles import DIGESTS, PROFILES, SignatureProfile, digest, profile_for
from .sm2 import Sm2PublicKey
from .trust import check_chain, check_validity

__all__ = ["AllowedAlgorithm", "VerifiedSignature", "verify", "verify_signed_info"]

#: What ``allowed_algorithms`` may list: profile names or objects, or signer algorithms (all
#: profiles of that algorithm).
AllowedAlgorithm = str | SignatureProfile | SignatureAlgorithm

_BETWEEN_TAGS = re.compile(rb">[ \t\n]+<")
_RSA_HASHES: dict[SignatureAlgorithm, hashes.HashAlgorithm] = {
    SignatureAlgorithm.RSA_SHA1: hashes.SHA1(),  # noqa: S303 - the customs RSA profile is SHA-1
    SignatureAlgorithm.RSA_SHA256: hashes.SHA256(),
}


@attrs.frozen
class VerifiedSignature:
    """What a successful :func:`verify` established.

    ``trusted_by`` says how the certificate was accepted: ``"keyinfo"`` (the certificate in the
    document, only checked for validity), ``"pinned"`` (equal to ``certificate=``) or ``"chain"``
    (issued, possibly through KeyInfo intermediates, by one of ``trusted``).
    """

    certificate: bytes = attrs.field(repr=False)
    certificate_info: CertificateInfo
    key_name: str | None
    signature_algorithm: SignatureAlgorithm
    digest_algorithm: str
    profile: str
    signature_method: str
    digest_method: str
    signed_info: bytes = attrs.field(repr=False)
    digest_value: bytes = attrs.field(repr=False)
    trusted_by: str

    @property
    def not_before(self) -> datetime:
        return self.certificate_info.not_before

    @property
    def not_after(self) -> datetime:
        return self.certificate_info.not_after

    @property
    def key_name_matches_serial(self) -> bool:
        """KeyName equals the certificate serial (customs practice; the samples' ``0001`` does not)."""
        return self.key_name == self.certificate_info.key_name


def verify_signed_info(
    key: PublicKey, algorithm: SignatureAlgorithm, signed_info: bytes, value: bytes
) -> bool:
    """Check a SignatureValue over canonical SignedInfo bytes with an RSA or SM2 key."""
    if isinstance(key, Sm2PublicKey):
        return algorithm.is_sm2 and key.verify(value, signed_info)
    if algorithm.is_sm2 or not isinstance(key, rsa.RSAPublicKey):
        return False
    try:
        key.verify(value, signed_info, padding.PKCS1v15(), _RSA_HASHES[algorithm])
    except InvalidSignature:
        return False
    return True


def _allowed(allowed: Collection[AllowedAlgorithm] | None) -> frozenset[str]:
    if allowed is None:
        return frozenset(PROFILES)
    names = set()
    for item in allowed:
        if isinstance(item, SignatureProfile):
            names.add(item.name)
        elif isinstance(item, SignatureAlgorithm):
            names.update(p.name for p in PROFILES.values() if p.signature_algorithm is item)
        elif item in PROFILES:
            names.add(item)
        else:
            raise AlgorithmNotAllowed(
                f"allowed_algorithms names an unknown profile {item!r}; known: {', '.join(PROFILES)}",
                code="verify.algorithm.config",
                reason="config",
            )
    return frozenset(names)


def _profile(parts: SignatureParts, allowed: frozenset[str]) -> SignatureProfile:
    profile = profile_for(parts.signature_method, parts.digest_method)
    if profile is None:
        raise AlgorithmNotAllowed(
            f"SignatureMethod {parts.signature_method} with DigestMethod {parts.digest_method} is not a "
            f"customs profile (known: {', '.join(PROFILES)}) (reason: unknown-algorithm)",
            code="verify.algorithm.unknown",
            field="Signature/SignedInfo",
            reason="unknown-algorithm",
        )
    if profile.name not in allowed:
        raise AlgorithmNotAllowed(
            f"profile {profile.name} is not in the allowed set ({', '.join(sorted(allowed))}) "
            "(reason: disallowed)",
            code="verify.algorithm.disallowed",
            field="Signature/SignedInfo/SignatureMethod",
            reason="disallowed",
        )
    return profile


def _signed_info_c14n(parts: SignatureParts) -> bytes:
    canonical: bytes = etree.tostring(parts.signed_info, method="c14n", with_comments=False)
    if not parts.signed_info.prefix:
        # lxml/libxml2 C14N bug with a default-namespace Signature (see module docstring).
        canonical = canonical.replace(b' xmlns=""', b"")
    return canonical


def _digest_variants(root: etree._Element, parts: SignatureParts, algorithm: str) -> tuple[bytes, bool]:
    """Detach the Signature (the enveloped transform) and digest the rest; also try the document
    without whitespace around the Signature, to tell that accident apart from a content change."""
    signature = parts.signature
    previous = signature.getprevious()
    tail = signature.tail or ""
    before = (previous.tail if previous is not None else root.text) or ""

    def digest_with(text_before: str, text_after: str) -> bytes:
        joined = (text_before + text_after) or None
        if previous is not None:
            previous.tail = joined
        else:
            root.text = joined
        return digest(algorithm, etree.tostring(root.getroottree(), method="c14n", with_comments=False))

    root.remove(signature)  # takes the tail with it; digest_with() puts the text back
    strict = digest_with(before, tail)
    if hmac.compare_digest(strict, parts.digest_value):
        return strict, False
    trimmed = before.rstrip(" \t\r\n")
    for text_before, text_after in ((before, ""), (trimmed, tail), (trimmed, "")):
        if (text_before, text_after) != (before, tail) and hmac.compare_digest(
            digest_with(text_before, text_after), parts.digest_value
        ):
            return strict, True
    return strict, False


def _key(der: bytes) -> PublicKey:
    try:
        return public_key(der)
    except CbecError as exc:
        raise CertificateNotTrusted(
            f"the certificate cannot be used: {exc.message} (reason: certificate-unreadable)",
            code="verify.certificate.unreadable",
            reason="certificate-unreadable",
        ) from None


def _reformatted(
    key: PublicKey | None, profile: SignatureProfile, parts: SignatureParts, si: bytes
) -> bool | None:
    """True: the SignatureValue verifies over the compact SignedInfo only. None: cannot tell."""
    compact = _BETWEEN_TAGS.sub(b"><", si)
    if compact == si:
        return False
    if key is None:
        return None
    return verify_signed_info(key, profile.signature_algorithm, compact, parts.signature_value)


def _choose_certificate(parts: SignatureParts, pinned: CertificateInput | None) -> tuple[bytes, str]:
    if pinned is not None:
        der = load_certificate(pinned)
        if parts.certificates and parts.certificates[0] != der:
            raise CertificateNotTrusted(
                "the certificate in KeyInfo is not the pinned certificate (reason: certificate-mismatch)",
                code="verify.certificate.mismatch",
                reason="certificate-mismatch",
            )
        return der, "pinned"
    if not parts.certificates:
        raise CertificateNotTrusted(
            "KeyInfo carries no X509Certificate and no certificate was pinned (reason: no-certificate)",
            code="verify.certificate.missing",
            reason="no-certificate",
        )
    return parts.certificates[0], "keyinfo"


def verify(
    xml: bytes,
    *,
    trusted: Sequence[CertificateInput] | None = None,
    certificate: CertificateInput | None = None,
    allowed_algorithms: Collection[AllowedAlgorithm] | None = None,
    now: datetime | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> VerifiedSignature:
    """Verify the enveloped customs signature of ``xml`` strictly; return what was verified.

    The key is the certificate in KeyInfo (default), or ``certificate`` (pinned; a different
    KeyInfo certificate is refused), and with ``trusted`` the signing certificate must chain to one
    of those. ``allowed_algorithms`` limits the profiles (names, :class:`SignatureProfile` or
    :class:`SignatureAlgorithm`); default: all of :data:`PROFILES`. The certificate must be valid
    at ``now`` (default: the current time). Raises a
    :class:`~cbec_declare.errors.VerificationError` subclass (or an
    :class:`~cbec_declare.errors.XmlError` for unreadable XML).
    """
    allowed = _allowed(allowed_algorithms)
    root = parse_untrusted(xml, max_bytes=max_bytes, what="signed document")
    parts = read_signature(root)
    profile = _profile(parts, allowed)
    if len(parts.digest_value) != DIGESTS[profile.digest]:
        raise DigestMismatch(
            f"DigestValue has {len(parts.digest_value)} bytes; {profile.digest} gives "
            f"{DIGESTS[profile.digest]} (reason: digest-length)",
            code="verify.digest.length",
            reason="digest-length",
        )
    signed_info = _signed_info_c14n(parts)  # before the Signature leaves the tree: needs its context
    der, trusted_by = _choose_certificate(parts, certificate)
    computed, digest_whitespace = _digest_variants(root, parts, profile.digest)
    if not hmac.compare_digest(computed, parts.digest_value):
        _raise_digest_failure(der, profile, parts, signed_info, digest_whitespace)
    key = _key(der)
    if isinstance(key, Sm2PublicKey) != profile.signature_algorithm.is_sm2:
        raise CertificateNotTrusted(
            f"the certificate holds {'an SM2' if isinstance(key, Sm2PublicKey) else 'an RSA'} key, but the "
            f"signature is {profile.signature_algorithm.value} (reason: key-type)",
            code="verify.certificate.key-type",
            reason="key-type",
        )
    if not verify_signed_info(key, profile.signature_algorithm, signed_info, parts.signature_value):
        if _reformatted(key, profile, parts, signed_info):
            raise _signed_info_reformatted("")
        raise SignatureMismatch(
            "the SignatureValue does not verify over SignedInfo with this certificate: SignedInfo "
            "changed after signing, or another key signed it (reason: signature)",
            code="verify.signature.mismatch",
            reason="signature",
        )
    moment = now or datetime.now(timezone.utc)
    if trusted is not None:
        anchor = check_chain(der, trusted, moment, intermediates=parts.certificates[1:])
        trusted_by = "pinned" if anchor == der else "chain"
    else:
        check_validity(der, moment, role="signing certificate")
    return VerifiedSignature(
        certificate=der,
        certificate_info=certificate_info(der),
        key_name=parts.key_name,
        signature_algorithm=profile.signature_algorithm,
        digest_algorithm=profile.digest,
        profile=profile.name,
        signature_method=profile.signature_method,
        digest_method=profile.digest_method,
        signed_info=signed_info,
        digest_value=parts.digest_value,
        trusted_by=trusted_by,
    )


def _signed_info_reformatted(extra: str) -> SignatureMismatch:
    return SignatureMismatch(
        "SignedInfo was re-formatted after signing: the SignatureValue verifies over the compact "
        f"SignedInfo, not over the whitespace-indented one in the document{extra} "
        "(reason: signed-info-reformatted)",
        code="verify.signature.reformatted",
        reason="signed-info-reformatted",
    )


def _raise_digest_failure(
    der: bytes, profile: SignatureProfile, parts: SignatureParts, signed_info: bytes, whitespace: bool
) -> None:
    try:
        key: PublicKey | None = _key(der)
    except CertificateNotTrusted:
        key = None  # the digest failure stands on its own; the diagnosis just gets shorter
    reformatted = _reformatted(key, profile, parts, signed_info)
    if reformatted:
        raise _signed_info_reformatted(
            "; whitespace was also inserted around ds:Signature, which breaks the digest"
            if whitespace
            else "; the document content also changed after signing"
        )
    note = ""
    if reformatted is None:
        note = (
            "; SignedInfo is not compact either, which breaks the signature if it was re-indented "
            "after signing"
        )
    if whitespace:
        raise DigestMismatch(
            "whitespace was inserted around ds:Signature after signing: removing the Signature element "
            "does not give back the signed document, but removing the whitespace next to it does"
            f"{note} (reason: whitespace-around-signature)",
            code="verify.digest.whitespace",
            reason="whitespace-around-signature",
        )
    raise DigestMismatch(
        f"the document changed after signing: its {profile.digest} digest differs from DigestValue{note} "
        "(reason: digest)",
        code="verify.digest.mismatch",
        reason="digest",
    )
