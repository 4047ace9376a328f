"""Schemas are compiled one at a time, and once, however many threads start validating together.

libxml2 fills its table of built-in XSD types on the first compile, not thread-safely (lxml compiles
without the GIL): a worker whose four threads validated their first messages at the same moment had
every compile fail with "xmlSchemaPValAttrNodeValue, the given type is not a built-in type", for good.
These tests widen the window with a slow compile and check that no two compiles ever overlap.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from cbec_declare.messages import build
from cbec_declare.pipeline.documents import to_message
from cbec_declare.testing.factories import DocumentFactory
from cbec_declare.validation import schemas
from cbec_declare.validation._xsd_loading import compile_schema
from cbec_declare.validation.schemas import SCHEMA_KINDS, clear_schema_cache, schema_path

THREADS = 6


class Overlap:
    """Wraps a callable: counts calls and the most that ran at the same time (each takes ``pause`` s)."""

    def __init__(self, wrapped: Callable[..., Any], pause: float = 0.05) -> None:
        self.wrapped, self.pause = wrapped, pause
        self.calls = self.active = self.most = 0
        self._lock = threading.Lock()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            self.calls += 1
            self.active += 1
            self.most = max(self.most, self.active)
        try:
            time.sleep(self.pause)  # releases the GIL, as lxml's compile does
            return self.wrapped(*args, **kwargs)
        finally:
            with self._lock:
                self.active -= 1


def together(count: int, work: Callable[[int], object]) -> list[BaseException]:
    """Run ``work(i)`` in ``count`` threads released at once; the exceptions they raised."""
    barrier, failures = threading.Barrier(count), []

    def run(index: int) -> None:
        barrier.wait()
        try:
            work(index)
        except BaseException as exc:  # collected and asserted on
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return failures


def test_compiles_never_overlap(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Overlap(etree.XMLSchema)
    monkeypatch.setattr(etree, "XMLSchema", spy)
    paths = [schema_path(version, kind=kind) for version in ("2018-113", "2022-05") for kind in SCHEMA_KINDS]
    xmldsig = schema_path("2022-05").parent / "xmldsig-customs.xsd"
    compiled: list[object] = []
    failures = together(len(paths), lambda i: compiled.append(compile_schema(paths[i], xmldsig=xmldsig)))
    assert failures == []
    assert spy.calls == len(paths) == len(compiled)
    assert spy.most == 1


def test_threads_starting_together_compile_a_schema_once(monkeypatch: pytest.MonkeyPatch) -> None:
    factory = DocumentFactory(seed=2)
    message = to_message("payment", [factory.sale()[1]], factory.company.base_transfer)
    document = etree.fromstring(build(message))
    clear_schema_cache()
    spy = Overlap(schemas.compile_schema)
    monkeypatch.setattr(schemas, "compile_schema", spy)
    try:
        answers: list[bool] = []
        failures = together(THREADS, lambda _: answers.append(schemas.is_valid(document, "2018-113")))
        assert failures == []
        assert answers == [True] * THREADS
        assert spy.calls == 1  # the others waited for it and share it
    finally:
        clear_schema_cache()  # the other tests compile their own, without the spy


def test_a_failed_compile_is_not_cached(tmp_path: Path) -> None:
    """A broken package directory fails every time it is asked for, and a fixed one then works."""
    from cbec_declare.errors import ConfigError

    folder = tmp_path / "package"
    folder.mkdir()
    bundled = schema_path("2018-113").parent
    for file in bundled.glob("*.xsd"):
        (folder / file.name).write_bytes(file.read_bytes())
    good = (folder / "ceb-import.xsd").read_bytes()
    (folder / "ceb-import.xsd").write_bytes(b"<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema'><oops/>")
    root = etree.fromstring(build(to_message("payment", [DocumentFactory(seed=3).sale()[1]],
                                             DocumentFactory(seed=3).company.base_transfer)))  # fmt: skip
    try:
        for _ in range(2):
            with pytest.raises(ConfigError):
                schemas.is_valid(root, "2018-113", directory=folder)
        (folder / "ceb-import.xsd").write_bytes(good)
        assert schemas.is_valid(root, "2018-113", directory=folder)
    finally:
        clear_schema_cache()
