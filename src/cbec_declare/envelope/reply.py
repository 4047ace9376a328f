"""``DxpRep``: the exchange platform's answer to an envelope, with the SPEC §7 code meanings.

The codes (表7-1) are four digits: 0001–0999 format errors, 1xxx security (signature) errors,
2xxx business routing errors, 3xxx system errors, 4000–9999 left to users. The spec lists no
success code; an all-zero code (``0``, ``0000``) is read as success [L, inference].
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import Final

import attrs
from lxml import etree

from .._xml import DEFAULT_MAX_BYTES, DXP_NS, parse_untrusted
from ..errors import EnvelopeError
from ._models import TransInfo
from ._read import Reader, read_trans_info

__all__ = ["DXP_RESPONSE_CODES", "DxpReply", "DxpResponse", "DxpResult", "code_meaning", "parse_dxp_reply"]

#: SPEC table 7-1, code → meaning (Chinese as published).
DXP_RESPONSE_CODES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "0001": "报文格式错误",
        "0002": "数据包不能通过schema验证",
        "0999": "其他格式错误",
        "1001": "数字签名无效",
        "1002": "数字签名过期",
        "1003": "报文解密错误",
        "1004": "签名与数据不符",
        "1999": "其他安全错误",
        "2001": "指定的接收方不存在",
        "2002": "地址不匹配",
        "2999": "其他业务逻辑错误",
        "3001": "数据库、中间件等系统错误",
        "3002": "远程连接错误",
        "3003": "远程连接超时",
        "3999": "其他系统级错误",
    }
)
_RANGES: Final = (
    (1, 999, "format", "格式错误"),
    (1000, 1999, "security", "安全错误"),
    (2000, 2999, "business", "业务逻辑错误"),
    (3000, 3999, "system", "系统级错误"),
    (4000, 9999, "user", "用户可扩展"),
)


def _is_success(code: str) -> bool:
    return code.isdigit() and int(code) == 0


def code_meaning(code: str) -> tuple[str, str]:
    """``(category, meaning)`` of a DxpRep code: category is ``ok``, ``format``, ``security``,
    ``business``, ``system``, ``user`` or ``unknown``."""
    if _is_success(code):
        return "ok", "成功"
    if not code.isdigit():
        return "unknown", "未知代码"
    number = int(code)
    for low, high, category, general in _RANGES:
        if low <= number <= high:
            return category, DXP_RESPONSE_CODES.get(code.zfill(4), general)
    return "unknown", "未知代码"


@attrs.frozen
class DxpResult:
    """One receiver's outcome (``Results/Result``)."""

    rec_id: str
    code: str
    info: str | None = None
    note: str | None = None

    @property
    def ok(self) -> bool:
        return _is_success(self.code)


@attrs.frozen
class DxpResponse:
    """One ``Response`` of a ``DxpRep``."""

    code: str
    info: str | None
    results: tuple[DxpResult, ...]
    notice_time: date | None
    notice_time_text: str
    note: str | None
    ori_head: TransInfo
    node_id: str | None = None

    @property
    def ok(self) -> bool:
        return _is_success(self.code) and all(result.ok for result in self.results)

    @property
    def category(self) -> str:
        return code_meaning(self.code)[0]

    @property
    def meaning(self) -> str:
        return code_meaning(self.code)[1]


@attrs.frozen
class DxpReply:
    """A parsed ``DxpRep``. ``ok`` when every response (and every per-receiver result) succeeded."""

    receiver_id: str
    responses: tuple[DxpResponse, ...]
    ad_node_id: str | None = None

    @property
    def ok(self) -> bool:
        return all(response.ok for response in self.responses)

    @property
    def code(self) -> str:
        """The first response's code (a DxpRep nearly always has exactly one)."""
        return self.responses[0].code

    @property
    def meaning(self) -> str:
        return self.responses[0].meaning


def _date(text: str, path: str) -> date | None:
    # xs:date, but servers also write a full date-time; the date part is what the XSD promises.
    head = text.strip()[:10]
    try:
        return date.fromisoformat(head)
    except ValueError:
        raise EnvelopeError(f"{text!r} is not an xs:date", code="envelope.date", field=path) from None


def _response(element: etree._Element, path: str) -> DxpResponse:
    allowed = frozenset(
        {"NodeId", "ResponseCode", "ResponseInfo", "Results", "NoticeTime", "Note", "OriHead"}
    )
    r = Reader(element, path, allowed)
    results: list[DxpResult] = []
    holder = r.element("Results", required=False)
    if holder is not None:
        for index, node in enumerate(Reader(holder, f"{path}/Results", frozenset({"Result"})).many("Result")):
            item = Reader(
                node, f"{path}/Results/Result[{index}]", frozenset({"RecId", "Code", "Info", "Note"})
            )
            results.append(
                DxpResult(
                    rec_id=item.text("RecId") or "",
                    code=item.text("Code") or "",
                    info=item.text("Info", required=False),
                    note=item.text("Note", required=False),
                )
            )
    code = r.text("ResponseCode") or ""
    if not code:
        raise EnvelopeError("is empty", code="envelope.structure", field=f"{path}/ResponseCode")
    notice = r.text("NoticeTime") or ""
    head = r.element("OriHead")
    assert head is not None
    return DxpResponse(
        code=code,
        info=r.text("ResponseInfo", required=False),
        results=tuple(results),
        notice_time=_date(notice, f"{path}/NoticeTime") if notice else None,
        notice_time_text=notice,
        note=r.text("Note", required=False),
        ori_head=read_trans_info(head, f"{path}/OriHead"),
        node_id=r.text("NodeId", required=False),
    )


def parse_dxp_reply(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> DxpReply:
    """Parse a ``DxpRep`` (``dxp:`` prefix or default namespace) into a :class:`DxpReply`."""
    root = parse_untrusted(data, max_bytes=max_bytes, what="DxpRep")
    qname = etree.QName(root)
    if qname.namespace != DXP_NS or qname.localname != "DxpRep":
        raise EnvelopeError(
            f"expected {{{DXP_NS}}}DxpRep, got {root.tag}", code="envelope.root", field=qname.localname
        )
    r = Reader(root, "DxpRep", frozenset({"RecevierId", "AdNodeId", "Response"}))
    responses = tuple(_response(node, f"DxpRep/Response[{i}]") for i, node in enumerate(r.many("Response")))
    if not responses:
        raise EnvelopeError("is missing", code="envelope.structure", field="DxpRep/Response")
    return DxpReply(
        receiver_id=r.text("RecevierId") or "",
        responses=responses,
        ad_node_id=r.text("AdNodeId", required=False),
    )
