"""Limits: element counts per message (``rule.limits.count``) and personal purchase limits (warnings).

Counts come from the XSD occurrences the models carry (≤100 documents per message, ≤99 items per head,
exactly one Delivery in a CEB711, ≤5 BaseSubscribe); customs answers excess with -301015 (报文表头数据超过
限制), -504013 (报文数量超过限制) or -621030 (清单数据超过限制).

Personal limits (跨境电商零售进口, 财关税〔2018〕49号): 5000 CNY per transaction, 26000 CNY per person
and year.
They are warnings: a larger single order of one indivisible item is still admitted (taxed as general
trade), and the annual total depends on other platforms customs sees and we do not. The value compared
is what customs taxes: goods plus freight for an order (goodsValue already includes non-cash discounts),
goods plus freight plus insurance for an inventory. Deletions (appType 3) are not purchases and are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from ...errors import ConfigError
from ...models import CEB311Message, CEB621Message, Inventory, InventoryHead, Order, OrderHead
from ...models._spec import ChildSpec
from ..report import Finding
from ._base import WARNING, documents, entity_finding, exact_sum, field_finding, part_path, show
from .context import RuleContext

__all__ = ["count_findings", "personal_limits"]

_CUSTOMS_CODE = {
    "Order": "; customs: -301015 报文表头数据超过限制",
    "LogisticsHead": "; customs: -504013 报文数量超过限制",
    "Inventory": "; customs: -621030 清单数据超过限制",
}


def count_findings(base: str, spec: ChildSpec, count: int) -> Iterator[Finding]:
    """Findings for a repeated child occurring ``count`` times under ``base``."""
    name = spec.wrapper or spec.element
    if count < spec.min_occurs:
        yield Finding(
            code="rule.limits.count",
            message=f"needs at least {spec.min_occurs} {name}, found {count}",
            path=f"{base}/{name}",
            zh=spec.zh,
        )
    elif spec.max_occurs is not None and count > spec.max_occurs:
        yield Finding(
            code="rule.limits.count",
            message=f"{count} {name} found; the spec allows at most {spec.max_occurs} here"
            + _CUSTOMS_CODE.get(name, ""),
            path=f"{base}/{name}",
            zh=spec.zh,
        )


class _Purchase(NamedTuple):
    head_path: str
    buyer: str
    head_cls: type[Any]
    #: the field a single-limit finding points at (None: the head as a whole)
    value_attr: str | None
    value: Decimal
    when: datetime
    what: str
    items: int


def _purchases(message: Any) -> Iterator[_Purchase]:
    if isinstance(message, CEB311Message):
        for order, path in documents(message):
            head: OrderHead = order.head
            if head.app_type != "3":
                value = exact_sum((head.goods_value, head.freight))
                yield _Purchase(
                    head_path=part_path(path, Order, "head"),
                    buyer=head.buyer_id_number,
                    head_cls=OrderHead,
                    value_attr="goods_value",
                    value=value,
                    when=head.app_time,
                    what="goodsValue + freight",
                    items=len(order.items),
                )
    elif isinstance(message, CEB621Message):
        for inventory, path in documents(message):
            ihead: InventoryHead = inventory.head
            if ihead.app_type != "3":
                value = exact_sum(
                    (*(item.total_price for item in inventory.items), ihead.freight, ihead.insured_fee)
                )
                yield _Purchase(
                    head_path=part_path(path, Inventory, "head"),
                    buyer=ihead.buyer_id_number,
                    head_cls=InventoryHead,
                    value_attr=None,
                    value=value,
                    when=ihead.app_time,
                    what="items' totalPrice + freight + insuredFee",
                    items=len(inventory.items),
                )


def _prior(ctx: RuleContext, id_number: str, year: int) -> Decimal:
    assert ctx.history is not None
    # The history is the caller's code: check what it returns instead of trusting the annotation.
    value: object = ctx.history.annual_total(id_number, year)
    if isinstance(value, int) and not isinstance(value, bool):
        value = Decimal(value)
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ConfigError(
            f"PurchaseHistory.annual_total must return a finite Decimal, got {type(value).__name__}",
            code="config.history",
        )
    return value


def personal_limits(message: CEB311Message | CEB621Message, ctx: RuleContext) -> Iterator[Finding]:
    """Single-transaction limit always; the annual limit when a purchase history is given."""
    options = ctx.options
    running: dict[tuple[str, int], Decimal] = {}
    for buy in _purchases(message):
        if buy.value > options.single_limit:
            single_item = (
                " (admitted only as one indivisible item, taxed as general trade)" if buy.items == 1 else ""
            )
            text = (
                f"transaction value {show(buy.value)} CNY ({buy.what}) exceeds the single-transaction limit "
                f"{show(options.single_limit)} CNY (跨境电商零售进口单次交易限值; "
                f"customs: -621005){single_item}"
            )
            if buy.value_attr is None:
                yield entity_finding(
                    "rule.limits.single_transaction", text, buy.head_path, buy.head_cls, WARNING
                )
            else:
                yield field_finding(
                    "rule.limits.single_transaction",
                    text,
                    buy.head_path,
                    buy.head_cls,
                    buy.value_attr,
                    WARNING,
                )
        if ctx.history is None:
            continue
        key = (buy.buyer, buy.when.year)
        if key not in running:
            running[key] = _prior(ctx, buy.buyer, buy.when.year)
        before = running[key]
        running[key] = exact_sum((before, buy.value))
        if running[key] > options.annual_limit:
            yield field_finding(
                "rule.limits.annual",
                f"this purchase of {show(buy.value)} CNY brings the buyer's {buy.when.year} total to "
                f"{show(running[key])} CNY (before: {show(before)}), above the annual limit "
                f"{show(options.annual_limit)} CNY (年度交易限值; customs: -621018)",
                buy.head_path,
                buy.head_cls,
                "buyer_id_number",
                WARNING,
            )
