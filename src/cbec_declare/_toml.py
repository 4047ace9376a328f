"""Reading TOML on every supported Python (tomllib from 3.11, the tomli backport on 3.10)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from .errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

__all__ = ["load_toml", "loads_toml"]


def loads_toml(text: str, *, where: str = "config") -> dict[str, Any]:
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where} is not valid TOML: {exc}", code="config.toml", field=where) from None
    return data


def load_toml(path: Path) -> dict[str, Any]:
    """A TOML file as a dict; a missing or broken file is a :class:`ConfigError` naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {path}", code="config.file", field=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path} is not UTF-8 (byte {exc.start})", code="config.toml", field=str(path)
        ) from None
    return loads_toml(text, where=str(path))
