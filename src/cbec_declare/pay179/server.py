"""A small threaded HTTP server for the ``platDataOpen`` endpoint (``cbec-declare 179 serve``).

For production behind a reverse proxy, or when the platform already runs a WSGI server, mount
:meth:`Pay179Service.wsgi_app` there instead; this server is the stdlib's ``wsgiref`` with a thread
per request, which is plenty for customs' request rate (one call per order).
"""

from __future__ import annotations

import logging
import threading
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from ..errors import ConfigError
from .service import Pay179Service

__all__ = ["Pay179Server"]

log = logging.getLogger("cbec_declare.pay179")


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


class Pay179Server:
    """Serves a :class:`Pay179Service` on ``config.bind_host:bind_port`` (port 0: an ephemeral one)
    until :meth:`stop`; owns the service (starts its worker, closes it on stop)."""

    def __init__(self, service: Pay179Service) -> None:
        self.service = service
        self._server: _ThreadingWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()

    @property
    def url(self) -> str:
        """The endpoint URL (to register with customs, behind your public address)."""
        if self._server is None:
            raise ConfigError("the 179 server is not running", code="config.pay179.server")
        port = int(self._server.server_address[1])
        return f"http://{self.service.config.bind_host}:{port}{self.service.config.endpoint_path}"

    def start(self) -> Pay179Server:
        if self._server is not None:
            return self
        config = self.service.config
        try:
            server = make_server(
                config.bind_host,
                config.bind_port,
                self.service.wsgi_app(),
                server_class=_ThreadingWSGIServer,
                handler_class=_QuietHandler,
            )
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {config.bind_host}:{config.bind_port}: {exc.strerror}",
                code="config.pay179.bind",
                field="pay179.bind",
            ) from None
        self._server = server
        self.service.start()
        self._stopped.clear()
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="cbec-pay179-http", daemon=True
        )
        self._thread.start()
        log.info("179 endpoint listening on %s", self.url)
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Block until :meth:`stop` (from another thread or a signal handler) or ``timeout``;
        True when stopped."""
        return self._stopped.wait(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop listening, let running uploads finish (up to ``timeout``), close the service."""
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=timeout)
        self._server = self._thread = None
        self.service.stop(timeout=timeout)
        self.service.close()
        self._stopped.set()

    def __enter__(self) -> Pay179Server:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
