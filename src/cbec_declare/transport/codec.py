"""Payload codecs and ``dataDigest`` strategies of the zjport platform (both directions).

**Codec** (:class:`PayloadCodec`): how the XML travels in ``content``.

* :class:`AesEcbCodec` (default, [H]): ``Base64(AES-ECB-PKCS5(xml))`` with the agreed key, AES-128
  in practice. Base64 is standard and single-line on output. On input it is read leniently:
  line breaks are dropped (Ruby's ``encode64`` chunks) and a space is read as ``+`` (a ``+``
  that a careless sender did not percent-encode arrives as a space; Base64 has no spaces).
* :class:`IdentityCodec`: plain text, for the platform's test mode (``decipher=false`` / ``isTest``
  in enterprise harnesses) and the plaintext ``ReceivedDeclare`` channel.

**Digest** (:class:`DigestSigner`, :class:`DigestVerifier`): ``dataDigest`` is *not* a hash but
``Base64(RSASSA-PKCS1-v1_5(SHA-1, plaintext UTF-8 bytes))`` [H, verified on a real push]. Over the
plaintext, not the ciphertext (see ``PlatformProfile.digest_over``).

* :class:`RsaDigestSigner`: a raw enterprise key (PKCS#8 Base64 or PEM; 512-bit keys work).
* :class:`SignerDigest`: any :class:`~cbec_declare.signing.base.Signer` whose algorithm matches
  (``RSA_SHA1`` by default): a PKCS#11 token or a remote signer plugs in here.
* :class:`RsaDigestVerifier`: the platform's public key, for pushes.

Decoding failures raise :class:`~cbec_declare.errors.PushRejected` (``transport.push.base64`` /
``transport.push.decrypt``); a digest that does not verify raises
:class:`~cbec_declare.errors.SignatureMismatch` (``verify.digest_signature``). Keys never appear in
``repr`` or messages.
"""

from __future__ import annotations

import base64
import binascii
from typing import Protocol, runtime_checkable

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ..errors import ConfigError, PushRejected, SignatureMismatch, UnsupportedAlgorithm
from ..signing.base import SignatureAlgorithm, Signer
from .keys import generate_aes_key, load_aes_key, load_rsa_private_key, load_rsa_public_key

__all__ = [
    "DIGEST_HASHES",
    "AesEcbCodec",
    "DigestSigner",
    "DigestVerifier",
    "IdentityCodec",
    "PayloadCodec",
    "RsaDigestSigner",
    "RsaDigestVerifier",
    "SignerDigest",
    "b64decode_lenient",
]

#: ``PlatformProfile.digest_hash`` values → hash and the matching :class:`SignatureAlgorithm`.
DIGEST_HASHES: dict[str, tuple[type[hashes.HashAlgorithm], SignatureAlgorithm]] = {
    "sha1": (hashes.SHA1, SignatureAlgorithm.RSA_SHA1),
    "sha256": (hashes.SHA256, SignatureAlgorithm.RSA_SHA256),
}


def _hash(name: str) -> hashes.HashAlgorithm:
    try:
        return DIGEST_HASHES[name][0]()
    except KeyError:
        raise ConfigError(
            f"unknown digest hash {name!r}; expected one of {', '.join(DIGEST_HASHES)}",
            code="config.digest_hash",
        ) from None


def b64decode_lenient(text: str | bytes, *, what: str = "content") -> bytes:
    """Standard Base64 → bytes; line breaks ignored, spaces read as ``+`` (see the module doc)."""
    raw = text.encode("ascii", "replace") if isinstance(text, str) else bytes(text)
    raw = raw.replace(b"\r", b"").replace(b"\n", b"").replace(b"\t", b"").replace(b" ", b"+")
    if not raw:
        raise PushRejected(f"{what} is empty", code="transport.push.base64", field=what)
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise PushRejected(
            f"{what} is not valid Base64 ({len(raw)} characters; {exc})",
            code="transport.push.base64",
            field=what,
        ) from exc


@runtime_checkable
class PayloadCodec(Protocol):
    """Turns plaintext bytes into the ``content`` text and back."""

    @property
    def name(self) -> str: ...

    def encode(self, plaintext: bytes) -> str: ...

    def decode(self, content: str) -> bytes: ...


class AesEcbCodec:
    """``Base64(AES-ECB-PKCS5Padding(plaintext))``, zjport's ``AESUtil`` [H].

    ``key`` is the raw key (16 bytes for AES-128) or, as a ``str``, its Base64 form.
    """

    name = "aes-ecb-pkcs5-b64"

    __slots__ = ("_key",)

    def __init__(self, key: bytes | str) -> None:
        self._key = load_aes_key(key)

    @classmethod
    def generate(cls) -> AesEcbCodec:
        """A codec with a fresh random AES-128 key (read it back with :meth:`key_base64`)."""
        return cls(generate_aes_key())

    def key_base64(self) -> str:
        """The key in the Base64 form zjport exchanges. Treat the result as a secret."""
        return base64.b64encode(self._key).decode("ascii")

    def __repr__(self) -> str:
        return f"AesEcbCodec(AES-{len(self._key) * 8}, key=<hidden>)"

    def encrypt(self, plaintext: bytes) -> bytes:
        padder = padding.PKCS7(128).padder()
        padded = padder.update(plaintext) + padder.finalize()
        encryptor = Cipher(algorithms.AES(self._key), modes.ECB()).encryptor()  # noqa: S305 - the platform's scheme
        return encryptor.update(padded) + encryptor.finalize()

    def decrypt(self, ciphertext: bytes, *, what: str = "content") -> bytes:
        if not ciphertext or len(ciphertext) % 16:
            raise PushRejected(
                f"{what} decodes to {len(ciphertext)} bytes, not a whole number of AES blocks",
                code="transport.push.decrypt",
                field=what,
            )
        decryptor = Cipher(algorithms.AES(self._key), modes.ECB()).decryptor()  # noqa: S305
        padded = decryptor.update(ciphertext) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        try:
            return unpadder.update(padded) + unpadder.finalize()
        except ValueError as exc:
            # Wrong key or damaged data: the padding check is the only integrity signal ECB gives.
            raise PushRejected(
                f"{what} does not decrypt with the configured AES key (bad padding)",
                code="transport.push.decrypt",
                field=what,
            ) from exc

    def encode(self, plaintext: bytes) -> str:
        return base64.b64encode(self.encrypt(plaintext)).decode("ascii")

    def decode(self, content: str) -> bytes:
        return self.decrypt(b64decode_lenient(content))


class IdentityCodec:
    """No encryption: ``content`` is the UTF-8 XML itself (test mode, plaintext channel)."""

    name = "identity"

    def __repr__(self) -> str:
        return "IdentityCodec()"

    def encode(self, plaintext: bytes) -> str:
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(
                "the identity codec carries UTF-8 text only; encode the XML as UTF-8", code="config.codec"
            ) from exc

    def decode(self, content: str) -> bytes:
        return content.encode("utf-8")


@runtime_checkable
class DigestSigner(Protocol):
    """Makes the ``dataDigest`` text for some bytes."""

    def sign(self, data: bytes) -> str: ...


@runtime_checkable
class DigestVerifier(Protocol):
    """Checks a ``dataDigest``; raises :class:`~cbec_declare.errors.VerificationError` if it is wrong."""

    def verify(self, data: bytes, digest: str) -> None: ...


class RsaDigestSigner:
    """``Base64(RSA-PKCS1v15(hash, data))`` with a raw RSA key (zjport ``RSAUtil.sign``)."""

    __slots__ = ("_hash_name", "_key")

    def __init__(self, private_key: bytes | str | rsa.RSAPrivateKey, *, hash_name: str = "sha1") -> None:
        self._key = load_rsa_private_key(private_key, what="enterprise private key")
        _hash(hash_name)
        self._hash_name = hash_name

    def __repr__(self) -> str:
        return f"RsaDigestSigner(RSA-{self._key.key_size}, {self._hash_name}, key=<hidden>)"

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self._key.public_key()

    def sign(self, data: bytes) -> str:
        signature = self._key.sign(data, asym_padding.PKCS1v15(), _hash(self._hash_name))
        return base64.b64encode(signature).decode("ascii")


class SignerDigest:
    """Adapts a :class:`~cbec_declare.signing.base.Signer` (software key, PKCS#11 token, e-port client).

    The signer must compute what the profile asks for: ``RSA_SHA1`` for ``hash_name="sha1"``.
    """

    __slots__ = ("_signer",)

    def __init__(self, signer: Signer, *, hash_name: str = "sha1") -> None:
        _hash(hash_name)
        expected = DIGEST_HASHES[hash_name][1]
        algorithm = signer.algorithm
        if algorithm != expected:
            raise UnsupportedAlgorithm(
                f"the platform dataDigest needs a {expected.value} signer; this signer makes {algorithm}",
                code="sign.algorithm.digest",
            )
        self._signer = signer

    def __repr__(self) -> str:
        return f"SignerDigest({type(self._signer).__name__})"

    def sign(self, data: bytes) -> str:
        return base64.b64encode(self._signer.sign(data)).decode("ascii")


class RsaDigestVerifier:
    """Verifies ``dataDigest`` with the platform's public key (SPKI or certificate; PEM, DER, Base64)."""

    __slots__ = ("_hash_name", "_key")

    def __init__(
        self, public_key: bytes | str | rsa.RSAPublicKey | x509.Certificate, *, hash_name: str = "sha1"
    ) -> None:
        self._key = load_rsa_public_key(public_key, what="platform public key")
        _hash(hash_name)
        self._hash_name = hash_name

    def __repr__(self) -> str:
        return f"RsaDigestVerifier(RSA-{self._key.key_size}, {self._hash_name})"

    def verify(self, data: bytes, digest: str) -> None:
        try:
            signature = b64decode_lenient(digest, what="data_digest")
        except PushRejected as exc:
            raise SignatureMismatch(
                "data_digest is not valid Base64", code="verify.digest_signature.base64", field="data_digest"
            ) from exc
        try:
            self._key.verify(signature, data, asym_padding.PKCS1v15(), _hash(self._hash_name))
        except InvalidSignature as exc:
            raise SignatureMismatch(
                f"data_digest does not verify ({self._hash_name}withRSA over the plaintext, "
                f"RSA-{self._key.key_size} platform key)",
                code="verify.digest_signature",
                field="data_digest",
            ) from exc
