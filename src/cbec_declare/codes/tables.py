"""Value tables of the spec's code fields (messages.md §4.1), as data.

Each table maps a code to a :class:`CodeEntry` (Chinese and English meaning, and where the fact comes
from). ``authoritative`` says whether the table is complete per the official spec: validation treats a
value missing from an authoritative table as an error, and a value missing from a partial or
secondary table only as a warning (messages.md §10: a missing entry must never block a valid
declaration).

Personal purchase limits are policy, not spec: they are kept here with their source so that the
rules read one number, and :class:`~cbec_declare.validation.RuleOptions` can override them.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Final

import attrs

__all__ = [
    "ANNUAL_LIMIT_CNY",
    "APP_STATUSES",
    "APP_TYPES",
    "CURRENCY_CNY",
    "ID_TYPES",
    "IE_FLAGS",
    "LOGISTICS_STATUSES",
    "ORDER_TYPES",
    "SINGLE_TRANSACTION_LIMIT_CNY",
    "SUBSCRIBE_STATUSES",
    "TAX_BILL_STATUSES",
    "TRADE_MODES",
    "TRAF_MODES",
    "CodeEntry",
    "CodeTable",
]


@attrs.frozen
class CodeEntry:
    """One code value and what it means."""

    code: str
    zh: str
    en: str
    #: where the fact comes from: "XSD", "SPEC", "SPEC22", "CODE" (secondary), ...
    source: str = "XSD+SPEC"
    note: str = ""


@attrs.frozen
class CodeTable:
    """A code list for one or more fields; ``authoritative`` = complete per the official spec."""

    name: str
    zh: str
    entries: Mapping[str, CodeEntry]
    authoritative: bool = True

    def __contains__(self, code: object) -> bool:
        return code in self.entries

    def get(self, code: str) -> CodeEntry | None:
        return self.entries.get(code)

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(self.entries)


def _table(name: str, zh: str, *entries: CodeEntry, authoritative: bool = True) -> CodeTable:
    return CodeTable(name, zh, MappingProxyType({e.code: e for e in entries}), authoritative)


#: 币制: import declarations are in 人民币 only (XSD ``fixed="142"``).
CURRENCY_CNY: Final = "142"

APP_TYPES: Final = _table(
    "appType",
    "报送类型",
    CodeEntry("1", "新增", "new"),
    CodeEntry("2", "变更", "modify"),
    CodeEntry("3", "删除", "delete"),
)

APP_STATUSES: Final = _table(
    "appStatus",
    "业务状态",
    CodeEntry("1", "暂存", "save only (not declared)"),
    CodeEntry("2", "申报", "declare (Signature required)"),
)

ORDER_TYPES: Final = _table("orderType", "订单类型", CodeEntry("I", "进口", "import"))

IE_FLAGS: Final = _table(
    "ieFlag",
    "进出口标记",
    CodeEntry("I", "进口", "import"),
    CodeEntry("E", "出口", "export", note="not valid in the import messages this library declares"),
)

ID_TYPES: Final = _table(
    "idType",
    "证件类型",
    CodeEntry("1", "身份证", "resident identity card"),
    CodeEntry("2", "其它", "other", note='the spec limits import buyers and payers to 1 ("限定为身份证")'),
)

TRADE_MODES: Final = _table(
    "tradeMode",
    "贸易方式",
    CodeEntry("9610", "直购进口", "direct purchase import", source="SPEC"),
    CodeEntry("1210", "保税进口", "bonded import", source="SPEC"),
)

LOGISTICS_STATUSES: Final = _table(
    "logisticsStatus",
    "物流签收状态",
    CodeEntry("S", "签收", "signed for", source="SPEC", note='"限定S"; the official CEB513 sample uses R'),
)

TAX_BILL_STATUSES: Final = _table(
    "status",
    "税单状态",
    CodeEntry("1", "已生成", "generated"),
    CodeEntry("2", "已汇总", "summarised"),
    CodeEntry("3", "作废", "void"),
)

SUBSCRIBE_STATUSES: Final = _table(
    "BaseSubscribe/status",
    "订阅状态",
    CodeEntry("ALL", "订阅数据和回执", "data and receipts", source="XSD"),
    CodeEntry("DATA", "只订阅数据", "data only", source="XSD"),
    CodeEntry("RET", "只订阅回执", "receipts only", source="XSD"),
)

# JGS-20 运输方式代码. No authoritative copy was found (messages.md §4.1, §10); several unrelated
# public code bases agree on these 17 values, so a value outside them is worth a warning, never an error.
TRAF_MODES: Final = _table(
    "trafMode",
    "运输方式",
    CodeEntry("0", "非保税区", "non-bonded area", source="CODE"),
    CodeEntry("1", "监管仓库", "supervised warehouse", source="CODE"),
    CodeEntry("2", "水路运输", "waterway", source="CODE"),
    CodeEntry("3", "铁路运输", "railway", source="CODE"),
    CodeEntry("4", "公路运输", "road", source="CODE"),
    CodeEntry("5", "航空运输", "air", source="CODE"),
    CodeEntry("6", "邮件运输", "post", source="CODE"),
    CodeEntry("7", "保税区", "bonded area", source="CODE"),
    CodeEntry("8", "保税仓库", "bonded warehouse", source="CODE"),
    CodeEntry("9", "其它运输", "other", source="CODE"),
    CodeEntry("A", "全部运输方式", "all modes", source="CODE"),
    CodeEntry("H", "边境特殊海关作业区", "border special customs operation zone", source="CODE"),
    CodeEntry("T", "综合实验区", "comprehensive pilot zone", source="CODE"),
    CodeEntry("W", "物流中心", "logistics centre", source="CODE"),
    CodeEntry("X", "物流园区", "logistics park", source="CODE"),
    CodeEntry("Y", "保税港区", "bonded port area", source="CODE"),
    CodeEntry("Z", "出口加工区", "export processing zone", source="CODE"),
    authoritative=False,
)

# 财政部 海关总署 税务总局公告 (财关税〔2018〕49号), in force since 2019-01-01: the retail import limits per
# transaction and per person per year (before 2019: 2000 and 20000). Exceeding them is not a format
# error; customs then taxes the goods as ordinary trade or rejects (-621005, -621018), so the rules warn.
SINGLE_TRANSACTION_LIMIT_CNY: Final = Decimal("5000")
ANNUAL_LIMIT_CNY: Final = Decimal("26000")
