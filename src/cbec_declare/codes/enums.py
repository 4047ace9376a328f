"""Enumerations of the spec's code fields (messages.md §4.1).

Members are ``str`` enums, so ``AppType.NEW == "1"``; models store the plain value.
"""

from __future__ import annotations

import enum

__all__ = [
    "AppStatus",
    "AppType",
    "DxpMode",
    "IdType",
    "IeFlag",
    "LogisticsSignStatus",
    "OrderType",
    "SpecVersion",
    "SubscribeStatus",
    "TaxBillStatus",
    "TradeMode",
]


class SpecVersion(str, enum.Enum):
    """The two published packages of the 统一版 import spec."""

    V2018_113 = "2018-113"  # 海关总署公告2018年第113号
    V2022_05 = "2022-05"  # 202205版 (adds SM2/SM3 signatures)

    @classmethod
    def coerce(cls, value: SpecVersion | str) -> SpecVersion:
        if isinstance(value, SpecVersion):
            return value
        # A dict lookup: iterating the enum costs microseconds, and every validation calls this.
        member = _SPEC_VERSIONS.get(value) if isinstance(value, str) else None
        if member is not None:
            return member
        from ..errors import ConfigError

        raise ConfigError(
            f"unknown spec version {value!r}; expected one of {', '.join(m.value for m in cls)}",
            code="config.version",
        )


_SPEC_VERSIONS: dict[str, SpecVersion] = {
    text: member for member in SpecVersion for text in (member.value, member.name)
}


class AppType(str, enum.Enum):
    """报送类型."""

    NEW = "1"  # 新增
    MODIFY = "2"  # 变更
    DELETE = "3"  # 删除


class AppStatus(str, enum.Enum):
    """业务状态. With ``DECLARE`` the message must carry a Signature."""

    SAVE = "1"  # 暂存
    DECLARE = "2"  # 申报


class OrderType(str, enum.Enum):
    IMPORT = "I"  # 进口


class IeFlag(str, enum.Enum):
    IMPORT = "I"
    EXPORT = "E"


class IdType(str, enum.Enum):
    """订购人/支付人证件类型; the import spec limits it to 身份证."""

    ID_CARD = "1"
    OTHER = "2"


class TradeMode(str, enum.Enum):
    DIRECT_IMPORT = "9610"  # 直购进口
    BONDED_IMPORT = "1210"  # 保税进口


class LogisticsSignStatus(str, enum.Enum):
    SIGNED = "S"  # 签收 (the only value the spec allows; the official sample uses "R")


class TaxBillStatus(str, enum.Enum):
    GENERATED = "1"  # 已生成
    SUMMARISED = "2"  # 已汇总
    VOID = "3"  # 作废


class SubscribeStatus(str, enum.Enum):
    ALL = "ALL"
    DATA = "DATA"
    RECEIPTS = "RET"


class DxpMode(str, enum.Enum):
    DXP = "DXP"
