"""The ``platDataOpen`` endpoint's HTTP shell: a WSGI app around any :class:`OpenReqHandler`.

The handler (:class:`~cbec_declare.pay179.service.Pay179Service`) is framework-agnostic: it takes
the body bytes and returns an :class:`EndpointAnswer`. In Flask, Django or FastAPI call
``service.handle_body(request_body, method=request_method)`` and send back ``answer.status``,
``answer.headers`` and ``answer.body``; with any WSGI server mount :func:`make_wsgi_app`.

Business answers (10000 and the 200xx errors) go out with HTTP 200, because customs reads ``code``;
only a wrong method (405) and an oversized body (413) change the HTTP status, still with the JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

import attrs

from .openreq import ANSWER_TOO_LARGE, answer_json

__all__ = ["EndpointAnswer", "OpenReqHandler", "WsgiApp", "make_wsgi_app"]

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 413: "Payload Too Large"}


@attrs.frozen
class EndpointAnswer:
    """The HTTP answer to customs: status, JSON body, and the answer ``code`` it carries."""

    status: int
    body: bytes
    code: str

    @property
    def headers(self) -> list[tuple[str, str]]:
        return [
            ("Content-Type", "application/json;charset=UTF-8"),
            ("Content-Length", str(len(self.body))),
        ]

    @classmethod
    def of(cls, code: str, message: str = "", *, status: int = 200) -> EndpointAnswer:
        return cls(status, answer_json(code, message), code)


class OpenReqHandler(Protocol):
    """What the WSGI shell needs from the endpoint logic."""

    @property
    def max_body_bytes(self) -> int: ...

    def handle_body(self, body: bytes, *, method: str = "POST") -> EndpointAnswer:
        """Answer one request body (the URL-encoded form customs POSTs)."""
        ...


def make_wsgi_app(handler: OpenReqHandler, *, path: str | None = None) -> WsgiApp:
    """A WSGI app answering customs' ``openReq`` POSTs; with ``path``, other paths get 404.

    The body is read only up to ``handler.max_body_bytes``: a longer ``Content-Length`` is answered
    413 (code 20004) without reading it.
    """

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        def send(answer: EndpointAnswer) -> list[bytes]:
            start_response(f"{answer.status} {_REASONS.get(answer.status, 'Status')}", answer.headers)
            return [answer.body]

        if path is not None and environ.get("PATH_INFO", "") != path:
            body = b"not found"
            start_response(
                "404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
            )
            return [body]
        method = str(environ.get("REQUEST_METHOD", ""))
        raw_length = str(environ.get("CONTENT_LENGTH") or "0").strip()
        length = int(raw_length) if raw_length.isdigit() else 0
        if length > handler.max_body_bytes:
            return send(
                EndpointAnswer.of(
                    ANSWER_TOO_LARGE,
                    f"请求过大: the body is {length} bytes; the limit is {handler.max_body_bytes}",
                    status=413,
                )
            )
        body = environ["wsgi.input"].read(length) if length and method == "POST" else b""
        return send(handler.handle_body(body, method=method))

    return app
