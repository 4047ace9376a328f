"""The local threaded WSGI server: keep-alive, ephemeral ports, limits, and every fault action."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import requests

from cbec_declare import errors
from cbec_declare.sandbox import Fault, Faults, LocalServer


def _hello(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Path", environ["PATH_INFO"])])
    return [b"hello:" + body]


def _broken(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    raise RuntimeError("bug in the app")


def test_ephemeral_ports_and_keep_alive() -> None:
    with LocalServer(_hello) as first, LocalServer(_hello) as second, requests.Session() as session:
        assert first.url != second.url
        assert first.url.startswith("http://127.0.0.1:")
        for _ in range(3):
            reply = session.post(first.url + "/a", data=b"x", timeout=10)
            assert reply.content == b"hello:x"
            assert reply.headers["X-Path"] == "/a"
        clients = {r.client for r in first.requests}
        assert len(clients) == 1, "one connection carried all requests (HTTP/1.1 keep-alive)"


def test_requests_are_recorded() -> None:
    with LocalServer(_hello) as server, requests.Session() as session:
        session.post(server.url + "/p?q=1", data=b"payload-text", headers={"X-Test": "yes"}, timeout=10)
        (recorded,) = server.requests
    assert (recorded.method, recorded.path, recorded.query) == ("POST", "/p", "q=1")
    assert recorded.body == b"payload-text"
    assert recorded.headers["x-test"] == "yes"
    assert "payload-text" not in repr(recorded)


def test_status_fault_then_normal() -> None:
    faults = Faults(Fault.status(503, b"busy"))
    with LocalServer(_hello, faults=faults) as server, requests.Session() as session:
        first = session.post(server.url, data=b"1", timeout=10)
        second = session.post(server.url, data=b"2", timeout=10)
    assert (first.status_code, first.content) == (503, b"busy")
    assert (second.status_code, second.content) == (200, b"hello:2")


def test_drop_fault_closes_without_an_answer() -> None:
    with LocalServer(_hello, faults=Faults(Fault.drop())) as server, requests.Session() as session:
        with pytest.raises(requests.ConnectionError):
            session.post(server.url, data=b"x", timeout=10)
        assert session.post(server.url, data=b"y", timeout=10).content == b"hello:y"


def test_delay_fault_and_rule() -> None:
    def rule(request: Any) -> Fault | None:
        return Fault.status(418) if request.path == "/teapot" else None

    faults = Faults(Fault.delay(0.2), rule=rule)
    with LocalServer(_hello, faults=faults) as server, requests.Session() as session:
        assert session.post(server.url, data=b"d", timeout=10).content == b"hello:d"
        assert session.post(server.url + "/teapot", data=b"", timeout=10).status_code == 418
        assert session.post(server.url + "/other", data=b"", timeout=10).status_code == 200
        faults.clear()
        assert session.post(server.url + "/teapot", data=b"", timeout=10).status_code == 200


def test_hang_ends_when_the_server_stops() -> None:
    server = LocalServer(_hello, faults=Faults(default=Fault.hang())).start()
    outcome: list[BaseException | int] = []

    def call() -> None:
        with requests.Session() as session:
            try:
                outcome.append(session.post(server.url, data=b"x", timeout=30).status_code)
            except requests.RequestException as exc:
                outcome.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.requests, "the request never arrived"
    server.stop()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert len(outcome) == 1
    assert isinstance(outcome[0], requests.ConnectionError)


def test_app_errors_become_500() -> None:
    with LocalServer(_broken) as server, requests.Session() as session:
        reply = session.get(server.url, timeout=10)
    assert reply.status_code == 500


def test_limits() -> None:
    with LocalServer(_hello, max_request_bytes=10) as server, requests.Session() as session:
        assert session.post(server.url, data=b"x" * 11, timeout=10).status_code == 413
        chunked = session.post(server.url, data=iter([b"a", b"b"]), timeout=10)
        assert chunked.status_code == 411


def test_url_needs_a_running_server() -> None:
    server = LocalServer(_hello)
    with pytest.raises(errors.ConfigError):
        _ = server.url
    server.stop()  # stopping a server that never started is harmless
    server.start()
    assert server.start() is server  # starting twice is harmless
    server.stop()


def _large(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return [b"x" * (8 << 20)]


def test_a_client_hanging_up_mid_answer_is_not_a_traceback(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    import socket
    import struct

    caplog.set_level("DEBUG", logger="cbec_declare.sandbox")
    with LocalServer(_large, faults=Faults(Fault.delay(0.3))) as server:
        host, port = server.url.removeprefix("http://").split(":")
        client = socket.create_connection((host, int(port.rstrip("/"))), timeout=10)
        client.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx")
        # SO_LINGER 0: close() sends a reset, so the server's write of the answer fails.
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any("went away" in r.message for r in caplog.records):
            time.sleep(0.05)
    assert any("went away" in r.message for r in caplog.records)
    assert "Traceback" not in capsys.readouterr().err


def _answer(text: bytes) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [text]

    return app


def test_a_stopped_local_server_serves_nothing_more() -> None:
    """An in-process receipt endpoint restarted on its port (a harness stopped, another started) must
    get the pushes: a client's kept-alive connection to the stopped one must not reach the old app."""
    before = LocalServer(_answer(b"before"), record=False).start()
    port = int(before.url.rsplit(":", 1)[1])
    with requests.Session() as client:
        assert client.post(before.url, data=b"x", timeout=5).content == b"before"
        before.stop()
        after = LocalServer(_answer(b"after"), port=port, record=False).start()
        try:
            answer = client.post(after.url, data=b"x", timeout=5).content
        finally:
            after.stop()
    assert answer == b"after"
