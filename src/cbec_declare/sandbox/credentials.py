"""The sandbox's keys and what a client needs to talk to it: :class:`SandboxCredentials`.

:meth:`SandboxCredentials.write` hands them to a worker in another process as a JSON file (mode
0600, written atomically); :meth:`SandboxCredentials.read` takes them back. The keys in it are test
keys generated for (or given to) one sandbox: they protect nothing and must never be used with the
real platform. ``repr()`` hides them all the same.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import attrs
from cryptography.hazmat.primitives.asymmetric import rsa

from ..errors import CbecError, ConfigError
from ..signing import load_certificate
from ..transport import (
    PlatformClient,
    PlatformProfile,
    ReceiptReceiver,
    RestNodeProfile,
    SoapNodeProfile,
    generate_aes_key,
    load_aes_key,
    load_rsa_private_key,
    load_rsa_public_key,
)
from .config import SandboxConfig

__all__ = ["SandboxCredentials", "sandbox_keys", "trusted_certificates"]


@attrs.frozen(kw_only=True)
class SandboxCredentials:
    """URLs, ids and the (throw-away) keys of a running sandbox; builds the library's clients."""

    FORMAT: ClassVar[str] = "cbec-declare-sandbox-credentials/1"

    platform_url: str
    node_soap_url: str
    node_rest_url: str
    send_code: str
    sender_dxp_id: str
    receiver_dxp_id: str
    spec_version: str
    #: Base64 of the AES key used for 2.2 requests and for pushes
    aes_key: str = attrs.field(repr=False)
    #: PEM (PKCS#8); ``None`` when the sandbox was given only the enterprise public key
    enterprise_private_key_pem: str | None = attrs.field(repr=False)
    platform_public_key_pem: str

    @property
    def aes_key_bytes(self) -> bytes:
        """The raw AES key."""
        return base64.b64decode(self.aes_key)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, secrets included (test keys), with a note saying so."""
        data = {f.name: getattr(self, f.name) for f in attrs.fields(type(self))}
        return {
            "format": self.FORMAT,
            "note": "test keys of a local cbec-declare sandbox; they protect nothing, never use them for real",
            **data,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SandboxCredentials:
        """The inverse of :meth:`to_dict`; refuses another format."""
        if data.get("format") != cls.FORMAT:
            raise ConfigError(
                f"not sandbox credentials (format {data.get('format')!r})", code="config.sandbox"
            )
        names = [f.name for f in attrs.fields(cls)]
        missing = [n for n in names if n not in data and n != "enterprise_private_key_pem"]
        if missing:
            raise ConfigError(f"sandbox credentials lack {', '.join(missing)}", code="config.sandbox")
        values: dict[str, Any] = {n: data.get(n) for n in names}
        return cls(**values)

    def write(self, path: Path | str) -> Path:
        """Write the JSON file, readable by the owner only (it holds keys, if only test keys)."""
        target = Path(path)
        temporary = target.with_name(target.name + ".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(self.to_dict(), handle, ensure_ascii=False, indent=2)
        os.replace(temporary, target)  # readers never see half a file
        return target

    @classmethod
    def read(cls, path: Path | str) -> SandboxCredentials:
        """Read a file written by :meth:`write` (a :class:`~cbec_declare.errors.ConfigError` if unreadable)."""
        try:
            return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"cannot read sandbox credentials {path}: {exc}", code="config.sandbox"
            ) from exc

    def platform_profile(self, **settings: Any) -> PlatformProfile:
        """A §2.2 profile for this sandbox (``settings``: timeouts and other profile fields)."""
        return PlatformProfile(base_url=self.platform_url, **settings)

    def soap_node_profile(self, **settings: Any) -> SoapNodeProfile:
        """A §2.3 SOAP ``ReceiveCebDeclare`` profile for this sandbox."""
        return SoapNodeProfile(endpoint=self.node_soap_url, **settings)

    def rest_node_profile(self, **settings: Any) -> RestNodeProfile:
        """A §2.3 REST ``transferDeclare`` profile for this sandbox."""
        return RestNodeProfile(url=self.node_rest_url, **settings)

    def platform_client(self, *, profile: PlatformProfile | None = None, **options: Any) -> PlatformClient:
        """A §2.2 client with the enterprise keys (``options`` go to :class:`PlatformClient`)."""
        if self.enterprise_private_key_pem is None:
            raise ConfigError("these credentials carry no enterprise private key", code="config.sandbox")
        return PlatformClient.from_keys(
            profile or self.platform_profile(),
            send_code=self.send_code,
            aes_key=self.aes_key,
            private_key=self.enterprise_private_key_pem,
            **options,
        )

    def receipt_receiver(self, sink: Any, **options: Any) -> ReceiptReceiver:
        """A §2.1 receiver that decrypts and verifies this sandbox's pushes, delivering to ``sink``."""
        return ReceiptReceiver(
            aes_key=self.aes_key, platform_public_key=self.platform_public_key_pem, sink=sink, **options
        )


def trusted_certificates(entries: Sequence[str]) -> list[bytes]:
    """The DER of each pinned certificate: PEM text, or a file holding PEM or DER."""
    loaded = []
    for entry in entries:
        try:
            raw = entry.encode("utf-8") if "-----BEGIN" in entry else Path(entry).read_bytes()
            loaded.append(load_certificate(raw))
        except (OSError, CbecError) as exc:
            raise ConfigError(
                f"trusted certificate {entry[:60]!r} cannot be loaded: {exc}",
                code="config.sandbox",
                field="trusted_certificates",
            ) from exc
    return loaded


def sandbox_keys(
    c: SandboxConfig,
) -> tuple[bytes, rsa.RSAPrivateKey | None, rsa.RSAPublicKey, rsa.RSAPrivateKey]:
    """AES key, enterprise key pair (private ``None`` when only the public key was given), platform key."""
    aes = load_aes_key(c.aes_key) if c.aes_key else generate_aes_key()
    private: rsa.RSAPrivateKey | None = None
    if c.enterprise_private_key:
        private = load_rsa_private_key(c.enterprise_private_key, what="enterprise key")
    elif not c.enterprise_public_key:
        private = rsa.generate_private_key(65537, 1024)  # noqa: S505 - a test key, 1024-bit like zjport's
    public = (
        private.public_key()
        if private is not None
        else load_rsa_public_key(c.enterprise_public_key or "", what="enterprise public key")
    )
    platform = (
        load_rsa_private_key(c.platform_private_key, what="platform key")
        if c.platform_private_key
        else rsa.generate_private_key(65537, 1024)  # noqa: S505 - a test key, 1024-bit like zjport's
    )
    return aes, private, public, platform
