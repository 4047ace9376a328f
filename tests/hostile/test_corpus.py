"""Every corpus file, fed to every entry point its manifest names, is answered as declared — a typed
error with a clear message, or an error status and ack — with no file or network access, without the
canary's content anywhere, and with nothing delivered to the receipt sink or recorded by the 179 store.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from cbec_declare.signing import SoftwareSigner, sign
from cbec_declare.validation import validate
from hostile import make_corpus
from hostile.hostile_support import CORPUS, Bench, CorpusFile, Guard, check, load_manifest, run

MANIFEST = load_manifest()


def _cases() -> Iterator[object]:
    for name, item in sorted(MANIFEST.items()):
        for entry, expect in sorted(item.feeds.items()):
            marks = [pytest.mark.xfail(strict=True, reason=expect["xfail"])] if "xfail" in expect else []
            yield pytest.param(item, entry, expect, id=f"{name}:{entry}", marks=marks)


@pytest.fixture(scope="module", autouse=True)
def warm() -> None:
    """Load lazily cached resources (XSDs, keys) before any guard is armed."""
    valid = (CORPUS / "valid-ceb311.xml").read_bytes()
    for version in ("2018-113", "2022-05"):
        validate(valid, version=version)
    make_corpus.keys()


@pytest.fixture
def guard(tmp_path: Path) -> Iterator[Guard]:
    guard = Guard(tmp_path)
    yield guard
    guard.close()


@pytest.fixture
def bench(guard: Guard) -> Iterator[Bench]:
    bench = Bench(guard.work)
    yield bench
    bench.close()


@pytest.mark.parametrize(("item", "entry", "expect"), list(_cases()))
def test_corpus_file_is_answered_as_declared(
    item: CorpusFile,
    entry: str,
    expect: dict[str, object],
    guard: Guard,
    bench: Bench,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    data = guard.substitute(item.data(), item.template)
    with guard.armed():
        outcome = run(bench, entry, item, data)
    logged = [record.getMessage() for record in caplog.records] + [r.exc_text or "" for r in caplog.records]
    guard.assert_untouched(outcome.all_texts() + logged)
    check(expect, outcome)
    accepted = bool(expect.get("ok")) and entry.startswith("push.") and entry != "push.decode"
    assert len(bench.sink.events) == (1 if accepted else 0), "a refused push reached the sink"
    opened = expect.get("answer") == "10000"
    assert bench.recorded_requests() == (1 if opened else 0), "a refused openReq was recorded"


def test_every_entry_point_gets_hostile_and_valid_input() -> None:
    hostile = {
        entry for item in MANIFEST.values() if not item.name.startswith("valid-") for entry in item.feeds
    }
    valid = {entry for item in MANIFEST.values() if item.name.startswith("valid-") for entry in item.feeds}
    assert hostile == set(make_corpus.ALL_ENTRIES)
    assert valid == set(make_corpus.ALL_ENTRIES), "every entry point needs a positive control"


def test_every_corpus_file_is_declared() -> None:
    on_disk = {p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*") if p.is_file()}
    declared = set(MANIFEST) | {make_corpus.MANIFEST} | set(make_corpus.certificates())
    assert on_disk == declared


@pytest.mark.slow
def test_corpus_is_up_to_date(tmp_path: Path) -> None:
    """make_corpus.py is deterministic and the committed corpus is what it writes."""
    make_corpus.write(tmp_path)
    written = {p.relative_to(tmp_path).as_posix(): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    committed = {p.relative_to(CORPUS).as_posix(): p.read_bytes() for p in CORPUS.rglob("*") if p.is_file()}
    assert written.keys() == committed.keys()
    stale = [name for name in written if written[name] != committed[name]]
    assert not stale, f"run python tests/hostile/make_corpus.py: {stale}"


def test_corpus_stays_small() -> None:
    total = sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file())
    assert total < 2 * 1024 * 1024


def test_corpus_keys_are_the_ones_that_signed_it() -> None:
    """The derived keys really made the valid signature (so a regenerated key cannot drift)."""
    keys = make_corpus.keys()
    signer = SoftwareSigner(keys.signer, keys.signer_cert)
    assert sign(make_corpus.ceb311(), signer) == (CORPUS / "valid-signed-ceb311.xml").read_bytes()
