"""Cross-document rules (三单对碰, 清单 vs 订单/运单), given through ``related=``."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from cbec_declare.errors import ConfigError
from cbec_declare.validation import Related, Severity
from validation.test_rules_baseline import (
    ceb311,
    ceb411,
    ceb511,
    ceb621,
    check,
    evolve_head,
    evolve_item,
    inventory,
    inventory_head,
    inventory_items,
    only,
    order,
    payment,
    waybill,
)


def related_codes(message: object, related: Related) -> list[tuple[str, str]]:
    return [(f.code, f.path) for f in check(message, related=related) if f.code.startswith("rule.related")]


def test_matching_documents_pass_from_every_side() -> None:
    everything = Related.of(ceb311(), ceb411(), ceb511())
    for message in (ceb311(), ceb411(), ceb511(), ceb621()):
        assert check(message, related=everything).findings == (), message.message_type


def test_related_of_accepts_messages_and_documents() -> None:
    related = Related.of(ceb311(), payment(), waybill())
    assert (len(related.orders), len(related.payments), len(related.waybills)) == (1, 1, 1)
    assert related.orders_numbered("ORDER-0001")[0].head.order_no == "ORDER-0001"
    with pytest.raises(ConfigError) as caught:
        Related.of("ORDER-0001")
    assert caught.value.code == "config.related"
    with pytest.raises(ConfigError):
        Related(orders=[payment()])


def test_order_amount_must_equal_payment() -> None:
    related = Related(payments=[payment(amount_paid=Decimal("168.45"))])
    report = check(ceb311(), related=related)
    [finding] = report.findings
    assert (finding.code, finding.path, finding.zh, finding.severity) == (
        "rule.related.amount_paid",
        "CEB311Message/Order[0]/OrderHead/acturalPaid",
        "实际支付金额",
        Severity.ERROR,
    )
    assert "168.45" in finding.message
    assert "PAY-0001" in finding.message


def test_payment_amount_must_equal_order() -> None:
    related = Related(orders=[order()])
    assert related_codes(ceb411(payment(amount_paid=Decimal("168.40"))), related) == [
        ("rule.related.amount_paid", "CEB411Message/Payment[0]/PaymentHead/amountPaid")
    ]
    # Equal by value, whatever the number of decimals.
    assert related_codes(ceb411(payment(amount_paid=Decimal("168.44000"))), related) == []


@pytest.mark.parametrize(
    ("attr", "element"),
    [
        ("consignee", "consignee"),
        ("consignee_telephone", "consigneeTelephone"),
        ("consignee_address", "consigneeAddress"),
    ],
)
def test_consignee_must_match_between_order_and_waybill(attr: str, element: str) -> None:
    other = waybill(**{attr: "不同"})
    assert related_codes(ceb311(), Related(waybills=[other])) == [
        ("rule.related.consignee", f"CEB311Message/Order[0]/OrderHead/{element}")
    ]
    assert related_codes(ceb511(other), Related(orders=[order()])) == [
        ("rule.related.consignee", f"CEB511Message/Logistics[0]/LogisticsHead/{element}")
    ]
    # Personal data is not repeated in the message.
    [finding] = [
        f for f in check(ceb311(), related=Related(waybills=[other])) if f.code == "rule.related.consignee"
    ]
    assert "不同" not in finding.message
    assert "张三" not in finding.message


def test_outer_whitespace_does_not_count() -> None:
    assert related_codes(ceb311(), Related(waybills=[waybill(consignee=" 张三 ")])) == []


def test_missing_related_documents_are_warnings_only_for_given_kinds() -> None:
    related = Related(payments=[payment(order_no="OTHER")])
    report = check(ceb311(), related=related)
    [finding] = report.findings
    assert (finding.code, finding.severity, finding.path) == (
        "rule.related.missing",
        Severity.WARNING,
        "CEB311Message/Order[0]/OrderHead/orderNo",
    )
    assert "payment" in finding.message
    # No waybills given at all: no warning about waybills.
    assert "waybill" not in " ".join(f.message for f in report)


def test_payment_of_another_platform_does_not_match() -> None:
    related = Related(payments=[payment(ebp_code="1105910159")])
    assert [f.code for f in check(ceb311(), related=related)] == ["rule.related.missing"]


@pytest.mark.parametrize(
    ("changes", "element"),
    [
        ({"ebc_code": "1105910159"}, "ebcCode"),
        ({"buyer_name": "李四"}, "buyerName"),
        ({"buyer_telephone": "13900000000"}, "buyerTelephone"),
        ({"buyer_id_number": "440308199901011234"}, "buyerIdNumber"),
    ],
)
def test_inventory_head_must_match_order(changes: dict[str, str], element: str) -> None:
    message = ceb621(inventory(inventory_head(**changes)))
    findings = [
        f for f in check(message, related=Related(orders=[order()])) if f.code.startswith("rule.related")
    ]
    assert [(f.code, f.path) for f in findings] == [
        ("rule.related.order_field", f"CEB621Message/Inventory[0]/InventoryHead/{element}")
    ]
    if element.startswith("buyer"):
        assert "张三" not in findings[0].message
        assert "11010519491231002X" not in findings[0].message


def test_inventory_of_other_platform_is_compared_with_the_order_of_that_number() -> None:
    message = ceb621(inventory(inventory_head(ebp_code="1105910159")))
    assert related_codes(message, Related(orders=[order()])) == [
        ("rule.related.order_field", "CEB621Message/Inventory[0]/InventoryHead/ebpCode")
    ]


@pytest.mark.parametrize(
    ("attr", "value", "element"),
    [
        ("qty", Decimal(3), "qty"),
        ("price", Decimal("59.91"), "price"),
        ("total_price", Decimal("119.81"), "totalPrice"),
    ],
)
def test_inventory_items_must_match_order_items(attr: str, value: Decimal, element: str) -> None:
    message = evolve_item(ceb621(), 0, **{attr: value})
    found = related_codes(message, Related(orders=[order()]))
    assert ("rule.related.item", f"CEB621Message/Inventory[0]/InventoryList[0]/{element}") in found


def test_inventory_totals_must_match_goods_value() -> None:
    # Items consistent among themselves, but their sum differs from the order's goodsValue.
    message = evolve_item(ceb621(), 1, qty=Decimal(2), total_price=Decimal("60.00"))
    found = related_codes(message, Related(orders=[order()]))
    assert ("rule.related.goods_value", "CEB621Message/Inventory[0]/InventoryHead") in found
    assert ("rule.related.item", "CEB621Message/Inventory[0]/InventoryList[1]/qty") in found


def test_inventory_item_count_and_unknown_gnum() -> None:
    items = inventory_items()
    message = ceb621(inventory(items=(items[0],)))
    found = related_codes(message, Related(orders=[order()]))
    assert found == [
        ("rule.related.item_count", "CEB621Message/Inventory[0]"),
        ("rule.related.goods_value", "CEB621Message/Inventory[0]/InventoryHead"),
    ]
    renumbered = ceb621(inventory(items=(items[0], attrs.evolve(items[1], gnum=7))))
    found = related_codes(renumbered, Related(orders=[order()]))
    assert ("rule.related.item", "CEB621Message/Inventory[0]/InventoryList[1]/gnum") in found


def test_inventory_against_waybill() -> None:
    message = ceb621()
    assert related_codes(message, Related(waybills=[waybill(logistics_code="3101980XYZ")])) == [
        ("rule.related.waybill", "CEB621Message/Inventory[0]/InventoryHead/logisticsCode")
    ]
    assert related_codes(message, Related(waybills=[waybill(order_no="ORDER-0009")])) == [
        ("rule.related.waybill", "CEB621Message/Inventory[0]/InventoryHead/orderNo")
    ]
    [finding] = check(message, related=Related(waybills=[waybill(logistics_no="WAYBILL-0009")])).findings
    assert (finding.code, finding.severity) == ("rule.related.missing", Severity.WARNING)


def test_related_must_be_a_related() -> None:
    with pytest.raises(ConfigError):
        check(ceb311(), related=[order()])  # type: ignore[arg-type]


def test_head_changes_do_not_leak_between_kinds() -> None:
    # A payment mismatch is reported once, on the side being validated.
    message = evolve_head(ceb311(), actual_paid=Decimal("168.45"), tax_total=Decimal("13.65"))
    found = related_codes(message, Related.of(ceb411(), ceb511()))
    assert found == [("rule.related.amount_paid", "CEB311Message/Order[0]/OrderHead/acturalPaid")]
    assert only(check(message, related=Related.of(ceb411())), "rule.order.actual_paid") == []
