"""Strict reading of DXP elements: child access with paths in every error, xs:dateTime, TransInfo."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from lxml import etree

from .._xml import DS_NS, DXP_NS
from ..errors import EnvelopeError
from ._models import TransInfo

__all__ = ["Reader", "parse_datetime", "read_trans_info"]

_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})?$"
)


def parse_datetime(text: str, field: str) -> datetime:
    """An ``xs:dateTime`` (``Z``/offset → aware, none → naive), or :class:`EnvelopeError`."""
    match = _DATETIME.match(text.strip())
    if match is None:
        raise EnvelopeError(f"{text!r} is not an xs:dateTime", code="envelope.datetime", field=field)
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    tz: timezone | None = None
    if zone == "Z":
        tz = timezone.utc
    elif zone:
        sign = 1 if zone[0] == "+" else -1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            int((fraction or "0").ljust(6, "0")[:6]),
            tzinfo=tz,
        )
    except ValueError as exc:
        raise EnvelopeError(
            f"{text!r} is not a valid date-time: {exc}", code="envelope.datetime", field=field
        ) from None


class Reader:
    """Strict child access on one element, with paths in every error."""

    def __init__(self, element: etree._Element, path: str, allowed: frozenset[str]) -> None:
        self.path = path
        self.children: dict[str, list[etree._Element]] = {}
        for child in element.iterchildren(etree.Element):  # elements only: comments carry nothing
            qname = etree.QName(child)
            if qname.namespace == DS_NS and qname.localname == "Signature":
                self.children.setdefault("ds:Signature", []).append(child)
                continue
            if qname.namespace != DXP_NS or qname.localname not in allowed:
                raise EnvelopeError(
                    f"unexpected element {child.tag}",
                    code="envelope.structure",
                    field=f"{path}/{qname.localname}",
                )
            self.children.setdefault(qname.localname, []).append(child)

    def many(self, name: str) -> list[etree._Element]:
        return self.children.get(name, [])

    def element(self, name: str, *, required: bool = True) -> etree._Element | None:
        found = self.many(name)
        if len(found) > 1:
            raise EnvelopeError(
                "appears more than once", code="envelope.structure", field=f"{self.path}/{name}"
            )
        if not found and required:
            raise EnvelopeError("is missing", code="envelope.structure", field=f"{self.path}/{name}")
        return found[0] if found else None

    def text(self, name: str, *, required: bool = True) -> str | None:
        node = self.element(name, required=required)
        if node is None:
            return None
        if len(node):
            raise EnvelopeError(
                "holds elements where text is expected",
                code="envelope.structure",
                field=f"{self.path}/{name}",
            )
        return (node.text or "").strip()


def read_trans_info(element: etree._Element, path: str) -> TransInfo:
    """A ``TransInfo`` (or ``OriHead``) element, checked in document order."""
    r = Reader(element, path, frozenset({"CopMsgId", "SenderId", "ReceiverIds", "CreatTime", "MsgType"}))
    cop_msg_id = r.text("CopMsgId") or ""
    sender_id = r.text("SenderId") or ""
    ids_element = r.element("ReceiverIds")
    assert ids_element is not None
    ids = Reader(ids_element, f"{path}/ReceiverIds", frozenset({"ReceiverId"}))
    receivers = tuple((node.text or "").strip() for node in ids.many("ReceiverId"))
    if not receivers:
        raise EnvelopeError("is missing", code="envelope.structure", field=f"{path}/ReceiverIds/ReceiverId")
    creat = r.text("CreatTime")
    assert creat is not None
    return TransInfo(
        cop_msg_id=cop_msg_id,
        sender_id=sender_id,
        receiver_ids=receivers,
        creat_time=parse_datetime(creat, f"{path}/CreatTime"),
        msg_type=r.text("MsgType") or "",
    )
