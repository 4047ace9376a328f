"""Signature profiles: the algorithm URIs a customs signature carries, as data.

The customs XMLDSig profile is fixed (inclusive C14N 1.0, one Reference ``URI=""``, one enveloped
Transform, KeyName + X509Certificate); only the SignatureMethod/DigestMethod pair varies, and for
SM2 the spec and practice disagree (signature-dxp-179-receipts.md §A.3). Each named profile pins one
pair; the spec's SM2 URIs are the SM2 default, the practice variant is one name away.

====================  ============================================  ===============================
name                  SignatureMethod                               DigestMethod (digest)
====================  ============================================  ===============================
``rsa-sha1``          ``xmldsig#rsa-sha1``                          ``xmldsig#sha1`` (SHA-1)
``rsa-sha256``        ``xmldsig-more#rsa-sha256``                   ``xmlenc#sha256`` (SHA-256)
``sm2-sm3``           ``chinaport.gov.cn/2022/04/xmldsig#sm2-sm3``  ``…/2022/04/xmldsig#sm3`` (SM3)
``sm2-sm3-w3c-sha1``  ``xmldsig#sm2-sm3`` (practice)                ``xmldsig#sha1`` (SHA-1)
====================  ============================================  ===============================
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

import attrs

from ..errors import ConfigError, UnsupportedAlgorithm
from .base import SignatureAlgorithm
from .sm2 import sm3

__all__ = [
    "C14N_URI",
    "DEFAULT_PROFILES",
    "DIGESTS",
    "ENVELOPED_URI",
    "PROFILES",
    "RSA_SHA1",
    "RSA_SHA256",
    "SM2_SM3",
    "SM2_SM3_W3C_SHA1",
    "SignatureProfile",
    "digest",
    "profile_for",
    "resolve_profile",
]

C14N_URI: Final = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
ENVELOPED_URI: Final = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"

_W3C: Final = "http://www.w3.org/2000/09/xmldsig#"
_CHINAPORT: Final = "http://www.chinaport.gov.cn/2022/04/xmldsig#"

#: Digest functions by name. SHA-1 is what customs uses for RSA (and SM2 in practice).
DIGESTS: Final[Mapping[str, int]] = MappingProxyType({"sha1": 20, "sha256": 32, "sm3": 32})


def digest(name: str, data: bytes) -> bytes:
    """Hash ``data`` with the named digest (``sha1``, ``sha256``, ``sm3``)."""
    if name == "sha1":
        return hashlib.sha1(data).digest()  # noqa: S324 - the customs RSA profile digests with SHA-1
    if name == "sha256":
        return hashlib.sha256(data).digest()
    if name == "sm3":
        return sm3(data)
    raise UnsupportedAlgorithm(f"unknown digest {name!r}", code="sign.algorithm.digest")


@attrs.frozen
class SignatureProfile:
    """One SignatureMethod/DigestMethod pair and the signer algorithm it needs."""

    name: str
    signature_algorithm: SignatureAlgorithm
    signature_method: str
    digest_method: str
    digest: str
    description: str = attrs.field(default="", eq=False)

    def __attrs_post_init__(self) -> None:
        if self.digest not in DIGESTS:
            raise ConfigError(f"profile {self.name}: unknown digest {self.digest!r}", code="config.profile")


RSA_SHA1: Final = SignatureProfile(
    name="rsa-sha1",
    signature_algorithm=SignatureAlgorithm.RSA_SHA1,
    signature_method=_W3C + "rsa-sha1",
    digest_method=_W3C + "sha1",
    digest="sha1",
    description="RSA PKCS#1 v1.5 + SHA-1: the customs default for RSA cards (SPEC §6.2.1.2)",
)
RSA_SHA256: Final = SignatureProfile(
    name="rsa-sha256",
    signature_algorithm=SignatureAlgorithm.RSA_SHA256,
    signature_method="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    digest_method="http://www.w3.org/2001/04/xmlenc#sha256",
    digest="sha256",
    description="RSA PKCS#1 v1.5 + SHA-256 (RFC 6931 URIs)",
)
SM2_SM3: Final = SignatureProfile(
    name="sm2-sm3",
    signature_algorithm=SignatureAlgorithm.SM2_SM3,
    signature_method=_CHINAPORT + "sm2-sm3",
    digest_method=_CHINAPORT + "sm3",
    digest="sm3",
    description="SM2/SM3 with the 202205 spec's URIs and an SM3 digest (SPEC §6.2.1.2-3)",
)
SM2_SM3_W3C_SHA1: Final = SignatureProfile(
    name="sm2-sm3-w3c-sha1",
    signature_algorithm=SignatureAlgorithm.SM2_SM3,
    signature_method=_W3C + "sm2-sm3",
    digest_method=_W3C + "sha1",
    digest="sha1",
    description="SM2/SM3 as the e-port card tools write it in practice: W3C-namespace URI, SHA-1 digest",
)

#: The named profiles.
PROFILES: Final[Mapping[str, SignatureProfile]] = MappingProxyType(
    {p.name: p for p in (RSA_SHA1, RSA_SHA256, SM2_SM3, SM2_SM3_W3C_SHA1)}
)

#: The profile used when none is given, by signer algorithm.
DEFAULT_PROFILES: Final[Mapping[SignatureAlgorithm, SignatureProfile]] = MappingProxyType(
    {
        SignatureAlgorithm.RSA_SHA1: RSA_SHA1,
        SignatureAlgorithm.RSA_SHA256: RSA_SHA256,
        SignatureAlgorithm.SM2_SM3: SM2_SM3,
    }
)

_BY_URIS: Final = {(p.signature_method, p.digest_method): p for p in PROFILES.values()}


def resolve_profile(
    profile: SignatureProfile | str | None, algorithm: SignatureAlgorithm
) -> SignatureProfile:
    """The profile to sign with: the given one (object or name) or the signer's default.

    Raises :class:`~cbec_declare.errors.UnsupportedAlgorithm` when the profile needs another
    signer algorithm than ``algorithm`` (an SM2 profile with an RSA key, rsa-sha256 with a SHA-1
    signer...).
    """
    if profile is None:
        chosen = DEFAULT_PROFILES[algorithm]
    elif isinstance(profile, SignatureProfile):
        chosen = profile
    else:
        try:
            chosen = PROFILES[profile]
        except KeyError:
            raise ConfigError(
                f"unknown signature profile {profile!r}; known: {', '.join(PROFILES)}",
                code="config.profile",
            ) from None
    if chosen.signature_algorithm is not algorithm:
        raise UnsupportedAlgorithm(
            f"profile {chosen.name} signs with {chosen.signature_algorithm.value}, "
            f"but the signer does {algorithm.value}",
            code="sign.algorithm.profile",
        )
    return chosen


def profile_for(signature_method: str, digest_method: str) -> SignatureProfile | None:
    """The named profile with exactly these two URIs, if any."""
    return _BY_URIS.get((signature_method, digest_method))
