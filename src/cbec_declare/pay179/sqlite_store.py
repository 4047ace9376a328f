"""The 179 store in SQLite: three ``pay179_*`` tables, in their own file or in the ledger's.

One connection guarded by a lock (the 179 traffic is a few requests per order, far below what one
connection serves) in WAL mode with ``synchronous=FULL``: a request that was answered survives a
power loss. Writes run in ``BEGIN IMMEDIATE``, so a second process (``cbec-declare 179 upload-again``
next to the running endpoint) waits for the file lock instead of interleaving; the UNIQUE sessionID of
``pay179_uploads`` is what makes "one upload per sessionID" hold across threads and processes.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

from ..errors import LedgerError, PipelineError
from .models import (
    OpenRequest,
    RawPaymentExchange,
    RequestRecord,
    RequestStatus,
    UploadOutcome,
    UploadRecord,
)

__all__ = ["SCHEMA_VERSION", "SqlitePay179Store"]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pay179_schema (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS pay179_requests (
    session_id   TEXT PRIMARY KEY,
    order_no     TEXT NOT NULL,
    service_time INTEGER NOT NULL,
    open_req     TEXT NOT NULL,
    status       TEXT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    duplicates   INTEGER NOT NULL DEFAULT 0,
    received_at  TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS pay179_requests_order ON pay179_requests (order_no);
CREATE INDEX IF NOT EXISTS pay179_requests_status ON pay179_requests (status);
CREATE TABLE IF NOT EXISTS pay179_uploads (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id    TEXT NOT NULL UNIQUE REFERENCES pay179_requests (session_id),
    order_no      TEXT NOT NULL,
    status        TEXT NOT NULL,
    payload       TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    reply_code    TEXT,
    reply_message TEXT,
    reply_body    TEXT,
    error_code    TEXT,
    error_message TEXT,
    started_at    TEXT NOT NULL,
    finished_at   TEXT
);
CREATE INDEX IF NOT EXISTS pay179_uploads_order ON pay179_uploads (order_no);
CREATE TABLE IF NOT EXISTS pay179_raw_exchanges (
    order_no   TEXT PRIMARY KEY,
    data       TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""

_REQUEST_COLUMNS = (
    "session_id, order_no, service_time, open_req, status, reason, duplicates, received_at, updated_at"
)
_UPLOAD_COLUMNS = (
    "id, session_id, order_no, status, payload, attempts, reply_code, reply_message, reply_body,"
    " error_code, error_message, started_at, finished_at"
)
_USED = tuple(status.value for status in RequestStatus if status.session_used)


def _stamp(now: datetime | None) -> str:
    moment = now or datetime.now(timezone.utc)
    if moment.tzinfo is None:
        raise LedgerError("timestamps must be timezone-aware", code="pay179.store.naive-time")
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def _request(row: Sequence[Any]) -> RequestRecord:
    return RequestRecord(
        session_id=row[0],
        order_no=row[1],
        service_time=int(row[2]),
        open_req=row[3],
        status=RequestStatus(row[4]),
        reason=row[5],
        duplicates=int(row[6]),
        received_at=datetime.fromisoformat(row[7]),
        updated_at=datetime.fromisoformat(row[8]),
    )


def _upload(row: Sequence[Any]) -> UploadRecord:
    return UploadRecord(
        id=int(row[0]),
        session_id=row[1],
        order_no=row[2],
        status=RequestStatus(row[3]),
        payload=row[4],
        attempts=int(row[5]),
        reply_code=row[6],
        reply_message=row[7],
        reply_body=row[8],
        error_code=row[9],
        error_message=row[10],
        started_at=datetime.fromisoformat(row[11]),
        finished_at=None if row[12] is None else datetime.fromisoformat(row[12]),
    )


class SqlitePay179Store:
    """A :class:`~cbec_declare.pay179.store.Pay179Store` (and a
    :class:`~cbec_declare.pay179.store.RawExchangeSource`) in one SQLite file.

    The tables are created on opening; ``path`` may be the ledger's file (the names do not clash).
    ``busy_timeout`` (seconds) bounds how long a write waits for another process's lock.
    """

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float = 30.0) -> None:
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        try:
            self._conn: sqlite3.Connection | None = sqlite3.connect(
                self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise LedgerError(f"cannot open {self.path}: {exc}", code="pay179.store.open") from exc
        with self._errors("open"):
            conn = self._conn
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
        with self._tx("create schema") as conn:
            # One statement at a time: executescript() would COMMIT the open transaction.
            for statement in filter(str.strip, _SCHEMA.split(";")):
                conn.execute(statement)
            found = conn.execute("SELECT version FROM pay179_schema").fetchall()
            if not found:
                conn.execute("INSERT INTO pay179_schema (version) VALUES (?)", (SCHEMA_VERSION,))
            elif int(found[0][0]) > SCHEMA_VERSION:
                raise LedgerError(
                    f"{self.path} holds 179 tables of schema {found[0][0]}; "
                    f"this version knows {SCHEMA_VERSION}",
                    code="pay179.store.schema",
                )

    def __repr__(self) -> str:
        return f"SqlitePay179Store({self.path!r})"

    # -- plumbing --------------------------------------------------------------------------------

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as exc:
            busy = "locked" in str(exc) or "busy" in str(exc)
            code = "pay179.store.busy" if busy else "pay179.store.unavailable"
            raise LedgerError(f"179 store {what}: {exc}", code=code) from exc
        except sqlite3.Error as exc:
            raise LedgerError(f"179 store {what}: {exc}", code="pay179.store") from exc

    @contextmanager
    def _tx(self, what: str) -> Iterator[sqlite3.Connection]:
        with self._lock, self._errors(what):
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock, self._errors("read"):
            return self._connection().execute(sql, params).fetchall()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise LedgerError(f"the 179 store {self.path} is closed", code="pay179.store.closed")
        return self._conn

    # -- requests --------------------------------------------------------------------------------

    def record_request(
        self, request: OpenRequest, *, now: datetime | None = None
    ) -> tuple[RequestRecord, bool]:
        stamp = _stamp(now)
        with self._tx("record request") as conn:
            inserted = conn.execute(
                f"INSERT INTO pay179_requests ({_REQUEST_COLUMNS}) VALUES (?, ?, ?, ?, ?, '', 0, ?, ?)"  # noqa: S608
                " ON CONFLICT (session_id) DO NOTHING",
                (
                    request.session_id,
                    request.order_no,
                    request.service_time,
                    request.raw,
                    RequestStatus.RECEIVED.value,
                    stamp,
                    stamp,
                ),
            ).rowcount
            if not inserted:
                conn.execute(
                    "UPDATE pay179_requests SET duplicates = duplicates + 1, updated_at = ?"
                    " WHERE session_id = ? AND order_no = ?",
                    (stamp, request.session_id, request.order_no),
                )
            row = conn.execute(
                f"SELECT {_REQUEST_COLUMNS} FROM pay179_requests WHERE session_id = ?",  # noqa: S608
                (request.session_id,),
            ).fetchone()
        return _request(row), bool(inserted)

    def get_request(self, session_id: str) -> RequestRecord | None:
        rows = self._rows(
            f"SELECT {_REQUEST_COLUMNS} FROM pay179_requests WHERE session_id = ?",  # noqa: S608
            (session_id,),
        )
        return _request(rows[0]) if rows else None

    def requests_for_order(self, order_no: str) -> list[RequestRecord]:
        rows = self._rows(
            f"SELECT {_REQUEST_COLUMNS} FROM pay179_requests WHERE order_no = ? ORDER BY rowid DESC",  # noqa: S608
            (order_no,),
        )
        return [_request(row) for row in rows]

    def requests_in(self, status: RequestStatus, *, limit: int = 1000) -> list[RequestRecord]:
        rows = self._rows(
            f"SELECT {_REQUEST_COLUMNS} FROM pay179_requests WHERE status = ? ORDER BY rowid LIMIT ?",  # noqa: S608
            (RequestStatus(status).value, limit),
        )
        return [_request(row) for row in rows]

    def mark_request(
        self, session_id: str, status: RequestStatus, reason: str = "", *, now: datetime | None = None
    ) -> None:
        status = RequestStatus(status)
        if status.session_used:
            raise LedgerError(
                f"{status.value} is set by claim_upload/finish_upload, not mark_request",
                code="pay179.store.status",
            )
        with self._tx("mark request") as conn:
            row = conn.execute(
                "SELECT status FROM pay179_requests WHERE session_id = ?", (session_id,)
            ).fetchone()
            if row is None:
                raise _unknown(session_id)
            if RequestStatus(row[0]).session_used:
                raise _used(session_id, RequestStatus(row[0]))
            conn.execute(
                "UPDATE pay179_requests SET status = ?, reason = ?, updated_at = ? WHERE session_id = ?",
                (status.value, reason, _stamp(now), session_id),
            )

    # -- uploads ---------------------------------------------------------------------------------

    def claim_upload(self, session_id: str, payload: str, *, now: datetime | None = None) -> int:
        stamp = _stamp(now)
        with self._tx("claim upload") as conn:
            row = conn.execute(
                "SELECT order_no, status FROM pay179_requests WHERE session_id = ?", (session_id,)
            ).fetchone()
            if row is None:
                raise _unknown(session_id)
            order_no, status = row[0], RequestStatus(row[1])
            cursor = conn.execute(
                "INSERT INTO pay179_uploads (session_id, order_no, status, payload, started_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (session_id) DO NOTHING",
                (session_id, order_no, RequestStatus.UPLOADING.value, payload, stamp),
            )
            # lastrowid is stale when nothing was inserted: rowcount says whether the claim won.
            if cursor.rowcount != 1 or cursor.lastrowid is None:
                raise _used(session_id, status)
            upload_id = cursor.lastrowid
            conn.execute(
                "UPDATE pay179_requests SET status = ?, reason = '', updated_at = ? WHERE session_id = ?",
                (RequestStatus.UPLOADING.value, stamp, session_id),
            )
        return int(upload_id)

    def finish_upload(self, upload_id: int, outcome: UploadOutcome, *, now: datetime | None = None) -> None:
        status = outcome.outcome.request_status
        stamp = _stamp(now)
        reply = outcome.reply
        reason = (
            f"{reply.code} {reply.message}".strip()
            if reply is not None
            else f"{outcome.error_code or ''} {outcome.error_message or ''}".strip()
        )
        with self._tx("finish upload") as conn:
            changed = conn.execute(
                "UPDATE pay179_uploads SET status = ?, attempts = ?, reply_code = ?, reply_message = ?,"
                " reply_body = ?, error_code = ?, error_message = ?, finished_at = ? WHERE id = ?",
                (
                    status.value,
                    outcome.attempts,
                    None if reply is None else reply.code,
                    None if reply is None else reply.message,
                    None if reply is None else reply.raw,
                    outcome.error_code,
                    outcome.error_message,
                    stamp,
                    upload_id,
                ),
            ).rowcount
            if changed != 1:
                raise LedgerError(
                    f"no upload {upload_id} in the 179 store", code="pay179.store.unknown-upload"
                )
            conn.execute(
                "UPDATE pay179_requests SET status = ?, reason = ?, updated_at = ?"
                " WHERE session_id = (SELECT session_id FROM pay179_uploads WHERE id = ?)",
                (status.value, reason[:1000], stamp, upload_id),
            )

    def get_upload(self, session_id: str) -> UploadRecord | None:
        rows = self._rows(
            f"SELECT {_UPLOAD_COLUMNS} FROM pay179_uploads WHERE session_id = ?",  # noqa: S608
            (session_id,),
        )
        return _upload(rows[0]) if rows else None

    def uploads_for_order(self, order_no: str) -> list[UploadRecord]:
        rows = self._rows(
            f"SELECT {_UPLOAD_COLUMNS} FROM pay179_uploads WHERE order_no = ? ORDER BY id DESC",  # noqa: S608
            (order_no,),
        )
        return [_upload(row) for row in rows]

    # -- raw exchanges (RawExchangeSource) ---------------------------------------------------------

    def put_raw_exchange(
        self, order_no: str, raw: RawPaymentExchange, *, now: datetime | None = None
    ) -> None:
        """Keep the raw exchange with the payment company for ``order_no`` (replacing an older one).
        Call it when the payment completes; the endpoint reads it when customs asks."""
        data = json.dumps(raw.to_data(), ensure_ascii=False)
        with self._tx("put raw exchange") as conn:
            conn.execute(
                "INSERT INTO pay179_raw_exchanges (order_no, data, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (order_no) DO UPDATE SET data = excluded.data,"
                " updated_at = excluded.updated_at",
                (order_no, data, _stamp(now)),
            )

    def raw_exchange(self, order_no: str) -> RawPaymentExchange | None:
        rows = self._rows("SELECT data FROM pay179_raw_exchanges WHERE order_no = ?", (order_no,))
        if not rows:
            return None
        return RawPaymentExchange.from_data(json.loads(rows[0][0]))

    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def __enter__(self) -> SqlitePay179Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _unknown(session_id: str) -> PipelineError:
    return PipelineError(
        f"no request with sessionID {session_id!r} was received from customs",
        code="pay179.session.unknown",
        field="sessionID",
    )


def _used(session_id: str, status: RequestStatus) -> PipelineError:
    return PipelineError(
        f"sessionID {session_id!r} was already used for an upload ({status.value}); customs refuses a "
        "second upload with the same sessionID — wait for a new openReq",
        code="pay179.session.used",
        field="sessionID",
    )
