"""Helpers shared by the flow, soak, memory and hot-path benchmarks (the lead's ``_timing`` stays as it is).

* :class:`SandboxProcess` — the local sandbox in **another process** (``multiprocessing`` spawn, running
  :func:`cbec_declare.sandbox.cli.run_sandbox`), configured from a plain ``[sandbox]`` mapping (the TOML
  form: a :class:`~cbec_declare.sandbox.SandboxConfig` itself does not pickle); its final
  :class:`~cbec_declare.sandbox.SandboxStats` come back as a dict when it stops.
* :func:`sales` — order, payment, waybill and inventory of each sale, from a seeded factory.
* :class:`Row` and :func:`write_rows` — the machine-readable result lines ``run_all.py`` collects
  (``--json FILE`` on every script of this suite).

Every wait here is bounded; everything listens on 127.0.0.1.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import queue
import socket
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import attrs

from cbec_declare.sandbox.credentials import SandboxCredentials
from cbec_declare.testing.factories import DocumentFactory

__all__ = ["Row", "SandboxProcess", "free_port", "sales", "sandbox_mapping", "write_rows"]

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (for a receiver the sandbox must know first)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sales(factory: DocumentFactory, count: int, *, items: int = 2) -> Iterator[Any]:
    """``count`` sales, each as its four declarations: order, payment, waybill, inventory."""
    for _ in range(count):
        yield from factory.sale(items=items)


@attrs.frozen
class Row:
    """One result: ``value`` in ``unit``, and its ratio to ``baseline`` measured in the same run."""

    bench: str
    case: str
    value: float
    unit: str
    ratio: float | None = None
    baseline: str = ""


def write_rows(path: str | os.PathLike[str] | None, rows: Sequence[Row]) -> None:
    """Append ``rows`` as JSON lines to ``path`` (nothing when ``path`` is None)."""
    if path is None:
        return
    with Path(path).open("a", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(attrs.asdict(row), ensure_ascii=False) + "\n")


# ---------------------------------------------------------------------------------------------- sandbox


def _serve(mapping: Mapping[str, Any], credentials: str, stop: Any, results: Any, log_path: str) -> None:
    """Body of the sandbox process: run until ``stop`` is set, then hand back the final stats."""
    from cbec_declare.sandbox.cli import run_sandbox
    from cbec_declare.sandbox.config import SandboxConfig

    logging.basicConfig(
        filename=log_path, level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    with open(log_path, "a", encoding="utf-8") as out:
        # socketserver prints handler errors (a "late" answer to a client that gave up: BrokenPipeError)
        # to sys.stderr: keep them in the log, and whatever stops the sandbox too.
        previous, sys.stderr = sys.stderr, out
        try:
            stats = run_sandbox(SandboxConfig.from_mapping(mapping), credentials, stop=stop, out=out)
        except BaseException:
            traceback.print_exc(file=out)
            raise
        finally:
            sys.stderr = previous
    results.put(stats.to_dict())


class SandboxProcess:
    """The sandbox in a spawned process; use as a context manager, read :attr:`credentials`.

    ``mapping`` is a ``[sandbox]`` table (``SandboxConfig.from_mapping``); its log (URLs, warnings,
    final stats) goes to ``<workdir>/sandbox.log``. :meth:`stop` returns the final stats as a dict
    (``SandboxStats.to_dict``).
    """

    def __init__(self, mapping: Mapping[str, Any], workdir: Path | str | None = None) -> None:
        self.mapping = dict(mapping)
        self._tmp = None if workdir is not None else tempfile.TemporaryDirectory(prefix="cbec-sbx-")
        self.workdir = Path(workdir if workdir is not None else self._tmp.name)  # type: ignore[union-attr]
        self.credentials_path = self.workdir / "sandbox-credentials.json"
        self.log_path = self.workdir / "sandbox.log"
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        self._results: Any = context.Queue()
        self._process = context.Process(
            target=_serve,
            args=(self.mapping, str(self.credentials_path), self._stop, self._results, str(self.log_path)),
            name="cbec-sandbox",
            daemon=True,
        )
        self.credentials: SandboxCredentials | None = None
        self.stats: dict[str, Any] | None = None

    def start(self, timeout: float = 60.0) -> SandboxProcess:
        """Start the process and wait (bounded) until it has written its credentials."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.credentials_path.unlink(missing_ok=True)
        self._process.start()
        deadline = time.monotonic() + timeout
        while not self.credentials_path.exists():
            if not self._process.is_alive() or time.monotonic() > deadline:
                self._kill()
                raise RuntimeError(f"the sandbox process did not start; see {self.log_path}")
            time.sleep(0.05)
        self.credentials = SandboxCredentials.read(self.credentials_path)
        return self

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def stop(self, timeout: float = 60.0) -> dict[str, Any]:
        """Stop the sandbox and return its final stats (empty if it could not say)."""
        if self.stats is not None:
            return self.stats
        self._stop.set()
        try:
            self.stats = self._results.get(timeout=timeout)
        except queue.Empty:
            self.stats = {}
        self._process.join(timeout=10)
        self._kill()
        self._results.close()
        self._results.join_thread()
        if self._tmp is not None:
            self._tmp.cleanup()
        return self.stats

    def _kill(self) -> None:
        if self._process.is_alive():
            self._process.kill()
            self._process.join(timeout=10)

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def sandbox_mapping(
    *,
    seed: int,
    time_scale: float,
    receiver_port: int,
    faults: Mapping[str, Any] | None = None,
    push: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``[sandbox]`` table pushing to ``http://127.0.0.1:<receiver_port>/``."""
    mapping: dict[str, Any] = {
        "seed": seed,
        "timing": {"time_scale": time_scale},
        "receivers": [f"http://127.0.0.1:{receiver_port}/"],
    }
    if faults:
        mapping["faults"] = dict(faults)
    if push:
        mapping["push"] = dict(push)
    return mapping
