"""Model construction: conversion to canonical Python values and typed errors naming the field."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import attrs
import pytest

from cbec_declare import errors
from cbec_declare.codes import AppType
from cbec_declare.models import (
    DECLARATION_MESSAGES,
    BaseTransfer,
    CEB311Message,
    CEB711Message,
    Delivery,
    DeliveryHead,
    DeliveryItem,
    InventoryHead,
    Order,
    OrderHead,
    OrderItem,
)
from cbec_declare.models._spec import META, ChildSpec

TRANSFER = BaseTransfer(cop_code="3301961Q43", cop_name="测试传输企业", dxp_id="DXPENT0000458763")


def order_head(**overrides: object) -> OrderHead:
    values: dict[str, object] = {
        "app_time": "20240101120000",
        "order_no": "SO-1",
        "ebp_code": "3301961Q43",
        "ebp_name": "平台",
        "ebc_code": "3301961Q43",
        "ebc_name": "电商",
        "goods_value": "100.5",
        "freight": 0,
        "discount": Decimal(0),
        "tax_total": "11.90",
        "actual_paid": "112.4",
        "buyer_reg_no": "u1",
        "buyer_name": "张三",
        "buyer_telephone": "13800000000",
        "buyer_id_number": "110101199003070075",
        "consignee": "张三",
        "consignee_telephone": "13800000000",
        "consignee_address": "杭州市",
    }
    values.update(overrides)
    return OrderHead(**values)  # type: ignore[arg-type]


def test_values_are_converted_to_canonical_types() -> None:
    head = order_head()
    assert head.goods_value == Decimal("100.5")
    assert isinstance(head.freight, Decimal)
    assert head.app_time == datetime(2024, 1, 1, 12, 0, 0)
    assert head.app_type == "1" == AppType.NEW
    assert head.currency == "142"
    assert len(head.guid) == 36
    assert head.guid == head.guid.upper()


def test_float_money_is_refused_with_field_and_reason() -> None:
    with pytest.raises(errors.ModelError) as info:
        order_head(freight=0.1)
    assert info.value.field == "freight"
    assert info.value.zh == "运杂费"
    assert "float" in info.value.message


@pytest.mark.parametrize("bad", ["1e5", "NaN", "12,5", "", True, Decimal("Infinity"), object()])
def test_bad_amounts(bad: object) -> None:
    with pytest.raises(errors.ModelError):
        order_head(goods_value=bad)


def test_aware_times_become_beijing_time_and_drop_sub_seconds() -> None:
    utc = datetime(2024, 1, 1, 4, 0, 0, 123456, tzinfo=timezone.utc)
    assert order_head(app_time=utc).app_time == datetime(2024, 1, 1, 12, 0, 0)
    tokyo = timezone(timedelta(hours=9))
    assert order_head(app_time=datetime(2024, 1, 1, 13, 0, tzinfo=tokyo)).app_time.hour == 12


@pytest.mark.parametrize("bad", ["2024-01-01 12:00:00", "20241301120000", 20240101120000, date(2024, 1, 1)])
def test_bad_times(bad: object) -> None:
    with pytest.raises(errors.ModelError) as info:
        order_head(app_time=bad)
    assert info.value.field == "appTime"


def test_required_text_cannot_be_none_and_wrong_types_are_named() -> None:
    with pytest.raises(errors.ModelError, match="required"):
        order_head(order_no=None)
    with pytest.raises(errors.ModelError, match="expects text, got list"):
        order_head(order_no=["x"])
    assert order_head(consignee_district=None).consignee_district is None


def test_children_accept_models_or_dicts_and_check_types() -> None:
    item = {"gnum": 1, "item_name": "奶粉", "gmodel": "900g", "unit": "122", "qty": 1, "price": "100.5",
            "total_price": "100.5", "country": "502"}  # fmt: skip
    order = Order(head=order_head(), items=[item])
    assert isinstance(order.items[0], OrderItem)
    with pytest.raises(errors.ModelError, match="expects OrderItem, got str"):
        Order(head=order_head(), items=["nope"])
    with pytest.raises(errors.ModelError, match="sequence"):
        Order(head=order_head(), items="nope")


def test_batches_split_at_the_spec_limit() -> None:
    orders = [Order(head=order_head(order_no=f"SO-{i}"), items=[]) for i in range(250)]
    messages = CEB311Message.batches(orders, base_transfer=TRANSFER)
    assert [len(m.orders) for m in messages] == [100, 100, 50]
    assert len({m.guid for m in messages}) == 3
    assert messages[2].orders[-1].head.order_no == "SO-249"


def test_batch_size_out_of_range() -> None:
    with pytest.raises(errors.ModelError, match="between 1 and 100"):
        CEB311Message.batches([], base_transfer=TRANSFER, size=101)
    with pytest.raises(errors.ModelError, match="between 1 and 1"):
        CEB711Message.batches([], base_transfer=TRANSFER, size=2)


def test_delivery_message_holds_one_delivery() -> None:
    head = DeliveryHead(app_time="20240101120000", customs_code="2991", operator_code="3301961Q43",
                        operator_name="场所", traf_mode="5", traf_no="CA123", voyage_no="001",
                        bill_no="999-1",
                        logistics_code="3301961Q43", logistics_name="物流")  # fmt: skip
    delivery = Delivery(head=head, items=[DeliveryItem(gnum=1, logistics_no="L1")])
    assert CEB711Message.batches([delivery, delivery], base_transfer=TRANSFER)[1].deliveries == (delivery,)


def test_every_declaration_field_has_metadata_and_a_chinese_name() -> None:
    seen = 0
    stack = [*list(DECLARATION_MESSAGES.values()), InventoryHead]
    while stack:
        cls = stack.pop()
        for field in attrs.fields(cls):
            spec = field.metadata[META]
            assert spec.zh, (cls, field.name)
            if isinstance(spec, ChildSpec):
                stack.append(spec.entity)
            seen += 1
    assert seen > 250
