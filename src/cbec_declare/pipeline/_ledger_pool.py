"""A small pool of database connections, shared by the SQL ledger backends."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

from ..errors import LedgerError

__all__ = ["ConnectionPool"]

logger = logging.getLogger("cbec_declare.pipeline.ledger")

C = TypeVar("C")


class ConnectionPool(Generic[C]):
    """Connections handed to one operation at a time and kept (up to ``max_idle``) for the next.

    A pool rather than one connection per thread: the receipt endpoint may serve each push on a new
    thread, and a per-thread connection would outlive its thread. A connection is never used by two
    threads at once. After ``fork`` the child opens its own connections and leaves the parent's alone:
    closing an inherited connection would end the parent's session (PostgreSQL) or touch its locks.
    """

    def __init__(
        self,
        connect: Callable[[], C],
        close: Callable[[C], None],
        reusable: Callable[[C], bool],
        *,
        max_idle: int,
    ) -> None:
        self._connect, self._close, self._reusable = connect, close, reusable
        self._max_idle = max_idle
        self._idle: list[C] = []
        self._inherited: list[C] = []  # kept referenced so that garbage collection never closes them
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._closed = False

    def _take(self) -> C | None:
        with self._lock:
            if self._closed:
                raise LedgerError("the ledger is closed", code="ledger.closed")
            if self._pid != os.getpid():
                self._inherited.extend(self._idle)
                self._idle, self._pid = [], os.getpid()
            return self._idle.pop() if self._idle else None

    @contextmanager
    def connection(self) -> Iterator[C]:
        """A connection for the duration of the ``with`` block."""
        conn = self._take()
        if conn is None:
            conn = self._connect()
        keep = True
        try:
            yield conn
        except BaseException as exc:
            # After an ordinary error the backend has rolled back and ``reusable`` judges the connection;
            # after an interruption (KeyboardInterrupt, …) its state is unknown: drop it.
            keep = isinstance(exc, Exception)
            raise
        finally:
            self._give_back(conn, keep)

    def _give_back(self, conn: C, keep: bool) -> None:
        if keep and self._reusable(conn):
            with self._lock:
                if not self._closed and self._pid == os.getpid() and len(self._idle) < self._max_idle:
                    self._idle.append(conn)
                    return
        try:
            self._close(conn)
        except Exception:  # a broken connection may fail to close; it is dropped either way
            logger.debug("closing a ledger connection failed", exc_info=True)

    def close(self) -> None:
        """Close the idle connections; connections in use are closed when they come back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            self._close(conn)
