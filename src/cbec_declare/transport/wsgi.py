"""A ready WSGI application around a :class:`~cbec_declare.transport.receiver.ReceiptReceiver`.

Mount it at the URL registered with the platform (``gunicorn 'app:app'``, ``waitress``, any WSGI
server). Only ``POST`` is answered (``405`` otherwise); the body is read up to
``PushProfile.max_body_bytes`` + 1 bytes, so an oversized push never fills memory, and a body sent
without ``Content-Length`` (chunked) is refused with ``411``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..errors import PushRejected
from .receiver import PushResponse, ReceiptReceiver

__all__ = ["make_wsgi_app"]

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_REASONS = {
    200: "OK",
    400: "Bad Request",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Payload Too Large",
    500: "Internal Server Error",
}


def _status_line(status: int) -> str:
    return f"{status} {_REASONS.get(status, 'Status')}"


def make_wsgi_app(receiver: ReceiptReceiver, *, path: str | None = None) -> WsgiApp:
    """The WSGI app for ``receiver``; with ``path``, other paths answer ``404``."""
    limit = receiver.profile.max_body_bytes

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        def answer(response: PushResponse) -> list[bytes]:
            start_response(_status_line(response.status), response.headers)
            return [response.body]

        if path is not None and environ.get("PATH_INFO", "") != path:
            start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
            return [b"not found"]
        if environ.get("REQUEST_METHOD") != "POST":
            body = b"POST only"
            start_response(
                "405 Method Not Allowed",
                [("Allow", "POST"), ("Content-Type", "text/plain"), ("Content-Length", str(len(body)))],
            )
            return [body]
        raw_length = environ.get("CONTENT_LENGTH") or ""
        if not raw_length.strip().isdigit():
            content_type, body = receiver.profile.ack.error("S12", "Content-Length is required")
            start_response(
                "411 Length Required", [("Content-Type", content_type), ("Content-Length", str(len(body)))]
            )
            return [body]
        length = int(raw_length)
        if length > limit:
            # Answer without reading the body; the server closes or drains the connection.
            return answer(
                receiver.reject(
                    PushRejected(
                        f"the push body is {length} bytes; the limit is {limit}",
                        code="transport.push.oversized",
                    )
                )
            )
        body = environ["wsgi.input"].read(length)
        return answer(receiver.handle(body, environ.get("CONTENT_TYPE")))

    return app
