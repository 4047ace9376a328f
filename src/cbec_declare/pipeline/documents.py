"""What the pipeline knows about each kind of document: its model, its message, and its business key.

The business key is how a receipt finds its document again: customs echoes it in every ``…Return``
(CEB312 carries ``ebpCode`` + ``orderNo``, CEB412 ``payCode`` + ``payTransactionId``, CEB512/514
``logisticsCode`` + ``logisticsNo``, CEB622/624/626/712 ``copNo``). Inventories, cancellations, refunds
and deliveries are therefore given a ``copNo`` (企业内部编号) when the caller left it empty.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from ..errors import ConfigError, PipelineError
from ..messages.jsonio import from_data, to_data
from ..models import (
    BaseTransfer,
    CEB311Message,
    CEB411Message,
    CEB511Message,
    CEB513Message,
    CEB621Message,
    CEB623Message,
    CEB625Message,
    CEB711Message,
    DeclarationMessage,
    Delivery,
    Inventory,
    InvtCancel,
    InvtRefund,
    LogisticsHead,
    LogisticsStatus,
    Order,
    PaymentHead,
)
from .ledger import NewDocument
from .states import DocumentKind

__all__ = [
    "DOCUMENT_TYPES",
    "Document",
    "DocumentType",
    "business_key_of_return",
    "kind_of",
    "new_document",
    "to_message",
]

Document = (
    Order | PaymentHead | LogisticsHead | LogisticsStatus | Inventory | InvtCancel | InvtRefund | Delivery
)


def _head(doc: Any) -> Any:
    return getattr(doc, "head", doc)


@attrs.frozen
class DocumentType:
    kind: DocumentKind
    model: type[Any]
    message: type[DeclarationMessage]
    #: document → business key
    key: Callable[[Any], str]
    #: whether the document needs a copNo (its receipts are matched by it)
    needs_cop_no: bool = False


def _join(*parts: str | None) -> str:
    return "|".join(p or "" for p in parts)


DOCUMENT_TYPES: dict[DocumentKind, DocumentType] = {
    t.kind: t
    for t in (
        DocumentType(
            DocumentKind.ORDER, Order, CEB311Message, lambda d: _join(d.head.ebp_code, d.head.order_no)
        ),
        DocumentType(
            DocumentKind.PAYMENT,
            PaymentHead,
            CEB411Message,
            lambda d: _join(d.pay_code, d.pay_transaction_id),
        ),
        DocumentType(
            DocumentKind.LOGISTICS,
            LogisticsHead,
            CEB511Message,
            lambda d: _join(d.logistics_code, d.logistics_no),
        ),
        DocumentType(
            DocumentKind.LOGISTICS_STATUS,
            LogisticsStatus,
            CEB513Message,
            lambda d: _join(d.logistics_code, d.logistics_no),
        ),
        DocumentType(DocumentKind.INVENTORY, Inventory, CEB621Message, lambda d: d.head.cop_no, True),
        DocumentType(DocumentKind.CANCEL, InvtCancel, CEB623Message, lambda d: d.cop_no, True),
        DocumentType(DocumentKind.REFUND, InvtRefund, CEB625Message, lambda d: d.head.cop_no, True),
        DocumentType(DocumentKind.DELIVERY, Delivery, CEB711Message, lambda d: d.head.cop_no, True),
    )
}
_BY_MODEL = {t.model: t for t in DOCUMENT_TYPES.values()}


def kind_of(document: Any) -> DocumentType:
    found = _BY_MODEL.get(type(document))
    if found is None:
        names = ", ".join(t.model.__name__ for t in DOCUMENT_TYPES.values())
        raise ConfigError(
            f"the pipeline declares {names}; got {type(document).__name__}", code="pipeline.document_type"
        )
    return found


def _with_cop_no(document: Any) -> Any:
    """Fill an empty copNo (≤ 20 characters) from the entity guid, which is unique per declaration."""
    head = _head(document)
    if head.cop_no:
        return document
    cop_no = head.guid.replace("-", "")[:20]
    if head is document:
        return attrs.evolve(document, cop_no=cop_no)
    return attrs.evolve(document, head=attrs.evolve(head, cop_no=cop_no))


def new_document(document: Any, *, platform_step: bool, supersedes: int | None = None) -> NewDocument:
    """A model → the ledger's record of it (payload = spec-named JSON, the input of record)."""
    dtype = kind_of(document)
    if dtype.needs_cop_no:
        document = _with_cop_no(document)
    head = _head(document)
    payload = json.dumps(to_data(document), ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    return NewDocument(
        kind=dtype.kind,
        business_key=dtype.key(document),
        app_type=head.app_type,
        guid=head.guid,
        payload=payload.encode("utf-8"),
        order_no=getattr(head, "order_no", None),
        cop_no=getattr(head, "cop_no", None),
        logistics_no=getattr(head, "logistics_no", None),
        platform_step=platform_step,
        supersedes=supersedes,
    )


def load_document(kind: DocumentKind, payload: bytes) -> Any:
    """The stored payload back as its model."""
    dtype = DOCUMENT_TYPES[kind]
    try:
        return from_data(dtype.model, json.loads(payload.decode("utf-8")), path=dtype.model.__ceb__.element)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PipelineError(
            f"stored {kind.value} document cannot be read: {exc}", code="pipeline.payload"
        ) from exc


def to_message(
    kind: DocumentKind, documents: Sequence[Any], base_transfer: BaseTransfer
) -> DeclarationMessage:
    """One declaration message holding ``documents`` (all of ``kind``)."""
    cls = DOCUMENT_TYPES[kind].message
    values: dict[str, Any] = {cls.__body__: tuple(documents), "base_transfer": base_transfer}
    message: DeclarationMessage = cls(**values)
    return message


def business_key_of_return(entry: Any) -> str | None:
    """The business key a receipt entry (``OrderReturn``, ``InventoryReturn``, ...) refers to."""
    name = type(entry).__name__
    if name == "OrderReturn":
        return _join(entry.ebp_code, entry.order_no)
    if name == "PaymentReturn":
        return _join(entry.pay_code, entry.pay_transaction_id)
    if name in ("LogisticsReturn", "LogisticsStatusReturn"):
        return _join(entry.logistics_code, entry.logistics_no)
    cop_no = getattr(entry, "cop_no", None)
    return cop_no or None
