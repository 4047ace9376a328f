"""JSON-shaped data keyed by the spec's element names ↔ models.

This is the integration format of the CLI (``cbec-declare build CEB311 orders.json``) and of batch
files: an ERP exports ``{"OrderHead": {"orderNo": ...}, "OrderList": [...]}`` without learning the
Python field names. Nesting follows the XML: a message is ``{"Order": [...], "BaseTransfer": {...}}``,
a wrapped document is ``{"PaymentHead": {...}}`` (the content of ``ceb:Payment``).

Amounts may be JSON numbers (load with ``parse_float=Decimal`` to keep them exact) or strings; times
are the spec's strings (``20240101120000``). Output writes amounts as strings so no digit is lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import attrs

from ..errors import ModelError
from ..models._spec import META, ChildSpec, FieldSpec, Kind
from .writer import format_value

__all__ = ["from_data", "to_data"]

T = TypeVar("T")


def _key(spec: FieldSpec | ChildSpec) -> str:
    if isinstance(spec, ChildSpec) and spec.wrapper:
        return spec.wrapper
    return spec.element


def to_data(obj: Any) -> dict[str, Any]:
    """A model as a JSON-ready dict keyed by spec element names (amounts and times as strings)."""
    out: dict[str, Any] = {}
    for field in attrs.fields(type(obj)):
        spec = field.metadata[META]
        value = getattr(obj, field.name)
        if value is None:
            continue
        if isinstance(spec, ChildSpec):
            if spec.many:
                items = [to_data(item) for item in value]
                if spec.wrapper:
                    items = [{spec.element: item} for item in items]
                if items or spec.min_occurs:
                    out[_key(spec)] = items
            else:
                out[spec.element] = to_data(value)
            continue
        out[spec.element] = format_value(value, spec) if spec.kind is not Kind.INT else value
    return out


def from_data(cls: type[T], data: Any, *, path: str | None = None) -> T:
    """Build a model of ``cls`` from spec-named data; a key that does not belong is an error."""
    where = path or cls.__ceb__.element  # type: ignore[attr-defined]
    if not isinstance(data, Mapping):
        raise ModelError(f"expects an object for {cls.__name__}, got {type(data).__name__}", field=where)
    fields = attrs.fields(cls)  # type: ignore[arg-type]
    by_key = {_key(f.metadata[META]): f for f in fields}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        field = by_key.get(key)
        if field is None:
            known = ", ".join(sorted(by_key))
            raise ModelError(f"unknown key {key!r}; expected one of: {known}", field=f"{where}/{key}")
        spec = field.metadata[META]
        if isinstance(spec, ChildSpec):
            kwargs[field.name] = _children(spec, value, f"{where}/{key}")
        else:
            kwargs[field.name] = value
    try:
        return cls(**kwargs)
    except ModelError as exc:
        raise ModelError(exc.message, code=exc.code, field=f"{where}/{exc.field}", zh=exc.zh) from exc
    except TypeError as exc:
        # attrs names the missing argument by its Python name; translate it back to the element.
        missing = [
            _key(f.metadata[META]) for f in fields if f.default is attrs.NOTHING and f.name not in kwargs
        ]
        raise ModelError(f"missing required {', '.join(missing) or 'fields'}", field=where) from exc


def _children(spec: ChildSpec, value: Any, where: str) -> Any:
    if not spec.many:
        return None if value is None else from_data(spec.entity, value, path=where)
    items = value if isinstance(value, list) else [value]
    out = []
    for index, item in enumerate(items):
        item_path = f"{where}[{index}]"
        if spec.wrapper:
            if not isinstance(item, Mapping) or set(item) != {spec.element}:
                raise ModelError(
                    f"each {spec.wrapper} holds exactly one {spec.element} object", field=item_path
                )
            item = item[spec.element]
            item_path += f"/{spec.element}"
        out.append(from_data(spec.entity, item, path=item_path))
    return tuple(out)
