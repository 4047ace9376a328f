"""CEB411 支付凭证 and its receipt CEB412."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import ClassVar

import attrs

from ..codes import AppStatus, AppType, IdType
from ._spec import EntitySpec, amount, children, guid_field, text, timestamp, timestamp_ms
from .common import DeclarationMessage, ReceiptMessage

__all__ = ["CEB411Message", "CEB412Message", "PaymentHead", "PaymentReturn"]


@attrs.frozen(kw_only=True)
class PaymentHead:
    """支付凭证数据实体 (``ceb:PaymentHead``)."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("PaymentHead", "支付凭证数据实体")

    guid: str = guid_field("系统唯一序号")
    app_type: str = text("appType", "报送类型", 1, default=AppType.NEW)
    app_time: datetime = timestamp("appTime", "报送时间")
    app_status: str = text("appStatus", "业务状态", (1, 3), default=AppStatus.DECLARE)
    pay_code: str = text("payCode", "支付企业代码", (1, 18))
    pay_name: str = text("payName", "支付企业名称", (1, 100))
    pay_transaction_id: str = text("payTransactionId", "支付交易编号", (1, 60))
    order_no: str = text("orderNo", "订单编号", (1, 60))
    ebp_code: str = text("ebpCode", "电商平台代码", (1, 18))
    ebp_name: str = text("ebpName", "电商平台名称", (1, 100))
    payer_id_type: str = text("payerIdType", "支付人证件类型", 1, default=IdType.ID_CARD)
    payer_id_number: str = text("payerIdNumber", "支付人证件号码", (1, 60))
    payer_name: str = text("payerName", "支付人姓名", (1, 60))
    telephone: str | None = text("telephone", "支付人电话", (0, 60), optional=True)
    amount_paid: Decimal = amount("amountPaid", "支付金额")
    currency: str = text("currency", "支付币制", 3, fixed="142")
    pay_time: datetime = timestamp("payTime", "支付时间")
    note: str | None = text("note", "备注", (0, 1000), optional=True)


@attrs.frozen(kw_only=True)
class PaymentReturn:
    """支付凭证回执实体 (``ceb:PaymentReturn``)."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("PaymentReturn", "支付凭证回执实体")

    guid: str = guid_field("系统唯一序号")
    pay_code: str = text("payCode", "支付企业代码", (1, 18))
    pay_transaction_id: str = text("payTransactionId", "支付交易编号", (1, 60))
    return_status: str = text("returnStatus", "回执状态", (1, 10))
    return_time: datetime = timestamp_ms("returnTime", "回执时间")
    return_info: str = text("returnInfo", "回执信息", (1, 1000))


@attrs.frozen(kw_only=True)
class CEB411Message(DeclarationMessage):
    """CEB411Message 支付凭证数据报文 (支付企业). Each ``PaymentHead`` is wrapped in ``ceb:Payment``."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("CEB411Message", "支付凭证数据报文")
    __body__: ClassVar[str] = "payments"

    payments: tuple[PaymentHead, ...] = children(
        "PaymentHead", "支付凭证", PaymentHead, max_occurs=100, wrapper="Payment"
    )


@attrs.frozen(kw_only=True)
class CEB412Message(ReceiptMessage):
    """CEB412Message 支付凭证回执报文."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("CEB412Message", "支付凭证回执报文")
    __body__: ClassVar[str] = "returns"

    returns: tuple[PaymentReturn, ...] = children(
        "PaymentReturn", "支付凭证回执", PaymentReturn, max_occurs=100
    )
