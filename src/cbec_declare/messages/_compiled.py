"""Per-class plans, compiled once from the model metadata, that the writer and reader walk."""

from __future__ import annotations

from typing import Any

import attrs

from .._xml import CEB_NS
from ..models._spec import META, ChildSpec, FieldSpec, Kind

__all__ = ["CompiledEntity", "Slot", "compiled"]


@attrs.frozen
class Slot:
    """One field of an entity in wire order."""

    attr: str
    spec: FieldSpec | ChildSpec
    #: pre-rendered ``<ceb:x>`` / ``</ceb:x>`` (scalars) or the child's plan
    open_tag: str
    close_tag: str
    child: CompiledEntity | None = None
    wrapper_open: str = ""
    wrapper_close: str = ""

    @property
    def is_child(self) -> bool:
        return isinstance(self.spec, ChildSpec)


@attrs.frozen
class CompiledEntity:
    cls: type[Any]
    element: str
    zh: str
    open_tag: str
    close_tag: str
    attributes: tuple[Slot, ...]
    slots: tuple[Slot, ...]
    #: element local name (or wrapper name) → slot, for the reader
    by_element: dict[str, Slot]
    #: the same keyed by lxml tag, with and without the ceb namespace (the reader's fast lookup)
    by_tag: dict[str, Slot]
    #: (attr, element name, zh) of every required element, for the reader's completeness check
    required: tuple[tuple[str, str, str], ...]


def _tags(name: str) -> tuple[str, str]:
    return f"<ceb:{name}>", f"</ceb:{name}>"


_PLANS: dict[type[Any], CompiledEntity] = {}


def compiled(cls: type[Any]) -> CompiledEntity:
    """The plan for a model class, compiled on first use and kept (classes are few and fixed)."""
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = _compile(cls)
    return plan


def _compile(cls: type[Any]) -> CompiledEntity:
    spec = cls.__ceb__
    attributes: list[Slot] = []
    body: list[Slot] = []
    tail: list[Slot] = []
    for field in attrs.fields(cls):
        fspec = field.metadata.get(META)
        if fspec is None:  # pragma: no cover - every model field is declared with a factory
            continue
        if isinstance(fspec, ChildSpec):
            open_tag, close_tag = _tags(fspec.element)
            w_open, w_close = _tags(fspec.wrapper) if fspec.wrapper else ("", "")
            slot = Slot(field.name, fspec, open_tag, close_tag, compiled(fspec.entity), w_open, w_close)
            (tail if fspec.tail else body).append(slot)
        elif fspec.kind is Kind.ATTRIBUTE:
            attributes.append(Slot(field.name, fspec, "", ""))
        else:
            open_tag, close_tag = _tags(fspec.element)
            body.append(Slot(field.name, fspec, open_tag, close_tag))
    slots = tuple(body + tail)
    by_element: dict[str, Slot] = {}
    for slot in slots:
        key = (
            slot.spec.wrapper if isinstance(slot.spec, ChildSpec) and slot.spec.wrapper else slot.spec.element
        )
        by_element[key] = slot
    by_tag = {f"{{{CEB_NS}}}{name}": slot for name, slot in by_element.items()}
    by_tag.update(by_element)
    required = tuple(
        (slot.attr, name, slot.spec.zh)
        for name, slot in by_element.items()
        if (slot.spec.min_occurs > 0 if isinstance(slot.spec, ChildSpec) else slot.spec.required)
    )
    open_tag, close_tag = _tags(spec.element)
    # C14N orders attributes by name; guid < version, and that is the order we write them in.
    attributes.sort(key=lambda s: s.spec.element)
    return CompiledEntity(
        cls,
        spec.element,
        spec.zh,
        open_tag,
        close_tag,
        tuple(attributes),
        slots,
        by_element,
        by_tag,
        required,
    )
