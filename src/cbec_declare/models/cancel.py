"""CEB623 撤销申请单 and its receipt CEB624."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

import attrs

from ..codes import AppStatus, AppType, IdType
from ._spec import EntitySpec, children, guid_field, text, timestamp, timestamp_ms
from .common import DeclarationMessage, ReceiptMessage

__all__ = ["CEB623Message", "CEB624Message", "InvtCancel", "InvtCancelReturn"]


@attrs.frozen(kw_only=True)
class InvtCancel:
    """撤销申请单实体 (``ceb:InvtCancel``)."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("InvtCancel", "撤销申请单实体")

    guid: str = guid_field("系统唯一序号")
    app_type: str = text("appType", "报送类型", 1, default=AppType.NEW)
    app_time: datetime = timestamp("appTime", "报送时间")
    app_status: str = text("appStatus", "业务状态", (1, 3), default=AppStatus.DECLARE)
    customs_code: str = text("customsCode", "申报海关代码", 4)
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
    invt_no: str = text("invtNo", "清单编号", (1, 18))
    buyer_id_type: str = text("buyerIdType", "订购人证件类型", 1, default=IdType.ID_CARD)
    buyer_id_number: str = text("buyerIdNumber", "订购人证件号码", (1, 60))
    buyer_name: str = text("buyerName", "订购人姓名", (1, 60))
    buyer_telephone: str = text("buyerTelephone", "订购人电话", (1, 30))
    agent_code: str = text("agentCode", "申报企业代码", (1, 18))
    agent_name: str = text("agentName", "申报企业名称", (1, 100))
    reason: str = text("reason", "撤单原因", (1, 1000))
    note: str | None = text("note", "备注", (0, 1000), optional=True)


@attrs.frozen(kw_only=True)
class InvtCancelReturn:
    """撤销申请单回执实体 (``ceb:InvtCancelReturn``)."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("InvtCancelReturn", "撤销申请单回执实体")

    guid: str = guid_field("系统唯一序号")
    customs_code: str | None = text("customsCode", "申报海关代码", 4, optional=True)
    agent_code: str | None = text("agentCode", "申报企业代码", (1, 18), optional=True)
    ebp_code: str | None = text("ebpCode", "电商平台代码", (1, 18), optional=True)
    ebc_code: str | None = text("ebcCode", "电商企业代码", (1, 18), optional=True)
    cop_no: str = text("copNo", "企业内部编号", (1, 20))
    pre_no: str = text("preNo", "预录入编号", 18)
    invt_no: str | None = text("invtNo", "清单编号", 18, optional=True)
    return_status: str = text("returnStatus", "回执状态", (1, 10))
    return_time: datetime = timestamp_ms("returnTime", "回执时间")
    return_info: str = text("returnInfo", "回执信息", (1, 1000))


@attrs.frozen(kw_only=True)
class CEB623Message(DeclarationMessage):
    """CEB623Message 撤销申请单数据报文 (电商企业或其代理人). Must be signed; no wrapper element."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("CEB623Message", "撤销申请单数据报文")
    __body__: ClassVar[str] = "cancels"
    SIGNATURE_REQUIRED: ClassVar[bool] = True

    cancels: tuple[InvtCancel, ...] = children("InvtCancel", "撤销申请单", InvtCancel, max_occurs=100)


@attrs.frozen(kw_only=True)
class CEB624Message(ReceiptMessage):
    """CEB624Message 撤销申请单回执报文."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("CEB624Message", "撤销申请单回执报文")
    __body__: ClassVar[str] = "returns"

    returns: tuple[InvtCancelReturn, ...] = children(
        "InvtCancelReturn", "撤销申请单回执", InvtCancelReturn, max_occurs=100
    )
