"""The DXP terminal envelope (终端节点报文): wrap a signed CEB message, unwrap what arrives.

Outgoing: ``DxpMsg{TransInfo, Data, AddInfo?}`` with ``Data`` = base64 of the signed message bytes
(UTF-8, including the XML declaration), written by string template in the ``dxp:`` prefix style or
the default-namespace style; both are valid against the official XSDs and both are seen in practice
(signature-dxp-179-receipts.md §B). Incoming: a ``DxpMsg`` in either style, or a node-to-node
``DxpMsgSv{SvNo, DxpMsg}`` around it, parsed through :func:`cbec_declare._xml.parse_untrusted` with a
strict base64 decoder and a size limit on the payload.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Final

from lxml import etree

from .._xml import DEFAULT_MAX_BYTES, DXP_NS, parse_untrusted
from ..errors import EnvelopeError
from ._models import CHINA_TIME, EXPORT_RECEIVER, IMPORT_RECEIVER, AddInfo, SvNo, TransInfo, Unwrapped
from ._read import Reader, parse_datetime, read_trans_info

__all__ = [
    "CHINA_TIME",
    "EXPORT_RECEIVER",
    "IMPORT_RECEIVER",
    "AddInfo",
    "SvNo",
    "TransInfo",
    "Unwrapped",
    "parse_datetime",
    "unwrap",
    "wrap",
]

_RECEIVERS: Final = {"I": IMPORT_RECEIVER, "E": EXPORT_RECEIVER}
# Written so that no part can run past the prolog (a lazy ".*?" would rescan the whole payload).
_ROOT_NAME = re.compile(
    rb"^(?:\xef\xbb\xbf)?(?:\s+|<\?(?:[^?]|\?(?!>))*\?>|<!--(?:[^-]|-(?!->))*-->)*<(?:[^\s/>:]+:)?([^\s/>:?!]+)"
)
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _escape(value: str) -> str:
    # CR as a character reference, or a parser reads it back as LF.
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _escape_attribute(value: str) -> str:
    # In an attribute, a literal TAB or LF is normalised to a space by every parser: write references.
    return _escape(value).replace('"', "&quot;").replace("\t", "&#9;").replace("\n", "&#10;")


def _text(value: str, field: str, low: int, high: int) -> str:
    return _escape(_checked(value, field, low, high))


def _attribute(value: str, field: str, low: int, high: int) -> str:
    return _escape_attribute(_checked(value, field, low, high))


def _checked(value: str, field: str, low: int, high: int) -> str:
    if not isinstance(value, str):
        raise EnvelopeError(f"must be text, got {type(value).__name__}", code="envelope.value", field=field)
    if not low <= len(value) <= high:
        raise EnvelopeError(
            f"must be {low}..{high} characters, got {len(value)}", code="envelope.length", field=field
        )
    bad = _NOT_XML.search(value)
    if bad is not None:
        raise EnvelopeError(
            f"character U+{ord(bad.group()):04X} cannot be written in XML",
            code="envelope.character",
            field=field,
        )
    return value


def _message_type(signed_xml: bytes) -> str:
    match = _ROOT_NAME.match(signed_xml)
    if match is None:
        raise EnvelopeError(
            "the payload does not start with an XML element; pass msg_type explicitly",
            code="envelope.msg-type",
            field="TransInfo/MsgType",
        )
    return match.group(1).decode("utf-8", "replace")


def _creat_time(value: datetime | None) -> str:
    if value is None:
        moment = datetime.now(CHINA_TIME)
    elif value.tzinfo is not None:
        moment = value.astimezone(CHINA_TIME)
    else:
        moment = value
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def wrap(
    signed_xml: bytes,
    sender_id: str,
    receiver_id: str | Sequence[str] | None = None,
    msg_type: str | None = None,
    cop_msg_id: str | None = None,
    *,
    ie_flag: str = "I",
    creat_time: datetime | None = None,
    file_name: str | None = None,
    ic_card: str | None = None,
    biz_keys: Mapping[str, str] | None = None,
    namespace_style: str = "prefix",
) -> bytes:
    """Wrap a signed CEB message in a ``DxpMsg`` (UTF-8 bytes with an XML declaration).

    ``sender_id`` is the enterprise DXP id (``BaseTransfer/dxpId``). ``receiver_id`` (one id or up to
    five) defaults by ``ie_flag``: ``I`` → :data:`IMPORT_RECEIVER`, ``E`` → :data:`EXPORT_RECEIVER`.
    ``msg_type`` defaults to the payload's root name (``CEB311Message``); ``cop_msg_id`` to a new
    upper-case UUID. ``creat_time`` is written ``yyyy-MM-ddTHH:mm:ss``: an aware time in Beijing
    time, a naive one as given; default now (Beijing). ``namespace_style`` is ``"prefix"``
    (``dxp:DxpMsg``) or ``"default"`` (``<DxpMsg xmlns=…>``). The payload is not parsed.
    """
    if not isinstance(signed_xml, (bytes, bytearray, memoryview)) or not bytes(signed_xml).strip():
        raise EnvelopeError("the payload must be non-empty bytes", code="envelope.payload", field="Data")
    payload = bytes(signed_xml)
    if namespace_style == "prefix":
        p, root_ns = "dxp:", f' xmlns:dxp="{DXP_NS}"'
    elif namespace_style == "default":
        p, root_ns = "", f' xmlns="{DXP_NS}"'
    else:
        raise EnvelopeError(
            f"namespace_style must be 'prefix' or 'default', got {namespace_style!r}", code="envelope.style"
        )
    if receiver_id is None:
        if ie_flag not in _RECEIVERS:
            raise EnvelopeError(
                f"ie_flag must be 'I' or 'E', got {ie_flag!r}", code="envelope.ie-flag", field="ie_flag"
            )
        receivers: Sequence[str] = (_RECEIVERS[ie_flag],)
    else:
        receivers = (receiver_id,) if isinstance(receiver_id, str) else tuple(receiver_id)
    if not 1 <= len(receivers) <= 5:
        raise EnvelopeError(
            f"1..5 receivers allowed, got {len(receivers)}",
            code="envelope.length",
            field="TransInfo/ReceiverIds",
        )
    receiver_xml = "".join(
        f"<{p}ReceiverId>{_text(r, f'TransInfo/ReceiverIds/ReceiverId[{i}]', 1, 16)}</{p}ReceiverId>"
        for i, r in enumerate(receivers)
    )
    kind = _message_type(payload) if msg_type is None else msg_type
    head = (
        f'<?xml version="1.0" encoding="UTF-8"?><{p}DxpMsg{root_ns} ver="1.0"><{p}TransInfo>'
        f"<{p}CopMsgId>{_text(cop_msg_id or str(uuid.uuid4()).upper(), 'TransInfo/CopMsgId', 1, 255)}"
        f"</{p}CopMsgId>"
        f"<{p}SenderId>{_text(sender_id, 'TransInfo/SenderId', 1, 16)}</{p}SenderId>"
        f"<{p}ReceiverIds>{receiver_xml}</{p}ReceiverIds>"
        f"<{p}CreatTime>{_creat_time(creat_time)}</{p}CreatTime>"
        f"<{p}MsgType>{_text(kind, 'TransInfo/MsgType', 0, 30)}</{p}MsgType>"
        f"</{p}TransInfo><{p}Data>"
    )
    tail = f"</{p}Data>{_add_info(p, file_name, ic_card, biz_keys)}</{p}DxpMsg>"
    # Joined as bytes: the base64 payload (the bulk) is copied once, not decoded, joined and encoded.
    return b"".join((head.encode("utf-8"), base64.b64encode(payload), tail.encode("utf-8")))


def _add_info(p: str, file_name: str | None, ic_card: str | None, biz_keys: Mapping[str, str] | None) -> str:
    inner = []
    if file_name is not None:
        inner.append(f"<{p}FileName>{_text(file_name, 'AddInfo/FileName', 1, 255)}</{p}FileName>")
    if ic_card is not None:
        inner.append(f"<{p}IcCard>{_text(ic_card, 'AddInfo/IcCard', 1, 13)}</{p}IcCard>")
    if biz_keys:
        if len(biz_keys) > 5:
            raise EnvelopeError(
                f"at most 5 business keys, got {len(biz_keys)}",
                code="envelope.length",
                field="AddInfo/BizKey",
            )
        keys = "".join(
            f'<{p}Key name="{_attribute(name, "AddInfo/BizKey/Key/@name", 1, 32)}">'
            f"{_text(value, f'AddInfo/BizKey/Key[{name}]', 1, 64)}</{p}Key>"
            for name, value in biz_keys.items()
        )
        inner.append(f"<{p}BizKey>{keys}</{p}BizKey>")
    return f"<{p}AddInfo>{''.join(inner)}</{p}AddInfo>" if inner else ""


# -- unwrap --------------------------------------------------------------------------------------


def _sv_no(element: etree._Element) -> SvNo:
    r = Reader(element, "DxpMsgSv/SvNo", frozenset({"MsgId", "SubMsgId", "SendTime", "EndNode", "StaNode"}))
    send = r.text("SendTime")
    assert send is not None
    return SvNo(
        msg_id=r.text("MsgId") or "",
        sub_msg_id=r.text("SubMsgId", required=False),
        send_time=parse_datetime(send, "DxpMsgSv/SvNo/SendTime"),
        end_node=r.text("EndNode") or "",
        sta_node=r.text("StaNode") or "",
    )


def _add_info_of(element: etree._Element, path: str) -> AddInfo:
    r = Reader(element, path, frozenset({"FileName", "IcCard", "BizKey", "IsText", "RecMapId"}))
    keys: list[tuple[str, str]] = []
    biz = r.element("BizKey", required=False)
    if biz is not None:
        for node in Reader(biz, f"{path}/BizKey", frozenset({"Key"})).many("Key"):
            keys.append((node.get("name") or "", (node.text or "").strip()))
    is_text = r.element("IsText", required=False)
    return AddInfo(
        file_name=r.text("FileName", required=False),
        ic_card=r.text("IcCard", required=False),
        biz_keys=tuple(keys),
        is_text_encoding=None if is_text is None else is_text.get("Encode"),
        rec_map_id=r.text("RecMapId", required=False),
    )


def _payload(text: str, path: str, max_payload_bytes: int) -> bytes:
    compact = "".join(text.split())  # xs:base64Binary allows whitespace between groups
    if not compact:
        raise EnvelopeError("is empty", code="envelope.data", field=path)
    if len(compact) // 4 * 3 > max_payload_bytes:
        raise EnvelopeError(
            f"decodes to more than {max_payload_bytes} bytes", code="envelope.oversized", field=path
        )
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        bad = re.search(r"[^A-Za-z0-9+/=]", compact)
        where = f" (character {bad.group()!r} at {bad.start()})" if bad else " (bad padding or length)"
        raise EnvelopeError(
            f"is not valid base64{where}: {exc}", code="envelope.base64", field=path
        ) from None


def unwrap(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES * 2,
    max_payload_bytes: int = DEFAULT_MAX_BYTES,
) -> Unwrapped:
    """Read a ``DxpMsg`` (``dxp:`` prefix or default namespace) or a ``DxpMsgSv`` around one.

    Returns the decoded payload and the routing data. Every problem is an
    :class:`~cbec_declare.errors.EnvelopeError` naming the element (bad XML keeps its
    :class:`~cbec_declare.errors.XmlError` subclass). ``max_bytes`` limits the envelope,
    ``max_payload_bytes`` the decoded ``Data``.
    """
    root = parse_untrusted(data, max_bytes=max_bytes, what="DXP envelope")
    qname = etree.QName(root)
    sv_no: SvNo | None = None
    if qname.namespace == DXP_NS and qname.localname == "DxpMsgSv":
        outer = Reader(root, "DxpMsgSv", frozenset({"SvNo", "DxpMsg"}))
        sv_element, message = outer.element("SvNo"), outer.element("DxpMsg")
        assert sv_element is not None
        assert message is not None
        sv_no = _sv_no(sv_element)
        path = "DxpMsgSv/DxpMsg"
    elif qname.namespace == DXP_NS and qname.localname == "DxpMsg":
        message, path = root, "DxpMsg"
    else:
        raise EnvelopeError(
            f"expected {{{DXP_NS}}}DxpMsg or DxpMsgSv, got {root.tag}",
            code="envelope.root",
            field=qname.localname,
        )
    r = Reader(message, path, frozenset({"TransInfo", "Data", "AddInfo"}))
    trans = r.element("TransInfo")
    assert trans is not None
    add = r.element("AddInfo", required=False)
    return Unwrapped(
        payload=_payload(r.text("Data") or "", f"{path}/Data", max_payload_bytes),
        trans_info=read_trans_info(trans, f"{path}/TransInfo"),
        sv_no=sv_no,
        add_info=None if add is None else _add_info_of(add, f"{path}/AddInfo"),
        envelope_signed=bool(r.many("ds:Signature")),
    )
