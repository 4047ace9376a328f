"""``DocumentFactory.sale()`` / ``sales()``: the four documents of one sale, consistent and reproducible."""

from __future__ import annotations

from typing import Any

from cbec_declare.models import Inventory, LogisticsHead, Order, PaymentHead
from cbec_declare.pipeline.documents import to_message
from cbec_declare.testing.factories import DocumentFactory
from cbec_declare.validation import Related, validate


def test_a_sale_is_four_documents_that_match_each_other() -> None:
    order, payment, waybill, inventory = DocumentFactory(seed=3).sale(items=2)
    assert (type(order), type(payment), type(waybill), type(inventory)) == (
        Order,
        PaymentHead,
        LogisticsHead,
        Inventory,
    )
    number = order.head.order_no
    assert payment.order_no == waybill.order_no == inventory.head.order_no == number
    assert payment.amount_paid == order.head.actual_paid
    assert inventory.head.logistics_no == waybill.logistics_no
    assert len(order.items) == len(inventory.items) == 2


def _essence(document: Any) -> tuple[Any, ...]:
    """What the seed decides (the guids are fresh UUIDs by design)."""
    head = getattr(document, "head", document)
    return (
        type(document),
        head.order_no,
        getattr(head, "buyer_id_number", None),
        repr(getattr(document, "items", ())),
    )


def test_sales_are_the_same_documents_as_made_one_by_one() -> None:
    flat = DocumentFactory(seed=9).sales(3, items=1)
    by_hand = DocumentFactory(seed=9)
    expected: list[Any] = []
    for _ in range(3):
        order = by_hand.order(items=1)
        expected += [
            order,
            by_hand.payment_for(order),
            by_hand.logistics_for(order),
            by_hand.inventory_for(order),
        ]
    assert [_essence(d) for d in flat] == [_essence(d) for d in expected]
    assert len({d.head.order_no for d in flat if isinstance(d, Order)}) == 3


def test_a_sale_passes_the_cross_document_rules() -> None:
    factory = DocumentFactory(seed=5)
    order, payment, waybill, inventory = factory.sale()
    report = validate(
        to_message("inventory", [inventory], factory.company.base_transfer),
        related=Related.of(order, payment, waybill),
    )
    assert report.ok, report.errors
