"""A small progress line on stderr (no dependency): redrawn in place on a terminal, a line now and then
otherwise (logs, CI)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """Shows ``done/total`` from ``poll() -> (done, extra text)`` until stopped."""

    def __init__(
        self,
        total: int,
        poll: Callable[[], tuple[int, str]],
        *,
        label: str = "",
        stream: TextIO | None = None,
        interval: float | None = None,
        width: int = 30,
    ) -> None:
        self.total = max(total, 1)
        self.poll = poll
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = interval if interval is not None else (0.2 if self.tty else 5.0)
        self.width = width
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def line(self) -> str:
        done, extra = self.poll()
        share = min(done / self.total, 1.0)
        filled = int(share * self.width)
        bar = "█" * filled + "·" * (self.width - filled)
        elapsed = time.monotonic() - self.started
        return f"{self.label} [{bar}] {done}/{self.total} {share:4.0%} {elapsed:6.1f}s {extra}".rstrip()

    def _draw(self, final: bool = False) -> None:
        text = self.line()
        if self.tty:
            self.stream.write("\r\033[K" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._draw()

    def start(self) -> Progress:
        self._thread = threading.Thread(target=self._run, name="cbec-progress", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._draw(final=True)

    def __enter__(self) -> Progress:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
