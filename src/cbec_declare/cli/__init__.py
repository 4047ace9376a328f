"""The ``cbec-declare`` command line. Exit codes: 0 ok, 1 invalid input, 2 usage error."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Iterator, Sequence
from importlib.metadata import PackageNotFoundError, version

from ..sandbox import cli as sandbox
from . import build, cert, declare, demo, dxp, eport, migrate, pay179, push, receipt, serve, sign, validate
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
        help="log more to stderr: -v warnings also in the demo, -vv progress, -vvv debug",
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
        migrate,
        sandbox,
        pay179,
    ):
        module.add_parser(sub)
    return parser


@contextlib.contextmanager
def _logging(verbosity: int, quiet: bool) -> Iterator[None]:
    """Warnings by default (a refused push, a retried send) on stderr; the demo, whose faults are injected
    on purpose, shows errors only unless ``-v`` is given. The logger's previous state comes back after the
    command, so calling :func:`main` in-process (tests, scripts) leaves logging as it found it."""
    base = logging.ERROR if quiet else logging.WARNING
    level = {0: base, 1: logging.WARNING, 2: logging.INFO}.get(verbosity, logging.DEBUG)
    logger = logging.getLogger("cbec_declare")
    saved = (logger.level, logger.handlers, logger.propagate)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("cbec-declare: %(levelname)s %(name)s: %(message)s"))
    logger.setLevel(level)
    logger.handlers = [handler]
    logger.propagate = False
    try:
        yield
    finally:
        logger.level, logger.handlers, logger.propagate = saved


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    with _logging(args.verbose, quiet=getattr(args, "quiet_logs", False)):
        return run_guarded(args.handler, args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
