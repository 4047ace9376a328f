"""Spec-named JSON ↔ models."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings

from cbec_declare import errors
from cbec_declare.messages import MESSAGE_CLASSES
from cbec_declare.messages.jsonio import from_data, to_data
from cbec_declare.models import CEB411Message, OrderHead
from conftest import ROOT
from helpers.strategies import model

ALL = sorted(MESSAGE_CLASSES.items())


@pytest.mark.parametrize(("name", "cls"), ALL, ids=[n for n, _ in ALL])
def test_round_trip_through_json_text(name: str, cls: type) -> None:
    @settings(max_examples=15, deadline=None)
    @given(model(cls))
    def check(message: object) -> None:
        text = json.dumps(to_data(message), ensure_ascii=False)
        assert from_data(cls, json.loads(text, parse_float=Decimal)) == message

    check()


def test_wrapped_documents_follow_the_xml_nesting() -> None:
    data = to_data(
        CEB411Message(
            payments=[
                {
                    "app_time": "20240101000000",
                    "pay_code": "P1",
                    "pay_name": "支付",
                    "pay_transaction_id": "T1",
                    "order_no": "O1",
                    "ebp_code": "E1",
                    "ebp_name": "平台",
                    "payer_id_number": "1",
                    "payer_name": "张三",
                    "amount_paid": "1.5",
                    "pay_time": "20240101000000",
                }
            ],
            base_transfer={"cop_code": "C", "cop_name": "N", "dxp_id": "D"},
        )
    )
    assert list(data["Payment"][0]) == ["PaymentHead"]
    assert data["Payment"][0]["PaymentHead"]["amountPaid"] == "1.5"


def test_unknown_keys_and_missing_fields_are_named() -> None:
    with pytest.raises(errors.ModelError, match="unknown key 'orderNumber'") as info:
        from_data(OrderHead, {"orderNumber": "1"})
    assert info.value.field == "OrderHead/orderNumber"
    with pytest.raises(errors.ModelError, match=r"missing required .*appTime") as missing:
        from_data(OrderHead, {"orderNo": "1"})
    assert missing.value.field == "OrderHead"
    example = json.loads((ROOT / "examples" / "orders.json").read_text(encoding="utf-8"))
    head = dict(example["Order"][0]["OrderHead"], freight=1.5)
    with pytest.raises(errors.ModelError, match="float") as bad:
        from_data(OrderHead, head)
    assert bad.value.field == "OrderHead/freight"
    assert bad.value.zh == "运杂费"
