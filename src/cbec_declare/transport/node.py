"""§2.3: sending a signed, DXP-wrapped CEB message towards the exchange node, behind one Protocol.

Every transport implements :class:`NodeTransport` — ``send(dxp_msg, *, cop_msg_id) -> NodeReply`` —
and is chosen by configuration:

* :class:`SoapNodeTransport` — the platform's ``ReceiveCebDeclare.receive(content)``, the DxpMsg as
  ``content`` (in CDATA by default, as one client does); the answer is a ``<mo>`` RESULT [M].
* :class:`RestTransferDeclareTransport` — the 方案一 component's
  ``POST :9090/newyorkTransferWebapps/rest/transferDeclare`` with form field ``xml`` [L–M]; the
  answer is read leniently (:func:`parse_transfer_reply`).
* :class:`~cbec_declare.transport.directory.DirectoryTransport` — an outbox/inbox folder pair for a
  DXP client program (atomic writes, bounded polling).

A reply says whether the far side *accepted* the message (:attr:`NodeReply.accepted`); a refusal is
returned, not raised (:meth:`NodeReply.raise_for_rejection`). Transport failures raise and are
retried with the same bytes (:mod:`cbec_declare.transport.retry`).

Adding an MQ transport (RabbitMQ ``EPORT_HZ`` channels, IBM MQ ``ENT_TO_CUS`` queues) takes one
class in its own module, with the client library as an optional dependency imported inside it::

    class AmqpNodeTransport:
        '''Publishes the DxpMsg to a queue named after the sender's DXP id.'''

        def __init__(self, url: str, *, queue_template: str = "{sender_id}", retry: RetryPolicy) -> None:
            import pika  # optional extra: cbec-declare[amqp]
            ...

        def send(self, dxp_msg: bytes, *, cop_msg_id: str) -> NodeReply:
            # 1. publish dxp_msg as-is (UTF-8 bytes), persistent, with publisher confirms on;
            # 2. map the client's exceptions at one boundary, like http.map_requests_error, to
            #    ConnectError / TransportTimeout (retryable) and RemoteRejected (a nack);
            # 3. return NodeReply(accepted=True, transport="amqp", cop_msg_id=cop_msg_id).
            ...

Receipts that come back on a queue are handed to
:meth:`~cbec_declare.transport.receiver.ReceiptReceiver.handle_document`, which unwraps, reads,
de-duplicates and delivers them exactly like HTTP pushes.
"""

from __future__ import annotations

import logging
import re
from types import TracebackType
from typing import Protocol, runtime_checkable
from urllib.parse import quote

import attrs
import requests

from .._json import loads_untrusted
from ..envelope import unwrap
from ..errors import CbecError, ConfigError, RemoteRejected
from .http import check_status, post
from .mo import ResultReceipt, parse_mo
from .profiles import RestNodeProfile, SoapNodeProfile
from .retry import RetryPolicy, clamp_timeout
from .soap import build_request, extract_mo, soap_return

__all__ = [
    "NodeReply",
    "NodeTransport",
    "RestTransferDeclareTransport",
    "SoapNodeTransport",
    "TransferReply",
    "parse_transfer_reply",
]

log = logging.getLogger("cbec_declare.transport")

#: What clients look for when there is no chkMark [M].
_SUCCESS_TEXT = "处理成功"


@attrs.frozen(kw_only=True)
class NodeReply:
    """The far side's answer. ``text`` is the raw answer string; ``result`` a parsed ``<mo>`` RESULT."""

    accepted: bool
    transport: str
    cop_msg_id: str
    status: int | None = None
    text: str | None = attrs.field(
        default=None, repr=lambda value: "None" if value is None else f"<{len(value)} chars>"
    )
    result: ResultReceipt | None = None
    messages: tuple[str, ...] = ()
    location: str | None = None

    def raise_for_rejection(self) -> None:
        if not self.accepted:
            raise RemoteRejected(
                f"the {self.transport} node refused message {self.cop_msg_id}: "
                f"{'; '.join(self.messages) or 'no reason given'}",
                code="transport.rejected.node",
                cop_msg_id=self.cop_msg_id,
            )


@runtime_checkable
class NodeTransport(Protocol):
    """Sends one DxpMsg (UTF-8 bytes). ``cop_msg_id`` is its ``TransInfo/CopMsgId``, for logs,
    file names and replies; the transport sends ``dxp_msg`` unchanged."""

    def send(self, dxp_msg: bytes, *, cop_msg_id: str) -> NodeReply: ...


def _result_of(text: str) -> tuple[ResultReceipt | None, bool, tuple[str, ...]]:
    """A ``<mo>`` RESULT inside ``text``: (result, accepted, messages); no RESULT → not accepted."""
    document = extract_mo(text)
    if document is None:
        return None, False, ((text.strip()[:200],) if text.strip() else ())
    try:
        parsed = parse_mo(document, expect=ResultReceipt)
    except CbecError as exc:
        return None, False, (f"unreadable RESULT: {exc.message}",)
    assert isinstance(parsed, ResultReceipt)
    # chkMark decides; only a result without one is judged by its text, as clients do.
    accepted = bool(parsed.results) and all(
        r.accepted or (not (r.chk_mark or "").strip() and any(_SUCCESS_TEXT in m for m in r.result_info))
        for r in parsed.results
    )
    return parsed, accepted, parsed.messages


def _utf8(dxp_msg: bytes) -> str:
    try:
        return bytes(dxp_msg).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            "a DxpMsg is sent as UTF-8 XML; these bytes are not UTF-8", code="config.encoding"
        ) from exc


class _HttpTransport:
    def __init__(self, retry: RetryPolicy | None, session: requests.Session | None) -> None:
        self.retry = retry if retry is not None else RetryPolicy()
        self._own_session = session is None
        self.session = session if session is not None else requests.Session()

    def close(self) -> None:
        if self._own_session:
            self.session.close()

    def __enter__(self) -> _HttpTransport:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class SoapNodeTransport(_HttpTransport):
    """``ReceiveCebDeclare.receive(content)`` with the DxpMsg as ``content``."""

    def __init__(
        self,
        profile: SoapNodeProfile,
        *,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
    ) -> None:
        super().__init__(retry, session)
        self.profile = profile

    def __repr__(self) -> str:
        return f"SoapNodeTransport({self.profile.endpoint!r})"

    def prepare(self, dxp_msg: bytes) -> bytes:
        """The SOAP request body (built once; every retry posts it unchanged)."""
        p = self.profile
        return build_request(
            p.namespace,
            p.operation,
            [(p.param, _utf8(dxp_msg))],
            qualified=p.qualified_params,
            cdata={p.param} if p.cdata else (),
        )

    def send(self, dxp_msg: bytes, *, cop_msg_id: str) -> NodeReply:
        p = self.profile
        body = self.prepare(dxp_msg)
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{p.soap_action}"'}
        what = f"ReceiveCebDeclare {cop_msg_id}"

        def attempt(left: float) -> tuple[int, str]:
            reply = post(
                self.session,
                p.endpoint,
                data=body,
                headers=headers,
                timeout=clamp_timeout(p.connect_timeout, p.read_timeout, left),
                max_response_bytes=p.max_response_bytes,
                what=what,
            )
            return reply.status, soap_return(reply, what=what, max_bytes=p.max_response_bytes)

        status, text = self.retry.call(attempt, what=what)
        result, accepted, messages = _result_of(text)
        log.info("%s: %s", what, "accepted" if accepted else "refused")
        return NodeReply(
            accepted=accepted,
            transport="soap",
            cop_msg_id=cop_msg_id,
            status=status,
            text=text,
            result=result,
            messages=messages,
        )


@attrs.frozen
class TransferReply:
    """A ``transferDeclare`` answer: the success flag and the XML it carried, if any."""

    accepted: bool
    xml: str | None
    messages: tuple[str, ...] = ()


_QUOTED_XML = re.compile(r'"(<(?:[^"\\]|\\.)*)"', re.DOTALL)
_FLAG_KEYS = ("success", "result", "flag", "status", "ok")


def _from_json(value: object) -> TransferReply | None:
    if not isinstance(value, dict):
        return None
    # A named flag wins; otherwise the first boolean anywhere (the key names are unknown).
    named = [value[key] for key in _FLAG_KEYS if isinstance(value.get(key), bool)]
    flag = named[0] if named else next((v for v in value.values() if isinstance(v, bool)), False)
    texts = [v for v in value.values() if isinstance(v, str)]
    xml = next((t for t in texts if t.lstrip().startswith("<")), None)
    messages = tuple(t[:200] for t in texts if t is not xml)
    return TransferReply(bool(flag), xml, messages)


def parse_transfer_reply(text: str) -> TransferReply:
    """Read a ``transferDeclare`` answer, whose exact form is unknown [L].

    Tried in order: JSON (a boolean flag — ``success`` first — and the first string that is XML);
    bare XML (a ``<mo>`` RESULT decides; other XML counts as the returned document and accepted);
    then the heuristic enterprise clients use: ``"true"`` anywhere means success, and the first
    JavaScript-quoted string starting with ``<`` is the XML.
    """
    stripped = text.strip()
    try:
        reply = _from_json(loads_untrusted(stripped))
    except ValueError:
        reply = None
    if reply is not None:
        return reply
    if stripped.startswith("<"):
        if extract_mo(stripped) is not None:
            _, accepted, messages = _result_of(stripped)
            return TransferReply(accepted, stripped, messages)
        return TransferReply(True, stripped)
    quoted = _QUOTED_XML.search(stripped)
    xml: str | None = None
    if quoted is not None:
        try:
            xml = loads_untrusted(f'"{quoted.group(1)}"')
        except ValueError:
            xml = quoted.group(1)
    return TransferReply("true" in stripped.lower(), xml, () if xml else (stripped[:200],))


class RestTransferDeclareTransport(_HttpTransport):
    """``POST …/rest/transferDeclare`` with the message in form field ``xml``."""

    def __init__(
        self,
        profile: RestNodeProfile,
        *,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
    ) -> None:
        super().__init__(retry, session)
        self.profile = profile

    def __repr__(self) -> str:
        return f"RestTransferDeclareTransport({self.profile.url!r})"

    def prepare(self, dxp_msg: bytes) -> bytes:
        """The form body: ``xml=<percent-encoded XML>`` (or the raw XML when ``urlencode=False``)."""
        p = self.profile
        message = unwrap(dxp_msg).payload if p.payload == "ceb" else bytes(dxp_msg)
        if p.urlencode:
            return f"{quote(p.form_field, safe='')}={quote(_utf8(message), safe='')}".encode("ascii")
        return f"{p.form_field}=".encode("ascii") + message

    def send(self, dxp_msg: bytes, *, cop_msg_id: str) -> NodeReply:
        p = self.profile
        body = self.prepare(dxp_msg)
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"}
        what = f"transferDeclare {cop_msg_id}"

        def attempt(left: float) -> tuple[int, str]:
            reply = post(
                self.session,
                p.url,
                data=body,
                headers=headers,
                timeout=clamp_timeout(p.connect_timeout, p.read_timeout, left),
                max_response_bytes=p.max_response_bytes,
                what=what,
            )
            check_status(reply, what=what)
            return reply.status, reply.body.decode("utf-8", "replace")

        status, text = self.retry.call(attempt, what=what)
        parsed = parse_transfer_reply(text)
        result = None
        messages = parsed.messages
        if parsed.xml is not None and extract_mo(parsed.xml) is not None:
            result, _, result_messages = _result_of(parsed.xml)
            messages = messages + result_messages
        log.info("%s: %s", what, "accepted" if parsed.accepted else "refused")
        return NodeReply(
            accepted=parsed.accepted,
            transport="rest",
            cop_msg_id=cop_msg_id,
            status=status,
            text=parsed.xml if parsed.xml is not None else text,
            result=result,
            messages=messages,
        )
