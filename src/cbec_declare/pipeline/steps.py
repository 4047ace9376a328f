"""The sending steps of the flow: 2.2 (the <mo> message to the platform) and 2.3 (the signed CEB to the node).

Every send follows one rule: **store the exact bytes, move the document to ``*_SENDING``, then send**. A
worker killed anywhere in between finds the document in ``*_SENDING`` on restart and sends the stored
bytes again (same guid, same CopMsgId): a retry, never a second declaration. A CEB message holding several
documents is sent only once all of them are in NODE_SENDING; if a crash left some behind, the message was
never sent and is built anew.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..envelope import wrap
from ..errors import CbecError, SigningError, TransportError
from ..messages import build
from ..signing import sign_canonical
from ..transport import build_mo, import_order_from_ceb, personal_goods_declar_from_ceb
from ..validation import validate
from .documents import load_document, to_message
from .ledger import DocumentRecord, StoredMessage
from .states import (
    DocumentKind,
    NodeAnswered,
    PlatformAnswered,
    SendFailed,
    SendStarted,
    State,
    Transition,
    ValidationFailed,
    next_state,
)

if TYPE_CHECKING:
    from .pipeline import Pipeline

__all__ = ["perform"]

log = logging.getLogger("cbec_declare.pipeline")

_DOC_INDEX = re.compile(r"^[A-Za-z0-9]+Message/[A-Za-z]+\[(\d+)\]")


def perform(pipeline: Pipeline, records: Sequence[DocumentRecord]) -> None:
    """Do the next step of each claimed document."""
    to_node: dict[DocumentKind, list[DocumentRecord]] = defaultdict(list)
    resend_node: dict[int, list[DocumentRecord]] = defaultdict(list)
    for record in records:
        try:
            if record.state is State.QUEUED and record.platform_step:
                _start_platform(pipeline, record)
            elif record.state is State.PLATFORM_SENDING:
                _resend_platform(pipeline, record)
            elif record.state in (State.QUEUED, State.PLATFORM_ACCEPTED):
                to_node[record.kind].append(record)
            elif record.state is State.NODE_SENDING:
                message = _last_message(pipeline, record.id, "node")
                if message is None:
                    to_node[record.kind].append(record)
                else:
                    resend_node[message.id].append(record)
        except CbecError:
            log.exception("document %s: step failed", record.id)
    for message_id, group in resend_node.items():
        _resend_node(pipeline, message_id, group, to_node)
    size = pipeline.settings.batch_size
    for kind, group in to_node.items():
        for start in range(0, len(group), size):
            _declare(pipeline, kind, group[start : start + size])


# ---------------------------------------------------------------------------------------------- helpers


def _last_message(pipeline: Pipeline, document_id: int, channel: str) -> StoredMessage | None:
    """The message the document's last *applied* SendStarted on ``channel`` put on its way.

    Not simply the newest stored message: a worker whose claim went stale may have stored a message
    whose SendStarted was refused; that one was never sent and must never be.
    """
    started = [
        h.message_id
        for h in pipeline.ledger.history(document_id)
        if h.event == f"{channel}_send" and h.applied and h.message_id is not None
    ]
    if not started:
        return None
    return next((m for m in pipeline.ledger.messages(document_id) if m.id == started[-1]), None)


def _unchanged_since(seen: DocumentRecord, event: SendStarted) -> Callable[[DocumentRecord], Transition]:
    """Start a send only if the document is as this worker read it when it claimed it.

    A worker works through its claim one document after another; if that outlasts the lease, another
    worker may claim and send a document meanwhile. Without this check the first would then send a
    second message (a new CopMsgId: a second declaration).
    """

    def decide(current: DocumentRecord) -> Transition:
        if current.state is not seen.state or current.updated_at != seen.updated_at:
            return Transition(
                state=current.state,
                customs_status=current.customs_status,
                customs_rank=current.customs_rank,
                applied=False,
                reason=f"{event.channel} send not started: the document changed since it was claimed",
            )
        return next_state(
            current.state,
            event,
            customs_status=current.customs_status,
            customs_rank=current.customs_rank,
            platform_step=current.platform_step,
        )

    return decide


def _send_failed(pipeline: Pipeline, record: DocumentRecord, channel: str, exc: CbecError) -> None:
    retryable = bool(getattr(exc, "retryable", False))
    attempts = record.attempts + 1
    settings = pipeline.settings
    event = SendFailed(
        channel=channel,
        reason=exc.message,
        retryable=retryable,
        exhausted=attempts >= settings.max_attempts,
    )
    retry_at = pipeline.clock() + settings.retry_delay(attempts)
    pipeline.apply(record.id, event, name=f"{channel}_failed", next_attempt_at=retry_at, count_attempt=True)


# ---------------------------------------------------------------------------------------------- 2.2


def _mo_message(pipeline: Pipeline, record: DocumentRecord) -> tuple[bytes, str]:
    document = load_document(record.kind, record.payload)
    company = pipeline.company_code
    if not company:
        raise TransportError(
            "no company code (发送方代码) for the <mo> message", code="pipeline.company_code"
        )
    flag = pipeline.settings.ceb_flag
    if record.kind is DocumentKind.ORDER:
        return build_mo(import_order_from_ceb(document, company_code=company, ceb_flag=flag)), "IMPORTORDER"
    if record.kind is DocumentKind.INVENTORY:
        mo = personal_goods_declar_from_ceb(document, company_code=company, ceb_flag=flag)
        return build_mo(mo), "PERSONAL_GOODS_DECLAR"
    raise TransportError(f"no <mo> message for a {record.kind.value}", code="pipeline.no_mo")


def _start_platform(pipeline: Pipeline, record: DocumentRecord) -> None:
    data, msg_type = _mo_message(pipeline, record)
    message_id, _ = pipeline.ledger.record_message(
        direction="out",
        channel="platform",
        message_type=msg_type,
        key=f"{msg_type}:{record.guid}:{record.attempts}",
        body=data,
        document_ids=[record.id],
        now=pipeline.clock(),
    )
    started = SendStarted(channel="platform")
    current, transition = pipeline.apply(
        record.id,
        started,
        name="platform_send",
        message_id=message_id,
        decide=_unchanged_since(record, started),
    )
    if transition.applied and current.state is State.PLATFORM_SENDING:
        _send_platform(pipeline, current, data, msg_type)


def _resend_platform(pipeline: Pipeline, record: DocumentRecord) -> None:
    message = _last_message(pipeline, record.id, "platform")
    if message is None:  # the bytes never reached the ledger: build them (nothing was sent)
        _start_platform(pipeline, record)
        return
    _send_platform(pipeline, record, message.body, message.message_type)


def _send_platform(pipeline: Pipeline, record: DocumentRecord, data: bytes, msg_type: str) -> None:
    assert pipeline.platform is not None
    try:
        result = pipeline.platform.send(data, msg_type=msg_type)
    except TransportError as exc:
        _send_failed(pipeline, record, "platform", exc)
        return
    pipeline.ledger.record_message(
        direction="in",
        channel="platform",
        message_type="RESULT",
        key=f"RESULT:{record.guid}:{record.attempts}",
        body=result.raw.encode("utf-8"),
        document_ids=[record.id],
        now=pipeline.clock(),
    )
    event = PlatformAnswered(accepted=result.accepted, reasons=result.messages)
    pipeline.apply(record.id, event, name="platform_answered")


# ---------------------------------------------------------------------------------------------- 2.3


def _fail_invalid(pipeline: Pipeline, records: Sequence[DocumentRecord], reasons: Sequence[str]) -> None:
    for record in records:
        pipeline.apply(record.id, ValidationFailed(reasons=tuple(reasons)), name="invalid")


def _split_invalid(
    report_errors: Sequence[Any], records: Sequence[DocumentRecord]
) -> tuple[list[DocumentRecord], dict[int, list[str]]]:
    """Findings → the documents they are about (by the index in their path); unattributable → all."""
    bad: dict[int, list[str]] = defaultdict(list)
    for finding in report_errors:
        match = _DOC_INDEX.match(finding.path)
        if match and int(match.group(1)) < len(records):
            bad[int(match.group(1))].append(str(finding))
        else:
            for index in range(len(records)):
                bad[index].append(str(finding))
    good = [r for i, r in enumerate(records) if i not in bad]
    return good, bad


def _declare(pipeline: Pipeline, kind: DocumentKind, records: list[DocumentRecord]) -> None:
    """Build, validate, sign and wrap one CEB message for ``records``, store it, then send it."""
    documents = [load_document(r.kind, r.payload) for r in records]
    message = to_message(kind, documents, pipeline.base_transfer)
    data = build(message)
    # The business rules ran once per document at submit; what is checked here is the message as built.
    report = validate(message, version=pipeline.settings.spec_version, built=data, rules=False)
    if not report.ok:
        good, bad = _split_invalid(report.errors, records)
        for index, reasons in bad.items():
            _fail_invalid(pipeline, [records[index]], reasons)
        if not good:
            return
        records = good
        message = to_message(kind, [load_document(r.kind, r.payload) for r in good], pipeline.base_transfer)
        data = build(message)
    try:
        signed = sign_canonical(data, pipeline.signer, profile=pipeline.settings.signature_profile)
    except SigningError as exc:
        log.error("signing %s failed: %s", message.message_type, exc)
        for record in records:
            _signing_failed(pipeline, record, exc)
        return
    envelope = wrap(signed, sender_id=pipeline.base_transfer.dxp_id, cop_msg_id=message.guid)
    message_id, _ = pipeline.ledger.record_message(
        direction="out",
        channel="node",
        message_type=message.message_type,
        key=message.guid,
        body=envelope,
        document_ids=[r.id for r in records],
        now=pipeline.clock(),
    )
    started: list[DocumentRecord] = []
    for record in records:
        started_event = SendStarted(channel="node")
        current, transition = pipeline.apply(
            record.id,
            started_event,
            name="node_send",
            message_id=message_id,
            decide=_unchanged_since(record, started_event),
        )
        if transition.applied and current.state is State.NODE_SENDING:
            started.append(current)
    if len(started) != len(records):
        # Someone else moved a document (a receipt, another worker): do not send a message that
        # now holds a document it should not; the started ones are rebuilt on their next turn.
        log.warning("message %s not sent: %d of %d documents moved meanwhile", message.guid,
                    len(records) - len(started), len(records))  # fmt: skip
        return
    _send_node(pipeline, started, envelope, message.guid)


def _signing_failed(pipeline: Pipeline, record: DocumentRecord, exc: SigningError) -> None:
    attempts = record.attempts + 1
    settings = pipeline.settings

    def decide(current: DocumentRecord) -> Transition:
        if attempts >= settings.max_attempts:
            return Transition(state=State.FAILED, reason=f"signing: {exc.message}")
        return Transition(
            state=current.state,
            customs_status=current.customs_status,
            customs_rank=current.customs_rank,
            reason=f"retry: signing: {exc.message}",
        )

    retry_at = pipeline.clock() + settings.retry_delay(attempts)
    pipeline.apply(
        record.id,
        SendFailed(channel="node", reason=exc.message, retryable=True),
        name="signing_failed",
        decide=decide,
        next_attempt_at=retry_at,
        count_attempt=True,
    )


def _resend_node(
    pipeline: Pipeline,
    message_id: int,
    group: list[DocumentRecord],
    to_node: dict[DocumentKind, list[DocumentRecord]],
) -> None:
    stored = next(m for m in pipeline.ledger.messages(group[0].id) if m.id == message_id)
    members = pipeline.documents(stored.document_ids)
    if any(m.state.rank < State.NODE_SENDING.rank for m in members):
        # A crash stopped the batch before every document was in NODE_SENDING: the message was never
        # sent, so build a new one for the documents that are waiting.
        for record in group:
            to_node[record.kind].append(record)
        return
    waiting = [m for m in members if m.state is State.NODE_SENDING]
    if waiting:
        _send_node(pipeline, waiting, stored.body, stored.key)


def _send_node(
    pipeline: Pipeline, records: Sequence[DocumentRecord], envelope: bytes, cop_msg_id: str
) -> None:
    try:
        reply = pipeline.node.send(envelope, cop_msg_id=cop_msg_id)
    except TransportError as exc:
        for record in records:
            _send_failed(pipeline, record, "node", exc)
        return
    if reply.text is not None:
        pipeline.ledger.record_message(
            direction="in",
            channel="node",
            message_type="NodeReply",
            key=f"reply:{cop_msg_id}",
            body=reply.text.encode("utf-8"),
            document_ids=[r.id for r in records],
            now=pipeline.clock(),
        )
    event = NodeAnswered(accepted=reply.accepted, reasons=reply.messages)
    for record in records:
        pipeline.apply(record.id, event, name="node_answered")
