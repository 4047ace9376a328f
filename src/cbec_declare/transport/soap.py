"""A minimal SOAP 1.1 document/literal-wrapped envelope writer and a tolerant reader.

The zjport services are JAX-WS endpoints: a request is ``Envelope/Body/{ns}operation`` with the
parameters as *unqualified* children in a fixed order; the answer is ``{ns}operationResponse`` with
an unqualified ``<return>`` string [H]. A full SOAP stack (WSDL fetching, type mapping) buys nothing
for four string parameters, so the envelope is written here, like the hand-built envelopes
enterprise clients post.

The ``<return>`` string arrives XML-escaped in practice, but readers must not depend on it:
:func:`extract_return` accepts escaped text, a CDATA section, or raw elements, and
:func:`extract_mo` then finds the ``<mo>…</mo>`` document inside (as one client does: from
``<mo`` to the last ``</mo>``, ignoring any XML declaration). A SOAP Fault becomes
:class:`~cbec_declare.errors.RemoteRejected` (JAX-WS reports every service exception as a fault with
HTTP 500; resending the same bytes would only fail again). The server-side helpers
(:func:`parse_request`, :func:`build_response`, :func:`build_fault`) serve the local sandbox.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

import attrs
from lxml import etree

from .._xml import DEFAULT_MAX_BYTES, parse_untrusted
from ..errors import BuildError, CbecError, ConfigError, ReceiptError, RemoteRejected, UnexpectedDocumentError
from .http import HttpReply, check_status

__all__ = [
    "SOAP11_NS",
    "SOAP12_NS",
    "SoapCall",
    "build_fault",
    "build_request",
    "build_response",
    "extract_mo",
    "extract_return",
    "parse_request",
    "soap_return",
]

SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
_ENVELOPES = (SOAP11_NS, SOAP12_NS)

_MO_START = re.compile(r"<mo[\s>/]")


def _local(node: etree._Element) -> str | None:
    return etree.QName(node).localname if isinstance(node.tag, str) else None


def _elements(node: etree._Element) -> list[etree._Element]:
    return [child for child in node if isinstance(child.tag, str)]


def build_request(
    namespace: str,
    operation: str,
    params: Sequence[tuple[str, str | None]],
    *,
    qualified: bool = False,
    cdata: Collection[str] = (),
) -> bytes:
    """``<soapenv:Envelope>…<ws:operation><p1>…</p1>…</ws:operation>…`` as UTF-8 bytes.

    ``None`` values are left out (the WSDL has ``minOccurs=0``). Parameters named in ``cdata`` are
    written as a CDATA section unless the value itself contains ``]]>`` (then escaped text).
    """
    envelope = etree.Element(f"{{{SOAP11_NS}}}Envelope", nsmap={"soapenv": SOAP11_NS, "ws": namespace})
    etree.SubElement(envelope, f"{{{SOAP11_NS}}}Header")
    body = etree.SubElement(envelope, f"{{{SOAP11_NS}}}Body")
    wrapper = etree.SubElement(body, f"{{{namespace}}}{operation}")
    for name, value in params:
        if value is None:
            continue
        node = etree.SubElement(wrapper, f"{{{namespace}}}{name}" if qualified else name)
        try:
            node.text = etree.CDATA(value) if name in cdata and "]]>" not in value else value
        except ValueError as exc:
            raise BuildError(
                f"SOAP parameter {name} cannot be written in XML: {exc}", code="build.soap", field=name
            ) from exc
    return etree.tostring(envelope, encoding="UTF-8", xml_declaration=False)


def _body(root: etree._Element, what: str) -> etree._Element:
    if _local(root) != "Envelope" or etree.QName(root).namespace not in _ENVELOPES:
        raise UnexpectedDocumentError(
            f"{what} is not a SOAP envelope (root <{_local(root)}>)", code="xml.unexpected.soap"
        )
    bodies = [n for n in _elements(root) if _local(n) == "Body"]
    if len(bodies) != 1:
        raise UnexpectedDocumentError(f"{what} has no single SOAP Body", code="xml.unexpected.soap")
    return bodies[0]


def _text_of(node: etree._Element) -> str:
    """A parameter's string value: its text, or its raw child elements serialised back."""
    children = _elements(node)
    if not children:
        return node.text or ""
    parts = [node.text or ""]
    for child in children:
        parts.append(etree.tostring(child, encoding="unicode", with_tail=True))
    return "".join(parts)


def _raise_fault(wrapper: etree._Element) -> None:
    fields = {
        (_local(n) or "").lower(): (n.text or "").strip() for n in wrapper.iter() if isinstance(n.tag, str)
    }
    code = fields.get("faultcode") or fields.get("value") or "?"
    reason = fields.get("faultstring") or fields.get("text") or "(no reason given)"
    raise RemoteRejected(
        f"the service answered a SOAP Fault {code}: {reason[:500]}",
        code="transport.rejected.soap_fault",
        fault_code=code,
    )


def extract_return(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The ``<return>`` string of a wrapped response (escaped, CDATA or raw), or raise for a Fault."""
    root = parse_untrusted(data, max_bytes=max_bytes, what="SOAP response")
    body = _body(root, "the SOAP response")
    children = _elements(body)
    if not children:
        raise ReceiptError("the SOAP response Body is empty", code="receipt.soap.empty")
    wrapper = children[0]
    if _local(wrapper) == "Fault":
        _raise_fault(wrapper)
    returns = [n for n in _elements(wrapper) if _local(n) == "return"]
    if len(returns) != 1:
        raise ReceiptError(
            f"the SOAP response <{_local(wrapper)}> holds {len(returns)} <return> elements, not one",
            code="receipt.soap.no_return",
        )
    return _text_of(returns[0])


def extract_mo(text: str) -> bytes | None:
    """The ``<mo>…</mo>`` document inside a return string, as UTF-8 bytes; ``None`` if there is none."""
    start = _MO_START.search(text)
    if start is None:
        return None
    end = text.rfind("</mo>")
    if end < start.start():
        # A self-closed or truncated <mo>: hand what there is to the parser, which names the fault.
        return text[start.start() :].encode("utf-8")
    return text[start.start() : end + len("</mo>")].encode("utf-8")


@attrs.frozen
class SoapCall:
    """A parsed request: wrapper namespace and operation, parameters by local name (server side)."""

    namespace: str | None
    operation: str
    params: dict[str, str]


def parse_request(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> SoapCall:
    """Read a wrapped request as the platform would (parameters by local name, any qualification)."""
    root = parse_untrusted(data, max_bytes=max_bytes, what="SOAP request")
    body = _body(root, "the SOAP request")
    children = _elements(body)
    if len(children) != 1:
        raise UnexpectedDocumentError(
            "the SOAP request Body must hold one operation element", code="xml.unexpected.soap"
        )
    wrapper = children[0]
    params: dict[str, str] = {}
    for node in _elements(wrapper):
        name = _local(node) or ""
        if name in params:
            raise UnexpectedDocumentError(
                f"SOAP parameter {name} occurs twice", code="xml.unexpected.soap", field=name
            )
        params[name] = _text_of(node)
    return SoapCall(etree.QName(wrapper).namespace, _local(wrapper) or "", params)


def build_response(namespace: str, operation: str, value: str, *, style: str = "escaped") -> bytes:
    """A JAX-WS-style response; ``style`` is ``escaped`` (as observed), ``cdata`` or ``raw``."""
    envelope = etree.Element(f"{{{SOAP11_NS}}}Envelope", nsmap={"soap": SOAP11_NS})
    body = etree.SubElement(envelope, f"{{{SOAP11_NS}}}Body")
    wrapper = etree.SubElement(body, f"{{{namespace}}}{operation}Response", nsmap={"ns2": namespace})
    node = etree.SubElement(wrapper, "return")
    if style == "escaped":
        node.text = value
    elif style == "cdata":
        node.text = etree.CDATA(value)
    elif style == "raw":
        inner = value[value.index("?>") + 2 :] if value.lstrip().startswith("<?xml") else value
        node.append(parse_untrusted(inner.encode("utf-8"), what="raw return value"))
    else:
        raise ConfigError(f"unknown response style {style!r}", code="config.soap_style")
    return etree.tostring(envelope, encoding="UTF-8", xml_declaration=True)


def build_fault(faultcode: str, faultstring: str) -> bytes:
    """A SOAP 1.1 Fault (``soap:Client`` / ``soap:Server``)."""
    envelope = etree.Element(f"{{{SOAP11_NS}}}Envelope", nsmap={"soap": SOAP11_NS})
    body = etree.SubElement(envelope, f"{{{SOAP11_NS}}}Body")
    fault = etree.SubElement(body, f"{{{SOAP11_NS}}}Fault")
    etree.SubElement(fault, "faultcode").text = faultcode
    etree.SubElement(fault, "faultstring").text = faultstring
    return etree.tostring(envelope, encoding="UTF-8", xml_declaration=True)


def soap_return(reply: HttpReply, *, what: str, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The ``<return>`` string of an HTTP answer, judging status and Fault in the right order.

    JAX-WS answers a service exception with HTTP 500 *and* a Fault: that is a rejection, not a
    server outage, so a Fault is looked for before the status is judged.
    """
    if not 200 <= reply.status < 300:
        if b"Fault" in reply.body:
            try:
                extract_return(reply.body, max_bytes=max_bytes)
            except RemoteRejected:
                raise
            except CbecError:
                pass  # not a readable Fault: judge by status below
        check_status(reply, what=what)
    return extract_return(reply.body, max_bytes=max_bytes)
