"""Code-value rules (messages.md §4.1): errors for authoritative values, warnings for partial lists."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from cbec_declare.models import BaseSubscribe, CEB311Message
from cbec_declare.validation import Finding, Severity
from validation.test_rules_baseline import (
    TRANSFER,
    ceb311,
    ceb411,
    ceb511,
    ceb513,
    ceb621,
    ceb623,
    ceb711,
    check,
    delivery,
    evolve_head,
    evolve_item,
    logistics_status,
    order,
    payment,
    waybill,
)

ERROR, WARNING = Severity.ERROR, Severity.WARNING


def single(message: Any, **kwargs: Any) -> Finding:
    report = check(message, **kwargs)
    assert len(report.findings) == 1, [str(f) for f in report]
    return report.findings[0]


BUILDERS: dict[str, Any] = {
    "order": lambda c: ceb311(order(**c)),
    "payment": lambda c: ceb411(payment(**c)),
    "waybill": lambda c: ceb511(waybill(**c)),
    "status": lambda c: ceb513(logistics_status(**c)),
    "inventory": lambda c: evolve_head(ceb621(), **c),
    "delivery": lambda c: ceb711(delivery(**c)),
}

# Each case: document, field and value, then the expected code, element, 中文名 and severity.
HEAD_CASES = [
    ("order", "app_type", "4", "rule.codes.app_type", "appType", "报送类型", ERROR),
    ("order", "app_status", "3", "rule.codes.app_status", "appStatus", "业务状态", ERROR),
    ("order", "currency", "156", "rule.codes.currency", "currency", "币制", ERROR),
    ("order", "order_type", "E", "rule.codes.order_type", "orderType", "订单类型", ERROR),
    ("order", "buyer_id_type", "3", "rule.codes.id_type", "buyerIdType", "订购人证件类型", ERROR),
    ("order", "buyer_id_type", "2", "rule.codes.id_type", "buyerIdType", "订购人证件类型", WARNING),
    (
        "order",
        "consignee_district",
        "10010",
        "rule.codes.district",
        "consigneeDistrict",
        "收货地址行政区划代码",
        WARNING,
    ),
    (
        "order",
        "guid",
        "4cde1cfd-eded-46b1-946c-b8022e42fc94",
        "rule.codes.guid_case",
        "guid",
        "系统唯一序号",
        WARNING,
    ),
    ("payment", "payer_id_type", "2", "rule.codes.id_type", "payerIdType", "支付人证件类型", WARNING),
    (
        "status",
        "logistics_status",
        "R",
        "rule.codes.logistics_status",
        "logisticsStatus",
        "物流运单状态",
        WARNING,
    ),
    ("inventory", "ie_flag", "E", "rule.codes.ie_flag", "ieFlag", "进出口标记", ERROR),
    ("inventory", "customs_code", "29A1", "rule.codes.customs_code", "customsCode", "申报海关代码", ERROR),
    ("inventory", "port_code", "299", "rule.codes.customs_code", "portCode", "口岸海关代码", ERROR),
    ("inventory", "country", "1160", "rule.codes.country", "country", "起运国（地区）", ERROR),
    ("inventory", "country", "USA", "rule.codes.country", "country", "起运国（地区）", WARNING),
    ("inventory", "trade_mode", "9710", "rule.codes.trade_mode", "tradeMode", "贸易方式", ERROR),
    ("inventory", "traf_mode", "Q", "rule.codes.traf_mode", "trafMode", "运输方式", WARNING),
    ("inventory", "wrap_type", "A", "rule.codes.wrap_type", "wrapType", "包装种类代码", WARNING),
    ("inventory", "pack_no", 2, "rule.inventory.pack_no", "packNo", "件数", WARNING),
    ("inventory", "pack_no", 0, "rule.inventory.pack_no", "packNo", "件数", ERROR),
    ("waybill", "pack_no", 3, "rule.logistics.pack_no", "packNo", "件数", WARNING),
    ("delivery", "traf_mode", "?", "rule.codes.traf_mode", "trafMode", "运输方式", WARNING),
    ("delivery", "ie_flag", "X", "rule.codes.ie_flag", "ieFlag", "进出口标记", ERROR),
]


@pytest.mark.parametrize(
    ("document", "attr", "value", "code", "element", "zh", "severity"),
    HEAD_CASES,
    ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in HEAD_CASES],
)
def test_head_codes(
    document: str, attr: str, value: Any, code: str, element: str, zh: str, severity: Severity
) -> None:
    finding = single(BUILDERS[document]({attr: value}))
    assert (finding.code, finding.severity, finding.zh) == (code, severity, zh)
    assert finding.path.endswith(f"/{element}")
    assert "[0]" in finding.path  # points into the first document


@pytest.mark.parametrize(
    ("changes", "code", "element", "severity"),
    [
        ({"unit": "7"}, "rule.codes.unit", "unit", ERROR),
        ({"unit1": "KG"}, "rule.codes.unit", "unit1", ERROR),
        ({"unit2": "0350", "qty2": 1}, "rule.codes.unit", "unit2", ERROR),
        ({"gcode": "04021000AB"}, "rule.codes.gcode", "gcode", ERROR),
        ({"country": "11"}, "rule.codes.country", "country", ERROR),
        ({"trade_country": "62"}, "rule.codes.country", "tradeCountry", ERROR),
        ({"currency": "840"}, "rule.codes.currency", "currency", ERROR),
    ],
)
def test_inventory_item_codes(changes: dict[str, Any], code: str, element: str, severity: Severity) -> None:
    finding = single(evolve_item(ceb621(), 1, **changes))
    assert (finding.code, finding.severity) == (code, severity)
    assert finding.path == f"CEB621Message/Inventory[0]/InventoryList[1]/{element}"


def test_trade_country_may_be_shorter_in_2022_05() -> None:
    # The 2022-05 XSD relaxed tradeCountry to 1..3 characters; the code stays numeric.
    message = evolve_item(ceb621(), 0, trade_country="62")
    assert check(message, version="2022-05").findings == ()
    assert [f.code for f in check(message, version="2018-113")] == ["rule.codes.country"]
    assert [f.code for f in check(evolve_item(ceb621(), 0, trade_country="6A"), version="2022-05")] == [
        "rule.codes.country"
    ]


def test_valid_codes_pass() -> None:
    message = evolve_head(ceb621(), traf_mode="Y", wrap_type="2", country="142")
    message = evolve_item(message, 0, trade_country="116", unit2="035", qty2=1)
    assert check(message).findings == ()
    assert check(ceb311(order(consignee_district="110105", app_type="2", app_status="1"))).findings == ()


def test_cancellation_accepts_only_app_type_1() -> None:
    finding = single(ceb623(*(attrs.evolve(c, app_type="2") for c in ceb623().cancels)))
    assert finding.code == "rule.codes.app_type"
    assert finding.path == "CEB623Message/InvtCancel[0]/appType"
    assert "CEB623" in finding.message


def test_order_item_codes_carry_item_path() -> None:
    finding = single(evolve_item(ceb311(), 1, unit="1"))
    assert (finding.code, finding.path, finding.zh) == (
        "rule.codes.unit",
        "CEB311Message/Order[0]/OrderList[1]/unit",
        "单位",
    )


def test_transfer_and_subscribe_codes() -> None:
    message = CEB311Message(
        orders=(order(),),
        base_transfer=attrs.evolve(TRANSFER, dxp_mode="EDI"),
        base_subscribes=(BaseSubscribe(status="NONE", dxp_address="DXPENT0000000001"),),
    )
    found = {(f.code, f.path, f.severity) for f in check(message)}
    assert found == {
        ("rule.codes.dxp_mode", "CEB311Message/BaseTransfer/dxpMode", WARNING),
        ("rule.codes.subscribe_status", "CEB311Message/BaseSubscribe[0]/status", WARNING),
    }
    ok = CEB311Message(
        orders=(order(),),
        base_transfer=TRANSFER,
        base_subscribes=(BaseSubscribe(status="RET", dxp_address="x"),),
    )
    assert check(ok).findings == ()


def test_root_guid_case_is_checked_on_the_attribute() -> None:
    message = attrs.evolve(ceb311(), guid="4cde1cfd-eded-46b1-946c-b8022e42fc94")
    finding = single(message)
    assert (finding.code, finding.path) == ("rule.codes.guid_case", "CEB311Message/@guid")
