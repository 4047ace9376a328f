"""Decoding one receipt push: form fields → plaintext, digest checked (§2.1, sans-IO).

A push is ``application/x-www-form-urlencoded`` with ``content`` = ``Base64(AES-ECB(xml))``,
``msg_type`` and ``data_digest`` = ``Base64(SHA1withRSA(xml))`` made with the *platform's* key
[H, verified on a real captured push]. :func:`decode_push` is the troubleshooting entry point
(``cbec-declare push decode``): it reports whether the digest verifies instead of refusing, so a
captured push can be inspected. The receiver uses the same steps but refuses on any failure.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import attrs
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from ..errors import ConfigError, PushRejected, VerificationError
from .codec import AesEcbCodec, DigestVerifier, IdentityCodec, PayloadCodec, RsaDigestVerifier
from .profiles import PushProfile

__all__ = [
    "DecodedPush",
    "PushFields",
    "decode_push",
    "make_codec",
    "make_verifier",
    "parse_form",
    "push_id_of",
    "read_fields",
]

#: A push has three fields; a few more are tolerated (tracing ids), hundreds are an attack.
MAX_FORM_FIELDS = 32


def parse_form(body: bytes | str) -> dict[str, str]:
    """An urlencoded body → fields. A repeated field is refused: there is no safe way to pick one."""
    try:
        text = body.decode("utf-8") if isinstance(body, (bytes, bytearray, memoryview)) else body
        pairs = parse_qsl(
            text, keep_blank_values=True, encoding="utf-8", errors="strict", max_num_fields=MAX_FORM_FIELDS
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise PushRejected(
            f"the push body is not a readable form: {exc}", code="transport.push.form"
        ) from exc
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise PushRejected(f"form field {name!r} is given twice", code="transport.push.field", field=name)
        form[name] = value
    return form


def _pick(form: Mapping[str, str], names: tuple[str, ...], *, required: bool) -> str | None:
    present = [name for name in names if name in form]
    if len(present) > 1:
        raise PushRejected(
            f"both {present[0]!r} and {present[1]!r} are given; send one",
            code="transport.push.field",
            field=present[0],
        )
    if not present or not form[present[0]].strip():
        if required:
            raise PushRejected(
                f"form field {names[0]!r} is missing or empty", code="transport.push.field", field=names[0]
            )
        return None
    return form[present[0]]


@attrs.frozen
class PushFields:
    """The three fields of a push, found under their names or aliases."""

    content: str = attrs.field(repr=lambda value: f"<{len(value)} characters>")
    msg_type: str
    digest: str | None = attrs.field(repr=lambda value: "None" if value is None else "<present>")


def read_fields(form: Mapping[str, str], profile: PushProfile) -> PushFields:
    content = _pick(form, profile.content_fields, required=True)
    msg_type = _pick(form, profile.msg_type_fields, required=True)
    digest = _pick(form, profile.digest_fields, required=False)
    assert content is not None
    assert msg_type is not None
    return PushFields(content=content, msg_type=msg_type.strip(), digest=digest)


def push_id_of(msg_type: str, plaintext: bytes) -> str:
    """A stable id for a push: the same document under the same ``msg_type`` is the same push.

    Built on the plaintext, not the ciphertext or digest, so a re-encrypted resend is still
    recognised.
    """
    digest = hashlib.sha256()
    digest.update(msg_type.encode("utf-8"))
    digest.update(b"\x00")
    digest.update(plaintext)
    return digest.hexdigest()


@attrs.frozen
class DecodedPush:
    """A decoded push, for troubleshooting: plaintext, ``msg_type`` and whether the digest verifies."""

    plaintext: bytes = attrs.field(repr=lambda value: f"<{len(value)} bytes>")
    msg_type: str
    digest_valid: bool
    #: why the digest does not verify (``None`` when it does)
    digest_error: str | None
    push_id: str
    content_chars: int

    @property
    def text(self) -> str:
        return self.plaintext.decode("utf-8", "replace")


def make_codec(aes_key: bytes | str | PayloadCodec | None) -> PayloadCodec:
    """Raw or Base64 key → :class:`AesEcbCodec`; a codec stays itself; ``None`` → plain text."""
    if aes_key is None:
        return IdentityCodec()
    if isinstance(aes_key, (bytes, bytearray, memoryview)):
        return AesEcbCodec(bytes(aes_key))
    if isinstance(aes_key, str):
        return AesEcbCodec(aes_key)
    return aes_key


def make_verifier(key: Any, profile: PushProfile) -> DigestVerifier | None:
    """A public key (any form :func:`~cbec_declare.transport.keys.load_rsa_public_key` reads) or a
    verifier → a verifier; ``None`` stays ``None``."""
    if key is None:
        return None
    # An RSAPublicKey has a verify() method too, so key types are recognised first.
    if isinstance(key, (bytes, bytearray, memoryview, str, rsa.RSAPublicKey, x509.Certificate)):
        return RsaDigestVerifier(
            bytes(key) if isinstance(key, (bytearray, memoryview)) else key, hash_name=profile.digest_hash
        )
    if isinstance(key, DigestVerifier):
        return key
    raise ConfigError(f"platform_public_key cannot be a {type(key).__name__}", code="config.push.key")


def decode_push(
    form: Mapping[str, str] | bytes,
    *,
    aes_key: bytes | str | PayloadCodec | None,
    platform_public_key: bytes | str | rsa.RSAPublicKey | x509.Certificate | DigestVerifier | None,
    profile: PushProfile | None = None,
) -> DecodedPush:
    """Decrypt a captured push and check its digest.

    ``form`` is the raw urlencoded body or its fields. ``aes_key`` is the raw key, its Base64 text,
    or a codec (``None``: the content is plain text). Raises
    :class:`~cbec_declare.errors.PushRejected` when the fields are missing or the content cannot be
    decoded; a digest that does not verify is *reported* (``digest_valid=False``), not raised.
    """
    profile = profile or PushProfile()
    fields = read_fields(parse_form(form) if isinstance(form, (bytes, str)) else form, profile)
    plaintext = make_codec(aes_key).decode(fields.content)
    verifier = make_verifier(platform_public_key, profile)
    error: str | None = None
    if verifier is None:
        error = "no platform public key given"
    elif fields.digest is None:
        error = "the push carries no data_digest"
    else:
        signed = plaintext if profile.digest_over == "plaintext" else fields.content.encode("utf-8")
        try:
            verifier.verify(signed, fields.digest)
        except VerificationError as exc:
            error = exc.message
    return DecodedPush(
        plaintext=plaintext,
        msg_type=fields.msg_type,
        digest_valid=error is None,
        digest_error=error,
        push_id=push_id_of(fields.msg_type, plaintext),
        content_chars=len(fields.content),
    )
