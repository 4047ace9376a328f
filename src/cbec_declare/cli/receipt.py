"""``cbec-declare receipt FILE...``: read any receipt and say what it means.

CEB312/412/512/514/622/624/626/712/816/818/900, bare or inside a ``DxpMsg``/``DxpMsgSv``, and the
Hangzhou ``<mo>`` RESULT (and 审单回执). Each ``…Return`` is shown with its key fields, its status
and what the status means (:func:`cbec_declare.codes.describe_status`).

:func:`read_receipt_document` and :func:`describe_receipt` are reused by ``cbec-declare serve``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import attrs

from .._xml import CEB_NS, DXP_NS, parse_untrusted
from ..codes import TAX_BILL_STATUSES, describe_status
from ..envelope import SvNo, TransInfo, unwrap
from ..errors import CbecError, ConfigError, UnexpectedDocumentError
from ..messages import parse_element
from ..messages.jsonio import to_data
from ..models import DECLARATION_MESSAGES, RECEIPT_MESSAGES, ReceiptMessage, Tax
from ..transport.mo import MoGeneric, MoMessage, PersonalGoodsDeclarReceipt, ResultReceipt, parse_mo
from ._common import EXIT_INVALID, EXIT_OK, emit_json
from .validate import checked_inputs, file_failure

__all__ = ["ReadReceipt", "add_parser", "describe_receipt", "envelope_data", "read_receipt_document", "run"]

#: Fields that are not "key fields": shown on their own lines, or too long to show.
_NOT_KEYS = frozenset({"guid", "returnStatus", "returnTime", "returnInfo", "oriBizMessage", "status"})
#: ``chkMark`` of a ``<mo>`` RESULT (hangzhou-platform.md §1.3).
_CHK_MARKS = {
    "1": ("处理成功（入库）", "accepted by the platform"),
    "2": ("处理失败", "refused by the platform"),
}


@attrs.frozen
class ReadReceipt:
    """A receipt as read from a file: the model, and the envelope it came in (if any)."""

    model: ReceiptMessage | MoMessage
    envelope: str | None = None
    trans_info: TransInfo | None = None
    sv_no: SvNo | None = None

    @property
    def message_type(self) -> str:
        if isinstance(self.model, MoMessage):
            name = self.model.type_name if isinstance(self.model, MoGeneric) else self.model.BUSINESS_TYPE
            return f"mo {name}"
        return self.model.message_type


def _ceb_receipt(root: Any, where: str) -> ReceiptMessage:
    tag = root.tag if isinstance(root.tag, str) else ""
    ns, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    if ns in (CEB_NS, "") and local in RECEIPT_MESSAGES:
        model: ReceiptMessage = parse_element(root)
        return model
    what = "a declaration, not a receipt" if local in DECLARATION_MESSAGES else "not a CEB receipt"
    raise UnexpectedDocumentError(f"{where} is <{local}>, {what}", code="xml.unexpected.receipt", field=local)


def read_receipt_document(data: bytes) -> ReadReceipt:
    """Read a CEB receipt (bare, in a DxpMsg or a DxpMsgSv) or a ``<mo>`` receipt by its root element."""
    root = parse_untrusted(data, what="receipt")
    if root.tag == "mo":
        model = parse_mo(data)
        if not isinstance(model, (ResultReceipt, PersonalGoodsDeclarReceipt, MoGeneric)):
            raise UnexpectedDocumentError(
                f"the <mo> {model.BUSINESS_TYPE} message is a request, not a receipt",
                code="xml.unexpected.receipt",
                field="mo/head/businessType",
            )
        return ReadReceipt(model)
    if root.tag in (f"{{{DXP_NS}}}DxpMsg", f"{{{DXP_NS}}}DxpMsgSv"):
        envelope = unwrap(data)
        inner = parse_untrusted(envelope.payload, what="envelope payload")
        name = root.tag.rpartition("}")[2]
        return ReadReceipt(
            _ceb_receipt(inner, f"the {name} payload"), name, envelope.trans_info, envelope.sv_no
        )
    return ReadReceipt(_ceb_receipt(root, "the document"))


def _ceb_document(message_type: str, document: Any) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if isinstance(document, Tax):
        extra["items"] = len(document.items)
        document = document.head
    data = to_data(document)
    entry: dict[str, Any] = {
        "entity": type(document).__ceb__.element,
        "keys": {k: v for k, v in data.items() if k not in _NOT_KEYS and not isinstance(v, (list, dict))},
        **extra,
    }
    if "returnStatus" in data:
        info = describe_status(message_type, data["returnStatus"])
        entry.update(status=info.status, zh=info.zh, en=info.en, known=info.known)
        entry.update(final=info.final, success=info.success, error=info.error)
    else:  # CEB816/818 carry a tax-bill status (税单状态), not a returnStatus
        code = data.get("status", "")
        tax = TAX_BILL_STATUSES.get(code)
        entry.update(status=code, zh=tax.zh if tax else "未知税单状态", en=tax.en if tax else "unknown")
        entry.update(known=tax is not None, final=None, success=None, error=None)
    entry["return_time"] = data.get("returnTime")
    entry["return_info"] = data.get("returnInfo")
    return entry


def _entry(entity: str, keys: dict[str, str | None], status: str | None, **facts: Any) -> dict[str, Any]:
    """One document entry; ``facts`` gives zh, en, known, final, success, error, return_time, return_info."""
    base: dict[str, Any] = dict.fromkeys(
        ("zh", "en", "final", "success", "error", "return_time", "return_info")
    )
    base["known"] = False
    base.update(facts)
    return {
        "entity": entity,
        "keys": {k: v for k, v in keys.items() if v is not None},
        "status": status,
        **base,
    }


def _result_entries(model: ResultReceipt) -> list[dict[str, Any]]:
    out = []
    for result in model.results:
        mark = (result.chk_mark or "").strip()
        zh, en = _CHK_MARKS.get(mark, ("未知处理结果", "unknown chkMark"))
        keys = {
            "companyCode": result.company_code,
            "businessNo": result.business_no,
            "businessType": result.business_type,
            "declareType": result.declare_type,
        }
        facts = {"zh": zh, "en": en, "known": mark in _CHK_MARKS, "final": True, "success": result.accepted}
        facts.update(error=not result.accepted, return_info="; ".join(result.result_info) or None)
        facts["return_time"] = " ".join(x for x in (result.notice_date, result.notice_time) if x) or None
        out.append(_entry("jkfResult", keys, mark, **facts))
    return out


def _goods_entries(model: PersonalGoodsDeclarReceipt) -> list[dict[str, Any]]:
    """审单回执: approveResult is shown as given (its code list is only partly known)."""
    sign, result = model.sign, model.result
    keys = {
        "companyCode": sign.company_code if sign else None,
        "businessNo": sign.business_no if sign else None,
        "personalGoodsFormNo": result.personal_goods_form_no if result else None,
    }
    if result is None:
        return [_entry("jkfGoodsDeclar", keys, None)]
    when = result.process_time.strftime("%Y%m%d%H%M%S") if result.process_time else None
    return [
        _entry(
            "jkfGoodsDeclar",
            keys,
            result.approve_result,
            return_time=when,
            return_info=result.approve_comment or None,
        )
    ]


def describe_receipt(model: ReceiptMessage | MoMessage) -> list[dict[str, Any]]:
    """One JSON-ready entry per ``…Return`` (or tax bill, or ``jkfResult``): key fields, status, meaning."""
    if isinstance(model, ResultReceipt):
        return _result_entries(model)
    if isinstance(model, PersonalGoodsDeclarReceipt):
        return _goods_entries(model)
    if isinstance(model, MoMessage):
        return []  # MoGeneric: a business type without a model; nothing is interpreted
    return [_ceb_document(model.message_type, document) for document in model.documents]


def envelope_data(read: ReadReceipt) -> dict[str, Any] | None:
    """The routing data of the envelope a receipt came in, JSON-ready (``None`` when bare)."""
    if read.trans_info is None:
        return None
    info = read.trans_info
    out: dict[str, Any] = {
        "type": read.envelope,
        "cop_msg_id": info.cop_msg_id,
        "sender_id": info.sender_id,
        "receiver_ids": list(info.receiver_ids),
        "creat_time": info.creat_time.isoformat(),
        "msg_type": info.msg_type,
    }
    if read.sv_no is not None:
        out["sv_no"] = {
            "msg_id": read.sv_no.msg_id,
            "send_time": read.sv_no.send_time.isoformat(),
            "sta_node": read.sv_no.sta_node,
            "end_node": read.sv_no.end_node,
        }
    return out


def _flags(entry: dict[str, Any]) -> str:
    if entry["final"] is None:
        return "tax bill status"
    if not entry["known"]:
        return "unknown status"
    if entry["error"]:
        return "final, error"
    if entry["final"]:
        return "final, success" if entry["success"] else "final, failure"
    return "in progress"


def print_receipt(name: str, read: ReadReceipt, documents: list[dict[str, Any]]) -> None:
    """The human form of one receipt file."""
    header = f"{name}: {read.message_type}"
    envelope = envelope_data(read)
    if envelope is not None:
        header += (
            f" (inside {envelope['type']} from {envelope['sender_id']} to "
            f"{','.join(envelope['receiver_ids'])}, CopMsgId {envelope['cop_msg_id']})"
        )
    print(header)
    if not documents:
        print("  (no documents this command interprets)")
    for entry in documents:
        keys = " ".join(f"{k}={v}" for k, v in entry["keys"].items())
        print(f"  {entry['entity']} {keys}".rstrip())
        if entry["zh"] is None:
            print(f"    status {entry['status']} (not interpreted)")
        else:
            print(f"    status {entry['status']}: {entry['zh']} / {entry['en']} — {_flags(entry)}")
        if entry["return_time"]:
            print(f"    time {entry['return_time']}")
        if entry["return_info"]:
            print(f"    returnInfo {entry['return_info']}")


def run(args: argparse.Namespace) -> int:
    entries: list[dict[str, Any]] = []
    all_read = True
    for name, data in checked_inputs(args.files):
        try:
            read = read_receipt_document(data)
            documents = describe_receipt(read.model)
        except CbecError as exc:
            if isinstance(exc, ConfigError):
                raise
            all_read = False
            entry, line = file_failure(name, exc)
            entries.append(entry)
            if not args.json:
                print(line)
            continue
        entries.append(
            {
                "file": name,
                "ok": True,
                "message_type": read.message_type,
                "envelope": envelope_data(read),
                "documents": documents,
            }
        )
        if not args.json:
            print_receipt(name, read, documents)
    if args.json:
        emit_json({"ok": all_read, "files": entries})
    sys.stdout.flush()
    return EXIT_OK if all_read else EXIT_INVALID


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "receipt",
        help="read receipts and explain their status",
        description="Read receipts — CEB312/412/512/514/622/624/626/712/816/818/900, bare or inside a "
        "DxpMsg/DxpMsgSv, or a Hangzhou <mo> RESULT — and print each …Return with its key fields "
        "(orderNo, copNo, invtNo, logisticsNo …), its status, what the status means (中文 and English), "
        "whether it is final, a success or an error, and returnInfo. The exit code says whether the files "
        "could be read, not what customs decided: a receipt saying 'rejected' is read fine and exits 0. "
        "Exit codes: 0 every file was read; 1 a file is not a readable receipt; 2 usage error.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="receipt files, or - for stdin")
    parser.add_argument("--json", action="store_true", help='print JSON ("ok" = every file was read)')
    parser.set_defaults(handler=run)
