"""Sign with a customs IC card or ukey through the 中国电子口岸 signing client (WebSocket).

The e-port client ("客户端控件", Windows) listens on ``ws://127.0.0.1:61232``. On connect it sends
``{"_id": 0, "_method": "open", ...}``; each request is a text frame
``{"_method": "cus-sec_…", "_id": n, "args": {…}}`` and each reply carries the same ``_id`` and
``_method`` with ``"_args": {"Result": bool, "Data": [...], "Error": [...]}``. The card hashes
itself: ``cus-sec_SpcSignDataAsPEM`` takes the text to sign (``inData``) and the card PIN
(``passwd``) and returns ``[signature_base64, certNo]``; an RSA card gives PKCS#1 v1.5 over SHA-1,
an SM2 card raw ``r‖s`` over SM3(Z‖M). Failures come back as ``Result: false`` with texts such as
``["[读卡器底层库]复位读卡器失败:错误码=50070", "Err:Custom50070"]``.

::

    with EportClientSigner(pin_env="CBEC_CARD_PIN") as signer:   # ws://127.0.0.1:61232
        signature = signer.sign(signed_info_c14n)

:class:`~cbec_declare.testing.eport_fake.EportFakeServer` is a local stand-in for tests and for
people without a card.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import itertools
import json
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Final

import attrs
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.sync.client import ClientConnection, connect

from ..errors import ConfigError, SignerUnavailable, SigningError, UnsupportedAlgorithm
from .base import SignatureAlgorithm, SignerIdentity
from .certs import certificate_info, load_certificate
from .config import resolve_secret

__all__ = [
    "DEFAULT_EPORT_URL",
    "WEBSOCKETS_LOGGER",
    "EportClientSigner",
    "EportReply",
    "card_error_code",
    "parse_reply",
]

logger = logging.getLogger(__name__)

#: The e-port client's local endpoint for pages served over http (JS library v1.3.9 ``conn()``).
DEFAULT_EPORT_URL: Final = "ws://127.0.0.1:61232"
SIGN: Final = "cus-sec_SpcSignDataAsPEM"
GET_CERT_NO: Final = "cus-sec_SpcGetCertNo"
GET_SIGN_CERT_PEM: Final = "cus-sec_SpcGetSignCertAsPEM"
_MAX_MESSAGE: Final = 4 * 1024 * 1024  # replies hold a signature or a certificate: a few KB
_PIN_WORDS: Final = (
    "口令",
    "密码",
    "pin",
)  # how card errors about the PIN read (the exact codes are not public)


class _NoFrameLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """websockets logs every frame at DEBUG, and a signing request carries the PIN (``passwd``):
    its DEBUG level is switched off for our connections, while INFO and above still pass."""

    def isEnabledFor(self, level: int) -> bool:  # noqa: N802 - the logging API's name
        return level > logging.DEBUG and self.logger.isEnabledFor(level)


#: Given to websockets for every connection that may carry a PIN (also used by the test fake).
WEBSOCKETS_LOGGER: Final = _NoFrameLogger(logging.getLogger("cbec_declare.websockets"), {})


@attrs.frozen
class EportReply:
    """One reply of the e-port client: ``_id``, ``_method``, ``_status`` and ``_args``."""

    id: int | None
    method: str
    status: str
    result: bool
    data: tuple[Any, ...]
    errors: tuple[str, ...]


def parse_reply(text: str | bytes) -> EportReply:
    """Parse one reply frame; a frame that is not the documented JSON shape raises SigningError."""
    try:
        message = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SigningError(
            f"e-port client sent a frame that is not JSON: {exc}", code="sign.eport.protocol"
        ) from None
    if not isinstance(message, dict) or not isinstance(message.get("_method"), str):
        raise SigningError("e-port client reply has no _method", code="sign.eport.protocol")
    args = message.get("_args") or {}
    ident = message.get("_id")
    if isinstance(ident, str) and ident.isdigit():  # some clients echo the id as text
        ident = int(ident)
    if not isinstance(args, dict) or (ident is not None and not isinstance(ident, int)):
        raise SigningError("e-port client reply has a malformed _args or _id", code="sign.eport.protocol")
    data, errors = args.get("Data") or [], args.get("Error") or []
    if not isinstance(data, list) or not isinstance(errors, list):
        raise SigningError("e-port client reply Data/Error are not lists", code="sign.eport.protocol")
    return EportReply(
        id=ident,
        method=message["_method"],
        status=str(message.get("_status", "")),
        result=args.get("Result") is True,
        data=tuple(data),
        errors=tuple(str(e) for e in errors),
    )


def card_error_code(errors: Sequence[str]) -> str | None:
    """The machine code among a reply's ``Error`` texts, e.g. ``"Err:Custom50070"``."""
    for text in errors:
        if text.startswith("Err:"):
            return text
    return None


class EportClientSigner(SignerIdentity):
    """A :class:`~cbec_declare.signing.base.Signer` backed by the card in the e-port client.

    ``pin`` or ``pin_env`` (an environment variable name, read from ``environ``) is sent as
    ``passwd``; with neither, no ``passwd`` is sent and the client must already hold the PIN.
    ``timeout`` bounds each reply, ``connect_timeout`` each connection attempt; a refused or dropped
    connection is retried up to ``attempts`` times, ``retry_delay`` seconds apart (doubling). A
    timeout is not retried (the card may still be working): the connection is dropped and the next
    call opens a new one.

    On construction the signer reads the card's signing certificate (``SpcGetSignCertAsPEM``) and
    certificate number (``SpcGetCertNo``): ``certificate``, ``key_name`` and ``algorithm`` (RSA card
    → ``rsa-sha1``, SM2 card → ``sm2-sm3``) come from the card. A signature made under another
    certificate number (card swapped) is refused. Thread-safe: one request at a time per signer.
    """

    def __init__(
        self,
        url: str = DEFAULT_EPORT_URL,
        *,
        pin: str | None = None,
        pin_env: str | None = None,
        environ: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        connect_timeout: float = 5.0,
        attempts: int = 3,
        retry_delay: float = 0.2,
    ) -> None:
        if not isinstance(url, str) or not url.startswith(("ws://", "wss://")):
            raise ConfigError(f"url must be a ws:// or wss:// URL, got {url!r}", field="url")
        for name, value in (("timeout", timeout), ("connect_timeout", connect_timeout)):
            if not isinstance(value, (int, float)) or value <= 0:
                raise ConfigError(f"{name} must be a positive number of seconds", field=name)
        if not isinstance(attempts, int) or attempts < 1:
            raise ConfigError("attempts must be an integer >= 1", field="attempts")
        if not isinstance(retry_delay, (int, float)) or retry_delay < 0:
            raise ConfigError("retry_delay must be a number of seconds >= 0", field="retry_delay")
        self._url = url
        self._pin = (
            resolve_secret(pin, pin_env, environ=environ, what="card PIN")
            if pin is not None or pin_env is not None
            else None
        )
        self._timeout, self._connect_timeout = float(timeout), float(connect_timeout)
        self._attempts, self._retry_delay = attempts, retry_delay
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._ws: ClientConnection | None = None
        self._stack: contextlib.ExitStack | None = None
        self._closed = False

        try:
            self._read_card()
        except BaseException:
            self.close()
            raise
        logger.debug("opened %r", self)

    def _read_card(self) -> None:
        certificate = self.call(GET_SIGN_CERT_PEM).data
        cert_no = self.call(GET_CERT_NO).data
        if not certificate or not cert_no:
            raise SigningError(
                "the e-port client returned no certificate or certificate number", code="sign.eport.protocol"
            )
        self._certificate = load_certificate(str(certificate[0]))
        self._key_name = str(cert_no[0]).strip().lower()
        kind = certificate_info(self._certificate).key_algorithm
        if kind not in ("rsa", "sm2"):
            raise UnsupportedAlgorithm(
                f"the card certificate holds a {kind} key; customs cards are RSA or SM2",
                code="sign.eport.key_type",
            )
        self._algorithm = SignatureAlgorithm.RSA_SHA1 if kind == "rsa" else SignatureAlgorithm.SM2_SM3

    # -- Signer protocol --

    def sign(self, data: bytes) -> bytes:
        """The card's signature over ``data`` (sent as UTF-8 text, as the client takes it)."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise SigningError(f"data to sign must be bytes, got {type(data).__name__}", code="sign.input")
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SigningError(
                f"the e-port client signs text: data is not UTF-8 (byte {exc.start})", code="sign.eport.input"
            ) from None
        args: dict[str, Any] = {"inData": text}
        if self._pin is not None:
            args["passwd"] = self._pin
        reply = self.call(SIGN, args)
        if len(reply.data) < 1 or not isinstance(reply.data[0], str):
            raise SigningError("the e-port client returned no signature", code="sign.eport.protocol")
        if len(reply.data) > 1 and str(reply.data[1]).strip().lower() != self._key_name:
            raise SignerUnavailable(
                f"the card now signs with certificate {reply.data[1]!r}, not {self._key_name!r}: "
                "was the card changed? Open a new signer",
                code="sign.eport.card_changed",
            )
        try:
            return base64.b64decode(reply.data[0], validate=True)
        except (binascii.Error, ValueError):
            raise SigningError(
                "the e-port client returned a signature that is not base64", code="sign.eport.protocol"
            ) from None

    # -- the wire --

    def call(self, method: str, args: Mapping[str, Any] | None = None) -> EportReply:
        """Send one request and return its reply; ``Result: false`` raises SignerUnavailable.

        Usable for any client method, e.g. ``call("cus-sec_SpcGetValidTimeFromCert")``.
        """
        with self._lock:
            if self._closed:
                raise SignerUnavailable(f"{self!r} is closed", code="sign.eport.closed")
            reply = self._exchange(method, dict(args or {}))
        if not reply.result:
            raise self._card_error(method, reply)
        return reply

    def _exchange(self, method: str, args: dict[str, Any]) -> EportReply:
        delay = self._retry_delay
        for attempt in range(1, self._attempts + 1):
            try:
                ws = self._connection()
                ident = next(self._ids)
                ws.send(json.dumps({"_method": method, "_id": ident, "args": args}, ensure_ascii=False))
                return self._await(ws, method, ident)
            except SigningError:
                self._drop()  # after a malformed frame the stream cannot be trusted
                raise
            except (ConnectionClosed, OSError, InvalidHandshake) as exc:
                self._drop()
                if attempt == self._attempts:
                    raise SignerUnavailable(
                        f"the e-port client at {self._url} is unreachable after {attempt} attempt(s) "
                        f"({type(exc).__name__}); is the 中国电子口岸 client running?",
                        code="sign.eport.connect",
                    ) from None
                logger.info("e-port client %s: %s; retrying in %.2f s", self._url, type(exc).__name__, delay)
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    def _connection(self) -> ClientConnection:
        if self._ws is not None:
            return self._ws
        # Entered as a context manager: websockets >= 17.1 wants that (or legacy=True, which older
        # versions lack); the stack closes it in _drop.
        stack = contextlib.ExitStack()
        try:
            ws = stack.enter_context(
                connect(
                    self._url,
                    open_timeout=self._connect_timeout,
                    close_timeout=1.0,
                    ping_interval=None,  # request/response only; the client's keepalive is unknown
                    max_size=_MAX_MESSAGE,
                    logger=WEBSOCKETS_LOGGER,
                )
            )
        except InvalidURI as exc:
            raise ConfigError(f"url {self._url!r} is not a valid WebSocket URL: {exc}", field="url") from None
        self._ws, self._stack = ws, stack
        try:
            opening = parse_reply(ws.recv(timeout=self._timeout))
        except TimeoutError:
            self._drop()
            raise SignerUnavailable(
                f"the e-port client at {self._url} sent no 'open' message within {self._timeout} s",
                code="sign.eport.timeout",
            ) from None
        if opening.method != "open":
            self._drop()
            raise SigningError(
                f"expected the 'open' message first, got {opening.method!r}", code="sign.eport.protocol"
            )
        return ws

    def _await(self, ws: ClientConnection, method: str, ident: int) -> EportReply:
        deadline = time.monotonic() + self._timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                if remaining <= 0:
                    raise TimeoutError
                reply = parse_reply(ws.recv(timeout=remaining))
            except TimeoutError:
                self._drop()  # a late reply must not be taken for the next request's
                raise SignerUnavailable(
                    f"the e-port client gave no reply to {method} within {self._timeout} s",
                    code="sign.eport.timeout",
                ) from None
            # Replies carry our _id; the official JS matches by _method alone, so accept that too.
            if reply.method == method and reply.id in (ident, None):
                return reply
            logger.debug(
                "ignoring e-port reply %s #%s while waiting for %s #%s", reply.method, reply.id, method, ident
            )

    def _card_error(self, method: str, reply: EportReply) -> SignerUnavailable:
        texts = [self._redact(text) for text in reply.errors] or ["no error text"]
        code = card_error_code(texts)
        joined = "; ".join(texts)
        about_pin = any(word in joined.lower() for word in _PIN_WORDS)
        return SignerUnavailable(
            f"the card refused {method}: {joined}",
            code="sign.eport.pin" if about_pin else "sign.eport.card",
            card_code=code,
            card_message=joined,
        )

    def _redact(self, text: str) -> str:
        # The client should never echo the PIN; if it ever does, it stops here.
        return text.replace(self._pin, "***") if self._pin else text

    def _drop(self) -> None:
        stack, self._ws, self._stack = self._stack, None, None
        if stack is not None:
            with contextlib.suppress(OSError, ConnectionClosed):  # already broken: nothing to release
                stack.close()

    # -- lifetime --

    def close(self) -> None:
        """Close the connection. Idempotent."""
        with self._lock:
            self._closed = True
            self._drop()

    def __enter__(self) -> EportClientSigner:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        name = getattr(self, "_key_name", None)
        return f"EportClientSigner(url={self._url!r}, key_name={name!r}{', closed' if self._closed else ''})"
