"""The standalone sandbox: run_sandbox in a thread, and the command in another process."""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from cbec_declare.sandbox import LocalServer
from cbec_declare.sandbox.cli import run_sandbox
from cbec_declare.sandbox.credentials import SandboxCredentials
from cbec_declare.testing.factories import DocumentFactory
from cbec_declare.transport import RetryPolicy, import_order_from_ceb, make_wsgi_app
from sandbox.test_sandbox_support import FAST, orders, send_node, signed


def _wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


class _Later:
    """A WSGI app that answers 503 until the real one is set (the receiver needs the sandbox's keys)."""

    def __init__(self) -> None:
        self.app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self.app is None:
            start_response("503 Service Unavailable", [("Content-Length", "0")])
            return [b""]
        return self.app(environ, start_response)  # type: ignore[no-any-return]


def test_run_sandbox_writes_the_credentials_and_stops_on_request(tmp_path: Path) -> None:
    path = tmp_path / "creds.json"
    stop = threading.Event()
    out = io.StringIO()
    result: list[Any] = []
    worker = threading.Thread(
        target=lambda: result.append(
            run_sandbox(FAST, path, stop=stop, duration=60, stats_every=0.1, out=out)
        )
    )
    worker.start()
    try:
        assert _wait_for(path.exists)
        credentials = SandboxCredentials.read(path)  # all a client in another process knows
        _, reply = send_node(credentials, signed(orders(1)))
        assert reply.accepted
        assert _wait_for(lambda: "--- stats" in out.getvalue())
    finally:
        stop.set()
        worker.join(timeout=30)
    assert not worker.is_alive()
    (stats,) = result
    assert stats.messages == {"node": 1}
    assert not path.exists()  # the file describes a sandbox that no longer runs
    assert credentials.node_soap_url in out.getvalue()
    assert "--- final stats" in out.getvalue()
    assert stats.pending_pushes == 2  # no receiver was configured: the receipts waited for one


def test_the_command_runs_in_another_process_until_sigterm(tmp_path: Path) -> None:
    path = tmp_path / "creds.json"
    later = _Later()
    with LocalServer(later) as receiver_server:
        command = [sys.executable, "-m", "cbec_declare.sandbox.cli", "--credentials", str(path), "--seed", "4",
                   "--time-scale", "0.001", "--receiver", receiver_server.url + "/receipts"]  # fmt: skip
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert _wait_for(lambda: path.exists() or process.poll() is not None)
            assert process.poll() is None
            credentials = SandboxCredentials.read(path)
            events: list[Any] = []
            later.app = make_wsgi_app(credentials.receipt_receiver(events.append))
            order = import_order_from_ceb(DocumentFactory(seed=2).order(), company_code=credentials.send_code)
            with credentials.platform_client(retry=RetryPolicy.none()) as client:
                assert client.send(order).accepted
            send_node(credentials, signed(orders(1)))
            assert _wait_for(lambda: len(events) == 3)  # the 入库回执 and the CEB312 for 2 and 120
        finally:
            process.send_signal(signal.SIGTERM)
            stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert sorted(e.msg_type for e in events) == ["CUSTOMS_CEB_CALLBACK"] * 2 + [
        "CUSTOMS_DECLARE_RESULT_CALLBACK"
    ]
    assert credentials.platform_url in stdout
    assert "receipts_pushed: 3" in stdout
    assert "messages: node=1, platform=1" in stdout
    assert not path.exists()
