"""Field metadata for the ``<mo>`` 杭州版 models: the one place where Python names meet ``<mo>`` names.

The CEB models use :mod:`cbec_declare.models._spec`; the ``<mo>`` format differs enough to want its
own small mapping: no namespace, list wrappers *around* repeated items (``jkfOrderDetailList`` holds
many ``jkfOrderDetail``), dates written as ``yyyy-MM-dd HH:mm:ss``, and widths that are mostly
unknown (so none are enforced here). Each model field is declared with one of the factories below;
the factory stores a :class:`MoField` or :class:`MoChild` in the attrs metadata and a converter that
turns what a caller passes into the canonical Python value, or raises
:class:`~cbec_declare.errors.ModelError` naming the ``<mo>`` element.

Every field defaults to ``None`` (or ``()``): receipts from the platform omit fields freely, and the
parser must not refuse them. ``required`` is what :func:`~cbec_declare.transport.mo.build_mo` insists
on before it writes a request, so a missing value is a :class:`~cbec_declare.errors.BuildError`
naming the element path, raised before anything is sent.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Protocol

import attrs

from ...errors import ModelError
from ...models._spec import FieldSpec, Kind, to_decimal

__all__ = [
    "MoChild",
    "MoEntity",
    "MoField",
    "MoKind",
    "mo_amount",
    "mo_child",
    "mo_children",
    "mo_datetime",
    "mo_elements",
    "mo_fields",
    "mo_integer",
    "mo_text",
]

META = "cbec_mo"


class MoKind(enum.Enum):
    TEXT = "text"
    DECIMAL = "decimal"
    INT = "int"
    DATETIME = "datetime"


@attrs.frozen
class MoField:
    """One scalar ``<mo>`` element. ``fmt`` is the strftime pattern of a DATETIME field."""

    element: str
    zh: str
    kind: MoKind
    required: bool = False
    fmt: str | None = None


@attrs.frozen
class MoChild:
    """A nested entity; ``many`` items sit inside ``wrapper`` (``jkfOrderDetailList``) when given."""

    element: str
    zh: str
    entity: type[Any]
    many: bool
    required: bool = False
    wrapper: str | None = None


class MoEntity(Protocol):
    """Every ``<mo>`` entity class carries ``__mo__`` = its element name."""

    __mo__: ClassVar[str]


# Classes are few and fixed: their field plans are computed once and kept.
_FIELDS: dict[type[Any], tuple[tuple[str, MoField | MoChild], ...]] = {}
_ELEMENTS: dict[type[Any], dict[str, tuple[str, MoField | MoChild]]] = {}


def mo_fields(cls: type[Any]) -> tuple[tuple[str, MoField | MoChild], ...]:
    """(attribute name, spec) pairs of a model class, in wire order."""
    plan = _FIELDS.get(cls)
    if plan is None:
        fields = attrs.fields(cls)
        plan = _FIELDS[cls] = tuple((f.name, f.metadata[META]) for f in fields if META in f.metadata)
    return plan


def mo_elements(cls: type[Any]) -> dict[str, tuple[str, MoField | MoChild]]:
    """Element name (the wrapper's, for wrapped lists) → (attribute name, spec), for readers."""
    plan = _ELEMENTS.get(cls)
    if plan is None:
        plan = _ELEMENTS[cls] = {
            (spec.wrapper if isinstance(spec, MoChild) and spec.wrapper else spec.element): (attr, spec)
            for attr, spec in mo_fields(cls)
        }
    return plan


def _fail(element: str, zh: str, message: str) -> ModelError:
    return ModelError(message, code="model.value", field=element, zh=zh)


def _conv_text(spec: MoField) -> Callable[[Any], Any]:
    def convert(value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, enum.Enum):
            value = value.value
        if isinstance(value, str):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        raise _fail(spec.element, spec.zh, f"expects text, got {type(value).__name__}")

    return convert


def _conv_decimal(spec: MoField) -> Callable[[Any], Any]:
    # Reuse the CEB models' rules (no floats, no exponent) so both formats accept the same input.
    ceb_spec = FieldSpec(spec.element, spec.zh, Kind.DECIMAL)

    def convert(value: Any) -> Decimal | None:
        if value is None:
            return None
        return to_decimal(value, ceb_spec)

    return convert


_INT_TEXT = re.compile(r"[+-]?[0-9]{1,18}")
_INT_LIMIT = Decimal(10) ** 18


def _conv_int(spec: MoField) -> Callable[[Any], Any]:
    def convert(value: Any) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool):
            raise _fail(spec.element, spec.zh, "expects a whole number, got a bool")
        if isinstance(value, int):
            return value
        # Bounded: int() of a Decimal like 1E+1000000 or of a 5000-digit string takes seconds to hours.
        if (
            isinstance(value, Decimal)
            and value.is_finite()
            and abs(value) < _INT_LIMIT
            and value == value.to_integral_value()
        ):
            return int(value)
        if isinstance(value, str) and _INT_TEXT.fullmatch(value.strip()):
            return int(value.strip())
        raise _fail(spec.element, spec.zh, f"expects a whole number, got {value!r}")

    return convert


def _conv_datetime(spec: MoField) -> Callable[[Any], Any]:
    fmt = spec.fmt
    assert fmt is not None

    def convert(value: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.replace(microsecond=0)
        if isinstance(value, str):
            try:
                return datetime.strptime(value.strip(), fmt)
            except ValueError as exc:
                raise _fail(spec.element, spec.zh, f"{value!r} does not match the format {fmt!r}") from exc
        raise _fail(spec.element, spec.zh, f"expects a datetime, got {type(value).__name__}")

    return convert


def _conv_child(spec: MoChild) -> Callable[[Any], Any]:
    cls = spec.entity

    def check(item: Any, where: str) -> Any:
        if isinstance(item, dict):
            try:
                return cls(**item)
            except TypeError as exc:
                raise _fail(spec.element, spec.zh, f"{where}: {exc}") from exc
        if not isinstance(item, cls):
            raise _fail(spec.element, spec.zh, f"{where}: expects {cls.__name__}, got {type(item).__name__}")
        return item

    if spec.many:

        def convert_many(value: Any) -> tuple[Any, ...]:
            if value is None:
                value = ()
            if isinstance(value, (str, bytes, dict)) or not isinstance(value, Iterable):
                raise _fail(spec.element, spec.zh, f"expects a sequence of {cls.__name__}")
            return tuple(check(item, f"item {i}") for i, item in enumerate(value))

        return convert_many

    def convert_one(value: Any) -> Any:
        if value is None:
            return None
        return check(value, "value")

    return convert_one


def _scalar(spec: MoField, converter: Callable[[Any], Any], default: Any) -> Any:
    if default is attrs.NOTHING:
        default = None
    return attrs.field(default=default, converter=converter, metadata={META: spec})


def mo_text(element: str, zh: str, *, required: bool = False, default: Any = attrs.NOTHING) -> Any:
    """A text element."""
    spec = MoField(element, zh, MoKind.TEXT, required)
    return _scalar(spec, _conv_text(spec), default)


def mo_amount(element: str, zh: str, *, required: bool = False, default: Any = attrs.NOTHING) -> Any:
    """A money, weight or quantity element: ``Decimal``, never float."""
    spec = MoField(element, zh, MoKind.DECIMAL, required)
    return _scalar(spec, _conv_decimal(spec), default)


def mo_integer(element: str, zh: str, *, required: bool = False, default: Any = attrs.NOTHING) -> Any:
    spec = MoField(element, zh, MoKind.INT, required)
    return _scalar(spec, _conv_int(spec), default)


def mo_datetime(
    element: str, zh: str, fmt: str, *, required: bool = False, default: Any = attrs.NOTHING
) -> Any:
    """A date/time written with ``fmt`` (``%Y-%m-%d %H:%M:%S`` in requests); naive Beijing time."""
    spec = MoField(element, zh, MoKind.DATETIME, required, fmt)
    return _scalar(spec, _conv_datetime(spec), default)


def mo_child(element: str, zh: str, entity: type[Any], *, required: bool = True) -> Any:
    spec = MoChild(element, zh, entity, many=False, required=required)
    return attrs.field(default=None, converter=_conv_child(spec), metadata={META: spec})


def mo_children(
    element: str, zh: str, entity: type[Any], *, wrapper: str | None, required: bool = True
) -> Any:
    """Repeated items; ``wrapper`` is the list element around them (``None``: items stand directly)."""
    spec = MoChild(element, zh, entity, many=True, required=required, wrapper=wrapper)
    return attrs.field(default=attrs.Factory(tuple), converter=_conv_child(spec), metadata={META: spec})
