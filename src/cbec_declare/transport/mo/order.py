"""``IMPORTORDER`` 进口订单 entities: every element of zjport's documentation example [H].

Element names keep the platform's spelling, typos included (``consigneeDitrict``, ``userProcotol``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import ClassVar

import attrs

from ._fields import mo_amount, mo_child, mo_children, mo_datetime, mo_integer, mo_text
from .common import MO_TIME_FORMAT, JkfSign

__all__ = ["JkfGoodsPurchaser", "JkfOrderDetail", "JkfOrderImportHead", "OrderInfo"]


@attrs.frozen(kw_only=True)
class JkfOrderImportHead:
    """``jkfOrderImportHead`` 进口订单表头."""

    __mo__: ClassVar[str] = "jkfOrderImportHead"

    company_name: str | None = mo_text("companyName", "电商平台名称")
    company_code: str | None = mo_text("companyCode", "电商平台代码", required=True)
    ie_flag: str | None = mo_text("ieFlag", "进出口标志", default="I")
    pay_type: str | None = mo_text("payType", "支付类型")
    pay_company_code: str | None = mo_text("payCompanyCode", "支付企业代码")
    pay_number: str | None = mo_text("payNumber", "支付单号")
    order_total_amount: Decimal | None = mo_amount("orderTotalAmount", "订单总金额", required=True)
    order_goods_amount: Decimal | None = mo_amount("orderGoodsAmount", "订单商品货款")
    discount: Decimal | None = mo_amount("discount", "折扣")
    order_no: str | None = mo_text("orderNo", "订单编号", required=True)
    order_tax_amount: Decimal | None = mo_amount("orderTaxAmount", "订单税款")
    fee_amount: Decimal | None = mo_amount("feeAmount", "运费")
    insure_amount: Decimal | None = mo_amount("insureAmount", "保费")
    e_commerce_code: str | None = mo_text("eCommerceCode", "电商企业代码")
    e_commerce_name: str | None = mo_text("eCommerceName", "电商企业名称")
    trade_time: datetime | None = mo_datetime("tradeTime", "成交时间", MO_TIME_FORMAT)
    curr_code: str | None = mo_text("currCode", "币制")
    total_amount: Decimal | None = mo_amount("totalAmount", "成交总价")
    consignee_email: str | None = mo_text("consigneeEmail", "收件人邮箱")
    consignee_tel: str | None = mo_text("consigneeTel", "收件人电话")
    consignee: str | None = mo_text("consignee", "收件人姓名")
    consignee_address: str | None = mo_text("consigneeAddress", "收件人地址")
    total_count: Decimal | None = mo_amount("totalCount", "商品总数")
    batch_numbers: str | None = mo_text("batchNumbers", "商品批次号")
    consignee_district: str | None = mo_text("consigneeDitrict", "收件人行政区划代码")
    post_mode: str | None = mo_text("postMode", "发货方式")
    sender_country: str | None = mo_text("senderCountry", "发件人国别")
    sender_name: str | None = mo_text("senderName", "发件人姓名")
    purchaser_id: str | None = mo_text("purchaserId", "购买人ID")
    logis_company_name: str | None = mo_text("logisCompanyName", "物流企业名称")
    logis_company_code: str | None = mo_text("logisCompanyCode", "物流企业代码")
    zip_code: str | None = mo_text("zipCode", "邮编")
    note: str | None = mo_text("note", "备注")
    way_bills: str | None = mo_text("wayBills", "运单号（分号分隔）")
    rate: Decimal | None = mo_amount("rate", "汇率")
    user_protocol: str | None = mo_text("userProcotol", "个人委托申报协议")


@attrs.frozen(kw_only=True)
class JkfOrderDetail:
    """``jkfOrderDetail`` 进口订单商品."""

    __mo__: ClassVar[str] = "jkfOrderDetail"

    goods_order: int | None = mo_integer("goodsOrder", "商品序号", required=True)
    goods_name: str | None = mo_text("goodsName", "物品名称", required=True)
    code_ts: str | None = mo_text("codeTs", "行邮税号")
    goods_model: str | None = mo_text("goodsModel", "规格型号")
    origin_country: str | None = mo_text("originCountry", "原产国")
    unit_price: Decimal | None = mo_amount("unitPrice", "单价", required=True)
    currency: str | None = mo_text("currency", "币制")
    goods_count: Decimal | None = mo_amount("goodsCount", "数量", required=True)
    goods_unit: str | None = mo_text("goodsUnit", "计量单位")
    gross_weight: Decimal | None = mo_amount("grossWeight", "毛重")
    bar_code: str | None = mo_text("barCode", "条形码")
    note: str | None = mo_text("note", "备注")


@attrs.frozen(kw_only=True)
class JkfGoodsPurchaser:
    """``jkfGoodsPurchaser`` 购买人."""

    __mo__: ClassVar[str] = "jkfGoodsPurchaser"

    id: str | None = mo_text("id", "购买人ID")
    name: str | None = mo_text("name", "姓名", required=True)
    email: str | None = mo_text("email", "邮箱")
    tel_number: str | None = mo_text("telNumber", "电话")
    paper_type: str | None = mo_text("paperType", "证件类型")
    paper_number: str | None = mo_text("paperNumber", "证件号码", required=True)
    address: str | None = mo_text("address", "地址")


@attrs.frozen(kw_only=True)
class OrderInfo:
    """``orderInfo``: one import order."""

    __mo__: ClassVar[str] = "orderInfo"

    sign: JkfSign | None = mo_child("jkfSign", "签名信息", JkfSign)
    head: JkfOrderImportHead | None = mo_child("jkfOrderImportHead", "订单表头", JkfOrderImportHead)
    details: tuple[JkfOrderDetail, ...] = mo_children(
        "jkfOrderDetail", "订单商品", JkfOrderDetail, wrapper="jkfOrderDetailList"
    )
    purchaser: JkfGoodsPurchaser | None = mo_child("jkfGoodsPurchaser", "购买人", JkfGoodsPurchaser)
