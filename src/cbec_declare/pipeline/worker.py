"""Runs a pipeline continuously: worker threads performing due steps, until told to stop."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ..errors import CbecError
from .pipeline import Pipeline

__all__ = ["Worker"]

log = logging.getLogger("cbec_declare.pipeline.worker")


class Worker:
    """``threads`` threads, each claiming up to ``batch`` due documents at a time from the ledger.

    Sending is I/O-bound and RSA signing releases the GIL, so a few threads keep one core busy; for
    more, run more worker processes on the same ledger (each document is leased to one of them).
    """

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        threads: int = 4,
        batch: int = 20,
        idle_sleep: float = 0.2,
        max_failure_sleep: float = 30.0,
    ) -> None:
        self.pipeline = pipeline
        self.threads = threads
        self.batch = batch
        self.idle_sleep = idle_sleep
        self.max_failure_sleep = max_failure_sleep
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _loop(self, index: int) -> None:
        owner = f"{self.pipeline.owner}/t{index}"
        failures = 0
        while not self._stop.is_set():
            try:
                done = self.pipeline.run_once(limit=self.batch, owner=owner)
            except CbecError:
                # The ledger or a step failed as a whole (e.g. the database is busy): nothing was lost,
                # the documents stay due; wait and try again. Waits double while rounds keep failing, so
                # that a lasting fault (a database gone) does not write tracebacks several times a second.
                failures += 1
                pause = min(self.idle_sleep * 2 ** min(failures - 1, 16), self.max_failure_sleep)
                log.exception(
                    "worker thread %s: a round failed (%d in a row); retrying in %.3g s",
                    index,
                    failures,
                    pause,
                )
                self._stop.wait(pause)
                continue
            failures = 0
            if not done:
                self._stop.wait(self.idle_sleep)

    def start(self) -> Worker:
        if self._threads:
            return self
        self._stop.clear()
        for index in range(self.threads):
            thread = threading.Thread(
                target=self._loop, args=(index,), name=f"cbec-worker-{index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Ask every thread to finish its current step and wait (bounded) for them."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads = []

    def __enter__(self) -> Worker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_until(self, done: Callable[[], bool], *, timeout: float, poll: float = 0.05) -> bool:
        """Poll ``done()`` until it is true or ``timeout`` seconds pass; returns the last answer."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if done():
                return True
            time.sleep(poll)
        return done()

    def drain(self, *, timeout: float) -> bool:
        """Wait until no document is pending (every one is final), at most ``timeout`` seconds."""
        return self.wait_until(lambda: self.pipeline.pending() == 0, timeout=timeout)
