"""CEB900 报文格式校验回执 (sent by the e-port when a message fails format checks)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

import attrs

from ._spec import EntitySpec, children, text, timestamp_ms
from .common import ReceiptMessage

__all__ = ["CEB900Message", "MessageReturn"]


@attrs.frozen(kw_only=True)
class MessageReturn:
    """报文格式校验回执实体 (``ceb:MessageReturn``)."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("MessageReturn", "报文格式校验回执实体")

    guid: str = text("guid", "系统唯一序号", 36)
    return_status: str = text("returnStatus", "回执状态", (1, 10))
    return_info: str = text("returnInfo", "回执详细信息", (0, 5000))
    return_time: datetime = timestamp_ms("returnTime", "操作时间")
    ori_cop_msg_id: str = text("oriCopMsgId", "原始传输报文的copMsgId", (0, 255))
    ori_message_type: str = text("oriMessageType", "原始报文类型", (0, 15))
    ori_biz_message: str = text("oriBizMessage", "原始报文内容", (0, 0))


@attrs.frozen(kw_only=True)
class CEB900Message(ReceiptMessage):
    """CEB900Message 报文格式校验回执报文: exactly one ``MessageReturn``."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("CEB900Message", "报文格式校验回执报文")
    __body__: ClassVar[str] = "returns"

    returns: tuple[MessageReturn, ...] = children(
        "MessageReturn", "报文格式校验回执", MessageReturn, max_occurs=1
    )
