"""The per-document state machine: every path, and "a status never moves backwards"."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cbec_declare.pipeline.states import (
    CustomsReceipt,
    DocumentKind,
    NodeAnswered,
    PlatformAnswered,
    PlatformReceipt,
    SendFailed,
    SendStarted,
    State,
    ValidationFailed,
    next_state,
)


def receipt(status: str, rank: int, *, final: bool = False, success: bool = False) -> CustomsReceipt:
    return CustomsReceipt(status=status, info=f"status {status}", rank=rank, final=final, success=success)


def run(events: list[object], start: State = State.QUEUED) -> State:
    state, status, rank = start, None, None
    for event in events:
        t = next_state(state, event, customs_status=status, customs_rank=rank)  # type: ignore[arg-type]
        if t.applied:
            state, status, rank = t.state, t.customs_status, t.customs_rank
    return state


def test_happy_path_of_an_inventory() -> None:
    events = [
        SendStarted(channel="platform"),
        PlatformAnswered(accepted=True),
        PlatformReceipt(accepted=True),
        SendStarted(channel="node"),
        NodeAnswered(accepted=True),
        receipt("2", 10),
        receipt("120", 30),
        receipt("399", 50),
        receipt("800", 90, final=True, success=True),
    ]
    assert run(events) is State.RELEASED


FAILURES = [
        ([SendStarted(channel="platform"), PlatformAnswered(accepted=False, reasons=("bad sign",))],
         State.REJECTED, "platform refused: bad sign"),
        ([SendStarted(channel="platform"), PlatformAnswered(accepted=True),
          PlatformReceipt(accepted=False, reasons=("重复",))], State.REJECTED, "platform receipt: 重复"),
        ([SendStarted(channel="node"), NodeAnswered(accepted=False, reasons=("1001",))],
         State.REJECTED, "exchange node refused: 1001"),
        ([SendStarted(channel="node"),
          SendFailed(channel="node", reason="timeout", retryable=True, exhausted=True)],
         State.FAILED, "node: timeout"),
        ([SendStarted(channel="node"), SendFailed(channel="node", reason="HTTP 400", retryable=False)],
         State.FAILED, "node: HTTP 400"),
        ([ValidationFailed(reasons=("acturalPaid mismatch",))], State.INVALID, "acturalPaid mismatch"),
]  # fmt: skip


@pytest.mark.parametrize(("events", "expected", "reason"), FAILURES)
def test_failure_paths(events: list[object], expected: State, reason: str) -> None:
    state, last = State.QUEUED, None
    for event in events:
        last = next_state(state, event)  # type: ignore[arg-type]
        state = last.state
    assert state is expected
    assert last is not None
    assert last.reason == reason
    assert state.is_final


def test_retryable_failure_keeps_the_sending_state() -> None:
    t = next_state(State.NODE_SENDING, SendFailed(channel="node", reason="503", retryable=True))
    assert t.applied
    assert t.state is State.NODE_SENDING
    assert t.reason == "retry: 503"


def test_early_customs_receipt_moves_forward_and_late_answers_are_ignored() -> None:
    t = next_state(State.NODE_SENDING, receipt("2", 10))
    assert t.state is State.CUSTOMS_PROCESSING
    late = next_state(t.state, NodeAnswered(accepted=True), customs_status="2", customs_rank=10)
    assert not late.applied
    assert late.state is State.CUSTOMS_PROCESSING


def test_duplicates_and_stale_receipts_are_ignored() -> None:
    dup = next_state(State.CUSTOMS_PROCESSING, receipt("120", 30), customs_status="120", customs_rank=30)
    assert not dup.applied
    assert "duplicate" in dup.reason
    old = next_state(State.CUSTOMS_PROCESSING, receipt("2", 10), customs_status="120", customs_rank=30)
    assert not old.applied
    assert "older" in old.reason
    after = next_state(State.RELEASED, receipt("100", 90, final=True), customs_status="800", customs_rank=90)
    assert not after.applied
    assert after.state is State.RELEASED


def test_the_same_document_kinds_map_to_message_types() -> None:
    assert DocumentKind.INVENTORY.message_type == "CEB621Message"
    assert DocumentKind.INVENTORY.receipt_type == "CEB622Message"
    assert DocumentKind.for_message_type("CEB412Message") is DocumentKind.PAYMENT
    with pytest.raises(KeyError):
        DocumentKind.for_message_type("CEB999Message")


_RECEIPTS = st.sampled_from(
    [receipt("2", 10), receipt("120", 30), receipt("399", 50), receipt("500", 60),
     receipt("800", 90, final=True, success=True), receipt("100", 90, final=True)]
)  # fmt: skip
_EVENTS = st.one_of(
    _RECEIPTS,
    st.builds(SendStarted, channel=st.sampled_from(["platform", "node"])),
    st.builds(PlatformAnswered, accepted=st.booleans()),
    st.builds(PlatformReceipt, accepted=st.booleans()),
    st.builds(NodeAnswered, accepted=st.booleans()),
    st.builds(SendFailed, channel=st.just("node"), reason=st.just("x"), retryable=st.booleans(),
              exhausted=st.booleans()),
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(_EVENTS, max_size=25))
def test_state_and_customs_rank_never_move_backwards(events: list[object]) -> None:
    state, status, rank = State.QUEUED, None, None
    for event in events:
        t = next_state(state, event, customs_status=status, customs_rank=rank)  # type: ignore[arg-type]
        if not t.applied:
            assert (t.state, t.customs_status, t.customs_rank) == (state, status, rank)
            continue
        assert t.state.rank >= state.rank or (state.is_sending and t.state is state)
        if rank is not None:
            assert t.customs_rank is not None
            assert t.customs_rank >= rank
        if state.is_final:
            pytest.fail(f"{event!r} changed the final state {state}")
        state, status, rank = t.state, t.customs_status, t.customs_rank


@settings(max_examples=300, deadline=None)
@given(st.permutations([receipt("2", 10), receipt("120", 30), receipt("399", 50),
                        receipt("800", 90, final=True, success=True)]))  # fmt: skip
def test_any_order_of_the_same_receipts_ends_released(order: list[CustomsReceipt]) -> None:
    assert run([SendStarted(channel="node"), NodeAnswered(accepted=True), *order]) is State.RELEASED
