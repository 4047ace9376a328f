"""Configuration of the 179 endpoint and upload: :class:`Pay179Config`, from code or a TOML table.

::

    [pay179]
    upload_url = "https://swapptest.singlewindow.cn/ceb2grab/grab/realTimeDataUpload"   # the default
    store = "pay179.db"              # SQLite file (may be the ledger's); relative to the config file
    bind = "0.0.0.0:8179"            # where `cbec-declare 179 serve` listens
    path = "/platDataOpen"           # the URL path registered with customs
    connect_timeout = 5
    read_timeout = 15
    workers = 2
    queue_size = 100
    cert_dir = "certs"               # certificates for `179 verify`, found by certNo (serial)
    ledger = "sqlite:///ledger.db"   # payment data from the pipeline ledger ...
    item_link_template = "https://shop.example.cn/item/{itemNo}"
    # source = "mycompany.customs:payment_data"   # ... or from your own function / object

    [pay179.retry]
    attempts = 5
    deadline = 60
    backoff = 0.5
    max_backoff = 8
    jitter = 0.25

    [pay179.signer]                  # see cbec_declare.signing.config
    type = "software"
    key = "keys/ent.key"
    cert = "keys/ent.crt"
    password_env = "CBEC_KEY_PASSWORD"

Every mistake is a :class:`~cbec_declare.errors.ConfigError` whose ``field`` names the key
(``pay179.retry.attempts``); secrets never appear in messages or in ``repr()``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import attrs

from ..errors import ConfigError
from ..signing.base import Signer
from ..signing.config import signer_from_config
from ..transport.retry import RetryPolicy
from .source import PaymentDataSource, PaymentLookup

__all__ = ["PRODUCTION_UPLOAD_URL", "TEST_UPLOAD_URL", "Pay179Config"]

#: customs' test environment (179DOC)
TEST_UPLOAD_URL = "https://swapptest.singlewindow.cn/ceb2grab/grab/realTimeDataUpload"
#: customs' production environment (179DOC)
PRODUCTION_UPLOAD_URL = "https://customs.chinaport.gov.cn/ceb2grab/grab/realTimeDataUpload"

_KEYS = frozenset(
    {
        "upload_url",
        "cert_no",
        "service_time_as_text",
        "connect_timeout",
        "read_timeout",
        "max_reply_bytes",
        "store",
        "bind",
        "path",
        "max_body_bytes",
        "queue_size",
        "workers",
        "cert_dir",
        "source",
        "ledger",
        "item_link_template",
        "retry",
        "signer",
    }
)
_RETRY_KEYS = frozenset({"attempts", "deadline", "backoff", "max_backoff", "jitter"})


def _url(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"must be an http(s) URL, got {value!r}", code="config.pay179.url", field=attribute.name
        )


def _positive(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ConfigError(
            f"must be a positive number, got {value!r}", code="config.pay179", field=attribute.name
        )


def _port(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
        raise ConfigError(
            f"must be a port 0..65535, got {value!r}", code="config.pay179", field=attribute.name
        )


def _path(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not value.startswith("/"):
        raise ConfigError(f"must start with '/', got {value!r}", code="config.pay179", field=attribute.name)


def _signer_repr(signer: Signer | None) -> str:
    return "None" if signer is None else f"<{type(signer).__name__} {signer.key_name}>"


@attrs.frozen(kw_only=True)
class Pay179Config:
    """Everything the 179 endpoint, upload and CLI need. Build it in code, or with :meth:`from_mapping`."""

    upload_url: str = attrs.field(default=TEST_UPLOAD_URL, validator=_url)
    #: signs ``payExInfoStr`` (SM2 r‖s or RSA); needed to upload, not to verify
    signer: Signer | None = attrs.field(default=None, repr=_signer_repr)
    #: ``certNo`` written in the upload (default: the signer's ``key_name``, the certificate serial)
    cert_no: str | None = None
    #: write ``serviceTime`` as a JSON string (one implementation does; the doc says Long)
    service_time_as_text: bool = False
    connect_timeout: float = attrs.field(default=5.0, validator=_positive)
    read_timeout: float = attrs.field(default=15.0, validator=_positive)
    retry: RetryPolicy = attrs.field(factory=lambda: RetryPolicy(attempts=5, deadline=60.0))
    max_reply_bytes: int = attrs.field(default=64 * 1024, validator=_positive)
    store_path: str = "pay179.db"
    bind_host: str = "127.0.0.1"
    bind_port: int = attrs.field(default=8179, validator=_port)
    endpoint_path: str = attrs.field(default="/platDataOpen", validator=_path)
    #: larger openReq bodies are refused (customs sends ~100 bytes)
    max_body_bytes: int = attrs.field(default=16 * 1024, validator=_positive)
    queue_size: int = attrs.field(default=100, validator=_positive)
    workers: int = attrs.field(default=2, validator=_positive)
    #: certificates found by certNo for :func:`~cbec_declare.pay179.cli.verify_payload_file`
    cert_dir: str | None = None
    #: the payment data source; without it, ``ledger`` builds a LedgerPaymentSource
    source: PaymentDataSource | PaymentLookup | None = attrs.field(default=None, repr=False)
    #: ledger URL or path (see :func:`~cbec_declare.pipeline.ledgers.open_ledger`)
    ledger: str | None = None
    item_link_template: str | None = None

    @classmethod
    def from_mapping(
        cls,
        section: Mapping[str, Any],
        *,
        base_dir: Path | str | None = None,
        environ: Mapping[str, str] | None = None,
        prefix: str = "pay179",
    ) -> Pay179Config:
        """From a TOML ``[pay179]`` table (see the module doc). Relative paths resolve against
        ``base_dir`` (the config file's folder; default the current directory)."""
        if not isinstance(section, Mapping):
            raise ConfigError(f"[{prefix}] must be a table", code="config.pay179", field=prefix)
        unknown = sorted(set(section) - _KEYS)
        if unknown:
            raise ConfigError(
                f"unknown setting(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_KEYS))}",
                code="config.pay179.unknown",
                field=f"{prefix}.{unknown[0]}",
            )
        base = Path.cwd() if base_dir is None else Path(base_dir)
        values: dict[str, Any] = {}
        for key in ("upload_url", "cert_no", "ledger", "item_link_template"):
            if key in section:
                values[key] = _typed(section, key, str, prefix)
        if "service_time_as_text" in section:
            values["service_time_as_text"] = _typed(section, "service_time_as_text", bool, prefix)
        for key in ("connect_timeout", "read_timeout"):
            if key in section:
                values[key] = _typed(section, key, (int, float), prefix)
        for key in ("max_reply_bytes", "max_body_bytes", "queue_size", "workers"):
            if key in section:
                values[key] = _typed(section, key, int, prefix)
        if "path" in section:
            values["endpoint_path"] = _typed(section, "path", str, prefix)
        if "store" in section:
            values["store_path"] = str(base / _typed(section, "store", str, prefix))
        if "cert_dir" in section:
            values["cert_dir"] = str(base / _typed(section, "cert_dir", str, prefix))
        if "ledger" in values and "://" not in values["ledger"]:
            values["ledger"] = str(base / values["ledger"])
        if "bind" in section:
            values["bind_host"], values["bind_port"] = _bind(_typed(section, "bind", str, prefix), prefix)
        if "retry" in section:
            values["retry"] = _retry(section["retry"], prefix)
        if "source" in section:
            values["source"] = _import_source(_typed(section, "source", str, prefix), prefix)
        if "signer" in section:
            try:
                values["signer"] = signer_from_config(section["signer"], base_dir=base, environ=environ)
            except ConfigError as exc:
                where = f"{prefix}.signer.{exc.field}" if exc.field else f"{prefix}.signer"
                raise ConfigError(exc.message, code=exc.code, field=where) from None
        try:
            return cls(**values)
        except ConfigError as exc:
            raise ConfigError(exc.message, code=exc.code, field=f"{prefix}.{exc.field}") from None

    def require_signer(self) -> Signer:
        """The signer, or a ConfigError saying it is needed."""
        if self.signer is None:
            raise ConfigError(
                "uploading needs a signer: set [pay179.signer] or Pay179Config(signer=...)",
                code="config.pay179.signer",
                field="pay179.signer",
            )
        return self.signer


def _typed(section: Mapping[str, Any], key: str, kind: type | tuple[type, ...], prefix: str) -> Any:
    value = section[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise ConfigError(
            f"must be {names}, got {type(value).__name__}", code="config.pay179.type", field=f"{prefix}.{key}"
        )
    return value


def _bind(text: str, prefix: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ConfigError(
            f"bind must be host:port, got {text!r}", code="config.pay179.bind", field=f"{prefix}.bind"
        )
    return host.strip("[]"), int(port)


def _retry(table: Any, prefix: str) -> RetryPolicy:
    where = f"{prefix}.retry"
    if not isinstance(table, Mapping):
        raise ConfigError("must be a table", code="config.pay179.retry", field=where)
    unknown = sorted(set(table) - _RETRY_KEYS)
    if unknown:
        raise ConfigError(
            f"unknown setting(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_RETRY_KEYS))}",
            code="config.pay179.unknown",
            field=f"{where}.{unknown[0]}",
        )
    values = {key: _typed(table, key, int if key == "attempts" else (int, float), where) for key in table}
    try:
        return RetryPolicy(**values)
    except ConfigError as exc:
        raise ConfigError(exc.message, code=exc.code, field=where) from None


def _import_source(spec: str, prefix: str) -> Any:
    module_name, sep, attribute = spec.partition(":")
    where = f"{prefix}.source"
    if not sep or not module_name or not attribute:
        raise ConfigError(
            f"source must be 'module:name', got {spec!r}", code="config.pay179.source", field=where
        )
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"cannot import {module_name!r}: {exc}", code="config.pay179.source", field=where
        ) from None
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise ConfigError(f"{module_name} has no {attribute!r}", code="config.pay179.source", field=where)
        target = getattr(target, part)
    if not (isinstance(target, PaymentDataSource) or callable(target)):
        raise ConfigError(
            f"{spec} is neither a function nor an object with payment_data()",
            code="config.pay179.source",
            field=where,
        )
    return target
