"""Loading the platform's key material in the forms zjport hands out.

zjport gives keys as single-line Base64 strings: the enterprise private key as PKCS#8 DER
(``RSAUtil.initKey``), the platform public key as X.509 SubjectPublicKeyInfo DER, the AES key as 16
raw bytes [H]. Integrators also keep PEM files. Everything here accepts every one of those forms and
never puts key bytes in an error message.

512-bit RSA keys are what zjport's tool generates and what every enterprise key seen in the wild
is; ``cryptography`` loads and uses them (it only refuses to *generate* them), so nothing here
rejects a key for its size.
"""

from __future__ import annotations

import base64
import binascii
import os
import re

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ..errors import KeyMaterialError

__all__ = [
    "generate_aes_key",
    "load_aes_key",
    "load_rsa_private_key",
    "load_rsa_public_key",
    "private_key_pkcs8_base64",
    "public_key_spki_base64",
]

_PEM = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----")
_B64_CHARS = re.compile(rb"[A-Za-z0-9+/=\s]+")


def _raw(data: bytes | str, what: str) -> bytes:
    if isinstance(data, str):
        return data.encode("ascii", "replace")
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise KeyMaterialError(f"{what} must be bytes or str, got {type(data).__name__}", code="sign.key.type")


def _der_candidates(raw: bytes, what: str) -> bytes:
    """Base64 text → DER; DER stays DER."""
    stripped = raw.strip()
    if stripped and _B64_CHARS.fullmatch(stripped):
        try:
            return base64.b64decode(b"".join(stripped.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise KeyMaterialError(
                f"{what} looks like Base64 but does not decode", code="sign.key.base64"
            ) from exc
    return raw


def load_rsa_private_key(
    data: bytes | str | rsa.RSAPrivateKey, *, what: str = "private key"
) -> rsa.RSAPrivateKey:
    """An RSA private key from PEM (PKCS#8 or PKCS#1), DER, or Base64 of PKCS#8 DER."""
    if isinstance(data, rsa.RSAPrivateKey):
        return data
    raw = _raw(data, what)
    try:
        if _PEM.search(raw):
            key = serialization.load_pem_private_key(raw, password=None)
        else:
            key = serialization.load_der_private_key(_der_candidates(raw, what), password=None)
    except KeyMaterialError:
        raise
    except UnsupportedAlgorithm as exc:
        raise KeyMaterialError(f"{what} is not an RSA key ({exc})", code="sign.key.type") from exc
    except (ValueError, TypeError) as exc:
        # The library's message never quotes key bytes, but keep ours generic anyway.
        raise KeyMaterialError(
            f"{what} is not an unencrypted RSA private key in PEM, DER or Base64 PKCS#8 form",
            code="sign.key.load",
        ) from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyMaterialError(f"{what} is a {type(key).__name__}, not an RSA key", code="sign.key.type")
    return key


def load_rsa_public_key(
    data: bytes | str | rsa.RSAPublicKey | x509.Certificate, *, what: str = "public key"
) -> rsa.RSAPublicKey:
    """An RSA public key from PEM/DER/Base64 SubjectPublicKeyInfo or an X.509 certificate."""
    if isinstance(data, rsa.RSAPublicKey):
        return data
    key: object
    if isinstance(data, x509.Certificate):
        key = data.public_key()
    else:
        raw = _raw(data, what)
        try:
            pem = _PEM.search(raw)
            if pem and b"CERTIFICATE" in pem.group(1):
                key = x509.load_pem_x509_certificate(raw).public_key()
            elif pem:
                key = serialization.load_pem_public_key(raw)
            else:
                der = _der_candidates(raw, what)
                try:
                    key = serialization.load_der_public_key(der)
                except ValueError:
                    key = x509.load_der_x509_certificate(der).public_key()
        except KeyMaterialError:
            raise
        except UnsupportedAlgorithm as exc:  # e.g. an SM2 certificate
            raise KeyMaterialError(f"{what} is not an RSA key ({exc})", code="sign.key.type") from exc
        except (ValueError, TypeError) as exc:
            raise KeyMaterialError(
                f"{what} is not an RSA public key (SubjectPublicKeyInfo or certificate; PEM, DER or Base64)",
                code="sign.key.load",
            ) from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise KeyMaterialError(f"{what} is a {type(key).__name__}, not an RSA key", code="sign.key.type")
    return key


def load_aes_key(data: bytes | str, *, what: str = "AES key") -> bytes:
    """An AES key: ``bytes`` are the raw key (16, 24 or 32 bytes); ``str`` is its Base64 (zjport's form).

    The rule is by type, never by guessing: 24 raw bytes and the Base64 of 16 bytes have the same length.
    """
    if isinstance(data, str):
        try:
            key = base64.b64decode(data.strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise KeyMaterialError(f"{what} given as text must be Base64", code="sign.key.base64") from exc
    elif isinstance(data, (bytes, bytearray, memoryview)):
        key = bytes(data)
    else:
        raise KeyMaterialError(
            f"{what} must be bytes or str, got {type(data).__name__}", code="sign.key.type"
        )
    if len(key) not in (16, 24, 32):
        raise KeyMaterialError(
            f"{what} is {len(key)} bytes; AES needs 16 (the platform uses AES-128), 24 or 32",
            code="sign.key.length",
        )
    return key


def generate_aes_key() -> bytes:
    """16 random bytes: a fresh AES-128 key, as zjport's ``kg.init(128)``."""
    return os.urandom(16)


def private_key_pkcs8_base64(key: rsa.RSAPrivateKey) -> str:
    """The single-line Base64 PKCS#8 DER form zjport's tools exchange."""
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return base64.b64encode(der).decode("ascii")


def public_key_spki_base64(key: rsa.RSAPublicKey) -> str:
    """The single-line Base64 SubjectPublicKeyInfo DER form given to zjport."""
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode("ascii")
