"""Amount rules: acturalPaid, goodsValue, item totals (orders and inventories), weights, signs."""

from __future__ import annotations

import decimal
from decimal import Decimal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cbec_declare.models import Order, OrderItem
from cbec_declare.validation import RuleOptions, Severity
from validation.test_rules_baseline import (
    ceb311,
    ceb621,
    check,
    evolve_head,
    evolve_item,
    inventory,
    inventory_head,
    order,
    order_head,
)

AMOUNT_CODES = {"rule.order.actual_paid", "rule.order.goods_value", "rule.order.item_total"}


def amount_errors(message: object) -> list[tuple[str, str]]:
    return [(f.code, f.path) for f in check(message).errors if f.code in AMOUNT_CODES]


def test_actual_paid_must_be_exact_sum() -> None:
    report = check(ceb311(order(actual_paid=Decimal("168.45"))))
    [finding] = report.errors
    assert finding.code == "rule.order.actual_paid"
    assert finding.path == "CEB311Message/Order[0]/OrderHead/acturalPaid"
    assert finding.zh == "实际支付金额"
    assert finding.source == "rule"
    # The message shows the formula, the expected value and the difference.
    assert "149.8 + freight 10 + taxTotal 13.64 − discount 5 = 168.44" in finding.message
    assert "differs by 0.01" in finding.message


def test_actual_paid_accepts_equal_values_written_differently() -> None:
    report = check(ceb311(order(actual_paid=Decimal("168.44000"))))
    assert report.findings == ()


def test_goods_value_must_equal_sum_of_item_totals() -> None:
    # goodsValue and acturalPaid move together, so only the items-vs-head rule fires.
    report = check(ceb311(order(goods_value=Decimal("150.80"), actual_paid=Decimal("169.44"))))
    [finding] = report.errors
    assert finding.code == "rule.order.goods_value"
    assert finding.path == "CEB311Message/Order[0]/OrderHead/goodsValue"
    assert finding.zh == "商品价格"
    assert "sum of the items' totalPrice 149.8" in finding.message


@pytest.mark.parametrize(
    ("total", "ok"),
    [
        ("119.80", True),
        ("119.805", True),  # product rounded to the fen: within the 0.005 tolerance
        ("119.795", True),
        ("119.80501", False),
        ("119.81", False),
    ],
)
def test_order_item_total_tolerance_is_half_a_fen(total: str, ok: bool) -> None:
    message = ceb311(order())
    message = evolve_item(message, 0, total_price=Decimal(total))
    # Keep the head consistent with the changed item so that only the item rule can fire.
    head = message.orders[0].head
    goods = Decimal(total) + Decimal("30.00")
    message = evolve_head(
        message, goods_value=goods, actual_paid=goods + head.freight + head.tax_total - head.discount
    )
    codes = [(f.code, f.path) for f in check(message).errors]
    if ok:
        assert codes == []
    else:
        assert codes == [("rule.order.item_total", "CEB311Message/Order[0]/OrderList[0]/totalPrice")]


def test_item_total_tolerance_is_configurable() -> None:
    message = evolve_item(ceb311(), 0, total_price=Decimal("119.81"))
    message = evolve_head(message, goods_value=Decimal("149.81"), actual_paid=Decimal("168.45"))
    assert [f.code for f in check(message).errors] == ["rule.order.item_total"]
    loose = RuleOptions(item_total_tolerance=Decimal("0.01"))
    assert check(message, options=loose).errors == ()


def test_item_total_finding_names_the_product() -> None:
    message = evolve_item(ceb311(), 1, qty=Decimal(3))
    [finding] = check(message).errors
    assert finding.code == "rule.order.item_total"
    assert finding.path == "CEB311Message/Order[0]/OrderList[1]/totalPrice"
    assert finding.zh == "总价"
    assert finding.message.startswith("totalPrice 30 ≠ qty 3 × price 30 = 90 (differs by -60")


def test_arithmetic_is_exact_beyond_the_default_28_digits() -> None:
    # 99999999999999.5 × 99999999999999.5 = 9999999999999900000000000000.25 exactly; in the default
    # 28-digit context the product rounds to ...000, which would make this totalPrice look right.
    qty = price = Decimal("99999999999999.5")
    total = Decimal("9999999999999900000000000000")
    item = OrderItem(
        gnum=1, item_name="x", gmodel="x", unit="007", qty=qty, price=price, total_price=total, country="116"
    )
    with decimal.localcontext(decimal.Context(prec=60)):
        actual_paid = total + Decimal("18.64")
    head = order_head(goods_value=total, actual_paid=actual_paid)
    [finding] = check(ceb311(Order(head=head, items=(item,)))).errors
    assert finding.code == "rule.order.item_total"
    assert "differs by -0.25" in finding.message


def test_inventory_item_total() -> None:
    message = evolve_item(ceb621(), 0, total_price=Decimal("120.80"))
    [finding] = check(message).errors
    assert finding.code == "rule.inventory.item_total"
    assert finding.path == "CEB621Message/Inventory[0]/InventoryList[0]/totalPrice"
    assert finding.zh == "总价"


def test_net_weight_may_not_exceed_gross_weight() -> None:
    equal = ceb621(inventory(inventory_head(net_weight=Decimal("2.5"))))
    assert check(equal).findings == ()
    heavier = ceb621(inventory(inventory_head(net_weight=Decimal("2.50001"))))
    [finding] = check(heavier).errors
    assert (finding.code, finding.path, finding.zh) == (
        "rule.inventory.net_weight",
        "CEB621Message/Inventory[0]/InventoryHead/netWeight",
        "净重（公斤）",
    )


@pytest.mark.parametrize(
    ("attr", "element", "zh"), [("freight", "freight", "运费"), ("insured_fee", "insuredFee", "保费")]
)
def test_negative_amounts_are_errors(attr: str, element: str, zh: str) -> None:
    message = ceb621(inventory(inventory_head(**{attr: Decimal("-0.01")})))
    [finding] = check(message).errors
    assert (finding.code, finding.path, finding.zh) == (
        "rule.amounts.negative",
        f"CEB621Message/Inventory[0]/InventoryHead/{element}",
        zh,
    )
    assert "-0.01" in finding.message
    assert check(ceb621(inventory(inventory_head(**{attr: Decimal(0)})))).findings == ()


def test_negative_gross_weight_is_an_error() -> None:
    message = ceb621(inventory(inventory_head(gross_weight=Decimal(-1), net_weight=Decimal(-2))))
    assert {(f.code, f.path.rsplit("/", 1)[1]) for f in check(message).errors} == {
        ("rule.amounts.negative", "grossWeight"),
        ("rule.amounts.negative", "netWeight"),
    }


# --------------------------------------------------------------------------- property: consistency

money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)


@st.composite
def consistent_orders(draw: st.DrawFn) -> Order:
    """An order whose amounts are derived from its items, as a platform computes them."""
    count = draw(st.integers(min_value=1, max_value=8))
    items = tuple(
        OrderItem(
            gnum=i + 1, item_name="商品", gmodel="规格", unit="007",
            qty=Decimal(q), price=p, total_price=Decimal(q) * p, country="116",
        )
        for i, (q, p) in enumerate(
            draw(st.lists(st.tuples(st.integers(1, 50), money), min_size=count, max_size=count))
        )
    )  # fmt: skip
    goods = sum((item.total_price for item in items), Decimal(0))
    freight = draw(money)
    tax = draw(money)
    discount = draw(st.decimals(min_value=Decimal(0), max_value=goods, places=2))
    head = order_head(
        goods_value=goods, freight=freight, tax_total=tax, discount=discount,
        actual_paid=goods + freight + tax - discount,
    )  # fmt: skip
    return Order(head=head, items=items)


@settings(max_examples=150, deadline=None)
@given(consistent_orders())
def test_consistent_orders_have_no_amount_error(document: Order) -> None:
    assert amount_errors(ceb311(document)) == []


HEAD_AMOUNTS = ["goods_value", "freight", "discount", "tax_total", "actual_paid"]
ITEM_AMOUNTS = ["price", "total_price"]
SEEN_AT = {
    "goods_value": "goodsValue",
    "freight": "acturalPaid",
    "discount": "acturalPaid",
    "tax_total": "acturalPaid",
    "actual_paid": "acturalPaid",
    "price": "totalPrice",
    "total_price": "totalPrice",
}


@settings(max_examples=150, deadline=None)
@given(
    consistent_orders(),
    st.sampled_from(HEAD_AMOUNTS + ITEM_AMOUNTS),
    st.sampled_from([Decimal("0.01"), Decimal("-0.01")]),
    st.data(),
)
def test_any_amount_off_by_a_fen_is_caught(
    document: Order, attr: str, delta: Decimal, data: st.DataObject
) -> None:
    if attr in HEAD_AMOUNTS:
        head = document.head
        changed = attrs.evolve(document, head=attrs.evolve(head, **{attr: getattr(head, attr) + delta}))
        path = "CEB311Message/Order[0]/OrderHead"
    else:
        index = data.draw(st.integers(0, len(document.items) - 1))
        items = list(document.items)
        items[index] = attrs.evolve(items[index], **{attr: getattr(items[index], attr) + delta})
        changed = attrs.evolve(document, items=tuple(items))
        path = f"CEB311Message/Order[0]/OrderList[{index}]"
    errors = amount_errors(ceb311(changed))
    assert errors, f"{attr} {delta:+} went unnoticed"
    # The finding sits where the broken equation is checked: a price change on its item's totalPrice,
    # a freight/discount/tax change on acturalPaid.
    assert any(p == f"{path}/{SEEN_AT[attr]}" for _, p in errors), errors


@settings(max_examples=60, deadline=None)
@given(consistent_orders(), st.sampled_from([Decimal("0.01"), Decimal("-0.01")]))
def test_quantity_off_by_a_hundredth_is_caught_when_price_is_at_least_one(
    document: Order, delta: Decimal
) -> None:
    # qty × price moves by 0.01 × price: beyond the half-fen tolerance once price > 0.5.
    items = list(document.items)
    index = max(range(len(items)), key=lambda i: items[i].price)
    if items[index].price < 1:
        return
    items[index] = attrs.evolve(items[index], qty=items[index].qty + delta)
    errors = amount_errors(ceb311(attrs.evolve(document, items=tuple(items))))
    assert ("rule.order.item_total", f"CEB311Message/Order[0]/OrderList[{index}]/totalPrice") in errors


def test_amount_findings_are_errors_with_path_and_zh() -> None:
    message = ceb311(order(actual_paid=Decimal(0), goods_value=Decimal(1)))
    for finding in check(message).errors:
        assert finding.severity is Severity.ERROR
        assert finding.path.startswith("CEB311Message/Order[0]/")
        assert finding.zh
