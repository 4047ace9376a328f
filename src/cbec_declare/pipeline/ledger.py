"""The ledger interface: where every document, its history and every message byte live.

The pipeline talks to a :class:`Ledger`; :class:`~cbec_declare.pipeline.sqlite_ledger.SqliteLedger` is the
default (one file, WAL) and :class:`~cbec_declare.pipeline.postgres_ledger.PostgresLedger` serves many
workers on many machines behind the same protocol (:func:`~cbec_declare.pipeline.ledgers.open_ledger`).
The ledger knows nothing about the flow: it stores records and applies, atomically, the
:class:`Transition` that the caller computes from the fresh record (see :meth:`Ledger.transition`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

import attrs

from .states import DocumentKind, State, Transition

__all__ = [
    "DocumentRecord",
    "HistoryEntry",
    "Ledger",
    "NewDocument",
    "StoredMessage",
    "SubmitResult",
]


@attrs.frozen(kw_only=True)
class NewDocument:
    """A document handed to the pipeline. ``payload`` is its spec-named JSON (UTF-8), the input of record."""

    kind: DocumentKind
    #: identifies the business document for receipts, e.g. ``"3301964J31|HZ2026..."`` for an order
    business_key: str
    #: 1 declare, 2 modify, 3 delete
    app_type: str
    #: the entity guid (OrderHead/guid, ...), unique per declaration
    guid: str
    payload: bytes
    order_no: str | None = None
    cop_no: str | None = None
    logistics_no: str | None = None
    platform_step: bool = True
    #: a modification or deletion points at the document it changes
    supersedes: int | None = None


@attrs.frozen(kw_only=True)
class SubmitResult:
    id: int
    #: False when the same (kind, business_key, app_type, guid) was already in the ledger: not declared twice
    created: bool


@attrs.frozen(kw_only=True)
class DocumentRecord:
    id: int
    kind: DocumentKind
    business_key: str
    app_type: str
    guid: str
    payload: bytes
    order_no: str | None
    cop_no: str | None
    logistics_no: str | None
    platform_step: bool
    supersedes: int | None
    state: State
    customs_status: str | None
    customs_rank: int | None
    reason: str
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    updated_at: datetime


@attrs.frozen(kw_only=True)
class HistoryEntry:
    document_id: int
    at: datetime
    old_state: State
    new_state: State
    customs_status: str | None
    reason: str
    #: False for events that were recorded but changed nothing (duplicates, stale receipts)
    applied: bool
    event: str
    message_id: int | None


@attrs.frozen(kw_only=True)
class StoredMessage:
    id: int
    #: "out" (we sent it) or "in" (we received it)
    direction: str
    #: "platform", "node", "push"
    channel: str
    message_type: str
    #: guid / CopMsgId / push id: what identifies the message on the wire
    key: str
    body: bytes
    sha256: str
    created_at: datetime
    document_ids: tuple[int, ...]


class Ledger(Protocol):
    """Durable storage of the pipeline. Every method is safe to call from several threads."""

    def submit(self, documents: Sequence[NewDocument]) -> list[SubmitResult]:
        """Store new documents in QUEUED, idempotently, in one transaction."""
        ...

    def get(self, document_id: int) -> DocumentRecord: ...

    def find(
        self,
        *,
        kind: DocumentKind | None = None,
        business_key: str | None = None,
        order_no: str | None = None,
        cop_no: str | None = None,
        logistics_no: str | None = None,
        guid: str | None = None,
        state: State | None = None,
        limit: int = 1000,
    ) -> list[DocumentRecord]:
        """Documents matching every given criterion, newest first."""
        ...

    def claim_due(
        self, *, now: datetime, owner: str, limit: int, lease_seconds: float
    ) -> list[DocumentRecord]:
        """Lease up to ``limit`` documents that need the worker (QUEUED, *_SENDING, PLATFORM_ACCEPTED) and
        whose ``next_attempt_at`` has come; a lease held by another live owner is respected."""
        ...

    def release(self, document_id: int, *, owner: str) -> None: ...

    def transition(
        self,
        document_id: int,
        decide: Callable[[DocumentRecord], Transition],
        *,
        event: str,
        message_id: int | None = None,
        next_attempt_at: datetime | None = None,
        count_attempt: bool = False,
        now: datetime | None = None,
    ) -> tuple[DocumentRecord, Transition]:
        """Atomically: read the record, call ``decide`` with it, store the result and a history entry."""
        ...

    def record_message(
        self,
        *,
        direction: str,
        channel: str,
        message_type: str,
        key: str,
        body: bytes,
        document_ids: Sequence[int] = (),
        now: datetime | None = None,
    ) -> tuple[int, bool]:
        """Store exact bytes. Returns (message id, first time); an incoming message with a key already
        stored for that channel is not stored again (``first time`` False): a push delivered twice."""
        ...

    def messages(self, document_id: int) -> list[StoredMessage]: ...

    def find_message(self, *, direction: str, channel: str, key: str) -> StoredMessage | None:
        """The newest stored message with this key on this channel (e.g. the CopMsgId a CEB900 names)."""
        ...

    def history(self, document_id: int) -> list[HistoryEntry]: ...

    def counts(self) -> dict[State, int]: ...

    def close(self) -> None: ...
