"""Receipts → documents: match each ``…Return`` (or ``<mo>`` jkfResult) to its document and apply it.

Matching, in order: the entity guid customs echoes, then the business key of the receipt type
(:func:`~cbec_declare.pipeline.documents.business_key_of_return`), choosing the newest document that is not
final (a modification supersedes the declaration it changes). A CEB900 names the DXP CopMsgId of the
message it refuses; every document of that message is failed. Receipts whose document the ledger does not
know are kept as messages (nothing is thrown away) and logged.

Every push is stored byte-exact in the ledger *after* it has been applied; that record is what
:class:`LedgerSeenStore` consults, so a push that arrives again after it was processed is recognised,
while one whose processing was interrupted is processed again (applying a receipt twice changes nothing:
the state machine ignores duplicates).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..codes import describe_status
from ..models import CEB900Message, ReceiptMessage
from ..transport import CallbackSink, MemorySeenStore, MoReceiptEvent, ReceiptEvent, ResultReceipt
from .documents import business_key_of_return
from .ledger import DocumentRecord
from .states import CustomsReceipt, DocumentKind, PlatformReceipt

if TYPE_CHECKING:
    from .pipeline import Pipeline

__all__ = ["LedgerSeenStore", "apply_receipt", "receipt_sink"]

log = logging.getLogger("cbec_declare.pipeline")

#: <mo> business types that have a document in the pipeline, and how jkfResult/businessNo finds it
_MO_KINDS = {"IMPORTORDER": DocumentKind.ORDER, "PERSONAL_GOODS_DECLAR": DocumentKind.INVENTORY}


def _pick(records: list[DocumentRecord], guid: str | None = None) -> DocumentRecord | None:
    if not records:
        return None
    if guid:
        for record in records:
            if record.guid == guid:
                return record
    for record in records:  # newest first
        if not record.state.is_final:
            return record
    return records[0]


def apply_receipt(pipeline: Pipeline, event: ReceiptEvent) -> list[int]:
    """Apply a receipt event; returns the ids of the documents it concerned."""
    if isinstance(event, MoReceiptEvent):
        touched = _apply_mo(pipeline, event)
        message_type = type(event.receipt).__name__
    else:
        touched = _apply_ceb(pipeline, event.receipt)
        message_type = event.receipt.message_type
    pipeline.ledger.record_message(
        direction="in",
        channel="push",
        message_type=message_type,
        key=event.push_id,
        body=event.plaintext,
        document_ids=touched,
        now=pipeline.clock(),
    )
    if not touched:
        log.warning(
            "receipt %s (%s) matches no document in the ledger; it is kept", event.push_id, message_type
        )
    return touched


def _apply_mo(pipeline: Pipeline, event: MoReceiptEvent) -> list[int]:
    receipt = event.receipt
    if not isinstance(receipt, ResultReceipt):
        return []  # 审单回执 and other platform notices: stored, no state change
    touched: list[int] = []
    for result in receipt.results:
        kind = _MO_KINDS.get((result.business_type or "").strip())
        number = (result.business_no or "").strip()
        if kind is None or not number:
            continue
        found = pipeline.ledger.find(kind=kind, order_no=number, limit=20)
        if kind is DocumentKind.INVENTORY:
            found = pipeline.ledger.find(kind=kind, cop_no=number, limit=20) or found
        target = _pick(found)
        if target is None:
            continue
        reasons = result.result_info
        pipeline.apply(
            target.id, PlatformReceipt(accepted=result.accepted, reasons=reasons), name="platform_receipt"
        )
        touched.append(target.id)
    return touched


def _customs_event(message_type: str, status: str, info: str) -> CustomsReceipt:
    meaning = describe_status(message_type, status)
    text = info or meaning.zh
    return CustomsReceipt(
        status=status, info=text, rank=meaning.rank, final=meaning.final, success=meaning.success
    )


def _apply_ceb(pipeline: Pipeline, receipt: ReceiptMessage) -> list[int]:
    message_type = receipt.message_type
    if isinstance(receipt, CEB900Message):
        return _apply_format_receipt(pipeline, receipt)
    try:
        kind = DocumentKind.for_message_type(message_type)
    except KeyError:
        return []  # CEB816/818 tax bills: stored, no state change
    touched: list[int] = []
    for entry in receipt.documents:
        key = business_key_of_return(entry)
        found = pipeline.ledger.find(kind=kind, business_key=key, limit=20) if key else []
        if not found:
            found = pipeline.ledger.find(kind=kind, guid=entry.guid, limit=20)
        target = _pick(found, entry.guid)
        if target is None:
            continue
        event = _customs_event(message_type, entry.return_status, entry.return_info)
        pipeline.apply(target.id, event, name=f"receipt_{entry.return_status}")
        touched.append(target.id)
    return touched


def _apply_format_receipt(pipeline: Pipeline, receipt: CEB900Message) -> list[int]:
    touched: list[int] = []
    for entry in receipt.returns:
        sent = pipeline.ledger.find_message(direction="out", channel="node", key=entry.ori_cop_msg_id)
        if sent is None:
            continue
        event = _customs_event("CEB900Message", entry.return_status, f"报文格式校验: {entry.return_info}")
        for document_id in sent.document_ids:
            pipeline.apply(document_id, event, name="receipt_900")
            touched.append(document_id)
    return touched


class LedgerSeenStore:
    """A :class:`~cbec_declare.transport.SeenStore` backed by the ledger (and a memory of pushes in flight).

    A push is "seen" once the ledger holds it, which happens after it has been applied; two copies
    arriving at the same time are told apart in memory.
    """

    def __init__(self, pipeline: Pipeline, *, memory: MemorySeenStore | None = None) -> None:
        self.pipeline = pipeline
        self.memory = memory or MemorySeenStore()

    def claim(self, push_id: str) -> bool:
        if self.pipeline.ledger.find_message(direction="in", channel="push", key=push_id) is not None:
            return False
        return self.memory.claim(push_id)

    def complete(self, push_id: str) -> None:
        self.memory.complete(push_id)

    def release(self, push_id: str) -> None:
        self.memory.release(push_id)

    def in_flight(self, push_id: str) -> bool:
        return self.memory.in_flight(push_id)


def receipt_sink(pipeline: Pipeline) -> CallbackSink:
    """A :class:`~cbec_declare.transport.ReceiptSink` applying receipts to ``pipeline``."""
    return CallbackSink(pipeline.handle_event)
