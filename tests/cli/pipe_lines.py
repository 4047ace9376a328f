"""Reading a child process's output line by line, each line within a deadline (never blocks longer)."""

from __future__ import annotations

import os
import select
import socket
import time

DEADLINE = 30.0


class Lines:
    """Lines of a child's pipe, each read within a deadline (never blocks for longer)."""

    def __init__(self, stream: object) -> None:
        self._fd = stream.fileno()  # type: ignore[attr-defined]
        self._buffer = b""
        self.seen = b""

    def next(self, timeout: float = DEADLINE) -> bytes:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no line within {timeout} s; got {self._buffer!r}"
            if select.select([self._fd], [], [], remaining)[0]:
                chunk = os.read(self._fd, 65536)
                assert chunk, f"the stream closed; got {self._buffer!r}"
                self._buffer += chunk
                self.seen += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line


def wait_until_listening(port: int, timeout: float = DEADLINE) -> bool:
    """Whether something accepts connections on 127.0.0.1:``port`` within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.05)
    return False
