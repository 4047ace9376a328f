"""The standalone sandbox: :func:`run_sandbox`, and the ``sandbox`` command (:func:`add_parser`).

::

    python -m cbec_declare.sandbox.cli --config sandbox.toml --credentials creds.json --seed 7

starts platform, node and customs on 127.0.0.1, writes the credentials JSON (URLs, send code, DXP
ids and the sandbox's *test* keys, mode 0600) for workers in other processes
(:meth:`~cbec_declare.sandbox.credentials.SandboxCredentials.read`), prints the URLs, prints the stats
every ``--stats-every`` seconds, and runs until Ctrl-C or SIGTERM (or ``--duration``). The
credentials file is removed on exit: it describes a sandbox that no longer runs.

To wire it as ``cbec-declare sandbox``, add this module to the command modules of
:mod:`cbec_declare.cli` (it provides ``add_parser(sub)`` like the others).
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

import attrs

from ..cli._common import EXIT_OK, run_guarded
from ._pushes import SandboxStats
from .config import SandboxConfig
from .sandbox import Sandbox

__all__ = ["add_parser", "main", "run", "run_sandbox"]


@contextlib.contextmanager
def _sigterm_sets(stop: threading.Event) -> Iterator[None]:
    """SIGTERM sets ``stop`` while inside (main thread only; elsewhere signals cannot be handled)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_sandbox(
    config: SandboxConfig,
    credentials_path: Path | str,
    *,
    stop: threading.Event | None = None,
    duration: float | None = None,
    stats_every: float | None = None,
    out: TextIO | None = None,
) -> SandboxStats:
    """Run a sandbox until interrupted (Ctrl-C, SIGTERM, ``stop`` set, or ``duration`` seconds).

    Writes the credentials JSON to ``credentials_path`` once the servers listen, prints the URLs and,
    every ``stats_every`` seconds, the stats to ``out`` (stdout); removes the file on exit and
    returns the final stats.
    """
    out = out if out is not None else sys.stdout
    stop = stop if stop is not None else threading.Event()
    deadline = None if duration is None else time.monotonic() + duration
    path = Path(credentials_path)
    with Sandbox(config) as sandbox, _sigterm_sets(stop):
        credentials = sandbox.credentials
        credentials.write(path)
        try:
            print(f"platform (2.2) SOAP : {credentials.platform_url}", file=out)
            print(f"node (2.3) SOAP     : {credentials.node_soap_url}", file=out)
            print(f"node (2.3) REST     : {credentials.node_rest_url}", file=out)
            print(f"send code / DXP ids : {credentials.send_code} / {credentials.sender_dxp_id} → "
                  f"{credentials.receiver_dxp_id}", file=out)  # fmt: skip
            print(f"credentials (test keys) written to {path}", file=out, flush=True)
            last = time.monotonic()
            while not stop.is_set():
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                stop.wait(min(1.0, left) if left is not None else 1.0)
                if stats_every is not None and time.monotonic() - last >= stats_every:
                    last = time.monotonic()
                    print(f"--- stats\n{sandbox.stats().format()}", file=out, flush=True)
        except KeyboardInterrupt:
            print("interrupted; stopping", file=out)
        finally:
            path.unlink(missing_ok=True)
        stats = sandbox.stats()
    print(f"--- final stats\n{stats.format()}", file=out, flush=True)
    return stats


def _config(args: argparse.Namespace) -> SandboxConfig:
    config = SandboxConfig.from_toml(args.config) if args.config else SandboxConfig()
    changes: dict[str, Any] = {}
    for name in ("seed", "platform_port", "node_port"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    if args.receiver:
        changes["receivers"] = (*config.receivers, *args.receiver)
    if args.time_scale is not None:
        changes["timing"] = attrs.evolve(config.timing, time_scale=args.time_scale)
    return attrs.evolve(config, **changes) if changes else config


def run(args: argparse.Namespace) -> int:
    """The ``sandbox`` command's handler."""
    run_sandbox(
        _config(args),
        args.credentials,
        duration=args.duration,
        stats_every=args.stats_every,
    )
    return EXIT_OK


def add_parser(sub: Any) -> None:
    """Add the ``sandbox`` command to an ``argparse`` sub-parser set."""
    parser = sub.add_parser(
        "sandbox",
        help="run the local sandbox: platform (2.2), exchange node (2.3) and a customs simulator",
        description="Run platform, exchange node and customs simulator on 127.0.0.1 until interrupted. "
        "The credentials file holds throw-away test keys for workers in other processes.",
    )
    parser.add_argument("--config", help="TOML file with a [sandbox] table")
    parser.add_argument("--credentials", default="sandbox-credentials.json",
                        help="where to write the credentials JSON (default sandbox-credentials.json)")  # fmt: skip
    parser.add_argument("--seed", type=int, help="seed of every random draw (default: from the config, 0)")
    parser.add_argument("--platform-port", type=int, help="port of the 2.2 platform (default: any free)")
    parser.add_argument("--node-port", type=int, help="port of the 2.3 node (default: any free)")
    parser.add_argument("--receiver", action="append", help="push receipts to this loopback URL (repeatable)")
    parser.add_argument("--time-scale", type=float, help="multiply every receipt delay (1 = seconds)")
    parser.add_argument("--stats-every", type=float, help="print the stats every N seconds")
    parser.add_argument(
        "--duration", type=float, help="stop after N seconds (default: run until interrupted)"
    )
    parser.set_defaults(handler=run)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m cbec_declare.sandbox.cli``: the ``sandbox`` command on its own."""
    parser = argparse.ArgumentParser(prog="cbec-declare")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["sandbox", *(sys.argv[1:] if argv is None else argv)])
    return run_guarded(args.handler, args)


if __name__ == "__main__":  # pragma: no cover - exercised through a subprocess in the tests
    sys.exit(main())
