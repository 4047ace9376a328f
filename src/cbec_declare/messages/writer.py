"""Models → XML bytes, written directly in canonical (C14N 1.0) form.

The builder does not build a tree and serialise it: it writes the text that inclusive C14N would
produce for the same document — namespace declarations only on the root, sorted, attributes sorted,
``<a></a>`` for empty elements, C14N escaping, no whitespace between elements. So the bytes after the
XML declaration *are* the canonical form: the signer can digest them without a C14N pass, and what is
signed is byte-for-byte what is sent. ``tests/messages`` proves the equality with lxml's C14N.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from lxml import etree

from .._xml import CEB_NS, XSI_NS, parse_untrusted
from ..errors import BuildError, XmlError
from ..models._spec import FieldSpec, Kind
from ._codegen import check_chars, writer_for
from ._compiled import compiled

__all__ = ["XML_DECLARATION", "build", "canonical_body", "format_value"]

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>'
ROOT_NAMESPACES = f' xmlns:ceb="{CEB_NS}" xmlns:xsi="{XSI_NS}"'

_ATTR_NEEDS_ESCAPE = re.compile('[&<"\t\n\r]')


def _escape_attr(value: str) -> str:
    if _ATTR_NEEDS_ESCAPE.search(value) is None:
        return value
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace('"', "&quot;")
        .replace("\t", "&#x9;")
        .replace("\n", "&#xA;")
        .replace("\r", "&#xD;")
    )


def format_value(value: Any, spec: FieldSpec) -> str:
    """A model value as the spec writes it (no escaping)."""
    kind = spec.kind
    if kind is Kind.TEXT or kind is Kind.ATTRIBUTE or kind is Kind.FRAGMENT:
        return str(value)
    if kind is Kind.DECIMAL:
        assert isinstance(value, Decimal)
        # 'f' never uses an exponent: Decimal("1E+2") is written 100, as xs:decimal requires.
        return format(value, "f")
    if kind is Kind.INT:
        return str(int(value))
    if kind is Kind.TIMESTAMP:
        assert isinstance(value, datetime)
        return value.strftime("%Y%m%d%H%M%S")
    if kind is Kind.TIMESTAMP_MS:
        assert isinstance(value, datetime)
        return value.strftime("%Y%m%d%H%M%S") + f"{value.microsecond // 1000:03d}"
    if kind is Kind.DATE:
        assert isinstance(value, date)
        return value.strftime("%Y%m%d")
    raise AssertionError(kind)  # pragma: no cover


_FRAGMENT_OPEN = f'<ceb:Message xmlns:ceb="{CEB_NS}" xmlns:xsi="{XSI_NS}">'


def canonical_fragment(value: str, path: str, spec: FieldSpec) -> str:
    """One XML element as C14N writes it inside our root (namespaces ceb and xsi in scope)."""
    if not value.strip():
        return ""
    source = f"{_FRAGMENT_OPEN}{value}</ceb:Message>"
    try:
        holder = parse_untrusted(source.encode("utf-8"), what=f"{path} (XML fragment)")
    except XmlError as exc:
        raise BuildError(exc.message, code="build.fragment", field=path, zh=spec.zh) from exc
    elements = [node for node in holder if isinstance(node.tag, str)]
    stray = (holder.text or "").strip() or any((node.tail or "").strip() for node in holder)
    if len(elements) > 1 or stray:
        raise BuildError(
            "must be at most one XML element (xs:any), with no text around it",
            code="build.fragment",
            field=path,
            zh=spec.zh,
        )
    canon: bytes = etree.tostring(holder, method="c14n", with_comments=False)
    start = canon.index(b">") + 1
    return canon[start : -len(b"</ceb:Message>")].decode("utf-8")


def canonical_body(message: Any) -> str:
    """The message as canonical XML text, without the XML declaration."""
    plan = compiled(type(message))
    root = plan.element
    out: list[str] = [f"<ceb:{root}{ROOT_NAMESPACES}"]
    for slot in plan.attributes:
        value = getattr(message, slot.attr)
        assert isinstance(slot.spec, FieldSpec)
        check_chars(value, slot.spec, f"{root}/@{slot.spec.element}")
        out.append(f' {slot.spec.element}="{_escape_attr(value)}"')
    out.append(">")
    writer_for(type(message))(message, out.append, root)
    out.append(f"</ceb:{root}>")
    return "".join(out)


def build(message: Any, *, declaration: bool = True) -> bytes:
    """Write a message model as compact, deterministic UTF-8 XML bytes.

    ``declaration`` prepends ``<?xml version="1.0" encoding="UTF-8"?>``. The bytes after it are exactly
    the document's inclusive C14N form. Raises :class:`~cbec_declare.errors.BuildError` for values that
    XML cannot carry; the spec's lengths, codes and rules are checked by :func:`cbec_declare.validate`.
    """
    if not hasattr(type(message), "__ceb__") or not hasattr(type(message), "__body__"):
        raise BuildError(
            f"expects a message model such as CEB311Message, got {type(message).__name__}", code="build.type"
        )
    body = canonical_body(message).encode("utf-8")
    return XML_DECLARATION + body if declaration else body
