"""The 方案二 flow of one document as an explicit state machine (pure: no I/O, no clock).

::

    QUEUED
      │ SendStarted(platform)             2.2: the <mo> message to the 跨境通关服务平台
      ▼
    PLATFORM_SENDING ──(RESULT chkMark 2)──────────────► REJECTED
      │ PlatformAnswered(accepted)        sync RESULT chkMark 1
      ▼
    PLATFORM_SENT ──(入库回执 chkMark 2)────────────────► REJECTED
      │ PlatformReceipt(accepted)         2.1: the platform's 入库回执
      ▼
    PLATFORM_ACCEPTED ──(cannot build/validate/sign)───► INVALID
      │ SendStarted(node)                 2.3: signed CEB in a DxpMsg to the 三级交换节点
      ▼
    NODE_SENDING ──(node refuses)──────────────────────► REJECTED
      │ NodeAnswered(accepted)            (SendFailed, retries exhausted, from any *_SENDING ► FAILED)
      ▼
    DECLARED
      │ CustomsReceipt (not final)        2.1: CEB312/412/512/514/622/624/626/712
      ▼
    CUSTOMS_PROCESSING ──(final, success)──────────────► RELEASED
                       ──(final, failure)──────────────► REJECTED

* ``*_SENDING`` states are written to the ledger, with the exact bytes, *before* the bytes leave; a worker
  that dies there resends the same bytes (same guid / CopMsgId) when it starts again, so a crash never
  turns into a second declaration.
* Documents without a platform step (configurable per kind) go from QUEUED straight to NODE_SENDING.
* Receipts may come early, late, twice or out of order: an event only ever moves a document forward
  (by :attr:`State.rank`, then by the customs status rank of its receipt type); anything else is recorded in
  the history as ignored, never applied.
* RELEASED, REJECTED, FAILED and INVALID are final.
"""

from __future__ import annotations

import enum
from typing import Any

import attrs

__all__ = [
    "CustomsReceipt",
    "DocumentKind",
    "Event",
    "NodeAnswered",
    "PlatformAnswered",
    "PlatformReceipt",
    "SendFailed",
    "SendStarted",
    "State",
    "Transition",
    "ValidationFailed",
    "next_state",
]


class DocumentKind(str, enum.Enum):
    """What a ledger document is; each kind has one CEB declaration message and one receipt message."""

    ORDER = "order"
    PAYMENT = "payment"
    LOGISTICS = "logistics"
    LOGISTICS_STATUS = "logistics_status"
    INVENTORY = "inventory"
    CANCEL = "cancel"
    REFUND = "refund"
    DELIVERY = "delivery"

    @property
    def message_type(self) -> str:
        return _MESSAGE_TYPES[self][0]

    @property
    def receipt_type(self) -> str:
        return _MESSAGE_TYPES[self][1]

    @classmethod
    def for_message_type(cls, message_type: str) -> DocumentKind:
        for kind, (declared, receipt) in _MESSAGE_TYPES.items():
            if message_type in (declared, receipt):
                return kind
        raise KeyError(message_type)


_MESSAGE_TYPES = {
    DocumentKind.ORDER: ("CEB311Message", "CEB312Message"),
    DocumentKind.PAYMENT: ("CEB411Message", "CEB412Message"),
    DocumentKind.LOGISTICS: ("CEB511Message", "CEB512Message"),
    DocumentKind.LOGISTICS_STATUS: ("CEB513Message", "CEB514Message"),
    DocumentKind.INVENTORY: ("CEB621Message", "CEB622Message"),
    DocumentKind.CANCEL: ("CEB623Message", "CEB624Message"),
    DocumentKind.REFUND: ("CEB625Message", "CEB626Message"),
    DocumentKind.DELIVERY: ("CEB711Message", "CEB712Message"),
}


class State(str, enum.Enum):
    QUEUED = "queued"
    PLATFORM_SENDING = "platform_sending"
    PLATFORM_SENT = "platform_sent"
    PLATFORM_ACCEPTED = "platform_accepted"
    NODE_SENDING = "node_sending"
    DECLARED = "declared"
    CUSTOMS_PROCESSING = "customs_processing"
    RELEASED = "released"
    REJECTED = "rejected"
    FAILED = "failed"
    INVALID = "invalid"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def is_final(self) -> bool:
        return self in _FINAL

    @property
    def is_sending(self) -> bool:
        return self in (State.PLATFORM_SENDING, State.NODE_SENDING)


_RANK = {
    State.QUEUED: 0,
    State.PLATFORM_SENDING: 1,
    State.PLATFORM_SENT: 2,
    State.PLATFORM_ACCEPTED: 3,
    State.NODE_SENDING: 4,
    State.DECLARED: 5,
    State.CUSTOMS_PROCESSING: 6,
    State.RELEASED: 9,
    State.REJECTED: 9,
    State.FAILED: 9,
    State.INVALID: 9,
}
_FINAL = frozenset({State.RELEASED, State.REJECTED, State.FAILED, State.INVALID})


# --------------------------------------------------------------------------- events


@attrs.frozen(kw_only=True)
class SendStarted:
    """The worker stored the exact bytes and is about to send them (2.2 or 2.3)."""

    channel: str  # "platform" | "node"


@attrs.frozen(kw_only=True)
class PlatformAnswered:
    """The synchronous ``<mo>`` RESULT of a 2.2 call (chkMark 1 = received)."""

    accepted: bool
    reasons: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class PlatformReceipt:
    """The platform's 入库回执 pushed over 2.1 (``CUSTOMS_DECLARE_RESULT_CALLBACK``)."""

    accepted: bool
    reasons: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class NodeAnswered:
    """The exchange node's synchronous answer to a 2.3 send."""

    accepted: bool
    reasons: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class CustomsReceipt:
    """A customs receipt (CEB312/412/512/514/622/624/626/712, or CEB900) for this document.

    ``rank`` orders statuses of the same receipt type (a later rank never moves back to an earlier one);
    ``final``/``success`` come from the code tables (:func:`cbec_declare.codes.describe_status`).
    """

    status: str
    info: str
    rank: int
    final: bool
    success: bool


@attrs.frozen(kw_only=True)
class SendFailed:
    """A send failed. ``retryable`` failures go back to be retried until ``exhausted``."""

    channel: str
    reason: str
    retryable: bool
    exhausted: bool = False


@attrs.frozen(kw_only=True)
class ValidationFailed:
    """The CEB message could not be built, validated or signed: nothing was sent."""

    reasons: tuple[str, ...]


Event = (
    SendStarted
    | PlatformAnswered
    | PlatformReceipt
    | NodeAnswered
    | CustomsReceipt
    | SendFailed
    | ValidationFailed
)


@attrs.frozen(kw_only=True)
class Transition:
    """The outcome of applying an event: the new state (may equal the old) and what to record."""

    state: State
    customs_status: str | None = None
    customs_rank: int | None = None
    reason: str = ""
    #: False when the event was stale or a duplicate and changes nothing
    applied: bool = True
    extra: dict[str, Any] = attrs.field(factory=dict)


def _ignored(state: State, why: str, customs_status: str | None, customs_rank: int | None) -> Transition:
    return Transition(
        state=state, customs_status=customs_status, customs_rank=customs_rank, reason=why, applied=False
    )


def next_state(
    state: State,
    event: Event,
    *,
    customs_status: str | None = None,
    customs_rank: int | None = None,
    platform_step: bool = True,
) -> Transition:
    """Apply ``event`` to a document in ``state`` (whose last customs status/rank are given).

    Events other than customs receipts never change the customs status: it is carried over.
    """
    keep = (customs_status, customs_rank)
    if isinstance(event, CustomsReceipt):
        return _customs(state, event, *keep)
    outcome = _flow(state, event, keep)
    if outcome.applied and outcome.customs_status is None and customs_status is not None:
        outcome = attrs.evolve(outcome, customs_status=customs_status, customs_rank=customs_rank)
    return outcome


def _flow(state: State, event: Event, keep: tuple[str | None, int | None]) -> Transition:
    customs_status, customs_rank = keep
    if state.is_final:
        return _ignored(state, f"{type(event).__name__} after the final state {state.value}", *keep)
    if isinstance(event, SendStarted):
        target = State.PLATFORM_SENDING if event.channel == "platform" else State.NODE_SENDING
        if target.rank < state.rank:
            return _ignored(state, f"send on {event.channel} would move back from {state.value}", *keep)
        return Transition(state=target, customs_status=customs_status, customs_rank=customs_rank)
    if isinstance(event, PlatformAnswered):
        if state is not State.PLATFORM_SENDING:
            return _ignored(state, f"platform answer while {state.value}", *keep)
        if event.accepted:
            return Transition(state=State.PLATFORM_SENT)
        return Transition(state=State.REJECTED, reason="platform refused: " + "; ".join(event.reasons))
    if isinstance(event, PlatformReceipt):
        if state.rank >= State.PLATFORM_ACCEPTED.rank:
            return _ignored(state, f"platform receipt while {state.value}", *keep)
        if event.accepted:
            return Transition(state=State.PLATFORM_ACCEPTED)
        return Transition(state=State.REJECTED, reason="platform receipt: " + "; ".join(event.reasons))
    if isinstance(event, NodeAnswered):
        if state is not State.NODE_SENDING:
            return _ignored(state, f"node answer while {state.value}", *keep)
        if event.accepted:
            return Transition(state=State.DECLARED)
        return Transition(state=State.REJECTED, reason="exchange node refused: " + "; ".join(event.reasons))
    if isinstance(event, SendFailed):
        if not state.is_sending:
            return _ignored(state, f"send failure while {state.value}", *keep)
        if event.retryable and not event.exhausted:
            return Transition(state=state, reason=f"retry: {event.reason}", customs_status=customs_status)
        return Transition(state=State.FAILED, reason=f"{event.channel}: {event.reason}")
    if isinstance(event, ValidationFailed):
        return Transition(state=State.INVALID, reason="; ".join(event.reasons))
    raise TypeError(f"unknown event {event!r}")  # pragma: no cover - Event is a closed union


def _customs(state: State, event: CustomsReceipt, status: str | None, rank: int | None) -> Transition:
    if state.is_final:
        if state in (State.RELEASED, State.REJECTED) and event.status == status:
            return _ignored(state, f"duplicate receipt {event.status}", status, rank)
        return _ignored(state, f"receipt {event.status} after the final state {state.value}", status, rank)
    if rank is not None and event.rank < rank:
        return _ignored(state, f"receipt {event.status} is older than {status}", status, rank)
    if rank is not None and event.rank == rank and event.status == status:
        return _ignored(state, f"duplicate receipt {event.status}", status, rank)
    if event.final:
        target = State.RELEASED if event.success else State.REJECTED
    else:
        # A customs receipt proves the declaration reached customs, whatever the ledger knew so far.
        target = State.CUSTOMS_PROCESSING
    return Transition(state=target, customs_status=event.status, customs_rank=event.rank, reason=event.info)
