"""CEB816 电子税单 and CEB818 电子税单状态 (sent by customs)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import ClassVar

import attrs

from ._spec import EntitySpec, amount, child, children, guid_field, integer, text, timestamp_ms
from .common import ReceiptMessage

__all__ = ["CEB816Message", "CEB818Message", "Tax", "TaxHead", "TaxItem", "TaxStatus"]


@attrs.frozen(kw_only=True)
class TaxHead:
    """电子税单表头实体 (``ceb:TaxHeadRd``)."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("TaxHeadRd", "电子税单表头实体")

    guid: str = guid_field("系统唯一序号")
    return_time: datetime = timestamp_ms("returnTime", "回执时间")
    invt_no: str = text("invtNo", "进境清单编号", (1, 18))
    tax_no: str = text("taxNo", "电子税单编号", (1, 50))
    customs_tax: Decimal = amount("customsTax", "应征关税")
    value_added_tax: Decimal = amount("valueAddedTax", "应征增值税")
    consumption_tax: Decimal = amount("consumptionTax", "应征消费税")
    status: str = text("status", "税单状态", 1)
    ent_duty_no: str | None = text("entDutyNo", "缴款书编号", (0, 50), optional=True)
    note: str | None = text("note", "备注", (0, 1000), optional=True)
    assure_code: str | None = text("assureCode", "担保企业代码", (0, 64), optional=True)
    ebc_code: str | None = text("ebcCode", "电商企业代码", (0, 64), optional=True)
    logistics_code: str | None = text("logisticsCode", "物流企业代码", (0, 64), optional=True)
    agent_code: str | None = text("agentCode", "申报单位代码", (1, 18), optional=True)
    customs_code: str | None = text("customsCode", "申报口岸", 4, optional=True)


@attrs.frozen(kw_only=True)
class TaxItem:
    """电子税单表体实体 (``ceb:TaxListRd``)."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("TaxListRd", "电子税单表体实体")

    gnum: int = integer("gnum", "商品项号")
    gcode: str = text("gcode", "海关商品编码", 10)
    tax_price: Decimal = amount("taxPrice", "完税总价格")
    customs_tax: Decimal = amount("customsTax", "应征关税")
    value_added_tax: Decimal = amount("valueAddedTax", "应征增值税")
    consumption_tax: Decimal = amount("consumptionTax", "应征消费税")


@attrs.frozen(kw_only=True)
class TaxStatus:
    """电子税单状态表头实体 (``ceb:TaxHeadStatus``)."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("TaxHeadStatus", "电子税单状态表头实体")

    guid: str = guid_field("系统唯一序号")
    return_time: datetime = timestamp_ms("returnTime", "回执时间")
    invt_no: str = text("invtNo", "进境清单编号", (1, 18))
    tax_no: str = text("taxNo", "电子税单编号", (1, 50))
    status: str = text("status", "税单状态", 1)
    ent_duty_no: str | None = text("entDutyNo", "缴款书编号", (0, 50), optional=True)
    assure_code: str | None = text("assureCode", "担保企业代码", (0, 64), optional=True)


@attrs.frozen(kw_only=True)
class Tax:
    """One electronic tax bill (``ceb:Tax`` in CEB816): a head and 1..99 items."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("Tax", "电子税单")

    head: TaxHead = child("TaxHeadRd", "电子税单表头", TaxHead)
    items: tuple[TaxItem, ...] = children("TaxListRd", "电子税单表体", TaxItem, max_occurs=99)


@attrs.frozen(kw_only=True)
class CEB816Message(ReceiptMessage):
    """CEB816Message 电子税单数据报文."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("CEB816Message", "电子税单数据报文")
    __body__: ClassVar[str] = "taxes"

    taxes: tuple[Tax, ...] = children("Tax", "电子税单", Tax, max_occurs=None)


@attrs.frozen(kw_only=True)
class CEB818Message(ReceiptMessage):
    """CEB818Message 电子税单状态报文. Each ``TaxHeadStatus`` is wrapped in ``ceb:Tax``."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("CEB818Message", "电子税单状态报文")
    __body__: ClassVar[str] = "statuses"

    statuses: tuple[TaxStatus, ...] = children(
        "TaxHeadStatus", "电子税单状态", TaxStatus, max_occurs=None, wrapper="Tax"
    )
