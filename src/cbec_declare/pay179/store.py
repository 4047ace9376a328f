"""Where the 179 flow keeps what happened: the :class:`Pay179Store` protocol.

Every customs request is recorded before it is answered, and every upload before it is sent (with
the exact ``payExInfoStr``), so that a crash never loses a request nor uploads a sessionID twice.
:class:`~cbec_declare.pay179.sqlite_store.SqlitePay179Store` is the implementation; a PostgreSQL one
can follow behind the same protocol.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

from .models import (
    OpenRequest,
    RawPaymentExchange,
    RequestRecord,
    RequestStatus,
    UploadOutcome,
    UploadRecord,
)

__all__ = ["Pay179Store", "RawExchangeSource"]


@runtime_checkable
class RawExchangeSource(Protocol):
    """Looks up what only the integrator has: the raw exchange with the payment company."""

    def raw_exchange(self, order_no: str) -> RawPaymentExchange | None:
        """The raw exchange behind ``order_no``'s payment, or None when unknown."""
        ...


class Pay179Store(Protocol):
    """Durable record of requests and uploads. Every method is safe to call from several threads."""

    def record_request(
        self, request: OpenRequest, *, now: datetime | None = None
    ) -> tuple[RequestRecord, bool]:
        """Store a new request (status RECEIVED). Returns (the stored record, created). A request whose
        sessionID is already stored is not stored again: the existing record comes back with
        ``created`` False and its duplicate counter raised (when it is for the same order)."""
        ...

    def get_request(self, session_id: str) -> RequestRecord | None: ...

    def requests_for_order(self, order_no: str) -> list[RequestRecord]:
        """Every request for ``order_no``, newest first."""
        ...

    def requests_in(self, status: RequestStatus, *, limit: int = 1000) -> list[RequestRecord]:
        """Requests in ``status``, oldest first."""
        ...

    def mark_request(
        self, session_id: str, status: RequestStatus, reason: str = "", *, now: datetime | None = None
    ) -> None:
        """Set the status of a request whose sessionID is not used yet (NO_DATA, INVALID, …)."""
        ...

    def claim_upload(self, session_id: str, payload: str, *, now: datetime | None = None) -> int:
        """Record that an upload of ``payload`` for ``session_id`` starts; returns its id. Atomic: the
        second claim for one sessionID raises :class:`~cbec_declare.errors.PipelineError`
        ``pay179.session.used``, whichever thread or process makes it."""
        ...

    def finish_upload(self, upload_id: int, outcome: UploadOutcome, *, now: datetime | None = None) -> None:
        """Record how the upload ended (and set the request's status to match)."""
        ...

    def get_upload(self, session_id: str) -> UploadRecord | None: ...

    def uploads_for_order(self, order_no: str) -> list[UploadRecord]:
        """Every upload for ``order_no``, newest first."""
        ...

    def close(self) -> None: ...
