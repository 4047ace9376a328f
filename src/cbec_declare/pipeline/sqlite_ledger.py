"""The default ledger: one SQLite file in WAL mode, shared by threads and processes of one machine.

Every write runs in ``BEGIN IMMEDIATE``: it takes the file's write lock before reading, so a transition
reads the fresh record, decides and writes with no other writer in between, and a busy file makes a
writer wait (up to ``busy_timeout``) instead of failing half-way. Readers never block writers (WAL).

Durability: ``synchronous="FULL"`` (the default) syncs the WAL on every commit, so a commit that returned
survives a power loss. ``"NORMAL"`` syncs only at checkpoints: it survives a killed process but may lose
the last commits when the machine loses power — the pipeline promises to lose nothing, so FULL is the
default; ``benchmarks/ledger.py`` measures what it costs.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ..errors import LedgerError
from . import migrations as _migrations
from ._ledger_common import SqlLedger, Tx, utc
from ._ledger_pool import ConnectionPool

__all__ = ["SqliteLedger"]

logger = logging.getLogger("cbec_declare.pipeline.ledger")

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)
_SYNCHRONOUS = ("FULL", "EXTRA", "NORMAL")
#: ``INSERT … ON CONFLICT DO NOTHING`` (upsert) arrived in SQLite 3.24
_MIN_SQLITE = (3, 24, 0)


@contextmanager
def _map_errors(where: str) -> Iterator[None]:
    """Turn sqlite3's exceptions into :class:`LedgerError` (the path is no secret; it helps)."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        raise LedgerError(f"{where}: a constraint failed: {exc}", code="ledger.integrity") from exc
    except sqlite3.OperationalError as exc:
        text = str(exc)
        if "locked" in text or "busy" in text:
            raise LedgerError(
                f"{where}: another writer held the database longer than busy_timeout ({text})",
                code="ledger.busy",
            ) from exc
        raise LedgerError(f"{where}: {text}", code="ledger.unavailable") from exc
    except sqlite3.Error as exc:
        raise LedgerError(f"{where}: {exc}", code="ledger.storage") from exc


class _SqliteTx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._conn.execute(sql, params).fetchall()

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._conn.execute(sql, params).rowcount

    def insert(self, sql: str, params: Sequence[Any] = ()) -> int | None:
        cursor = self._conn.execute(sql, params)
        return cursor.lastrowid if cursor.rowcount == 1 else None


class SqliteLedger(SqlLedger):
    """A :class:`~cbec_declare.pipeline.ledger.Ledger` in one SQLite file (WAL, foreign keys on).

    ``synchronous`` is ``"FULL"`` (default), ``"EXTRA"`` or ``"NORMAL"`` (see the module docs);
    ``busy_timeout`` (seconds) bounds how long a write waits for another writer before
    :class:`LedgerError` ``ledger.busy``. Safe to share between threads (each call takes a pooled
    connection of its own; ``max_idle`` are kept between calls); several processes may open the same
    file. The schema is created or migrated on opening (``migrations`` is for tests and extensions: leave
    the default). Times are stored as integer microseconds since the epoch, UTC.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: str = "FULL",
        busy_timeout: float = 30.0,
        max_idle: int = 4,
        migrations: Sequence[_migrations.Migration] = _migrations.MIGRATIONS,
    ) -> None:
        if sqlite3.sqlite_version_info < _MIN_SQLITE:
            raise LedgerError(
                f"the ledger needs SQLite 3.24 or newer; this Python has {sqlite3.sqlite_version}",
                code="ledger.unavailable",
            )
        if str(path) in ("", ":memory:") or str(path).startswith("file:"):
            raise LedgerError(
                f"the SQLite ledger needs a file path, not {str(path)!r}: every connection of an in-memory"
                " database would see a database of its own",
                code="ledger.config",
            )
        mode = synchronous.upper()
        if mode not in _SYNCHRONOUS:
            raise LedgerError(
                f"synchronous must be one of {', '.join(_SYNCHRONOUS)}, not {synchronous!r}"
                " (OFF could lose committed documents)",
                code="ledger.config",
            )
        if busy_timeout < 0:
            raise LedgerError(f"busy_timeout must be 0 or more, not {busy_timeout}", code="ledger.config")
        self.path = Path(path)
        self.synchronous = mode
        self._busy_timeout = busy_timeout
        self._where = f"SQLite ledger {str(self.path)!r}"
        self._pool: ConnectionPool[sqlite3.Connection] = ConnectionPool(
            self._connect, sqlite3.Connection.close, _reusable, max_idle=max_idle
        )
        try:
            with self._write() as tx:
                applied = _migrations.apply(
                    tx, _migrations.SQLITE, encode_time=self._encode_time, migrations=migrations
                )
        except BaseException:
            self._pool.close()  # a ledger that failed to open keeps no connection
            raise
        if applied:
            logger.info("%s: schema versions %s applied", self._where, applied)

    def __repr__(self) -> str:
        return f"SqliteLedger({str(self.path)!r}, synchronous={self.synchronous!r})"

    def _connect(self) -> sqlite3.Connection:
        with _map_errors(self._where):
            # isolation_level=None: no implicit BEGIN; every transaction below is explicit.
            conn = sqlite3.connect(
                self.path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False
            )
            try:
                (journal,) = conn.execute("PRAGMA journal_mode = WAL").fetchone()
                if str(journal).lower() != "wal":
                    raise LedgerError(
                        f"{self._where}: the file system refused WAL mode (journal_mode stays {journal})",
                        code="ledger.unavailable",
                    )
                conn.execute(f"PRAGMA synchronous = {self.synchronous}")
                conn.execute("PRAGMA foreign_keys = ON")
            except BaseException:
                conn.close()
                raise
        return conn

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[Tx]:
        with self._pool.connection() as conn, _map_errors(self._where):
            conn.execute(begin)
            try:
                yield _SqliteTx(conn)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    try:
                        conn.execute("ROLLBACK")
                    except sqlite3.Error:  # the pool drops this connection; the first error matters
                        logger.warning("%s: rollback failed", self._where, exc_info=True)
                raise

    def _write(self) -> AbstractContextManager[Tx]:
        # IMMEDIATE takes the write lock now: the record a transition reads cannot change before it
        # writes, and a busy file is waited for here, not discovered at the first UPDATE.
        return self._transaction("BEGIN IMMEDIATE")

    def _read(self) -> AbstractContextManager[Tx]:
        return self._transaction("BEGIN")

    def _encode_time(self, value: datetime) -> int:
        return (utc(value) - _EPOCH) // _MICROSECOND

    def _decode_time(self, value: Any) -> datetime:
        return _EPOCH + timedelta(microseconds=int(value))

    def close(self) -> None:
        """Close the connections; calls after this raise :class:`LedgerError` ``ledger.closed``."""
        self._pool.close()


def _reusable(conn: sqlite3.Connection) -> bool:
    return not conn.in_transaction
