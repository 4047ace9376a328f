"""A worker process for the scale-out tests and the benchmark: joins a running sandbox and a shared ledger.

::

    python pg_worker.py --credentials C.json --ledger URL --port P --key K --cert C --events E.log [--go]

It opens the ledger (``postgresql://…`` or ``sqlite:///…``), serves the 2.1 receipt endpoint on ``--port``
(the sandbox must already push there: ``SandboxConfig(receivers=…)``), prints ``ready`` and, with
``--go``, waits for a line on stdin before its worker threads start claiming documents (so that several
processes start together). Every applied state change is appended to ``--events`` as one line
``<event> <document id> <old state> <new state>``, written with one ``os.write`` on an ``O_APPEND`` file
*after* the ledger committed it: the file survives SIGKILL and never claims more than the ledger holds
(it may miss the last change of a killed process). The first line is ``owner <lease owner>``.

SIGTERM stops the worker threads (each finishes its step), the endpoint and the ledger, then exits 0.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from datetime import timedelta

from cbec_declare.pipeline import PipelineSettings, StatusChange
from cbec_declare.sandbox.credentials import SandboxCredentials
from cbec_declare.signing import SoftwareSigner
from cbec_declare.testing.harness import start_harness


class EventLog:
    """Appends one line per applied change; one ``os.write`` per line, so lines never interleave."""

    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def line(self, *fields: object) -> None:
        os.write(self._fd, (" ".join(map(str, fields)) + "\n").encode())

    def __call__(self, change: StatusChange) -> None:
        self.line(change.event, change.document_id, change.old.value, change.new.value)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--credentials", required=True, help="the sandbox's credentials JSON")
    parser.add_argument("--ledger", required=True, help="ledger URL (postgresql://… or sqlite:///…)")
    parser.add_argument("--port", type=int, required=True, help="port of this process's receipt endpoint")
    parser.add_argument("--key", required=True, help="enterprise signing key (PEM)")
    parser.add_argument("--cert", required=True, help="enterprise certificate (PEM)")
    parser.add_argument("--events", required=True, help="append applied state changes here")
    parser.add_argument("--lease", type=float, default=5.0, help="lease in seconds (default 5)")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--batch", type=int, default=20, help="documents claimed per round and thread")
    parser.add_argument("--go", action="store_true", help="start claiming after a line on stdin")
    return parser.parse_args(argv)


def main(argv: list[str]) -> None:
    args = parse(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    credentials = SandboxCredentials.read(args.credentials)
    harness = start_harness(
        credentials=credentials,
        ledger_url=args.ledger,
        receiver_port=args.port,
        signer=SoftwareSigner.from_files(args.key, args.cert),
        threads=args.threads,
        batch=args.batch,
        # A dead worker's leases hold its documents until they expire: short here, so that the tests
        # see the survivors take them over quickly. Production leases outlast a send with its retries.
        settings=PipelineSettings(spec_version=credentials.spec_version, lease=timedelta(seconds=args.lease)),
        start_worker=False,
    )
    events = EventLog(args.events)
    events.line("owner", harness.pipeline.owner)
    harness.pipeline.on_status(events)
    print("ready", flush=True)
    if args.go:
        sys.stdin.readline()  # the parent's "go" (or EOF: the parent is gone, start anyway)
    harness.worker.start()
    while not stop.wait(0.5):
        pass
    harness.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
