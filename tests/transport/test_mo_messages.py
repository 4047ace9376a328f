"""The ``<mo>`` 杭州版 messages: the samples parse, builds round-trip, bad input gets typed errors."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from lxml import etree

from cbec_declare import errors
from cbec_declare.transport import (
    CebFlag,
    ImportOrder,
    JkfOrderDetail,
    JkfOrderImportHead,
    JkfResult,
    MoGeneric,
    PersonalGoodsDeclar,
    PersonalGoodsDeclarReceipt,
    ResultReceipt,
    build_mo,
    import_order_from_ceb,
    parse_mo,
    personal_goods_declar_from_ceb,
)
from cbec_declare.transport.mo import mo_business_type
from transport.transport_support import HANGZHOU, ceb_inventory, ceb_order

SAMPLE_CLASSES = {
    "mo_IMPORTORDER_request.xml": ImportOrder,
    "mo_PERSONAL_GOODS_DECLAR_receipt.xml": PersonalGoodsDeclarReceipt,
    "mo_RESULT_receipt.xml": ResultReceipt,
    "mo_RESULT_receipt_failed.xml": ResultReceipt,
}


def _element_names(data: bytes) -> list[str]:
    root = etree.fromstring(data)
    return [node.tag for node in root.iter() if isinstance(node.tag, str)]


def test_every_mo_sample_is_covered() -> None:
    assert sorted(p.name for p in HANGZHOU.glob("mo_*.xml")) == sorted(SAMPLE_CLASSES)


@pytest.mark.parametrize("name", sorted(SAMPLE_CLASSES))
def test_sample_parses_strictly_and_round_trips(name: str) -> None:
    data = (HANGZHOU / name).read_bytes()
    message = parse_mo(data, strict=True)
    assert type(message) is SAMPLE_CLASSES[name]
    rebuilt = build_mo(message)
    assert parse_mo(rebuilt, strict=True) == message
    # Same elements in the same order as the sample: the field order of the models is the wire order.
    assert _element_names(rebuilt) == _element_names(data)


def test_importorder_sample_values() -> None:
    message = parse_mo((HANGZHOU / "mo_IMPORTORDER_request.xml").read_bytes())
    assert isinstance(message, ImportOrder)
    (info,) = message.orders
    assert info.sign is not None
    assert info.sign.company_code == "3301961Q43"
    assert info.sign.ceb_flag == CebFlag.HANGZHOU_ONLY.value
    assert info.head is not None
    assert info.head.order_total_amount == Decimal("100.0")
    assert info.head.trade_time == datetime(2014, 2, 17, 15, 23, 13)
    assert info.head.consignee_district == "632043"  # spelled consigneeDitrict on the wire
    assert [d.goods_order for d in info.details] == [1, 2]
    assert info.details[1].gross_weight == Decimal("54.94")
    assert info.purchaser is not None
    assert info.purchaser.paper_type == "01"


def test_result_samples() -> None:
    ok = parse_mo((HANGZHOU / "mo_RESULT_receipt.xml").read_bytes(), expect=ResultReceipt)
    assert isinstance(ok, ResultReceipt)
    assert ok.accepted
    assert ok.messages == ("处理成功",)
    assert ok.results[0].notice_at == datetime(2014, 10, 27, 9, 47)
    failed = parse_mo((HANGZHOU / "mo_RESULT_receipt_failed.xml").read_bytes(), expect=ResultReceipt)
    assert isinstance(failed, ResultReceipt)
    assert not failed.accepted
    assert failed.results[0].chk_mark == "2"
    assert failed.messages == (
        "行邮税号:04010100, 未备案",
        "商品货号:GDO51411405080000059,料号不存在申请单明细中",
    )


def test_personal_goods_receipt_sample() -> None:
    receipt = parse_mo((HANGZHOU / "mo_PERSONAL_GOODS_DECLAR_receipt.xml").read_bytes())
    assert isinstance(receipt, PersonalGoodsDeclarReceipt)
    assert receipt.sign is not None
    assert receipt.sign.business_no == "TMGJ00022910007000"
    assert receipt.result is not None
    assert receipt.result.approve_result == "99"
    assert receipt.result.approve_comment == ""
    assert receipt.result.process_time == datetime(2014, 6, 11, 19, 58, 46)


def test_business_type_peek() -> None:
    assert mo_business_type((HANGZHOU / "mo_RESULT_receipt.xml").read_bytes()) == "RESULT"


def test_unknown_business_type_is_kept_generic_and_round_trips() -> None:
    data = (
        b'<mo version="1.0.0"><head><businessType>TAXISNEED</businessType></head>'
        b"<body><jkfTaxIsNeedDto><orderNo>A1</orderNo><tax>1.50</tax></jkfTaxIsNeedDto></body></mo>"
    )
    message = parse_mo(data)
    assert isinstance(message, MoGeneric)
    assert message.business_type == "TAXISNEED"
    assert b"<tax>1.50</tax>" in message.body_xml
    assert parse_mo(build_mo(message)) == message


def test_unknown_element_skipped_unless_strict() -> None:
    data = (HANGZHOU / "mo_RESULT_receipt.xml").read_bytes().replace(b"<note>", b"<note>")
    data = data.replace(b"<chkMark>", b"<newField>x</newField><chkMark>")
    lenient = parse_mo(data)
    assert isinstance(lenient, ResultReceipt)
    assert lenient.accepted
    with pytest.raises(errors.UnexpectedDocumentError) as caught:
        parse_mo(data, strict=True)
    assert caught.value.field == "mo/body/list/jkfResult[0]/newField"


def test_bad_number_names_its_path() -> None:
    data = (
        (HANGZHOU / "mo_IMPORTORDER_request.xml")
        .read_bytes()
        .replace(b"<unitPrice>3.3</unitPrice>", b"<unitPrice>3,3</unitPrice>", 1)
    )
    with pytest.raises(errors.UnexpectedDocumentError) as caught:
        parse_mo(data)
    assert caught.value.field == (
        "mo/body/orderInfoList/orderInfo[0]/jkfOrderDetailList/jkfOrderDetail[0]/unitPrice"
    )
    assert caught.value.zh == "单价"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"<mo><head/><body/></mo>", errors.UnexpectedDocumentError),
        (b"<notmo/>", errors.UnexpectedDocumentError),
        (b"<mo><head><businessType>RESULT</businessType></head></mo>", errors.UnexpectedDocumentError),
        (b"<mo><head><businessType>RESULT", errors.MalformedXmlError),
        (
            b'<?xml version="1.0"?><!DOCTYPE mo [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<mo><head><businessType>&x;</businessType></head><body/></mo>",
            errors.UnsafeXmlError,
        ),
        (
            b"<mo><head><businessType>RESULT</businessType></head><body><list>"
            b"<jkfResult><chkMark>1</chkMark><chkMark>2</chkMark></jkfResult></list></body></mo>",
            errors.UnexpectedDocumentError,
        ),
        (
            b"<mo><head><businessType>IMPORTORDER</businessType></head><body><somethingElse/></body></mo>",
            errors.UnexpectedDocumentError,
        ),
    ],
)
def test_bad_documents_get_typed_errors(data: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_mo(data)


def test_expect_mismatch() -> None:
    with pytest.raises(errors.UnexpectedDocumentError, match="expected a ResultReceipt"):
        parse_mo((HANGZHOU / "mo_IMPORTORDER_request.xml").read_bytes(), expect=ResultReceipt)


def test_build_refuses_missing_required_field() -> None:
    message = ResultReceipt(results=[JkfResult(chk_mark="1")])
    assert parse_mo(build_mo(message)) == message  # receipts have no required fields
    order = import_order_from_ceb(ceb_order(), company_code="3301961Q43")
    info = order.orders[0]
    assert info.head is not None
    broken = ImportOrder(orders=[{"sign": info.sign, "head": None, "details": info.details}])
    with pytest.raises(errors.BuildError) as caught:
        build_mo(broken)
    assert caught.value.field == "mo/body/orderInfoList/orderInfo[0]/jkfOrderImportHead"


def test_build_refuses_text_xml_cannot_carry() -> None:
    message = ResultReceipt(results=[JkfResult(note="bell \x07")])
    with pytest.raises(errors.BuildError) as caught:
        build_mo(message)
    assert caught.value.field == "mo/body/list/jkfResult[0]/note"


def test_build_refuses_non_models() -> None:
    with pytest.raises(errors.BuildError):
        build_mo("<mo/>")  # type: ignore[arg-type]


def test_models_refuse_floats_and_wrong_types() -> None:
    with pytest.raises(errors.ModelError, match="float") as caught:
        JkfOrderDetail(unit_price=1.5)
    assert caught.value.field == "unitPrice"
    with pytest.raises(errors.ModelError, match="text"):
        JkfResult(chk_mark=1.0)
    with pytest.raises(errors.ModelError, match="sequence"):
        ImportOrder(orders="nope")
    with pytest.raises(errors.ModelError, match="format"):
        JkfOrderImportHead(trade_time="2014/02/17")


def test_import_order_from_ceb_maps_the_order() -> None:
    order = ceb_order()
    head = order.head
    message = import_order_from_ceb(
        order,
        company_code="3301961Q43",
        item_code_ts={1: "01010100"},
        item_gross_weight={1: Decimal("0.5")},
        logistics_code="3301980101",
        user_protocol="本人承诺",
    )
    (info,) = message.orders
    assert info.sign is not None
    assert info.head is not None
    assert info.purchaser is not None
    assert info.sign.business_no == head.order_no
    assert info.sign.ceb_flag == "02"
    assert info.sign.business_type == "IMPORTORDER"
    assert info.head.order_no == head.order_no
    assert info.head.e_commerce_code == head.ebc_code
    assert info.head.order_goods_amount == head.goods_value
    assert info.head.order_total_amount == head.actual_paid
    assert info.head.fee_amount == head.freight
    assert info.head.trade_time == head.app_time
    assert info.head.total_count == sum((i.qty for i in order.items), Decimal(0))
    assert info.purchaser.paper_number == head.buyer_id_number
    assert info.purchaser.paper_type == "01"
    assert [d.goods_order for d in info.details] == [i.gnum for i in order.items]
    assert info.details[0].code_ts == "01010100"
    assert info.details[0].gross_weight == Decimal("0.5")
    assert info.details[0].unit_price == order.items[0].price
    assert parse_mo(build_mo(message), strict=True) == message


def test_personal_goods_declar_from_ceb_maps_the_inventory() -> None:
    inventory = ceb_inventory()
    head = inventory.head
    message = personal_goods_declar_from_ceb(inventory, company_code="3301961Q43", sender_name="Shop")
    (module,) = message.modules
    assert module.sign is not None
    assert module.declare is not None
    assert module.sign.business_type == "PERSONAL_GOODS_DECLAR"
    assert module.declare.order_no == head.order_no
    assert module.declare.way_bill == head.logistics_no
    assert module.declare.declare_company_code == head.agent_code
    assert module.declare.import_type == ("1" if head.trade_mode == "1210" else "0")
    assert module.declare.worth == sum((i.total_price for i in inventory.items), Decimal(0))
    assert module.declare.sender_name == "Shop"
    assert [d.code_ts for d in module.details] == [i.gcode for i in inventory.items]
    assert module.details[0].first_count == inventory.items[0].qty1
    rebuilt = parse_mo(build_mo(message), strict=True)
    assert isinstance(rebuilt, PersonalGoodsDeclar)
    assert rebuilt == message
