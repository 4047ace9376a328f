"""Where the payment data for an order comes from.

An integrator gives the service either a :class:`PaymentDataSource` (an object with
``payment_data(order_no)``) or a plain function ``order_no -> PaymentData | None``; ``None`` means
"unknown order" (nothing is uploaded and the sessionID stays unused). Raise
:class:`~cbec_declare.errors.ModelError` when the data exists but is wrong.

:class:`LedgerPaymentSource` is a ready source: it combines what the pipeline's ledger already holds
(the order's CEB311 ``OrderHead``/``OrderList``, the payment's CEB411 ``PaymentHead``) with what only
the integrator has, the raw exchange with the payment company, from a
:class:`~cbec_declare.pay179.store.RawExchangeSource` (the SQLite store keeps one:
:meth:`~cbec_declare.pay179.sqlite_store.SqlitePay179Store.put_raw_exchange`).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from ..errors import ModelError
from ..pipeline.ledger import DocumentRecord, Ledger
from ..pipeline.states import DocumentKind
from ..signing.pay179 import GoodsInfo, PayExchangeInfoHead, PayExchangeInfoItem
from .models import PaymentData, RawPaymentExchange
from .store import RawExchangeSource

__all__ = ["LedgerPaymentSource", "PaymentDataSource", "PaymentLookup", "as_lookup"]

log = logging.getLogger("cbec_declare.pay179")

#: A plain function: the order number → its payment data, or None for an unknown order.
PaymentLookup = Callable[[str], "PaymentData | None"]


@runtime_checkable
class PaymentDataSource(Protocol):
    """Anything that can produce the 179 payment data of an order."""

    def payment_data(self, order_no: str) -> PaymentData | None:
        """The validated head and items for ``order_no``, or None when the order is unknown."""
        ...


def as_lookup(source: PaymentDataSource | PaymentLookup) -> PaymentLookup:
    """Either form of source as a plain function."""
    if isinstance(source, PaymentDataSource):
        return source.payment_data
    if callable(source):
        return source
    raise TypeError(
        f"a payment data source must be callable or have payment_data(), got {type(source).__name__}"
    )


def _new_guid() -> str:
    return str(uuid.uuid4()).upper()


class LedgerPaymentSource:
    """Payment data from the pipeline ledger (order + payment) and the integrator's raw exchange.

    * ``payExchangeInfoHead``: ``payCode``, ``payTransactionId``, ``amountPaid`` → ``totalAmount``,
      ``currency``, ``payTime`` → ``tradingTime`` from the newest CEB411 ``PaymentHead`` of the order;
      ``ebpCode`` from the order; ``initalRequest``/``initalResponse``/``verDept``/``payType``/``note``
      from the raw exchange; a fresh upper-case ``guid`` per upload.
    * ``payExchangeInfoLists``: one item for the order, with one ``goodsInfo`` per ``OrderList`` line
      (``gname`` = ``itemName``; ``itemLink`` from the raw exchange's ``item_links`` by ``itemNo`` or
      ``gnum``, else ``item_link_template`` formatted with ``orderNo``, ``itemNo``, ``gnum``); payee
      from the raw exchange, ``recpCode``/``recpName`` defaulting to ``ebcCode``/``ebcName``.

    Returns None when the order, its payment or its raw exchange is missing, or the newest order
    document is a deletion (appType 3); the reason is logged.
    """

    def __init__(
        self,
        ledger: Ledger,
        raw: RawExchangeSource,
        *,
        item_link_template: str | None = None,
        guid_factory: Callable[[], str] = _new_guid,
    ) -> None:
        self.ledger = ledger
        self.raw = raw
        self.item_link_template = item_link_template
        self.guid_factory = guid_factory

    def __repr__(self) -> str:
        return f"LedgerPaymentSource({self.ledger!r}, {self.raw!r})"

    def payment_data(self, order_no: str) -> PaymentData | None:
        order_doc = self._newest(DocumentKind.ORDER, order_no)
        payment_doc = self._newest(DocumentKind.PAYMENT, order_no)
        raw = self.raw.raw_exchange(order_no)
        missing = [
            name
            for name, found in (("order", order_doc), ("payment", payment_doc), ("raw exchange", raw))
            if found is None
        ]
        if missing:
            log.info("179: order %s has no %s; nothing to upload", order_no, " / ".join(missing))
            return None
        assert order_doc is not None
        assert payment_doc is not None
        assert raw is not None
        if order_doc.app_type == "3":
            log.info("179: order %s was deleted (appType 3); nothing to upload", order_no)
            return None
        order_head, order_lines = _order_parts(order_doc)
        payment = _payment_head(payment_doc)
        return self.build(order_no, order_head, order_lines, payment, raw)

    def build(
        self,
        order_no: str,
        order_head: Mapping[str, Any],
        order_lines: list[Mapping[str, Any]],
        payment: Mapping[str, Any],
        raw: RawPaymentExchange,
    ) -> PaymentData:
        """The payment data from spec-named dicts (exposed for integrators with their own storage)."""
        if payment.get("orderNo", order_no) != order_no:
            raise ModelError(
                f"the payment document is for order {payment.get('orderNo')!r}, not {order_no!r}",
                code="pay179.data.order-mismatch",
                field="PaymentHead/orderNo",
            )
        head = PayExchangeInfoHead(
            guid=self.guid_factory(),
            inital_request=raw.inital_request,
            inital_response=raw.inital_response,
            ebp_code=_need(order_head, "ebpCode", "OrderHead"),
            pay_code=_need(payment, "payCode", "PaymentHead"),
            pay_transaction_id=_need(payment, "payTransactionId", "PaymentHead"),
            total_amount=_need(payment, "amountPaid", "PaymentHead"),
            currency=payment.get("currency", "142"),
            ver_dept=raw.ver_dept,
            pay_type=raw.pay_type,
            trading_time=_need(payment, "payTime", "PaymentHead"),
            note=raw.note,
        )
        goods = [self._goods(order_no, index, line, raw) for index, line in enumerate(order_lines)]
        item = PayExchangeInfoItem(
            order_no=order_no,
            goods_info=goods,
            recp_account=raw.recp_account,
            recp_code=raw.recp_code
            if raw.recp_code is not None
            else _need(order_head, "ebcCode", "OrderHead"),
            recp_name=raw.recp_name
            if raw.recp_name is not None
            else _need(order_head, "ebcName", "OrderHead"),
        )
        return PaymentData(head=head, items=(item,))

    def _goods(
        self, order_no: str, index: int, line: Mapping[str, Any], raw: RawPaymentExchange
    ) -> GoodsInfo:
        where = f"OrderList[{index}]"
        item_no = line.get("itemNo")
        gnum = line.get("gnum", index + 1)
        link = None
        for key in (item_no, str(gnum)):
            if key is not None and key in raw.item_links:
                link = raw.item_links[key]
                break
        if link is None and self.item_link_template is not None:
            link = self.item_link_template.format(orderNo=order_no, itemNo=item_no or "", gnum=gnum)
        if link is None:
            raise ModelError(
                f"no itemLink for {where} (itemNo {item_no!r}, gnum {gnum}): add it to the raw exchange's "
                "item_links or configure item_link_template",
                code="pay179.data.item-link",
                field=f"{where}/itemLink",
            )
        return GoodsInfo(gname=_need(line, "itemName", where), item_link=link)

    def _newest(self, kind: DocumentKind, order_no: str) -> DocumentRecord | None:
        found = self.ledger.find(kind=kind, order_no=order_no, limit=1)
        return found[0] if found else None


def _need(data: Mapping[str, Any], key: str, where: str) -> Any:
    value = data.get(key)
    if value is None or value == "":
        raise ModelError(f"{where} has no {key}", code="pay179.data.missing", field=f"{where}/{key}")
    return value


def _load(doc: DocumentRecord) -> Any:
    try:
        return json.loads(doc.payload.decode("utf-8-sig"), parse_float=Decimal)
    except (UnicodeDecodeError, ValueError):
        raise ModelError(
            f"ledger document {doc.id} ({doc.kind.value}) is not spec-named JSON",
            code="pay179.data.payload",
            field=doc.kind.message_type,
        ) from None


def _order_parts(doc: DocumentRecord) -> tuple[Mapping[str, Any], list[Mapping[str, Any]]]:
    data = _load(doc)
    if isinstance(data, Mapping) and isinstance(data.get("Order"), Mapping):
        data = data["Order"]
    head = data.get("OrderHead") if isinstance(data, Mapping) else None
    lines = data.get("OrderList") if isinstance(data, Mapping) else None
    if not isinstance(head, Mapping) or not isinstance(lines, list) or not lines:
        raise ModelError(
            f"ledger document {doc.id} is not an order: OrderHead and OrderList expected",
            code="pay179.data.payload",
            field="CEB311",
        )
    if not all(isinstance(line, Mapping) for line in lines):
        raise ModelError("OrderList entries must be objects", code="pay179.data.payload", field="OrderList")
    return head, lines


def _payment_head(doc: DocumentRecord) -> Mapping[str, Any]:
    data = _load(doc)
    if isinstance(data, Mapping) and isinstance(data.get("Payment"), Mapping):
        data = data["Payment"]
    if isinstance(data, Mapping) and isinstance(data.get("PaymentHead"), Mapping):
        return dict(data["PaymentHead"])
    if isinstance(data, Mapping) and "payCode" in data:
        return dict(data)  # the bare head, as to_data(PaymentHead) writes it
    raise ModelError(
        f"ledger document {doc.id} is not a payment: PaymentHead expected",
        code="pay179.data.payload",
        field="CEB411",
    )
