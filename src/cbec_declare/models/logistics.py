"""CEB511 物流运单, CEB513 运单状态 and their receipts CEB512/CEB514."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import ClassVar

import attrs

from ..codes import AppStatus, AppType
from ._spec import EntitySpec, amount, children, guid_field, integer, text, timestamp, timestamp_ms
from .common import DeclarationMessage, ReceiptMessage

__all__ = [
    "CEB511Message",
    "CEB512Message",
    "CEB513Message",
    "CEB514Message",
    "LogisticsHead",
    "LogisticsReturn",
    "LogisticsStatus",
    "LogisticsStatusReturn",
]


@attrs.frozen(kw_only=True)
class LogisticsHead:
    """物流运单数据实体 (``ceb:LogisticsHead``)."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("LogisticsHead", "物流运单数据实体")

    guid: str = guid_field("系统唯一序号")
    app_type: str = text("appType", "报送类型", 1, default=AppType.NEW)
    app_time: datetime = timestamp("appTime", "报送时间")
    app_status: str = text("appStatus", "业务状态", (1, 3), default=AppStatus.DECLARE)
    logistics_code: str = text("logisticsCode", "物流企业代码", (1, 18))
    logistics_name: str = text("logisticsName", "物流企业名称", (1, 100))
    logistics_no: str = text("logisticsNo", "物流运单编号", (1, 60))
    bill_no: str | None = text("billNo", "提运单号", (0, 37), optional=True)
    order_no: str = text("orderNo", "订单编号", (1, 60))
    freight: Decimal | None = amount("freight", "运费", optional=True, spec_required=True)
    insured_fee: Decimal | None = amount("insuredFee", "保价费", optional=True, spec_required=True)
    currency: str = text("currency", "币制", 3, fixed="142")
    weight: Decimal = amount("weight", "毛重")
    pack_no: int = integer("packNo", "件数", total_digits=9)
    goods_info: str | None = text("goodsInfo", "主要货物信息", (0, 200), optional=True)
    consignee: str = text("consignee", "收货人姓名", (1, 100))
    consignee_address: str = text("consigneeAddress", "收货地址", (1, 200))
    consignee_telephone: str = text("consigneeTelephone", "收货人电话", (1, 50))
    note: str | None = text("note", "备注", (0, 1000), optional=True)


@attrs.frozen(kw_only=True)
class LogisticsReturn:
    """物流运单回执实体 (``ceb:LogisticsReturn``)."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("LogisticsReturn", "物流运单回执实体")

    guid: str = guid_field("系统唯一序号")
    logistics_code: str = text("logisticsCode", "物流企业代码", (1, 18))
    logistics_no: str = text("logisticsNo", "物流运单编号", (1, 60))
    return_status: str = text("returnStatus", "回执状态", (1, 10))
    return_time: datetime = timestamp_ms("returnTime", "回执时间")
    return_info: str = text("returnInfo", "回执信息", (1, 1000))


@attrs.frozen(kw_only=True)
class LogisticsStatus:
    """物流运单状态数据实体 (``ceb:LogisticsStatus``)."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("LogisticsStatus", "物流运单状态数据实体")

    guid: str = guid_field("系统唯一序号")
    app_type: str = text("appType", "报送类型", 1, default=AppType.NEW)
    app_time: datetime = timestamp("appTime", "报送时间")
    app_status: str = text("appStatus", "业务状态", (1, 3), default=AppStatus.DECLARE)
    logistics_code: str = text("logisticsCode", "物流企业代码", (1, 18))
    logistics_name: str = text("logisticsName", "物流企业名称", (1, 100))
    logistics_no: str = text("logisticsNo", "物流运单编号", (1, 60))
    logistics_status: str = text("logisticsStatus", "物流运单状态", 1)
    logistics_time: datetime = timestamp("logisticsTime", "物流状态时间")
    note: str | None = text("note", "备注", (0, 1000), optional=True)


@attrs.frozen(kw_only=True)
class LogisticsStatusReturn:
    """物流运单状态回执实体 (``ceb:LogisticsStatusReturn``)."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("LogisticsStatusReturn", "物流运单状态回执实体")

    guid: str = guid_field("系统唯一序号")
    logistics_code: str = text("logisticsCode", "物流企业代码", (1, 18))
    logistics_no: str = text("logisticsNo", "物流运单编号", (1, 60))
    logistics_status: str = text("logisticsStatus", "物流状态", 1)
    return_status: str = text("returnStatus", "回执状态", (1, 10))
    return_time: datetime = timestamp_ms("returnTime", "回执时间")
    return_info: str = text("returnInfo", "回执信息", (1, 1000))


@attrs.frozen(kw_only=True)
class CEB511Message(DeclarationMessage):
    """CEB511Message 物流运单数据报文 (物流企业). Each ``LogisticsHead`` is wrapped in ``ceb:Logistics``."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("CEB511Message", "物流运单数据报文")
    __body__: ClassVar[str] = "waybills"

    waybills: tuple[LogisticsHead, ...] = children(
        "LogisticsHead", "物流运单", LogisticsHead, max_occurs=100, wrapper="Logistics"
    )


@attrs.frozen(kw_only=True)
class CEB512Message(ReceiptMessage):
    """CEB512Message 物流运单回执报文."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("CEB512Message", "物流运单回执报文")
    __body__: ClassVar[str] = "returns"

    returns: tuple[LogisticsReturn, ...] = children(
        "LogisticsReturn", "物流运单回执", LogisticsReturn, max_occurs=100
    )


@attrs.frozen(kw_only=True)
class CEB513Message(DeclarationMessage):
    """CEB513Message 物流运单状态数据报文 (物流企业); no wrapper element."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("CEB513Message", "物流运单状态数据报文")
    __body__: ClassVar[str] = "statuses"

    statuses: tuple[LogisticsStatus, ...] = children(
        "LogisticsStatus", "物流运单状态", LogisticsStatus, max_occurs=100
    )


@attrs.frozen(kw_only=True)
class CEB514Message(ReceiptMessage):
    """CEB514Message 物流运单状态回执报文."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("CEB514Message", "物流运单状态回执报文")
    __body__: ClassVar[str] = "returns"

    returns: tuple[LogisticsStatusReturn, ...] = children(
        "LogisticsStatusReturn", "物流运单状态回执", LogisticsStatusReturn, max_occurs=100
    )
