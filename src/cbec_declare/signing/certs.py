"""X.509 certificates as customs uses them: loading, facts, public keys.

Customs certificates come in two kinds: RSA (old operator cards, often RSA-1024 under a
``sha1WithRSA`` CA signature) and SM2 (the 202205 cards, ``SM3withSM2``). cryptography parses both,
but cannot give the public key of an SM2 certificate, so the SM2 point is read from the
SubjectPublicKeyInfo with asn1crypto (:mod:`cbec_declare.signing.sm2`).

Everything here takes a certificate as DER, PEM, bare base64 (as in ``ds:X509Certificate``) or a
``cryptography.x509.Certificate`` and works on DER internally.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Final

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ..errors import KeyMaterialError, UnsupportedAlgorithm
from .base import key_name_from_serial
from .sm2 import SM2_CURVE_OID, SM2_SIGNATURE_OID, Sm2PublicKey, sm2_point_from_spki

__all__ = [
    "SIGNATURE_ALGORITHM_NAMES",
    "CertificateInfo",
    "CertificateInput",
    "PublicKey",
    "certificate_info",
    "certificate_pem",
    "load_certificate",
    "parsed_certificate",
    "public_key",
]

#: What a caller may hand in as a certificate.
CertificateInput = bytes | bytearray | str | x509.Certificate
#: A verification key: RSA via cryptography, SM2 via :class:`Sm2PublicKey`.
PublicKey = rsa.RSAPublicKey | Sm2PublicKey

#: Certificate signature algorithms by OID, named as customs documents name them.
SIGNATURE_ALGORITHM_NAMES: Final[Mapping[str, str]] = {
    "1.2.840.113549.1.1.4": "md5WithRSA",
    "1.2.840.113549.1.1.5": "sha1WithRSA",
    "1.2.840.113549.1.1.11": "sha256WithRSA",
    "1.2.840.113549.1.1.12": "sha384WithRSA",
    "1.2.840.113549.1.1.13": "sha512WithRSA",
    "1.2.840.10045.4.3.2": "ecdsa-with-SHA256",
    "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
    SM2_SIGNATURE_OID: "SM3withSM2",
}

_PEM_BLOCK = re.compile(rb"-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE-----(.+?)-----END", re.DOTALL)
_BASE64_TEXT = re.compile(rb"^[A-Za-z0-9+/=\s]+$")
# Real certificates are 0.5–3 KB; a limit keeps a hostile KeyInfo from costing memory and time.
_MAX_CERTIFICATE_BYTES: Final = 64 * 1024


@attrs.frozen
class CertificateInfo:
    """What a certificate says, in the terms customs uses.

    ``key_name`` is the serial as ``ds:KeyName`` and the 179 ``certNo`` want it (lower-case hex,
    zero-padded to whole bytes). ``key_algorithm`` is ``"rsa"``, ``"sm2"`` or ``"ec"``.
    Datetimes are timezone-aware (UTC).
    """

    der: bytes = attrs.field(repr=False)
    serial: int
    key_name: str
    key_algorithm: str
    key_size: int
    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime
    signature_algorithm: str
    signature_algorithm_oid: str
    sha256_fingerprint: str

    def is_valid_at(self, when: datetime) -> bool:
        """Whether ``when`` (aware, or naive meaning UTC) lies within the validity period."""
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return self.not_before <= when <= self.not_after

    @property
    def is_self_issued(self) -> bool:
        return self.subject == self.issuer


def load_certificate(data: CertificateInput) -> bytes:
    """Any certificate form → DER bytes, checked to parse as X.509.

    Accepts DER, PEM (the first CERTIFICATE block), bare base64 with or without line breaks (as in
    ``ds:X509Certificate`` or ``cus-sec_SpcGetSignCert``), or a ``cryptography`` certificate.
    Raises :class:`~cbec_declare.errors.KeyMaterialError` saying what was wrong.
    """
    if isinstance(data, x509.Certificate):
        return data.public_bytes(serialization.Encoding.DER)
    if isinstance(data, str):
        raw = data.encode("utf-8", "replace")
    elif isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
    else:
        raise KeyMaterialError(
            f"a certificate must be bytes, str or x509.Certificate, got {type(data).__name__}",
            code="sign.key.certificate.type",
        )
    if len(raw) > _MAX_CERTIFICATE_BYTES * 2:
        raise KeyMaterialError(
            f"certificate input is {len(raw)} bytes; the limit is {_MAX_CERTIFICATE_BYTES * 2}",
            code="sign.key.certificate.size",
        )
    der = _to_der(raw)
    parsed_certificate(der)
    return der


def _to_der(raw: bytes) -> bytes:
    if raw[:1] == b"\x30":  # DER always starts with SEQUENCE
        return raw
    pem = _PEM_BLOCK.search(raw)
    text = pem.group(1) if pem else raw.strip()
    if not text or _BASE64_TEXT.match(text) is None:
        raise KeyMaterialError(
            "certificate is neither DER, PEM nor base64", code="sign.key.certificate.format"
        )
    try:
        return base64.b64decode(b"".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise KeyMaterialError(
            "certificate base64 is malformed (bad padding or length)", code="sign.key.certificate.base64"
        ) from None


@functools.lru_cache(maxsize=256)
def parsed_certificate(der: bytes) -> x509.Certificate:
    """DER → cryptography certificate (cached: a verifier sees the same few certificates often)."""
    try:
        return x509.load_der_x509_certificate(der)
    except (ValueError, x509.InvalidVersion) as exc:  # InvalidVersion is not a ValueError
        raise KeyMaterialError(
            f"certificate is not valid X.509 DER ({len(der)} bytes): {exc}",
            code="sign.key.certificate.der",
        ) from None


def certificate_pem(data: CertificateInput) -> bytes:
    """The certificate as PEM text (for tools such as ``xmlsec1 --pubkey-cert-pem``)."""
    return parsed_certificate(load_certificate(data)).public_bytes(serialization.Encoding.PEM)


def certificate_info(data: CertificateInput) -> CertificateInfo:
    """Facts about a certificate (RSA or SM2); see :class:`CertificateInfo`."""
    return _info(load_certificate(data))


@functools.lru_cache(maxsize=256)
def _info(der: bytes) -> CertificateInfo:
    cert = parsed_certificate(der)
    algorithm, size = _key_kind(der)
    # cryptography reads names, validity and keys lazily: a malformed field raises only when it is read.
    try:
        return _facts(der, cert, algorithm, size)
    except ValueError as exc:
        problem = str(exc)[:200]
    raise KeyMaterialError(f"certificate has a malformed field: {problem}", code="sign.key.certificate.field")


def _facts(der: bytes, cert: x509.Certificate, algorithm: str, size: int) -> CertificateInfo:
    oid = cert.signature_algorithm_oid.dotted_string
    return CertificateInfo(
        der=der,
        serial=cert.serial_number,
        key_name=key_name_from_serial(cert.serial_number),
        key_algorithm=algorithm,
        key_size=size,
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        signature_algorithm=SIGNATURE_ALGORITHM_NAMES.get(oid, oid),
        signature_algorithm_oid=oid,
        sha256_fingerprint=hashlib.sha256(der).hexdigest(),
    )


@functools.lru_cache(maxsize=256)
def _spki(der: bytes) -> bytes:
    # cryptography cannot hand out an SM2 key, so the SubjectPublicKeyInfo is read with asn1crypto.
    from asn1crypto import x509 as asn1_x509

    try:
        dumped: bytes = asn1_x509.Certificate.load(der)["tbs_certificate"]["subject_public_key_info"].dump()
    except (ValueError, TypeError, KeyError) as exc:
        raise KeyMaterialError(
            f"certificate SubjectPublicKeyInfo cannot be read: {exc}", code="sign.key.certificate.spki"
        ) from None
    return dumped


def _key_kind(der: bytes) -> tuple[str, int]:
    try:
        return _read_key_kind(der)
    except ValueError as exc:  # a malformed SubjectPublicKeyInfo is found only when the key is read
        problem = str(exc)[:200]
    raise KeyMaterialError(f"certificate public key is malformed: {problem}", code="sign.key.certificate.key")


def _read_key_kind(der: bytes) -> tuple[str, int]:
    cert = parsed_certificate(der)
    oid = cert.public_key_algorithm_oid.dotted_string
    if oid == "1.2.840.113549.1.1.1":
        key = cert.public_key()
        assert isinstance(key, rsa.RSAPublicKey)
        return "rsa", key.key_size
    if oid in ("1.2.840.10045.2.1", SM2_CURVE_OID):
        if oid == SM2_CURVE_OID or _curve_oid(_spki(der)) == SM2_CURVE_OID:
            return "sm2", 256
        key = cert.public_key()
        assert isinstance(key, ec.EllipticCurvePublicKey)
        return "ec", key.key_size
    return oid, 0


def _curve_oid(spki: bytes) -> str | None:
    from asn1crypto import keys

    try:
        info = keys.PublicKeyInfo.load(spki)
        params = info["algorithm"]["parameters"]
        return None if params.native is None else str(params.chosen.dotted)
    except (ValueError, TypeError, AttributeError):
        return None


def public_key(data: CertificateInput) -> PublicKey:
    """The certificate's public key: an RSA key (cryptography) or an :class:`Sm2PublicKey`.

    Raises :class:`~cbec_declare.errors.UnsupportedAlgorithm` for other key types (customs uses
    only RSA and SM2).
    """
    return _public_key(load_certificate(data))


@functools.lru_cache(maxsize=256)
def _public_key(der: bytes) -> PublicKey:
    kind, _ = _key_kind(der)
    if kind == "rsa":
        key = parsed_certificate(der).public_key()
        assert isinstance(key, rsa.RSAPublicKey)
        return key
    if kind == "sm2":
        return Sm2PublicKey(sm2_point_from_spki(_spki(der)))
    raise UnsupportedAlgorithm(
        f"certificate key type {kind!r} is not used by customs (RSA or SM2 expected)",
        code="sign.algorithm.key",
    )
