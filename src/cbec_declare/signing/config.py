"""Signers from configuration: a mapping (or a TOML file) → a ready :class:`~.base.Signer`.

One ``[signer]`` table chooses a backend with ``type`` and gives its settings::

    [signer]                      # software key: PEM/DER key + certificate, or a PKCS#12 file
    type = "software"
    key = "keys/ent.key"          # relative paths resolve against the config file's folder
    cert = "keys/ent.crt"
    password_env = "CBEC_KEY_PASSWORD"
    algorithm = "rsa-sha1"

    [signer]                      # key on a PKCS#11 token (ukey, HSM, SoftHSM2)
    type = "pkcs11"
    module = "/usr/lib/softhsm/libsofthsm2.so"
    token_label = "customs"
    key_label = "rsa2048"         # or key_id = "01" (hex)
    pin_env = "CBEC_TOKEN_PIN"
    mechanism = "auto"            # "combined" | "rsa-pkcs"

    [signer]                      # 中国电子口岸 card client (WebSocket)
    type = "eport"
    url = "ws://127.0.0.1:61232"
    pin_env = "CBEC_CARD_PIN"
    timeout = 10

    [signer]                      # any function bytes -> signature (a vendor SDK, a remote service)
    type = "callable"
    function = "mycompany.hsm:sign"
    cert = "keys/ent.crt"
    algorithm = "sm2-sm3"

Secrets (PINs, passwords) are best given by naming an environment variable (``pin_env``,
``password_env``); a literal ``pin``/``password`` works but then lives in the file. Every mistake is
a :class:`~cbec_declare.errors.ConfigError` whose ``field`` names the offending key
(``signer.pin_env``), never its secret value.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from .._toml import load_toml
from ..errors import ConfigError
from .base import Signer

__all__ = [
    "SIGNER_TYPES",
    "load_signer",
    "resolve_secret",
    "signer_from_config",
]

logger = logging.getLogger(__name__)

#: The values ``type`` may take.
SIGNER_TYPES: Final = ("software", "pkcs11", "eport", "callable")

_KEYS: Final[Mapping[str, frozenset[str]]] = {
    "software": frozenset({"key", "cert", "pkcs12", "password", "password_env", "algorithm", "key_name"}),
    "pkcs11": frozenset(
        {
            "module",
            "token_label",
            "key_label",
            "key_id",
            "pin",
            "pin_env",
            "cert",
            "algorithm",
            "mechanism",
            "key_name",
            "lock_timeout",
        }
    ),
    "eport": frozenset({"url", "pin", "pin_env", "timeout", "connect_timeout", "attempts", "retry_delay"}),
    "callable": frozenset({"function", "cert", "algorithm", "key_name"}),
}


def resolve_secret(
    value: str | None,
    env_name: str | None,
    *,
    environ: Mapping[str, str] | None = None,
    what: str = "PIN",
    field: str = "pin",
) -> str:
    """A secret given directly or by the name of an environment variable (exactly one of them).

    Errors name the setting (``field``) and the variable, never the secret.
    """
    if value is not None and env_name is not None:
        raise ConfigError(
            f"give the {what} either directly or through an environment variable, not both",
            code="config.secret.both",
            field=field,
        )
    if env_name is not None:
        if not isinstance(env_name, str) or not env_name:
            raise ConfigError(
                f"the {what} environment variable name must be a non-empty string",
                code="config.secret.env_name",
                field=f"{field}_env",
            )
        source = os.environ if environ is None else environ
        secret = source.get(env_name)
        if secret is None or secret == "":
            raise ConfigError(
                f"the {what} is to come from environment variable {env_name}, which is not set",
                code="config.secret.env_missing",
                field=f"{field}_env",
                variable=env_name,
            )
        return secret
    if value is None:
        raise ConfigError(
            f"no {what}: set {field} or {field}_env (an environment variable name, preferred)",
            code="config.secret.missing",
            field=field,
        )
    if not isinstance(value, str) or value == "":
        raise ConfigError(f"the {what} must be a non-empty string", code="config.secret.type", field=field)
    return value


def signer_from_config(
    config: Mapping[str, Any],
    *,
    base_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Signer:
    """Build the signer a configuration table describes (see the module docstring).

    Relative paths resolve against ``base_dir`` (default: the current directory); ``*_env``
    settings read ``environ`` (default ``os.environ``). Raises
    :class:`~cbec_declare.errors.ConfigError` naming the key for configuration mistakes, and the
    backend's own errors (:class:`~cbec_declare.errors.SigningError` subclasses) when the key,
    token or card cannot be used.
    """
    if not isinstance(config, Mapping):
        raise ConfigError(f"a signer configuration must be a table, got {type(config).__name__}", field="")
    kind = config.get("type")
    if kind not in SIGNER_TYPES:
        raise ConfigError(
            f"type must be one of {', '.join(SIGNER_TYPES)}, got {kind!r}",
            code="config.signer.type",
            field="type",
        )
    unknown = sorted(set(config) - _KEYS[kind] - {"type"})
    if unknown:
        raise ConfigError(
            f"unknown setting(s) for a {kind} signer: {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(_KEYS[kind]))}",
            code="config.signer.unknown",
            field=unknown[0],
        )
    if "pin" in config or "password" in config:
        logger.warning(
            "the %s signer's secret is written in the configuration; prefer pin_env/password_env", kind
        )
    reader = _Reader(config, Path.cwd() if base_dir is None else Path(base_dir), environ)
    builder: Callable[[_Reader], Signer] = _BUILDERS[kind]
    return builder(reader)


def load_signer(
    path: Path | str,
    *,
    section: str = "signer",
    environ: Mapping[str, str] | None = None,
) -> Signer:
    """Read ``section`` (dotted for nested tables, e.g. ``"customs.signer"``) of a TOML file and
    build its signer; relative paths in it resolve against the file's folder."""
    path = Path(path)
    document = load_toml(path)
    table: Any = document
    for part in section.split("."):
        if not isinstance(table, Mapping) or part not in table:
            raise ConfigError(f"{path} has no [{section}] table", code="config.signer.missing", field=section)
        table = table[part]
    try:
        return signer_from_config(table, base_dir=path.resolve().parent, environ=environ)
    except ConfigError as exc:
        where = f"{section}.{exc.field}" if exc.field else section
        raise ConfigError(f"{path} [{section}]: {exc.message}", code=exc.code, field=where) from None


class _Reader:
    """Typed access to one signer table; every complaint names the key."""

    def __init__(self, config: Mapping[str, Any], base_dir: Path, environ: Mapping[str, str] | None) -> None:
        self.config, self.base_dir, self.environ = config, base_dir, environ

    def text(self, key: str, *, required: bool = False) -> str | None:
        value = self.config.get(key)
        if value is None:
            if required:
                raise ConfigError(f"{key} is required", code="config.signer.required", field=key)
            return None
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{key} must be a non-empty string", code="config.signer.type", field=key)
        return value

    def need(self, key: str) -> str:
        value = self.text(key, required=True)
        assert value is not None
        return value

    def need_path(self, key: str) -> Path:
        value = self.path(key, required=True)
        assert value is not None
        return value

    def number(self, key: str, *, integer: bool = False) -> Any:
        value = self.config.get(key)
        kinds = (int,) if integer else (int, float)
        if value is not None and (isinstance(value, bool) or not isinstance(value, kinds) or value <= 0):
            what = "a positive integer" if integer else "a positive number"
            raise ConfigError(f"{key} must be {what}, got {value!r}", code="config.signer.type", field=key)
        return value

    def path(self, key: str, *, required: bool = False) -> Path | None:
        text = self.text(key, required=required)
        if text is None:
            return None
        path = Path(text).expanduser()
        path = path if path.is_absolute() else self.base_dir / path
        if not path.is_file():
            raise ConfigError(f"{key}: file {path} does not exist", code="config.signer.file", field=key)
        return path

    def secret(self, key: str, *, required: bool) -> str | None:
        if not required and self.config.get(key) is None and self.config.get(f"{key}_env") is None:
            return None
        return resolve_secret(
            self.text(key), self.text(f"{key}_env"), environ=self.environ, what=key.upper(), field=key
        )

    def options(self, **keys: str) -> dict[str, Any]:
        """The given settings that are present, renamed to keyword arguments."""
        return {arg: self.config[key] for arg, key in keys.items() if self.config.get(key) is not None}


def _software(cfg: _Reader) -> Signer:
    from .software import SoftwareSigner

    key, pkcs12 = cfg.path("key"), cfg.path("pkcs12")
    if (key is None) == (pkcs12 is None):
        raise ConfigError("give either key (with cert) or pkcs12", code="config.signer.required", field="key")
    password = cfg.secret("password", required=False)
    options = {"algorithm": cfg.text("algorithm"), "key_name": cfg.text("key_name")}
    if pkcs12 is not None:
        if cfg.config.get("cert") is not None:
            raise ConfigError(
                "cert goes with key, not with pkcs12", code="config.signer.conflict", field="cert"
            )
        return SoftwareSigner.from_pkcs12(pkcs12, password, **options)
    assert key is not None
    return SoftwareSigner.from_files(key, cfg.path("cert"), password=password, **options)


def _pkcs11(cfg: _Reader) -> Signer:
    from .pkcs11 import Pkcs11Signer

    module, token_label, cert = cfg.need("module"), cfg.need("token_label"), cfg.path("cert")
    cfg.number("lock_timeout")
    return Pkcs11Signer(
        module,
        token_label=token_label,
        key_label=cfg.text("key_label"),
        key_id=cfg.text("key_id"),
        pin=cfg.secret("pin", required=True),
        certificate=cert,
        **cfg.options(
            algorithm="algorithm", mechanism="mechanism", key_name="key_name", lock_timeout="lock_timeout"
        ),
    )


def _eport(cfg: _Reader) -> Signer:
    from .eport import EportClientSigner

    for key in ("timeout", "connect_timeout", "retry_delay"):
        cfg.number(key)
    cfg.number("attempts", integer=True)
    options = cfg.options(
        timeout="timeout", connect_timeout="connect_timeout", attempts="attempts", retry_delay="retry_delay"
    )
    url = cfg.text("url")
    if url is not None:
        options["url"] = url
    return EportClientSigner(pin=cfg.secret("pin", required=False), **options)


def _callable(cfg: _Reader) -> Signer:
    from .callable import CallableSigner

    target = cfg.need("function")
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise ConfigError(
            f"function must read 'package.module:attribute', got {target!r}",
            code="config.signer.function",
            field="function",
        )
    try:
        function: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            function = getattr(function, part)
    except ImportError as exc:
        raise ConfigError(
            f"function {target!r}: module {module_name!r} cannot be imported ({exc})",
            code="config.signer.function",
            field="function",
        ) from None
    except AttributeError:
        raise ConfigError(
            f"function {target!r}: {module_name!r} has no attribute {attribute!r}",
            code="config.signer.function",
            field="function",
        ) from None
    if not callable(function):
        raise ConfigError(
            f"function {target!r} is not callable", code="config.signer.function", field="function"
        )
    cert, algorithm = cfg.need_path("cert"), cfg.need("algorithm")
    return CallableSigner(
        function, certificate=cert.read_bytes(), algorithm=algorithm, key_name=cfg.text("key_name")
    )


_BUILDERS: Final[Mapping[str, Callable[[_Reader], Signer]]] = {
    "software": _software,
    "pkcs11": _pkcs11,
    "eport": _eport,
    "callable": _callable,
}
