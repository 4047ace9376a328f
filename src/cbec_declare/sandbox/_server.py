"""A small threaded HTTP/1.1 WSGI server on 127.0.0.1, with per-request fault injection.

Why not ``wsgiref.simple_server``: it speaks HTTP/1.0 and closes every connection, so a client's
connection pool is never exercised, and ``BaseHTTPRequestHandler`` with keep-alive costs ~44 ms per
request from Nagle + delayed ACK unless ``disable_nagle_algorithm`` is set (``toolchain.md`` §6).
This server keeps connections alive, disables Nagle, binds an ephemeral port, and records every
request.

Faults (:class:`Faults`) are consulted once per request, after the body is read and before the app
runs: scripted actions first (in order), then the ``rule`` callable, then ``default``. Actions:
:meth:`Fault.drop` (close the connection without answering), :meth:`Fault.status` (answer a status
such as 503 instead of the app), :meth:`Fault.delay` (wait, then run the app), :meth:`Fault.hang`
(never answer until the server stops). Every wait ends when the server stops.
"""

from __future__ import annotations

import collections
import contextlib
import io
import logging
import socket
import sys
import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import unquote

import attrs

from ..errors import ConfigError

__all__ = ["Fault", "Faults", "LocalServer", "RecordedRequest", "WsgiApp"]

log = logging.getLogger("cbec_declare.sandbox")

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@attrs.frozen
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes = attrs.field(repr=lambda value: f"<{len(value)} bytes>")
    #: (address, port) of the client; the same port twice means a kept-alive connection
    client: tuple[str, int] = ("", 0)


@attrs.frozen
class Fault:
    """One injected misbehaviour (build with the class methods)."""

    kind: str
    status_code: int = 0
    body: bytes = b""
    seconds: float = 0.0

    @classmethod
    def drop(cls) -> Fault:
        return cls("drop")

    @classmethod
    def status(cls, status_code: int, body: bytes = b"") -> Fault:
        return cls("status", status_code=status_code, body=body)

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        return cls("delay", seconds=seconds)

    @classmethod
    def hang(cls) -> Fault:
        return cls("hang")


class Faults:
    """What to do to the next requests: a script, then a rule, then a default (``None`` = behave)."""

    def __init__(
        self,
        *script: Fault,
        rule: Callable[[RecordedRequest], Fault | None] | None = None,
        default: Fault | None = None,
    ) -> None:
        self._script: collections.deque[Fault] = collections.deque(script)
        self._lock = threading.Lock()
        self.rule = rule
        self.default = default

    def add(self, *actions: Fault) -> None:
        """Queue actions for the next requests, one each."""
        with self._lock:
            self._script.extend(actions)

    def clear(self) -> None:
        with self._lock:
            self._script.clear()
        self.rule = None
        self.default = None

    def next(self, request: RecordedRequest) -> Fault | None:
        with self._lock:
            if self._script:
                return self._script.popleft()
        if self.rule is not None:
            action = self.rule(request)
            if action is not None:
                return action
        return self.default


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], owner: LocalServer) -> None:
        self.owner = owner
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End every kept-alive connection: a stopped server must not go on answering through them (a
        new server on the same port would never see that client's requests)."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-answer (a timeout, a fault test, a killed worker) is normal here;
        # socketserver would print a traceback to stderr for each one. Anything else is logged.
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            log.debug("client %s went away: %s", client_address, type(error).__name__)
            return
        log.exception("sandbox server error while answering %s", client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    #: idle keep-alive connections are closed after this many seconds
    timeout = 10
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def _plain(self, status: int, body: bytes, *, close: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def _serve(self) -> None:
        owner = self.server.owner
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self._plain(411, b"Content-Length required", close=True)
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self._plain(400, b"bad Content-Length", close=True)
            return
        if length > owner.max_request_bytes:
            self._plain(413, b"request too large", close=True)
            return
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        request = RecordedRequest(
            self.command,
            unquote(path, encoding="latin-1"),
            query,
            {k.lower(): v for k, v in self.headers.items()},
            body,
            (str(self.client_address[0]), int(self.client_address[1])),
        )
        if owner.stopping.is_set():  # read while the server stopped: no answer from a stopped app
            self.close_connection = True
            return
        owner._record(request)
        fault = owner.faults.next(request)
        if fault is not None and not self._apply(fault, owner):
            return
        self._run_app(request)

    def _apply(self, fault: Fault, owner: LocalServer) -> bool:
        """Carry out a fault; ``True`` means "now run the app"."""
        if fault.kind == "delay":
            owner.stopping.wait(fault.seconds)
            return not owner.stopping.is_set()
        if fault.kind == "status":
            self.send_response(fault.status_code)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(fault.body)))
            self.end_headers()
            self.wfile.write(fault.body)
            return False
        if fault.kind == "hang":
            owner.stopping.wait()
        # drop (and a hang that ends): close without a word
        self.close_connection = True
        with contextlib.suppress(OSError):  # the client may have gone already
            self.connection.shutdown(socket.SHUT_RDWR)
        return False

    def _run_app(self, request: RecordedRequest) -> None:
        owner = self.server.owner
        host, port = self.server.server_address[:2]
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": request.path,
            "QUERY_STRING": request.query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(request.body)),
            "SERVER_NAME": str(host),
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(request.body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in self.headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[key] = value
        started: list[Any] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            started[:] = [status, headers]
            return lambda data: None  # the legacy write() callable; our apps return their body

        try:
            result = owner.app(environ, start_response)
            try:
                payload = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception:
            log.exception("the WSGI app failed on %s %s", request.method, request.path)
            self._plain(500, b"internal error")
            return
        status, headers = started
        self.send_response(int(status.split(" ", 1)[0]))
        for name, value in headers:
            if name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    # http.server dispatches on these names.
    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve  # noqa: N815


class LocalServer:
    """Serves a WSGI app on ``host`` (127.0.0.1) and an ephemeral port until :meth:`stop`.

    ``record`` keeps every request (for tests that inspect :attr:`requests`); a long-running endpoint
    (the receipt receiver of a worker) turns it off so memory stays flat.
    """

    def __init__(
        self,
        app: WsgiApp,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults | None = None,
        max_request_bytes: int = 64 * 1024 * 1024,
        record: bool = True,
    ) -> None:
        self.app = app
        self.record = record
        self.host = host
        self.port = port
        self.faults = faults if faults is not None else Faults()
        self.max_request_bytes = max_request_bytes
        self.stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()

    def _record(self, request: RecordedRequest) -> None:
        if not self.record:
            return
        with self._lock:
            self._requests.append(request)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def url(self) -> str:
        if self._server is None:
            raise ConfigError("the server is not running; call start() first", code="config.sandbox")
        return f"http://{self.host}:{self._server.server_address[1]}"

    def start(self) -> LocalServer:
        if self._server is not None:
            return self
        self.stopping.clear()
        self._server = _Server((self.host, self.port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="cbec-sandbox",
            daemon=True,
        )
        self._thread.start()
        log.debug("sandbox server listening on %s", self.url)
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self.stopping.set()  # wake delayed and hanging handlers first
        server.shutdown()
        server.server_close()
        server.close_connections()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
