"""LedgerPaymentSource: the 179 data from a real SQLite ledger (CEB311 + CEB411 documents) and the
integrator's raw exchange; then signed and verified, so the mapping is proven down to the upload."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from cbec_declare import errors
from cbec_declare.messages.jsonio import to_data
from cbec_declare.models import Order, PaymentHead
from cbec_declare.pay179 import (
    LedgerPaymentSource,
    PaymentData,
    RawPaymentExchange,
    SqlitePay179Store,
    as_lookup,
)
from cbec_declare.pipeline.ledger import NewDocument
from cbec_declare.pipeline.sqlite_ledger import SqliteLedger
from cbec_declare.pipeline.states import DocumentKind
from cbec_declare.signing import build_payload, verify_payload
from cbec_declare.testing.factories import DocumentFactory
from pay179.pay179_support import independently_verified, sm2_signer


@attrs.define
class World:
    ledger: SqliteLedger
    store: SqlitePay179Store
    order: Order
    payment: PaymentHead
    source: LedgerPaymentSource


def raw_for(order: Order, **changes: object) -> RawPaymentExchange:
    values: dict[str, object] = {
        "inital_request": "<xml><out_trade_no>T1</out_trade_no></xml>",
        "inital_response": "<xml><result_code>SUCCESS</result_code></xml>",
        "ver_dept": "2",
        "pay_type": "1",
        "recp_account": "6222020200012345678",
        "item_links": {order.items[0].item_no or "": "https://shop.example.cn/item/first"},
    }
    values.update(changes)
    return RawPaymentExchange(**values)  # type: ignore[arg-type]


def submit(
    ledger: SqliteLedger, kind: DocumentKind, order_no: str, payload: object, *, app_type: str = "1"
) -> None:
    ledger.submit(
        [
            NewDocument(
                kind=kind,
                business_key=f"3301964J31|{order_no}",
                app_type=app_type,
                guid=f"{kind.value}-{order_no}-{app_type}",
                payload=json.dumps(payload, ensure_ascii=False).encode(),
                order_no=order_no,
            )
        ]
    )


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    factory = DocumentFactory(seed=179)
    order = factory.order(items=2)
    payment = factory.payment_for(order)
    ledger = SqliteLedger(tmp_path / "ledger.db")
    store = SqlitePay179Store(tmp_path / "ledger.db")  # the 179 tables in the ledger's file
    submit(ledger, DocumentKind.ORDER, order.head.order_no, to_data(order))
    submit(ledger, DocumentKind.PAYMENT, order.head.order_no, {"PaymentHead": to_data(payment)})
    store.put_raw_exchange(order.head.order_no, raw_for(order))
    source = LedgerPaymentSource(ledger, store, item_link_template="https://shop.example.cn/item/{itemNo}")
    try:
        yield World(ledger, store, order, payment, source)
    finally:
        store.close()
        ledger.close()


def test_the_ledger_documents_and_raw_exchange_make_the_179_data(world: World) -> None:
    order, payment = world.order, world.payment
    data = world.source.payment_data(order.head.order_no)
    assert isinstance(data, PaymentData)
    head = data.head
    assert (head.ebp_code, head.pay_code, head.pay_transaction_id) == (
        order.head.ebp_code,
        payment.pay_code,
        payment.pay_transaction_id,
    )
    assert head.total_amount == payment.amount_paid
    assert head.trading_time == f"{payment.pay_time:%Y%m%d%H%M%S}"
    assert (head.ver_dept, head.pay_type, head.currency) == ("2", "1", "142")
    assert head.guid.isupper()
    assert len(head.guid) == 36
    (item,) = data.items
    assert item.order_no == order.head.order_no
    assert (item.recp_code, item.recp_name) == (order.head.ebc_code, order.head.ebc_name)
    assert [g.gname for g in item.goods_info] == [line.item_name for line in order.items]
    assert [g.item_link for g in item.goods_info] == [
        "https://shop.example.cn/item/first",  # from the raw exchange's links
        f"https://shop.example.cn/item/{order.items[1].item_no}",  # from the template
    ]
    # ... and it signs into an upload that verifies, with the amount written without trailing zeros
    upload = build_payload(data.head, data.items, session_id="SID-L", signer=sm2_signer())
    assert verify_payload(upload, certificate=sm2_signer().certificate).session_id == "SID-L"
    assert independently_verified(upload, sm2_signer().certificate)
    assert f'"totalAmount":{format(Decimal(payment.amount_paid).normalize(), "f")},' in upload


def test_every_upload_gets_a_fresh_guid(world: World) -> None:
    lookup = as_lookup(world.source)
    first, second = lookup(world.order.head.order_no), lookup(world.order.head.order_no)
    assert first is not None
    assert second is not None
    assert first.head.guid != second.head.guid


def test_wrapped_documents_are_read_too(world: World, tmp_path: Path) -> None:
    order_no = world.order.head.order_no
    ledger = SqliteLedger(tmp_path / "other.db")
    try:
        submit(ledger, DocumentKind.ORDER, order_no, {"Order": to_data(world.order)})
        submit(ledger, DocumentKind.PAYMENT, order_no, to_data(world.payment))  # the bare head
        data = LedgerPaymentSource(ledger, world.store, item_link_template="x/{gnum}").payment_data(order_no)
    finally:
        ledger.close()
    assert data is not None
    assert data.items[0].goods_info[1].item_link == "x/2"


def test_missing_pieces_mean_no_data(world: World, tmp_path: Path) -> None:
    assert world.source.payment_data("NO-SUCH-ORDER") is None
    order_no = world.order.head.order_no
    ledger = SqliteLedger(tmp_path / "orders-only.db")
    try:
        submit(ledger, DocumentKind.ORDER, order_no, to_data(world.order))
        assert LedgerPaymentSource(ledger, world.store).payment_data(order_no) is None  # no payment
        submit(ledger, DocumentKind.PAYMENT, order_no, {"PaymentHead": to_data(world.payment)})
        with SqlitePay179Store(tmp_path / "no-raw.db") as empty:
            assert LedgerPaymentSource(ledger, empty).payment_data(order_no) is None  # no raw exchange
        submit(ledger, DocumentKind.ORDER, order_no, to_data(world.order), app_type="3")
        assert LedgerPaymentSource(ledger, world.store).payment_data(order_no) is None  # deleted
    finally:
        ledger.close()


def test_a_goods_line_without_a_link_is_a_model_error(world: World) -> None:
    source = LedgerPaymentSource(world.ledger, world.store)  # no template
    with pytest.raises(errors.ModelError) as caught:
        source.payment_data(world.order.head.order_no)
    assert caught.value.code == "pay179.data.item-link"
    assert caught.value.field == "OrderList[1]/itemLink"


def test_bad_documents_are_model_errors_naming_the_field(world: World, tmp_path: Path) -> None:
    order_no = world.order.head.order_no
    ledger = SqliteLedger(tmp_path / "bad.db")
    try:
        submit(ledger, DocumentKind.ORDER, order_no, to_data(world.order))
        payment = to_data(world.payment)
        del payment["payTransactionId"]
        submit(ledger, DocumentKind.PAYMENT, order_no, {"PaymentHead": payment})
        source = LedgerPaymentSource(ledger, world.store, item_link_template="x")
        with pytest.raises(errors.ModelError) as caught:
            source.payment_data(order_no)
        assert caught.value.field == "PaymentHead/payTransactionId"
        other = to_data(world.payment) | {"orderNo": "SOMEONE-ELSE", "payTransactionId": "P2"}
        submit(ledger, DocumentKind.PAYMENT, order_no, {"PaymentHead": other}, app_type="2")
        with pytest.raises(errors.ModelError) as mismatch:
            source.payment_data(order_no)
        assert mismatch.value.code == "pay179.data.order-mismatch"
    finally:
        ledger.close()
    # an invalid verDept is caught by the 179 models before anything is signed
    with pytest.raises(errors.ModelError) as invalid:
        world.source.build(
            order_no,
            to_data(world.order)["OrderHead"],
            [],
            to_data(world.payment),
            raw_for(world.order, ver_dept="9"),
        )
    assert invalid.value.field == "ver_dept"
