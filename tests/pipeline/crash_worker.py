"""A worker process for the crash test: joins a running sandbox and works until it is killed.

python crash_worker.py CREDENTIALS.json LEDGER.sqlite3 RECEIVER_PORT
"""

from __future__ import annotations

import sys
import threading
from datetime import timedelta

from cbec_declare.pipeline import PipelineSettings
from cbec_declare.sandbox.credentials import SandboxCredentials
from cbec_declare.signing import SoftwareSigner
from cbec_declare.testing.harness import start_harness


def main() -> None:
    credentials_path, ledger_path, port, key_path, cert_path = sys.argv[1:6]
    harness = start_harness(
        credentials=SandboxCredentials.read(credentials_path),
        ledger_url=f"sqlite:///{ledger_path}",
        receiver_port=int(port),
        signer=SoftwareSigner.from_files(key_path, cert_path),
        threads=4,
        # A dead worker's leases block its documents until they expire: keep them short here (the
        # production default is longer than a send with all its quick retries).
        settings=PipelineSettings(lease=timedelta(seconds=5)),
    )
    print("ready", flush=True)
    threading.Event().wait()  # until SIGKILL (or SIGTERM)
    harness.stop()


if __name__ == "__main__":
    main()
