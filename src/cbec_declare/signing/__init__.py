"""Signing and verifying customs messages: the XMLDSig profile, signers, certificates, SM2, 179.

* :func:`sign` / :func:`sign_canonical` add the enveloped ``ds:Signature`` customs expects;
  :func:`verify` checks one strictly and explains the classic failures.
* Signers implement :class:`Signer`: :class:`SoftwareSigner` (in-memory RSA/SM2 keys, throwaway
  test keys via :meth:`SoftwareSigner.generate`), :class:`CallableSigner` (any ``bytes -> bytes``
  function), :class:`Pkcs11Signer` (tokens and HSMs via python-pkcs11), :class:`EportClientSigner`
  (the 中国电子口岸 card client over WebSocket); :func:`load_signer` builds any of them from TOML.
* :data:`PROFILES` names the SignatureMethod/DigestMethod pairs (``rsa-sha1``, ``rsa-sha256``,
  ``sm2-sm3``, ``sm2-sm3-w3c-sha1``).
* The 179 payment upload: :func:`build_payload`, :func:`sign_string`, :func:`verify_payload`.
"""

from .base import SM2_DEFAULT_USER_ID, SignatureAlgorithm, Signer, key_name_from_serial
from .callable import CallableSigner
from .certs import CertificateInfo, certificate_info, certificate_pem, load_certificate
from .config import load_signer, signer_from_config
from .eport import EportClientSigner
from .pay179 import (
    GoodsInfo,
    PayExchangeInfoHead,
    PayExchangeInfoItem,
    VerifiedPayload,
    build_payload,
    head_json,
    lists_json,
    sign_string,
    verify_payload,
)
from .pkcs11 import Pkcs11Signer
from .profiles import DEFAULT_PROFILES, PROFILES, SignatureProfile
from .software import SoftwareSigner
from .verify import VerifiedSignature, verify
from .xmldsig import sign, sign_canonical

__all__ = [
    "DEFAULT_PROFILES",
    "PROFILES",
    "SM2_DEFAULT_USER_ID",
    "CallableSigner",
    "CertificateInfo",
    "EportClientSigner",
    "GoodsInfo",
    "PayExchangeInfoHead",
    "PayExchangeInfoItem",
    "Pkcs11Signer",
    "SignatureAlgorithm",
    "SignatureProfile",
    "Signer",
    "SoftwareSigner",
    "VerifiedPayload",
    "VerifiedSignature",
    "build_payload",
    "certificate_info",
    "certificate_pem",
    "head_json",
    "key_name_from_serial",
    "lists_json",
    "load_certificate",
    "load_signer",
    "sign",
    "sign_canonical",
    "sign_string",
    "signer_from_config",
    "verify",
    "verify_payload",
]
