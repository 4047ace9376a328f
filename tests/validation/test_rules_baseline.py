"""Clean documents of every declaration type, and the proof that they are clean.

The builders here are the baseline the other rule tests perturb: each test changes one thing and
expects exactly the finding for it. ``test_baselines_are_clean`` proves that the unperturbed documents
give no finding at all (rules) and no XSD error, so every finding elsewhere comes from the change.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs
import pytest

from cbec_declare.models import (
    BaseTransfer,
    CEB311Message,
    CEB411Message,
    CEB511Message,
    CEB513Message,
    CEB621Message,
    CEB623Message,
    CEB625Message,
    CEB711Message,
    Delivery,
    DeliveryHead,
    DeliveryItem,
    Inventory,
    InventoryHead,
    InventoryItem,
    InvtCancel,
    InvtRefund,
    InvtRefundHead,
    InvtRefundItem,
    LogisticsHead,
    LogisticsStatus,
    Order,
    OrderHead,
    OrderItem,
    PaymentHead,
)
from cbec_declare.validation import Finding, Report, validate

#: Fixed Beijing time for the date rules; every baseline time lies before it.
NOW = datetime(2024, 6, 1, 12, 0, 0)
APP_TIME = datetime(2024, 6, 1, 10, 30, 0)
PAY_TIME = datetime(2024, 6, 1, 10, 20, 0)

#: A valid 居民身份证号码 (check character X, 北京市朝阳区) and a valid 统一社会信用代码.
BUYER_ID = "11010519491231002X"
USCC = "91110108551385082Q"
EBP = "3301960ABC"
PAY = "3120960DEF"
LOGISTICS = "3101980GHI"

TRANSFER = BaseTransfer(cop_code=EBP, cop_name="传输企业", dxp_id="DXPENT0000458763")


def order_items() -> tuple[OrderItem, ...]:
    return (
        OrderItem(
            gnum=1, item_name="奶粉", gmodel="900g/罐", unit="122", qty=Decimal(2), price=Decimal("59.90"),
            total_price=Decimal("119.80"), country="116",
        ),
        OrderItem(
            gnum=2, item_name="纸尿裤", gmodel="L码 54片", unit="011", qty=Decimal(1), price=Decimal("30.00"),
            total_price=Decimal("30.00"), country="116",
        ),
    )  # fmt: skip


def order_head(**changes: Any) -> OrderHead:
    values: dict[str, Any] = {
        "app_time": APP_TIME,
        "order_no": "ORDER-0001",
        "ebp_code": EBP,
        "ebp_name": "跨境平台",
        "ebc_code": USCC,
        "ebc_name": "电商企业",
        "goods_value": Decimal("149.80"),
        "freight": Decimal("10"),
        "discount": Decimal("5"),
        "tax_total": Decimal("13.64"),
        "actual_paid": Decimal("168.44"),
        "buyer_reg_no": "buyer-01",
        "buyer_name": "张三",
        "buyer_telephone": "13800000000",
        "buyer_id_number": BUYER_ID,
        "pay_code": PAY,
        "pay_name": "支付企业",
        "pay_transaction_id": "PAY-0001",
        "consignee": "张三",
        "consignee_telephone": "13800000000",
        "consignee_address": "北京市朝阳区建国路1号",
    }
    values.update(changes)
    return OrderHead(**values)


def order(**head_changes: Any) -> Order:
    return Order(head=order_head(**head_changes), items=order_items())


def ceb311(*orders: Order) -> CEB311Message:
    return CEB311Message(orders=orders or (order(),), base_transfer=TRANSFER)


def payment(**changes: Any) -> PaymentHead:
    values: dict[str, Any] = {
        "app_time": APP_TIME,
        "pay_code": PAY,
        "pay_name": "支付企业",
        "pay_transaction_id": "PAY-0001",
        "order_no": "ORDER-0001",
        "ebp_code": EBP,
        "ebp_name": "跨境平台",
        "payer_id_number": BUYER_ID,
        "payer_name": "张三",
        "amount_paid": Decimal("168.44"),
        "pay_time": PAY_TIME,
    }
    values.update(changes)
    return PaymentHead(**values)


def ceb411(*payments: PaymentHead) -> CEB411Message:
    return CEB411Message(payments=payments or (payment(),), base_transfer=TRANSFER)


def waybill(**changes: Any) -> LogisticsHead:
    values: dict[str, Any] = {
        "app_time": APP_TIME,
        "logistics_code": LOGISTICS,
        "logistics_name": "物流企业",
        "logistics_no": "WAYBILL-0001",
        "order_no": "ORDER-0001",
        "freight": Decimal("10"),
        "insured_fee": Decimal("0"),
        "weight": Decimal("2.5"),
        "pack_no": 1,
        "consignee": "张三",
        "consignee_address": "北京市朝阳区建国路1号",
        "consignee_telephone": "13800000000",
    }
    values.update(changes)
    return LogisticsHead(**values)


def ceb511(*waybills: LogisticsHead) -> CEB511Message:
    return CEB511Message(waybills=waybills or (waybill(),), base_transfer=TRANSFER)


def logistics_status(**changes: Any) -> LogisticsStatus:
    values: dict[str, Any] = {
        "app_time": APP_TIME,
        "logistics_code": LOGISTICS,
        "logistics_name": "物流企业",
        "logistics_no": "WAYBILL-0001",
        "logistics_status": "S",
        "logistics_time": datetime(2024, 6, 1, 9, 0, 0),
    }
    values.update(changes)
    return LogisticsStatus(**values)


def ceb513(*statuses: LogisticsStatus) -> CEB513Message:
    return CEB513Message(statuses=statuses or (logistics_status(),), base_transfer=TRANSFER)


def inventory_items(**changes: Any) -> tuple[InventoryItem, ...]:
    items = []
    for source in order_items():
        values: dict[str, Any] = {
            "gnum": source.gnum,
            "item_record_no": f"REC-{source.gnum}",
            "gcode": "0402100000",
            "gname": source.item_name,
            "gmodel": source.gmodel,
            "country": "116",
            "qty": source.qty,
            "unit": source.unit,
            "qty1": source.qty,
            "unit1": "035",
            "price": source.price,
            "total_price": source.total_price,
        }
        values.update(changes)
        items.append(InventoryItem(**values))
    return tuple(items)


def inventory_head(**changes: Any) -> InventoryHead:
    values: dict[str, Any] = {
        "app_time": APP_TIME,
        "order_no": "ORDER-0001",
        "ebp_code": EBP,
        "ebp_name": "跨境平台",
        "ebc_code": USCC,
        "ebc_name": "电商企业",
        "logistics_no": "WAYBILL-0001",
        "logistics_code": LOGISTICS,
        "logistics_name": "物流企业",
        "cop_no": "COP-0001",
        "assure_code": USCC,
        "decl_time": date(2024, 6, 1),
        "customs_code": "2991",
        "port_code": "2991",
        "buyer_id_number": BUYER_ID,
        "buyer_name": "张三",
        "buyer_telephone": "13800000000",
        "consignee_address": "北京市朝阳区建国路1号",
        "agent_code": USCC,
        "agent_name": "电商企业",
        "trade_mode": "9610",
        "traf_mode": "5",
        "traf_no": "MU5101",
        "voyage_no": "20240601",
        "bill_no": "781-12345678",
        "country": "116",
        "freight": Decimal("10"),
        "insured_fee": Decimal("0"),
        "pack_no": 1,
        "gross_weight": Decimal("2.5"),
        "net_weight": Decimal("2.1"),
    }
    values.update(changes)
    return InventoryHead(**values)


def bonded_head(**changes: Any) -> InventoryHead:
    """A 1210 保税进口 head: account book and area company, no transport details, 起运国 142."""
    values: dict[str, Any] = {
        "trade_mode": "1210",
        "ems_no": "T2991W000001",
        "area_code": "2991660001",
        "area_name": "保税仓储企业",
        "traf_no": None,
        "voyage_no": None,
        "bill_no": None,
        "country": "142",
    }
    values.update(changes)
    return inventory_head(**values)


def inventory(head: InventoryHead | None = None, items: tuple[InventoryItem, ...] | None = None) -> Inventory:
    return Inventory(head=head or inventory_head(), items=items if items is not None else inventory_items())


def ceb621(*inventories: Inventory) -> CEB621Message:
    return CEB621Message(inventories=inventories or (inventory(),), base_transfer=TRANSFER)


def cancel(**changes: Any) -> InvtCancel:
    values: dict[str, Any] = {
        "app_time": APP_TIME,
        "customs_code": "2991",
        "order_no": "ORDER-0001",
        "ebp_code": EBP,
        "ebp_name": "跨境平台",
        "ebc_code": USCC,
        "ebc_name": "电商企业",
        "logistics_no": "WAYBILL-0001",
        "logistics_code": LOGISTICS,
        "logistics_name": "物流企业",
        "cop_no": "COP-0001",
        "invt_no": "299120241000000001",
        "buyer_id_number": BUYER_ID,
        "buyer_name": "张三",
        "buyer_telephone": "13800000000",
        "agent_code": USCC,
        "agent_name": "电商企业",
        "reason": "买家取消订单",
    }
    values.update(changes)
    return InvtCancel(**values)


def ceb623(*cancels: InvtCancel) -> CEB623Message:
    return CEB623Message(cancels=cancels or (cancel(),), base_transfer=TRANSFER)


def refund(**changes: Any) -> InvtRefund:
    values: dict[str, Any] = {
        "app_time": APP_TIME,
        "customs_code": "2991",
        "order_no": "ORDER-0001",
        "ebp_code": EBP,
        "ebp_name": "跨境平台",
        "ebc_code": USCC,
        "ebc_name": "电商企业",
        "logistics_no": "WAYBILL-0001",
        "logistics_code": LOGISTICS,
        "logistics_name": "物流企业",
        "cop_no": "COP-0001",
        "invt_no": "299120241000000001",
        "buyer_id_number": BUYER_ID,
        "buyer_name": "张三",
        "buyer_telephone": "13800000000",
        "agent_code": USCC,
        "agent_name": "电商企业",
        "reason": "质量问题",
    }
    values.update(changes)
    item = InvtRefundItem(gnum=2, gcode="0402100000", gname="纸尿裤", qty=Decimal(1), unit="011")
    return InvtRefund(head=InvtRefundHead(**values), items=(item,))


def ceb625(*refunds: InvtRefund) -> CEB625Message:
    return CEB625Message(refunds=refunds or (refund(),), base_transfer=TRANSFER)


def delivery(*waybill_numbers: str, **changes: Any) -> Delivery:
    values: dict[str, Any] = {
        "app_time": APP_TIME,
        "customs_code": "2991",
        "cop_no": "COP-0001",
        "operator_code": "2991980JKL",
        "operator_name": "监管场所经营人",
        "traf_mode": "5",
        "traf_no": "MU5101",
        "voyage_no": "20240601",
        "bill_no": "781-12345678",
        "logistics_code": LOGISTICS,
        "logistics_name": "物流企业",
    }
    values.update(changes)
    numbers = waybill_numbers or ("WAYBILL-0001", "WAYBILL-0002")
    items = tuple(DeliveryItem(gnum=i + 1, logistics_no=n) for i, n in enumerate(numbers))
    return Delivery(head=DeliveryHead(**values), items=items)


def ceb711(item: Delivery | None = None) -> CEB711Message:
    return CEB711Message(deliveries=(item or delivery(),), base_transfer=TRANSFER)


def check(message: Any, **kwargs: Any) -> Report:
    """Rules only (XSD has its own tests), at the fixed clock."""
    kwargs.setdefault("now", NOW)
    return validate(message, xsd=False, **kwargs)


def only(report: Report, code: str) -> list[Finding]:
    return [f for f in report if f.code == code]


def evolve_item(message: Any, index: int, **changes: Any) -> Any:
    """Change one item of the first document of a CEB311/CEB621 message."""
    body = message.__body__
    document = getattr(message, body)[0]
    items = list(document.items)
    items[index] = attrs.evolve(items[index], **changes)
    return attrs.evolve(message, **{body: (attrs.evolve(document, items=tuple(items)),)})


def evolve_head(message: Any, **changes: Any) -> Any:
    body = message.__body__
    document = getattr(message, body)[0]
    if hasattr(document, "head"):
        document = attrs.evolve(document, head=attrs.evolve(document.head, **changes))
    else:
        document = attrs.evolve(document, **changes)
    return attrs.evolve(message, **{body: (document,)})


BASELINES = {
    "CEB311Message": ceb311,
    "CEB411Message": ceb411,
    "CEB511Message": ceb511,
    "CEB513Message": ceb513,
    "CEB621Message": ceb621,
    "CEB621Message-1210": lambda: ceb621(inventory(bonded_head())),
    "CEB623Message": ceb623,
    "CEB625Message": ceb625,
    "CEB711Message": ceb711,
}


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_baselines_are_clean(name: str) -> None:
    message = BASELINES[name]()
    report = check(message)
    assert report.findings == (), [str(f) for f in report]
    assert report.message_type == name.split("-")[0]


@pytest.mark.parametrize("name", sorted(BASELINES))
@pytest.mark.parametrize("version", ["2018-113", "2022-05"])
def test_baselines_are_xsd_valid(name: str, version: str) -> None:
    report = validate(BASELINES[name](), version=version, rules=False)
    assert report.findings == (), [str(f) for f in report]
