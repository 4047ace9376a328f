"""The ledger conformance suite, run against every backend (in one process; see ledger_processes.py).

A backend's test module subclasses :class:`LedgerConformance` and provides a function-scoped ``store``
fixture: a fresh, empty :class:`Store`. Every test opens real ledgers on it.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from itertools import count
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cbec_declare.codes import statuses_for
from cbec_declare.errors import LedgerError
from cbec_declare.pipeline import states
from cbec_declare.pipeline._ledger_common import FIND_CRITERIA
from cbec_declare.pipeline.ledger import DocumentRecord, Ledger, NewDocument
from cbec_declare.pipeline.migrations import MIGRATIONS, Migration
from cbec_declare.pipeline.states import DocumentKind, State, Transition

T0 = datetime(2026, 3, 1, 8, 0, 0, tzinfo=timezone.utc)
#: the shape of each single-criterion find() query, and of claim_due's, for index checks ({now}: a
#: timestamp literal of the backend)
FIND_CRITERIA_SQL = {
    **{c: f"SELECT * FROM documents WHERE {c} = 'x' ORDER BY id DESC LIMIT 10" for c in FIND_CRITERIA},
    "claim_due": "SELECT id FROM documents WHERE state IN ('queued', 'node_sending')"
    " AND (next_attempt_at IS NULL OR next_attempt_at <= {now}) ORDER BY id LIMIT 10",
}
_serial = count(1)


@attrs.frozen
class Store:
    """One empty database of a backend. ``open(**options)`` opens a new ledger instance on it."""

    url: str
    open: Callable[..., Ledger]
    #: problems found by the backend's own consistency check ([] when sound)
    check_integrity: Callable[[], list[str]]
    #: the stored schema versions, oldest first
    schema_versions: Callable[[], list[int]]
    #: names of the tables in the database
    tables: Callable[[], set[str]]


def new_doc(**overrides: Any) -> NewDocument:
    """A document with unique keys (unless overridden)."""
    n = f"{os.getpid()}-{next(_serial)}"  # unique across the processes of a test too
    values: dict[str, Any] = {
        "kind": DocumentKind.ORDER,
        "business_key": f"3301964J31|SO{n}",
        "app_type": "1",
        "guid": f"guid-{n}",
        "payload": f'{{"orderNo": "SO{n}", "note": "订单"}}'.encode(),
        "order_no": f"SO{n}",
    }
    values.update(overrides)
    return NewDocument(**values)


def count_up(record: DocumentRecord) -> Transition:
    """A decide that increments a counter kept in customs_rank (and mirrored in customs_status)."""
    n = (record.customs_rank or 0) + 1
    return Transition(state=record.state, customs_status=str(n), customs_rank=n, reason="count")


def to_state(target: State) -> Callable[[DocumentRecord], Transition]:
    return lambda record: Transition(state=target, reason=f"to {target.value}")


def ignore(record: DocumentRecord) -> Transition:
    return Transition(state=record.state, customs_status=record.customs_status, reason="stale", applied=False)


def receipt(status: str) -> states.CustomsReceipt:
    """A CEB622 customs receipt described by the real code tables."""
    info = {s.status: s for s in statuses_for("CEB622Message")}[status]
    return states.CustomsReceipt(
        status=status, info=info.zh, rank=info.rank, final=info.final, success=info.success
    )


def apply_event(ledger: Ledger, document_id: int, event: states.Event) -> tuple[DocumentRecord, Transition]:
    """Apply an event the way the worker does: ``next_state`` on the fresh record, inside the ledger."""

    def decide(record: DocumentRecord) -> Transition:
        return states.next_state(
            record.state,
            event,
            customs_status=record.customs_status,
            customs_rank=record.customs_rank,
            platform_step=record.platform_step,
        )

    return ledger.transition(document_id, decide, event=type(event).__name__)


def assert_history_consistent(ledger: Ledger, record: DocumentRecord) -> None:
    """Applied history rows chain from QUEUED to the document's state; ignored rows changed nothing."""
    state, status = State.QUEUED, None
    for entry in ledger.history(record.id):
        assert entry.old_state is state, (record.id, entry)
        if entry.applied:
            state, status = entry.new_state, entry.customs_status
        else:
            assert entry.new_state is state, (record.id, entry)
    assert record.state is state, (record, state)
    assert record.customs_status == status, (record, status)


_STEPS = [s.status for s in statuses_for("CEB622Message") if not s.final]
_SUCCESS = [s.status for s in statuses_for("CEB622Message") if s.final and s.success]
_FAILURE = [s.status for s in statuses_for("CEB622Message") if s.final and not s.success]
_WORKER_PATH: list[states.Event] = [
    states.SendStarted(channel="platform"),
    states.PlatformAnswered(accepted=True),
    states.PlatformReceipt(accepted=True),
    states.SendStarted(channel="node"),
    states.NodeAnswered(accepted=True),
]


@st.composite
def event_sequences(draw: st.DrawFn) -> tuple[list[states.Event], list[str]]:
    """The worker's path with customs receipts (duplicates, any order, possibly early) interleaved."""
    steps = draw(st.lists(st.sampled_from(_STEPS), max_size=6))
    outcome = draw(st.sampled_from(["none", "success", "failure"]))
    finals: list[str] = []
    if outcome == "success":
        finals = draw(st.lists(st.sampled_from(_SUCCESS), min_size=1, max_size=3))
    elif outcome == "failure":
        finals = [draw(st.sampled_from(_FAILURE))] * draw(st.integers(1, 2))
    receipts = draw(st.permutations(steps + finals))
    worker = list(_WORKER_PATH)
    if draw(st.booleans()):  # the platform's 入库回执 pushed twice
        worker.insert(3, states.PlatformReceipt(accepted=True))
    slots = [draw(st.integers(0, len(worker))) for _ in receipts]
    events: list[states.Event] = []
    for slot in range(len(worker) + 1):
        events += [receipt(status) for status, at in zip(receipts, slots, strict=False) if at == slot]
        if slot < len(worker):
            events.append(worker[slot])
    return events, finals


class LedgerConformance:
    """What every Ledger backend must do. Subclasses provide a ``store`` fixture."""

    @pytest.fixture
    def ledger(self, store: Store) -> Iterator[Ledger]:
        opened = store.open()
        yield opened
        opened.close()

    # -- submit, get, find

    def test_submit_is_idempotent(self, ledger: Ledger) -> None:
        doc = new_doc(payload=bytes(range(256)))
        first = ledger.submit([doc, doc])
        again = ledger.submit([doc])
        assert first[0].created
        assert not first[1].created
        assert not again[0].created
        assert first[0].id == first[1].id == again[0].id
        assert [r.id for r in ledger.find(guid=doc.guid)] == [first[0].id]
        # Another app_type (a modification) of the same document is another declaration.
        modify = attrs.evolve(doc, app_type="2", supersedes=first[0].id)
        (changed,) = ledger.submit([modify])
        assert changed.created
        assert changed.id != first[0].id

    def test_resubmitted_payload_does_not_replace_the_stored_one(self, ledger: Ledger) -> None:
        doc = new_doc()
        (stored,) = ledger.submit([doc])
        (again,) = ledger.submit([attrs.evolve(doc, payload=b"{}")])
        assert not again.created
        assert ledger.get(stored.id).payload == doc.payload

    def test_submit_is_one_transaction(self, ledger: Ledger) -> None:
        good = new_doc()
        with pytest.raises(LedgerError) as caught:
            ledger.submit([good, new_doc(supersedes=10**9)])  # no such document
        assert caught.value.code == "ledger.integrity"
        assert ledger.find(guid=good.guid) == []

    def test_record_round_trip(self, ledger: Ledger) -> None:
        before = datetime.now(timezone.utc)
        doc = new_doc(
            kind=DocumentKind.INVENTORY, cop_no="COP1", logistics_no="LN1", platform_step=False,
            payload=b'{"x": "\xe6\xb8\x85\xe5\x8d\x95"}\x00',
        )  # fmt: skip
        (result,) = ledger.submit([doc])
        record = ledger.get(result.id)
        after = datetime.now(timezone.utc)
        assert attrs.asdict(doc) == {
            key: value for key, value in attrs.asdict(record).items() if key in attrs.asdict(doc)
        }
        assert (record.state, record.customs_status, record.customs_rank) == (State.QUEUED, None, None)
        assert (record.reason, record.attempts, record.next_attempt_at) == ("", 0, None)
        assert record.created_at.tzinfo is timezone.utc
        assert before <= record.created_at <= after
        assert record.updated_at == record.created_at

    def test_get_unknown_document(self, ledger: Ledger) -> None:
        with pytest.raises(LedgerError) as caught:
            ledger.get(10**9)
        assert caught.value.code == "ledger.not_found"

    def test_find_by_every_criterion(self, ledger: Ledger) -> None:
        rows = [  # kind, business_key, order_no, cop_no, logistics_no
            (DocumentKind.ORDER, "B1", "O1", "C1", "L1"),
            (DocumentKind.PAYMENT, "B1", "O1", "C2", None),
            (DocumentKind.INVENTORY, "B2", "O2", "C1", "L1"),
            (DocumentKind.INVENTORY, "B3", None, None, "L2"),
        ]
        docs = [
            new_doc(kind=k, business_key=b, order_no=o, cop_no=c, logistics_no=n) for k, b, o, c, n in rows
        ]
        ids = [r.id for r in ledger.submit(docs)]
        ledger.transition(ids[2], to_state(State.DECLARED), event="test")

        def found(**criteria: Any) -> list[int]:
            return [r.id for r in ledger.find(**criteria)]

        assert found(kind=DocumentKind.INVENTORY) == [ids[3], ids[2]]  # newest first
        assert found(business_key="B1") == [ids[1], ids[0]]
        assert found(order_no="O1") == [ids[1], ids[0]]
        assert found(cop_no="C1") == [ids[2], ids[0]]
        assert found(logistics_no="L1") == [ids[2], ids[0]]
        assert found(guid=docs[3].guid) == [ids[3]]
        assert found(state=State.DECLARED) == [ids[2]]
        assert found(business_key="B1", kind=DocumentKind.PAYMENT) == [ids[1]]
        assert found(logistics_no="L1", state=State.QUEUED) == [ids[0]]
        assert found(order_no="nothing") == []
        assert found(limit=2) == [ids[3], ids[2]]
        assert found(limit=0) == []
        with pytest.raises(LedgerError):
            ledger.find(limit=-1)

    def test_counts(self, ledger: Ledger) -> None:
        ids = [r.id for r in ledger.submit([new_doc() for _ in range(3)])]
        ledger.transition(ids[0], to_state(State.RELEASED), event="test")
        counts = ledger.counts()
        assert set(counts) == set(State)
        assert (counts[State.QUEUED], counts[State.RELEASED], counts[State.FAILED]) == (2, 1, 0)

    # -- transitions

    def test_transition_applies_and_records_history(self, ledger: Ledger) -> None:
        (doc,) = ledger.submit([new_doc()])
        message_id, _ = ledger.record_message(
            direction="out", channel="platform", message_type="CEB311Message", key="m1", body=b"<x/>"
        )
        retry = T0 + timedelta(minutes=5)
        record, outcome = ledger.transition(
            doc.id, to_state(State.PLATFORM_SENDING), event="SendStarted", message_id=message_id,
            next_attempt_at=retry, count_attempt=True, now=T0,
        )  # fmt: skip
        assert outcome.applied
        assert record == ledger.get(doc.id)
        assert (record.state, record.attempts, record.next_attempt_at, record.updated_at) == (
            State.PLATFORM_SENDING, 1, retry, T0,
        )  # fmt: skip
        record, _ = ledger.transition(doc.id, count_up, event="count", now=T0 + timedelta(seconds=1))
        assert (record.customs_status, record.customs_rank, record.reason) == ("1", 1, "count")
        assert (record.attempts, record.next_attempt_at) == (1, None)  # no new schedule: due again
        entries = ledger.history(doc.id)
        assert [(e.old_state, e.new_state, e.event, e.message_id, e.applied) for e in entries] == [
            (State.QUEUED, State.PLATFORM_SENDING, "SendStarted", message_id, True),
            (State.PLATFORM_SENDING, State.PLATFORM_SENDING, "count", None, True),
        ]
        assert [e.at for e in entries] == [T0, T0 + timedelta(seconds=1)]
        assert entries[1].customs_status == "1"
        assert entries[0].reason == "to platform_sending"

    def test_ignored_event_is_recorded_but_changes_nothing(self, ledger: Ledger) -> None:
        (doc,) = ledger.submit([new_doc()])
        before, _ = ledger.transition(doc.id, to_state(State.RELEASED), event="final", now=T0)
        record, outcome = ledger.transition(
            doc.id, ignore, event="late", next_attempt_at=T0, count_attempt=True, now=T0 + timedelta(hours=1)
        )
        assert not outcome.applied
        assert record == before == ledger.get(doc.id)
        last = ledger.history(doc.id)[-1]
        assert (last.old_state, last.new_state, last.applied, last.event, last.reason) == (
            State.RELEASED, State.RELEASED, False, "late", "stale",
        )  # fmt: skip
        assert last.at == T0 + timedelta(hours=1)

    def test_decide_that_raises_writes_nothing(self, ledger: Ledger) -> None:
        (doc,) = ledger.submit([new_doc()])

        def broken(record: DocumentRecord) -> Transition:
            raise ZeroDivisionError("decide failed")

        with pytest.raises(ZeroDivisionError):
            ledger.transition(doc.id, broken, event="boom")
        assert ledger.history(doc.id) == []
        assert ledger.get(doc.id).state is State.QUEUED
        ledger.transition(doc.id, count_up, event="after")  # the ledger is still usable
        assert len(ledger.history(doc.id)) == 1

    def test_transition_of_unknown_document(self, ledger: Ledger) -> None:
        with pytest.raises(LedgerError) as caught:
            ledger.transition(10**9, count_up, event="x")
        assert caught.value.code == "ledger.not_found"

    def test_naive_times_are_refused(self, ledger: Ledger) -> None:
        (doc,) = ledger.submit([new_doc()])
        naive = datetime(2026, 1, 1, 12, 0)
        for call in (
            lambda: ledger.transition(doc.id, count_up, event="x", now=naive),
            lambda: ledger.transition(doc.id, count_up, event="x", next_attempt_at=naive),
            lambda: ledger.claim_due(now=naive, owner="w", limit=1, lease_seconds=1),
        ):
            with pytest.raises(LedgerError) as caught:
                call()
            assert caught.value.code == "ledger.naive_time"
        assert ledger.history(doc.id) == []

    def test_times_in_other_zones_are_stored_as_utc(self, ledger: Ledger) -> None:
        (doc,) = ledger.submit([new_doc()])
        beijing = timezone(timedelta(hours=8))
        record, _ = ledger.transition(doc.id, count_up, event="x", now=T0.astimezone(beijing))
        assert ledger.get(doc.id).updated_at == T0
        assert ledger.get(doc.id).updated_at.tzinfo is timezone.utc
        assert record.updated_at == T0

    # The ledger fixture is shared by the examples (each uses a new document), and each backend's subclass
    # runs this one method: both health checks are expected here.
    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.differing_executors],
    )
    @given(sequence=event_sequences())
    def test_receipts_never_move_a_document_backwards(
        self, ledger: Ledger, sequence: tuple[list[states.Event], list[str]]
    ) -> None:
        events, finals = sequence
        (doc,) = ledger.submit([new_doc(kind=DocumentKind.INVENTORY)])
        last_rank, last_customs = -1, -1
        for event in events:
            record, _ = apply_event(ledger, doc.id, event)
            assert record.state.rank >= last_rank, (event, record)
            customs_rank = -1 if record.customs_rank is None else record.customs_rank
            assert customs_rank >= last_customs, (event, record)
            last_rank, last_customs = record.state.rank, customs_rank
        record = ledger.get(doc.id)
        customs = [e for e in events if isinstance(e, states.CustomsReceipt)]
        if finals:  # the first final receipt decides; later ones are ignored
            first = next(e for e in customs if e.final)
            assert record.state is (State.RELEASED if first.success else State.REJECTED)
            assert (record.customs_status, record.customs_rank) == (first.status, first.rank)
        elif customs:  # the highest-ranked receipt (the last of equal rank) decides
            best = max(e.rank for e in customs)
            assert record.state is State.CUSTOMS_PROCESSING
            assert record.customs_rank == best
            assert record.customs_status == [e.status for e in customs if e.rank == best][-1]
        else:
            assert record.state is State.DECLARED
        assert len(ledger.history(doc.id)) == len(events)
        assert_history_consistent(ledger, record)

    # -- leases and the retry schedule

    def test_two_owners_never_share_a_document(self, ledger: Ledger) -> None:
        ids = [r.id for r in ledger.submit([new_doc() for _ in range(5)])]
        first = ledger.claim_due(now=T0, owner="a", limit=3, lease_seconds=60)
        second = ledger.claim_due(now=T0, owner="b", limit=10, lease_seconds=60)
        assert [r.id for r in first] == ids[:3]
        assert [r.id for r in second] == ids[3:]
        assert ledger.claim_due(now=T0 + timedelta(seconds=59), owner="c", limit=10, lease_seconds=60) == []
        # The owner's own live lease is renewed, not refused.
        assert [r.id for r in ledger.claim_due(now=T0, owner="a", limit=10, lease_seconds=60)] == ids[:3]

    def test_an_expired_lease_is_free(self, ledger: Ledger) -> None:
        (doc,) = ledger.submit([new_doc()])
        assert ledger.claim_due(now=T0, owner="dead", limit=1, lease_seconds=30)
        assert ledger.claim_due(now=T0 + timedelta(seconds=29), owner="b", limit=1, lease_seconds=30) == []
        again = ledger.claim_due(now=T0 + timedelta(seconds=30), owner="b", limit=1, lease_seconds=30)
        assert [r.id for r in again] == [doc.id]

    def test_release(self, ledger: Ledger) -> None:
        (doc,) = ledger.submit([new_doc()])
        ledger.claim_due(now=T0, owner="a", limit=1, lease_seconds=600)
        ledger.release(doc.id, owner="b")  # not b's lease: nothing happens
        assert ledger.claim_due(now=T0, owner="b", limit=1, lease_seconds=600) == []
        ledger.release(doc.id, owner="a")
        assert [r.id for r in ledger.claim_due(now=T0, owner="b", limit=1, lease_seconds=600)] == [doc.id]
        with pytest.raises(LedgerError) as caught:
            ledger.release(10**9, owner="a")
        assert caught.value.code == "ledger.not_found"

    def test_only_documents_that_need_the_worker_are_due(self, ledger: Ledger) -> None:
        by_state = {state: ledger.submit([new_doc()])[0].id for state in State}
        for state, document_id in by_state.items():
            if state is not State.QUEUED:
                ledger.transition(document_id, to_state(state), event="setup")
        claimed = ledger.claim_due(now=T0, owner="w", limit=100, lease_seconds=60)
        due = {State.QUEUED, State.PLATFORM_SENDING, State.PLATFORM_ACCEPTED, State.NODE_SENDING}
        assert {r.id for r in claimed} == {by_state[s] for s in due}
        assert ledger.claim_due(now=T0, owner="w", limit=0, lease_seconds=60) == []
        with pytest.raises(LedgerError):
            ledger.claim_due(now=T0, owner="w", limit=1, lease_seconds=0)

    def test_retry_schedule_is_respected(self, ledger: Ledger) -> None:
        (doc,) = ledger.submit([new_doc()])
        ledger.transition(doc.id, to_state(State.PLATFORM_SENDING), event="SendStarted", now=T0)
        retry = T0 + timedelta(minutes=2)
        record, _ = ledger.transition(
            doc.id, lambda r: Transition(state=r.state, reason="retry: timeout"), event="SendFailed",
            next_attempt_at=retry, count_attempt=True, now=T0,
        )  # fmt: skip
        assert (record.attempts, record.next_attempt_at) == (1, retry)
        assert (
            ledger.claim_due(now=retry - timedelta(microseconds=1), owner="w", limit=5, lease_seconds=9) == []
        )
        (claimed,) = ledger.claim_due(now=retry, owner="w", limit=5, lease_seconds=9)
        assert (claimed.id, claimed.attempts, claimed.next_attempt_at) == (doc.id, 1, retry)

    def test_threads_claiming_together_never_share(self, ledger: Ledger) -> None:
        ids = {r.id for r in ledger.submit([new_doc() for _ in range(40)])}
        claimed: dict[str, list[int]] = {f"t{i}": [] for i in range(4)}
        go = threading.Barrier(4, timeout=30)

        def work(owner: str) -> None:
            go.wait()
            while batch := ledger.claim_due(now=T0, owner=owner, limit=3, lease_seconds=600):
                for record in batch:
                    claimed[owner].append(record.id)
                    ledger.transition(record.id, to_state(State.DECLARED), event=f"done by {owner}")

        run_threads([functools.partial(work, owner) for owner in claimed])
        every = [i for batch in claimed.values() for i in batch]
        assert sorted(every) == sorted(ids)  # each document processed exactly once
        assert all(len(ledger.history(i)) == 1 for i in ids)

    # -- messages

    def test_messages_are_stored_byte_exact(self, ledger: Ledger) -> None:
        import hashlib

        a, b = (r.id for r in ledger.submit([new_doc(), new_doc()]))
        body = bytes(range(256)) * 4096 + "<?xml 回执?>\r\n".encode("gbk")  # ~1 MiB, every byte value
        out_id, first = ledger.record_message(
            direction="out", channel="node", message_type="CEB311Message", key="CopMsgId-1", body=body,
            document_ids=[b, a, b], now=T0,
        )  # fmt: skip
        assert first
        (stored,) = ledger.messages(a)
        assert stored.body == body
        assert stored.sha256 == hashlib.sha256(body).hexdigest()
        assert (stored.id, stored.direction, stored.channel, stored.message_type, stored.key) == (
            out_id, "out", "node", "CEB311Message", "CopMsgId-1",
        )  # fmt: skip
        assert stored.document_ids == (a, b)
        assert stored.created_at == T0
        assert ledger.messages(b) == [stored]

    def test_an_incoming_message_is_stored_once(self, ledger: Ledger) -> None:
        a, b = (r.id for r in ledger.submit([new_doc(), new_doc()]))
        push: dict[str, Any] = {
            "direction": "in",
            "channel": "push",
            "message_type": "CEB312Message",
            "key": "push-1",
        }
        first = ledger.record_message(**push, body=b"<r/>", document_ids=[a])
        again = ledger.record_message(**push, body=b"<r/>", document_ids=[b])
        assert first[1]
        assert again == (first[0], False)
        assert [m.id for m in ledger.messages(a)] == [first[0]]
        assert ledger.messages(b)[0].document_ids == (a, b)  # the new link is kept
        # Another channel, or an outgoing message with the same key, is another message.
        other = ledger.record_message(**{**push, "channel": "node"}, body=b"<r/>", document_ids=[a])
        out1 = ledger.record_message(**{**push, "direction": "out"}, body=b"<r/>", document_ids=[a])
        out2 = ledger.record_message(**{**push, "direction": "out"}, body=b"<r/>", document_ids=[a])
        assert other[1]
        assert out1[1]
        assert out2[1]
        assert len({first[0], other[0], out1[0], out2[0]}) == 4
        assert [m.id for m in ledger.messages(a)] == [first[0], other[0], out1[0], out2[0]]

    def test_message_checks(self, ledger: Ledger) -> None:
        with pytest.raises(LedgerError) as caught:
            ledger.record_message(direction="sideways", channel="x", message_type="t", key="k", body=b"")
        assert caught.value.code == "ledger.invalid"
        with pytest.raises(LedgerError) as caught:
            ledger.record_message(
                direction="in", channel="push", message_type="t", key="k", body=b"x", document_ids=[10**9]
            )
        assert caught.value.code == "ledger.integrity"
        (doc,) = ledger.submit([new_doc()])
        # The failed call stored nothing: the same key is new now.
        assert ledger.record_message(
            direction="in", channel="push", message_type="t", key="k", body=b"x", document_ids=[doc.id]
        )[1]
        assert ledger.messages(10**9) == []
        assert ledger.history(10**9) == []

    # -- concurrency in one process

    def test_threads_racing_transitions_lose_no_update(self, ledger: Ledger) -> None:
        threads, per_thread = 8, 25
        ids = [r.id for r in ledger.submit([new_doc(), new_doc()])]
        go = threading.Barrier(threads, timeout=30)

        def work(n: int) -> None:
            go.wait()
            for k in range(per_thread):
                for document_id in ids:
                    ledger.transition(document_id, count_up, event=f"t{n}-{k}")

        run_threads([functools.partial(work, n) for n in range(threads)])
        for document_id in ids:
            total = threads * per_thread
            assert ledger.get(document_id).customs_rank == total
            entries = ledger.history(document_id)
            assert [e.customs_status for e in entries] == [str(i) for i in range(1, total + 1)]
            assert len({e.event for e in entries}) == total

    # -- lifecycle and schema

    def test_data_survives_reopening(self, store: Store) -> None:
        first = store.open()
        (doc,) = first.submit([new_doc()])
        first.transition(doc.id, to_state(State.DECLARED), event="x")
        first.close()
        with pytest.raises(LedgerError) as caught:
            first.get(doc.id)
        assert caught.value.code == "ledger.closed"
        second = store.open()
        try:
            assert second.get(doc.id).state is State.DECLARED
            assert len(second.history(doc.id)) == 1
        finally:
            second.close()
        assert store.check_integrity() == []

    def test_migration_from_an_older_database(self, store: Store) -> None:
        old, doc = store.open(), new_doc()
        (stored,) = old.submit([doc])
        old.close()
        assert store.schema_versions() == [1]
        v2 = Migration(
            2,
            "receipt sources",
            (
                "CREATE TABLE receipt_sources (id {id}, name TEXT NOT NULL, added_at {timestamp} NOT NULL)",
                "CREATE INDEX receipt_sources_name ON receipt_sources (name)",
                "ALTER TABLE documents ADD COLUMN source_id {ref} REFERENCES receipt_sources (id)",
            ),
        )
        newer = store.open(migrations=(*MIGRATIONS, v2))
        try:
            assert store.schema_versions() == [1, 2]
            assert "receipt_sources" in store.tables()
            assert newer.get(stored.id).guid == doc.guid  # the old rows are still there, and usable
            newer.transition(stored.id, count_up, event="after v2")
            (other,) = newer.submit([new_doc()])
            assert newer.get(other.id).state is State.QUEUED
        finally:
            newer.close()
        # Code that knows only version 1 must not write into a version-2 database.
        with pytest.raises(LedgerError) as caught:
            store.open()
        assert caught.value.code == "ledger.schema_newer"
        assert caught.value.context == {"schema_version": 2, "known_version": 1}

    def test_a_failing_migration_changes_nothing(self, store: Store) -> None:
        store.open().close()
        broken = Migration(2, "broken", ("CREATE TABLE half_done (x INTEGER)", "THIS IS NOT SQL"))
        with pytest.raises(LedgerError):
            store.open(migrations=(*MIGRATIONS, broken))
        assert store.schema_versions() == [1]
        assert "half_done" not in store.tables()
        with pytest.raises(LedgerError) as caught:
            store.open(migrations=(*MIGRATIONS, attrs.evolve(broken, version=3)))
        assert caught.value.code == "ledger.migration"
        store.open().close()  # and the database still opens


def run_threads(targets: list[Callable[[], None]], timeout: float = 120.0) -> None:
    """Run targets on threads; re-raise the first failure; every wait bounded."""
    errors: list[BaseException] = []

    def guarded(target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as exc:  # reported to the test below
            errors.append(exc)

    workers = [threading.Thread(target=guarded, args=(t,), daemon=True) for t in targets]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout)
        assert not worker.is_alive(), "a worker thread did not finish in time"
    if errors:
        raise errors[0]
