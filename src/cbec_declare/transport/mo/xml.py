"""``<mo>`` models → XML bytes and back.

:func:`build_mo` writes ``<?xml version="1.0" encoding="UTF-8"?><mo version="1.0.0"><head>
<businessType>…</businessType></head><body>…</body></mo>``, compact, UTF-8, fields in the order the
samples use, ``None`` fields left out (as JAXB does). It refuses, with a
:class:`~cbec_declare.errors.BuildError` naming the element path, a request that lacks a field the
platform needs (``required`` in the models) or text XML cannot carry.

:func:`parse_mo` reads untrusted bytes through :func:`cbec_declare._xml.parse_untrusted` and picks the
model by ``head/businessType`` and the first element under ``<body>`` (``PERSONAL_GOODS_DECLAR`` is
both a request and a receipt). The format is only partly known, so by default an element the model
does not know is skipped and logged (by name only: values may be personal data); ``strict=True``
makes it an :class:`~cbec_declare.errors.UnexpectedDocumentError`. A value that does not fit its
field (a bad number or date), a repeated element or text where a structure belongs is always an
error naming the path.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from lxml import etree

from ..._xml import DEFAULT_MAX_BYTES, parse_untrusted
from ...errors import BuildError, ModelError, UnexpectedDocumentError
from ._fields import MoChild, MoField, MoKind, mo_elements, mo_fields
from .models import (
    ImportOrder,
    MoGeneric,
    MoMessage,
    PersonalGoodsDeclar,
    PersonalGoodsDeclarReceipt,
    ResultReceipt,
)

__all__ = ["MO_MESSAGES", "build_mo", "mo_business_type", "parse_mo"]

log = logging.getLogger("cbec_declare.transport.mo")

M = TypeVar("M", bound=MoMessage)

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>'

#: The typed ``<mo>`` messages; anything else parses into :class:`MoGeneric`.
MO_MESSAGES: tuple[type[MoMessage], ...] = (
    ImportOrder,
    PersonalGoodsDeclar,
    PersonalGoodsDeclarReceipt,
    ResultReceipt,
)

# The receipt's body starts with jkfSign, which the request never has at that level.
_EXTRA_MARKS: dict[type[MoMessage], tuple[str, ...]] = {PersonalGoodsDeclarReceipt: ("jkfSign",)}


# --------------------------------------------------------------------------- build


def _format(value: Any, spec: MoField) -> str:
    if spec.kind is MoKind.DECIMAL:
        assert isinstance(value, Decimal)
        return format(value, "f")
    if spec.kind is MoKind.DATETIME:
        assert isinstance(value, datetime)
        assert spec.fmt is not None
        return value.strftime(spec.fmt)
    return str(value)


def _write(parent: etree._Element, obj: Any, path: str) -> None:
    for attr, spec in mo_fields(type(obj)):
        value = getattr(obj, attr)
        if isinstance(spec, MoChild):
            items = value if spec.many else (() if value is None else (value,))
            where = f"{path}/{spec.wrapper or spec.element}"
            if spec.required and not items:
                raise BuildError(
                    "is required by the platform and missing",
                    code="build.mo.missing",
                    field=where,
                    zh=spec.zh,
                )
            if not items:
                continue
            holder = etree.SubElement(parent, spec.wrapper) if spec.wrapper else parent
            for index, item in enumerate(items):
                node = etree.SubElement(holder, spec.element)
                _write(node, item, f"{where}/{spec.element}[{index}]" if spec.many else where)
            continue
        where = f"{path}/{spec.element}"
        if value is None:
            if spec.required:
                raise BuildError(
                    "is required by the platform and missing",
                    code="build.mo.missing",
                    field=where,
                    zh=spec.zh,
                )
            continue
        node = etree.SubElement(parent, spec.element)
        try:
            node.text = _format(value, spec)
        except ValueError as exc:  # lxml refuses control characters and NUL
            raise BuildError(
                f"cannot be written in XML: {exc}", code="build.character", field=where, zh=spec.zh
            ) from exc


def build_mo(message: MoMessage) -> bytes:
    """Write a ``<mo>`` message as compact UTF-8 bytes with an XML declaration."""
    given: object = message  # callers without a type checker pass anything
    if not isinstance(given, MoMessage):
        raise BuildError(
            f"expects a <mo> message model such as ImportOrder, got {type(given).__name__}",
            code="build.type",
        )
    root = etree.Element("mo", version=message.version)
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "businessType").text = message.business_type
    if isinstance(message, MoGeneric):
        body = parse_untrusted(message.body_xml, what="MoGeneric.body_xml")
        if body.tag != "body":
            raise BuildError("body_xml must be one <body> element", code="build.mo.body", field="mo/body")
        root.append(body)
    else:
        body = etree.SubElement(root, "body")
        _write(body, message, "mo/body")
    return XML_DECLARATION + etree.tostring(root, encoding="UTF-8", xml_declaration=False)


# --------------------------------------------------------------------------- parse


def _local(node: etree._Element) -> str | None:
    tag: object = node.tag  # a function for comments and processing instructions
    if not isinstance(tag, str):
        return None
    return etree.QName(node).localname


def _unexpected(message: str, path: str, zh: str | None = None) -> UnexpectedDocumentError:
    return UnexpectedDocumentError(message, code="xml.unexpected.mo", field=path, zh=zh)


_INT_TEXT = re.compile(r"[+-]?[0-9]{1,18}")
_DECIMAL_TEXT = re.compile(r"[+-]?([0-9]{1,40}(\.[0-9]{0,20})?|\.[0-9]{1,20})")


def _scalar(node: etree._Element, spec: MoField, path: str) -> Any:
    if any(isinstance(child.tag, str) for child in node):
        raise _unexpected("holds elements where text is expected", path, spec.zh)
    text = node.text or ""
    if spec.kind is MoKind.TEXT:
        return text
    stripped = text.strip()
    if not stripped:
        return None
    if spec.kind is MoKind.DATETIME:
        assert spec.fmt is not None
        try:
            return datetime.strptime(stripped, spec.fmt)
        except ValueError as exc:
            raise _unexpected(f"{stripped!r} does not match the format {spec.fmt!r}", path, spec.zh) from exc
    # Plain digits only, as xs:decimal writes them: an exponent (1E+1000000) would make int() and even
    # repr() of the value take hours.
    if spec.kind is MoKind.INT:
        if not _INT_TEXT.fullmatch(stripped):
            raise _unexpected(f"{stripped[:40]!r} is not a whole number of at most 18 digits", path, spec.zh)
        return int(stripped)
    if not _DECIMAL_TEXT.fullmatch(stripped):
        raise _unexpected(f"{stripped[:40]!r} is not a decimal number", path, spec.zh)
    try:
        return Decimal(stripped)
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only valid literals
        raise _unexpected(f"{stripped[:40]!r} is not a number", path, spec.zh) from exc


def _skip(where: str, strict: bool, owner: str) -> None:
    if strict:
        raise _unexpected(f"{owner} has no element {where.rsplit('/', 1)[-1]!r}", where)
    log.info("skipping unknown <mo> element %s", where)


def _read(element: etree._Element, cls: type[Any], path: str, strict: bool) -> dict[str, Any]:
    by_name = mo_elements(cls)
    values: dict[str, Any] = {}
    many: dict[str, list[Any]] = {}
    for node in element:
        local = _local(node)
        if local is None:
            continue
        where = f"{path}/{local}"
        entry = by_name.get(local)
        if entry is None:
            _skip(where, strict, etree.QName(element).localname)
            continue
        attr, spec = entry
        if isinstance(spec, MoChild):
            if spec.many:
                bucket = many.setdefault(attr, [])
                items = [n for n in node if _local(n) is not None] if spec.wrapper else [node]
                if spec.wrapper and (node.text or "").strip():
                    raise _unexpected("holds text where a list is expected", where, spec.zh)
                for item in items:
                    if _local(item) != spec.element:
                        _skip(f"{where}/{_local(item)}", strict, local)
                        continue
                    item_path = (
                        f"{where}/{spec.element}[{len(bucket)}]"
                        if spec.wrapper
                        else f"{where}[{len(bucket)}]"
                    )
                    bucket.append(_build(spec.entity, _read(item, spec.entity, item_path, strict), item_path))
                continue
            if attr in values:
                raise _unexpected("occurs more than once", where, spec.zh)
            values[attr] = _build(spec.entity, _read(node, spec.entity, where, strict), where)
            continue
        if attr in values:
            raise _unexpected("occurs more than once", where, spec.zh)
        values[attr] = _scalar(node, spec, where)
    for attr, items in many.items():
        values[attr] = tuple(items)
    return values


def _build(cls: type[Any], values: dict[str, Any], path: str) -> Any:
    try:
        return cls(**values)
    except ModelError as exc:
        raise _unexpected(exc.message, f"{path}/{exc.field}", exc.zh) from exc


def _pick(business_type: str, marks: list[str]) -> type[MoMessage] | None:
    for cls in MO_MESSAGES:
        if business_type != cls.BUSINESS_TYPE:
            continue
        accepted = (cls.BODY_MARK, *_EXTRA_MARKS.get(cls, ()))
        if marks and marks[0] in accepted:
            return cls
    return None


def _head(root: etree._Element) -> tuple[str, etree._Element]:
    if _local(root) != "mo":
        raise _unexpected(f"root element is <{_local(root)}>, not <mo>", _local(root) or "?")
    heads = [n for n in root if _local(n) == "head"]
    bodies = [n for n in root if _local(n) == "body"]
    if len(heads) != 1 or len(bodies) != 1:
        raise _unexpected("<mo> must hold exactly one <head> and one <body>", "mo")
    types = [n for n in heads[0] if _local(n) == "businessType"]
    if len(types) != 1 or not (types[0].text or "").strip():
        raise _unexpected("head/businessType is missing or empty", "mo/head/businessType")
    return (types[0].text or "").strip(), bodies[0]


def mo_business_type(data: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The ``head/businessType`` of a ``<mo>`` document (parsed safely)."""
    return _head(parse_untrusted(data, max_bytes=max_bytes, what="<mo> message"))[0]


def parse_mo(
    data: bytes | str,
    *,
    expect: type[M] | None = None,
    strict: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> MoMessage:
    """Parse a ``<mo>`` message into its model (:class:`MoGeneric` for types without a model).

    ``expect`` restricts the accepted class (e.g. :class:`ResultReceipt`); ``strict`` refuses unknown
    elements instead of skipping them.
    """
    root = parse_untrusted(data, max_bytes=max_bytes, what="<mo> message")
    business_type, body = _head(root)
    marks = [name for name in (_local(n) for n in body) if name is not None]
    cls = _pick(business_type, marks)
    version = root.get("version") or "1.0.0"
    if cls is None:
        if business_type in {c.BUSINESS_TYPE for c in MO_MESSAGES}:
            raise _unexpected(
                f"a {business_type} message whose body starts with {marks[0] if marks else 'nothing'!r}"
                " is not a shape this library knows",
                "mo/body",
            )
        result: MoMessage = MoGeneric(
            type_name=business_type,
            body_xml=etree.tostring(body, method="c14n"),
            version=version,
        )
    else:
        values = _read(body, cls, "mo/body", strict)
        result = _build(cls, {**values, "version": version}, "mo/body")
    if expect is not None and not isinstance(result, expect):
        raise _unexpected(
            f"expected a {expect.__name__}, got {type(result).__name__} ({business_type})", "mo"
        )
    return result
