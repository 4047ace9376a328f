"""A minimal X.509 v3 certificate writer (asn1crypto), for throwaway test and sandbox certificates.

cryptography's ``CertificateBuilder`` cannot take an SM2 public key nor sign with an SM2 key, so the
TBSCertificate is written here and signed by any ``bytes -> signature`` callable. RSA and SM2 keys,
RSA and SM2 issuers: one code path. Not for production PKI.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timezone

from asn1crypto import algos, core, keys, x509

__all__ = ["build_certificate", "name"]

_SIGNATURE_PARAMS = {
    # RSA PKCS#1 v1.5 AlgorithmIdentifiers carry an explicit NULL; ECDSA/SM2 ones carry nothing.
    "1.2.840.113549.1.1.5": True,
    "1.2.840.113549.1.1.11": True,
    "1.2.156.10197.1.501": False,
}


def name(common_name: str, organization: str | None = None, country: str | None = "CN") -> x509.Name:
    """An X.501 name with UTF8String values (CN, and O and C when given)."""
    parts: dict[str, str] = {}
    if country:
        parts["country_name"] = country
    if organization:
        parts["organization_name"] = organization
    parts["common_name"] = common_name
    built: x509.Name = x509.Name.build(parts, use_printable=False)
    return built


def _time(moment: datetime) -> x509.Time:
    moment = moment.astimezone(timezone.utc).replace(microsecond=0)
    # RFC 5280: UTCTime through 2049, GeneralizedTime from 2050.
    if moment.year < 2050:
        return x509.Time(name="utc_time", value=moment)
    return x509.Time(name="general_time", value=moment)


def build_certificate(
    *,
    subject: x509.Name,
    issuer: x509.Name,
    spki: bytes,
    serial: int,
    not_before: datetime,
    not_after: datetime,
    is_ca: bool,
    signature_oid: str,
    sign: Callable[[bytes], bytes],
    issuer_spki: bytes | None = None,
) -> bytes:
    """A DER certificate. ``sign`` receives the TBSCertificate DER and returns the signature bits
    exactly as X.509 carries them (RSA: PKCS#1 v1.5 bytes; SM2: DER ``SEQUENCE {r, s}``)."""
    public_info = keys.PublicKeyInfo.load(spki)
    # RFC 5280 §4.2.1.2 method 1: the key identifier is the SHA-1 of the public key bits.
    key_id = hashlib.sha1(bytes(public_info["public_key"]), usedforsecurity=False).digest()
    algorithm = algos.SignedDigestAlgorithm(
        {"algorithm": signature_oid, "parameters": core.Null() if _SIGNATURE_PARAMS[signature_oid] else None}
    )
    usage = {"key_cert_sign", "crl_sign"} if is_ca else {"digital_signature", "non_repudiation"}
    extensions = [
        x509.Extension({"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": is_ca}}),
        x509.Extension({"extn_id": "key_usage", "critical": True, "extn_value": usage}),
        x509.Extension({"extn_id": "key_identifier", "critical": False, "extn_value": key_id}),
    ]
    if issuer_spki is not None:
        issuer_bits = bytes(keys.PublicKeyInfo.load(issuer_spki)["public_key"])
        issuer_key_id = hashlib.sha1(issuer_bits, usedforsecurity=False).digest()
        extensions.append(
            x509.Extension(
                {
                    "extn_id": "authority_key_identifier",
                    "critical": False,
                    "extn_value": {"key_identifier": issuer_key_id},
                }
            )
        )
    tbs = x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": serial,
            "signature": algorithm,
            "issuer": issuer,
            "validity": {"not_before": _time(not_before), "not_after": _time(not_after)},
            "subject": subject,
            "subject_public_key_info": public_info,
            "extensions": extensions,
        }
    )
    signature = sign(tbs.dump())
    certificate = x509.Certificate(
        {"tbs_certificate": tbs, "signature_algorithm": algorithm, "signature_value": signature}
    )
    der: bytes = certificate.dump()
    return der
