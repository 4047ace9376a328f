"""What the SQL ledger backends share: the queries and the row ↔ record mapping.

:class:`SqlLedger` implements every :class:`~cbec_declare.pipeline.ledger.Ledger` method once, in SQL that
both SQLite and PostgreSQL accept (``?`` parameters, ``INSERT … ON CONFLICT DO NOTHING``). A backend
supplies only what truly differs: how a transaction starts and row locks are taken (``_write``/``_read``
and ``_lock``/``_skip_locked``), how times are stored (``_encode_time``/``_decode_time``) and how its
driver's exceptions become :class:`~cbec_declare.errors.LedgerError`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol, TypeVar

import attrs

from ..errors import LedgerError
from .ledger import DocumentRecord, HistoryEntry, NewDocument, StoredMessage, SubmitResult
from .states import DocumentKind, State, Transition

__all__ = ["DUE_STATES", "FIND_CRITERIA", "SqlLedger", "Tx", "utc"]

logger = logging.getLogger("cbec_declare.pipeline.ledger")

#: the states in which a document needs the worker (see :meth:`SqlLedger.claim_due`)
DUE_STATES = (State.QUEUED, State.PLATFORM_SENDING, State.PLATFORM_ACCEPTED, State.NODE_SENDING)
DIRECTIONS = ("in", "out")

_DOCUMENT_COLUMNS = (
    "id, kind, business_key, app_type, guid, payload, order_no, cop_no, logistics_no, platform_step,"
    " supersedes, state, customs_status, customs_rank, reason, attempts, next_attempt_at, created_at,"
    " updated_at"
)
_HISTORY_COLUMNS = "document_id, at, old_state, new_state, customs_status, reason, applied, event, message_id"
_MESSAGE_COLUMNS = "id, direction, channel, message_type, key, body, sha256, created_at"
_DOCUMENT_FIELDS, _HISTORY_FIELDS, _MESSAGE_FIELDS = (
    tuple(name.strip() for name in columns.split(","))
    for columns in (_DOCUMENT_COLUMNS, _HISTORY_COLUMNS, _MESSAGE_COLUMNS)
)
_TIME_COLUMNS = frozenset({"at", "created_at", "updated_at", "next_attempt_at"})
_BYTES_COLUMNS = frozenset({"payload", "body"})
_FLAG_COLUMNS = frozenset({"platform_step", "applied"})
_STATE_COLUMNS = frozenset({"state", "old_state", "new_state"})
# S608 (SQL built with f-strings) is silenced where queries are assembled: only these constants and
# counts of "?" placeholders go into the text; every value is a bound parameter.

#: every ``find`` criterion is a column with an index of its own (``kind`` leads the submit-once index)
FIND_CRITERIA = ("kind", "business_key", "order_no", "cop_no", "logistics_no", "guid", "state")


class Tx(Protocol):
    """One open transaction of a backend, with ``?`` parameters."""

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a statement and return every row it yields."""
        ...

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement and return how many rows it changed."""
        ...

    def insert(self, sql: str, params: Sequence[Any] = ()) -> int | None:
        """Run an ``INSERT … ON CONFLICT DO NOTHING`` into a table with an ``id``: the new id, or None."""
        ...


def utc(value: datetime, what: str = "time") -> datetime:
    """``value`` in UTC; a naive datetime is refused, since the ledger cannot know whose clock it read."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise LedgerError(
            f"{what} {value.isoformat()} has no time zone: pass an aware datetime (e.g. in UTC)",
            code="ledger.naive_time",
        )
    return value.astimezone(timezone.utc)


_L = TypeVar("_L", bound="SqlLedger")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _marks(count: int) -> str:
    return ", ".join("?" * count)


class SqlLedger:
    """The :class:`~cbec_declare.pipeline.ledger.Ledger` methods over a backend's transactions."""

    #: appended to the SELECT of the row a transition changes (PostgreSQL locks it; SQLite's write
    #: transaction already excludes every other writer)
    _lock = ""
    #: appended to the SELECT of ``claim_due``
    _skip_locked = ""

    # -- what a backend supplies

    def _write(self) -> AbstractContextManager[Tx]:
        raise NotImplementedError

    def _read(self) -> AbstractContextManager[Tx]:
        raise NotImplementedError

    def _encode_time(self, value: datetime) -> Any:
        raise NotImplementedError

    def _decode_time(self, value: Any) -> datetime:
        raise NotImplementedError

    def close(self) -> None:
        """Close every connection; later calls raise :class:`LedgerError` ``ledger.closed``."""
        raise NotImplementedError

    def __enter__(self: _L) -> _L:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- row mapping

    def _time_or_none(self, value: datetime | None) -> Any:
        return None if value is None else self._encode_time(value)

    def _named(self, fields: Sequence[str], row: Sequence[Any]) -> dict[str, Any]:
        """A row as keyword arguments of a record: stored values back to Python types, by column name."""
        values = dict(zip(fields, row, strict=True))
        for name, value in values.items():
            if value is None:
                continue
            if name in _TIME_COLUMNS:
                values[name] = self._decode_time(value)
            elif name in _BYTES_COLUMNS:
                values[name] = bytes(value)
            elif name in _FLAG_COLUMNS:
                values[name] = bool(value)
            elif name in _STATE_COLUMNS:
                values[name] = State(value)
        return values

    def _document(self, row: Sequence[Any]) -> DocumentRecord:
        try:
            values = self._named(_DOCUMENT_FIELDS, row)
            values["kind"] = DocumentKind(values["kind"])
        except ValueError as exc:
            raise LedgerError(
                f"document {row[0]} has a kind or state this version does not know ({exc}):"
                " was it written by a newer cbec-declare?",
                code="ledger.unknown_value",
                document_id=row[0],
            ) from exc
        return DocumentRecord(**values)

    def _load(self, tx: Tx, document_id: int, lock: str = "") -> DocumentRecord:
        found = tx.rows(f"SELECT {_DOCUMENT_COLUMNS} FROM documents WHERE id = ?{lock}", (document_id,))  # noqa: S608
        if not found:
            raise LedgerError(
                f"document {document_id} is not in the ledger",
                code="ledger.not_found",
                document_id=document_id,
            )
        return self._document(found[0])

    # -- the Ledger protocol

    def submit(self, documents: Sequence[NewDocument]) -> list[SubmitResult]:
        """Store new documents in QUEUED, idempotently on (kind, business_key, app_type, guid), in one
        transaction: either every document is stored (or found) or none is.

        A new declaration (appType 1) of a business document that already has one is not stored, whatever
        its guid: the existing document comes back with ``created=False`` — declaring it twice is exactly
        what customs rejects as a duplicate.
        """
        at = self._encode_time(_now())
        results: list[SubmitResult] = []
        with self._write() as tx:
            for doc in documents:
                key = (doc.kind.value, doc.business_key, doc.app_type, doc.guid)
                new_id = tx.insert(
                    "INSERT INTO documents (kind, business_key, app_type, guid, payload, order_no, cop_no,"  # noqa: S608
                    " logistics_no, platform_step, supersedes, state, reason, attempts, created_at,"
                    f" updated_at) VALUES ({_marks(15)}) ON CONFLICT DO NOTHING",
                    (*key, doc.payload, doc.order_no, doc.cop_no, doc.logistics_no, doc.platform_step,
                     doc.supersedes, State.QUEUED.value, "", 0, at, at),
                )  # fmt: skip
                if new_id is not None:
                    results.append(SubmitResult(id=new_id, created=True))
                    continue
                same = tx.rows(
                    "SELECT id, payload FROM documents"
                    " WHERE kind = ? AND business_key = ? AND app_type = ? AND guid = ?",
                    key,
                )
                if not same:
                    (old_id,) = tx.rows(
                        "SELECT id FROM documents WHERE kind = ? AND business_key = ? AND app_type = '1'",
                        key[:2],
                    )[0]
                    logger.warning(
                        "%s %s is already declared as document %s; a second new declaration (guid %s) is"
                        " not stored",
                        doc.kind.value, doc.business_key, old_id, doc.guid,
                    )  # fmt: skip
                    results.append(SubmitResult(id=old_id, created=False))
                    continue
                old_id, old_payload = same[0]
                if bytes(old_payload) != doc.payload:
                    # The stored payload stays the input of record: a guid is declared once.
                    logger.warning(
                        "document %s (%s %s, guid %s) was submitted again with a different payload;"
                        " the stored one is kept",
                        old_id, doc.kind.value, doc.business_key, doc.guid,
                    )  # fmt: skip
                results.append(SubmitResult(id=old_id, created=False))
        return results

    def get(self, document_id: int) -> DocumentRecord:
        """The document with this id; :class:`LedgerError` ``ledger.not_found`` if there is none."""
        with self._read() as tx:
            return self._load(tx, document_id)

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
        if limit < 0:
            raise LedgerError(f"limit must be 0 or more, not {limit}", code="ledger.invalid")
        given = {
            "kind": None if kind is None else kind.value,
            "business_key": business_key,
            "order_no": order_no,
            "cop_no": cop_no,
            "logistics_no": logistics_no,
            "guid": guid,
            "state": None if state is None else state.value,
        }
        criteria = {column: value for column, value in given.items() if value is not None}
        where = " AND ".join(f"{column} = ?" for column in criteria) or "1 = 1"
        with self._read() as tx:
            found = tx.rows(
                f"SELECT {_DOCUMENT_COLUMNS} FROM documents WHERE {where} ORDER BY id DESC LIMIT ?",  # noqa: S608
                (*criteria.values(), limit),
            )
        return [self._document(row) for row in found]

    def claim_due(
        self, *, now: datetime, owner: str, limit: int, lease_seconds: float
    ) -> list[DocumentRecord]:
        """Lease up to ``limit`` due documents to ``owner`` until ``now + lease_seconds``, oldest first.

        Due: in QUEUED, PLATFORM_SENDING, PLATFORM_ACCEPTED or NODE_SENDING, with ``next_attempt_at``
        unset or not after ``now``, and not leased to another owner until after ``now`` (a lease whose
        ``until`` has passed is free; the owner's own live lease is renewed). Give each concurrent claimer
        its own ``owner``: two claims by one owner may return the same document.
        """
        if lease_seconds <= 0:
            raise LedgerError(f"lease_seconds must be positive, not {lease_seconds}", code="ledger.invalid")
        if limit <= 0:
            return []
        at = utc(now, "now")
        t_now, t_until = self._encode_time(at), self._encode_time(at + timedelta(seconds=lease_seconds))
        with self._write() as tx:
            ids = [
                row[0]
                for row in tx.rows(
                    f"SELECT id FROM documents WHERE state IN ({_marks(len(DUE_STATES))})"  # noqa: S608
                    " AND (next_attempt_at IS NULL OR next_attempt_at <= ?)"
                    " AND (lease_owner IS NULL OR lease_until <= ? OR lease_owner = ?)"
                    f" ORDER BY id LIMIT ?{self._skip_locked}",
                    (*(s.value for s in DUE_STATES), t_now, t_now, owner, limit),
                )
            ]
            if not ids:
                return []
            tx.run(
                f"UPDATE documents SET lease_owner = ?, lease_until = ? WHERE id IN ({_marks(len(ids))})",  # noqa: S608
                (owner, t_until, *ids),
            )
            found = tx.rows(
                f"SELECT {_DOCUMENT_COLUMNS} FROM documents WHERE id IN ({_marks(len(ids))}) ORDER BY id",  # noqa: S608
                ids,
            )
        return [self._document(row) for row in found]

    def release(self, document_id: int, *, owner: str) -> None:
        """End ``owner``'s lease on the document; a lease that is no longer ``owner``'s is left alone."""
        with self._write() as tx:
            released = tx.run(
                "UPDATE documents SET lease_owner = NULL, lease_until = NULL"
                " WHERE id = ? AND lease_owner = ?",
                (document_id, owner),
            )
            if not released:
                self._load(tx, document_id)  # raises ledger.not_found for an unknown document

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
        """Atomically: read the fresh record, call ``decide`` with it, store the result and a history row.

        The row is locked for the whole call, so two transitions of one document (a receipt and a worker
        action) never interleave. Every call adds a history row, with ``applied=False`` when ``decide``
        says the event changes nothing; then the document itself is left untouched. An applied transition
        stores ``state``, ``customs_status``, ``customs_rank`` and ``reason`` as ``decide`` returned them,
        sets ``next_attempt_at`` to the given value (None: due as soon as its state makes it due) and adds
        one to ``attempts`` if ``count_attempt``. If ``decide`` raises, nothing is written and the
        exception propagates unchanged.
        """
        at = utc(now, "now") if now is not None else _now()
        retry_at = None if next_attempt_at is None else utc(next_attempt_at, "next_attempt_at")
        with self._write() as tx:
            before = self._load(tx, document_id, self._lock)
            outcome = decide(before)
            after = before
            if outcome.applied:
                after = attrs.evolve(
                    before,
                    state=outcome.state,
                    customs_status=outcome.customs_status,
                    customs_rank=outcome.customs_rank,
                    reason=outcome.reason,
                    attempts=before.attempts + (1 if count_attempt else 0),
                    next_attempt_at=retry_at,
                    updated_at=at,
                )
                tx.run(
                    "UPDATE documents SET state = ?, customs_status = ?, customs_rank = ?, reason = ?,"
                    " attempts = ?, next_attempt_at = ?, updated_at = ? WHERE id = ?",
                    (after.state.value, after.customs_status, after.customs_rank, after.reason,
                     after.attempts, self._time_or_none(retry_at), self._encode_time(at), document_id),
                )  # fmt: skip
            tx.run(
                f"INSERT INTO history ({_HISTORY_COLUMNS}, customs_rank) VALUES ({_marks(10)})",  # noqa: S608
                (document_id, self._encode_time(at), before.state.value, after.state.value,
                 outcome.customs_status, outcome.reason, outcome.applied, event, message_id,
                 outcome.customs_rank),
            )  # fmt: skip
        return after, outcome

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
        """Store exact bytes and link them to documents; returns (message id, first time).

        An incoming message (``direction="in"``) whose ``key`` is already stored for its channel is not
        stored again: the stored id comes back with ``first time`` False (the new ``document_ids`` are
        still linked). Outgoing messages are stored every time.
        """
        if direction not in DIRECTIONS:
            raise LedgerError(f"direction must be 'in' or 'out', not {direction!r}", code="ledger.invalid")
        digest = hashlib.sha256(body).hexdigest()
        at = self._encode_time(utc(now, "now") if now is not None else _now())
        with self._write() as tx:
            message_id = tx.insert(
                f"INSERT INTO messages (direction, channel, message_type, key, body, sha256, created_at)"  # noqa: S608
                f" VALUES ({_marks(7)}) ON CONFLICT DO NOTHING",
                (direction, channel, message_type, key, body, digest, at),
            )
            first = message_id is not None
            if message_id is None:
                message_id, stored_digest = tx.rows(
                    "SELECT id, sha256 FROM messages WHERE direction = 'in' AND channel = ? AND key = ?",
                    (channel, key),
                )[0]
                if stored_digest != digest:
                    logger.warning(
                        "incoming %s message %r on %s came again with different bytes; message %s is kept",
                        message_type, key, channel, message_id,
                    )  # fmt: skip
            for document_id in dict.fromkeys(document_ids):
                tx.run(
                    "INSERT INTO message_documents (message_id, document_id) VALUES (?, ?)"
                    " ON CONFLICT DO NOTHING",
                    (message_id, document_id),
                )
        return message_id, first

    def messages(self, document_id: int) -> list[StoredMessage]:
        """The messages linked to a document, oldest first."""
        with self._read() as tx:
            found = tx.rows(
                f"SELECT {', '.join('m.' + c for c in _MESSAGE_COLUMNS.split(', '))} FROM messages m"  # noqa: S608
                " JOIN message_documents l ON l.message_id = m.id WHERE l.document_id = ? ORDER BY m.id",
                (document_id,),
            )
            return self._with_links(tx, found)

    def find_message(self, *, direction: str, channel: str, key: str) -> StoredMessage | None:
        """The newest stored message with this key on this channel (``messages_key`` index)."""
        with self._read() as tx:
            found = tx.rows(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages"  # noqa: S608
                " WHERE key = ? AND direction = ? AND channel = ? ORDER BY id DESC LIMIT 1",
                (key, direction, channel),
            )
            linked = self._with_links(tx, found)
        return linked[0] if linked else None

    def _with_links(self, tx: Tx, found: list[tuple[Any, ...]]) -> list[StoredMessage]:
        """Rows of ``messages`` → records, with the ids of the documents each is linked to."""
        links: dict[int, list[int]] = {row[0]: [] for row in found}
        if links:
            for message_id, linked in tx.rows(
                "SELECT message_id, document_id FROM message_documents"  # noqa: S608
                f" WHERE message_id IN ({_marks(len(links))}) ORDER BY document_id",
                list(links),
            ):
                links[message_id].append(linked)
        return [
            StoredMessage(
                **self._named(_MESSAGE_FIELDS, row),
                document_ids=tuple(links[row[0]]),
            )
            for row in found
        ]

    def history(self, document_id: int) -> list[HistoryEntry]:
        """Every transition call of a document, oldest first (ignored events included)."""
        with self._read() as tx:
            found = tx.rows(
                f"SELECT {_HISTORY_COLUMNS} FROM history WHERE document_id = ? ORDER BY id",  # noqa: S608
                (document_id,),
            )
        return [HistoryEntry(**self._named(_HISTORY_FIELDS, row)) for row in found]

    def counts(self) -> dict[State, int]:
        """How many documents are in each state (every state is present, 0 when empty)."""
        with self._read() as tx:
            found = tx.rows("SELECT state, COUNT(*) FROM documents GROUP BY state")
        out = dict.fromkeys(State, 0)
        for state, count in found:
            out[State(state)] = int(count)
        return out
