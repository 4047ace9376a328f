"""A local stand-in for the 中国电子口岸 signing client's WebSocket service, for tests and demos.

::

    with EportFakeServer(SoftwareSigner.generate()) as fake:          # 127.0.0.1, free port
        with EportClientSigner(fake.url, pin="88888888") as signer:
            signature = signer.sign(b"<ds:SignedInfo ...>")

It speaks the client's protocol (signature-dxp-179-receipts.md §A.5): an ``open`` message on
connect, requests ``{"_method", "_id", "args"}`` and replies ``{"_id", "_method", "_status": "00",
"_args": {"Result", "Data", "Error"}}``, and signs with whatever :class:`~cbec_declare.signing.base.Signer`
it is given, so an RSA signer acts as an RSA card and an SM2 signer as an SM2 card. The card PIN
(``passwd``) is checked (default ``88888888``, the cards' factory PIN).

Methods: ``cus-sec_SpcSignDataAsPEM`` → ``[signature_base64, certNo]``; ``cus-sec_SpcSignData``;
``cus-sec_SpcGetCertNo`` → ``[certNo]``; ``cus-sec_SpcGetSignCertAsPEM`` → ``[base64 DER]``;
``cus-sec_SpcGetSignCert``; ``cus-sec_SpcGetValidTimeFromCert`` → ``[{"szStartTime",
"szEndTime"}]`` (``yyyyMMddHHmmss``, Beijing time); ``cus-sec_SpcSHA1Digest(AsPEM)`` (``szInfo``);
``cus-sec_SpcVerifySignData`` (``inData``, ``signData``, optional ``certDataPEM``).
Where public sources do not fix a detail, the fake makes a choice and says so: the non-PEM methods
return bytes as a JSON array of byte values; the wrong-PIN and unknown-method error texts and codes
(:data:`WRONG_PIN_ERROR`, :data:`UNKNOWN_METHOD_ERROR`) are the fake's own; a failed verification is
``Result: false``. The card-absent error is the one real clients log (:data:`CARD_ABSENT_ERROR`).

Faults for tests, changeable while running: :attr:`card_present`, :attr:`reply_delay`,
:meth:`drop_after` (close the connection instead of answering); :meth:`stop` then :meth:`start`
restarts on the same port (a client sees refused connections in between).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import logging
import socket
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, Final

import attrs
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from ..errors import CbecError, ConfigError
from ..signing.base import SignatureAlgorithm, Signer
from ..signing.certs import load_certificate, public_key
from ..signing.eport import WEBSOCKETS_LOGGER
from ..signing.sm2 import Sm2PublicKey

__all__ = [
    "CARD_ABSENT_ERROR",
    "DEFAULT_CARD_PIN",
    "UNKNOWN_METHOD_ERROR",
    "WRONG_PIN_ERROR",
    "EportFakeServer",
    "FakeCall",
]

logger = logging.getLogger(__name__)

#: The PIN customs cards leave the factory with.
DEFAULT_CARD_PIN: Final = "88888888"
#: What a real client answers when the reader cannot reach the card (seen in public logs).
CARD_ABSENT_ERROR: Final = ("[读卡器底层库]复位读卡器失败:错误码=50070", "Err:Custom50070")
#: The fake's own answer to a wrong or missing PIN (the real code is not public).
WRONG_PIN_ERROR: Final = ("[卡口令]口令验证失败(PIN incorrect)", "Err:Custom60002")
#: The fake's own answer to a method it does not implement.
UNKNOWN_METHOD_ERROR: Final = ("不支持的方法(unknown method)", "Err:Base60404")
_MALFORMED_ERROR: Final = ("数据格式非法(malformed request)", "Err:Base60400")
_VERIFY_FAILED_ERROR: Final = ("验证签名失败(signature invalid)", "Err:Custom60003")
_BEIJING: Final = dt.timezone(dt.timedelta(hours=8))
_SLICE: Final = 0.05  # seconds; delays sleep in slices so that stop() never waits long


@attrs.frozen
class FakeCall:
    """One request the fake received (``passwd`` is never kept, only whether one was given)."""

    method: str
    id: Any
    args: dict[str, Any]
    passwd_given: bool


class EportFakeServer:
    """A faithful local fake of the e-port client's WebSocket signing service (see module docs).

    ``signer`` plays the card; ``pin`` is the card PIN (``None``: no PIN needed); ``cert_no`` is
    what ``SpcGetCertNo`` returns (default ``signer.key_name``). ``port=0`` picks a free port.
    """

    def __init__(
        self,
        signer: Signer,
        *,
        pin: str | None = DEFAULT_CARD_PIN,
        host: str = "127.0.0.1",
        port: int = 0,
        cert_no: str | None = None,
        reply_delay: float = 0.0,
    ) -> None:
        if not isinstance(signer, Signer):
            raise ConfigError("signer must implement the Signer protocol", field="signer")
        self._signer = signer
        self._pin = pin
        self._host, self._port = host, port
        self._cert_no = cert_no if cert_no is not None else signer.key_name
        #: ``False`` answers every card method with :data:`CARD_ABSENT_ERROR`.
        self.card_present = True
        #: Seconds to wait before each reply (to test client timeouts).
        self.reply_delay = reply_delay
        self._lock = threading.Lock()
        self._drop_countdown: int | None = None
        self._calls: list[FakeCall] = []
        self._connections = 0
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._methods: dict[str, Callable[[dict[str, Any]], tuple[bool, list[Any], tuple[str, ...]]]] = {
            "cus-sec_SpcSignDataAsPEM": self._sign_pem,
            "cus-sec_SpcSignData": self._sign_bytes,
            "cus-sec_SpcGetCertNo": lambda args: (True, [self._cert_no], ()),
            "cus-sec_SpcGetSignCertAsPEM": lambda args: (True, [_b64(signer.certificate)], ()),
            "cus-sec_SpcGetSignCert": lambda args: (True, [list(signer.certificate)], ()),
            "cus-sec_SpcGetValidTimeFromCert": self._valid_time,
            "cus-sec_SpcSHA1Digest": lambda args: (True, [list(_sha1(args))], ()),
            "cus-sec_SpcSHA1DigestAsPEM": lambda args: (True, [_b64(_sha1(args))], ()),
            "cus-sec_SpcVerifySignData": self._verify,
        }

    # -- lifetime --

    def start(self) -> EportFakeServer:
        """Listen and serve in a background thread; after :meth:`stop`, on the same port again."""
        if self._server is not None:
            return self
        self._stopping.clear()
        try:
            sock = socket.create_server((self._host, self._port))  # SO_REUSEADDR: restart on the port
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {self._host}:{self._port}: {exc.strerror or exc}", field="port"
            ) from None
        self._port = sock.getsockname()[1]
        self._server = serve(
            self._handle, sock=sock, ping_interval=None, max_size=4 * 1024 * 1024, logger=WEBSOCKETS_LOGGER
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="eport-fake", daemon=True)
        self._thread.start()
        logger.debug("e-port fake listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop listening and close every connection (clients see the connection dropped)."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> EportFakeServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``ws://host:port`` (the port is known once started)."""
        return f"ws://{self._host}:{self._port}"

    @property
    def port(self) -> int:
        return self._port

    # -- faults and observations --

    def drop_after(self, requests: int) -> None:
        """Answer ``requests`` more requests, then close the connection on the next one (once)."""
        if requests < 0:
            raise ConfigError("requests must be >= 0", field="requests")
        with self._lock:
            self._drop_countdown = requests

    @property
    def calls(self) -> list[FakeCall]:
        """The requests received so far, oldest first."""
        with self._lock:
            return list(self._calls)

    @property
    def connections(self) -> int:
        """How many WebSocket connections have been opened."""
        with self._lock:
            return self._connections

    def __repr__(self) -> str:
        state = "running" if self._server is not None else "stopped"
        return f"EportFakeServer(url={self.url!r}, cert_no={self._cert_no!r}, {state})"

    # -- the protocol --

    def _handle(self, connection: ServerConnection) -> None:
        with self._lock:
            self._connections += 1
        try:
            connection.send(_frame(0, "open", True, [], ()))
            for message in connection:
                if not self._answer(connection, message):
                    return
        except ConnectionClosed:
            return

    def _answer(self, connection: ServerConnection, message: str | bytes) -> bool:
        try:
            request = json.loads(message)
            method, ident, args = request["_method"], request.get("_id"), request.get("args") or {}
            if not isinstance(method, str) or not isinstance(args, dict):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            connection.send(_frame(None, "", False, [], _MALFORMED_ERROR))
            return True
        with self._lock:
            self._calls.append(FakeCall(method, ident, _public(args), "passwd" in args))
            drop = self._drop_countdown == 0
            if self._drop_countdown is not None:
                self._drop_countdown = None if drop else self._drop_countdown - 1
        if drop:  # abrupt, as when the client process dies: no close frame
            connection.socket.shutdown(socket.SHUT_RDWR)
            return False
        if self.reply_delay > 0 and self._stopping.wait(self.reply_delay):
            return False
        result, data, errors = self._dispatch(method, args)
        connection.send(_frame(ident, method, result, data, errors))
        return True

    def _dispatch(self, method: str, args: dict[str, Any]) -> tuple[bool, list[Any], tuple[str, ...]]:
        handler = self._methods.get(method)
        if handler is None:
            return False, [], UNKNOWN_METHOD_ERROR
        if not self.card_present:
            return False, [], CARD_ABSENT_ERROR
        try:
            return handler(args)
        except (CbecError, ValueError, TypeError, KeyError) as exc:  # bad arguments: the card refuses
            return False, [], (f"[{method}]参数错误: {type(exc).__name__}", "Err:Custom60001")

    def _pin_refused(self, args: dict[str, Any]) -> bool:
        return self._pin is not None and args.get("passwd") != self._pin

    def _sign_pem(self, args: dict[str, Any]) -> tuple[bool, list[Any], tuple[str, ...]]:
        if self._pin_refused(args):
            return False, [], WRONG_PIN_ERROR
        signature = self._signer.sign(str(args["inData"]).encode("utf-8"))
        return True, [_b64(signature), self._cert_no], ()

    def _sign_bytes(self, args: dict[str, Any]) -> tuple[bool, list[Any], tuple[str, ...]]:
        if self._pin_refused(args):
            return False, [], WRONG_PIN_ERROR
        return True, [list(self._signer.sign(str(args["inData"]).encode("utf-8")))], ()

    def _valid_time(self, args: dict[str, Any]) -> tuple[bool, list[Any], tuple[str, ...]]:
        cert = x509.load_der_x509_certificate(load_certificate(args.get("cert") or self._signer.certificate))
        stamp = "%Y%m%d%H%M%S"
        start = cert.not_valid_before_utc.astimezone(_BEIJING).strftime(stamp)
        end = cert.not_valid_after_utc.astimezone(_BEIJING).strftime(stamp)
        return True, [{"szStartTime": start, "szEndTime": end}], ()

    def _verify(self, args: dict[str, Any]) -> tuple[bool, list[Any], tuple[str, ...]]:
        data = str(args["inData"]).encode("utf-8")
        try:
            signature = base64.b64decode(str(args["signData"]), validate=True)
        except binascii.Error:
            return False, [], _VERIFY_FAILED_ERROR
        key = public_key(args.get("certDataPEM") or self._signer.certificate)
        if isinstance(key, Sm2PublicKey):
            valid = key.verify(signature, data)
        else:
            assert isinstance(key, rsa.RSAPublicKey)
            # RSA cards sign with SHA-1; a SHA-256 signer behind the fake is honoured for its own cert.
            sha256 = self._signer.algorithm is SignatureAlgorithm.RSA_SHA256 and not args.get("certDataPEM")
            digest: hashes.HashAlgorithm = hashes.SHA256() if sha256 else hashes.SHA1()  # noqa: S303
            try:
                key.verify(signature, data, padding.PKCS1v15(), digest)
                valid = True
            except InvalidSignature:
                valid = False
        return (True, [], ()) if valid else (False, [], _VERIFY_FAILED_ERROR)


def _frame(ident: Any, method: str, result: bool, data: list[Any], errors: tuple[str, ...]) -> str:
    body = {"Result": result, "Data": data, "Error": list(errors)}
    return json.dumps({"_id": ident, "_method": method, "_status": "00", "_args": body}, ensure_ascii=False)


def _public(args: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in args.items() if key != "passwd"}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _sha1(args: dict[str, Any]) -> bytes:
    # The card method is SHA-1 by name (SpcSHA1Digest); it is a protocol fact, not a choice.
    return hashlib.sha1(str(args["szInfo"]).encode("utf-8")).digest()  # noqa: S324
