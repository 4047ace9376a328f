"""A worker process for the soak: joins a sandbox running in another process and works until killed.

    python benchmarks/_bench_worker.py WORKER.json

``WORKER.json`` (written by ``soak.py``) names the sandbox credentials file, the ledger URL, the receipt
port, the signer's key and certificate files, and the knobs below. The process wires what
:func:`cbec_declare.testing.harness.start_harness` wires — pipeline, 2.1 receipt endpoint on the given port,
worker threads — but with short HTTP timeouts (``start_harness`` takes no transport profiles), so that a
"late" sandbox timeout costs about a second, not the production 30 s. It prints ``ready`` once it listens,
then works until SIGKILL (the point of the soak) or SIGTERM (a clean stop at the end).
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

from cbec_declare.pipeline import Pipeline, PipelineSettings, Worker, open_ledger
from cbec_declare.pipeline.receipts import LedgerSeenStore, receipt_sink
from cbec_declare.sandbox import LocalServer
from cbec_declare.sandbox.credentials import SandboxCredentials
from cbec_declare.signing import SoftwareSigner
from cbec_declare.testing.harness import company_for
from cbec_declare.transport import RetryPolicy, SoapNodeTransport, make_wsgi_app

#: The knobs and their defaults (soak.py writes every one of them).
DEFAULTS: dict[str, Any] = {
    "threads": 12,
    # A thread claims ``batch`` documents and works them one after the other while holding all their
    # leases: the lease must outlast batch × (one step with its transport retries), here 3 × ~4.5 s.
    "batch": 3,
    "batch_size": 1,
    "lease": 15.0,  # s: a killed worker's documents come back after this
    "backoff": 0.2,  # s: pipeline retry after a failed send, doubling ...
    "max_backoff": 2.0,  # ... up to this
    "max_attempts": 30,
    "connect_timeout": 1.0,
    "read_timeout": 1.0,  # the sandbox's "late" answers come after late_seconds > this
    "retry_attempts": 4,  # quick transport retries inside one pipeline attempt
    "retry_deadline": 4.0,  # s, below the lease
}


def serve(spec: dict[str, Any]) -> None:
    knobs = {**DEFAULTS, **spec}
    credentials = SandboxCredentials.read(knobs["credentials"])
    signer = SoftwareSigner.from_files(knobs["key"], knobs["cert"])
    ledger = open_ledger(knobs["ledger_url"])
    company = company_for(credentials)
    retry = RetryPolicy(
        attempts=knobs["retry_attempts"],
        deadline=knobs["retry_deadline"],
        backoff=0.05,
        max_backoff=0.5,
        jitter=0.05,
    )
    timeouts = {"connect_timeout": knobs["connect_timeout"], "read_timeout": knobs["read_timeout"]}
    pipeline = Pipeline(
        ledger,
        base_transfer=company.base_transfer,
        signer=signer,
        node=SoapNodeTransport(credentials.soap_node_profile(**timeouts), retry=retry),
        platform=credentials.platform_client(profile=credentials.platform_profile(**timeouts), retry=retry),
        settings=PipelineSettings(
            spec_version=credentials.spec_version,
            batch_size=knobs["batch_size"],
            lease=timedelta(seconds=knobs["lease"]),
            backoff=timedelta(seconds=knobs["backoff"]),
            max_backoff=timedelta(seconds=knobs["max_backoff"]),
            max_attempts=knobs["max_attempts"],
        ),
    )
    receiver = credentials.receipt_receiver(receipt_sink(pipeline), seen=LedgerSeenStore(pipeline))
    server = LocalServer(make_wsgi_app(receiver), port=int(knobs["port"]), record=False).start()
    worker = Worker(pipeline, threads=knobs["threads"], batch=knobs["batch"]).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    print("ready", flush=True)
    while not stop.wait(1.0):
        pass
    worker.stop()
    server.stop()
    ledger.close()


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    logging.basicConfig(
        filename=spec.get("log"),
        level=logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    serve(spec)


if __name__ == "__main__":
    main()
