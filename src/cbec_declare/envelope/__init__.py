"""The DXP envelope: wrap signed CEB messages for the exchange, unwrap what comes back.

``wrap`` writes a ``DxpMsg`` (终端节点报文); ``unwrap`` reads a ``DxpMsg`` or a ``DxpMsgSv`` around one;
``parse_dxp_reply`` reads the exchange platform's ``DxpRep``.
"""

from .dxp import (
    CHINA_TIME,
    EXPORT_RECEIVER,
    IMPORT_RECEIVER,
    AddInfo,
    SvNo,
    TransInfo,
    Unwrapped,
    unwrap,
    wrap,
)
from .reply import DXP_RESPONSE_CODES, DxpReply, DxpResponse, DxpResult, code_meaning, parse_dxp_reply

__all__ = [
    "CHINA_TIME",
    "DXP_RESPONSE_CODES",
    "EXPORT_RECEIVER",
    "IMPORT_RECEIVER",
    "AddInfo",
    "DxpReply",
    "DxpResponse",
    "DxpResult",
    "SvNo",
    "TransInfo",
    "Unwrapped",
    "code_meaning",
    "parse_dxp_reply",
    "unwrap",
    "wrap",
]
