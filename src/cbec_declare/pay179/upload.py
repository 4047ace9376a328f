"""POST ``payExInfoStr`` to customs' ``realTimeDataUpload`` and read the reply.

The form body is built once; every retry posts the same bytes (same sessionID, serviceTime and
signValue). Retried (by :class:`~cbec_declare.transport.retry.RetryPolicy`: exponential backoff with
jitter, bounded attempts and deadline): connection errors, dropped connections, timeouts, HTTP 5xx
(also 408/429). Not retried: HTTP 4xx, any business reply (20000, 20001–21000: customs has answered)
and an unreadable reply to a 2xx (customs may have stored the upload; a second POST would be refused
as a reused sessionID).
"""

from __future__ import annotations

import logging
import threading
from typing import Any
from urllib.parse import urlencode

import attrs
import requests

from .._json import loads_untrusted
from ..errors import RemoteRejected, TransportError
from ..transport.http import check_status, post
from ..transport.retry import RetryPolicy, clamp_timeout
from .models import ReplyKind, UploadReply

__all__ = ["Delivery", "Uploader", "form_body", "parse_reply"]

log = logging.getLogger("cbec_declare.pay179")

FORM_FIELD = "payExInfoStr"
_HEADERS = {
    "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8",
    "Accept": "application/json, text/plain, */*",
}


def form_body(payload: str) -> bytes:
    """The ``application/x-www-form-urlencoded`` body with the one field ``payExInfoStr``."""
    return urlencode({FORM_FIELD: payload}, encoding="utf-8").encode("ascii")


def _unreadable(why: str, body: bytes) -> RemoteRejected:
    return RemoteRejected(
        f"179 upload: customs' answer is not the expected JSON ({why})",
        code="pay179.reply.unreadable",
        body=body[:200].decode("utf-8", "replace"),
    )


def _optional_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def parse_reply(body: bytes) -> UploadReply:
    """customs' JSON answer → :class:`UploadReply`; ``code`` may come as a string or a number.

    Raises :class:`~cbec_declare.errors.RemoteRejected` ``pay179.reply.unreadable`` for anything else.
    """
    try:
        text = body.decode("utf-8-sig")
        data = loads_untrusted(text)
    except (UnicodeDecodeError, ValueError):
        raise _unreadable("not JSON", body) from None
    if not isinstance(data, dict):
        raise _unreadable("not a JSON object", body)
    code = data.get("code")
    if isinstance(code, bool) or not isinstance(code, (str, int)) or str(code).strip() == "":
        raise _unreadable("no code", body)
    code_text = str(code).strip()
    message = data.get("message")
    return UploadReply(
        code=code_text,
        message=message if isinstance(message, str) else "",
        kind=ReplyKind.of(code_text),
        total=_optional_int(data.get("total")),
        service_time=_optional_int(data.get("serviceTime")),
        raw=text,
    )


@attrs.frozen
class Delivery:
    """What one upload came to: customs' reply, or the error that ended the attempts."""

    attempts: int
    reply: UploadReply | None = None
    error: TransportError | None = None


class Uploader:
    """Posts uploads to one URL with a retry policy. Without a ``session`` it keeps one
    ``requests.Session`` per thread (requests does not promise a Session is thread-safe, and the
    service uploads from several worker threads); :meth:`close` closes them all."""

    def __init__(
        self,
        url: str,
        *,
        retry: RetryPolicy | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 15.0,
        max_reply_bytes: int = 64 * 1024,
        session: requests.Session | None = None,
    ) -> None:
        self.url = url
        self.retry = retry if retry is not None else RetryPolicy()
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_reply_bytes = max_reply_bytes
        self._given = session
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Uploader({self.url!r})"

    def send(self, payload: str, *, what: str = "179 upload") -> Delivery:
        """POST ``payload`` (the signed ``payExInfoStr`` text) until customs answers or the policy
        gives up. Never raises a :class:`~cbec_declare.errors.TransportError`: it is returned."""
        body = form_body(payload)
        attempts = 0

        def attempt(left: float) -> UploadReply:
            nonlocal attempts
            attempts += 1
            reply = post(
                self._session(),
                self.url,
                data=body,
                headers=_HEADERS,
                timeout=clamp_timeout(self.connect_timeout, self.read_timeout, left),
                max_response_bytes=self.max_reply_bytes,
                what=what,
            )
            check_status(reply, what=what)
            return parse_reply(reply.body)

        try:
            answer = self.retry.call(attempt, what=what)
        except TransportError as exc:
            return Delivery(attempts=attempts, error=exc)
        log.info("%s: customs answered %s %s", what, answer.code, answer.message)
        return Delivery(attempts=attempts, reply=answer)

    def _session(self) -> requests.Session:
        if self._given is not None:
            return self._given
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            with self._lock:
                self._sessions.append(session)
        return session

    def close(self) -> None:
        """Close the sessions this uploader opened (a given ``session`` is the caller's)."""
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()
        self._local = threading.local()

    def __enter__(self) -> Uploader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
