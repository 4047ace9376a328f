"""The ledger on PostgreSQL: one stream of documents shared by worker processes on several machines.

Same schema and semantics as the SQLite ledger, with PostgreSQL's row locks instead of one file lock:

* ``transition`` reads the document ``FOR NO KEY UPDATE`` in its transaction, so transitions of one
  document are serialized (a receipt on one machine, a worker action on another) while other documents
  proceed. NO KEY UPDATE rather than UPDATE: it excludes every other transition just the same, but does
  not make inserts that merely *reference* the document (message links, history) wait.
* ``claim_due`` selects ``… FOR NO KEY UPDATE SKIP LOCKED`` and stamps a lease (owner, until) in the same
  transaction: concurrent claimers never wait on each other nor get the same document, and the leases of
  a worker that died expire by themselves.
* ``record_message`` inserts ``ON CONFLICT DO NOTHING``: a push that reaches two workers' endpoints is
  stored, and applied, once.

psycopg 3 is an optional dependency (``pip install 'cbec-declare[postgres]'``), imported when a
:class:`PostgresLedger` is made. The DSN's password never appears in reprs, logs or exception messages.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..errors import LedgerError
from . import migrations as _migrations
from ._ledger_common import SqlLedger, Tx, utc
from ._ledger_pool import ConnectionPool

if TYPE_CHECKING:
    import psycopg

__all__ = ["PostgresLedger"]

logger = logging.getLogger("cbec_declare.pipeline.ledger")

#: ``pg_advisory_xact_lock`` key held while migrating, so that workers starting together migrate once
_MIGRATION_LOCK = 0x63626563_6C656467  # "cbecledg"
_SECRET_KEYS = ("password", "sslpassword")


def _require_psycopg() -> None:
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise LedgerError(
            "the PostgreSQL ledger needs psycopg 3: pip install 'cbec-declare[postgres]'",
            code="ledger.missing_dependency",
        ) from exc


@functools.lru_cache(maxsize=256)
def _format_params(sql: str) -> str:
    # The shared queries use "?"; psycopg wants "%s" and would read any other "%" as a placeholder.
    if "%" in sql:
        raise LedgerError(f"a ledger query may not contain '%': {sql}", code="ledger.storage")
    return sql.replace("?", "%s")


class _PgTx:
    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        self._cursor = cursor

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self._cursor.execute(_format_params(sql), params)
        return self._cursor.fetchall()

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        self._cursor.execute(_format_params(sql), params)
        return self._cursor.rowcount

    def insert(self, sql: str, params: Sequence[Any] = ()) -> int | None:
        self._cursor.execute(_format_params(sql + " RETURNING id"), params)
        row = self._cursor.fetchone()
        return None if row is None else int(row[0])


class PostgresLedger(SqlLedger):
    """A :class:`~cbec_declare.pipeline.ledger.Ledger` in a PostgreSQL database (psycopg 3).

    ``dsn`` is a libpq connection string or URI (``postgresql://user@host/db``); the tables live in the
    connection's ``search_path`` (set it with ``options=-csearch_path=…`` to use another schema).
    ``lock_timeout`` (seconds) bounds a wait for another transaction's row lock before
    :class:`LedgerError` ``ledger.busy``; ``connect_timeout`` bounds connecting. Connections are pooled
    (``max_idle`` kept between calls) and safe to share between threads. The schema is created or migrated
    on opening, under an advisory lock (``migrations`` is for tests and extensions: leave the default).
    """

    _lock = " FOR NO KEY UPDATE"
    _skip_locked = " FOR NO KEY UPDATE SKIP LOCKED"

    def __init__(
        self,
        dsn: str,
        *,
        lock_timeout: float = 30.0,
        connect_timeout: float = 10.0,
        max_idle: int = 4,
        migrations: Sequence[_migrations.Migration] = _migrations.MIGRATIONS,
    ) -> None:
        _require_psycopg()
        from psycopg.conninfo import conninfo_to_dict

        try:
            params = conninfo_to_dict(dsn)
        except Exception:
            # psycopg's message quotes the DSN around the error, password included: say less.
            raise LedgerError(
                "the PostgreSQL DSN cannot be parsed (it is not quoted here: it may hold a password)",
                code="ledger.config",
            ) from None
        self._dsn = dsn
        self._secrets = [str(params[key]) for key in _SECRET_KEYS if params.get(key)]
        #: the DSN without its secrets, for messages and logs
        self.safe_dsn = " ".join(f"{key}={value}" for key, value in params.items() if key not in _SECRET_KEYS)
        self._lock_timeout_ms = max(1, round(lock_timeout * 1000))
        self._connect_timeout = max(2, round(connect_timeout))  # libpq's minimum is 2 seconds
        self._application_name = None if "application_name" in params else "cbec-declare"
        self._pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            self._connect, _close, _reusable, max_idle=max_idle
        )
        try:
            with self._write() as tx:
                tx.rows("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))
                applied = _migrations.apply(
                    tx, _migrations.POSTGRESQL, encode_time=self._encode_time, migrations=migrations
                )
        except BaseException:
            self._pool.close()  # a ledger that failed to open keeps no connection
            raise
        if applied:
            logger.info("PostgreSQL ledger %s: schema versions %s applied", self.safe_dsn, applied)

    def __repr__(self) -> str:
        return f"PostgresLedger({self.safe_dsn!r})"

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _connect(self) -> psycopg.Connection[Any]:
        import psycopg

        extra: dict[str, Any] = (
            {} if self._application_name is None else {"application_name": self._application_name}
        )
        try:
            conn = psycopg.connect(self._dsn, autocommit=True, connect_timeout=self._connect_timeout, **extra)
        except psycopg.Error as exc:
            # Not chained: the driver's own exception may carry connection details.
            raise LedgerError(
                f"cannot connect to the PostgreSQL ledger ({self.safe_dsn}): {self._scrub(str(exc))}",
                code="ledger.unavailable",
            ) from None
        try:
            with self._map_errors():
                conn.execute(
                    "SELECT set_config('TimeZone', 'UTC', false), set_config('lock_timeout', %s, false)",
                    (f"{self._lock_timeout_ms}ms",),
                )
        except BaseException:
            conn.close()
            raise
        return conn

    @contextmanager
    def _map_errors(self) -> Iterator[None]:
        import psycopg
        from psycopg import errors

        where = f"PostgreSQL ledger ({self.safe_dsn})"
        try:
            yield
        except (
            errors.LockNotAvailable,
            errors.QueryCanceled,
            errors.DeadlockDetected,
            errors.SerializationFailure,
        ) as exc:
            raise LedgerError(
                f"{where}: waited too long for another transaction ({self._scrub(str(exc))})",
                code="ledger.busy",
            ) from exc
        except psycopg.IntegrityError as exc:
            raise LedgerError(
                f"{where}: a constraint failed: {self._scrub(str(exc))}", code="ledger.integrity"
            ) from exc
        except psycopg.OperationalError as exc:
            raise LedgerError(f"{where}: {self._scrub(str(exc))}", code="ledger.unavailable") from exc
        except psycopg.Error as exc:
            raise LedgerError(f"{where}: {self._scrub(str(exc))}", code="ledger.storage") from exc

    @contextmanager
    def _transaction(self) -> Iterator[Tx]:
        with (
            self._pool.connection() as conn,
            self._map_errors(),
            conn.transaction(),
            conn.cursor() as cursor,
        ):
            yield _PgTx(cursor)

    def _write(self) -> AbstractContextManager[Tx]:
        return self._transaction()

    def _read(self) -> AbstractContextManager[Tx]:
        return self._transaction()

    def _encode_time(self, value: datetime) -> datetime:
        return utc(value)

    def _decode_time(self, value: Any) -> datetime:
        if not isinstance(value, datetime):
            raise LedgerError(f"expected a timestamp, found {value!r}", code="ledger.storage")
        return value.astimezone(timezone.utc)

    def close(self) -> None:
        """Close the connections; calls after this raise :class:`LedgerError` ``ledger.closed``."""
        self._pool.close()


def _close(conn: psycopg.Connection[Any]) -> None:
    conn.close()


def _reusable(conn: psycopg.Connection[Any]) -> bool:
    from psycopg.pq import TransactionStatus

    return not conn.closed and not conn.broken and conn.info.transaction_status == TransactionStatus.IDLE
