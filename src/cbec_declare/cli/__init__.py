"""The ``cbec-declare`` command line. Exit codes: 0 ok, 1 invalid input, 2 usage error."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from . import build, cert, dxp, eport, push, receipt, serve, sign, validate
from ._common import EXIT_USAGE, run_guarded

__all__ = ["main"]


def _version() -> str:
    try:
        return version("cbec-declare")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        return "unknown"


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cbec-declare",
        description="Build, validate, sign, send and track 跨境电商统一版 import declarations.",
    )
    parser.add_argument("-V", "--version", action="version", version=f"cbec-declare {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (build, validate, receipt, sign, dxp, cert, eport, push, serve):
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    return run_guarded(args.handler, args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
