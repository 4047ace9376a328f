"""CEB711 入库明细单 and its receipt CEB712."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

import attrs

from ..codes import AppStatus, AppType
from ._spec import EntitySpec, child, children, guid_field, integer, text, timestamp, timestamp_ms
from .common import DeclarationMessage, ReceiptMessage

__all__ = ["CEB711Message", "CEB712Message", "Delivery", "DeliveryHead", "DeliveryItem", "DeliveryReturn"]


@attrs.frozen(kw_only=True)
class DeliveryHead:
    """入库明细单表头实体 (``ceb:DeliveryHead``)."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("DeliveryHead", "入库明细单表头实体")

    guid: str = guid_field("系统唯一序号")
    app_type: str = text("appType", "报送类型", 1, default=AppType.NEW)
    app_time: datetime = timestamp("appTime", "报送时间")
    app_status: str = text("appStatus", "业务状态", (1, 3), default=AppStatus.DECLARE)
    customs_code: str = text("customsCode", "申报海关代码", 4)
    cop_no: str | None = text("copNo", "企业内部编号", (0, 20), optional=True, spec_required=True)
    pre_no: str | None = text("preNo", "预录入编号", (0, 18), optional=True)
    rkd_no: str | None = text("rkdNo", "入库单编号", (0, 18), optional=True)
    operator_code: str = text("operatorCode", "监管场所经营人代码", (1, 18))
    operator_name: str = text("operatorName", "监管场所经营人名称", (1, 100))
    ie_flag: str = text("ieFlag", "进出口标记", 1, default="I")
    traf_mode: str = text("trafMode", "运输方式", 1)
    traf_no: str = text("trafNo", "运输工具编号", (1, 100))
    voyage_no: str = text("voyageNo", "航班航次号", (1, 32))
    bill_no: str = text("billNo", "提运单号", (1, 37))
    logistics_code: str = text("logisticsCode", "物流企业代码", (1, 18))
    logistics_name: str = text("logisticsName", "物流企业名称", (1, 100))
    unload_location: str | None = text("unloadLocation", "卸货库位", (0, 100), optional=True)
    note: str | None = text("note", "备注", (0, 1000), optional=True)


@attrs.frozen(kw_only=True)
class DeliveryItem:
    """入库明细单表体实体 (``ceb:DeliveryList``)."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("DeliveryList", "入库明细单表体实体")

    gnum: int = integer("gnum", "序号")
    logistics_no: str = text("logisticsNo", "物流运单编号", (1, 60))
    note: str | None = text("note", "备注", (0, 1000), optional=True)


@attrs.frozen(kw_only=True)
class DeliveryReturn:
    """入库明细单回执实体 (``ceb:DeliveryReturn``)."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("DeliveryReturn", "入库明细单回执实体")

    guid: str = guid_field("系统唯一序号")
    customs_code: str | None = text("customsCode", "申报海关代码", 4, optional=True)
    operator_code: str | None = text("operatorCode", "监管场所经营人代码", (1, 18), optional=True)
    cop_no: str | None = text("copNo", "企业内部编号", (0, 20), optional=True, spec_required=True)
    pre_no: str | None = text("preNo", "预录入编号", (0, 18), optional=True, spec_required=True)
    rkd_no: str | None = text("rkdNo", "入库单编号", (0, 18), optional=True)
    return_status: str = text("returnStatus", "回执状态", (1, 10))
    return_time: datetime = timestamp_ms("returnTime", "回执时间")
    return_info: str = text("returnInfo", "回执信息", (1, 1000))


@attrs.frozen(kw_only=True)
class Delivery:
    """The one delivery (``ceb:Delivery``) of a CEB711: a head and its waybill lines."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("Delivery", "入库明细单")

    head: DeliveryHead = child("DeliveryHead", "入库明细单表头", DeliveryHead)
    items: tuple[DeliveryItem, ...] = children(
        "DeliveryList", "入库明细单表体", DeliveryItem, max_occurs=None
    )


@attrs.frozen(kw_only=True)
class CEB711Message(DeclarationMessage):
    """CEB711Message 入库明细单数据报文 (海关监管作业场所经营企业). One Delivery; must be signed."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("CEB711Message", "入库明细单数据报文")
    __body__: ClassVar[str] = "deliveries"
    MAX_DOCUMENTS: ClassVar[int] = 1
    SIGNATURE_REQUIRED: ClassVar[bool] = True

    deliveries: tuple[Delivery, ...] = children("Delivery", "入库明细单", Delivery, max_occurs=1)


@attrs.frozen(kw_only=True)
class CEB712Message(ReceiptMessage):
    """CEB712Message 入库明细单回执报文."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("CEB712Message", "入库明细单回执报文")
    __body__: ClassVar[str] = "returns"

    returns: tuple[DeliveryReturn, ...] = children(
        "DeliveryReturn", "入库明细单回执", DeliveryReturn, max_occurs=100
    )
