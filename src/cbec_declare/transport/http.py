"""The one boundary between ``requests`` and the library's exception tree, and a bounded POST.

:func:`map_requests_error` turns every ``requests`` exception into the most specific
:class:`~cbec_declare.errors.TransportError` (or :class:`~cbec_declare.errors.ConfigError` for a bad
URL): connection failures and dropped connections → ``ConnectError``; timeouts →
``TransportTimeout``; a garbled body → ``RemoteServerError``; redirect loops → ``RemoteRejected``. A
test checks that every ``RequestException`` subclass has its own mapping. TLS failures are
``ConnectError`` with code ``transport.connect.tls``, which the retry policy does not retry (a bad
certificate does not heal in seconds).

:func:`post` sends bytes and reads the answer with a size cap, never following redirects (a
redirected declaration would be re-posted to an address nobody configured). It does not judge the
status: callers first look for a SOAP Fault or a business answer, then call :func:`check_status`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import attrs
import requests
import requests.exceptions as rex

from ..errors import (
    CbecError,
    ConfigError,
    ConnectError,
    ReceiptError,
    RemoteRejected,
    RemoteServerError,
    TransportError,
    TransportTimeout,
)

__all__ = ["HttpReply", "check_status", "map_requests_error", "post", "requests_errors"]

# (requests class, our class, code), most specific first: ConnectTimeout is both a ConnectionError
# and a Timeout, SSLError and ProxyError are ConnectionErrors.
_MAPPING: tuple[tuple[type[rex.RequestException], type[CbecError], str], ...] = (
    (rex.ConnectTimeout, TransportTimeout, "transport.timeout.connect"),
    (rex.ReadTimeout, TransportTimeout, "transport.timeout.read"),
    (rex.Timeout, TransportTimeout, "transport.timeout"),
    (rex.SSLError, ConnectError, "transport.connect.tls"),
    (rex.ProxyError, ConnectError, "transport.connect.proxy"),
    (rex.ConnectionError, ConnectError, "transport.connect"),
    (rex.ChunkedEncodingError, ConnectError, "transport.connect.dropped"),
    (rex.ContentDecodingError, RemoteServerError, "transport.server.decoding"),
    (rex.RetryError, RemoteServerError, "transport.server.retries"),
    (rex.TooManyRedirects, RemoteRejected, "transport.rejected.redirects"),
    (rex.InvalidJSONError, ReceiptError, "receipt.json"),
    (rex.InvalidProxyURL, ConfigError, "config.url.proxy"),
    (rex.InvalidURL, ConfigError, "config.url"),
    (rex.MissingSchema, ConfigError, "config.url.scheme"),
    (rex.InvalidSchema, ConfigError, "config.url.scheme"),
    (rex.URLRequired, ConfigError, "config.url"),
    (rex.InvalidHeader, ConfigError, "config.header"),
    (rex.StreamConsumedError, ConfigError, "config.stream"),
    (rex.UnrewindableBodyError, ConfigError, "config.stream"),
)


def map_requests_error(exc: rex.RequestException, *, what: str = "request") -> CbecError:
    """The library error for a ``requests`` exception (the caller raises it ``from exc``)."""
    if isinstance(exc, rex.HTTPError):
        status = exc.response.status_code if exc.response is not None else 0
        cls: type[CbecError] = RemoteServerError if status >= 500 else RemoteRejected
        return cls(f"{what}: HTTP {status}", code=f"{cls.code}.http", status=status)
    for source, target, code in _MAPPING:
        if isinstance(exc, source):
            # The requests text names host and port, never the body; keep it for diagnosis.
            return target(f"{what}: {type(exc).__name__}: {exc}", code=code)
    return TransportError(f"{what}: {type(exc).__name__}: {exc}", code="transport")


@contextmanager
def requests_errors(what: str) -> Iterator[None]:
    """Translate ``requests`` exceptions raised inside the block."""
    try:
        yield
    except rex.RequestException as exc:
        raise map_requests_error(exc, what=what) from exc


@attrs.frozen
class HttpReply:
    """What came back: status, headers (lower-case names), body bytes, seconds taken."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    elapsed: float

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


def post(
    session: requests.Session,
    url: str,
    *,
    data: bytes,
    headers: Mapping[str, str],
    timeout: tuple[float, float],
    max_response_bytes: int,
    what: str,
) -> HttpReply:
    """POST ``data``; read at most ``max_response_bytes`` of the answer (more is RemoteServerError)."""
    started = time.monotonic()
    with requests_errors(what):
        response = session.post(
            url, data=data, headers=dict(headers), timeout=timeout, stream=True, allow_redirects=False
        )
        try:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_content(chunk_size=65536):
                size += len(chunk)
                if size > max_response_bytes:
                    raise RemoteServerError(
                        f"{what}: the answer is larger than {max_response_bytes} bytes",
                        code="transport.server.oversized",
                        status=response.status_code,
                    )
                chunks.append(chunk)
        finally:
            response.close()
    return HttpReply(
        status=response.status_code,
        headers={k.lower(): v for k, v in response.headers.items()},
        body=b"".join(chunks),
        elapsed=time.monotonic() - started,
    )


def check_status(reply: HttpReply, *, what: str) -> None:
    """Raise for a non-2xx answer: 5xx/408/429 are retryable, other codes are a rejection."""
    status = reply.status
    if 200 <= status < 300:
        return
    excerpt = reply.body[:200].decode("utf-8", "replace")
    if status >= 500 or status in (408, 429):
        raise RemoteServerError(
            f"{what}: HTTP {status}", code="transport.server.http", status=status, body=excerpt
        )
    raise RemoteRejected(
        f"{what}: HTTP {status}", code="transport.rejected.http", status=status, body=excerpt
    )
