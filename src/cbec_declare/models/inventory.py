"""CEB621 进口清单 and its receipt CEB622."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

import attrs

from ..codes import AppStatus, AppType, IdType
from ._spec import (
    EntitySpec,
    amount,
    child,
    children,
    day,
    guid_field,
    integer,
    text,
    timestamp,
    timestamp_ms,
)
from .common import DeclarationMessage, ReceiptMessage

__all__ = ["CEB621Message", "CEB622Message", "Inventory", "InventoryHead", "InventoryItem", "InventoryReturn"]


@attrs.frozen(kw_only=True)
class InventoryHead:
    """进口清单表头实体 (``ceb:InventoryHead``)."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("InventoryHead", "进口清单表头实体")

    guid: str = guid_field("系统唯一序号")
    app_type: str = text("appType", "报送类型", 1, default=AppType.NEW)
    app_time: datetime = timestamp("appTime", "报送时间")
    app_status: str = text("appStatus", "业务状态", (1, 3), default=AppStatus.DECLARE)
    order_no: str = text("orderNo", "订单编号", (1, 60))
    ebp_code: str = text("ebpCode", "电商平台代码", (1, 18))
    ebp_name: str = text("ebpName", "电商平台名称", (1, 100))
    ebc_code: str = text("ebcCode", "电商企业代码", (1, 18))
    ebc_name: str = text("ebcName", "电商企业名称", (1, 100))
    logistics_no: str = text("logisticsNo", "物流运单编号", (1, 60))
    logistics_code: str = text("logisticsCode", "物流企业代码", (1, 18))
    logistics_name: str = text("logisticsName", "物流企业名称", (1, 100))
    cop_no: str | None = text("copNo", "企业内部编号", (0, 20), optional=True, spec_required=True)
    pre_no: str | None = text("preNo", "预录入编号", (0, 18), optional=True)
    assure_code: str = text("assureCode", "担保企业编号", (1, 30))
    ems_no: str | None = text("emsNo", "账册编号", (0, 30), optional=True)
    invt_no: str | None = text("invtNo", "清单编号", (0, 18), optional=True)
    ie_flag: str = text("ieFlag", "进出口标记", 1, default="I")
    decl_time: date = day("declTime", "申报日期")
    customs_code: str = text("customsCode", "申报海关代码", 4)
    port_code: str = text("portCode", "口岸海关代码", 4)
    ie_date: date | None = day("ieDate", "进口日期", optional=True)
    buyer_id_type: str = text("buyerIdType", "订购人证件类型", 1, default=IdType.ID_CARD)
    buyer_id_number: str = text("buyerIdNumber", "订购人证件号码", (1, 60))
    buyer_name: str = text("buyerName", "订购人姓名", (1, 60))
    buyer_telephone: str = text("buyerTelephone", "订购人电话", (1, 30))
    consignee_address: str = text("consigneeAddress", "收件地址", (1, 200))
    agent_code: str = text("agentCode", "申报企业代码", (1, 18))
    agent_name: str = text("agentName", "申报企业名称", (1, 100))
    area_code: str | None = text("areaCode", "区内企业代码", (0, 18), optional=True)
    area_name: str | None = text("areaName", "区内企业名称", (0, 100), optional=True)
    trade_mode: str = text("tradeMode", "贸易方式", 4)
    traf_mode: str = text("trafMode", "运输方式", 1)
    traf_no: str | None = text("trafNo", "运输工具编号", (0, 100), optional=True)
    voyage_no: str | None = text("voyageNo", "航班航次号", (0, 32), optional=True)
    bill_no: str | None = text("billNo", "提运单号", (0, 37), optional=True)
    loct_no: str | None = text("loctNo", "监管场所代码", (0, 10), optional=True)
    license_no: str | None = text("licenseNo", "许可证件号", (0, 19), optional=True)
    country: str = text("country", "起运国（地区）", 3)
    freight: Decimal = amount("freight", "运费")
    insured_fee: Decimal = amount("insuredFee", "保费")
    currency: str = text("currency", "币制", 3, fixed="142")
    wrap_type: str | None = text("wrapType", "包装种类代码", 1, optional=True)
    pack_no: int = integer("packNo", "件数", total_digits=9)
    gross_weight: Decimal = amount("grossWeight", "毛重（公斤）")
    net_weight: Decimal = amount("netWeight", "净重（公斤）")
    note: str | None = text("note", "备注", (0, 1000), optional=True)


@attrs.frozen(kw_only=True)
class InventoryItem:
    """进口清单表体实体 (``ceb:InventoryList``)."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("InventoryList", "进口清单表体实体")

    gnum: int = integer("gnum", "序号")
    item_record_no: str | None = text("itemRecordNo", "账册备案料号", (0, 30), optional=True)
    item_no: str | None = text("itemNo", "企业商品货号", (0, 30), optional=True)
    item_name: str | None = text("itemName", "企业商品品名", (0, 250), optional=True)
    gcode: str = text("gcode", "商品编码", 10)
    gname: str = text("gname", "商品名称", (1, 250))
    gmodel: str = text("gmodel", "商品规格型号", (1, 510))
    bar_code: str | None = text("barCode", "条码", (0, 50), optional=True)
    country: str = text("country", "原产国（地区）", 3)
    trade_country: str | None = text("tradeCountry", "贸易国", 3, optional=True)
    currency: str = text("currency", "币制", 3, fixed="142")
    qty: Decimal = amount("qty", "数量")
    unit: str = text("unit", "计量单位", 3)
    qty1: Decimal = amount("qty1", "法定数量")
    unit1: str = text("unit1", "法定计量单位", 3)
    qty2: Decimal | None = amount("qty2", "第二数量", optional=True)
    unit2: str | None = text("unit2", "第二计量单位", 3, optional=True)
    price: Decimal = amount("price", "单价")
    total_price: Decimal = amount("totalPrice", "总价")
    note: str | None = text("note", "备注", (0, 1000), optional=True)


@attrs.frozen(kw_only=True)
class InventoryReturn:
    """进口清单回执实体 (``ceb:InventoryReturn``)."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("InventoryReturn", "进口清单回执实体")

    guid: str = guid_field("系统唯一序号")
    customs_code: str | None = text("customsCode", "申报海关代码", 4, optional=True)
    ebp_code: str | None = text("ebpCode", "电商平台代码", (1, 18), optional=True)
    ebc_code: str | None = text("ebcCode", "电商企业代码", (1, 18), optional=True)
    agent_code: str | None = text("agentCode", "申报企业代码", (1, 18), optional=True)
    cop_no: str = text("copNo", "企业内部编号", (1, 20))
    pre_no: str = text("preNo", "预录入编号", 18)
    invt_no: str | None = text("invtNo", "清单编号", 18, optional=True)
    return_status: str = text("returnStatus", "回执状态", (1, 10))
    return_time: datetime = timestamp_ms("returnTime", "回执时间")
    return_info: str = text("returnInfo", "回执信息", (1, 1000))


@attrs.frozen(kw_only=True)
class Inventory:
    """One import inventory (``ceb:Inventory``): a head and 1..99 items."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("Inventory", "进口清单")

    head: InventoryHead = child("InventoryHead", "进口清单表头", InventoryHead)
    items: tuple[InventoryItem, ...] = children("InventoryList", "进口清单表体", InventoryItem, max_occurs=99)


@attrs.frozen(kw_only=True)
class CEB621Message(DeclarationMessage):
    """CEB621Message 进口清单数据报文 (电商企业或其代理人). Must be signed."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("CEB621Message", "进口清单数据报文")
    __body__: ClassVar[str] = "inventories"
    SIGNATURE_REQUIRED: ClassVar[bool] = True

    inventories: tuple[Inventory, ...] = children("Inventory", "进口清单", Inventory, max_occurs=100)


@attrs.frozen(kw_only=True)
class CEB622Message(ReceiptMessage):
    """CEB622Message 进口清单回执报文."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("CEB622Message", "进口清单回执报文")
    __body__: ClassVar[str] = "returns"

    returns: tuple[InventoryReturn, ...] = children(
        "InventoryReturn", "进口清单回执", InventoryReturn, max_occurs=100
    )
