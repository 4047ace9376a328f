"""Personal purchase limits (warnings, with a real PurchaseHistory) and event-time rules."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import attrs
import pytest

from cbec_declare.errors import ConfigError
from cbec_declare.models import Order, OrderItem
from cbec_declare.validation import PurchaseHistory, RuleOptions, Severity
from validation.test_rules_baseline import (
    APP_TIME,
    BUYER_ID,
    NOW,
    ceb311,
    ceb411,
    ceb513,
    ceb621,
    check,
    inventory,
    inventory_items,
    logistics_status,
    only,
    order,
    order_items,
    payment,
)


class Ledger:
    """A real, minimal purchase history: totals per (ID number, year), as a ledger would keep them."""

    def __init__(self, totals: dict[tuple[str, int], Decimal]) -> None:
        self.totals = totals
        self.asked: list[tuple[str, int]] = []

    def annual_total(self, id_number: str, year: int) -> Decimal:
        self.asked.append((id_number, year))
        return self.totals.get((id_number, year), Decimal(0))


def expensive_order(goods: str, *, order_no: str = "ORDER-0001", items: int = 1) -> Order:
    value = Decimal(goods)
    each = value / items
    lines = tuple(
        OrderItem(gnum=i + 1, item_name="手表", gmodel="x", unit="007", qty=Decimal(1), price=each,
                  total_price=each, country="116")
        for i in range(items)
    )  # fmt: skip
    head = order(order_no=order_no, goods_value=value, actual_paid=value + Decimal("18.64")).head
    return Order(head=head, items=lines)


def test_history_satisfies_the_protocol() -> None:
    assert isinstance(Ledger({}), PurchaseHistory)


@pytest.mark.parametrize(("goods", "warned"), [("4990", False), ("4990.01", True), ("6000", True)])
def test_single_transaction_limit_on_orders(goods: str, warned: bool) -> None:
    # The value compared is goodsValue + freight (10): 4990 + 10 = 5000 is still within the limit.
    findings = only(check(ceb311(expensive_order(goods))), "rule.limits.single_transaction")
    assert bool(findings) is warned
    if warned:
        [finding] = findings
        assert finding.severity is Severity.WARNING
        assert (finding.path, finding.zh) == ("CEB311Message/Order[0]/OrderHead/goodsValue", "商品价格")
        assert "-621005" in finding.message
        assert "5000" in finding.message
        assert "one indivisible item" in finding.message  # the order has a single item


def test_single_limit_message_without_the_single_item_note() -> None:
    [finding] = only(check(ceb311(expensive_order("6000", items=2))), "rule.limits.single_transaction")
    assert "indivisible" not in finding.message


def test_single_transaction_limit_on_inventories() -> None:
    items = inventory_items(qty=Decimal(1), price=Decimal(2600), total_price=Decimal(2600))
    [finding] = only(check(ceb621(inventory(items=items))), "rule.limits.single_transaction")
    # 2 × 2600 + freight 10 + insurance 0
    assert "5210" in finding.message
    assert (finding.path, finding.zh, finding.severity) == (
        "CEB621Message/Inventory[0]/InventoryHead",
        "进口清单表头实体",
        Severity.WARNING,
    )


def test_deletions_are_not_purchases() -> None:
    big = expensive_order("9000")
    message = ceb311(attrs.evolve(big, head=attrs.evolve(big.head, app_type="3")))
    assert only(check(message), "rule.limits.single_transaction") == []


def test_limits_are_options() -> None:
    old_rules = RuleOptions(single_limit=Decimal(2000), annual_limit=Decimal(20000))
    assert only(check(ceb311(expensive_order("3000")), options=old_rules), "rule.limits.single_transaction")
    assert not only(check(ceb311(expensive_order("3000"))), "rule.limits.single_transaction")


def test_annual_limit_uses_the_history_and_the_message_itself() -> None:
    ledger = Ledger({(BUYER_ID, 2024): Decimal("25000")})
    small = order()  # 149.80 + 10 freight = 159.80
    message = ceb311(
        small,
        expensive_order("800", order_no="ORDER-0002"),  # 25000 + 159.80 + 810 = 25969.80: still within
        expensive_order("100", order_no="ORDER-0003"),  # + 110 = 26079.80: over
    )
    report = check(message, history=ledger)
    [finding] = only(report, "rule.limits.annual")
    assert finding.path == "CEB311Message/Order[2]/OrderHead/buyerIdNumber"
    assert finding.severity is Severity.WARNING
    assert "26079.8" in finding.message
    assert "before: 25969.8" in finding.message
    assert "-621018" in finding.message
    assert BUYER_ID not in finding.message
    assert ledger.asked == [(BUYER_ID, 2024)]  # asked once per buyer and year


def test_annual_limit_counts_per_year_of_app_time() -> None:
    ledger = Ledger({(BUYER_ID, 2023): Decimal("26000")})
    assert only(check(ceb311(), history=ledger), "rule.limits.annual") == []
    last_year = ceb311(order(app_time=datetime(2023, 12, 31, 23, 0)))
    assert len(only(check(last_year, history=ledger), "rule.limits.annual")) == 1


def test_annual_limit_on_inventories() -> None:
    ledger = Ledger({(BUYER_ID, 2024): Decimal("25900")})
    [finding] = only(check(ceb621(), history=ledger), "rule.limits.annual")
    assert finding.path == "CEB621Message/Inventory[0]/InventoryHead/buyerIdNumber"


def test_without_history_no_annual_check() -> None:
    assert (
        only(
            check(ceb311(expensive_order("4000"), expensive_order("4000", order_no="B"))),
            "rule.limits.annual",
        )
        == []
    )


def test_history_returning_nonsense_is_a_config_error() -> None:
    class Broken:
        def annual_total(self, id_number: str, year: int) -> object:
            return 12.5  # a float: money must be Decimal

    with pytest.raises(ConfigError) as caught:
        check(ceb311(), history=Broken())  # type: ignore[arg-type]
    assert caught.value.code == "config.history"


def test_history_may_return_int() -> None:
    class Whole:
        def annual_total(self, id_number: str, year: int) -> int:
            return 26000

    assert len(only(check(ceb311(), history=Whole()), "rule.limits.annual")) == 1  # type: ignore[arg-type]


# --------------------------------------------------------------------------- dates


def test_app_time_in_the_future_beyond_the_skew() -> None:
    within = ceb311(order(app_time=NOW + timedelta(minutes=10)))
    assert check(within).findings == ()
    beyond = ceb311(order(app_time=NOW + timedelta(minutes=11)))
    [finding] = check(beyond).findings
    assert (finding.code, finding.severity, finding.path, finding.zh) == (
        "rule.dates.future",
        Severity.WARNING,
        "CEB311Message/Order[0]/OrderHead/appTime",
        "报送时间",
    )
    assert check(beyond, options=RuleOptions(clock_skew=timedelta(hours=1))).findings == ()


def test_now_may_be_aware() -> None:
    message = ceb311(order(app_time=NOW + timedelta(minutes=30)))
    utc_now = datetime(2024, 6, 1, 4, 0, tzinfo=timezone.utc)  # 12:00 Beijing
    assert [f.code for f in check(message, now=utc_now)] == ["rule.dates.future"]
    later = datetime(2024, 6, 1, 5, 0, tzinfo=timezone.utc)  # 13:00 Beijing
    assert check(message, now=later).findings == ()


def test_pay_time_after_app_time() -> None:
    [finding] = check(ceb411(payment(pay_time=APP_TIME + timedelta(seconds=1)))).findings
    assert (finding.code, finding.path, finding.zh) == (
        "rule.dates.pay_after_app",
        "CEB411Message/Payment[0]/PaymentHead/payTime",
        "支付时间",
    )
    assert check(ceb411(payment(pay_time=APP_TIME))).findings == ()


def test_future_pay_time() -> None:
    codes = {
        f.code
        for f in check(ceb411(payment(pay_time=NOW + timedelta(days=1), app_time=NOW + timedelta(days=2))))
    }
    assert codes == {"rule.dates.future"}


def test_logistics_time_after_report() -> None:
    late = logistics_status(logistics_time=APP_TIME + timedelta(hours=1))
    assert [f.code for f in check(ceb513(late))] == ["rule.dates.event_after_app"]


def test_big_order_values_stay_decimal() -> None:
    # Items sum exactly even with many fractional digits.
    items = tuple(
        attrs.evolve(i, price=Decimal("0.33333"), qty=Decimal(3), total_price=Decimal("0.99999"))
        for i in order_items()
    )
    head = order(goods_value=Decimal("1.99998"), actual_paid=Decimal("20.63998")).head
    assert check(ceb311(Order(head=head, items=items))).findings == ()


@pytest.mark.parametrize(
    "changes",
    [
        {"item_total_tolerance": Decimal(-1)},
        {"single_limit": 5000},
        {"annual_limit": Decimal("NaN")},
        {"clock_skew": timedelta(minutes=-1)},
        {"clock_skew": 600},
    ],
)
def test_bad_options_are_config_errors(changes: dict[str, object]) -> None:
    with pytest.raises(ConfigError) as caught:
        RuleOptions(**changes)  # type: ignore[arg-type]
    assert caught.value.code == "config.options"
