"""A bounded background queue of upload jobs, so that customs' request is answered at once.

A job is just a sessionID: its request is already in the store, so a job lost with the process (a
crash, a stop with jobs still queued) is found again by
:meth:`~cbec_declare.pay179.service.Pay179Service.resume`. ``submit`` never blocks: a full queue
says no, and the endpoint answers customs "busy".
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable

from ..errors import ConfigError

__all__ = ["UploadWorker"]

log = logging.getLogger("cbec_declare.pay179")


class UploadWorker:
    """``threads`` daemon threads running ``job(session_id)`` for queued sessionIDs (at most
    ``queue_size`` waiting). Exceptions from a job are logged, never kill a thread."""

    def __init__(
        self,
        job: Callable[[str], object],
        *,
        threads: int = 2,
        queue_size: int = 100,
        name: str = "cbec-pay179",
    ) -> None:
        if threads < 1 or queue_size < 1:
            raise ConfigError(
                f"the upload worker needs threads >= 1 and queue_size >= 1, got {threads}, {queue_size}",
                code="config.pay179.worker",
            )
        self._job = job
        self._size = queue_size
        self._count = threads
        self._name = name
        self._queue: collections.deque[str] = collections.deque()
        self._busy = 0
        self._cond = threading.Condition()
        self._stopping = False
        self._threads: list[threading.Thread] = []

    @property
    def running(self) -> bool:
        return bool(self._threads) and not self._stopping

    @property
    def pending(self) -> int:
        """Jobs waiting or running."""
        with self._cond:
            return len(self._queue) + self._busy

    def start(self) -> UploadWorker:
        with self._cond:
            if self._threads:
                return self
            self._stopping = False
            self._threads = [
                threading.Thread(target=self._run, name=f"{self._name}-{n}", daemon=True)
                for n in range(self._count)
            ]
        for thread in self._threads:
            thread.start()
        return self

    def submit(self, session_id: str) -> bool:
        """Queue a job; False when the queue is full or the worker is stopping (never blocks)."""
        with self._cond:
            if self._stopping or len(self._queue) >= self._size:
                return False
            self._queue.append(session_id)
            self._cond.notify()
            return True

    def wait_idle(self, timeout: float) -> bool:
        """Wait (at most ``timeout`` seconds) until no job is queued or running; True if so."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._busy, timeout=timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking jobs; running ones may finish within ``timeout``. Queued jobs are dropped
        (their requests stay RECEIVED in the store, for ``resume``)."""
        with self._cond:
            self._stopping = True
            dropped = len(self._queue)
            self._queue.clear()
            self._cond.notify_all()
            threads, self._threads = self._threads, []
        if dropped:
            log.info("179 worker stopped with %d queued job(s); they resume on the next start", dropped)
        for thread in threads:
            thread.join(timeout=timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._queue or self._stopping)
                if self._stopping:
                    return
                session_id = self._queue.popleft()
                self._busy += 1
            try:
                self._job(session_id)
            except Exception:
                log.exception("179 upload job for sessionID %s failed", session_id)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()
