"""Item numbering, repeated documents, trade-mode requirements, PDF-only 必填, counts."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from cbec_declare.models import CEB311Message, CEB621Message, CEB711Message, InvtRefundItem, Order
from cbec_declare.validation import Severity
from validation.test_rules_baseline import (
    TRANSFER,
    bonded_head,
    cancel,
    ceb311,
    ceb411,
    ceb511,
    ceb513,
    ceb621,
    ceb623,
    ceb625,
    ceb711,
    check,
    delivery,
    evolve_item,
    inventory,
    inventory_head,
    inventory_items,
    logistics_status,
    only,
    order,
    order_items,
    payment,
    refund,
    waybill,
)

# --------------------------------------------------------------------------- gnum


@pytest.mark.parametrize(
    ("build", "family", "item_path"),
    [
        (lambda: ceb311(), "order", "CEB311Message/Order[0]/OrderList"),
        (lambda: ceb621(), "inventory", "CEB621Message/Inventory[0]/InventoryList"),
    ],
)
def test_gnum_repeats_and_gaps(build: Any, family: str, item_path: str) -> None:
    repeated = evolve_item(build(), 1, gnum=1)
    [finding] = check(repeated).errors
    assert (finding.code, finding.path) == (f"rule.{family}.gnum_duplicate", f"{item_path}[1]/gnum")
    assert finding.zh in ("商品序号", "序号")
    assert {"order": "-301002", "inventory": "-621027"}[family] in finding.message

    gap = evolve_item(build(), 1, gnum=3)
    [finding] = check(gap).errors
    assert (finding.code, finding.path) == (f"rule.{family}.gnum_sequence", f"{item_path}[1]/gnum")
    assert "expected 2" in finding.message

    swapped = evolve_item(evolve_item(build(), 0, gnum=2), 1, gnum=1)
    [finding] = check(swapped).errors  # one finding per document, at the first misplaced item
    assert (finding.code, finding.path) == (f"rule.{family}.gnum_sequence", f"{item_path}[0]/gnum")


def test_delivery_gnum() -> None:
    message = ceb711()
    items = message.deliveries[0].items
    broken = attrs.evolve(items[1], gnum=1)
    bad = CEB711Message(
        deliveries=(attrs.evolve(message.deliveries[0], items=(items[0], broken)),), base_transfer=TRANSFER
    )
    assert [(f.code, f.path) for f in check(bad).errors] == [
        ("rule.delivery.gnum_duplicate", "CEB711Message/Delivery[0]/DeliveryList[1]/gnum")
    ]


def test_refund_gnum_needs_only_uniqueness() -> None:
    document = refund()
    item = document.items[0]
    sparse = attrs.evolve(document, items=(attrs.evolve(item, gnum=2), attrs.evolve(item, gnum=5)))
    assert check(ceb625(sparse)).findings == ()
    twice = attrs.evolve(document, items=(item, item))
    assert [(f.code, f.path) for f in check(ceb625(twice)).errors] == [
        ("rule.refund.gnum_duplicate", "CEB625Message/InvtRefund[0]/InvtRefundList[1]/gnum")
    ]
    zero = attrs.evolve(
        document, items=(InvtRefundItem(gnum=0, gcode="0402100000", gname="x", qty=1, unit="011"),)
    )
    assert [f.code for f in check(ceb625(zero)).errors] == ["rule.refund.gnum_sequence"]


# --------------------------------------------------------------------------- repeated documents


@pytest.mark.parametrize(
    ("message", "code", "path", "severity"),
    [
        (
            lambda: ceb311(order(), order()),
            "rule.order.duplicate",
            "CEB311Message/Order[1]/OrderHead/orderNo",
            "error",
        ),
        (
            lambda: ceb411(payment(), payment(order_no="ORDER-0002")),
            "rule.payment.duplicate",
            "CEB411Message/Payment[1]/PaymentHead/payTransactionId",
            "error",
        ),
        (
            lambda: ceb511(waybill(), waybill(order_no="ORDER-0002")),
            "rule.logistics.duplicate",
            "CEB511Message/Logistics[1]/LogisticsHead/logisticsNo",
            "error",
        ),
        (
            lambda: ceb513(logistics_status(), logistics_status()),
            "rule.logistics_status.duplicate",
            "CEB513Message/LogisticsStatus[1]/logisticsNo",
            "warning",
        ),
        (
            lambda: ceb623(cancel(), cancel(order_no="ORDER-0002")),
            "rule.cancel.duplicate",
            "CEB623Message/InvtCancel[1]/invtNo",
            "error",
        ),
        (
            lambda: ceb625(refund(), refund()),
            "rule.refund.duplicate",
            "CEB625Message/InvtRefund[1]/InvtRefundHead/invtNo",
            "warning",
        ),
        (
            lambda: ceb711(delivery("WAYBILL-0001", "WAYBILL-0001")),
            "rule.delivery.duplicate",
            "CEB711Message/Delivery[0]/DeliveryList[1]/logisticsNo",
            "warning",
        ),
    ],
)
def test_repeated_documents(message: Any, code: str, path: str, severity: str) -> None:
    findings = only(check(message()), code)
    assert [(f.path, f.severity.value) for f in findings] == [(path, severity)]
    assert findings[0].zh


def test_repeated_inventory_keys() -> None:
    second_order = inventory(inventory_head(logistics_no="WAYBILL-0002"))
    second_waybill = inventory(inventory_head(order_no="ORDER-0002"))
    report = check(ceb621(inventory(), second_order, second_waybill))
    assert {(f.code, f.path) for f in report.errors} == {
        ("rule.inventory.duplicate", "CEB621Message/Inventory[1]/InventoryHead/orderNo"),
        ("rule.inventory.duplicate", "CEB621Message/Inventory[2]/InventoryHead/logisticsNo"),
    }
    assert "-621004" in only(report, "rule.inventory.duplicate")[0].message


def test_distinct_documents_are_not_repeats() -> None:
    two = ceb311(order(), order(order_no="ORDER-0002"))
    assert check(two).findings == ()
    same_number_other_platform = ceb311(order(), order(ebp_code="1105910159"))
    assert check(same_number_other_platform).findings == ()


def test_repeated_guid_is_a_warning() -> None:
    first = order()
    second = order(order_no="ORDER-0002", guid=first.head.guid)
    [finding] = check(ceb311(first, second)).findings
    assert (finding.code, finding.path, finding.severity) == (
        "rule.message.duplicate_guid",
        "CEB311Message/Order[1]/OrderHead/guid",
        Severity.WARNING,
    )


# --------------------------------------------------------------------------- trade modes


def test_bonded_inventory_requirements() -> None:
    assert check(ceb621(inventory(bonded_head()))).findings == ()
    head = bonded_head(ems_no=None, area_code="", area_name=" ")
    items = inventory_items(item_record_no=None)
    report = check(ceb621(inventory(head, items)))
    assert sorted((f.code, f.path.split("Inventory[0]/")[1]) for f in report) == [
        ("rule.inventory.bonded_required", "InventoryHead/areaCode"),
        ("rule.inventory.bonded_required", "InventoryHead/areaName"),
        ("rule.inventory.bonded_required", "InventoryHead/emsNo"),
        ("rule.inventory.bonded_required", "InventoryList[0]/itemRecordNo"),
        ("rule.inventory.bonded_required", "InventoryList[1]/itemRecordNo"),
    ]
    assert all(f.severity is Severity.ERROR for f in report)
    assert {f.zh for f in report} == {"区内企业代码", "区内企业名称", "账册编号", "账册备案料号"}


def test_bonded_inventory_ships_from_142() -> None:
    [finding] = check(ceb621(inventory(bonded_head(country="116")))).findings
    assert (finding.code, finding.severity, finding.path) == (
        "rule.inventory.bonded_country",
        Severity.WARNING,
        "CEB621Message/Inventory[0]/InventoryHead/country",
    )


def test_direct_inventory_requirements() -> None:
    report = check(ceb621(inventory(inventory_head(traf_no=None, voyage_no="", bill_no=None))))
    assert sorted((f.code, f.path.rsplit("/", 1)[1], f.zh) for f in report) == [
        ("rule.inventory.direct_required", "billNo", "提运单号"),
        ("rule.inventory.direct_required", "trafNo", "运输工具编号"),
        ("rule.inventory.direct_required", "voyageNo", "航班航次号"),
    ]


# --------------------------------------------------------------------------- PDF-only 必填


def test_pdf_only_required_fields_are_warnings() -> None:
    report = check(ceb621(inventory(inventory_head(cop_no=None))))
    [finding] = report.findings
    assert (finding.code, finding.severity, finding.path, finding.zh) == (
        "rule.spec_required",
        Severity.WARNING,
        "CEB621Message/Inventory[0]/InventoryHead/copNo",
        "企业内部编号",
    )
    waybill_report = check(ceb511(waybill(freight=None, insured_fee=None)))
    assert sorted((f.code, f.path, f.zh) for f in waybill_report) == [
        ("rule.spec_required", "CEB511Message/Logistics[0]/LogisticsHead/freight", "运费"),
        ("rule.spec_required", "CEB511Message/Logistics[0]/LogisticsHead/insuredFee", "保价费"),
    ]
    # An empty text counts as missing too (the XSD allows copNo of length 0).
    assert [f.code for f in check(ceb621(inventory(inventory_head(cop_no=""))))] == ["rule.spec_required"]


def test_pdf_only_required_fields_present_pass() -> None:
    assert check(ceb511(waybill(freight=0, insured_fee=0))).findings == ()


# --------------------------------------------------------------------------- counts


def test_too_many_documents_and_items() -> None:
    orders = tuple(order(order_no=f"ORDER-{i:04d}") for i in range(101))
    report = check(CEB311Message(orders=orders, base_transfer=TRANSFER))
    [finding] = only(report, "rule.limits.count")
    assert (finding.path, finding.zh) == ("CEB311Message/Order", "电子订单")
    assert "101" in finding.message
    assert "at most 100" in finding.message
    assert "-301015" in finding.message

    items = tuple(attrs.evolve(order_items()[1], gnum=i + 1) for i in range(100))
    big = Order(head=order().head, items=items)
    [finding] = only(check(ceb311(big)), "rule.limits.count")
    assert finding.path == "CEB311Message/Order[0]/OrderList"
    assert "at most 99" in finding.message


def test_limits_hold_at_the_maximum() -> None:
    orders = tuple(order(order_no=f"ORDER-{i:04d}") for i in range(100))
    assert only(check(CEB311Message(orders=orders, base_transfer=TRANSFER)), "rule.limits.count") == []


def test_empty_item_list_and_second_delivery() -> None:
    empty = CEB621Message(inventories=(inventory(items=()),), base_transfer=TRANSFER)
    [finding] = only(check(empty), "rule.limits.count")
    assert (finding.path, finding.message) == (
        "CEB621Message/Inventory[0]/InventoryList",
        "needs at least 1 InventoryList, found 0",
    )
    two = CEB711Message(deliveries=(delivery(), delivery()), base_transfer=TRANSFER)
    [finding] = only(check(two), "rule.limits.count")
    assert finding.path == "CEB711Message/Delivery"
