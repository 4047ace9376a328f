"""Copy a whole ledger to another backend: SQLite → PostgreSQL when one machine is no longer enough.

::

    python -m cbec_declare.pipeline.migrate sqlite:////var/lib/cbec/ledger.db postgresql://cbec@db/cbec

Every document, history row, stored message and message link is copied **with its id** (ids leave the
ledger: logs, operators' notes, ``cbec-declare status``), every time, byte and flag exactly, in id order,
in one transaction of the target; the target's id counters are moved past the copied ids. Then the target
is read back and compared, row by row through a SHA-256 fingerprint, before that transaction commits: a
copy either lands whole and verified, or not at all. The reverse direction (PostgreSQL → SQLite) works the
same way, and is the way back.

Leases are not copied (the workers that held them are stopped). The copy refuses to run while the source
holds a live lease — a worker may still be running — unless ``ignore_leases`` is set (e.g. after a worker
was killed: its leases run out by themselves after ``lease`` seconds), and it refuses a target that
already holds anything. Both ledgers are opened with :func:`~cbec_declare.pipeline.ledgers.open_ledger`,
which creates or migrates their schema first.

Procedure (see ``docs/deployment.md``): stop every worker and the receipt endpoints (the platform retries
its pushes meanwhile); run this; point ``[ledger] url`` at PostgreSQL; start the workers. Keep the SQLite
file: it is the way back until the first new document lands in PostgreSQL.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs

from ..errors import CbecError, LedgerError
from ._ledger_common import SqlLedger, Tx
from .ledger import Ledger
from .ledgers import open_ledger

__all__ = ["DESCRIPTION", "CopyReport", "add_arguments", "copy_ledger", "main", "migrate", "run"]

DESCRIPTION = "Copy a cbec-declare ledger (documents, history, messages) into an empty one, verified."


@attrs.frozen
class _Table:
    name: str
    #: its columns, comma-separated (the lease columns of ``documents`` are left out on purpose)
    column_list: str
    #: the columns of its key, in the order rows are read (keyset pagination)
    key: tuple[str, ...] = ("id",)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(name.strip() for name in self.column_list.split(","))


# Parents before children: documents (supersedes points back), messages, links, history.
_TABLES = (
    _Table(
        "documents",
        "id, kind, business_key, app_type, guid, payload, order_no, cop_no, logistics_no, platform_step,"
        " supersedes, state, customs_status, customs_rank, reason, attempts, next_attempt_at, created_at,"
        " updated_at",
    ),
    _Table("messages", "id, direction, channel, message_type, key, body, sha256, created_at"),
    _Table("message_documents", "message_id, document_id", ("message_id", "document_id")),
    _Table(
        "history",
        "id, document_id, at, old_state, new_state, customs_status, customs_rank, reason, applied, event,"
        " message_id",
    ),
)
_TIMES = frozenset({"at", "created_at", "updated_at", "next_attempt_at"})
_FLAGS = frozenset({"platform_step", "applied"})
_BYTES = frozenset({"payload", "body"})
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)
#: tables whose ``id`` the target generates: its counter must end up past the copied ids
_COUNTED = ("documents", "messages", "history")


@attrs.frozen(kw_only=True)
class CopyReport:
    """What :func:`copy_ledger` copied (rows per table) and the fingerprint both ledgers now share."""

    documents: int
    messages: int
    links: int
    history: int
    #: SHA-256 over every copied row, in id order, values in a backend-neutral form
    fingerprint: str

    def format(self) -> str:
        return (
            f"documents {self.documents}, messages {self.messages}, message links {self.links},"
            f" history rows {self.history}; fingerprint {self.fingerprint} (source = target)"
        )


def _sql_ledger(ledger: Ledger, role: str) -> SqlLedger:
    if not isinstance(ledger, SqlLedger):
        raise LedgerError(
            f"the {role} must be a SQLite or PostgreSQL ledger, not {type(ledger).__name__}",
            code="ledger.config",
        )
    return ledger


def _is_postgres(ledger: SqlLedger) -> bool:
    from .postgres_ledger import PostgresLedger

    return isinstance(ledger, PostgresLedger)


def _pages(tx: Tx, table: _Table, page: int) -> Iterator[list[tuple[Any, ...]]]:
    """Every row of ``table`` in key order, ``page`` rows at a time (keyset pagination: no OFFSET)."""
    columns, order = ", ".join(table.columns), ", ".join(table.key)
    first = f"SELECT {columns} FROM {table.name} ORDER BY {order} LIMIT ?"  # noqa: S608 - constants only
    if len(table.key) == 1:
        after = f"SELECT {columns} FROM {table.name} WHERE {table.key[0]} > ? ORDER BY {order} LIMIT ?"  # noqa: S608
    else:
        a, b = table.key
        after = (
            f"SELECT {columns} FROM {table.name} WHERE {a} > ? OR ({a} = ? AND {b} > ?)"  # noqa: S608
            f" ORDER BY {order} LIMIT ?"
        )
    positions = [table.columns.index(name) for name in table.key]
    rows = tx.rows(first, (page,))
    while rows:
        yield rows
        last = [rows[-1][i] for i in positions]
        params = (*last, page) if len(last) == 1 else (last[0], last[0], last[1], page)
        rows = tx.rows(after, params)


def _neutral(ledger: SqlLedger, table: _Table, row: Sequence[Any]) -> tuple[Any, ...]:
    """A stored row as backend-neutral Python values: aware UTC datetimes, bools, bytes."""
    out: list[Any] = []
    for name, value in zip(table.columns, row, strict=True):
        if value is None:
            out.append(None)
        elif name in _TIMES:
            out.append(ledger._decode_time(value))
        elif name in _FLAGS:
            out.append(bool(value))
        elif name in _BYTES:
            out.append(bytes(value))
        else:
            out.append(value)
    return tuple(out)


def _stored(ledger: SqlLedger, table: _Table, values: tuple[Any, ...]) -> tuple[Any, ...]:
    """Neutral values as ``ledger`` stores them (times are the only ones spelled differently)."""
    return tuple(
        ledger._encode_time(value) if name in _TIMES and value is not None else value
        for name, value in zip(table.columns, values, strict=True)
    )


def _feed(digest: Any, table: _Table, values: tuple[Any, ...]) -> None:
    """Add one neutral row to the fingerprint (times as integer microseconds since 1970, UTC)."""
    canonical = tuple(
        (value - _EPOCH) // _MICROSECOND if isinstance(value, datetime) else value for value in values
    )
    digest.update(table.name.encode() + repr(canonical).encode("utf-8") + b"\n")


def _fingerprint(ledger: SqlLedger, tx: Tx, page: int) -> tuple[str, dict[str, int]]:
    digest, counts = hashlib.sha256(), {}
    for table in _TABLES:
        counts[table.name] = 0
        for rows in _pages(tx, table, page):
            for row in rows:
                _feed(digest, table, _neutral(ledger, table, row))
            counts[table.name] += len(rows)
    return digest.hexdigest(), counts


def _check_source(tx: Tx, source: SqlLedger, ignore_leases: bool) -> None:
    now = source._encode_time(datetime.now(timezone.utc))
    ((live, until),) = tx.rows(
        "SELECT COUNT(*), MAX(lease_until) FROM documents WHERE lease_owner IS NOT NULL AND lease_until > ?",
        (now,),
    )
    if live and not ignore_leases:
        ends = source._decode_time(until).isoformat(timespec="seconds")
        raise LedgerError(
            f"{live} document(s) of the source are leased to a worker until {ends}: stop every worker first"
            " (a killed worker's leases end by themselves by then; or pass ignore_leases)",
            code="ledger.migrate.busy",
            leased=int(live),
        )


def _check_target(tx: Tx) -> None:
    for table in _TABLES:
        ((rows,),) = tx.rows(f"SELECT COUNT(*) FROM {table.name}")  # noqa: S608 - constants only
        if rows:
            raise LedgerError(
                f"the target ledger is not empty ({table.name} has {rows} rows): copy into a new database",
                code="ledger.migrate.not_empty",
                table=table.name,
            )


def _advance_counters(tx: Tx, target: SqlLedger) -> None:
    """Move the target's id counters past the copied ids (SQLite's AUTOINCREMENT does it by itself)."""
    if not _is_postgres(target):
        return
    for name in _COUNTED:
        tx.rows(
            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), COALESCE(MAX(id), 0) + 1, false)"  # noqa: S608
            f" FROM {name}"
        )


def copy_ledger(
    source: Ledger,
    target: Ledger,
    *,
    page: int = 500,
    ignore_leases: bool = False,
    progress: Callable[[str, int], None] | None = None,
) -> CopyReport:
    """Copy every row of ``source`` into the empty ``target`` (both SQL ledgers, open), verified.

    One read transaction on the source (a consistent snapshot; REPEATABLE READ on PostgreSQL) and one
    write transaction on the target, committed only after the target's rows, read back, give the same
    fingerprint as the source's. ``progress(table, rows copied so far)`` is called after each page.
    Raises :class:`~cbec_declare.errors.LedgerError`: ``ledger.migrate.busy`` (the source holds live
    leases), ``ledger.migrate.not_empty`` (the target holds rows), ``ledger.migrate.mismatch`` (the
    read-back differs: nothing was committed), or the backends' own errors.
    """
    src, dst = _sql_ledger(source, "source"), _sql_ledger(target, "target")
    if page < 1:
        raise LedgerError(f"page must be at least 1, not {page}", code="ledger.invalid")
    digest, counts = hashlib.sha256(), {}
    with src._read() as reading, dst._write() as writing:
        if _is_postgres(src):
            reading.run("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        _check_source(reading, src, ignore_leases)
        _check_target(writing)
        for table in _TABLES:
            counts[table.name] = 0
            insert = (
                f"INSERT INTO {table.name} ({', '.join(table.columns)})"  # noqa: S608 - constants only
                f" VALUES ({', '.join('?' * len(table.columns))})"
            )
            for rows in _pages(reading, table, page):
                for row in rows:
                    values = _neutral(src, table, row)
                    _feed(digest, table, values)
                    writing.run(insert, _stored(dst, table, values))
                counts[table.name] += len(rows)
                if progress is not None:
                    progress(table.name, counts[table.name])
        _advance_counters(writing, dst)
        copied, written = digest.hexdigest(), _fingerprint(dst, writing, page)
        if written != (copied, counts):
            raise LedgerError(
                f"the target does not read back as the source did (source {copied} {counts},"
                f" target {written[0]} {written[1]}); nothing was committed",
                code="ledger.migrate.mismatch",
            )
    return CopyReport(
        documents=counts["documents"],
        messages=counts["messages"],
        links=counts["message_documents"],
        history=counts["history"],
        fingerprint=copied,
    )


def migrate(
    source_url: str,
    target_url: str,
    *,
    page: int = 500,
    ignore_leases: bool = False,
    progress: Callable[[str, int], None] | None = None,
) -> CopyReport:
    """Open both ledgers by URL (creating the target's schema) and :func:`copy_ledger`; close both."""
    if source_url == target_url:
        raise LedgerError("the source and the target are the same ledger", code="ledger.config")
    source = open_ledger(source_url)
    try:
        target = open_ledger(target_url)
        try:
            return copy_ledger(source, target, page=page, ignore_leases=ignore_leases, progress=progress)
        finally:
            target.close()
    finally:
        source.close()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's arguments, shared by ``cbec-declare migrate`` and ``python -m …migrate``."""
    parser.add_argument("source", help="the ledger to copy, e.g. sqlite:////var/lib/cbec/ledger.db")
    parser.add_argument("target", help="an empty database, e.g. postgresql://cbec@db.internal/cbec")
    parser.add_argument("--page", type=int, default=500, help="rows read per query (default 500)")
    parser.add_argument(
        "--ignore-leases",
        action="store_true",
        help="copy although workers hold leases (only when you know they are stopped)",
    )


def run(args: argparse.Namespace) -> int:
    """Copy ``args.source`` into ``args.target`` with progress on stderr; raises the copy's errors."""

    def progress(table: str, rows: int) -> None:
        print(f"  {table}: {rows}", file=sys.stderr, flush=True)

    report = migrate(
        args.source, args.target, page=args.page, ignore_leases=args.ignore_leases, progress=progress
    )
    print(f"copied and verified: {report.format()}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m cbec_declare.pipeline.migrate SOURCE TARGET``: 0 when copied and verified, 1 if not."""
    parser = argparse.ArgumentParser(
        prog="python -m cbec_declare.pipeline.migrate",
        description=DESCRIPTION,
    )
    add_arguments(parser)
    try:
        return run(parser.parse_args(argv))
    except CbecError as exc:
        print(f"migrate: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover - exercised through a subprocess in the tests
    sys.exit(main())
