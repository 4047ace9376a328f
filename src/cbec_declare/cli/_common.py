"""What every command shares: exit codes, reading inputs, printing human or JSON output, error mapping."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

from .._json import loads_untrusted
from .._toml import load_toml
from ..errors import CbecError, ConfigError

__all__ = [
    "EXIT_INVALID",
    "EXIT_OK",
    "EXIT_USAGE",
    "CommandFailed",
    "emit_json",
    "load_json",
    "load_toml",
    "read_input",
    "run_guarded",
]

EXIT_OK = 0
#: the input is invalid (a finding, a failed signature, a rejected document)
EXIT_INVALID = 1
#: the command was called wrongly (argparse also exits with 2)
EXIT_USAGE = 2


class CommandFailed(Exception):
    """Raised by a command to stop with an exit code after printing its own report."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def read_input(name: str, *, max_bytes: int = 64 * 1024 * 1024) -> bytes:
    """Bytes of a file, or of stdin for ``-``; a usage error names the path."""
    if name == "-":
        data = sys.stdin.buffer.read(max_bytes + 1)
    else:
        path = Path(name)
        if not path.is_file():
            raise ConfigError(f"no such file: {name}", code="cli.file", field=name)
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ConfigError(f"{name} is larger than {max_bytes} bytes", code="cli.size", field=name)
    return data


def load_json(name: str) -> Any:
    raw = read_input(name)
    try:
        return loads_untrusted(raw.decode("utf-8-sig"), parse_float=Decimal)
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{name} is not UTF-8: byte {exc.start}", code="cli.json", field=name) from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{name} is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            code="cli.json",
            field=name,
        ) from exc


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return str(value)


def emit_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=_default)
    sys.stdout.write("\n")


def run_guarded(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a command; typed errors become one clear line (or JSON) and an exit code, never a traceback."""
    try:
        return handler(args)
    except CommandFailed as stop:
        return stop.code
    except CbecError as exc:
        usage = isinstance(exc, ConfigError)
        if getattr(args, "json", False):
            emit_json({"ok": False, "error": exc.to_dict()})
        else:
            print(f"cbec-declare: {exc}", file=sys.stderr)
        return EXIT_USAGE if usage else EXIT_INVALID
    except KeyboardInterrupt:
        print("cbec-declare: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output went away (``cbec-declare … | head``): stop quietly, as Unix tools do.
        # Point stdout at devnull so the interpreter's final flush does not raise again.
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


def iter_files(names: list[str]) -> Iterator[tuple[str, bytes]]:
    for name in names:
        yield name, read_input(name)


def fail(message: str, *, code: int = EXIT_USAGE) -> NoReturn:
    print(f"cbec-declare: {message}", file=sys.stderr)
    raise CommandFailed(code)
