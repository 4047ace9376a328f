"""Error codes of SPEC chapter 7: DXP platform codes (表7-1) and import business codes (表7-2).

Business codes are negative and arrive as a receipt's ``returnStatus``. messages.md transcribes only
the ranges and the representative codes named below; a code inside a known range but without a
transcribed text is described by its range ("订单处理异常"), never guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

import attrs

__all__ = [
    "BUSINESS_ERROR_CODES",
    "BUSINESS_ERROR_RANGES",
    "DXP_ERROR_CODES",
    "BusinessErrorRange",
    "ErrorCode",
    "describe_business_error",
    "describe_dxp_code",
]


@attrs.frozen
class ErrorCode:
    code: str
    zh: str
    en: str
    #: the document family the code belongs to ("订单", "清单", ... or "DXP")
    family: str = ""


@attrs.frozen
class BusinessErrorRange:
    """An inclusive range of negative business codes for one document family."""

    low: int
    high: int
    family: str
    en: str

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int) and self.low <= value <= self.high


def _codes(*entries: ErrorCode) -> Mapping[str, ErrorCode]:
    return MappingProxyType({e.code: e for e in entries})


#: 表7-1: DXP platform codes (``DxpRep/Response/ResponseCode`` and result codes). 4000–9999: user-defined.
DXP_ERROR_CODES: Final = _codes(
    ErrorCode("0001", "报文格式错误", "malformed message", "DXP"),
    ErrorCode("0002", "数据包不能通过schema验证", "data package fails schema validation", "DXP"),
    ErrorCode("0999", "其他格式错误", "other format error", "DXP"),
    ErrorCode("1001", "数字签名无效", "digital signature invalid", "DXP"),
    ErrorCode("1002", "数字签名过期", "digital signature expired", "DXP"),
    ErrorCode("1003", "报文解密错误", "message decryption error", "DXP"),
    ErrorCode("1004", "签名与数据不符", "signature does not match the data", "DXP"),
    ErrorCode("1999", "其他安全错误", "other security error", "DXP"),
    ErrorCode("2001", "指定的接收方不存在", "receiver does not exist", "DXP"),
    ErrorCode("2002", "地址不匹配", "address mismatch", "DXP"),
    ErrorCode("2999", "其他业务逻辑错误", "other business logic error", "DXP"),
    ErrorCode("3001", "数据库、中间件等系统错误", "database or middleware system error", "DXP"),
    ErrorCode("3002", "远程连接错误", "remote connection error", "DXP"),
    ErrorCode("3003", "远程连接超时", "remote connection timeout", "DXP"),
    ErrorCode("3999", "其他系统级错误", "other system error", "DXP"),
)

#: 表7-2 ranges (import side), per document family.
BUSINESS_ERROR_RANGES: Final = (
    BusinessErrorRange(-10102, -10101, "企业", "enterprise"),
    BusinessErrorRange(-301015, -301001, "订单", "order"),
    BusinessErrorRange(-401013, -401001, "支付单", "payment"),
    BusinessErrorRange(-504016, -504000, "运单", "waybill"),
    BusinessErrorRange(-505017, -505000, "运单状态", "waybill status"),
    BusinessErrorRange(-621030, -621000, "清单", "inventory"),
    BusinessErrorRange(-623029, -623000, "撤销申请单", "cancellation"),
    BusinessErrorRange(-625209, -625001, "退货申请单", "refund application"),
    BusinessErrorRange(-800006, -800000, "入库明细单", "delivery"),
)

#: 表7-2 codes whose text messages.md transcribes.
BUSINESS_ERROR_CODES: Final = _codes(
    ErrorCode("-10101", "无效企业类型", "invalid enterprise type", "企业"),
    ErrorCode("-10102", "无效企业代码", "invalid enterprise code", "企业"),
    ErrorCode("-301002", "订单商品信息内有重复商品序号", "duplicate gnum in the order items", "订单"),
    ErrorCode("-301008", "参数校验不通过", "parameter check failed", "订单"),
    ErrorCode("-301009", "appType不正确", "wrong appType", "订单"),
    ErrorCode("-301010", "已存在相同编号的订单", "an order with the same number exists", "订单"),
    ErrorCode("-301011", "已向海关申报清单状态不符", "inventory already declared; state mismatch", "订单"),
    ErrorCode("-301014", "旧报文数据不做处理", "older message data not processed", "订单"),
    ErrorCode("-301015", "报文表头数据超过限制", "too many heads in the message", "订单"),
    ErrorCode("-401007", "已存在相同编号的支付单", "a payment with the same number exists", "支付单"),
    ErrorCode("-401009", "参数校验不通过", "parameter check failed", "支付单"),
    ErrorCode("-504012", "物流运单已存在", "waybill already exists", "运单"),
    ErrorCode("-504013", "报文数量超过限制", "too many documents in the message", "运单"),
    ErrorCode("-621004", "已经申报过", "already declared", "清单"),
    ErrorCode("-621005", "购买金额超过单笔限额", "amount exceeds the single-transaction limit", "清单"),
    ErrorCode("-621018", "超过年度限额", "annual limit exceeded", "清单"),
    ErrorCode("-621027", "请确认表体gnum无重复", "duplicate gnum in the inventory items", "清单"),
    ErrorCode("-621028", "加签数据比对失败", "signed data comparison failed", "清单"),
    ErrorCode("-621029", "验签失败", "signature verification failed", "清单"),
    ErrorCode("-621030", "清单数据超过限制", "too much inventory data in the message", "清单"),
    ErrorCode("-623029", "验签失败", "signature verification failed", "撤销申请单"),
    ErrorCode("-625005", "验签失败", "signature verification failed", "退货申请单"),
    ErrorCode(
        "-625013",
        "与证书中的申报单位代码/名称不一致",
        "declarant code/name differs from the certificate",
        "退货申请单",
    ),
)


def describe_dxp_code(code: str) -> ErrorCode | None:
    """The meaning of a DXP response code, or None; 4000–9999 are user-extensible."""
    known = DXP_ERROR_CODES.get(code)
    if known is not None:
        return known
    if len(code) == 4 and code.isdigit() and 4000 <= int(code) <= 9999:
        return ErrorCode(code, "用户可扩展错误", "user-defined error", "DXP")
    return None


def describe_business_error(code: str) -> ErrorCode | None:
    """The meaning of a negative business code: its transcribed text, else its range, else None."""
    known = BUSINESS_ERROR_CODES.get(code)
    if known is not None:
        return known
    try:
        value = int(code)
    except ValueError:
        return None
    for span in BUSINESS_ERROR_RANGES:
        if value in span:
            return ErrorCode(code, f"{span.family}处理异常", f"{span.en} processing error", span.family)
    return None
