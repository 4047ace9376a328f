"""Reading TOML configuration on every supported Python (tomllib from 3.11, the tomli backport on 3.10).

The one reader of config files. Its errors are raised *outside* the handlers of the underlying
exceptions on purpose: a ``UnicodeDecodeError`` holds the whole file in ``.object`` (and 3.14's
``TOMLDecodeError`` holds it in ``.doc``), so chaining it — even with ``from None``, which only hides the
context — would carry every PIN and key of the file along with the ``ConfigError``.
"""

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
    problem = None
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problem = str(exc).splitlines()[0][:200]  # the position, never the document
    if problem is not None:
        raise ConfigError(f"{where} is not valid TOML: {problem}", code="config.toml", field=where)
    return data


def load_toml(path: Path | str) -> dict[str, Any]:
    """A TOML file as a dict; a missing, unreadable or broken file is a :class:`ConfigError` naming it."""
    file = Path(path)
    text = None
    problem = code = ""
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        problem, code = f"config file not found: {file}", "config.file"
    except UnicodeDecodeError as exc:
        problem, code = f"{file} is not UTF-8 (byte {exc.start})", "config.toml"
    except OSError as exc:
        problem, code = f"cannot read {file}: {exc.strerror}", "config.file"
    if text is None:
        raise ConfigError(problem, code=code, field=str(file))
    return loads_toml(text, where=str(file))
