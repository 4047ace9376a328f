"""Shared ``<mo>`` pieces: business types, the 一单多报 flag, ``jkfSign`` and the date format."""

from __future__ import annotations

import enum
from typing import ClassVar

import attrs

from ._fields import mo_text

__all__ = ["MO_TIME_FORMAT", "BusinessType", "CebFlag", "JkfSign"]

#: How ``<mo>`` requests write date-times (``tradeTime``, ``inOutDateStr``) [H, the samples].
MO_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


class BusinessType(str, enum.Enum):
    """``head/businessType`` (= the SOAP ``msgType``), from zjport's ``HzPortBusinessType`` enum [H]."""

    PRODUCT_RECORD = "PRODUCT_RECORD"
    IMPORTORDER = "IMPORTORDER"
    PAYMENT = "PAYMENT"
    PAYBILL_DECLAR = "PAYBILL_DECLAR"
    PAYBILL_REDECLAR = "PAYBILL_REDECLAR"
    PAYBILL_QUERY = "PAYBILL_QUERY"
    PERSONAL_GOODS_DECLAR = "PERSONAL_GOODS_DECLAR"
    IMPORTBILL = "IMPORTBILL"
    IMPORTBILLRESULT = "IMPORTBILLRESULT"
    LOGISTICS_INFO = "LOGISTICS_INFO"
    RESULT = "RESULT"
    IMPORT_COMPANY = "IMPORT_COMPANY"
    CHECKRESULT = "CHECKRESULT"
    TAXISNEED = "TAXISNEED"
    IMPORT_ORDER_RETURN = "IMPORT_ORDER_RETURN"
    MODIFY_CANCEL = "MODIFY_CANCEL"


class CebFlag(str, enum.Enum):
    """``jkfSign/cebFlag``, the 一单多报 switch [H]."""

    HANGZHOU_ONLY = "01"  # 杭州版 only (also when empty)
    ENTERPRISE_CEB = "02"  # the enterprise sends the 总署 CEB message itself
    EPORT_CEB = "03"  # 委托电子口岸生成总署报文


# --------------------------------------------------------------------------- shared


@attrs.frozen(kw_only=True)
class JkfSign:
    """``jkfSign``: who sends which business document."""

    __mo__: ClassVar[str] = "jkfSign"

    company_code: str | None = mo_text("companyCode", "发送方备案编号", required=True)
    business_no: str | None = mo_text("businessNo", "业务编码", required=True)
    business_type: str | None = mo_text("businessType", "业务类型")
    declare_type: str | None = mo_text("declareType", "申报类型")
    ceb_flag: str | None = mo_text("cebFlag", "一单多报标志")
    note: str | None = mo_text("note", "备注")
