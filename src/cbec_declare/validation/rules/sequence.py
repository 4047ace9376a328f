"""Item numbers (``gnum``): ``rule.<family>.gnum_duplicate`` and ``rule.<family>.gnum_sequence``.

Order, inventory and delivery items are numbered "从1开始连续序号" / "从1开始的递增序号": 1, 2, 3 … in
document order. Customs rejects repeats with -301002 (订单商品信息内有重复商品序号) and -621027 (请确认表体
gnum无重复). Refund items carry the gnum of the original inventory item, so they need only be unique and ≥ 1.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ...models import CEB311Message, CEB621Message, CEB625Message, CEB711Message
from ..report import Finding
from ._base import documents, field_finding, item_path
from .context import RuleContext

__all__ = ["delivery_gnum", "inventory_gnum", "order_gnum", "refund_gnum"]

_CUSTOMS_CODE = {"order": " (customs: -301002)", "inventory": " (customs: -621027)"}


def _check(family: str, document: Any, path: str, *, consecutive: bool) -> Iterator[Finding]:
    items: Sequence[Any] = document.items
    seen: dict[int, int] = {}
    duplicated = False
    for index, item in enumerate(items):
        if item.gnum in seen:
            duplicated = True
            yield field_finding(
                f"rule.{family}.gnum_duplicate",
                f"gnum {item.gnum} is used again (first by item {seen[item.gnum]})"
                + _CUSTOMS_CODE.get(family, ""),
                item_path(path, type(document), "items", index),
                type(item),
                "gnum",
            )
        else:
            seen[item.gnum] = index
    if duplicated:
        return  # the sequence is broken by the repeats already reported
    for index, item in enumerate(items):
        expected_ok = item.gnum == index + 1 if consecutive else item.gnum >= 1
        if not expected_ok:
            rule = (
                f"gnum must run 1, 2, 3 … in item order; item {index} has {item.gnum}, expected {index + 1}"
                if consecutive
                else f"gnum is the original inventory item number, at least 1; got {item.gnum}"
            )
            yield field_finding(
                f"rule.{family}.gnum_sequence",
                rule,
                item_path(path, type(document), "items", index),
                type(item),
                "gnum",
            )
            return  # one finding per document: later items are off by the same shift


def order_gnum(message: CEB311Message, ctx: RuleContext) -> Iterator[Finding]:
    """OrderList gnum 1..n."""
    for order, path in documents(message):
        yield from _check("order", order, path, consecutive=True)


def inventory_gnum(message: CEB621Message, ctx: RuleContext) -> Iterator[Finding]:
    """InventoryList gnum 1..n."""
    for inventory, path in documents(message):
        yield from _check("inventory", inventory, path, consecutive=True)


def delivery_gnum(message: CEB711Message, ctx: RuleContext) -> Iterator[Finding]:
    """DeliveryList gnum 1..n."""
    for delivery, path in documents(message):
        yield from _check("delivery", delivery, path, consecutive=True)


def refund_gnum(message: CEB625Message, ctx: RuleContext) -> Iterator[Finding]:
    """InvtRefundList gnum unique and ≥ 1."""
    for refund, path in documents(message):
        yield from _check("refund", refund, path, consecutive=False)
