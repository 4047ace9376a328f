"""What a receipt push carries, read into typed events (the sans-IO core of the §2.1 receiver).

The platform's ``msg_type`` names a *category* [H for the first and the CEB one, M for the rest]:

==================================  =================================================
``CUSTOMS_DECLARE_RESULT_CALLBACK``  ``<mo>`` ``RESULT`` (入库回执)
``CUSTOMS_DECLARE_GOODS_CALLBACK``   ``<mo>`` ``PERSONAL_GOODS_DECLAR`` 审单回执
``CUSTOMS_BILL_CALLBACK``            ``<mo>`` ``IMPORTBILLRESULT``
``CUSTOMS_TAX_CALLBACK``             ``<mo>`` ``TAXISNEED``
``PRODUCT_RECORD``                   ``<mo>``
``CUSTOMS_CEB_CALLBACK``             a CEB receipt (CEB312/412/512/514/622/624/626/712/816/818/900),
                                     bare or inside a ``DxpMsg``/``DxpMsgSv``
==================================  =================================================

``msg_type`` alone does not say *which* CEB receipt arrived, so the document is always read by its
root element: ``<mo>`` → :func:`~cbec_declare.transport.mo.parse_mo`; ``DxpMsg``/``DxpMsgSv`` →
:func:`cbec_declare.envelope.unwrap` then :func:`cbec_declare.messages.parse`; a ``CEB…Message`` →
:func:`cbec_declare.messages.parse`. A root that disagrees with a known ``msg_type`` is still read
(the root is the better witness) and logged; a root nobody reads is refused.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import attrs

from .._xml import CEB_NS, DXP_NS, parse_untrusted
from ..envelope import SvNo, TransInfo, unwrap
from ..errors import UnexpectedDocumentError
from ..messages import parse_element
from ..models import CHINA_TZ, RECEIPT_MESSAGES, ReceiptMessage
from .mo import MoMessage, parse_mo

__all__ = [
    "PUSH_MSG_TYPES",
    "CebReceiptEvent",
    "MoReceiptEvent",
    "ReceiptEvent",
    "read_receipt",
]

log = logging.getLogger("cbec_declare.transport")

#: ``msg_type`` → the document family it announces (``"mo"`` or ``"ceb"``).
PUSH_MSG_TYPES: dict[str, str] = {
    "CUSTOMS_DECLARE_RESULT_CALLBACK": "mo",
    "CUSTOMS_DECLARE_GOODS_CALLBACK": "mo",
    "CUSTOMS_BILL_CALLBACK": "mo",
    "CUSTOMS_TAX_CALLBACK": "mo",
    "PRODUCT_RECORD": "mo",
    "CUSTOMS_CEB_CALLBACK": "ceb",
}


def _now() -> datetime:
    return datetime.now(CHINA_TZ)


@attrs.frozen(kw_only=True)
class MoReceiptEvent:
    """A ``<mo>`` receipt (RESULT, 审单回执, ...) as delivered to the sink.

    ``push_id`` identifies the push (the same push twice has the same id); ``plaintext`` is the
    decrypted document exactly as received; ``digest_verified`` is ``False`` only when the receiver
    was built with ``verify=False``.
    """

    push_id: str
    msg_type: str
    receipt: MoMessage
    plaintext: bytes = attrs.field(repr=lambda value: f"<{len(value)} bytes>")
    digest_verified: bool
    received_at: datetime = attrs.field(factory=_now)

    @property
    def kind(self) -> str:
        return "mo"


@attrs.frozen(kw_only=True)
class CebReceiptEvent:
    """A CEB receipt (CEB312…CEB900). ``trans_info``/``sv_no`` are set when it came in a DXP envelope."""

    push_id: str
    msg_type: str
    receipt: ReceiptMessage
    plaintext: bytes = attrs.field(repr=lambda value: f"<{len(value)} bytes>")
    digest_verified: bool
    trans_info: TransInfo | None = None
    sv_no: SvNo | None = None
    received_at: datetime = attrs.field(factory=_now)

    @property
    def kind(self) -> str:
        return "ceb"


ReceiptEvent = MoReceiptEvent | CebReceiptEvent


def _root_name(root: Any) -> tuple[str | None, str]:
    tag = root.tag if isinstance(root.tag, str) else ""
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return None, tag


def _ceb_receipt(root: Any, where: str) -> ReceiptMessage:
    ns, local = _root_name(root)
    if local not in RECEIPT_MESSAGES or ns not in (CEB_NS, None):
        raise UnexpectedDocumentError(
            f"{where} carries <{local}>, which is not a CEB receipt",
            code="xml.unexpected.receipt",
            field=local,
        )
    model: ReceiptMessage = parse_element(root)
    return model


def read_receipt(
    plaintext: bytes,
    *,
    msg_type: str,
    push_id: str,
    digest_verified: bool,
    max_bytes: int,
) -> ReceiptEvent:
    """Read a decrypted push document into its event (raises :class:`~cbec_declare.errors.XmlError`,
    :class:`~cbec_declare.errors.EnvelopeError` or ``UnexpectedDocumentError``)."""
    root = parse_untrusted(plaintext, max_bytes=max_bytes, what="push content")
    ns, local = _root_name(root)
    announced = PUSH_MSG_TYPES.get(msg_type)
    if local == "mo" and ns is None:
        family = "mo"
    elif ns == DXP_NS and local in ("DxpMsg", "DxpMsgSv"):
        family = "ceb"  # a DXP envelope around a CEB receipt
    elif local.startswith("CEB") and ns in (CEB_NS, None):
        family = "ceb"
    else:
        raise UnexpectedDocumentError(
            f"push content is <{local}>, which no receipt reader handles",
            code="xml.unexpected.root",
            field=local,
        )
    if announced is None:
        log.info("push msg_type %r is not a known category; reading it as %s by its root", msg_type, family)
    elif announced != family:
        log.warning(
            "push msg_type %s announces %s but the document is <%s>; reading by root",
            msg_type,
            announced,
            local,
        )
    if family == "mo":
        return MoReceiptEvent(
            push_id=push_id,
            msg_type=msg_type,
            receipt=parse_mo(plaintext, max_bytes=max_bytes),
            plaintext=plaintext,
            digest_verified=digest_verified,
        )
    if local in ("DxpMsg", "DxpMsgSv"):
        envelope = unwrap(plaintext, max_bytes=max_bytes, max_payload_bytes=max_bytes)
        return CebReceiptEvent(
            push_id=push_id,
            msg_type=msg_type,
            receipt=_ceb_receipt(
                parse_untrusted(envelope.payload, max_bytes=max_bytes, what=f"{local} payload"), local
            ),
            plaintext=plaintext,
            digest_verified=digest_verified,
            trans_info=envelope.trans_info,
            sv_no=envelope.sv_no,
        )
    return CebReceiptEvent(
        push_id=push_id,
        msg_type=msg_type,
        receipt=_ceb_receipt(root, "push content"),
        plaintext=plaintext,
        digest_verified=digest_verified,
    )
