"""Specialised writers, generated once per model class from its plan (as attrs generates ``__init__``).

The generic walk over a plan costs an isinstance check, a metadata lookup and a path string per field;
building is on the hot path of every declaration, so each entity class gets a function whose body is the
straight sequence of its fields: ``v = obj.order_no`` / ``a("<ceb:orderNo>" + text(v) + "</ceb:orderNo>")``.
Paths for error messages are only assembled when a value cannot be written. The generated code is
checked against the generic definition by the round-trip and C14N tests of every message type.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ..errors import BuildError
from ..models._spec import ChildSpec, FieldSpec, Kind
from ._compiled import CompiledEntity, compiled

__all__ = ["check_chars", "writer_for"]

Writer = Callable[[Any, Callable[[str], None], str], None]

# One search finds both what C14N escapes and what XML cannot carry; most values have neither.
_SPECIAL = re.compile("[&<>\r]|[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def check_chars(value: str, spec: FieldSpec, path: str) -> None:
    """Refuse characters XML 1.0 cannot carry (C0 controls but TAB/LF/CR, surrogates, FFFE/FFFF)."""
    bad = _NOT_XML.search(value)
    if bad is not None:
        raise BuildError(
            f"character U+{ord(bad.group()):04X} at position {bad.start()} cannot be written in XML",
            code="build.character",
            field=path,
            zh=spec.zh,
        )


def _text_slow(value: str, spec: FieldSpec, path: str) -> str:
    check_chars(value, spec, f"{path}/{spec.element}")
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#xD;")


def _decimal(value: Decimal) -> str:
    return format(value, "f")


def _stamp(value: datetime) -> str:
    return f"{value.year:04d}{value.month:02d}{value.day:02d}{value.hour:02d}{value.minute:02d}{value.second:02d}"


def _stamp_ms(value: datetime) -> str:
    return _stamp(value) + f"{value.microsecond // 1000:03d}"


def _day(value: date) -> str:
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


_FORMAT = {Kind.DECIMAL: "_decimal", Kind.INT: "str", Kind.TIMESTAMP: "_stamp", Kind.TIMESTAMP_MS: "_stamp_ms",
           Kind.DATE: "_day"}  # fmt: skip
_WRITERS: dict[type[Any], Writer] = {}


def _generate(plan: CompiledEntity) -> Writer:
    from .writer import canonical_fragment  # the fragment path is rare and parses; keep it out of the loop

    namespace: dict[str, Any] = {
        "_SPECIAL": _SPECIAL,
        "_text_slow": _text_slow,
        "_decimal": _decimal,
        "_stamp": _stamp,
        "_stamp_ms": _stamp_ms,
        "_day": _day,
        "canonical_fragment": canonical_fragment,
    }
    lines = ["def write(obj, a, path):"]
    for index, slot in enumerate(plan.slots):
        spec = slot.spec
        name = f"v{index}"
        lines.append(f"    {name} = obj.{slot.attr}")
        if isinstance(spec, ChildSpec):
            assert slot.child is not None
            namespace[f"child{index}"] = writer_for(slot.child.cls)
            label = spec.wrapper or spec.element
            open_tags = slot.wrapper_open + slot.open_tag
            close_tags = slot.close_tag + slot.wrapper_close
            if spec.many:
                lines += [
                    f"    for i, item in enumerate({name}):",
                    f"        a({open_tags!r})",
                    f"        child{index}(item, a, f'{{path}}/{label}[{{i}}]')",
                    f"        a({close_tags!r})",
                ]
            else:
                lines += [
                    f"    if {name} is not None:",
                    f"        a({open_tags!r})",
                    f"        child{index}({name}, a, path + '/{label}')",
                    f"        a({close_tags!r})",
                ]
            continue
        namespace[f"spec{index}"] = spec
        indent = "    "
        if not spec.required:
            lines.append(f"    if {name} is not None:")
            indent = "        "
        if spec.kind is Kind.TEXT:
            lines += [
                f"{indent}if _SPECIAL.search({name}) is not None:",
                f"{indent}    {name} = _text_slow({name}, spec{index}, path)",
                f"{indent}a({slot.open_tag!r} + {name} + {slot.close_tag!r})",
            ]
        elif spec.kind is Kind.FRAGMENT:
            lines.append(
                f"{indent}a({slot.open_tag!r} + canonical_fragment({name}, path + '/{spec.element}', spec{index})"
                f" + {slot.close_tag!r})"
            )
        else:
            lines.append(f"{indent}a({slot.open_tag!r} + {_FORMAT[spec.kind]}({name}) + {slot.close_tag!r})")
    if len(lines) == 1:
        lines.append("    pass")
    source = "\n".join(lines)
    exec(compile(source, f"<cbec-declare writer for {plan.cls.__name__}>", "exec"), namespace)  # noqa: S102
    writer: Writer = namespace["write"]
    return writer


def writer_for(cls: type[Any]) -> Writer:
    """The generated writer of a model class (made on first use, then kept)."""
    writer = _WRITERS.get(cls)
    if writer is None:
        writer = _WRITERS[cls] = _generate(compiled(cls))
    return writer
