"""No hostile push reaches the pipeline: the ledger holds nothing after every one of them, and a
genuine push (the control) lands exactly once even when replayed.

The receiver is wired as in production: sink = :func:`~cbec_declare.pipeline.receipt_sink`, seen store
= :class:`~cbec_declare.pipeline.LedgerSeenStore`, both over a SQLite ledger whose file is inspected
directly.
"""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from cbec_declare.pipeline import LedgerSeenStore, Pipeline, SqliteLedger, receipt_sink
from cbec_declare.signing import SoftwareSigner
from cbec_declare.testing.factories import Company
from cbec_declare.transport import NodeReply, ReceiptEvent, ReceiptReceiver, make_wsgi_app
from hostile import make_corpus
from hostile.hostile_support import Guard, load_manifest

MANIFEST = load_manifest()
PUSH_ENTRIES = ("push.handle", "push.dxp", "push.wsgi", "push.document")


class NoNode:
    """The pipeline's node transport; receipts never send anything."""

    def send(self, dxp_msg: bytes, *, cop_msg_id: str) -> NodeReply:
        raise AssertionError("a receipt made the pipeline send something")


class CountingSink:
    def __init__(self, pipeline: Pipeline) -> None:
        self.inner = receipt_sink(pipeline)
        self.delivered = 0

    def deliver(self, event: ReceiptEvent) -> None:
        self.delivered += 1
        self.inner.deliver(event)


@pytest.fixture
def wired(tmp_path: Path) -> Iterator[tuple[ReceiptReceiver, CountingSink, Path]]:
    path = tmp_path / "ledger.sqlite3"
    ledger = SqliteLedger(path)
    keys = make_corpus.keys()
    pipeline = Pipeline(
        ledger,
        base_transfer=Company().base_transfer,
        signer=SoftwareSigner(keys.signer, keys.signer_cert),
        node=NoNode(),
    )
    sink = CountingSink(pipeline)
    receiver = ReceiptReceiver(
        aes_key=keys.aes,
        platform_public_key=keys.platform_public_pem(),
        sink=sink,
        seen=LedgerSeenStore(pipeline),
    )
    yield receiver, sink, path
    ledger.close()


def _stored(path: Path) -> int:
    with sqlite3.connect(path) as db:
        (count,) = db.execute("SELECT COUNT(*) FROM messages").fetchone()
    return int(count)


def _hostile_pushes(guard: Guard) -> Iterator[tuple[str, str, bytes]]:
    """(name, entry, what to send) for every refused push of the corpus (xfail cases excluded: they are
    recorded as bugs in test_corpus)."""
    for name, item in sorted(MANIFEST.items()):
        for entry, expect in item.feeds.items():
            if entry not in PUSH_ENTRIES or expect.get("ok") or "xfail" in expect:
                continue
            data = guard.substitute(item.data(), item.template)
            if entry == "push.document" or item.is_form:
                yield name, entry, data
            else:
                document = make_corpus.dxp(data) if entry == "push.dxp" else data
                yield name, "push.handle", make_corpus.form(make_corpus.push_form(document))


def test_no_refused_push_reaches_the_ledger(
    wired: tuple[ReceiptReceiver, CountingSink, Path], tmp_path: Path
) -> None:
    receiver, sink, path = wired
    app = make_wsgi_app(receiver)
    guard = Guard(tmp_path / "guard")
    sent = 0
    try:
        for name, entry, body in _hostile_pushes(guard):
            with guard.armed():
                if entry == "push.document":
                    status = receiver.handle_document(body).status
                elif entry == "push.wsgi":
                    environ = {
                        "REQUEST_METHOD": "POST",
                        "CONTENT_LENGTH": str(len(body)),
                        "CONTENT_TYPE": "application/x-www-form-urlencoded",
                        "wsgi.input": io.BytesIO(body),
                    }
                    seen: list[str] = []
                    b"".join(app(environ, lambda s, h, seen=seen: seen.append(s)))
                    status = int(seen[0].split()[0])
                else:
                    status = receiver.handle(body, "application/x-www-form-urlencoded").status
            assert status == 400, f"{name} ({entry}) answered {status}"
            sent += 1
        guard.assert_untouched([])
    finally:
        guard.close()
    assert sent > 50
    assert sink.delivered == 0
    assert _stored(path) == 0
    assert receiver.stats["rejected"] == sent


def test_a_genuine_push_lands_once_even_when_replayed(
    wired: tuple[ReceiptReceiver, CountingSink, Path],
) -> None:
    receiver, sink, path = wired
    body = (make_corpus.CORPUS / "valid-push.txt").read_bytes()
    first = receiver.handle(body, "application/x-www-form-urlencoded")
    replay = receiver.handle(body, "application/x-www-form-urlencoded")
    assert (first.status, replay.status) == (200, 200)
    assert sink.delivered == 1
    assert _stored(path) == 1
    assert receiver.stats["duplicate"] == 1
