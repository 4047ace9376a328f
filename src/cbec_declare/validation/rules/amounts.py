"""Amounts: ``rule.order.*``, ``rule.inventory.*`` money and weight rules, ``rule.amounts.negative``.

All arithmetic is exact ``Decimal`` (see :func:`._base.exact_mul`): the spec's N19,5 values are
compared as written, with no float and no context rounding.

* 实际支付金额 = 商品价格 + 运杂费 + 代扣税款 − 非现金抵扣金额, exactly (the spec's definition of
  acturalPaid);
* 商品价格 (goodsValue) = the sum of the items' 总价, exactly;
* each item's 总价 = 数量 × 单价 within :attr:`RuleOptions.item_total_tolerance` (default 0.005: the total
  may be the product rounded to the fen, nothing more);
* inventories: 净重 ≤ 毛重; every amount, quantity and weight ≥ 0.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from ...models import (
    CEB311Message,
    CEB621Message,
    Inventory,
    InventoryHead,
    InventoryItem,
    Order,
    OrderHead,
    OrderItem,
)
from ..report import Finding
from ._base import ERROR, Issue, documents, exact_mul, exact_sum, field_finding, item_path, part_path, show
from .context import RuleContext

__all__ = ["inventory_amounts", "non_negative", "order_amounts"]


def non_negative(value: Decimal, entity: Any, ctx: RuleContext) -> tuple[Issue, ...]:
    """Field check for every decimal of a declaration.

    Returns a tuple rather than yielding: it runs once per amount, and a full CEB621 holds ~80 000.
    """
    if value >= 0:
        return ()
    return (
        (
            "rule.amounts.negative",
            f"amounts, quantities and weights cannot be negative, got {show(value)}",
            ERROR,
        ),
    )


def _item_total(
    family: str, document: Order | Inventory, index: int, ctx: RuleContext, path: str
) -> Iterator[Finding]:
    item: OrderItem | InventoryItem = document.items[index]
    product = exact_mul(item.qty, item.price)
    difference = item.total_price - product
    if abs(difference) > ctx.options.item_total_tolerance:
        yield field_finding(
            f"rule.{family}.item_total",
            f"totalPrice {show(item.total_price)} ≠ qty {show(item.qty)} × price {show(item.price)} = "
            f"{show(product)} (differs by {show(difference)}; accepted rounding: "
            f"±{show(ctx.options.item_total_tolerance)})",
            # The path is built only for a finding: most items pass.
            item_path(path, type(document), "items", index),
            type(item),
            "total_price",
        )


def _order(order: Order, path: str, ctx: RuleContext) -> Iterator[Finding]:
    head = order.head
    head_path = part_path(path, Order, "head")
    expected = exact_sum((head.goods_value, head.freight, head.tax_total, -head.discount))
    if head.actual_paid != expected:
        yield field_finding(
            "rule.order.actual_paid",
            f"acturalPaid {show(head.actual_paid)} ≠ goodsValue {show(head.goods_value)} + freight "
            f"{show(head.freight)} + taxTotal {show(head.tax_total)} − discount {show(head.discount)} = "
            f"{show(expected)} (differs by {show(head.actual_paid - expected)})",
            head_path,
            OrderHead,
            "actual_paid",
        )
    items_total = exact_sum(item.total_price for item in order.items)
    if order.items and head.goods_value != items_total:
        yield field_finding(
            "rule.order.goods_value",
            f"goodsValue {show(head.goods_value)} ≠ the sum of the items' totalPrice {show(items_total)} "
            f"(differs by {show(head.goods_value - items_total)})",
            head_path,
            OrderHead,
            "goods_value",
        )
    for index in range(len(order.items)):
        yield from _item_total("order", order, index, ctx, path)


def order_amounts(message: CEB311Message, ctx: RuleContext) -> Iterator[Finding]:
    """acturalPaid, goodsValue and item totals of every order."""
    for order, path in documents(message):
        yield from _order(order, path, ctx)


def inventory_amounts(message: CEB621Message, ctx: RuleContext) -> Iterator[Finding]:
    """Item totals and weights of every inventory."""
    for inventory, path in documents(message):
        head: InventoryHead = inventory.head
        if head.net_weight > head.gross_weight:
            yield field_finding(
                "rule.inventory.net_weight",
                f"netWeight {show(head.net_weight)} kg exceeds grossWeight {show(head.gross_weight)} kg "
                "(净重 is 毛重 less the packing)",
                part_path(path, Inventory, "head"),
                InventoryHead,
                "net_weight",
            )
        for index in range(len(inventory.items)):
            yield from _item_total("inventory", inventory, index, ctx, path)
