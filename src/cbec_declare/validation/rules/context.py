"""What a rule may look at besides the message: options, the clock, related documents, history."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

import attrs

from ...codes import ANNUAL_LIMIT_CNY, SINGLE_TRANSACTION_LIMIT_CNY, SpecVersion
from ...errors import ConfigError
from ...models import CEB311Message, CEB411Message, CEB511Message, LogisticsHead, Order, PaymentHead

__all__ = ["PurchaseHistory", "Related", "RuleContext", "RuleOptions"]


@runtime_checkable
class PurchaseHistory(Protocol):
    """Where the personal annual limit check learns what a buyer already bought.

    ``annual_total`` returns the value (CNY) of the buyer's cross-border retail imports already declared
    in ``year``, not counting the message being validated. Backed by the caller's ledger or database.
    """

    def annual_total(self, id_number: str, year: int) -> Decimal: ...


@attrs.frozen(kw_only=True)
class RuleOptions:
    """Tolerances and limits of the business rules; the defaults are the project's documented policy.

    ``item_total_tolerance``: how far ``totalPrice`` may be from ``qty × price``. The spec keeps 5
    decimals and says 总价 = 单价 × 数量; customs practice accepts a total rounded to the fen (0.01), so
    the default admits exactly that rounding: |qty × price − totalPrice| ≤ 0.005.
    ``clock_skew``: how far in the future ``appTime`` (and other event times) may lie before a warning;
    enterprise and customs clocks drift, and a few minutes are no reason to hold a declaration.
    ``single_limit`` / ``annual_limit``: the retail import limits (CNY), see :mod:`cbec_declare.codes.tables`.
    """

    item_total_tolerance: Decimal = Decimal("0.005")
    clock_skew: timedelta = timedelta(minutes=10)
    single_limit: Decimal = SINGLE_TRANSACTION_LIMIT_CNY
    annual_limit: Decimal = ANNUAL_LIMIT_CNY

    def __attrs_post_init__(self) -> None:
        for name in ("item_total_tolerance", "single_limit", "annual_limit"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
                raise ConfigError(f"RuleOptions.{name} must be a non-negative Decimal", code="config.options")
        if not isinstance(self.clock_skew, timedelta) or self.clock_skew < timedelta(0):
            raise ConfigError(
                "RuleOptions.clock_skew must be a non-negative timedelta", code="config.options"
            )


def _as_documents(
    items: Iterable[Any],
) -> tuple[tuple[Order, ...], tuple[PaymentHead, ...], tuple[LogisticsHead, ...]]:
    orders: list[Order] = []
    payments: list[PaymentHead] = []
    waybills: list[LogisticsHead] = []
    for item in items:
        if isinstance(item, CEB311Message):
            orders.extend(item.orders)
        elif isinstance(item, CEB411Message):
            payments.extend(item.payments)
        elif isinstance(item, CEB511Message):
            waybills.extend(item.waybills)
        elif isinstance(item, Order):
            orders.append(item)
        elif isinstance(item, PaymentHead):
            payments.append(item)
        elif isinstance(item, LogisticsHead):
            waybills.append(item)
        else:
            raise ConfigError(
                f"Related.of accepts CEB311/411/511 messages, Order, PaymentHead and LogisticsHead, "
                f"not {type(item).__name__}",
                code="config.related",
            )
    return tuple(orders), tuple(payments), tuple(waybills)


def _tuple(items: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(items)


@attrs.frozen(kw_only=True)
class Related:
    """The other documents of the same sale, for the 三单对碰 checks (订单/支付单/运单/清单).

    Lookups follow the keys customs matches on: an order by 订单编号 (+ 电商平台代码), a payment by
    订单编号 + 电商平台代码, a waybill by 物流运单编号 (+ 物流企业代码) or by the 订单编号 it carries.
    Build it with ``Related(orders=..., payments=..., waybills=...)`` or ``Related.of(*messages)``.
    """

    orders: tuple[Order, ...] = attrs.field(default=(), converter=_tuple)
    payments: tuple[PaymentHead, ...] = attrs.field(default=(), converter=_tuple)
    waybills: tuple[LogisticsHead, ...] = attrs.field(default=(), converter=_tuple)
    # Indexes, built once: a message of 100 documents is checked against thousands of related ones.
    _orders: dict[str, list[Order]] = attrs.field(init=False, repr=False, eq=False)
    _payments: dict[tuple[str, str], list[PaymentHead]] = attrs.field(init=False, repr=False, eq=False)
    _waybills_by_order: dict[str, list[LogisticsHead]] = attrs.field(init=False, repr=False, eq=False)
    _waybills: dict[str, list[LogisticsHead]] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        # Wrong item types fail here, with a message naming them, rather than deep inside a rule.
        for name, kind in (("orders", Order), ("payments", PaymentHead), ("waybills", LogisticsHead)):
            for item in getattr(self, name):
                if not isinstance(item, kind):
                    raise ConfigError(
                        f"Related.{name} holds {kind.__name__} documents, not {type(item).__name__}",
                        code="config.related",
                    )
        orders: dict[str, list[Order]] = {}
        for order in self.orders:
            orders.setdefault(order.head.order_no, []).append(order)
        payments: dict[tuple[str, str], list[PaymentHead]] = {}
        for payment in self.payments:
            payments.setdefault((payment.order_no, payment.ebp_code), []).append(payment)
        by_order: dict[str, list[LogisticsHead]] = {}
        by_number: dict[str, list[LogisticsHead]] = {}
        for waybill in self.waybills:
            by_order.setdefault(waybill.order_no, []).append(waybill)
            by_number.setdefault(waybill.logistics_no, []).append(waybill)
        object.__setattr__(self, "_orders", orders)
        object.__setattr__(self, "_payments", payments)
        object.__setattr__(self, "_waybills_by_order", by_order)
        object.__setattr__(self, "_waybills", by_number)

    @classmethod
    def of(cls, *items: Any) -> Related:
        """Collect related documents from CEB311/411/511 messages and loose documents."""
        orders, payments, waybills = _as_documents(items)
        return cls(orders=orders, payments=payments, waybills=waybills)

    def orders_numbered(self, order_no: str, ebp_code: str | None = None) -> list[Order]:
        """Orders with this 订单编号, those of ``ebp_code`` first."""
        found = self._orders.get(order_no, [])
        return sorted(found, key=lambda o: o.head.ebp_code != ebp_code)

    def payments_for(self, order_no: str, ebp_code: str) -> list[PaymentHead]:
        """Payments for this 订单编号 on this 电商平台."""
        return list(self._payments.get((order_no, ebp_code), ()))

    def waybills_for_order(self, order_no: str) -> list[LogisticsHead]:
        """Waybills that carry this 订单编号."""
        return list(self._waybills_by_order.get(order_no, ()))

    def waybills_numbered(self, logistics_no: str) -> list[LogisticsHead]:
        """Waybills with this 物流运单编号."""
        return list(self._waybills.get(logistics_no, ()))


@attrs.frozen(kw_only=True)
class RuleContext:
    """Everything one validation run gives the rules."""

    version: SpecVersion = SpecVersion.V2018_113
    options: RuleOptions = attrs.Factory(RuleOptions)
    #: Beijing time, naive (as the models hold times)
    now: datetime
    related: Related | None = None
    history: PurchaseHistory | None = None
