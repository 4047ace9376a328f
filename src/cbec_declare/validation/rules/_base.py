"""What every rule module shares: field metadata, element paths, exact arithmetic, findings.

Paths follow :class:`~cbec_declare.validation.report.Finding`: element names from the spec, 0-based
indexes on repeated elements, wrappers included (``CEB411Message/Payment[0]/PaymentHead/amountPaid``).
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, TypeAlias

import attrs

from ...models._spec import ChildSpec, FieldSpec, spec_of
from ..report import Finding, Severity
from .context import RuleContext

__all__ = [
    "ERROR",
    "WARNING",
    "FieldCheck",
    "Issue",
    "Issues",
    "Rule",
    "at",
    "documents",
    "entity_finding",
    "exact_mul",
    "exact_sum",
    "field_finding",
    "field_spec",
    "item_path",
    "part_path",
    "show",
]

ERROR = Severity.ERROR
WARNING = Severity.WARNING

#: A rule reads one message (a model) and yields findings.
Rule: TypeAlias = Callable[[Any, RuleContext], Iterable[Finding]]
#: (code, message, severity) — a field check's result; the walker adds path and 中文名.
Issue: TypeAlias = tuple[str, str, Severity]
#: what a field check returns: a tuple (usually empty) is cheaper than a generator on the hot path
Issues: TypeAlias = tuple[Issue, ...]
#: ``check(value, entity, context)``; only called for present (non-None, non-empty) values.
FieldCheck: TypeAlias = Callable[[Any, Any, RuleContext], Iterable[Issue]]

# N19,5 values multiply to at most 38 significant digits and 99 of them add a few more; 80 digits of
# precision keep every product and sum exact, where the default 28 would round silently.
_EXACT = decimal.Context(prec=80, rounding=decimal.ROUND_HALF_EVEN, traps=[decimal.InvalidOperation])


def exact_mul(a: Decimal, b: Decimal) -> Decimal:
    return _EXACT.multiply(a, b)


def exact_sum(values: Iterable[Decimal]) -> Decimal:
    result = Decimal(0)
    for value in values:
        result = _EXACT.add(result, value)
    return result


def show(value: Decimal) -> str:
    """An amount for a message: no exponent, no trailing zeros (``2000``, ``0.01``)."""
    text = format(value.normalize(_EXACT), "f")
    return "0" if text in ("-0", "0") else text


_FIELDS: dict[tuple[type[Any], str], FieldSpec] = {}
_CHILDREN: dict[tuple[type[Any], str], ChildSpec] = {}


def field_spec(cls: type[Any], attr: str) -> FieldSpec:
    """The :class:`FieldSpec` of a scalar field (cached; the metadata never changes)."""
    spec = _FIELDS.get((cls, attr))
    if spec is None:
        found = spec_of(attrs.fields_dict(cls)[attr])
        assert isinstance(found, FieldSpec), (cls, attr)
        spec = _FIELDS[cls, attr] = found
    return spec


def _child_spec(cls: type[Any], attr: str) -> ChildSpec:
    spec = _CHILDREN.get((cls, attr))
    if spec is None:
        found = spec_of(attrs.fields_dict(cls)[attr])
        assert isinstance(found, ChildSpec), (cls, attr)
        spec = _CHILDREN[cls, attr] = found
    return spec


def at(base: str, cls: type[Any], attr: str) -> tuple[str, str]:
    """The path and Chinese name of field ``attr`` of an entity at ``base``."""
    spec = field_spec(cls, attr)
    return f"{base}/{spec.element}", spec.zh


def field_finding(
    code: str,
    message: str,
    base: str,
    cls: type[Any],
    attr: str,
    severity: Severity = ERROR,
) -> Finding:
    """A finding on one field: path and 中文名 come from the model metadata."""
    path, zh = at(base, cls, attr)
    return Finding(code=code, message=message, path=path, zh=zh, severity=severity, source="rule")


def entity_finding(code: str, message: str, path: str, cls: type[Any], severity: Severity = ERROR) -> Finding:
    """A finding on a whole entity (an order, an item list)."""
    zh: str = cls.__ceb__.zh
    return Finding(code=code, message=message, path=path, zh=zh, severity=severity, source="rule")


def part_path(base: str, cls: type[Any], attr: str) -> str:
    """Path of a single child entity (``.../OrderHead``)."""
    return f"{base}/{_child_spec(cls, attr).element}"


def item_path(base: str, cls: type[Any], attr: str, index: int) -> str:
    """Path of the ``index``-th entity of a repeated child (``.../OrderList[1]``)."""
    spec = _child_spec(cls, attr)
    if spec.wrapper:
        return f"{base}/{spec.wrapper}[{index}]/{spec.element}"
    return f"{base}/{spec.element}[{index}]"


def documents(message: Any) -> list[tuple[Any, str]]:
    """The business documents of a message with their paths.

    ``(Order, "CEB311Message/Order[0]")``, ``(PaymentHead, "CEB411Message/Payment[0]/PaymentHead")``.
    """
    cls = type(message)
    root: str = cls.__ceb__.element
    body: str = cls.__body__
    return [(doc, item_path(root, cls, body, i)) for i, doc in enumerate(getattr(message, body))]
