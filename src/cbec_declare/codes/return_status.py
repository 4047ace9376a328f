"""Receipt ``returnStatus`` codes per receipt type, as data: meaning, finality, outcome and order.

Sources: the SPEC tables 3-7 … 3-56 (messages.md §4.2, signature-dxp-179-receipts.md §D.2) and the
official XSD's own documentation of each ``returnStatus`` element. They differ for the 三单 receipts:
the SPEC lists 2/3/4/100/120 for CEB312/412/512/514, the XSD documentation adds 399 海关审结 (and drops
120 for CEB514). A code either source names is *known* here; ``StatusInfo.source`` says which.

Finality (``final``: the outcome is settled; no later receipt turns it around):

* 100 海关退单 and every negative code (处理异常, SPEC §7 表7-2) are final failures on every type.
* 4 发送海关失败 is a final failure: the e-port could not hand the document to customs and no later
  receipt is documented to follow; the remedy is to declare again (a new document lifecycle).
* CEB312/412/512/514 (三单): 120 海关入库 is the final success (customs stored the document; the 三单
  have no further customs processing). 399 海关审结, documented by the XSD only, is a later final success.
* CEB622 (进口清单): 120 入库, 300 人工审核, 399 审结 and the holds 500 查验, 501–503 扣留移送, 599 其它扣留
  are steps, not ends — customs goes on to release or return the goods. 800 放行 is the final success;
  899 结关 is a later final success; 700 退运 (goods returned abroad) is a final failure.
* CEB624/626/712 (撤销, 退货, 入库明细): 399 海关审结 is the final success; 120 is a step.
* CEB900 (报文格式校验回执) carries only negative codes (报文格式校验异常): final failures.
* 1 电子口岸已暂存 answers ``appStatus=1``: the document rests at the e-port until declared; not final.

``rank`` orders the statuses of one receipt type so that a document never moves backwards when
receipts arrive out of order (2 after 120, 800 after 899): see :func:`supersedes`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, TypeAlias

import attrs

from ..errors import ConfigError
from .error_codes import describe_business_error

__all__ = [
    "DECLARATION_RECEIPTS",
    "RECEIPT_STATUS_TABLE",
    "RECEIPT_TYPES",
    "ReceiptStatus",
    "StatusInfo",
    "describe_status",
    "normalize_message_type",
    "statuses_for",
    "supersedes",
]


class ReceiptStatus(str, enum.Enum):
    """The positive ``returnStatus`` values of the import receipts."""

    SAVED = "1"  # 电子口岸已暂存
    DECLARING = "2"  # 电子口岸申报中
    SENT_TO_CUSTOMS = "3"  # 发送海关成功
    SEND_FAILED = "4"  # 发送海关失败
    REJECTED = "100"  # 海关退单
    CUSTOMS_ACCEPTED = "120"  # 海关入库
    MANUAL_REVIEW = "300"  # 人工审核
    REVIEWED = "399"  # 海关审结
    INSPECTION = "500"  # 查验
    DETAINED_FOR_CLEARANCE = "501"  # 扣留移送通关
    DETAINED_FOR_ANTI_SMUGGLING = "502"  # 扣留移送缉私
    DETAINED_FOR_LEGAL = "503"  # 扣留移送法规
    DETAINED_OTHER = "599"  # 其它扣留
    RETURNED = "700"  # 退运
    RELEASED = "800"  # 放行
    CONCLUDED = "899"  # 结关


_MEANING: Final[Mapping[ReceiptStatus, tuple[str, str]]] = {
    ReceiptStatus.SAVED: ("电子口岸已暂存", "saved at the e-port, not declared"),
    ReceiptStatus.DECLARING: ("电子口岸申报中", "being declared by the e-port"),
    ReceiptStatus.SENT_TO_CUSTOMS: ("发送海关成功", "sent to customs"),
    ReceiptStatus.SEND_FAILED: ("发送海关失败", "sending to customs failed"),
    ReceiptStatus.REJECTED: ("海关退单", "rejected by customs"),
    ReceiptStatus.CUSTOMS_ACCEPTED: ("海关入库", "stored by customs"),
    ReceiptStatus.MANUAL_REVIEW: ("人工审核", "manual review"),
    ReceiptStatus.REVIEWED: ("海关审结", "customs review concluded"),
    ReceiptStatus.INSPECTION: ("查验", "held for inspection"),
    ReceiptStatus.DETAINED_FOR_CLEARANCE: ("扣留移送通关", "detained, referred to clearance"),
    ReceiptStatus.DETAINED_FOR_ANTI_SMUGGLING: ("扣留移送缉私", "detained, referred to anti-smuggling"),
    ReceiptStatus.DETAINED_FOR_LEGAL: ("扣留移送法规", "detained, referred to the legal department"),
    ReceiptStatus.DETAINED_OTHER: ("其它扣留", "detained, other"),
    ReceiptStatus.RETURNED: ("退运", "returned abroad"),
    ReceiptStatus.RELEASED: ("放行", "released"),
    ReceiptStatus.CONCLUDED: ("结关", "clearance concluded"),
}


@attrs.frozen
class StatusInfo:
    """What one ``returnStatus`` means for one receipt type.

    ``known``: the code is listed for this type (negative codes always are). ``error``: a processing
    error (negative code). ``final``: the outcome is settled. ``success``: final and accepted.
    ``rank``: position in the lifecycle, higher is later; -1 when unknown.
    """

    message_type: str
    status: str
    zh: str
    en: str
    known: bool
    final: bool = False
    success: bool = False
    error: bool = False
    rank: int = -1
    member: ReceiptStatus | None = None
    source: str = ""

    @property
    def failure(self) -> bool:
        """Final, and not a success (退单, 发送失败, 退运, processing errors)."""
        return self.final and not self.success


#: receipt type for each declaration type
DECLARATION_RECEIPTS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "CEB311Message": "CEB312Message",
        "CEB411Message": "CEB412Message",
        "CEB511Message": "CEB512Message",
        "CEB513Message": "CEB514Message",
        "CEB621Message": "CEB622Message",
        "CEB623Message": "CEB624Message",
        "CEB625Message": "CEB626Message",
        "CEB711Message": "CEB712Message",
    }
)
RECEIPT_TYPES: Final = (*DECLARATION_RECEIPTS.values(), "CEB900Message")

# Ranks: steps climb in lifecycle order; finals sit above every step, so a final always replaces a
# step and a late step never replaces a final. 899 after 800 and 399 after 120 (三单) are later finals.
_FINAL = 1000
_STEP_RANK: Final[Mapping[str, int]] = {
    "1": 10,
    "2": 20,
    "3": 30,
    "120": 40,
    "300": 50,
    "399": 60,
    "500": 70,
    "501": 80,
    "502": 80,
    "503": 80,
    "599": 80,
}

_SUCCESS, _FAILURE = True, False

# Per receipt type: code → (source, final outcome or None for a step, rank).
_Entry: TypeAlias = "tuple[str, bool | None, int]"
_THREE_DOCS: dict[str, _Entry] = {
    "2": ("SPEC+XSD", None, 20),
    "3": ("SPEC+XSD", None, 30),
    "4": ("SPEC+XSD", _FAILURE, _FINAL),
    "100": ("SPEC+XSD", _FAILURE, _FINAL),
    "120": ("SPEC+XSD", _SUCCESS, _FINAL),
    "399": ("XSD", _SUCCESS, _FINAL + 10),
}
_CEB514 = {**_THREE_DOCS, "120": ("SPEC", _SUCCESS, _FINAL)}
_CLOSING: dict[str, _Entry] = {  # 624, 626, 712
    "1": ("SPEC+XSD", None, 10),
    "2": ("SPEC+XSD", None, 20),
    "3": ("SPEC+XSD", None, 30),
    "4": ("SPEC+XSD", _FAILURE, _FINAL),
    "100": ("SPEC+XSD", _FAILURE, _FINAL),
    "120": ("SPEC+XSD", None, 40),
    "399": ("SPEC+XSD", _SUCCESS, _FINAL),
}
_CEB622: dict[str, _Entry] = {
    **{code: ("SPEC+XSD", None, rank) for code, rank in _STEP_RANK.items()},
    "4": ("SPEC+XSD", _FAILURE, _FINAL),
    "100": ("SPEC+XSD", _FAILURE, _FINAL),
    "700": ("SPEC+XSD", _FAILURE, _FINAL),
    "800": ("SPEC+XSD", _SUCCESS, _FINAL),
    "899": ("SPEC+XSD", _SUCCESS, _FINAL + 10),
}


def _info(message_type: str, code: str, entry: _Entry) -> StatusInfo:
    source, outcome, rank = entry
    member = ReceiptStatus(code)
    zh, en = _MEANING[member]
    return StatusInfo(
        message_type=message_type,
        status=code,
        zh=zh,
        en=en,
        known=True,
        final=outcome is not None,
        success=outcome is True,
        rank=rank,
        member=member,
        source=source,
    )


def _build() -> Mapping[str, Mapping[str, StatusInfo]]:
    per_type = {
        "CEB312Message": _THREE_DOCS,
        "CEB412Message": _THREE_DOCS,
        "CEB512Message": _THREE_DOCS,
        "CEB514Message": _CEB514,
        "CEB622Message": _CEB622,
        "CEB624Message": _CLOSING,
        "CEB626Message": _CLOSING,
        "CEB712Message": _CLOSING,
        "CEB900Message": {},
    }
    return MappingProxyType(
        {
            name: MappingProxyType(
                {code: _info(name, code, entry) for code, entry in sorted(table.items(), key=_by_rank)}
            )
            for name, table in per_type.items()
        }
    )


def _by_rank(item: tuple[str, _Entry]) -> tuple[int, int]:
    return item[1][2], int(item[0])


#: receipt type → code → :class:`StatusInfo`, in lifecycle order (negative codes are not listed).
RECEIPT_STATUS_TABLE: Final = _build()

_NEGATIVE = re.compile(r"-\d{1,9}")
_TYPE = re.compile(r"(?:CEB)?(\d{3})(?:Message)?")


def normalize_message_type(message_type: str) -> str:
    """``"CEB622Message"``, ``"CEB622"`` or ``"622"`` → ``"CEB622Message"`` (a receipt type)."""
    match = _TYPE.fullmatch(message_type.strip())
    name = f"CEB{match.group(1)}Message" if match else message_type
    if name not in RECEIPT_STATUS_TABLE:
        raise ConfigError(
            f"{message_type!r} is not a receipt type with a returnStatus; expected one of "
            f"{', '.join(RECEIPT_TYPES)}",
            code="config.message_type",
        )
    return name


def statuses_for(message_type: str) -> tuple[StatusInfo, ...]:
    """The positive statuses listed for a receipt type, in lifecycle order."""
    return tuple(RECEIPT_STATUS_TABLE[normalize_message_type(message_type)].values())


def describe_status(message_type: str, status: str | int) -> StatusInfo:
    """Describe a ``returnStatus`` of a receipt type; never raises for an unknown code.

    Negative codes are final processing errors, with the SPEC §7 text where messages.md transcribes
    it (-621029 验签失败). Codes not listed for the type come back with ``known=False``.
    Raises :class:`~cbec_declare.errors.ConfigError` only for a message type that has no returnStatus.
    """
    name = normalize_message_type(message_type)
    code = str(status).strip()
    listed = RECEIPT_STATUS_TABLE[name].get(code)
    if listed is not None:
        return listed
    if _NEGATIVE.fullmatch(code):
        described = describe_business_error(code)
        if described is not None:
            zh, en = described.zh, described.en
        elif name == "CEB900Message":
            zh, en = "报文格式校验异常", "message format check failed"
        else:
            zh, en = "处理异常", "processing error"
        return StatusInfo(
            message_type=name,
            status=code,
            zh=zh,
            en=en,
            known=True,
            final=True,
            error=True,
            rank=_FINAL,
            source="SPEC §7" if described is not None else "SPEC",
        )
    return StatusInfo(
        message_type=name,
        status=code,
        zh="未知回执状态",
        en=f"status {code!r} is not listed for {name}",
        known=False,
    )


def supersedes(message_type: str, current: str | int | None, new: str | int) -> bool:
    """Whether a receipt with status ``new`` should replace ``current`` as a document's status.

    Statuses never move backwards: a lower or equal rank never replaces a higher one; once final,
    only a later final with the same outcome replaces it (800 放行 → 899 结关). Unknown codes never
    replace anything (record them, do not act on them); any known status replaces an unknown one.
    """
    incoming = describe_status(message_type, new)
    if not incoming.known:
        return False
    if current is None:
        return True
    present = describe_status(message_type, current)
    if not present.known:
        return True
    if present.final:
        return incoming.final and incoming.success == present.success and incoming.rank > present.rank
    return incoming.rank > present.rank
