"""One walk over every entity of a declaration, applying the per-field checks.

Field checks (code values, identity numbers, event times, signs of amounts) are keyed by the spec's
element name and receive the value and its entity (for siblings such as ``buyerIdType``). The walk
also applies the per-message count limits and the project's policy for PDF-only 必填 fields
(messages.md §9: the XSD decides structure, so a field the PDF requires but the XSD does not is a
WARNING ``rule.spec_required``). The walk plan of each entity class is compiled once.

The walk runs for every message the pipeline declares, so each entity class also gets a generated
function whose body is the straight sequence of its checked fields (as the builder's writers are made
in ``messages/_codegen.py``); paths are only assembled for a finding. :func:`reference_findings`, the
generic walk over the plan, is the definition the generated code is tested against.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs

from ...models._spec import ChildSpec, FieldSpec, Kind, spec_of
from ..report import Finding, Severity
from . import amounts, codes, dates, identity, limits
from ._base import FieldCheck
from .context import RuleContext

__all__ = ["FIELD_CHECKS", "field_rules", "reference_findings"]


def _merge(*tables: Mapping[str, tuple[FieldCheck, ...]]) -> dict[str, tuple[FieldCheck, ...]]:
    merged: dict[str, tuple[FieldCheck, ...]] = {}
    for table in tables:
        for element, checks in table.items():
            merged[element] = merged.get(element, ()) + checks
    return merged


#: element name → checks, from every field-level rule module
FIELD_CHECKS: Mapping[str, tuple[FieldCheck, ...]] = _merge(codes.CHECKS, identity.CHECKS, dates.CHECKS)


@attrs.frozen
class _Scalar:
    attr: str
    spec: FieldSpec
    checks: tuple[FieldCheck, ...]
    #: the PDF says 必填 where the XSD allows absence
    pdf_only_required: bool
    #: text may be present but empty (""), which counts as missing
    textual: bool


@attrs.frozen
class _Child:
    attr: str
    spec: ChildSpec


@attrs.frozen
class _Plan:
    scalars: tuple[_Scalar, ...]
    children: tuple[_Child, ...]


_PLANS: dict[type[Any], _Plan] = {}


def _plan(cls: type[Any]) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = _compile(cls)
    return plan


def _compile(cls: type[Any]) -> _Plan:
    scalars: list[_Scalar] = []
    children: list[_Child] = []
    for field in attrs.fields(cls):
        spec = spec_of(field)
        if isinstance(spec, ChildSpec):
            children.append(_Child(field.name, spec))
            continue
        checks = FIELD_CHECKS.get(spec.element, ())
        if spec.kind is Kind.DECIMAL:
            checks = (amounts.non_negative, *checks)
        pdf_only = spec.spec_required and not spec.required
        if checks or pdf_only:
            textual = spec.kind in (Kind.TEXT, Kind.ATTRIBUTE, Kind.FRAGMENT)
            scalars.append(_Scalar(field.name, spec, checks, pdf_only, textual))
    return _Plan(tuple(scalars), tuple(children))


def _where(base: str, spec: FieldSpec) -> str:
    if spec.kind is Kind.ATTRIBUTE:
        return f"{base}/@{spec.element}"
    return f"{base}/{spec.element}"


def _walk(entity: Any, base: str, ctx: RuleContext) -> Iterator[Finding]:
    plan = _plan(type(entity))
    for slot in plan.scalars:
        value = getattr(entity, slot.attr)
        spec = slot.spec
        # Compare with "" only for text: Decimal.__eq__(str) takes a slow isinstance path through the
        # numbers ABCs, and a large message holds tens of thousands of amounts.
        if value is None or (slot.textual and not value):
            if slot.pdf_only_required:
                yield Finding(
                    code="rule.spec_required",
                    message="the spec (PDF) marks this field 必填 although the XSD allows leaving it out; "
                    "fill it unless customs told you otherwise",
                    path=_where(base, spec),
                    zh=spec.zh,
                    severity=Severity.WARNING,
                )
            continue
        for check in slot.checks:
            for code, message, severity in check(value, entity, ctx):
                yield Finding(
                    code=code, message=message, path=_where(base, spec), zh=spec.zh, severity=severity
                )
    for child in plan.children:
        cspec = child.spec
        content = getattr(entity, child.attr)
        if not cspec.many:
            if content is not None:
                yield from _walk(content, f"{base}/{cspec.element}", ctx)
            continue
        yield from limits.count_findings(base, cspec, len(content))
        for index, item in enumerate(content):
            where = (
                f"{base}/{cspec.wrapper}[{index}]/{cspec.element}"
                if cspec.wrapper
                else f"{base}/{cspec.element}[{index}]"
            )
            yield from _walk(item, where, ctx)


def reference_findings(message: Any, ctx: RuleContext) -> list[Finding]:
    """Every field-level finding of a declaration message, by the generic walk (the definition)."""
    return list(_walk(message, type(message).__ceb__.element, ctx))


_SPEC_REQUIRED = (
    "the spec (PDF) marks this field 必填 although the XSD allows leaving it out; "
    "fill it unless customs told you otherwise"
)
Walker = Callable[[Any, str, RuleContext, list[Finding]], None]
_WALKERS: dict[type[Any], Walker] = {}


def _walker(cls: type[Any]) -> Walker:
    walker = _WALKERS.get(cls)
    if walker is None:
        walker = _WALKERS[cls] = _generate(cls)
    return walker


def _generate(cls: type[Any]) -> Walker:
    """The walk of :func:`_walk` for one entity class, unrolled into straight-line code."""
    plan = _plan(cls)
    namespace: dict[str, Any] = {
        "Finding": Finding,
        "WARNING": Severity.WARNING,
        "SPEC_REQUIRED": _SPEC_REQUIRED,
        "count_findings": limits.count_findings,
    }
    lines = ["def walk(entity, base, ctx, out):", "    a = out.append"]
    for i, slot in enumerate(plan.scalars):
        spec = slot.spec
        where = ("/@" if spec.kind is Kind.ATTRIBUTE else "/") + spec.element
        namespace[f"Z{i}"] = spec.zh
        lines.append(f"    v = entity.{slot.attr}")
        # "" counts as missing only for text: comparing a Decimal with "" is slow (see _walk).
        lines.append("    if v is None or not v:" if slot.textual else "    if v is None:")
        if slot.pdf_only_required:
            lines.append(
                f"        a(Finding(code='rule.spec_required', message=SPEC_REQUIRED, path=base + {where!r},"
                f" zh=Z{i}, severity=WARNING))"
            )
        else:
            lines.append("        pass")
        if slot.checks:
            lines.append("    else:")
            for j, check in enumerate(slot.checks):
                namespace[f"C{i}_{j}"] = check
                lines.append(f"        for code, message, severity in C{i}_{j}(v, entity, ctx):")
                lines.append(
                    f"            a(Finding(code=code, message=message, path=base + {where!r}, zh=Z{i},"
                    " severity=severity))"
                )
    for k, child in enumerate(plan.children):
        cspec = child.spec
        namespace[f"W{k}"] = _walker(cspec.entity)
        lines.append(f"    c = entity.{child.attr}")
        if not cspec.many:
            lines.append("    if c is not None:")
            lines.append(f"        W{k}(c, base + {'/' + cspec.element!r}, ctx, out)")
            continue
        namespace[f"S{k}"] = cspec
        too_many = "" if cspec.max_occurs is None else f" or len(c) > {cspec.max_occurs}"
        lines.append(f"    if len(c) < {cspec.min_occurs}{too_many}:")
        lines.append(f"        out.extend(count_findings(base, S{k}, len(c)))")
        lines.append("    for index, item in enumerate(c):")
        if cspec.wrapper:
            path = f"f'{{base}}/{cspec.wrapper}[{{index}}]/{cspec.element}'"
        else:
            path = f"f'{{base}}/{cspec.element}[{{index}}]'"
        lines.append(f"        W{k}(item, {path}, ctx, out)")
    source = "\n".join(lines) + "\n"
    exec(compile(source, f"<cbec-declare field walk for {cls.__name__}>", "exec"), namespace)  # noqa: S102
    walk: Walker = namespace["walk"]
    return walk


def field_rules(message: Any, ctx: RuleContext) -> list[Finding]:
    """Every field-level finding of a declaration message (same as :func:`reference_findings`)."""
    out: list[Finding] = []
    cls = type(message)
    _walker(cls)(message, cls.__ceb__.element, ctx, out)
    return out
