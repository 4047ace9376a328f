"""XML bytes → models, for declarations and receipts alike.

Prefix-agnostic (``ceb:`` or a default namespace; elements without a namespace are tolerated, as
some gateways strip it), BOM and declared encodings accepted, the ``ds:Signature`` of a declaration
skipped (verification is :mod:`cbec_declare.signing`'s job). Input is untrusted: parsing goes through
:func:`cbec_declare._xml.parse_untrusted`, and anything that does not fit the model — an unknown or
repeated element, a bad number or date — is an :class:`~cbec_declare.errors.UnexpectedDocumentError`
naming the element path.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from lxml import etree

from .._xml import CEB_NS, DEFAULT_MAX_BYTES, DS_NS, parse_untrusted
from ..errors import ModelError, UnexpectedDocumentError
from ..models import DECLARATION_MESSAGES, RECEIPT_MESSAGES
from ..models._spec import ChildSpec, FieldSpec, Kind, parse_stamp, to_decimal
from ._compiled import CompiledEntity, compiled

__all__ = ["MESSAGE_CLASSES", "parse", "parse_element"]

T = TypeVar("T")

MESSAGE_CLASSES: dict[str, type[Any]] = {**DECLARATION_MESSAGES, **RECEIPT_MESSAGES}
_ACCEPTED_NS = (CEB_NS, None)
_INT_TEXT = re.compile(r"[+-]?[0-9]{1,18}")


def _split(tag: Any) -> tuple[str | None, str]:
    if not isinstance(tag, str):
        return None, ""
    if tag[0] == "{":
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return None, tag


def _unexpected(message: str, path: str, zh: str | None = None) -> UnexpectedDocumentError:
    return UnexpectedDocumentError(message, code="xml.unexpected", field=path, zh=zh)


def _scalar(element: etree._Element, spec: FieldSpec, path: str) -> Any:
    if len(element):
        raise _unexpected("holds child elements where text is expected", path, spec.zh)
    text = element.text or ""
    kind = spec.kind
    try:
        if kind is Kind.TEXT:
            return text
        if kind is Kind.DECIMAL:
            return to_decimal(text, spec)
        if kind is Kind.INT:
            stripped = text.strip()
            # xs:int fits in 10 digits; the bound also keeps int() away from huge inputs.
            if not _INT_TEXT.fullmatch(stripped):
                raise _unexpected(f"{text[:40]!r} is not a whole number of at most 18 digits", path, spec.zh)
            return int(stripped)
        return parse_stamp(text.strip(), kind, spec)
    except ModelError as exc:
        raise _unexpected(exc.message, path, spec.zh) from exc


def _fragment(element: etree._Element) -> str:
    canon: bytes = etree.tostring(element, method="c14n", with_comments=False)
    start = canon.index(b">") + 1
    end = canon.rindex(b"</")
    return canon[start:end].decode("utf-8").strip()


_SIGNATURE_TAG = f"{{{DS_NS}}}Signature"


def _read(element: etree._Element, plan: CompiledEntity, path: str) -> Any:
    values: dict[str, Any] = {}
    many: dict[str, list[Any]] = {}
    by_tag = plan.by_tag
    for node in element:
        tag = node.tag
        slot = by_tag.get(tag)
        if slot is None:
            if not isinstance(tag, str) or tag == _SIGNATURE_TAG:
                continue  # comments and PIs carry no data; the signature is verify()'s business
            ns, local = _split(tag)
            if ns not in _ACCEPTED_NS:
                raise _unexpected(f"element in unexpected namespace {ns!r}", f"{path}/{local}")
            raise _unexpected(f"{plan.element} has no element {local!r}", f"{path}/{local}")
        spec = slot.spec
        if isinstance(spec, ChildSpec):
            name = spec.wrapper or spec.element
            target = node
            if spec.wrapper:
                inner = [n for n in node if isinstance(n.tag, str)]
                if len(inner) != 1 or _split(inner[0].tag)[1] != spec.element:
                    raise _unexpected(
                        f"{spec.wrapper} must contain exactly one {spec.element}", f"{path}/{name}"
                    )
                target = inner[0]
            assert slot.child is not None
            if spec.many:
                bucket = many.setdefault(slot.attr, [])
                bucket.append(_read(target, slot.child, f"{path}/{name}[{len(bucket)}]"))
            else:
                if slot.attr in values:
                    raise _unexpected("occurs more than once", f"{path}/{name}", spec.zh)
                values[slot.attr] = _read(target, slot.child, f"{path}/{name}")
            continue
        if slot.attr in values:
            raise _unexpected("occurs more than once", f"{path}/{spec.element}", spec.zh)
        if spec.kind is Kind.TEXT and not len(node):
            values[slot.attr] = node.text or ""
        elif spec.kind is Kind.FRAGMENT:
            values[slot.attr] = _fragment(node)
        else:
            values[slot.attr] = _scalar(node, spec, f"{path}/{spec.element}")
    for slot in plan.attributes:
        value = element.get(slot.spec.element)
        if value is not None:
            values[slot.attr] = value
    for attr, items in many.items():
        values[attr] = tuple(items)
    # A missing required element would surface as a model error; name the element instead.
    for attr, name, zh in plan.required:
        if attr not in values:
            raise _unexpected(f"required element {name!r} is missing", f"{path}/{name}", zh)
    try:
        return plan.cls(**values)
    except ModelError as exc:
        raise _unexpected(exc.message, f"{path}/{exc.field}", exc.zh) from exc


def parse_element(root: etree._Element, expect: type[T] | None = None) -> T:
    """Read an already parsed (trusted or safely parsed) element into its message model."""
    ns, local = _split(root.tag)
    if ns not in _ACCEPTED_NS:
        raise _unexpected(f"root element is in namespace {ns!r}, not {CEB_NS!r}", local or "?")
    cls = MESSAGE_CLASSES.get(local)
    if cls is None:
        raise _unexpected(f"{local!r} is not a 统一版 import message this library reads", local)
    if expect is not None and cls is not expect:
        raise _unexpected(f"expected {expect.__ceb__.element}, got {local}", local)  # type: ignore[attr-defined]
    result: T = _read(root, compiled(cls), local)
    return result


def parse(data: bytes | str, *, expect: type[T] | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> T:
    """Parse any 统一版 import message or receipt (CEB311…CEB900) into its model.

    ``expect`` restricts the accepted message class; ``max_bytes`` caps the input size.
    """
    root = parse_untrusted(data, max_bytes=max_bytes, what="message")
    return parse_element(root, expect)
