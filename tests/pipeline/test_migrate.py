"""Moving a ledger from SQLite to PostgreSQL (and back) with ``cbec_declare.pipeline.migrate``.

The main test follows the documented procedure with a live sandbox and real worker processes: a worker on
SQLite declares sales; it is stopped (SIGTERM) while customs still has receipts to push and documents are
still queued; the ledger is copied; a worker on PostgreSQL (same receipt URL) finishes everything. Nothing
is lost or declared twice, and every record, history row and message reads the same on both sides.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone
from itertools import count
from pathlib import Path
from typing import Any

import attrs
import pytest

from cbec_declare.errors import LedgerError
from cbec_declare.pipeline import Pipeline, State, open_ledger
from cbec_declare.pipeline.ledger import Ledger
from cbec_declare.pipeline.migrate import copy_ledger, migrate
from cbec_declare.pipeline.states import DocumentKind, NodeAnswered, SendFailed, SendStarted
from cbec_declare.sandbox import Sandbox, SandboxConfig
from cbec_declare.sandbox.config import PushConfig, TimingConfig
from cbec_declare.testing.factories import DocumentFactory
from cbec_declare.testing.harness import company_for
from pipeline._pg import PgCluster
from pipeline.ledger_conformance import apply_event, new_doc, receipt
from pipeline.test_ledger_postgres import cluster  # noqa: F401 - the session's throw-away server
from pipeline.test_scale_postgres import closing, deploy, free_port, pipeline_for, wait_until  # noqa: F401

pytestmark = pytest.mark.postgres

_databases = count(1)


@pytest.fixture
def pg_url(cluster: PgCluster) -> str:  # noqa: F811
    url: str = cluster.create_database(f"migrate_{next(_databases)}")
    return url


def sale(submitter: Pipeline, factory: DocumentFactory) -> tuple[list[int], list[Any]]:
    """Submit an order, its payment, waybill and inventory: (ids, documents)."""
    docs = list(factory.sale(items=2))
    results = submitter.submit(docs)
    assert all(r.created for r in results)
    return [r.id for r in results], docs


def snapshot(ledger: Ledger) -> dict[int, tuple[Any, ...]]:
    """Every document with its history and messages, as the Ledger API returns them."""
    return {
        record.id: (record, ledger.history(record.id), ledger.messages(record.id))
        for record in ledger.find(limit=100_000)
    }


@pytest.mark.slow
def test_sqlite_to_postgres_mid_stream_loses_nothing(
    pg_url: str,
    tmp_path: Path,
    closing: ExitStack,  # noqa: F811
) -> None:
    port = free_port()
    config = SandboxConfig(
        seed=12,
        # Slow enough that customs is still pushing receipts when the SQLite worker stops.
        timing=TimingConfig(time_scale=0.5),
        # While no endpoint listens, the platform retries (as the real one does), for minutes.
        push=PushConfig(attempts=100, backoff=1.0, max_backoff=4.0, timeout=5.0),
        receivers=(f"http://127.0.0.1:{port}",),
    )
    sqlite_url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    with Sandbox(config) as sandbox:
        deployment, submitter = deploy(tmp_path, sqlite_url, sandbox, closing)
        factory = DocumentFactory(seed=5, company=company_for(sandbox.credentials))
        ledger = submitter.ledger

        # 1. A worker on SQLite: two sales to the end, a modification, a third sale stopped mid-customs.
        worker = deployment.start(port, lease=30.0)
        try:
            ids, docs = sale(submitter, factory)
            ids += sale(submitter, factory)[0]
            assert wait_until(lambda: submitter.pending() == 0, 120)
            waybill = docs[2]
            changed = attrs.evolve(waybill, consignee_address=waybill.consignee_address + "2号楼")
            modified = submitter.modify(ids[2], changed)
            ids += [modified.id, *sale(submitter, factory)[0]]

            def mid_customs() -> bool:
                states = [ledger.get(i).state for i in ids]
                return all(s.rank >= State.DECLARED.rank for s in states) and not all(
                    s.is_final for s in states
                )

            assert wait_until(mid_customs, 120)
        finally:
            worker.stop()  # SIGTERM: it finishes its step; its endpoint is gone, pushes are retried
        # ... and one more sale arrives from the ERP before the switch: queued, never sent.
        ids += sale(submitter, factory)[0]
        ledger.close()

        # 2. The copy.
        report = migrate(sqlite_url, pg_url)
        source, target = open_ledger(sqlite_url), open_ledger(pg_url)
        try:
            assert report.documents == len(ids)
            assert report.links >= report.messages > 0
            assert report.history > 0
            copied = snapshot(target)
            assert copied == snapshot(source)  # records, history, messages: equal field by field
            not_final = [i for i in ids if not copied[i][0].state.is_final]
            assert len(not_final) >= 5, not_final  # the last sale queued, the one before mid-customs
            assert copied[modified.id][0].supersedes == ids[2]
        finally:
            source.close()
            target.close()

        # 3. A worker on PostgreSQL, on the same receipt URL, finishes what the SQLite one left.
        after = pipeline_for(open_ledger(pg_url), sandbox, submitter.signer)
        worker = attrs.evolve(deployment, ledger_url=pg_url).start(port, lease=30.0)
        try:
            assert wait_until(lambda: after.pending() == 0, 180), [
                (r.id, r.state.value) for r in after.find(limit=100) if not r.state.is_final
            ]
            assert all(after.get(i).state is State.RELEASED for i in ids)
            new = sale(after, factory)[0]
            assert min(new) > max(ids)  # ids continue after the copied ones
            # The declared-once guard covers the copied documents: a new declaration of sale 1's order
            # under another guid is not stored.
            copy = attrs.evolve(docs[0], head=attrs.evolve(docs[0].head, guid="B" * 36))
            [refused] = after.submit([copy])
            assert (refused.id, refused.created) == (ids[0], False)
            assert wait_until(lambda: after.pending() == 0, 120)
        finally:
            worker.stop()
            after.ledger.close()
        stats = sandbox.stats()
    assert stats.declared_twice == 0
    assert stats.pushes_abandoned == 0
    # Each order reached customs once: 3 sales before the switch, 1 queued across it, 1 after.
    assert stats.documents["CEB311Message"] == 5
    assert stats.documents["CEB511Message"] == 6  # and the modified waybill (appType 2)


# --------------------------------------------------------------------------------------------- the copy


def fill(ledger: Ledger) -> list[int]:
    """A small ledger with every kind of row and value: nulls, non-ASCII, binary bodies, a retry time,
    ignored history, a modification, messages linked to several documents and to none."""
    t0 = datetime(2026, 3, 1, 8, 0, 0, 123456, tzinfo=timezone.utc)
    first = ledger.submit([new_doc(payload='{"备注": "奶粉"}'.encode()), new_doc(kind=DocumentKind.PAYMENT)])
    ids = [r.id for r in first]
    [modification] = ledger.submit([new_doc(app_type="2", supersedes=ids[0], cop_no=None, order_no=None)])
    ids.append(modification.id)
    out, _ = ledger.record_message(
        direction="out", channel="node", message_type="CEB311Message", key="COPMSG-1",
        body=bytes(range(256)) * 3, document_ids=ids[:2], now=t0,
    )  # fmt: skip
    ledger.record_message(direction="in", channel="push", message_type="CEB312Message", key="push-x",
                          body="<回执/>".encode(), now=t0)  # fmt: skip
    for document_id in ids[:2]:
        ledger.transition(
            document_id,
            lambda r: apply_event_decide(r, SendStarted(channel="node")),
            event="node_send",
            message_id=out,
            now=t0,
        )
    apply_event(ledger, ids[0], NodeAnswered(accepted=True))
    apply_event(ledger, ids[0], receipt("2"))
    apply_event(ledger, ids[0], receipt("2"))  # a duplicate: ignored
    ledger.transition(
        ids[1],
        lambda r: apply_event_decide(r, SendFailed(channel="node", reason="超时", retryable=True)),
        event="node_failed",
        next_attempt_at=t0 + timedelta(seconds=30),
        count_attempt=True,
        now=t0,
    )
    return ids


def apply_event_decide(record: Any, event: Any) -> Any:
    from cbec_declare.pipeline.states import next_state

    return next_state(
        record.state, event, customs_status=record.customs_status, customs_rank=record.customs_rank
    )


@pytest.fixture
def sqlite_ledger(tmp_path: Path) -> Iterator[Ledger]:
    ledger = open_ledger(f"sqlite:///{tmp_path / 'source.sqlite3'}")
    yield ledger
    ledger.close()


def test_every_row_is_copied_exactly_and_back(sqlite_ledger: Ledger, pg_url: str, tmp_path: Path) -> None:
    ids = fill(sqlite_ledger)
    with open_ledger(pg_url) as target:  # type: ignore[attr-defined]
        there = copy_ledger(sqlite_ledger, target)
        assert snapshot(target) == snapshot(sqlite_ledger)
        assert (there.documents, there.messages, there.links, there.history) == (3, 2, 2, 6)
        assert target.get(ids[1]).next_attempt_at == datetime(
            2026, 3, 1, 8, 0, 30, 123456, tzinfo=timezone.utc
        )
        unlinked = target.find_message(direction="in", channel="push", key="push-x")
        assert unlinked is not None
        assert unlinked.document_ids == ()
        with open_ledger(f"sqlite:///{tmp_path / 'back.sqlite3'}") as back:  # type: ignore[attr-defined]
            home = copy_ledger(target, back)
            assert snapshot(back) == snapshot(sqlite_ledger)
            # The fingerprint does not depend on the backend: the same rows give the same one.
            assert home.fingerprint == there.fingerprint
            assert back.submit([new_doc()])[0].id == max(ids) + 1  # SQLite's counter moved too
        assert target.submit([new_doc()])[0].id == max(ids) + 1  # PostgreSQL's identity moved on


def test_a_target_holding_anything_is_refused_and_left_alone(sqlite_ledger: Ledger, pg_url: str) -> None:
    fill(sqlite_ledger)
    with open_ledger(pg_url) as target:  # type: ignore[attr-defined]
        [kept] = target.submit([new_doc()])
        with pytest.raises(LedgerError) as caught:
            copy_ledger(sqlite_ledger, target)
        assert caught.value.code == "ledger.migrate.not_empty"
        assert [r.id for r in target.find()] == [kept.id]


def test_live_leases_stop_the_copy_unless_told_otherwise(sqlite_ledger: Ledger, pg_url: str) -> None:
    ids = fill(sqlite_ledger)
    now = datetime.now(timezone.utc)
    leased = sqlite_ledger.claim_due(now=now, owner="host:1:w/t0", limit=10, lease_seconds=600)
    assert leased
    with open_ledger(pg_url) as target:  # type: ignore[attr-defined]
        with pytest.raises(LedgerError) as caught:
            copy_ledger(sqlite_ledger, target)
        assert caught.value.code == "ledger.migrate.busy"
        assert "stop every worker" in caught.value.message
        assert target.find() == []  # nothing was written
        copy_ledger(sqlite_ledger, target, ignore_leases=True)
        # Leases are not copied: every due document can be claimed at once on the new ledger.
        claimed = target.claim_due(now=now, owner="new/t0", limit=10, lease_seconds=60)
        assert {r.id for r in claimed} == {r.id for r in leased} <= set(ids)


def test_the_command_line(sqlite_ledger: Ledger, pg_url: str, tmp_path: Path) -> None:
    fill(sqlite_ledger)
    source = f"sqlite:///{tmp_path / 'source.sqlite3'}"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cbec_declare.pipeline.migrate", *args],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    done = run(source, pg_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(
        "copied and verified: documents 3, messages 2, message links 2, history rows 6"
    )
    assert "documents: 3" in done.stderr  # progress
    again = run(source, pg_url)
    assert again.returncode == 1
    assert "ledger.migrate.not_empty" in again.stderr


def test_what_cannot_be_copied_is_refused(pg_url: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'same.sqlite3'}"
    with pytest.raises(LedgerError) as caught:
        migrate(url, url)
    assert caught.value.code == "ledger.config"
    with open_ledger(pg_url) as target:  # type: ignore[attr-defined]
        with pytest.raises(LedgerError) as caught:
            copy_ledger(object(), target)  # type: ignore[arg-type]
        assert caught.value.code == "ledger.config"
        with pytest.raises(LedgerError) as caught:
            copy_ledger(target, target, page=0)
        assert caught.value.code == "ledger.invalid"


# --------------------------------------------------------------------------------- found on the way


@pytest.mark.parametrize("page", ["1", "500"])
def test_cbec_declare_migrate_copies_between_sqlite_files(
    tmp_path: Path, page: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The console command, on SQLite alone (no server): copied, verified, and refused a second time."""
    from cbec_declare.cli import main

    source, target = f"sqlite:///{tmp_path / 'a.sqlite3'}", f"sqlite:///{tmp_path / 'b.sqlite3'}"
    with open_ledger(source) as ledger:  # type: ignore[attr-defined]
        fill(ledger)
        before = snapshot(ledger)
    assert main(["migrate", source, target, "--page", page]) == 0
    out = capsys.readouterr()
    assert out.out.startswith("copied and verified: documents 3, messages 2, message links 2, history rows 6")
    with open_ledger(target) as copied:  # type: ignore[attr-defined]
        assert snapshot(copied) == before
    assert main(["migrate", source, target]) == 1
    assert "the target ledger is not empty (documents has 3 rows)" in capsys.readouterr().err
    assert main(["migrate", source, source]) == 1
    assert "the source and the target are the same ledger" in capsys.readouterr().err
