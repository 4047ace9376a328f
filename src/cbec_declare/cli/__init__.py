"""The ``cbec-declare`` command line. Exit codes: 0 ok, 1 invalid input, 2 usage error."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from ..sandbox import cli as sandbox
from . import build, cert, declare, demo, dxp, eport, pay179, push, receipt, serve, sign, validate
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
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log more to stderr: -v warnings (e.g. each retried send), -vv progress, -vvv debug",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (
        demo,
        build,
        validate,
        receipt,
        sign,
        dxp,
        cert,
        eport,
        push,
        serve,
        declare,
        sandbox,
        pay179,
    ):
        module.add_parser(sub)
    return parser


def _configure_logging(verbosity: int) -> None:
    """Errors only by default (a demo with injected faults would otherwise print every retried send)."""
    level = {0: logging.ERROR, 1: logging.WARNING, 2: logging.INFO}.get(verbosity, logging.DEBUG)
    logger = logging.getLogger("cbec_declare")
    logger.setLevel(level)
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("cbec-declare: %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    if getattr(args, "handler", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    return run_guarded(args.handler, args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
