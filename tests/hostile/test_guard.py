"""The guard itself can fail: each of its detectors sees the access it is meant to see.

Without these, a guard that never fires would make every hostile test pass.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

import cbec_declare
from hostile import make_corpus
from hostile.hostile_support import INOTIFY_MISSING, Guard

XXE = (make_corpus.CORPUS / "xml-xxe-file.xml").read_bytes()


@pytest.fixture
def guard(tmp_path: Path) -> Iterator[Guard]:
    guard = Guard(tmp_path)
    yield guard
    guard.close()


@pytest.mark.skipif(INOTIFY_MISSING is not None, reason=INOTIFY_MISSING or "")
def test_a_c_level_read_of_the_canary_is_seen(guard: Guard) -> None:
    """An unsafe lxml parser expands the XXE: inotify sees libxml2 open the canary, and the canary's
    content shows up where the text check looks."""
    unsafe = etree.XMLParser(resolve_entities=True, load_dtd=True, no_network=True)
    with guard.armed():
        root = etree.fromstring(guard.substitute(XXE, "utf-8"), unsafe)
    text = etree.tostring(root, encoding="unicode")
    assert any("canary.txt" in v for v in guard.violations), guard.violations
    assert not any(v.startswith("open(") for v in guard.violations), "libxml2 is invisible to audit hooks"
    with pytest.raises(AssertionError, match="canary"):
        guard.assert_untouched([text])


def test_a_python_open_outside_the_work_folder_is_seen(guard: Guard, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("x", encoding="ascii")
    with guard.armed():
        (guard.work / "allowed.txt").write_text("fine", encoding="ascii")
        assert (guard.work / "allowed.txt").read_text(encoding="ascii") == "fine"
        elsewhere.read_text(encoding="ascii")
    assert [v for v in guard.violations if "elsewhere.txt" in v], guard.violations
    assert not [v for v in guard.violations if "allowed.txt" in v]


def test_writing_beside_the_program_is_seen(guard: Guard) -> None:
    """The program's own files may be read, not written."""
    target = Path(cbec_declare.__file__)
    with guard.armed():
        target.read_bytes()
        with pytest.raises(FileExistsError), target.open("xb"):
            pass  # the file exists: nothing is written either way
    assert [v for v in guard.violations if "__init__.py" in v and "'x" in v], guard.violations
    assert not [v for v in guard.violations if "'r" in v], guard.violations


def test_a_connection_to_the_listener_is_seen(guard: Guard) -> None:
    port = int(guard.url.split(":")[2].split("/")[0])
    with guard.armed():
        connection = socket.create_connection(("127.0.0.1", port), timeout=5)
        connection.close()
    assert any(v.startswith("socket.connect") for v in guard.violations), guard.violations
    assert any("a connection to the listener" in v for v in guard.violations), guard.violations


def test_only_the_armed_window_is_policed(guard: Guard, tmp_path: Path) -> None:
    (tmp_path / "before.txt").write_text("x", encoding="ascii")
    with guard.armed():
        pass
    (tmp_path / "before.txt").read_text(encoding="ascii")
    assert guard.violations == []
    guard.assert_untouched(["nothing secret here"])


def test_placeholders_are_substituted_in_the_file_encoding(guard: Guard) -> None:
    utf16 = (make_corpus.CORPUS / "xml-xxe-utf16.xml").read_bytes()
    substituted = guard.substitute(utf16, "utf-16").decode("utf-16")
    assert guard.canary.as_uri() in substituted
    assert make_corpus.CANARY_FILE not in substituted
    url = guard.substitute((make_corpus.CORPUS / "xml-dtd-external.xml").read_bytes(), "utf-8")
    assert guard.url.encode() in url
