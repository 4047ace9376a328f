"""Code-value checks (messages.md §4.1): ``rule.codes.*``, and ``packNo`` (``rule.<family>.pack_no``).

Severity follows the strength of the source. Values the spec fixes or enumerates in full (currency 142,
appType, appStatus, orderType I, ieFlag I, tradeMode, idType) are errors when wrong. Code lists that
exist only in secondary or partial form (trafMode, wrapType, BaseSubscribe status, dxpMode) give
warnings, so that a missing entry never blocks a valid declaration (messages.md §10). Codes whose list
is missing but whose shape is certain (JGS-20 units: 3 digits; 关区: 4 digits; HS 商品编码: 10 digits)
are checked for shape only, as errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...codes import (
    APP_STATUSES,
    APP_TYPES,
    CURRENCY_CNY,
    ID_TYPES,
    SUBSCRIBE_STATUSES,
    TRADE_MODES,
    TRAF_MODES,
    SpecVersion,
)
from ...models import BaseSubscribe, InventoryHead, InvtCancel
from ._base import ERROR, WARNING, FieldCheck, Issues
from .context import RuleContext

__all__ = ["CHECKS"]


def _digits(value: str, length: int) -> bool:
    return len(value) == length and value.isascii() and value.isdigit()


def _app_type(value: str, entity: Any, ctx: RuleContext) -> Issues:
    if value not in APP_TYPES:
        return (("rule.codes.app_type", f"{value!r} is not an appType (1 新增, 2 变更, 3 删除)", ERROR),)
    if isinstance(entity, InvtCancel) and value != "1":
        return (
            ("rule.codes.app_type", f"CEB623 撤销申请单 accepts only appType 1 (新增), got {value!r}", ERROR),
        )
    return ()


def _app_status(value: str, entity: Any, ctx: RuleContext) -> Issues:
    if value not in APP_STATUSES:
        return (("rule.codes.app_status", f"{value!r} is not an appStatus (1 暂存, 2 申报)", ERROR),)
    return ()


def _currency(value: str, entity: Any, ctx: RuleContext) -> Issues:
    if value != CURRENCY_CNY:
        return (
            (
                "rule.codes.currency",
                f"import declarations are in 人民币: currency must be 142, got {value!r}",
                ERROR,
            ),
        )
    return ()


def _order_type(value: str, entity: Any, ctx: RuleContext) -> Issues:
    if value != "I":
        return (("rule.codes.order_type", f"orderType must be I (进口), got {value!r}", ERROR),)
    return ()


def _ie_flag(value: str, entity: Any, ctx: RuleContext) -> Issues:
    if value != "I":
        return (("rule.codes.ie_flag", f"import messages carry ieFlag I (进口), got {value!r}", ERROR),)
    return ()


def _id_type(value: str, entity: Any, ctx: RuleContext) -> Issues:
    if value not in ID_TYPES:
        return (("rule.codes.id_type", f"{value!r} is not an ID type (1 身份证, 2 其它)", ERROR),)
    if value != "1":
        # The XSD documents 2 其它, the spec text says "限定为身份证": customs may refuse it.
        return (
            (
                "rule.codes.id_type",
                'the spec limits the ID type to 1 身份证 ("限定为身份证，填写1")',
                WARNING,
            ),
        )
    return ()


def _logistics_status(value: str, entity: Any, ctx: RuleContext) -> Issues:
    if value != "S":
        # Warning only: the official CEB513 sample itself uses R.
        return (
            (
                "rule.codes.logistics_status",
                f'the spec limits logisticsStatus to S 签收 ("限定S"), got {value!r}',
                WARNING,
            ),
        )
    return ()


def _country(value: str, entity: Any, ctx: RuleContext) -> Issues:
    if _digits(value, 3):
        return ()
    if len(value) == 3 and value.isascii() and value.isalpha():
        return (
            (
                "rule.codes.country",
                f"{value!r} looks like an ISO 3166 letter code; the spec asks for the 3-digit JGS-20 "
                "国别(地区)代码 (e.g. 142 中国)",
                WARNING,
            ),
        )
    return (("rule.codes.country", f"{value!r} is not a 3-digit JGS-20 国别(地区)代码", ERROR),)


def _trade_country(value: str, entity: Any, ctx: RuleContext) -> Issues:
    # The 2022-05 XSD relaxed the length to 1..3; the code stays numeric.
    if ctx.version is SpecVersion.V2022_05 and 1 <= len(value) <= 3 and value.isascii() and value.isdigit():
        return ()
    return _country(value, entity, ctx)


def _unit(value: str, entity: Any, ctx: RuleContext) -> Issues:
    if not _digits(value, 3):
        return (
            (
                "rule.codes.unit",
                f"{value!r} is not a 3-digit JGS-20 计量单位代码 (e.g. 007 个, 035 千克)",
                ERROR,
            ),
        )
    return ()


def _customs_code(value: str, entity: Any, ctx: RuleContext) -> Issues:
    if not _digits(value, 4):
        return (("rule.codes.customs_code", f"{value!r} is not a 4-digit 关区代码 (JGS/T 18)", ERROR),)
    return ()


def _gcode(value: str, entity: Any, ctx: RuleContext) -> Issues:
    if not _digits(value, 10):
        return (
            (
                "rule.codes.gcode",
                f"{value!r} is not a 10-digit 商品编码 (8-digit 税则号列 + 2-digit 附加编号)",
                ERROR,
            ),
        )
    return ()


def _trade_mode(value: str, entity: Any, ctx: RuleContext) -> Issues:
    if value not in TRADE_MODES:
        return (
            (
                "rule.codes.trade_mode",
                f"tradeMode must be 9610 (直购进口) or 1210 (保税进口), got {value!r}",
                ERROR,
            ),
        )
    return ()


def _traf_mode(value: str, entity: Any, ctx: RuleContext) -> Issues:
    if value not in TRAF_MODES:
        return (
            (
                "rule.codes.traf_mode",
                f"{value!r} is not in the JGS-20 运输方式 table this library knows (secondary sources; "
                "check the code)",
                WARNING,
            ),
        )
    return ()


def _wrap_type(value: str, entity: Any, ctx: RuleContext) -> Issues:
    if not _digits(value, 1):
        return (("rule.codes.wrap_type", f"the spec describes wrapType as 1 digit, got {value!r}", WARNING),)
    return ()


def _district(value: str, entity: Any, ctx: RuleContext) -> Issues:
    if not _digits(value, 6):
        return (("rule.codes.district", f"{value!r} is not a 6-digit 行政区划代码", WARNING),)
    return ()


def _dxp_mode(value: str, entity: Any, ctx: RuleContext) -> Issues:
    if value != "DXP":
        return (
            (
                "rule.codes.dxp_mode",
                f"dxpMode is DXP (中国电子口岸数据交换平台) in every known exchange, got {value!r}",
                WARNING,
            ),
        )
    return ()


def _subscribe_status(value: str, entity: Any, ctx: RuleContext) -> Issues:
    if isinstance(entity, BaseSubscribe) and value not in SUBSCRIBE_STATUSES:
        return (
            (
                "rule.codes.subscribe_status",
                f"BaseSubscribe status is ALL, DATA or RET, got {value!r}",
                WARNING,
            ),
        )
    return ()


def _pack_no(value: int, entity: Any, ctx: RuleContext) -> Issues:
    family = "inventory" if isinstance(entity, InventoryHead) else "logistics"
    if value < 1:
        return (
            (f"rule.{family}.pack_no", f"packNo counts parcels and must be at least 1, got {value}", ERROR),
        )
    if value != 1:
        # The spec says "限定为1", but the XSD allows any count, the official samples use 6000, and no
        # customs error code is documented for it: a warning, not a block.
        return (
            (
                f"rule.{family}.pack_no",
                f'the spec limits packNo to 1 parcel per waybill ("限定为1"), got {value}',
                WARNING,
            ),
        )
    return ()


def _guid(value: str, entity: Any, ctx: RuleContext) -> Issues:
    if value != value.upper():
        return (
            (
                "rule.codes.guid_case",
                'the spec asks for upper-case letters in guid ("英文字母大写")',
                WARNING,
            ),
        )
    return ()


CHECKS: Mapping[str, tuple[FieldCheck, ...]] = {
    "guid": (_guid,),
    "appType": (_app_type,),
    "appStatus": (_app_status,),
    "currency": (_currency,),
    "orderType": (_order_type,),
    "ieFlag": (_ie_flag,),
    "buyerIdType": (_id_type,),
    "payerIdType": (_id_type,),
    "logisticsStatus": (_logistics_status,),
    "country": (_country,),
    "tradeCountry": (_trade_country,),
    "unit": (_unit,),
    "unit1": (_unit,),
    "unit2": (_unit,),
    "customsCode": (_customs_code,),
    "portCode": (_customs_code,),
    "gcode": (_gcode,),
    "tradeMode": (_trade_mode,),
    "trafMode": (_traf_mode,),
    "wrapType": (_wrap_type,),
    "consigneeDistrict": (_district,),
    "dxpMode": (_dxp_mode,),
    "status": (_subscribe_status,),
    "packNo": (_pack_no,),
}
