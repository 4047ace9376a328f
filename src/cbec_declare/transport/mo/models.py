"""attrs models of the ``<mo version="1.0.0">`` 杭州版 messages (Zhejiang e-port "newyork" platform).

Where the shapes come from (confidence as in ``spec/hangzhou-platform.md``):

* ``IMPORTORDER`` (:class:`ImportOrder`): every element of zjport's documentation example
  (``reference/samples/hangzhou/mo_IMPORTORDER_request.xml``) [H]. Element names keep the
  platform's spelling, typos included (``consigneeDitrict``, ``userProcotol``).
* ``PERSONAL_GOODS_DECLAR`` request (:class:`PersonalGoodsDeclar`): no official sample; the element
  list is one enterprise's JAXB beans and example (2015) [M]. The platform may know more fields.
* ``RESULT`` (:class:`ResultReceipt`) and the ``PERSONAL_GOODS_DECLAR`` 审单回执
  (:class:`PersonalGoodsDeclarReceipt`): the samples [H].
* Every other business type (``PRODUCT_RECORD``, ``IMPORTBILLRESULT``, ``TAXISNEED``, ...): no sample
  shows its fields, so it parses into :class:`MoGeneric`, which keeps the ``<body>`` as XML.

Widths are not enforced: the few known ones come from an enterprise database and clash with real
values (``businessType`` VARCHAR2(10) against ``PERSONAL_GOODS_DECLAR``). ``required`` marks what
:func:`~cbec_declare.transport.mo.build_mo` needs before writing a request; parsing is lenient.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

import attrs

from ._fields import mo_child, mo_children, mo_datetime, mo_text
from .common import MO_TIME_FORMAT, BusinessType, CebFlag, JkfSign
from .goods import GoodsDeclare, GoodsDeclareDetail, GoodsDeclareModule
from .order import JkfGoodsPurchaser, JkfOrderDetail, JkfOrderImportHead, OrderInfo

__all__ = [
    "MO_TIME_FORMAT",
    "BusinessType",
    "CebFlag",
    "GoodsDeclare",
    "GoodsDeclareDetail",
    "GoodsDeclareModule",
    "ImportOrder",
    "JkfGoodsDeclar",
    "JkfGoodsPurchaser",
    "JkfOrderDetail",
    "JkfOrderImportHead",
    "JkfResult",
    "JkfResultDetail",
    "JkfSign",
    "MoGeneric",
    "MoMessage",
    "OrderInfo",
    "PersonalGoodsDeclar",
    "PersonalGoodsDeclarReceipt",
    "ResultReceipt",
]


@attrs.frozen(kw_only=True)
class JkfResultDetail:
    """``jkfResultDetail``: one line of the result."""

    __mo__: ClassVar[str] = "jkfResultDetail"

    result_info: str | None = mo_text("resultInfo", "处理结果信息")


@attrs.frozen(kw_only=True)
class JkfResult:
    """``jkfResult``: the platform's processing result (入库回执) for one business document.

    ``chk_mark`` is ``"1"`` (accepted, 入库) or ``"2"`` (refused); ``details`` holds every
    ``resultList/jkfResultDetail`` (:attr:`result_info` gives their text). ``notice_date`` and
    ``notice_time`` stay text (``YYYY-MM-DD`` and ``HH:MM`` in the samples); :attr:`notice_at` reads
    them when it can.
    """

    __mo__: ClassVar[str] = "jkfResult"

    company_code: str | None = mo_text("companyCode", "企业备案编号")
    business_no: str | None = mo_text("businessNo", "业务编号")
    business_type: str | None = mo_text("businessType", "业务类型")
    declare_type: str | None = mo_text("declareType", "申报类型")
    chk_mark: str | None = mo_text("chkMark", "处理结果")
    notice_date: str | None = mo_text("noticeDate", "通知日期")
    notice_time: str | None = mo_text("noticeTime", "通知时间")
    note: str | None = mo_text("note", "备注")
    details: tuple[JkfResultDetail, ...] = mo_children(
        "jkfResultDetail", "处理结果明细", JkfResultDetail, wrapper="resultList", required=False
    )

    @property
    def result_info(self) -> tuple[str, ...]:
        """The ``resultInfo`` lines, in order."""
        return tuple(d.result_info for d in self.details if d.result_info is not None)

    @property
    def accepted(self) -> bool:
        return (self.chk_mark or "").strip() == "1"

    @property
    def notice_at(self) -> datetime | None:
        """``noticeDate`` + ``noticeTime`` as a naive Beijing datetime, or ``None`` if unreadable."""
        if not self.notice_date:
            return None
        text = f"{self.notice_date.strip()} {(self.notice_time or '00:00').strip()}"
        for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"):
            try:
                return datetime.strptime(text, fmt)
            except ValueError:
                continue
        return None


@attrs.frozen(kw_only=True)
class JkfGoodsDeclar:
    """``jkfGoodsDeclar`` 个人物品申报单审单结果 (approveResult 99 = 电子审单通过, 32 不接受申报, ...)."""

    __mo__: ClassVar[str] = "jkfGoodsDeclar"

    personal_goods_form_no: str | None = mo_text("personalGoodsFormNo", "个人物品申报单编号")
    approve_result: str | None = mo_text("approveResult", "审批结果")
    approve_comment: str | None = mo_text("approveComment", "审批意见")
    process_time: datetime | None = mo_datetime("processTime", "处理时间", "%Y%m%d%H%M%S")


# --------------------------------------------------------------------------- messages


@attrs.frozen(kw_only=True)
class MoMessage:
    """Base of every ``<mo>`` message: ``version`` is the root attribute (``1.0.0``)."""

    #: ``head/businessType``
    BUSINESS_TYPE: ClassVar[str]
    #: the first element under ``<body>`` that tells this message from others of the same type
    BODY_MARK: ClassVar[str]

    version: str = attrs.field(default="1.0.0", kw_only=True)

    @property
    def business_type(self) -> str:
        return self.BUSINESS_TYPE


@attrs.frozen(kw_only=True)
class ImportOrder(MoMessage):
    """``IMPORTORDER`` 进口订单 (request)."""

    BUSINESS_TYPE: ClassVar[str] = "IMPORTORDER"
    BODY_MARK: ClassVar[str] = "orderInfoList"

    orders: tuple[OrderInfo, ...] = mo_children("orderInfo", "订单", OrderInfo, wrapper="orderInfoList")


@attrs.frozen(kw_only=True)
class PersonalGoodsDeclar(MoMessage):
    """``PERSONAL_GOODS_DECLAR`` 个人物品申报单 (request) [M]."""

    BUSINESS_TYPE: ClassVar[str] = "PERSONAL_GOODS_DECLAR"
    BODY_MARK: ClassVar[str] = "goodsDeclareModuleList"

    modules: tuple[GoodsDeclareModule, ...] = mo_children(
        "goodsDeclareModule", "申报单", GoodsDeclareModule, wrapper="goodsDeclareModuleList"
    )


@attrs.frozen(kw_only=True)
class ResultReceipt(MoMessage):
    """``RESULT``: the synchronous answer of the SOAP services and the 入库回执 push."""

    BUSINESS_TYPE: ClassVar[str] = "RESULT"
    BODY_MARK: ClassVar[str] = "list"

    results: tuple[JkfResult, ...] = mo_children(
        "jkfResult", "处理结果", JkfResult, wrapper="list", required=False
    )

    @property
    def accepted(self) -> bool:
        """Every ``jkfResult`` says chkMark 1 (and there is at least one)."""
        return bool(self.results) and all(r.accepted for r in self.results)

    @property
    def messages(self) -> tuple[str, ...]:
        return tuple(line for r in self.results for line in r.result_info)


@attrs.frozen(kw_only=True)
class PersonalGoodsDeclarReceipt(MoMessage):
    """``PERSONAL_GOODS_DECLAR`` 审单回执 (push ``CUSTOMS_DECLARE_GOODS_CALLBACK``)."""

    BUSINESS_TYPE: ClassVar[str] = "PERSONAL_GOODS_DECLAR"
    BODY_MARK: ClassVar[str] = "jkfGoodsDeclar"

    sign: JkfSign | None = mo_child("jkfSign", "签名信息", JkfSign, required=False)
    result: JkfGoodsDeclar | None = mo_child("jkfGoodsDeclar", "审单结果", JkfGoodsDeclar, required=False)


@attrs.frozen(kw_only=True)
class MoGeneric(MoMessage):
    """Any other ``<mo>`` message: its ``businessType`` and the canonical XML of ``<body>``.

    Used for the business types whose fields no public sample shows; nothing is guessed.
    """

    BUSINESS_TYPE: ClassVar[str] = ""
    BODY_MARK: ClassVar[str] = ""

    type_name: str = attrs.field()
    body_xml: bytes = attrs.field(default=b"<body></body>")

    @property
    def business_type(self) -> str:
        return self.type_name
