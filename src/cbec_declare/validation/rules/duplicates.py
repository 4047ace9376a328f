"""Documents repeated inside one message: ``rule.<family>.duplicate``, ``rule.message.duplicate_guid``.

Customs numbers documents by business keys and refuses a second one: -301010
(已存在相同编号的订单), -401007 (已存在相同编号的支付单), -504012 (物流运单已存在), -621004 (已经申报过).
Sending two documents with the same key in one message therefore loses the second: an error.
Repeats whose outcome is not documented (a second 签收 status, a second refund of one inventory, a
waybill twice in one delivery, a repeated entity guid) are warnings.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from typing import Any

import attrs

from ...models import (
    CEB311Message,
    CEB411Message,
    CEB511Message,
    CEB513Message,
    CEB621Message,
    CEB623Message,
    CEB625Message,
    CEB711Message,
    Delivery,
    Inventory,
    InvtRefund,
    Order,
)
from ..report import Finding, Severity
from ._base import ERROR, WARNING, documents, field_finding, item_path, part_path
from .context import RuleContext

__all__ = ["unique_documents"]


@attrs.frozen
class _Key:
    """How to find one business key in a document of a message."""

    family: str
    #: document → (entity holding the key, path suffix from the document path or "")
    entity: Callable[[Any], Any]
    suffix: str
    fields: tuple[str, ...]
    severity: Severity
    customs: str = ""


def _self(document: Any) -> Any:
    return document


def _head(document: Any) -> Any:
    return document.head


_ORDER_HEAD = part_path("", Order, "head")
_INVENTORY_HEAD = part_path("", Inventory, "head")
_REFUND_HEAD = part_path("", InvtRefund, "head")

_KEYS: dict[type[Any], tuple[_Key, ...]] = {
    CEB311Message: (_Key("order", _head, _ORDER_HEAD, ("ebp_code", "order_no"), ERROR, "-301010"),),
    CEB411Message: (_Key("payment", _self, "", ("pay_code", "pay_transaction_id"), ERROR, "-401007"),),
    CEB511Message: (_Key("logistics", _self, "", ("logistics_code", "logistics_no"), ERROR, "-504012"),),
    CEB513Message: (_Key("logistics_status", _self, "", ("logistics_code", "logistics_no"), WARNING),),
    CEB621Message: (
        _Key("inventory", _head, _INVENTORY_HEAD, ("ebp_code", "order_no"), ERROR, "-621004"),
        _Key("inventory", _head, _INVENTORY_HEAD, ("logistics_code", "logistics_no"), ERROR),
    ),
    CEB623Message: (_Key("cancel", _self, "", ("invt_no",), ERROR),),
    CEB625Message: (_Key("refund", _head, _REFUND_HEAD, ("invt_no",), WARNING),),
}


def _keyed(message: Any, key: _Key) -> Iterator[Finding]:
    seen: dict[Hashable, int] = {}
    for index, (document, path) in enumerate(documents(message)):
        entity = key.entity(document)
        value = tuple(getattr(entity, name) for name in key.fields)
        if value in seen:
            names = " + ".join(repr(v) for v in value)
            customs = f" (customs: {key.customs})" if key.customs else ""
            yield field_finding(
                f"rule.{key.family}.duplicate",
                f"document {seen[value]} of this message already has {names}; "
                f"customs keeps only one{customs}",
                f"{path}{key.suffix}",
                type(entity),
                key.fields[-1],
                key.severity,
            )
        else:
            seen[value] = index


def _delivery_waybills(message: CEB711Message) -> Iterator[Finding]:
    for delivery, path in documents(message):
        seen: dict[str, int] = {}
        for index, item in enumerate(delivery.items):
            if item.logistics_no in seen:
                yield field_finding(
                    "rule.delivery.duplicate",
                    f"waybill {item.logistics_no!r} is already listed as item {seen[item.logistics_no]}",
                    item_path(path, Delivery, "items", index),
                    type(item),
                    "logistics_no",
                    WARNING,
                )
            else:
                seen[item.logistics_no] = index


def _guids(message: Any) -> Iterator[Finding]:
    seen: dict[str, int] = {}
    for index, (document, path) in enumerate(documents(message)):
        has_head = hasattr(document, "head")
        entity = document.head if has_head else document
        where = part_path(path, type(document), "head") if has_head else path
        if entity.guid in seen:
            yield field_finding(
                "rule.message.duplicate_guid",
                f"document {seen[entity.guid]} of this message has the same guid; "
                "the spec calls it a 唯一序号",
                where,
                type(entity),
                "guid",
                WARNING,
            )
        else:
            seen[entity.guid] = index


def unique_documents(message: Any, ctx: RuleContext) -> Iterator[Finding]:
    """Repeated business keys and guids among the documents of one message."""
    if isinstance(message, CEB711Message):
        yield from _delivery_waybills(message)
    if len(getattr(message, type(message).__body__)) < 2:
        return  # one document repeats nothing (the pipeline's usual message: skip the walk)
    for key in _KEYS.get(type(message), ()):
        yield from _keyed(message, key)
    yield from _guids(message)
