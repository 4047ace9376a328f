"""Cross-document checks (三单对碰 and 清单 vs 订单): ``rule.related.*``, run when ``related=`` is given.

Customs matches the documents of one sale and rejects mismatches; these rules make the same
comparisons before sending. Each finding points at the field of the message being validated and names
the related document it disagrees with. A related document that should exist but was not given is a
warning (``rule.related.missing``), and only when the caller gave documents of that kind at all.

* 订单 ↔ 支付单: acturalPaid = amountPaid ("与支付凭证的支付金额一致"), matched by orderNo + ebpCode.
* 订单 ↔ 运单: consignee, consigneeTelephone, consigneeAddress equal ("必须与电子运单的…一致"), by orderNo.
* 清单 ↔ 订单: ebpCode, ebcCode, buyer ID type/number, name and telephone; item count; per gnum ("与关联的
  电子订单表体序号一一对应") qty, price and totalPrice; the items' totals against goodsValue.
* 清单 ↔ 运单: the waybill with the inventory's logisticsNo has its logisticsCode and orderNo.

Text is compared after stripping outer whitespace; amounts by value (2000 = 2000.00000).
Identity numbers are never repeated in messages.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ...models import (
    CEB311Message,
    CEB411Message,
    CEB511Message,
    CEB621Message,
    Inventory,
    InventoryHead,
    InventoryItem,
    LogisticsHead,
    Order,
    OrderHead,
    PaymentHead,
)
from ..report import Finding
from ._base import (
    WARNING,
    documents,
    entity_finding,
    exact_sum,
    field_finding,
    field_spec,
    item_path,
    part_path,
    show,
)
from .context import RuleContext

__all__ = ["inventory_related", "order_related", "payment_related", "waybill_related"]

_CONSIGNEE = (
    # (order attr, waybill attr)
    ("consignee", "consignee"),
    ("consignee_telephone", "consignee_telephone"),
    ("consignee_address", "consignee_address"),
)
_INVENTORY_VS_ORDER = (
    # (inventory head attr, order head attr, private: do not quote the values)
    ("ebp_code", "ebp_code", False),
    ("ebc_code", "ebc_code", False),
    ("buyer_id_type", "buyer_id_type", False),
    ("buyer_id_number", "buyer_id_number", True),
    ("buyer_name", "buyer_name", True),
    ("buyer_telephone", "buyer_telephone", True),
)
_ITEM_AMOUNTS = ("qty", "price", "total_price")


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.strip() == b.strip()
    return bool(a == b)


def _missing(kind: str, key: str, path: str, cls: type[Any], attr: str) -> Finding:
    return field_finding(
        "rule.related.missing",
        f"no related {kind} with {key} was given, so this document was not compared with it",
        path,
        cls,
        attr,
        WARNING,
    )


def _amount_paid(head: OrderHead, head_path: str, payment: PaymentHead) -> Iterator[Finding]:
    if head.actual_paid != payment.amount_paid:
        yield field_finding(
            "rule.related.amount_paid",
            f"acturalPaid {show(head.actual_paid)} ≠ amountPaid {show(payment.amount_paid)} of payment "
            f"{payment.pay_transaction_id!r} (must equal the 支付凭证's 支付金额)",
            head_path,
            OrderHead,
            "actual_paid",
        )


def _consignee(
    head: OrderHead, waybill: LogisticsHead, path: str, cls: type[Any], from_order: bool
) -> Iterator[Finding]:
    for order_attr, waybill_attr in _CONSIGNEE:
        if not _same(getattr(head, order_attr), getattr(waybill, waybill_attr)):
            other = f"waybill {waybill.logistics_no!r}" if from_order else f"order {head.order_no!r}"
            attr = order_attr if from_order else waybill_attr
            yield field_finding(
                "rule.related.consignee",
                f"differs from the {field_spec(cls, attr).element} of {other} (收货人信息 must match)",
                path,
                cls,
                attr,
            )


def order_related(message: CEB311Message, ctx: RuleContext) -> Iterator[Finding]:
    """Orders against their payments and waybills."""
    related = ctx.related
    if related is None:
        return
    for order, path in documents(message):
        head: OrderHead = order.head
        head_path = part_path(path, Order, "head")
        if related.payments:
            payments = related.payments_for(head.order_no, head.ebp_code)
            if not payments:
                yield _missing("payment", f"orderNo {head.order_no!r}", head_path, OrderHead, "order_no")
            for payment in payments:
                yield from _amount_paid(head, head_path, payment)
        if related.waybills:
            waybills = related.waybills_for_order(head.order_no)
            if not waybills:
                yield _missing("waybill", f"orderNo {head.order_no!r}", head_path, OrderHead, "order_no")
            for waybill in waybills:
                yield from _consignee(head, waybill, head_path, OrderHead, from_order=True)


def payment_related(message: CEB411Message, ctx: RuleContext) -> Iterator[Finding]:
    """Payments against their orders."""
    related = ctx.related
    if related is None or not related.orders:
        return
    for payment, path in documents(message):
        orders = [o for o in related.orders_numbered(payment.order_no) if o.head.ebp_code == payment.ebp_code]
        if not orders:
            yield _missing("order", f"orderNo {payment.order_no!r}", path, PaymentHead, "order_no")
        for order in orders:
            if order.head.actual_paid != payment.amount_paid:
                yield field_finding(
                    "rule.related.amount_paid",
                    f"amountPaid {show(payment.amount_paid)} ≠ acturalPaid {show(order.head.actual_paid)} "
                    f"of order {order.head.order_no!r} (must equal the order's 实际支付金额)",
                    path,
                    PaymentHead,
                    "amount_paid",
                )


def waybill_related(message: CEB511Message, ctx: RuleContext) -> Iterator[Finding]:
    """Waybills against their orders."""
    related = ctx.related
    if related is None or not related.orders:
        return
    for waybill, path in documents(message):
        orders = related.orders_numbered(waybill.order_no)
        if not orders:
            yield _missing("order", f"orderNo {waybill.order_no!r}", path, LogisticsHead, "order_no")
        for order in orders[:1]:
            yield from _consignee(order.head, waybill, path, LogisticsHead, from_order=False)


def _inventory_vs_order(inventory: Inventory, path: str, order: Order) -> Iterator[Finding]:
    head: InventoryHead = inventory.head
    head_path = part_path(path, Inventory, "head")
    name = f"order {order.head.order_no!r}"
    for inv_attr, order_attr, private in _INVENTORY_VS_ORDER:
        mine, theirs = getattr(head, inv_attr), getattr(order.head, order_attr)
        if not _same(mine, theirs):
            quoted = "" if private else f" {theirs!r}"
            yield field_finding(
                "rule.related.order_field",
                f"differs from the {field_spec(OrderHead, order_attr).element}{quoted} of {name}",
                head_path,
                InventoryHead,
                inv_attr,
            )
    if len(inventory.items) != len(order.items):
        yield entity_finding(
            "rule.related.item_count",
            f"{len(inventory.items)} items, but {name} has {len(order.items)} "
            "(gnum must correspond one to one)",
            path,
            Inventory,
        )
    by_gnum = {item.gnum: item for item in order.items}
    for index, item in enumerate(inventory.items):
        where = item_path(path, Inventory, "items", index)
        ordered = by_gnum.get(item.gnum)
        if ordered is None:
            yield field_finding(
                "rule.related.item", f"{name} has no item with gnum {item.gnum}", where, InventoryItem, "gnum"
            )
            continue
        for attr in _ITEM_AMOUNTS:
            mine, theirs = getattr(item, attr), getattr(ordered, attr)
            if mine != theirs:
                yield field_finding(
                    "rule.related.item",
                    f"{show(mine)} ≠ {show(theirs)} in item gnum {item.gnum} of {name}",
                    where,
                    InventoryItem,
                    attr,
                )
    total = exact_sum(item.total_price for item in inventory.items)
    if total != order.head.goods_value:
        yield entity_finding(
            "rule.related.goods_value",
            f"the items' totalPrice add up to {show(total)}, but goodsValue of {name} is "
            f"{show(order.head.goods_value)}",
            head_path,
            InventoryHead,
        )


def inventory_related(message: CEB621Message, ctx: RuleContext) -> Iterator[Finding]:
    """Inventories against their orders and waybills."""
    related = ctx.related
    if related is None:
        return
    for inventory, path in documents(message):
        head: InventoryHead = inventory.head
        head_path = part_path(path, Inventory, "head")
        if related.orders:
            orders = related.orders_numbered(head.order_no, head.ebp_code)
            if not orders:
                yield _missing("order", f"orderNo {head.order_no!r}", head_path, InventoryHead, "order_no")
            else:
                yield from _inventory_vs_order(inventory, path, orders[0])
        if related.waybills:
            waybills = related.waybills_numbered(head.logistics_no)
            if not waybills:
                yield _missing(
                    "waybill", f"logisticsNo {head.logistics_no!r}", head_path, InventoryHead, "logistics_no"
                )
            for waybill in waybills[:1]:
                for attr in ("logistics_code", "order_no"):
                    if not _same(getattr(head, attr), getattr(waybill, attr)):
                        yield field_finding(
                            "rule.related.waybill",
                            f"differs from the {field_spec(LogisticsHead, attr).element} "
                            f"{getattr(waybill, attr)!r} of waybill {waybill.logistics_no!r}",
                            head_path,
                            InventoryHead,
                            attr,
                        )
