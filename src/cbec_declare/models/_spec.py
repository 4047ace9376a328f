"""Field and entity metadata: the one place where Python names meet the spec's element names.

Each model field is declared with one of the factories below (:func:`text`, :func:`amount`,
:func:`integer`, :func:`timestamp`, :func:`timestamp_ms`, :func:`day`, :func:`fragment`, :func:`child`,
:func:`children`, :func:`attribute`). The factory records a :class:`FieldSpec` in the attrs metadata —
element name, Chinese name (中文名), value kind, XSD length/occurrence and the PDF's 必填 — and a
converter that turns what a caller passes into the canonical Python value (``str``, ``Decimal``,
``int``, ``datetime``, ``date``) or raises :class:`~cbec_declare.errors.ModelError` naming the field.

Builders, parsers and validators read this metadata; nothing else maps names.
"""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Protocol, TypeVar

import attrs

from ..errors import ModelError

__all__ = [
    "CHINA_TZ",
    "ChildSpec",
    "EntitySpec",
    "FieldSpec",
    "Kind",
    "Model",
    "amount",
    "attribute",
    "child",
    "children",
    "day",
    "entity_fields",
    "fragment",
    "integer",
    "new_guid",
    "text",
    "timestamp",
    "timestamp_ms",
]

#: Customs times are Beijing local time (UTC+8, no daylight saving).
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")

META = "cbec"


class Kind(enum.Enum):
    """How a value is written in the XML."""

    TEXT = "text"
    DECIMAL = "decimal"  # xs:decimal totalDigits 19 fractionDigits 5 ("N19,5")
    INT = "int"  # xs:int
    TIMESTAMP = "C14"  # YYYYMMDDhhmmss
    TIMESTAMP_MS = "C17"  # YYYYMMDDhhmmssSSS
    DATE = "C8"  # YYYYMMDD
    FRAGMENT = "xml"  # one arbitrary XML element (ExtendMessage/Message)
    ATTRIBUTE = "attr"  # a root attribute (guid, version)


@attrs.frozen
class FieldSpec:
    """Facts about one scalar field, from ``messages.md`` (XSD first, PDF for 必填)."""

    element: str
    zh: str
    kind: Kind
    min_length: int = 0
    max_length: int | None = None
    #: XSD minOccurs == 1
    required: bool = True
    #: the PDF's 必填 column; differs from ``required`` where messages.md §9 marks ⚠
    spec_required: bool = True
    fixed: str | None = None
    total_digits: int | None = None
    fraction_digits: int | None = None


@attrs.frozen
class ChildSpec:
    """A nested entity (or a list of them), optionally inside a wrapper element per item."""

    element: str
    zh: str
    entity: type[Any]
    min_occurs: int
    max_occurs: int | None  # None = unbounded
    many: bool
    #: e.g. ``Payment`` around each ``PaymentHead`` in CEB411
    wrapper: str | None = None
    #: written after the message body (BaseTransfer, BaseSubscribe, ExtendMessage)
    tail: bool = False


@attrs.frozen
class EntitySpec:
    element: str
    zh: str


class Model(Protocol):
    """Every entity and message class carries ``__ceb__``."""

    __ceb__: ClassVar[EntitySpec]


M = TypeVar("M")


def new_guid() -> str:
    """A fresh 36-character upper-case guid, as the spec asks (英文字母大写)."""
    return str(uuid.uuid4()).upper()


def entity_fields(cls: type[Any]) -> tuple[attrs.Attribute[Any], ...]:
    return attrs.fields(cls)  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- converters

_FLOAT_HINT = "floats lose cents; pass Decimal, int or a decimal string"


def _fail(spec: FieldSpec | ChildSpec, message: str) -> ModelError:
    return ModelError(message, code="model.value", field=spec.element, zh=spec.zh)


def _conv_text(spec: FieldSpec) -> Callable[[Any], Any]:
    optional = not spec.required

    def convert(value: Any) -> str | None:
        if value is None:
            if optional:
                return None
            raise _fail(spec, "is required (必填) and cannot be None")
        if isinstance(value, enum.Enum):
            value = value.value
        if isinstance(value, str):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            # JSON often carries codes such as 142 as numbers; the XSD then checks the length.
            return str(value)
        raise _fail(spec, f"expects text, got {type(value).__name__}")

    return convert


_DECIMAL_TEXT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")


def to_decimal(value: Any, spec: FieldSpec) -> Decimal:
    if isinstance(value, bool):
        raise _fail(spec, "expects an amount, got a bool")
    if isinstance(value, float):
        raise _fail(spec, f"got float {value!r}: {_FLOAT_HINT}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise _fail(spec, f"{value} is not a finite amount")
        return value
    if isinstance(value, str):
        stripped = value.strip()
        if not _DECIMAL_TEXT.fullmatch(stripped):
            raise _fail(
                spec, f"{value!r} is not a decimal number (xs:decimal: digits, one point, no exponent)"
            )
        try:
            return Decimal(stripped)
        except InvalidOperation as exc:  # pragma: no cover - the regex admits only valid literals
            raise _fail(spec, f"{value!r} is not a decimal number") from exc
    raise _fail(spec, f"expects an amount, got {type(value).__name__}")


def _conv_decimal(spec: FieldSpec) -> Callable[[Any], Any]:
    optional = not spec.required

    def convert(value: Any) -> Decimal | None:
        if value is None:
            if optional:
                return None
            raise _fail(spec, "is required (必填) and cannot be None")
        return to_decimal(value, spec)

    return convert


_INT_TEXT = re.compile(r"[+-]?[0-9]{1,18}")


def _conv_int(spec: FieldSpec) -> Callable[[Any], Any]:
    optional = not spec.required

    def convert(value: Any) -> int | None:
        if value is None:
            if optional:
                return None
            raise _fail(spec, "is required (必填) and cannot be None")
        if isinstance(value, bool):
            raise _fail(spec, "expects a whole number, got a bool")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and _INT_TEXT.fullmatch(value.strip()):
            return int(value.strip())
        raise _fail(spec, f"expects a whole number, got {value!r}")

    return convert


_STAMP_FORMATS = {Kind.TIMESTAMP: "%Y%m%d%H%M%S", Kind.DATE: "%Y%m%d"}


def _to_china_naive(value: datetime) -> datetime:
    if value.tzinfo is not None:
        value = value.astimezone(CHINA_TZ).replace(tzinfo=None)
    return value


def parse_stamp(text: str, kind: Kind, spec: FieldSpec) -> datetime | date:
    """Spec text → datetime/date; exact length and digits only."""
    expected = {Kind.TIMESTAMP: 14, Kind.TIMESTAMP_MS: 17, Kind.DATE: 8}[kind]
    if len(text) != expected or not text.isascii() or not text.isdigit():
        raise _fail(spec, f"{text!r} is not in the spec format {kind.value} ({expected} digits)")
    try:
        if kind is Kind.DATE:
            return datetime.strptime(text, "%Y%m%d").date()
        base = datetime.strptime(text[:14], "%Y%m%d%H%M%S")
    except ValueError as exc:
        raise _fail(spec, f"{text!r} is not a real date/time ({kind.value})") from exc
    if kind is Kind.TIMESTAMP_MS:
        base = base.replace(microsecond=int(text[14:]) * 1000)
    return base


def _conv_time(spec: FieldSpec) -> Callable[[Any], Any]:
    optional = not spec.required
    kind = spec.kind

    def convert(value: Any) -> datetime | date | None:
        if value is None:
            if optional:
                return None
            raise _fail(spec, "is required (必填) and cannot be None")
        if isinstance(value, str):
            return parse_stamp(value.strip(), kind, spec)
        if kind is Kind.DATE:
            if isinstance(value, datetime):
                return _to_china_naive(value).date()
            if isinstance(value, date):
                return value
        elif isinstance(value, datetime):
            local: datetime = _to_china_naive(value)
            if kind is Kind.TIMESTAMP:
                return local.replace(microsecond=0)
            return local.replace(microsecond=local.microsecond // 1000 * 1000)
        raise _fail(
            spec, f"expects a {'date' if kind is Kind.DATE else 'datetime'}, got {type(value).__name__}"
        )

    return convert


def _conv_child(spec: ChildSpec) -> Callable[[Any], Any]:
    cls = spec.entity

    def check(item: Any, where: str) -> Any:
        if isinstance(item, dict):
            # Convenience: nested dicts with Python field names.
            try:
                return cls(**item)
            except TypeError as exc:
                raise _fail(spec, f"{where}: {exc}") from exc
        if not isinstance(item, cls):
            raise _fail(spec, f"{where}: expects {cls.__name__}, got {type(item).__name__}")
        return item

    if spec.many:

        def convert_many(value: Any) -> tuple[Any, ...]:
            if value is None:
                value = ()
            if isinstance(value, (str, bytes, dict)) or not isinstance(value, Iterable):
                raise _fail(spec, f"expects a sequence of {cls.__name__}")
            return tuple(check(item, f"item {i}") for i, item in enumerate(value))

        return convert_many

    def convert_one(value: Any) -> Any:
        if value is None:
            if spec.min_occurs == 0:
                return None
            raise _fail(spec, "is required (必填) and cannot be None")
        return check(value, "value")

    return convert_one


# --------------------------------------------------------------------------- field factories


def _size(size: int | tuple[int, int]) -> tuple[int, int]:
    return (size, size) if isinstance(size, int) else size


def text(
    element: str,
    zh: str,
    size: int | tuple[int, int],
    *,
    optional: bool = False,
    spec_required: bool | None = None,
    fixed: str | None = None,
    default: Any = attrs.NOTHING,
) -> Any:
    """A string element. ``size`` is an exact length or ``(min, max)`` (max 0 = unbounded)."""
    lo, hi = _size(size)
    spec = FieldSpec(
        element,
        zh,
        Kind.TEXT,
        min_length=lo,
        max_length=hi or None,
        required=not optional,
        spec_required=(not optional) if spec_required is None else spec_required,
        fixed=fixed,
    )
    if optional and default is attrs.NOTHING:
        default = None
    if fixed is not None and default is attrs.NOTHING:
        default = fixed
    return attrs.field(default=default, converter=_conv_text(spec), metadata={META: spec})


def amount(
    element: str,
    zh: str,
    *,
    optional: bool = False,
    spec_required: bool | None = None,
    default: Any = attrs.NOTHING,
) -> Any:
    """A money or quantity element (xs:decimal, N19,5). Values are ``Decimal``, never float."""
    spec = FieldSpec(
        element,
        zh,
        Kind.DECIMAL,
        required=not optional,
        spec_required=(not optional) if spec_required is None else spec_required,
        total_digits=19,
        fraction_digits=5,
    )
    if optional and default is attrs.NOTHING:
        default = None
    return attrs.field(default=default, converter=_conv_decimal(spec), metadata={META: spec})


def integer(
    element: str,
    zh: str,
    *,
    optional: bool = False,
    total_digits: int | None = None,
    default: Any = attrs.NOTHING,
) -> Any:
    spec = FieldSpec(
        element, zh, Kind.INT, required=not optional, spec_required=not optional, total_digits=total_digits
    )
    if optional and default is attrs.NOTHING:
        default = None
    return attrs.field(default=default, converter=_conv_int(spec), metadata={META: spec})


def _time_field(kind: Kind, element: str, zh: str, optional: bool, default: Any) -> Any:
    length = {Kind.TIMESTAMP: 14, Kind.TIMESTAMP_MS: 17, Kind.DATE: 8}[kind]
    spec = FieldSpec(
        element,
        zh,
        kind,
        min_length=length,
        max_length=length,
        required=not optional,
        spec_required=not optional,
    )
    if optional and default is attrs.NOTHING:
        default = None
    return attrs.field(default=default, converter=_conv_time(spec), metadata={META: spec})


def timestamp(element: str, zh: str, *, optional: bool = False, default: Any = attrs.NOTHING) -> Any:
    """``YYYYMMDDhhmmss`` (C14) as a naive Beijing-time ``datetime``; aware values are converted."""
    return _time_field(Kind.TIMESTAMP, element, zh, optional, default)


def timestamp_ms(element: str, zh: str, *, optional: bool = False, default: Any = attrs.NOTHING) -> Any:
    """``YYYYMMDDhhmmssSSS`` (receipt ``returnTime``) as a naive ``datetime`` with milliseconds."""
    return _time_field(Kind.TIMESTAMP_MS, element, zh, optional, default)


def day(element: str, zh: str, *, optional: bool = False, default: Any = attrs.NOTHING) -> Any:
    """``YYYYMMDD`` (C8) as a ``date``."""
    return _time_field(Kind.DATE, element, zh, optional, default)


def fragment(element: str, zh: str, *, optional: bool = True, default: Any = attrs.NOTHING) -> Any:
    """At most one arbitrary XML element kept as its canonical text (``ExtendMessage/Message``)."""
    spec = FieldSpec(element, zh, Kind.FRAGMENT, required=not optional, spec_required=not optional)
    if optional and default is attrs.NOTHING:
        default = None
    return attrs.field(default=default, converter=_conv_text(spec), metadata={META: spec})


def attribute(name: str, zh: str, size: int | tuple[int, int], *, default: Any = attrs.NOTHING) -> Any:
    """A root attribute (``guid``, ``version``)."""
    lo, hi = _size(size)
    spec = FieldSpec(name, zh, Kind.ATTRIBUTE, min_length=lo, max_length=hi or None)
    return attrs.field(default=default, converter=_conv_text(spec), metadata={META: spec})


def child(
    element: str,
    zh: str,
    entity: type[Any],
    *,
    optional: bool = False,
    wrapper: str | None = None,
    tail: bool = False,
) -> Any:
    spec = ChildSpec(element, zh, entity, 0 if optional else 1, 1, many=False, wrapper=wrapper, tail=tail)
    return attrs.field(
        default=None if optional else attrs.NOTHING, converter=_conv_child(spec), metadata={META: spec}
    )


def children(
    element: str,
    zh: str,
    entity: type[Any],
    *,
    min_occurs: int = 1,
    max_occurs: int | None,
    wrapper: str | None = None,
    tail: bool = False,
) -> Any:
    spec = ChildSpec(element, zh, entity, min_occurs, max_occurs, many=True, wrapper=wrapper, tail=tail)
    default: Any = attrs.Factory(tuple) if min_occurs == 0 else attrs.NOTHING
    return attrs.field(default=default, converter=_conv_child(spec), metadata={META: spec})


def guid_field(zh: str = "系统唯一序号") -> Any:
    """The entity ``guid`` element: 36 characters, a fresh upper-case UUID by default."""
    return text("guid", zh, 36, default=attrs.Factory(new_guid))


def spec_of(field: attrs.Attribute[Any]) -> FieldSpec | ChildSpec:
    return field.metadata[META]  # type: ignore[no-any-return]
