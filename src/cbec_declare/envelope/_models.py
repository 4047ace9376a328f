"""The records the DXP envelope code hands out: routing data of a ``DxpMsg`` and its wrappers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Final

import attrs

__all__ = ["CHINA_TIME", "EXPORT_RECEIVER", "IMPORT_RECEIVER", "AddInfo", "SvNo", "TransInfo", "Unwrapped"]

#: Customs receiver for import messages (CEB3xx–7xx import) and sender of their receipts.
IMPORT_RECEIVER: Final = "DXPEDCCEB0000002"
#: Customs receiver for export messages.
EXPORT_RECEIVER: Final = "DXPEDCCEB0000003"
#: CreatTime carries no zone; customs reads it as Beijing time.
CHINA_TIME: Final = timezone(timedelta(hours=8), "CST")


@attrs.frozen
class TransInfo:
    """``TransInfo``: who sends what to whom. ``creat_time`` is naive when the text has no zone."""

    cop_msg_id: str
    sender_id: str
    receiver_ids: tuple[str, ...]
    creat_time: datetime
    msg_type: str


@attrs.frozen
class SvNo:
    """``SvNo`` of a node-to-node ``DxpMsgSv``."""

    msg_id: str
    sub_msg_id: str | None
    send_time: datetime
    end_node: str
    sta_node: str


@attrs.frozen
class AddInfo:
    """``AddInfo``: optional file name, IC card, business keys (name, value), text charset."""

    file_name: str | None = None
    ic_card: str | None = None
    biz_keys: tuple[tuple[str, str], ...] = ()
    is_text_encoding: str | None = None
    rec_map_id: str | None = None


@attrs.frozen
class Unwrapped:
    """An unwrapped envelope: the payload bytes (the CEB message) and the routing data."""

    payload: bytes = attrs.field(repr=lambda value: f"<{len(value)} bytes>")
    trans_info: TransInfo
    sv_no: SvNo | None = None
    add_info: AddInfo | None = None
    envelope_signed: bool = False


# -- wrap ----------------------------------------------------------------------------------------
