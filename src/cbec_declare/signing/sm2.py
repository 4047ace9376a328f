"""SM2 signatures and SM3 hashes, as the customs SM2 cards make them.

An SM2 card signs SM3(Z‖M) with the GM/T 0009 default user ID ``1234567812345678`` and returns the
raw ``r‖s`` (64 bytes), which is what ``ds:SignatureValue`` and the 179 ``signValue`` carry (base64).
The arithmetic comes from tongsuopy (Tongsuo, the OpenSSL fork with SM2), an optional extra:
``pip install 'cbec-declare[sm2]'``; without it every SM2 operation raises
:class:`~cbec_declare.errors.UnsupportedAlgorithm` saying so. SM3 itself comes from cryptography.

cryptography parses SM2 certificates but refuses their keys, so the public point is read from the
SubjectPublicKeyInfo here (asn1crypto, already a dependency of python-pkcs11).
"""

from __future__ import annotations

import functools
from types import ModuleType
from typing import Any, Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from ..errors import KeyMaterialError, SigningError, UnsupportedAlgorithm
from .base import SM2_DEFAULT_USER_ID

__all__ = [
    "SM2_CURVE_OID",
    "SM2_DEFAULT_USER_ID",
    "SM2_INSTALL_HINT",
    "SM2_SIGNATURE_OID",
    "SM2_SIGNATURE_SIZE",
    "Sm2PrivateKey",
    "Sm2PublicKey",
    "sm2_available",
    "sm2_der_to_raw",
    "sm2_point_from_spki",
    "sm2_raw_to_der",
    "sm2_spki",
    "sm3",
]

SM2_CURVE_OID: Final = "1.2.156.10197.1.301"
SM2_SIGNATURE_OID: Final = "1.2.156.10197.1.501"  # SM3withSM2, for certificates
SM2_SIGNATURE_SIZE: Final = 64
SM2_INSTALL_HINT: Final = "SM2 needs tongsuopy: pip install 'cbec-declare[sm2]'"

_EC_PUBLIC_KEY_OID: Final = "1.2.840.10045.2.1"
_COORDINATE: Final = 32


def sm3(data: bytes) -> bytes:
    """SM3 hash (GB/T 32905) of ``data``."""
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def _tongsuo() -> tuple[ModuleType, ModuleType, ModuleType]:
    try:
        from tongsuopy.crypto import hashes as t_hashes
        from tongsuopy.crypto import serialization as t_serialization
        from tongsuopy.crypto.asymciphers import ec as t_ec
    except ImportError:
        raise UnsupportedAlgorithm(SM2_INSTALL_HINT, code="sign.algorithm.sm2-missing") from None
    return t_ec, t_hashes, t_serialization


def sm2_available() -> bool:
    """Whether the optional SM2 backend (tongsuopy) can be imported."""
    try:
        _tongsuo()
    except UnsupportedAlgorithm:
        return False
    return True


def sm2_raw_to_der(signature: bytes) -> bytes:
    """``r‖s`` (64 bytes) → DER ``SEQUENCE {r, s}`` (the form X.509 and OpenSSL use)."""
    if len(signature) != SM2_SIGNATURE_SIZE:
        raise SigningError(
            f"an SM2 signature is {SM2_SIGNATURE_SIZE} bytes r‖s, got {len(signature)}",
            code="sign.sm2.length",
        )
    r = int.from_bytes(signature[:_COORDINATE], "big")
    s = int.from_bytes(signature[_COORDINATE:], "big")
    return encode_dss_signature(r, s)


def sm2_der_to_raw(signature: bytes) -> bytes:
    """DER ``SEQUENCE {r, s}`` → ``r‖s`` (64 bytes, each half zero-padded)."""
    try:
        r, s = decode_dss_signature(signature)
    except ValueError:
        raise SigningError("SM2 signature is not DER SEQUENCE {r, s}", code="sign.sm2.der") from None
    if r.bit_length() > 8 * _COORDINATE or s.bit_length() > 8 * _COORDINATE:
        raise SigningError("SM2 signature values exceed 256 bits", code="sign.sm2.der")
    return r.to_bytes(_COORDINATE, "big") + s.to_bytes(_COORDINATE, "big")


def sm2_point_from_spki(spki: bytes) -> bytes:
    """The uncompressed public point (65 bytes, ``04‖x‖y``) of an SM2 SubjectPublicKeyInfo."""
    from asn1crypto import keys

    try:
        info = keys.PublicKeyInfo.load(spki)
        algorithm = info["algorithm"]["algorithm"].dotted
        params = info["algorithm"]["parameters"]
        curve = None if params.native is None else params.chosen.dotted
        point = bytes(info["public_key"].native)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise KeyMaterialError(f"SM2 public key info cannot be read: {exc}", code="sign.key.sm2") from None
    if algorithm not in (_EC_PUBLIC_KEY_OID, SM2_CURVE_OID) or curve not in (SM2_CURVE_OID, None):
        raise KeyMaterialError(
            f"public key is not on the SM2 curve (algorithm {algorithm}, curve {curve})",
            code="sign.key.sm2",
        )
    return _check_point(point)


def _check_point(point: bytes) -> bytes:
    if len(point) != 1 + 2 * _COORDINATE or point[0] != 4:
        raise KeyMaterialError(
            f"SM2 public point must be 65 bytes uncompressed (04‖x‖y), got {len(point)} bytes",
            code="sign.key.sm2",
        )
    return point


def sm2_spki(point: bytes) -> bytes:
    """SubjectPublicKeyInfo DER for an SM2 point (id-ecPublicKey with the SM2 curve OID)."""
    from asn1crypto import keys

    info = keys.PublicKeyInfo(
        {
            "algorithm": {
                "algorithm": _EC_PUBLIC_KEY_OID,
                "parameters": keys.ECDomainParameters(name="named", value=SM2_CURVE_OID),
            },
            "public_key": _check_point(point),
        }
    )
    dumped: bytes = info.dump()
    return dumped


@functools.lru_cache(maxsize=64)
def _tongsuo_public(point: bytes) -> Any:
    # Building the EC key costs more than a verification; verifiers see few distinct certificates.
    t_ec, _, _ = _tongsuo()
    try:
        return t_ec.EllipticCurvePublicKey.from_encoded_point(t_ec.SM2(), point)
    except ValueError:
        raise KeyMaterialError("SM2 public point is not on the curve", code="sign.key.sm2") from None


class Sm2PublicKey:
    """An SM2 public key (the uncompressed point) that checks raw ``r‖s`` signatures."""

    __slots__ = ("point",)

    def __init__(self, point: bytes) -> None:
        self.point: bytes = _check_point(bytes(point))

    def verify(self, signature: bytes, data: bytes) -> bool:
        """True when ``signature`` (raw ``r‖s``) is an SM2/SM3 signature of ``data`` by this key."""
        if len(signature) != SM2_SIGNATURE_SIZE:
            return False
        t_ec, t_hashes, _ = _tongsuo()
        from tongsuopy.crypto.exceptions import InvalidSignature

        try:
            _tongsuo_public(self.point).verify(sm2_raw_to_der(signature), data, t_ec.ECDSA(t_hashes.SM3()))
        except InvalidSignature:
            return False
        return True

    def spki(self) -> bytes:
        return sm2_spki(self.point)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sm2PublicKey) and other.point == self.point

    def __hash__(self) -> int:
        return hash(self.point)

    def __repr__(self) -> str:
        return f"Sm2PublicKey({self.point[:9].hex()}…)"


class Sm2PrivateKey:
    """An SM2 private key held in memory (tongsuopy). ``repr`` shows only the public point.

    Signs like a customs SM2 card: SM3(Z‖M) with the default user ID, output raw ``r‖s``.
    """

    __slots__ = ("_key", "_public")

    def __init__(self, key: Any) -> None:
        t_ec, _, _ = _tongsuo()
        if not isinstance(getattr(key, "curve", None), t_ec.SM2):
            raise KeyMaterialError("the private key is not an SM2 key", code="sign.key.sm2")
        self._key = key
        from tongsuopy.crypto import serialization as t_serialization

        point = key.public_key().public_bytes(
            t_serialization.Encoding.X962, t_serialization.PublicFormat.UncompressedPoint
        )
        self._public = Sm2PublicKey(point)

    @classmethod
    def generate(cls) -> Sm2PrivateKey:
        """A fresh random SM2 key."""
        t_ec, _, _ = _tongsuo()
        return cls(t_ec.generate_private_key(t_ec.SM2()))

    @classmethod
    def load(cls, data: bytes, password: bytes | str | None = None) -> Sm2PrivateKey:
        """Load a PEM or DER SM2 key (PKCS#8, encrypted PKCS#8, or SEC1 ``EC PRIVATE KEY``)."""
        _, _, t_serialization = _tongsuo()
        secret = password.encode("utf-8") if isinstance(password, str) else password
        loader = (
            t_serialization.load_pem_private_key
            if data.lstrip()[:5] == b"-----"
            else t_serialization.load_der_private_key
        )
        from tongsuopy.crypto.exceptions import UnsupportedAlgorithm as TongsuoUnsupported

        try:
            key = loader(bytes(data), secret)
        except (ValueError, TypeError, TongsuoUnsupported) as exc:
            # The library's text may mention the password state but never its value; keep only the type.
            raise KeyMaterialError(
                f"SM2 private key cannot be loaded ({type(exc).__name__}: wrong password, or not an SM2 key)",
                code="sign.key.load",
            ) from None
        return cls(key)

    @property
    def public_key(self) -> Sm2PublicKey:
        return self._public

    def sign(self, data: bytes) -> bytes:
        """Raw ``r‖s`` (64 bytes) over SM3(Z‖data), Z from the default user ID."""
        _, t_hashes, _ = _tongsuo()
        from tongsuopy.crypto.asymciphers import ec as t_ec

        return sm2_der_to_raw(self._key.sign(bytes(data), t_ec.ECDSA(t_hashes.SM3())))

    def private_bytes(self, *, pem: bool = True, password: bytes | str | None = None) -> bytes:
        """Export as PKCS#8 (PEM or DER), encrypted when ``password`` is given. Handle with care."""
        _, _, t_serialization = _tongsuo()
        secret = password.encode("utf-8") if isinstance(password, str) else password
        encryption = (
            t_serialization.BestAvailableEncryption(secret) if secret else t_serialization.NoEncryption()
        )
        out: bytes = self._key.private_bytes(
            t_serialization.Encoding.PEM if pem else t_serialization.Encoding.DER,
            t_serialization.PrivateFormat.PKCS8,
            encryption,
        )
        return out

    def __repr__(self) -> str:
        return f"Sm2PrivateKey(public={self._public.point[:9].hex()}…)"

    def __reduce__(self) -> Any:
        # Pickling would copy the secret into whatever stores the pickle; refuse it loudly.
        raise TypeError("Sm2PrivateKey cannot be pickled; export it explicitly with private_bytes()")
