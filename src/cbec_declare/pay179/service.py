"""The 179 flow on the platform side: answer customs' ``openReq`` at once, upload in the background.

::

    customs ──openReq──► handle_body ── record request (store) ── queue job ──► answer 10000
                                                                    │
                      worker thread: look up data ─► build + sign payExInfoStr ─► claim sessionID
                                     (store) ─► POST realTimeDataUpload (retries) ─► record outcome

A sessionID is uploaded at most once: the claim in the store is atomic, and customs retrying the
same ``openReq`` (same sessionID) finds the request already there. A request whose upload never
started (no data yet, invalid data, signer down, queue full, process stopped) leaves its sessionID
unused: customs asking again, :meth:`Pay179Service.resume` (on start) or
:meth:`Pay179Service.upload_again` try again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from ..errors import CbecError, ConfigError, ModelError, PipelineError, RemoteRejected, SigningError
from ..pipeline.ledger import Ledger
from ..signing.pay179 import build_payload
from .config import Pay179Config
from .endpoint import EndpointAnswer, WsgiApp, make_wsgi_app
from .models import OpenRequest, Outcome, PaymentData, RequestRecord, RequestStatus, UploadOutcome
from .openreq import (
    ANSWER_BUSY,
    ANSWER_FAILED,
    ANSWER_METHOD,
    ANSWER_OK,
    ANSWER_SESSION_CONFLICT,
    ANSWER_TOO_LARGE,
    parse_open_req,
    parse_open_req_form,
)
from .source import LedgerPaymentSource, PaymentDataSource, PaymentLookup, as_lookup
from .sqlite_store import SqlitePay179Store
from .store import Pay179Store, RawExchangeSource
from .upload import Delivery, Uploader
from .worker import UploadWorker

__all__ = ["Pay179Service"]

log = logging.getLogger("cbec_declare.pay179")

OnOutcome = Callable[[UploadOutcome], object]


class Pay179Service:
    """The endpoint logic, the background uploader and the store, wired by one :class:`Pay179Config`.

    ``source`` (or ``config.source``, or ``config.ledger`` with the store's raw exchanges) gives the
    payment data; ``store`` defaults to a :class:`SqlitePay179Store` at ``config.store_path``;
    ``on_outcome`` is called with every :class:`UploadOutcome` (from the worker thread).
    Call :meth:`start` to run the worker; :meth:`close` when done.
    """

    def __init__(
        self,
        config: Pay179Config,
        *,
        source: PaymentDataSource | PaymentLookup | None = None,
        store: Pay179Store | None = None,
        uploader: Uploader | None = None,
        on_outcome: OnOutcome | None = None,
    ) -> None:
        self.config = config
        self.signer = config.require_signer()
        self._own_store = store is None
        self.store: Pay179Store = store if store is not None else SqlitePay179Store(config.store_path)
        self._ledger: Ledger | None = None
        try:
            self._lookup = as_lookup(self._source(source))
        except BaseException:
            self.close()
            raise
        self.uploader = uploader or Uploader(
            config.upload_url,
            retry=config.retry,
            connect_timeout=config.connect_timeout,
            read_timeout=config.read_timeout,
            max_reply_bytes=config.max_reply_bytes,
        )
        self.worker = UploadWorker(self.process, threads=config.workers, queue_size=config.queue_size)
        self.on_outcome = on_outcome
        # The Signer protocol promises nothing about threads (a card client is one WebSocket).
        self._sign_lock = threading.Lock()

    def _source(self, source: PaymentDataSource | PaymentLookup | None) -> PaymentDataSource | PaymentLookup:
        chosen = source if source is not None else self.config.source
        if chosen is not None:
            return chosen
        if self.config.ledger is None:
            raise ConfigError(
                "the 179 service needs payment data: pass source=..., or set pay179.source or pay179.ledger",
                code="config.pay179.source",
                field="pay179.source",
            )
        if not isinstance(self.store, RawExchangeSource):
            raise ConfigError(
                "pay179.ledger needs a store that keeps raw exchanges (SqlitePay179Store), "
                "or pass source=...",
                code="config.pay179.source",
                field="pay179.ledger",
            )
        from ..pipeline.ledgers import open_ledger

        self._ledger = open_ledger(self.config.ledger)
        return LedgerPaymentSource(
            self._ledger, self.store, item_link_template=self.config.item_link_template
        )

    def __repr__(self) -> str:
        return f"Pay179Service(upload_url={self.config.upload_url!r}, store={self.store!r})"

    # -- the endpoint ----------------------------------------------------------------------------

    @property
    def max_body_bytes(self) -> int:
        return self.config.max_body_bytes

    def handle_body(self, body: bytes, *, method: str = "POST") -> EndpointAnswer:
        """Answer customs' ``platDataOpen`` request: the form body with ``openReq``."""
        if method.upper() != "POST":
            return EndpointAnswer.of(ANSWER_METHOD, "仅支持POST: POST only", status=405)
        if len(body) > self.config.max_body_bytes:
            return EndpointAnswer.of(
                ANSWER_TOO_LARGE, f"请求过大: the limit is {self.config.max_body_bytes} bytes", status=413
            )
        try:
            request = parse_open_req_form(body)
        except ModelError as exc:
            return self._refuse(exc)
        return self.accept(request)

    def handle_open_req(self, text: str) -> EndpointAnswer:
        """Answer an ``openReq`` whose form the web framework has already parsed."""
        try:
            request = parse_open_req(text)
        except ModelError as exc:
            return self._refuse(exc)
        return self.accept(request)

    def _refuse(self, exc: ModelError) -> EndpointAnswer:
        log.warning("179: refused an openReq: %s", exc)
        return EndpointAnswer.of(str(exc.context["answer_code"]), f"请求参数错误: {exc}")

    def accept(self, request: OpenRequest) -> EndpointAnswer:
        """Record a valid request, queue its upload and answer (never waits for the upload)."""
        try:
            record, created = self.store.record_request(request)
        except CbecError as exc:
            log.error("179: cannot record the request for order %s: %s", request.order_no, exc)
            return EndpointAnswer.of(ANSWER_FAILED, "请求记录失败: the request could not be recorded")
        if not created:
            if record.order_no != request.order_no:
                log.warning(
                    "179: sessionID %s came again for order %s (first for %s)",
                    request.session_id,
                    request.order_no,
                    record.order_no,
                )
                return EndpointAnswer.of(
                    ANSWER_SESSION_CONFLICT, "sessionID重复: this sessionID was received for another order"
                )
            log.info("179: customs repeated openReq %s (%s)", request.session_id, record.status.value)
            if record.status.session_used:
                return EndpointAnswer.of(ANSWER_OK)
        if not self.worker.submit(request.session_id):
            log.warning("179: upload queue full; openReq %s recorded, answered busy", request.session_id)
            return EndpointAnswer.of(ANSWER_BUSY, "平台繁忙，请稍后重试: busy, ask again later")
        return EndpointAnswer.of(ANSWER_OK)

    def wsgi_app(self) -> WsgiApp:
        """The endpoint as a WSGI app on ``config.endpoint_path``."""
        return make_wsgi_app(self, path=self.config.endpoint_path)

    # -- the upload ------------------------------------------------------------------------------

    def process(self, session_id: str) -> UploadOutcome | None:
        """The background job: upload the data for a recorded request. Returns None (and does
        nothing) when the sessionID is already used — a repeated job, a customs retry."""
        try:
            return self._process(session_id)
        except PipelineError as exc:
            if exc.code != "pay179.session.used":
                raise
            log.info("179: sessionID %s is used already; nothing to do", session_id)
            return None

    def upload_session(self, session_id: str) -> UploadOutcome:
        """Upload for one recorded request now, in this thread. Raises
        :class:`~cbec_declare.errors.PipelineError` ``pay179.session.used`` if its sessionID was used."""
        return self._process(session_id)

    def upload_again(self, order_no: str) -> UploadOutcome:
        """Re-send the data of ``order_no`` with the newest sessionID customs gave that is not used
        yet; refuses (``pay179.session.none``) when every sessionID for the order was used."""
        requests = self.store.requests_for_order(order_no)
        fresh = [request for request in requests if not request.status.session_used]
        if not fresh:
            used = ", ".join(request.session_id for request in requests) or "none"
            raise PipelineError(
                f"no unused sessionID for order {order_no} (received: {used}); customs refuses a second "
                "upload with the same sessionID, so a re-send needs a new openReq from customs",
                code="pay179.session.none",
                field="orderNo",
            )
        return self.upload_session(fresh[0].session_id)

    def _process(self, session_id: str) -> UploadOutcome:
        request = self.store.get_request(session_id)
        if request is None:
            raise PipelineError(
                f"no request with sessionID {session_id!r} was received",
                code="pay179.session.unknown",
                field="sessionID",
            )
        if request.status.session_used:
            upload = self.store.get_upload(session_id)
            raise PipelineError(
                f"sessionID {session_id!r} was used already (upload {upload.id if upload else '?'}, "
                f"{request.status.value}); wait for a new openReq from customs",
                code="pay179.session.used",
                field="sessionID",
            )
        try:
            # object, not PaymentData | None: integrators' sources are checked, not trusted.
            data: object = self._lookup(request.order_no)
        except ModelError as exc:
            return self._not_sent(request, Outcome.INVALID, exc.code, str(exc))
        except Exception as exc:
            log.exception("179: the payment data source failed for order %s", request.order_no)
            return self._not_sent(request, Outcome.NO_DATA, "pay179.data.source", type(exc).__name__)
        if data is None:
            return self._not_sent(
                request, Outcome.NO_DATA, "pay179.data.none", "the source does not know the order"
            )
        if not isinstance(data, PaymentData):
            return self._not_sent(
                request,
                Outcome.INVALID,
                "pay179.data.type",
                f"the source returned {type(data).__name__}, not PaymentData",
            )
        if not data.covers(request.order_no):
            return self._not_sent(
                request,
                Outcome.INVALID,
                "pay179.data.order-mismatch",
                "the data lists no item for this order",
            )
        try:
            with self._sign_lock:
                payload = build_payload(
                    data.head,
                    data.items,
                    session_id=session_id,
                    signer=self.signer,
                    cert_no=self.config.cert_no,
                    service_time_as_text=self.config.service_time_as_text,
                )
        except ModelError as exc:
            return self._not_sent(request, Outcome.INVALID, exc.code, str(exc))
        except SigningError as exc:
            return self._not_sent(request, Outcome.SIGN_FAILED, exc.code, str(exc))
        upload_id = self.store.claim_upload(session_id, payload)
        what = f"179 upload {session_id} (order {request.order_no})"
        try:
            delivery = self.uploader.send(payload, what=what)
        except Exception as exc:
            # A bad URL (ConfigError) or a bug must still close the claimed upload in the store.
            log.exception("%s: failed before customs answered", what)
            code = exc.code if isinstance(exc, CbecError) else "pay179.internal"
            outcome = UploadOutcome(
                session_id=session_id,
                order_no=request.order_no,
                outcome=Outcome.FAILED,
                attempts=0,
                error_code=code,
                error_message=f"{type(exc).__name__}: {exc}",
                upload_id=upload_id,
            )
        else:
            outcome = _outcome(request, delivery, upload_id)
        self.store.finish_upload(upload_id, outcome)
        log.info("%s: %s after %d attempt(s)", what, outcome.outcome.value, outcome.attempts)
        return self._notify(outcome)

    def _not_sent(self, request: RequestRecord, outcome: Outcome, code: str, message: str) -> UploadOutcome:
        self.store.mark_request(request.session_id, outcome.request_status, f"{code}: {message}"[:1000])
        log.warning("179: order %s not uploaded (%s): %s", request.order_no, outcome.value, message)
        return self._notify(
            UploadOutcome(
                session_id=request.session_id,
                order_no=request.order_no,
                outcome=outcome,
                error_code=code,
                error_message=message,
            )
        )

    def _notify(self, outcome: UploadOutcome) -> UploadOutcome:
        if self.on_outcome is not None:
            try:
                self.on_outcome(outcome)
            except Exception:
                log.exception("179: the on_outcome hook failed")
        return outcome

    # -- life cycle ------------------------------------------------------------------------------

    def resume(self) -> int:
        """Queue every request still RECEIVED (recorded, never processed); returns how many."""
        queued = 0
        for request in self.store.requests_in(RequestStatus.RECEIVED, limit=self.config.queue_size):
            queued += self.worker.submit(request.session_id)
        if queued:
            log.info("179: resumed %d recorded request(s)", queued)
        return queued

    def start(self) -> Pay179Service:
        """Start the worker and resume recorded requests."""
        self.worker.start()
        self.resume()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.worker.stop(timeout=timeout)

    def close(self) -> None:
        """Stop the worker and release the store, ledger and HTTP connections this service opened."""
        worker = getattr(self, "worker", None)
        if worker is not None:
            worker.stop()
        uploader = getattr(self, "uploader", None)
        if uploader is not None:
            uploader.close()
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None
        if self._own_store:
            self.store.close()

    def __enter__(self) -> Pay179Service:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


def _outcome(request: RequestRecord, delivery: Delivery, upload_id: int) -> UploadOutcome:
    reply, error = delivery.reply, delivery.error
    if reply is not None:
        kind = Outcome.UPLOADED if reply.ok else Outcome.REJECTED
        return UploadOutcome(
            session_id=request.session_id,
            order_no=request.order_no,
            outcome=kind,
            attempts=delivery.attempts,
            reply=reply,
            upload_id=upload_id,
        )
    assert error is not None
    # customs (or its gateway) answered and refused: not a failure to reach it.
    kind = Outcome.REJECTED if isinstance(error, RemoteRejected) else Outcome.FAILED
    return UploadOutcome(
        session_id=request.session_id,
        order_no=request.order_no,
        outcome=kind,
        attempts=delivery.attempts,
        error_code=error.code,
        error_message=error.message,
        upload_id=upload_id,
    )
