"""One TOML file configures a whole deployment: who transmits, how to sign, where to send, where receipts
arrive, where the ledger lives. Secrets come from environment variables (``*_env`` keys) — a key given
inline works too but is never printed. Relative paths are relative to the config file.

::

    [base_transfer]            # BaseTransfer of every CEB message (must match the DXP client identity)
    cop_code = "3301964J31"
    cop_name = "杭州示例跨境电商有限公司"
    dxp_id = "DXPENT0000458763"

    [signer]                   # see cbec_declare.signing.config: software | pkcs11 | eport | callable
    type = "software"
    key = "keys/enterprise.key"
    cert = "keys/enterprise.crt"

    [platform]                 # 2.2 跨境通关服务平台 (omit to skip the platform step)
    base_url = "http://122.224.230.4:18003/newyorkWS/ws/"
    send_code = "3301964J31"
    aes_key_env = "CBEC_AES_KEY"
    private_key = "keys/zjport-digest.pem"     # the enterprise key for dataDigest (PKCS#8 or PEM)

    [receiver]                 # 2.1 where the platform pushes receipts
    host = "0.0.0.0"
    port = 8080
    path = "/receipts"
    aes_key_env = "CBEC_AES_KEY"
    platform_public_key = "keys/zjport-public.pem"

    [node]                     # 2.3 三级交换节点: soap | rest | directory
    transport = "soap"
    endpoint = "http://…/newyorkWS/ws/ReceiveCebDeclare"

    [ledger]
    url = "sqlite:///var/lib/cbec/ledger.sqlite3"   # or postgresql://… (password via PGPASSWORD)

    [pipeline]                 # cbec_declare.pipeline.PipelineSettings
    batch_size = 1
    spec_version = "2018-113"

Every transport profile setting (``PlatformProfile``, ``SoapNodeProfile``, ``RestNodeProfile``,
``PushProfile``, ``RetryPolicy``) may be given in its section by its field name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import attrs

from ._toml import load_toml
from .errors import ConfigError
from .models import BaseTransfer
from .pipeline import Pipeline, PipelineSettings, open_ledger
from .pipeline.ledger import Ledger
from .pipeline.receipts import LedgerSeenStore, receipt_sink
from .signing.base import Signer
from .signing.config import signer_from_config
from .transport import (
    DirectoryTransport,
    NodeTransport,
    PlatformClient,
    PlatformProfile,
    PushProfile,
    ReceiptReceiver,
    RestTransferDeclareTransport,
    RetryPolicy,
    SoapNodeTransport,
    load_rsa_public_key,
)
from .transport.profiles import RestNodeProfile, SoapNodeProfile

__all__ = ["DeclareConfig", "load_config"]

P = TypeVar("P")


def _secret(section: Mapping[str, Any], key: str, environ: Mapping[str, str], where: str) -> str | None:
    """``key`` inline, or from the environment variable named by ``key_env``; never echoed."""
    env_name = section.get(f"{key}_env")
    if env_name is not None:
        value = environ.get(str(env_name))
        if not value:
            raise ConfigError(
                f"{where}.{key}_env names {env_name!r}, which is not set",
                code="config.secret",
                field=f"{where}.{key}",
            )
        return value
    inline = section.get(key)
    return None if inline is None else str(inline)


def _profile(cls: type[P], section: Mapping[str, Any], where: str, **fixed: Any) -> P:
    names = {f.name for f in attrs.fields(cls)}  # type: ignore[arg-type]
    values = {k: (tuple(v) if isinstance(v, list) else v) for k, v in section.items() if k in names}
    values.update(fixed)
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"[{where}]: {exc}", code="config.profile", field=where) from exc


def _path_or_value(value: str, base_dir: Path) -> str | bytes:
    """A file path (read it) or the value itself (base64 / PEM text)."""
    candidate = base_dir / value
    if len(value) < 4096 and "\n" not in value and candidate.is_file():
        return candidate.read_bytes()
    return value


@attrs.frozen
class DeclareConfig:
    """A parsed configuration and the builders of every component it describes."""

    data: Mapping[str, Any]
    base_dir: Path
    environ: Mapping[str, str] = attrs.field(factory=lambda: dict(os.environ), repr=False)

    def section(self, name: str, *, required: bool = True) -> Mapping[str, Any]:
        value = self.data.get(name)
        if value is None:
            if required:
                raise ConfigError(f"the config has no [{name}] section", code="config.section", field=name)
            return {}
        if not isinstance(value, Mapping):
            raise ConfigError(f"[{name}] must be a table", code="config.section", field=name)
        return value

    def base_transfer(self) -> BaseTransfer:
        section = self.section("base_transfer")
        fields = {
            k: section[k] for k in ("cop_code", "cop_name", "dxp_id", "dxp_mode", "note") if k in section
        }
        try:
            return BaseTransfer(**fields)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"[base_transfer]: {exc}", code="config.base_transfer") from exc

    def signer(self) -> Signer:
        return signer_from_config(self.section("signer"), base_dir=self.base_dir, environ=self.environ)

    def settings(self) -> PipelineSettings:
        return PipelineSettings.from_mapping(self.section("pipeline", required=False))

    def ledger(self) -> Ledger:
        url = str(self.section("ledger").get("url", ""))
        if not url:
            raise ConfigError("[ledger] needs url", code="config.ledger", field="ledger.url")
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            url = "sqlite:///" + str(self.base_dir / url[len("sqlite:///") :])
        return open_ledger(url)

    def retry(self, section: Mapping[str, Any]) -> RetryPolicy:
        return _profile(RetryPolicy, section.get("retry", {}), "retry")

    def platform_client(self) -> PlatformClient | None:
        section = self.section("platform", required=False)
        if not section:
            return None
        aes_key = _secret(section, "aes_key", self.environ, "platform")
        private_key = _secret(section, "private_key", self.environ, "platform")
        if not aes_key or not private_key or "send_code" not in section:
            raise ConfigError(
                "[platform] needs send_code, aes_key (or aes_key_env) and private_key (or private_key_env)",
                code="config.platform",
            )
        return PlatformClient.from_keys(
            _profile(PlatformProfile, section, "platform"),
            send_code=str(section["send_code"]),
            aes_key=aes_key,
            private_key=_path_or_value(private_key, self.base_dir),
            retry=self.retry(section),
        )

    def node_transport(self) -> NodeTransport:
        section = self.section("node")
        kind = section.get("transport", "soap")
        if kind == "soap":
            return SoapNodeTransport(_profile(SoapNodeProfile, section, "node"), retry=self.retry(section))
        if kind == "rest":
            return RestTransferDeclareTransport(
                _profile(RestNodeProfile, section, "node"), retry=self.retry(section)
            )
        if kind == "directory":
            if "outbox" not in section:
                raise ConfigError("[node] transport = directory needs outbox", code="config.node")
            inbox = section.get("inbox")
            return DirectoryTransport(
                self.base_dir / str(section["outbox"]), inbox=self.base_dir / str(inbox) if inbox else None
            )
        raise ConfigError(
            f"[node] transport must be soap, rest or directory, not {kind!r}", code="config.node"
        )

    def pipeline(self, *, ledger: Ledger | None = None) -> Pipeline:
        platform = self.platform_client()
        settings = self.settings()
        if platform is None and settings.platform_kinds:
            settings = attrs.evolve(settings, platform_kinds=frozenset())
        return Pipeline(
            ledger or self.ledger(),
            base_transfer=self.base_transfer(),
            signer=self.signer(),
            node=self.node_transport(),
            platform=platform,
            settings=settings,
        )

    def receiver(self, pipeline: Pipeline) -> ReceiptReceiver:
        """The 2.1 endpoint feeding ``pipeline`` (digest verification on unless ``verify = false``)."""
        section = self.section("receiver")
        aes_key = _secret(section, "aes_key", self.environ, "receiver")
        public = section.get("platform_public_key")
        if not aes_key or not public:
            raise ConfigError(
                "[receiver] needs aes_key (or aes_key_env) and platform_public_key", code="config.receiver"
            )
        verify = section.get("verify", True)
        if verify is not True and verify is not False:
            raise ConfigError("[receiver] verify must be true or false", code="config.receiver")
        return ReceiptReceiver(
            aes_key=aes_key,
            platform_public_key=load_rsa_public_key(_path_or_value(str(public), self.base_dir)),
            sink=receipt_sink(pipeline),
            seen=LedgerSeenStore(pipeline),
            profile=_profile(PushProfile, section, "receiver"),
            verify=verify,
        )

    def receiver_address(self) -> tuple[str, int, str]:
        section = self.section("receiver")
        return (
            str(section.get("host", "127.0.0.1")),
            int(section.get("port", 8080)),
            str(section.get("path", "/")),
        )


def load_config(path: str | Path, *, environ: Mapping[str, str] | None = None) -> DeclareConfig:
    """Read a TOML config file (see the module doc)."""
    file = Path(path)
    return DeclareConfig(
        load_toml(file), file.resolve().parent, dict(os.environ) if environ is None else dict(environ)
    )
