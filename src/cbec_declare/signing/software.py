"""Signing with a private key held in memory: files, PKCS#12, or a throwaway generated key.

For servers with a software certificate, for the sandbox and for tests. RSA keys go through
cryptography; SM2 keys through :mod:`cbec_declare.signing.sm2` (tongsuopy). The key never appears
in ``repr()``, logs or exception messages, and a password is used once and not kept.
"""

from __future__ import annotations

import os
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm as CryptoUnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from ..errors import KeyMaterialError, UnsupportedAlgorithm
from . import _certbuilder
from .base import SignatureAlgorithm, SignerIdentity
from .certs import CertificateInfo, CertificateInput, certificate_info, certificate_pem, load_certificate
from .certs import public_key as certificate_public_key
from .sm2 import SM2_SIGNATURE_OID, Sm2PrivateKey, Sm2PublicKey, sm2_raw_to_der

__all__ = ["PrivateKey", "SoftwareSigner"]

#: The private keys a :class:`SoftwareSigner` can hold.
PrivateKey = rsa.RSAPrivateKey | Sm2PrivateKey
Password = bytes | str | None

_RSA_HASHES: dict[SignatureAlgorithm, hashes.HashAlgorithm] = {
    SignatureAlgorithm.RSA_SHA1: hashes.SHA1(),  # noqa: S303 - the customs RSA profile is SHA-1
    SignatureAlgorithm.RSA_SHA256: hashes.SHA256(),
}
_CERT_RSA_OIDS = {"sha1": "1.2.840.113549.1.1.5", "sha256": "1.2.840.113549.1.1.11"}


def _secret(password: Password) -> bytes | None:
    if password is None or password in (b"", ""):
        return None
    return password.encode("utf-8") if isinstance(password, str) else bytes(password)


def _load_key(data: bytes, password: Password) -> PrivateKey:
    """PEM or DER, RSA or SM2; the SM2 attempt only runs when cryptography rejects the curve."""
    secret = _secret(password)
    is_pem = data.lstrip()[:5] == b"-----"
    loader = serialization.load_pem_private_key if is_pem else serialization.load_der_private_key
    try:
        key = loader(data, secret)
    except CryptoUnsupportedAlgorithm:
        return Sm2PrivateKey.load(data, secret)
    except (ValueError, TypeError) as exc:
        # Tongsuo encrypts SM2 PKCS#8 with SM4, which cryptography cannot decrypt: try SM2 next.
        try:
            return Sm2PrivateKey.load(data, secret)
        except (KeyMaterialError, UnsupportedAlgorithm):
            pass
        # cryptography's text names the failure ("Bad decrypt", "not encrypted"), never the secret;
        # the type is enough and keeps the message free of anything read from the key.
        raise KeyMaterialError(
            f"private key cannot be loaded ({type(exc).__name__}): wrong or missing password, "
            "or not a PEM/DER private key",
            code="sign.key.load",
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise UnsupportedAlgorithm(
            f"{type(key).__name__} keys are not used by customs; RSA or SM2 expected",
            code="sign.algorithm.key",
        )
    return key


def _default_algorithm(key: PrivateKey) -> SignatureAlgorithm:
    return SignatureAlgorithm.SM2_SM3 if isinstance(key, Sm2PrivateKey) else SignatureAlgorithm.RSA_SHA1


class SoftwareSigner(SignerIdentity):
    """A :class:`~cbec_declare.signing.base.Signer` over an in-memory RSA or SM2 private key.

    ``algorithm`` defaults from the key: RSA → ``rsa-sha1`` (the customs default), SM2 → ``sm2-sm3``.
    ``key_name`` defaults to the certificate serial in lower-case hex. The key must belong to the
    certificate (checked at construction).
    """

    __slots__ = ("_algorithm", "_certificate", "_info", "_key", "_key_name")

    def __init__(
        self,
        private_key: PrivateKey,
        certificate: CertificateInput,
        *,
        algorithm: SignatureAlgorithm | str | None = None,
        key_name: str | None = None,
    ) -> None:
        if not isinstance(private_key, (rsa.RSAPrivateKey, Sm2PrivateKey)):
            raise UnsupportedAlgorithm(
                f"{type(private_key).__name__} is not an RSA or SM2 private key", code="sign.algorithm.key"
            )
        chosen = (
            _default_algorithm(private_key) if algorithm is None else SignatureAlgorithm.coerce(algorithm)
        )
        if chosen.is_sm2 != isinstance(private_key, Sm2PrivateKey):
            kind = "an SM2" if isinstance(private_key, Sm2PrivateKey) else "an RSA"
            raise UnsupportedAlgorithm(
                f"algorithm {chosen.value} does not fit {kind} key",
                code="sign.algorithm.mismatch",
            )
        der = load_certificate(certificate)
        _check_pair(private_key, der)
        self._key = private_key
        self._algorithm = chosen
        self._certificate = der
        self._info = certificate_info(der)
        self._key_name = self._info.key_name if key_name is None else key_name

    # -- Signer protocol -------------------------------------------------------------------------

    def sign(self, data: bytes) -> bytes:
        """PKCS#1 v1.5 over SHA-1/SHA-256 of ``data`` (RSA), or raw ``r‖s`` over SM3(Z‖data) (SM2)."""
        if isinstance(self._key, Sm2PrivateKey):
            return self._key.sign(data)
        return self._key.sign(bytes(data), padding.PKCS1v15(), _RSA_HASHES[self._algorithm])

    # -- extras ----------------------------------------------------------------------------------

    @property
    def certificate_info(self) -> CertificateInfo:
        return self._info

    def certificate_pem(self) -> bytes:
        return certificate_pem(self._certificate)

    def private_key_pem(self, password: Password = None) -> bytes:
        """Export the key as PKCS#8 PEM (encrypted when ``password`` is given), e.g. to load it
        into a SoftHSM2 token in tests. The one deliberate way the key leaves this object."""
        secret = _secret(password)
        if isinstance(self._key, Sm2PrivateKey):
            return self._key.private_bytes(pem=True, password=secret)
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(secret) if secret else serialization.NoEncryption()
        )
        return self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    def __repr__(self) -> str:
        return (
            f"SoftwareSigner(algorithm={self._algorithm.value!r}, key_name={self._key_name!r}, "
            f"subject={self._info.subject!r})"
        )

    def __reduce__(self) -> Any:
        raise TypeError("SoftwareSigner cannot be pickled: it holds a private key")

    # -- constructors ----------------------------------------------------------------------------

    @classmethod
    def from_pem(
        cls,
        key: bytes,
        certificate: CertificateInput,
        *,
        password: Password = None,
        algorithm: SignatureAlgorithm | str | None = None,
        key_name: str | None = None,
    ) -> SoftwareSigner:
        """From key bytes (PEM or DER; PKCS#8, PKCS#1 or SEC1; encrypted with ``password``) and a
        certificate (PEM, DER or base64)."""
        return cls(_load_key(bytes(key), password), certificate, algorithm=algorithm, key_name=key_name)

    @classmethod
    def from_files(
        cls,
        key_path: str | os.PathLike[str],
        cert_path: str | os.PathLike[str] | None = None,
        *,
        password: Password = None,
        algorithm: SignatureAlgorithm | str | None = None,
        key_name: str | None = None,
    ) -> SoftwareSigner:
        """From a key file and a certificate file. Without ``cert_path`` the key file must be a
        PKCS#12 (``.p12``/``.pfx``) or a PEM file holding both the key and the certificate."""
        key_data = _read(key_path, "key")
        if cert_path is None:
            if key_data.lstrip()[:5] != b"-----":
                return cls.from_pkcs12(key_data, password, algorithm=algorithm, key_name=key_name)
            if b"CERTIFICATE-----" not in key_data:
                raise KeyMaterialError(
                    f"{os.fspath(key_path)} holds no certificate; pass cert_path",
                    code="sign.key.certificate.missing",
                )
            return cls.from_pem(key_data, key_data, password=password, algorithm=algorithm, key_name=key_name)
        return cls.from_pem(
            key_data,
            _read(cert_path, "certificate"),
            password=password,
            algorithm=algorithm,
            key_name=key_name,
        )

    @classmethod
    def from_pkcs12(
        cls,
        source: bytes | str | os.PathLike[str],
        password: Password,
        *,
        algorithm: SignatureAlgorithm | str | None = None,
        key_name: str | None = None,
    ) -> SoftwareSigner:
        """From a PKCS#12 file (path) or its bytes, with its password. RSA keys only: cryptography
        cannot open SM2 PKCS#12 files (export SM2 keys as PEM instead)."""
        data = bytes(source) if isinstance(source, (bytes, bytearray)) else _read(source, "PKCS#12")
        try:
            key, cert, _ = pkcs12.load_key_and_certificates(data, _secret(password))
        except CryptoUnsupportedAlgorithm:
            raise UnsupportedAlgorithm(
                "this PKCS#12 holds a key cryptography cannot load (SM2?); export the key as PEM",
                code="sign.algorithm.pkcs12",
            ) from None
        except (ValueError, TypeError) as exc:
            raise KeyMaterialError(
                f"PKCS#12 cannot be opened ({type(exc).__name__}): wrong password or not PKCS#12",
                code="sign.key.pkcs12",
            ) from None
        if key is None or cert is None:
            raise KeyMaterialError(
                "PKCS#12 must hold both a private key and its certificate", code="sign.key.pkcs12"
            )
        if not isinstance(key, rsa.RSAPrivateKey):
            raise UnsupportedAlgorithm(
                f"PKCS#12 holds a {type(key).__name__}; RSA or SM2 expected", code="sign.algorithm.key"
            )
        return cls(key, cert, algorithm=algorithm, key_name=key_name)

    @classmethod
    def generate(
        cls,
        algorithm: SignatureAlgorithm | str = SignatureAlgorithm.RSA_SHA1,
        *,
        bits: int = 2048,
        common_name: str = "cbec-declare test signer",
        organization: str | None = None,
        days: int = 365,
        not_before: datetime | None = None,
        serial: int | None = None,
        key_name: str | None = None,
        issuer: SoftwareSigner | None = None,
        is_ca: bool = False,
        signature_hash: str = "sha256",
    ) -> SoftwareSigner:
        """A fresh key and certificate, for tests and the sandbox (never for customs).

        Self-signed unless ``issuer`` (another generated signer, e.g. a test CA with
        ``is_ca=True``) signs it. ``bits`` applies to RSA. ``signature_hash`` is the hash of an RSA
        issuer's certificate signature: ``"sha1"`` mimics the old customs RSA cards.
        """
        chosen = SignatureAlgorithm.coerce(algorithm)
        if days <= 0:
            raise KeyMaterialError(f"days must be positive, got {days}", code="sign.key.generate")
        key: PrivateKey
        if chosen.is_sm2:
            key = Sm2PrivateKey.generate()
            spki = key.public_key.spki()
        else:
            if bits < 1024 or bits > 8192:
                raise KeyMaterialError(f"RSA bits must be 1024..8192, got {bits}", code="sign.key.generate")
            key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
            spki = key.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        start = (not_before or datetime.now(timezone.utc) - timedelta(minutes=5)).astimezone(timezone.utc)
        subject = _certbuilder.name(common_name, organization)
        number = serial if serial is not None else secrets.randbits(63) | (1 << 62)
        if issuer is None:
            sign_tbs, oid = _tbs_signer(key, signature_hash)
            issuer_name, issuer_spki = subject, None
        else:
            sign_tbs, oid = _tbs_signer(issuer._key, signature_hash)
            issuer_name = _subject_of(issuer._certificate)
            issuer_spki = _spki_of(issuer._certificate)
        der = _certbuilder.build_certificate(
            subject=subject,
            issuer=issuer_name,
            spki=spki,
            serial=number,
            not_before=start,
            not_after=start + timedelta(days=days),
            is_ca=is_ca,
            signature_oid=oid,
            sign=sign_tbs,
            issuer_spki=issuer_spki,
        )
        return cls(key, der, algorithm=chosen, key_name=key_name)


def _tbs_signer(key: PrivateKey, signature_hash: str) -> tuple[Any, str]:
    if isinstance(key, Sm2PrivateKey):
        return (lambda tbs: sm2_raw_to_der(key.sign(tbs))), SM2_SIGNATURE_OID
    if signature_hash not in _CERT_RSA_OIDS:
        raise KeyMaterialError(
            f"signature_hash must be one of {sorted(_CERT_RSA_OIDS)}, got {signature_hash!r}",
            code="sign.key.generate",
        )
    # SHA-1 only on request, to mimic the customs RSA-1024 cards' sha1WithRSA certificates.
    chosen = hashes.SHA1() if signature_hash == "sha1" else hashes.SHA256()  # noqa: S303
    return (lambda tbs: key.sign(tbs, padding.PKCS1v15(), chosen)), _CERT_RSA_OIDS[signature_hash]


def _subject_of(der: bytes) -> Any:
    from asn1crypto import x509 as asn1_x509

    return asn1_x509.Certificate.load(der)["tbs_certificate"]["subject"]


def _spki_of(der: bytes) -> bytes:
    from asn1crypto import x509 as asn1_x509

    dumped: bytes = asn1_x509.Certificate.load(der)["tbs_certificate"]["subject_public_key_info"].dump()
    return dumped


def _check_pair(key: PrivateKey, certificate: bytes) -> None:
    try:
        cert_key = certificate_public_key(certificate)
    except UnsupportedAlgorithm as exc:
        raise KeyMaterialError(exc.message, code="sign.key.certificate") from None
    if isinstance(key, Sm2PrivateKey):
        matches = isinstance(cert_key, Sm2PublicKey) and cert_key == key.public_key
    else:
        matches = (
            isinstance(cert_key, rsa.RSAPublicKey)
            and cert_key.public_numbers() == key.public_key().public_numbers()
        )
    if not matches:
        raise KeyMaterialError("the private key does not belong to the certificate", code="sign.key.mismatch")


def _read(path: str | os.PathLike[str], what: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise KeyMaterialError(
            f"{what} file {os.fspath(path)!r} cannot be read: {exc.strerror}", code="sign.key.file"
        ) from None
