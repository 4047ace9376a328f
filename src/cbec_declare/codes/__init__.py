"""Code tables of the 统一版 spec: enumerations and receipt statuses (data, no logic above models)."""

from .enums import (
    AppStatus,
    AppType,
    DxpMode,
    IdType,
    IeFlag,
    LogisticsSignStatus,
    OrderType,
    SpecVersion,
    SubscribeStatus,
    TaxBillStatus,
    TradeMode,
)

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
