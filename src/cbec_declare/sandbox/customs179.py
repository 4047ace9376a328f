"""A local "customs 179" (海关总署公告2018年第179号), for tests and trials on 127.0.0.1.

It plays both sides customs plays:

* it **hosts the upload endpoint** (``POST /ceb2grab/grab/realTimeDataUpload``, form field
  ``payExInfoStr``), checks the upload's signature against the registered platform certificate(s)
  with :func:`~cbec_declare.signing.pay179.verify_payload`, and answers as customs does:
  ``{"code":"10000","message":"上传成功","total":0,"serviceTime":…}`` or ``20000`` 上传失败 (bad
  signature, unknown or reused sessionID, an order that does not match the request); ``20001`` when
  the form has no ``payExInfoStr``. Real customs answered 10000 even to a foreign signValue [M]; this
  one is strict on purpose.
* it **calls the platform's** ``platDataOpen`` for orders it has been told about
  (:meth:`Customs179.tell_order`): :meth:`Customs179.request_payment_data` posts ``openReq`` with a
  fresh sessionID, reads the immediate answer, then waits (bounded) for the upload. With
  ``auto_request`` set, a timer thread does that for every order it is told about.

Faults (5xx, dropped connections, delays) are injected on the upload endpoint through
:class:`~cbec_declare.sandbox._server.Faults`; ``on_upload`` runs before each verdict is answered.
"""

from __future__ import annotations

import collections
import html
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlencode

import attrs
import requests

from ..errors import CbecError, ConfigError
from ..signing.certs import CertificateInput, certificate_info, load_certificate
from ..signing.pay179 import VerifiedPayload, verify_payload
from ._server import Faults, LocalServer

__all__ = ["UPLOAD_PATH", "Customs179", "Customs179Upload", "OpenExchange", "PaymentDataResult"]

log = logging.getLogger("cbec_declare.sandbox")

UPLOAD_PATH = "/ceb2grab/grab/realTimeDataUpload"

#: one certificate, a list of them, or certNo → certificate
PlatformCertificates = (
    CertificateInput | Mapping[str, CertificateInput] | list[CertificateInput] | tuple[CertificateInput, ...]
)


@attrs.frozen
class Customs179Upload:
    """One upload customs received, and how it answered."""

    session_id: str | None
    order_nos: tuple[str, ...]
    code: str
    message: str
    payload: str = attrs.field(repr=lambda value: f"<{len(value)} chars>")
    verified: VerifiedPayload | None = attrs.field(default=None, repr=False)

    @property
    def accepted(self) -> bool:
        return self.code == "10000"


@attrs.frozen
class OpenExchange:
    """customs' ``openReq`` call and the platform's immediate answer (``answer`` None if not JSON)."""

    order_no: str
    session_id: str
    service_time: int
    http_status: int
    answer: Mapping[str, Any] | None
    text: str

    @property
    def code(self) -> str | None:
        return None if self.answer is None else str(self.answer.get("code"))


@attrs.frozen
class PaymentDataResult:
    """A whole exchange: the openReq answer, then the upload (None if none came in time)."""

    exchange: OpenExchange
    upload: Customs179Upload | None

    @property
    def ok(self) -> bool:
        return self.exchange.code == "10000" and self.upload is not None and self.upload.accepted


def _certificates(source: PlatformCertificates) -> Any:
    """What :func:`verify_payload` takes: one DER certificate, or certNo → DER."""
    if isinstance(source, Mapping):
        return {str(key).lower(): load_certificate(value) for key, value in source.items()}
    if isinstance(source, (list, tuple)):
        registered = {}
        for item in source:
            der = load_certificate(item)
            registered[certificate_info(der).key_name] = der
        return registered
    return load_certificate(source)


class Customs179:
    """Local customs for the 179 flow (see the module doc). ``platform_certificate`` is one
    certificate, several (a list), or a mapping certNo → certificate; ``platform_url`` is the
    platform's ``platDataOpen`` URL (settable later)."""

    def __init__(
        self,
        *,
        platform_certificate: PlatformCertificates,
        platform_url: str | None = None,
        escape_open_req: bool = False,
        auto_request: float | None = None,
        upload_wait: float = 10.0,
        request_timeout: float = 10.0,
        on_upload: Callable[[Customs179Upload], object] | None = None,
        faults: Faults | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._certificates = _certificates(platform_certificate)
        self.platform_url = platform_url
        #: send openReq HTML-escaped (``&quot;``), as some gateways do
        self.escape_open_req = escape_open_req
        self.auto_request = auto_request
        self.upload_wait = upload_wait
        self.request_timeout = request_timeout
        self.on_upload = on_upload
        self.server = LocalServer(self.app, host=host, port=port, faults=faults)
        self._cond = threading.Condition()
        self._orders: list[str] = []
        self._sessions: dict[str, str] = {}  # sessionID → orderNo, as issued
        self._uploads: list[Customs179Upload] = []
        self._stored: set[str] = set()  # sessionIDs whose upload was accepted
        self._results: list[PaymentDataResult] = []
        self._due: collections.deque[tuple[float, str]] = collections.deque()
        self._stopping = False
        self._timer: threading.Thread | None = None

    # -- life cycle ------------------------------------------------------------------------------

    @property
    def faults(self) -> Faults:
        return self.server.faults

    @property
    def upload_url(self) -> str:
        return self.server.url + UPLOAD_PATH

    def start(self) -> Customs179:
        self.server.start()
        if self.auto_request is not None and self._timer is None:
            self._stopping = False
            self._timer = threading.Thread(target=self._run_timer, name="cbec-customs179-timer", daemon=True)
            self._timer.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.join(timeout=self.request_timeout + self.upload_wait + 1)
        self.server.stop()

    def __enter__(self) -> Customs179:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- what customs has seen -------------------------------------------------------------------

    @property
    def orders(self) -> list[str]:
        with self._cond:
            return list(self._orders)

    @property
    def uploads(self) -> list[Customs179Upload]:
        with self._cond:
            return list(self._uploads)

    @property
    def results(self) -> list[PaymentDataResult]:
        """The exchanges the timer made."""
        with self._cond:
            return list(self._results)

    def tell_order(self, order_no: str) -> None:
        """customs learns of an order (as from a CEB311); with ``auto_request``, it will ask for its
        payment data ``auto_request`` seconds later."""
        with self._cond:
            if order_no not in self._orders:
                self._orders.append(order_no)
            if self.auto_request is not None:
                self._due.append((time.monotonic() + self.auto_request, order_no))
                self._cond.notify_all()

    # -- customs → platform ----------------------------------------------------------------------

    def open_request(
        self, order_no: str, *, session_id: str | None = None, service_time: int | None = None
    ) -> OpenExchange:
        """POST ``openReq`` for ``order_no`` to the platform; returns its immediate answer. A given
        ``session_id`` repeats an earlier request (customs retrying)."""
        if self.platform_url is None:
            raise ConfigError("Customs179.platform_url is not set", code="config.sandbox.customs179")
        with self._cond:
            if order_no not in self._orders:
                raise ConfigError(
                    f"customs has not seen order {order_no}; call tell_order first",
                    code="config.sandbox.customs179",
                )
            session = session_id or f"SID-{uuid.uuid4().hex.upper()}"
            self._sessions.setdefault(session, order_no)
        moment = service_time if service_time is not None else int(time.time() * 1000)
        text = json.dumps(
            {"orderNo": order_no, "sessionID": session, "serviceTime": moment}, separators=(",", ":")
        )
        if self.escape_open_req:
            text = html.escape(text, quote=True)
        # A fresh connection per call: requests.Session is not promised to be thread-safe, and the
        # timer and test threads call this concurrently.
        response = requests.post(
            self.platform_url,
            data=urlencode({"openReq": text}),
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"},
            timeout=self.request_timeout,
        )
        try:
            answer = response.json()
        except ValueError:
            answer = None
        return OpenExchange(
            order_no=order_no,
            session_id=session,
            service_time=moment,
            http_status=response.status_code,
            answer=answer if isinstance(answer, dict) else None,
            text=response.text,
        )

    def wait_upload(self, session_id: str, timeout: float | None = None) -> Customs179Upload | None:
        """The first upload for ``session_id``, waiting at most ``timeout`` (default ``upload_wait``)."""

        def found() -> Customs179Upload | None:
            return next((u for u in self._uploads if u.session_id == session_id), None)

        with self._cond:
            self._cond.wait_for(
                lambda: found() is not None, timeout=self.upload_wait if timeout is None else timeout
            )
            return found()

    def request_payment_data(self, order_no: str, *, timeout: float | None = None) -> PaymentDataResult:
        """Ask the platform for ``order_no``'s payment data and wait (bounded) for the upload."""
        exchange = self.open_request(order_no)
        upload = self.wait_upload(exchange.session_id, timeout) if exchange.code == "10000" else None
        log.info("customs179: order %s: answer %s, upload %s", order_no, exchange.code, upload)
        return PaymentDataResult(exchange, upload)

    def _run_timer(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and (not self._due or self._due[0][0] > time.monotonic()):
                    wait = self._due[0][0] - time.monotonic() if self._due else None
                    self._cond.wait(timeout=wait)
                if self._stopping:
                    return
                _, order_no = self._due.popleft()
            try:
                result = self.request_payment_data(order_no)
            except (requests.RequestException, CbecError) as exc:
                log.warning("customs179: asking for order %s failed: %s", order_no, exc)
                continue
            with self._cond:
                self._results.append(result)
                self._cond.notify_all()

    def wait_results(self, count: int, timeout: float) -> list[PaymentDataResult]:
        """Wait (at most ``timeout``) until the timer has made ``count`` exchanges."""
        with self._cond:
            self._cond.wait_for(lambda: len(self._results) >= count, timeout=timeout)
            return list(self._results)

    # -- platform → customs: the upload endpoint -------------------------------------------------

    def judge(self, payload: str) -> Customs179Upload:
        """customs' verdict on one ``payExInfoStr`` (also recorded)."""
        verified: VerifiedPayload | None = None
        session: str | None = None
        orders: tuple[str, ...] = ()
        try:
            verified = verify_payload(payload, certificate=self._certificates)
        except CbecError as exc:
            code, message = "20000", f"上传失败：验签失败 ({exc.code})"
        else:
            session = verified.session_id
            orders = tuple(str(item.get("orderNo")) for item in verified.lists if isinstance(item, Mapping))
            with self._cond:
                expected = self._sessions.get(session)
                reused = session in self._stored
            if expected is None:
                code, message = "20000", "上传失败：sessionID无效"
            elif reused:
                code, message = "20000", "上传失败，入库失败"
            elif expected not in orders:
                code, message = "20000", f"上传失败：订单{expected}不在上传数据中"
            else:
                code, message = "10000", "上传成功"
        upload = Customs179Upload(session, orders, code, message, payload, verified)
        if self.on_upload is not None:
            self.on_upload(upload)
        with self._cond:
            if upload.accepted and session is not None:
                self._stored.add(session)
            self._uploads.append(upload)
            self._cond.notify_all()
        return upload

    def app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        """The WSGI app of the upload endpoint."""
        if environ.get("PATH_INFO") != UPLOAD_PATH or environ.get("REQUEST_METHOD") != "POST":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length).decode("utf-8", "replace")
        values = parse_qs(body, keep_blank_values=True).get("payExInfoStr", [])
        if len(values) != 1:
            code, message = "20001", "payExInfoStr参数缺失"
        else:
            upload = self.judge(values[0])
            code, message = upload.code, upload.message
        answer = json.dumps(
            {"code": code, "message": message, "total": 0, "serviceTime": int(time.time() * 1000)},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode("utf-8")
        start_response("200 OK", [("Content-Type", "application/json;charset=UTF-8")])
        return [answer]
