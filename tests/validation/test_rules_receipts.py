"""Receipts: parse-level only; an unknown returnStatus (or tax status) is a warning, never an error."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import attrs
import pytest

from cbec_declare.models import (
    CEB312Message,
    CEB622Message,
    CEB816Message,
    CEB818Message,
    CEB900Message,
    InventoryReturn,
    MessageReturn,
    OrderReturn,
    Tax,
    TaxHead,
    TaxItem,
    TaxStatus,
)
from cbec_declare.validation import Severity
from validation.test_rules_baseline import check

WHEN = datetime(2024, 6, 1, 10, 0, 0, 123000)


def inventory_receipt(*statuses: str) -> CEB622Message:
    return CEB622Message(
        returns=tuple(
            InventoryReturn(
                cop_no="COP-0001",
                pre_no="B20240601000000001",
                return_status=s,
                return_time=WHEN,
                return_info="x",
            )
            for s in statuses
        )
    )


def order_receipt(status: str) -> CEB312Message:
    entity = OrderReturn(
        ebp_code="3301960ABC", ebc_code="3301960ABC", order_no="ORDER-0001", return_status=status,
        return_time=WHEN, return_info="新增申报成功",
    )  # fmt: skip
    return CEB312Message(returns=(entity,))


@pytest.mark.parametrize("status", ["1", "2", "120", "399", "500", "800", "899", "-621029", "-1"])
def test_known_inventory_statuses_pass(status: str) -> None:
    assert check(inventory_receipt(status)).findings == ()


def test_unknown_status_is_a_warning_with_the_listed_codes() -> None:
    report = check(inventory_receipt("800", "18", "abc"))
    assert report.ok
    assert [(f.code, f.path, f.severity) for f in report] == [
        ("rule.receipt.unknown_status", "CEB622Message/InventoryReturn[1]/returnStatus", Severity.WARNING),
        ("rule.receipt.unknown_status", "CEB622Message/InventoryReturn[2]/returnStatus", Severity.WARNING),
    ]
    assert report.findings[0].zh == "回执状态"
    assert "'18' is not listed for CEB622Message" in report.findings[0].message


def test_status_known_for_one_type_may_be_unknown_for_another() -> None:
    # 800 放行 exists for inventories only; 1 暂存 is not listed for orders.
    assert [f.code for f in check(order_receipt("800"))] == ["rule.receipt.unknown_status"]
    assert [f.code for f in check(order_receipt("1"))] == ["rule.receipt.unknown_status"]
    assert check(order_receipt("120")).findings == ()
    assert check(order_receipt("399")).findings == ()  # listed by the XSD documentation


def test_format_receipt_has_only_negative_codes() -> None:
    def receipt(status: str) -> CEB900Message:
        entity = MessageReturn(
            guid="4CDE1CFD-EDED-46B1-946C-B8022E42FC94",
            return_status=status,
            return_info="schema",
            return_time=WHEN,
            ori_cop_msg_id="x",
            ori_message_type="CEB311Message",
            ori_biz_message="",
        )
        return CEB900Message(returns=(entity,))

    assert check(receipt("-1")).findings == ()
    assert [f.code for f in check(receipt("2"))] == ["rule.receipt.unknown_status"]


def test_tax_bill_status() -> None:
    head = TaxHead(
        return_time=WHEN, invt_no="299120241000000001", tax_no="T1", customs_tax=Decimal(0),
        value_added_tax=Decimal("10.5"), consumption_tax=Decimal(0), status="1",
    )  # fmt: skip
    item = TaxItem(
        gnum=1, gcode="0402100000", tax_price=Decimal(100), customs_tax=Decimal(0),
        value_added_tax=Decimal("10.5"), consumption_tax=Decimal(0),
    )  # fmt: skip
    assert check(CEB816Message(taxes=(Tax(head=head, items=(item,)),))).findings == ()
    bad = CEB816Message(taxes=(Tax(head=attrs.evolve(head, status="9"), items=(item,)),))
    assert [(f.code, f.path) for f in check(bad)] == [
        ("rule.receipt.unknown_tax_status", "CEB816Message/Tax[0]/TaxHeadRd/status")
    ]
    status = TaxStatus(return_time=WHEN, invt_no="299120241000000001", tax_no="T1", status="4")
    assert [(f.code, f.path) for f in check(CEB818Message(statuses=(status,)))] == [
        ("rule.receipt.unknown_tax_status", "CEB818Message/Tax[0]/TaxHeadStatus/status")
    ]


def test_receipts_get_no_business_rules() -> None:
    # A lower-case guid or an odd customs code would be findings in a declaration; not in a receipt.
    entity = InventoryReturn(
        guid="4cde1cfd-eded-46b1-946c-b8022e42fc94",
        customs_code="ABCD",
        cop_no="c",
        pre_no="B20240601000000001",
        return_status="120",
        return_time=WHEN,
        return_info="[Code:1800;Desc:逻辑校验通过]",
    )
    assert check(CEB622Message(returns=(entity,))).findings == ()
