"""The one seam for signing backends: the :class:`Signer` protocol.

A signer turns bytes into a signature with one key whose certificate it knows. It does its own
hashing, as the customs cards do (``cus-sec_SpcSignDataAsPEM`` takes the text to sign): RSA signers
return the PKCS#1 v1.5 signature over SHA-1 or SHA-256 of ``data``; SM2 signers return the raw
``r‖s`` (64 bytes) over SM3(Z‖data) with the default user ID ``1234567812345678``.

Backends: :class:`~cbec_declare.signing.software.SoftwareSigner`,
:class:`~cbec_declare.signing.pkcs11.Pkcs11Signer`, :class:`~cbec_declare.signing.eport.EportClientSigner`,
:class:`~cbec_declare.signing.callable.CallableSigner`.
"""

from __future__ import annotations

import enum
from typing import Protocol, runtime_checkable

from ..errors import ConfigError

__all__ = ["SM2_DEFAULT_USER_ID", "SignatureAlgorithm", "Signer", "SignerIdentity", "key_name_from_serial"]

#: GM/T 0009 default signer ID, used by every customs SM2 card.
SM2_DEFAULT_USER_ID = b"1234567812345678"


class SignatureAlgorithm(str, enum.Enum):
    """What a signer computes over ``data``."""

    RSA_SHA1 = "rsa-sha1"  # RSASSA-PKCS1-v1_5 with SHA-1 (customs default for RSA cards)
    RSA_SHA256 = "rsa-sha256"  # RSASSA-PKCS1-v1_5 with SHA-256 (SPEC 2018 option)
    SM2_SM3 = "sm2-sm3"  # SM2 over SM3(Z‖M), raw r‖s

    @property
    def is_sm2(self) -> bool:
        return self is SignatureAlgorithm.SM2_SM3

    @classmethod
    def coerce(cls, value: SignatureAlgorithm | str) -> SignatureAlgorithm:
        """Accept a member, its value (``"rsa-sha1"``) or its name (``"RSA_SHA1"``)."""
        if isinstance(value, SignatureAlgorithm):
            return value
        for member in cls:
            if value in (member.value, member.name):
                return member
        raise ConfigError(
            f"unknown signature algorithm {value!r}; expected one of {', '.join(m.value for m in cls)}",
            code="config.algorithm",
        )


@runtime_checkable
class Signer(Protocol):
    """Anything that can sign bytes for customs.

    ``certificate`` is the signing certificate, DER-encoded; ``key_name`` is what goes in
    ``ds:KeyName`` and in the 179 ``certNo`` (by default the certificate serial in lower-case hex).
    Implementations must never put PINs or key material in ``repr()``, logs or exceptions.
    """

    @property
    def algorithm(self) -> SignatureAlgorithm: ...

    @property
    def certificate(self) -> bytes: ...

    @property
    def key_name(self) -> str: ...

    def sign(self, data: bytes) -> bytes: ...


class SignerIdentity:
    """The read-only part of :class:`Signer` every backend shares: set ``_algorithm``, ``_certificate``
    and ``_key_name`` in ``__init__`` and these properties expose them."""

    __slots__ = ()

    _algorithm: SignatureAlgorithm
    _certificate: bytes
    _key_name: str

    @property
    def algorithm(self) -> SignatureAlgorithm:
        return self._algorithm

    @property
    def certificate(self) -> bytes:
        return self._certificate

    @property
    def key_name(self) -> str:
        return self._key_name


def key_name_from_serial(serial: int) -> str:
    """Certificate serial as customs writes it: lower-case hex, zero-padded to whole bytes.

    >>> key_name_from_serial(0x1691F7F)
    '01691f7f'
    >>> key_name_from_serial(0x03000000000CDE6F)
    '03000000000cde6f'
    """
    text = format(serial, "x")
    return text.zfill(len(text) + len(text) % 2)
