"""Is a signing certificate acceptable: validity period, pinning, chains to trusted certificates.

Deliberately small: customs trust is "this exact certificate" (pinned) or "issued by the customs CA"
(one or two levels). Real customs leaf certificates are RSA-1024 under ``sha1WithRSA`` or SM2 under
``SM3withSM2``, which general-purpose validators refuse (signxml/cryptography reject SHA-1 chains,
none speak SM2), so the chain walk and the certificate signature check are done here. No CRL/OCSP.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ..errors import CbecError, CertificateNotTrusted, KeyMaterialError
from .certs import CertificateInput, certificate_info, load_certificate, parsed_certificate, public_key
from .sm2 import SM2_SIGNATURE_OID, Sm2PublicKey, sm2_der_to_raw

__all__ = ["MAX_CHAIN_DEPTH", "check_chain", "check_validity", "issued_by"]

MAX_CHAIN_DEPTH: Final = 6

_RSA_CERT_HASHES: Final[dict[str, hashes.HashAlgorithm]] = {
    "1.2.840.113549.1.1.5": hashes.SHA1(),  # noqa: S303 - customs RSA cards are sha1WithRSA
    "1.2.840.113549.1.1.11": hashes.SHA256(),
    "1.2.840.113549.1.1.12": hashes.SHA384(),
    "1.2.840.113549.1.1.13": hashes.SHA512(),
}


def check_validity(der: bytes, now: datetime, *, role: str = "certificate") -> None:
    """Raise :class:`CertificateNotTrusted` unless ``now`` lies within the validity period (or the
    certificate cannot even be read)."""
    try:
        info = certificate_info(der)
    except KeyMaterialError as exc:
        problem = exc.message
    else:
        problem = ""
    if problem:
        raise CertificateNotTrusted(
            f"the {role} cannot be read: {problem}", code="verify.certificate.unreadable", reason="unreadable"
        )
    moment = now if now.tzinfo is not None else now.replace(tzinfo=timezone.utc)
    if moment < info.not_before:
        raise CertificateNotTrusted(
            f"the {role} ({info.subject}, serial {info.key_name}) is not valid before "
            f"{info.not_before.isoformat()}",
            code="verify.certificate.not-yet-valid",
            reason="not-yet-valid",
        )
    if moment > info.not_after:
        raise CertificateNotTrusted(
            f"the {role} ({info.subject}, serial {info.key_name}) expired on {info.not_after.isoformat()}",
            code="verify.certificate.expired",
            reason="expired",
        )


def issued_by(child: bytes, issuer: bytes) -> bool:
    """Whether ``issuer``'s key signed ``child`` (names must match too). RSA (SHA-1/2) and SM2."""
    cert, parent = parsed_certificate(child), parsed_certificate(issuer)
    if cert.issuer != parent.subject:
        return False
    try:
        key = public_key(issuer)
    except CbecError:
        return False
    oid = cert.signature_algorithm_oid.dotted_string
    if isinstance(key, Sm2PublicKey):
        if oid != SM2_SIGNATURE_OID:
            return False
        try:
            raw = sm2_der_to_raw(cert.signature)
        except CbecError:
            return False
        return key.verify(raw, cert.tbs_certificate_bytes)
    if oid not in _RSA_CERT_HASHES or not isinstance(key, rsa.RSAPublicKey):
        return False
    try:
        key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), _RSA_CERT_HASHES[oid])
    except InvalidSignature:
        return False
    return True


def _is_ca(der: bytes) -> bool:
    try:
        constraints = parsed_certificate(der).extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return False
    return bool(constraints.ca)


def check_chain(
    leaf: bytes,
    trusted: Sequence[CertificateInput],
    now: datetime,
    *,
    intermediates: Sequence[bytes] = (),
) -> bytes:
    """Walk from ``leaf`` to one of ``trusted`` (through ``intermediates``); return the anchor DER.

    A trusted certificate that equals the leaf is accepted as pinned. Every certificate on the
    path must be valid at ``now``; intermediates must be CA certificates. Raises
    :class:`CertificateNotTrusted` (``reason="untrusted"``) when no path exists.
    """
    anchors = [load_certificate(item) for item in trusted]
    check_validity(leaf, now, role="signing certificate")
    if leaf in anchors:
        return leaf
    current, used = leaf, {leaf}
    for _ in range(MAX_CHAIN_DEPTH):
        for anchor in anchors:
            if issued_by(current, anchor):
                check_validity(anchor, now, role="trusted certificate")
                return anchor
        step = next(
            (c for c in intermediates if c not in used and _is_ca(c) and issued_by(current, c)),
            None,
        )
        if step is None:
            break
        check_validity(step, now, role="intermediate certificate")
        used.add(step)
        current = step
    info = certificate_info(leaf)
    raise CertificateNotTrusted(
        f"the signing certificate ({info.subject}, serial {info.key_name}, issuer {info.issuer}) "
        "does not chain to a trusted certificate",
        code="verify.certificate.untrusted",
        reason="untrusted",
    )
