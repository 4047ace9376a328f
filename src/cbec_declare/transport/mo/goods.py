"""``PERSONAL_GOODS_DECLAR`` 个人物品申报单 entities (request side).

No official sample: the element list is one enterprise's JAXB beans and example (2015) [M]; the
platform may know more fields.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import ClassVar

import attrs

from ._fields import mo_amount, mo_child, mo_children, mo_datetime, mo_integer, mo_text
from .common import MO_TIME_FORMAT, JkfSign

__all__ = ["GoodsDeclare", "GoodsDeclareDetail", "GoodsDeclareModule"]


@attrs.frozen(kw_only=True)
class GoodsDeclare:
    """``goodsDeclare`` 个人物品申报单表头 [M: one enterprise's beans]."""

    __mo__: ClassVar[str] = "goodsDeclare"

    account_book_no: str | None = mo_text("accountBookNo", "账册编号")
    ie_flag: str | None = mo_text("ieFlag", "进出口标志", default="I")
    pre_entry_number: str | None = mo_text("preEntryNumber", "预录入号码", required=True)
    import_type: str | None = mo_text("importType", "进口类型")
    in_out_date: datetime | None = mo_datetime("inOutDateStr", "进出口日期", MO_TIME_FORMAT)
    ie_port: str | None = mo_text("iePort", "进出口岸代码")
    destination_port: str | None = mo_text("destinationPort", "指运港(抵运港)")
    traf_name: str | None = mo_text("trafName", "运输工具名称")
    voyage_no: str | None = mo_text("voyageNo", "运输工具航次(班)号")
    traf_mode: str | None = mo_text("trafMode", "运输方式代码")
    declare_company_type: str | None = mo_text("declareCompanyType", "申报单位类别")
    declare_company_code: str | None = mo_text("declareCompanyCode", "申报单位代码", required=True)
    declare_company_name: str | None = mo_text("declareCompanyName", "申报单位名称")
    e_commerce_code: str | None = mo_text("eCommerceCode", "电商企业代码")
    e_commerce_name: str | None = mo_text("eCommerceName", "电商企业名称")
    order_no: str | None = mo_text("orderNo", "订单编号", required=True)
    way_bill: str | None = mo_text("wayBill", "分运单号", required=True)
    trade_country: str | None = mo_text("tradeCountry", "贸易国别（起运地）")
    pack_no: int | None = mo_integer("packNo", "件数")
    gross_weight: Decimal | None = mo_amount("grossWeight", "毛重（公斤）")
    net_weight: Decimal | None = mo_amount("netWeight", "净重（公斤）")
    warp_type: str | None = mo_text("warpType", "包装种类")
    remark: str | None = mo_text("remark", "备注")
    decl_port: str | None = mo_text("declPort", "申报口岸代码")
    entering_person: str | None = mo_text("enteringPerson", "录入人")
    entering_company_name: str | None = mo_text("enteringCompanyName", "录入单位名称")
    declarant_no: str | None = mo_text("declarantNo", "报关员代码")
    customs_field: str | None = mo_text("customsField", "码头/货场代码")
    sender_name: str | None = mo_text("senderName", "发件人")
    consignee: str | None = mo_text("consignee", "收件人")
    sender_country: str | None = mo_text("senderCountry", "发件人国别")
    sender_city: str | None = mo_text("senderCity", "发件人城市")
    paper_type: str | None = mo_text("paperType", "支付人证件类型")
    paper_number: str | None = mo_text("paperNumber", "支付人证件号")
    worth: Decimal | None = mo_amount("worth", "价值")
    curr_code: str | None = mo_text("currCode", "币制")
    main_g_name: str | None = mo_text("mainGName", "主要货物名称")
    internal_area_company_no: str | None = mo_text("internalAreaCompanyNo", "区内企业编码")
    internal_area_company_name: str | None = mo_text("internalAreaCompanyName", "区内企业名称")
    application_form_no: str | None = mo_text("applicationFormNo", "申请单编号")
    is_authorize: str | None = mo_text("isAuthorize", "是否授权")


@attrs.frozen(kw_only=True)
class GoodsDeclareDetail:
    """``goodsDeclareDetail`` 个人物品申报单表体 [M]."""

    __mo__: ClassVar[str] = "goodsDeclareDetail"

    goods_order: int | None = mo_integer("goodsOrder", "商品序号", required=True)
    code_ts: str | None = mo_text("codeTs", "行邮税号")
    goods_item_no: str | None = mo_text("goodsItemNo", "商品货号")
    goods_name: str | None = mo_text("goodsName", "物品名称", required=True)
    goods_model: str | None = mo_text("goodsModel", "商品规格、型号")
    origin_country: str | None = mo_text("originCountry", "产销国")
    trade_curr: str | None = mo_text("tradeCurr", "成交币制")
    trade_total: Decimal | None = mo_amount("tradeTotal", "成交总价")
    decl_price: Decimal | None = mo_amount("declPrice", "申报单价", required=True)
    decl_total_price: Decimal | None = mo_amount("declTotalPrice", "申报总价", required=True)
    use_to: str | None = mo_text("useTo", "用途")
    declare_count: Decimal | None = mo_amount("declareCount", "申报数量", required=True)
    goods_unit: str | None = mo_text("goodsUnit", "申报计量单位")
    goods_gross_weight: Decimal | None = mo_amount("goodsGrossWeight", "商品毛重")
    first_unit: str | None = mo_text("firstUnit", "第一单位")
    first_count: Decimal | None = mo_amount("firstCount", "第一数量")
    second_unit: str | None = mo_text("secondUnit", "第二单位")
    second_count: Decimal | None = mo_amount("secondCount", "第二数量")
    product_record_no: str | None = mo_text("productRecordNo", "产品国检备案编号")
    web_site: str | None = mo_text("webSite", "商品网址")


@attrs.frozen(kw_only=True)
class GoodsDeclareModule:
    """``goodsDeclareModule``: one 个人物品申报单."""

    __mo__: ClassVar[str] = "goodsDeclareModule"

    sign: JkfSign | None = mo_child("jkfSign", "签名信息", JkfSign)
    declare: GoodsDeclare | None = mo_child("goodsDeclare", "申报单表头", GoodsDeclare)
    details: tuple[GoodsDeclareDetail, ...] = mo_children(
        "goodsDeclareDetail", "申报单表体", GoodsDeclareDetail, wrapper="goodsDeclareDetails"
    )
