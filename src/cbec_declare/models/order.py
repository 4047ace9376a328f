"""CEB311 电子订单 and its receipt CEB312."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import ClassVar

import attrs

from ..codes import AppStatus, AppType, IdType
from ._spec import EntitySpec, amount, child, children, guid_field, integer, text, timestamp, timestamp_ms
from .common import DeclarationMessage, ReceiptMessage

__all__ = ["CEB311Message", "CEB312Message", "Order", "OrderHead", "OrderItem", "OrderReturn"]


@attrs.frozen(kw_only=True)
class OrderHead:
    """电子订单表头实体 (``ceb:OrderHead``)."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("OrderHead", "电子订单表头实体")

    guid: str = guid_field("系统唯一序号")
    app_type: str = text("appType", "报送类型", 1, default=AppType.NEW)
    app_time: datetime = timestamp("appTime", "报送时间")
    app_status: str = text("appStatus", "业务状态", (1, 3), default=AppStatus.DECLARE)
    order_type: str = text("orderType", "订单类型", 1, default="I")
    order_no: str = text("orderNo", "订单编号", (1, 60))
    ebp_code: str = text("ebpCode", "电商平台代码", (1, 18))
    ebp_name: str = text("ebpName", "电商平台名称", (1, 100))
    ebc_code: str = text("ebcCode", "电商企业代码", (1, 18))
    ebc_name: str = text("ebcName", "电商企业名称", (1, 100))
    goods_value: Decimal = amount("goodsValue", "商品价格")
    freight: Decimal = amount("freight", "运杂费")
    discount: Decimal = amount("discount", "非现金抵扣金额")
    tax_total: Decimal = amount("taxTotal", "代扣税款")
    actual_paid: Decimal = amount("acturalPaid", "实际支付金额")
    currency: str = text("currency", "币制", 3, fixed="142")
    buyer_reg_no: str = text("buyerRegNo", "订购人注册号", (1, 60))
    buyer_name: str = text("buyerName", "订购人姓名", (1, 60))
    buyer_telephone: str = text("buyerTelephone", "订购人电话", (1, 30))
    buyer_id_type: str = text("buyerIdType", "订购人证件类型", 1, default=IdType.ID_CARD)
    buyer_id_number: str = text("buyerIdNumber", "订购人证件号码", (1, 60))
    pay_code: str | None = text("payCode", "支付企业代码", (0, 18), optional=True)
    pay_name: str | None = text("payName", "支付企业名称", (0, 100), optional=True)
    pay_transaction_id: str | None = text("payTransactionId", "支付交易编号", (0, 60), optional=True)
    batch_numbers: str | None = text("batchNumbers", "商品批次号", (0, 100), optional=True)
    consignee: str = text("consignee", "收货人姓名", (1, 100))
    consignee_telephone: str = text("consigneeTelephone", "收货人电话", (1, 50))
    consignee_address: str = text("consigneeAddress", "收货地址", (1, 200))
    consignee_district: str | None = text("consigneeDistrict", "收货地址行政区划代码", 6, optional=True)
    note: str | None = text("note", "备注", (0, 1000), optional=True)


@attrs.frozen(kw_only=True)
class OrderItem:
    """电子订单商品实体 (``ceb:OrderList``)."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("OrderList", "电子订单商品实体")

    gnum: int = integer("gnum", "商品序号")
    item_no: str | None = text("itemNo", "企业商品货号", (0, 30), optional=True)
    item_name: str = text("itemName", "企业商品名称", (1, 250))
    gmodel: str = text("gmodel", "商品规格型号", (1, 510))
    item_describe: str | None = text("itemDescribe", "企业商品描述", (0, 1000), optional=True)
    bar_code: str | None = text("barCode", "条形码", (0, 50), optional=True)
    unit: str = text("unit", "单位", 3)
    qty: Decimal = amount("qty", "数量")
    price: Decimal = amount("price", "单价")
    total_price: Decimal = amount("totalPrice", "总价")
    currency: str = text("currency", "币制", 3, fixed="142")
    country: str = text("country", "原产国", 3)
    note: str | None = text("note", "备注", (0, 1000), optional=True)


@attrs.frozen(kw_only=True)
class OrderReturn:
    """电子订单回执实体 (``ceb:OrderReturn``)."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("OrderReturn", "电子订单回执实体")

    guid: str = guid_field("系统唯一序号")
    ebp_code: str = text("ebpCode", "电商平台代码", (1, 18))
    ebc_code: str = text("ebcCode", "电商企业代码", (1, 18))
    order_no: str = text("orderNo", "订单编号", (1, 60))
    return_status: str = text("returnStatus", "回执状态", (1, 10))
    return_time: datetime = timestamp_ms("returnTime", "回执时间")
    return_info: str = text("returnInfo", "回执信息", (1, 1000))


@attrs.frozen(kw_only=True)
class Order:
    """One electronic order (``ceb:Order``): a head and 1..99 items."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("Order", "电子订单")

    head: OrderHead = child("OrderHead", "电子订单表头", OrderHead)
    items: tuple[OrderItem, ...] = children("OrderList", "电子订单商品", OrderItem, max_occurs=99)


@attrs.frozen(kw_only=True)
class CEB311Message(DeclarationMessage):
    """CEB311Message 电子订单数据报文 (电商企业/电商平台/受委托的快件运营人、邮政企业)."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("CEB311Message", "电子订单数据报文")
    __body__: ClassVar[str] = "orders"

    orders: tuple[Order, ...] = children("Order", "电子订单", Order, max_occurs=100)


@attrs.frozen(kw_only=True)
class CEB312Message(ReceiptMessage):
    """CEB312Message 电子订单回执报文."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("CEB312Message", "电子订单回执报文")
    __body__: ClassVar[str] = "returns"

    returns: tuple[OrderReturn, ...] = children("OrderReturn", "电子订单回执", OrderReturn, max_occurs=100)
