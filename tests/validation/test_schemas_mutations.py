"""Equivalence by mutation: our schemas and customs' give the same verdict, field by field, per version.

For every message class a *full* document is generated from the model metadata — every optional element
present, one of each repeated entity, a ds:Signature on every declaration — and built with the real
builder. Then, systematically from the metadata, each scalar field is mutated (lengths around its
bounds, decimals with too many digits, non-numeric ints, wrong fixed values, removal, repetition, order,
an unknown element, ...), as are the entities, the root attributes and the signature. Every mutated
document is validated by our schema and by the official XSD of the same version; the verdicts must match.

The official XSD is compiled here straight from the customs file with lxml, independently of our loader.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs
import pytest
from lxml import etree

from cbec_declare._xml import CEB_NS, DS_NS, parse_untrusted
from cbec_declare.messages import MESSAGE_CLASSES, build
from cbec_declare.models import DeclarationMessage
from cbec_declare.models._spec import META, ChildSpec, FieldSpec, Kind
from cbec_declare.validation.schemas import schema_for
from conftest import OFFICIAL_IMPORT_XSD, SAMPLES

VERSIONS = ("2018-113", "2022-05")
MESSAGES = sorted(MESSAGE_CLASSES.items())
Mutate = Callable[[etree._Element], None]


# --------------------------------------------------------------------------- documents from metadata


def _value(spec: FieldSpec) -> Any:
    if spec.fixed is not None:
        return spec.fixed
    return {
        Kind.TEXT: "7" * max(spec.min_length, 1),
        Kind.DECIMAL: Decimal("12.5"),
        Kind.INT: 1,
        Kind.TIMESTAMP: datetime(2024, 5, 6, 7, 8, 9),
        Kind.TIMESTAMP_MS: datetime(2024, 5, 6, 7, 8, 9, 123000),
        Kind.DATE: date(2024, 5, 6),
        Kind.FRAGMENT: "<ext>extension data</ext>",
    }[spec.kind]


def _instance(cls: type[Any]) -> Any:
    """One instance of ``cls`` with every field set, optional ones included."""
    values: dict[str, Any] = {}
    for field in attrs.fields(cls):
        spec = field.metadata.get(META)
        if isinstance(spec, ChildSpec):
            item = _instance(spec.entity)
            values[field.name] = (item,) if spec.many else item
        elif isinstance(spec, FieldSpec) and spec.kind is not Kind.ATTRIBUTE:
            values[field.name] = _value(spec)
    return cls(**values)


def _sample_signature() -> etree._Element:
    sample = parse_untrusted((SAMPLES / "ceb-2018-113" / "CEB621Message.xml").read_bytes())
    signature = sample.find(f"{{{DS_NS}}}Signature")
    assert signature is not None
    return signature


def full_document(cls: type[Any]) -> etree._Element:
    root = etree.fromstring(build(_instance(cls)))
    if issubclass(cls, DeclarationMessage):
        # The XSD admits (311/411/511/513) or requires (621/623/625/711) it as the last child.
        root.append(copy.deepcopy(_sample_signature()))
    return root


# --------------------------------------------------------------------------- targets


@attrs.frozen
class Target:
    """An element of the full document and how the model declares it."""

    where: tuple[int, ...]  # child indices from the root
    name: str
    spec: FieldSpec | ChildSpec


def _members(cls: type[Any]) -> dict[str, FieldSpec | ChildSpec]:
    out: dict[str, FieldSpec | ChildSpec] = {}
    for field in attrs.fields(cls):
        spec = field.metadata.get(META)
        if isinstance(spec, ChildSpec):
            out[spec.wrapper or spec.element] = spec
        elif isinstance(spec, FieldSpec) and spec.kind is not Kind.ATTRIBUTE:
            out[spec.element] = spec
    return out


def targets(element: etree._Element, cls: type[Any], where: tuple[int, ...] = ()) -> Iterator[Target]:
    members = _members(cls)
    for index, child in enumerate(element):
        local = etree.QName(child).localname
        if etree.QName(child).namespace == DS_NS:
            continue
        spec = members[local]
        here = (*where, index)
        yield Target(here, local, spec)
        if isinstance(spec, ChildSpec):
            inner, inner_where = (child[0], (*here, 0)) if spec.wrapper else (child, here)
            yield from targets(inner, spec.entity, inner_where)


def locate(root: etree._Element, where: tuple[int, ...]) -> etree._Element:
    element = root
    for index in where:
        element = element[index]
    return element


# --------------------------------------------------------------------------- mutations
# Each yields (label, mutation, expected verdict or None). The verdict is what the model metadata
# predicts for 2018-113; it is asserted only where it cannot depend on the version.


def _set_text(value: str) -> Mutate:
    def mutate(element: etree._Element) -> None:
        element.text = value

    return mutate


def _remove(element: etree._Element) -> None:
    parent = element.getparent()
    assert parent is not None
    parent.remove(element)


def _duplicate(times: int) -> Mutate:
    def mutate(element: etree._Element) -> None:
        for _ in range(times):
            element.addnext(copy.deepcopy(element))

    return mutate


def _swap_with_next(element: etree._Element) -> None:
    following = element.getnext()
    assert following is not None
    _remove(following)
    element.addprevious(following)


def _unknown_after(element: etree._Element) -> None:
    element.addnext(etree.Element(f"{{{CEB_NS}}}unknownElement"))


def _no_namespace(element: etree._Element) -> None:
    element.tag = etree.QName(element).localname


def _child_inside(element: etree._Element) -> None:
    etree.SubElement(element, f"{{{CEB_NS}}}inner").text = "1"


def _attribute(element: etree._Element) -> None:
    element.set("extra", "1")


def structural(target: Target, has_next: bool) -> Iterator[tuple[str, Mutate, bool | None]]:
    spec = target.spec
    required = spec.required if isinstance(spec, FieldSpec) else spec.min_occurs > 0
    yield "removed", _remove, not required
    yield "unknown element after it", _unknown_after, False
    yield "in no namespace", _no_namespace, False
    yield "with an attribute", _attribute, False
    if has_next:
        yield "swapped with the next element", _swap_with_next, False
    if isinstance(spec, FieldSpec):
        yield "repeated", _duplicate(1), False
        yield "holding a child element", _child_inside, False
        return
    limit = spec.max_occurs if spec.many else 1
    if limit is None:
        yield "repeated to 150", _duplicate(149), True
    else:
        yield f"repeated to {limit + 1} (max {limit})", _duplicate(limit), False
        if limit > 1:
            yield f"repeated to its max {limit}", _duplicate(limit - 1), True


_DECIMALS: tuple[tuple[str, bool | None], ...] = (
    ("1.123456", False),  # 6 fraction digits
    ("12345678901234567890", False),  # 20 digits
    ("123456789012345.12345", False),  # 20 digits, 5 of them fractional
    ("99999999999999.12345", True),  # 19 digits
    ("1234567890123456789", True),
    ("-0.00001", True),
    (" 12.5 ", True),  # xs:decimal collapses whitespace
    ("+1.", True),
    (".5", True),
    ("0012.50000", True),  # leading and trailing zeros are not counted
    ("1.000000", None),  # 6 lexical fraction digits, value 1
    ("abc", False),
    ("", False),
    ("1E5", False),
    ("1,5", False),
    ("NaN", False),
)
_INTS: tuple[tuple[str, bool | None], ...] = (
    ("abc", False),
    ("1.5", False),
    ("", False),
    ("2147483648", False),  # above xs:int
    ("-2147483649", False),
    (" 7 ", True),
    ("+1", True),
    ("-1", True),
    ("123456789", True),
    ("1234567890", None),  # 10 digits: an int, but not for packNo (totalDigits 9)
    ("2147483647", None),
    ("\u0663", False),  # ARABIC-INDIC DIGIT THREE
)


def values(spec: FieldSpec) -> Iterator[tuple[str, Mutate, bool | None]]:
    if spec.kind is Kind.DECIMAL:
        for text, verdict in _DECIMALS:
            yield f"decimal {text!r}", _set_text(text), verdict
        return
    if spec.kind is Kind.INT:
        for text, verdict in _INTS:
            if (
                spec.total_digits is not None
                and verdict
                and len(text.strip().lstrip("+-")) > spec.total_digits
            ):
                verdict = False
            yield f"int {text!r}", _set_text(text), verdict
        return
    if spec.kind is Kind.FRAGMENT:
        yield "fragment emptied", _set_text(""), True
        return
    low, high = spec.min_length, spec.max_length
    lengths = {0, 1, max(low - 1, 0), low, (high or 10_000), (high or 10_000) + 1}
    for length in sorted(lengths):
        ok = low <= length <= (high or length) and (spec.fixed is None or "7" * length == spec.fixed)
        yield f"length {length}", _set_text("7" * length), ok
    if high is not None:
        # Lengths count characters, not UTF-8 bytes.
        yield f"{high} CJK characters", _set_text("中" * high), spec.fixed is None
    if spec.fixed is not None:
        for text, verdict in ((spec.fixed, True), ("143", False), (f" {spec.fixed}", False), ("14 2", False)):
            yield f"fixed field {text!r}", _set_text(text), verdict


# --------------------------------------------------------------------------- root and signature


def _root_mutations(cls: type[Any]) -> Iterator[tuple[str, Mutate, bool | None]]:
    def attr(name: str, value: str | None) -> Mutate:
        def mutate(root: etree._Element) -> None:
            if value is None:
                del root.attrib[name]
            else:
                root.set(name, value)

        return mutate

    def rename(root: etree._Element) -> None:
        root.tag = f"{{{CEB_NS}}}CEB999Message"

    yield "guid of 35", attr("guid", "A" * 35), False
    yield "guid of 37", attr("guid", "A" * 37), False
    yield "guid removed", attr("guid", None), False
    yield "version empty", attr("version", ""), False
    yield "version of 10", attr("version", "1" * 10), True
    yield "version of 11", attr("version", "1" * 11), False
    yield "version removed", attr("version", None), False
    yield "unknown attribute", attr("extra", "1"), False
    yield "unknown root", rename, False
    if not issubclass(cls, DeclarationMessage):
        return

    def on_signature(change: Callable[[etree._Element], None]) -> Mutate:
        def mutate(root: etree._Element) -> None:
            signature = root.find(f"{{{DS_NS}}}Signature")
            assert signature is not None
            change(signature)

        return mutate

    def ds(path: str) -> Callable[[etree._Element], etree._Element]:
        def find(signature: etree._Element) -> etree._Element:
            found = signature.find(path.replace("ds:", f"{{{DS_NS}}}"))
            assert found is not None, path
            return found

        return find

    key_info, reference = ds("ds:KeyInfo"), ds("ds:SignedInfo/ds:Reference")
    yield "signature removed", on_signature(_remove), not cls.SIGNATURE_REQUIRED
    yield "signature repeated", on_signature(_duplicate(1)), False
    yield "signature moved up one place", on_signature(lambda s: s.getprevious().addprevious(s)), False
    yield "signature without KeyInfo", on_signature(lambda s: _remove(key_info(s))), True
    yield "KeyInfo without X509Data", on_signature(lambda s: _remove(ds("ds:KeyInfo/ds:X509Data")(s))), True
    yield "KeyInfo emptied", on_signature(lambda s: [_remove(c) for c in list(key_info(s))]), False
    yield (
        "no Transforms",
        on_signature(lambda s: _remove(ds("ds:SignedInfo/ds:Reference/ds:Transforms")(s))),
        True,
    )
    yield (
        "no DigestValue",
        on_signature(lambda s: _remove(ds("ds:SignedInfo/ds:Reference/ds:DigestValue")(s))),
        False,
    )
    yield "no Reference", on_signature(lambda s: _remove(reference(s))), False
    yield "no SignatureValue", on_signature(lambda s: _remove(ds("ds:SignatureValue")(s))), False
    yield "SignatureValue with Id", on_signature(lambda s: ds("ds:SignatureValue")(s).set("Id", "x")), False
    yield "Signature with Id", on_signature(lambda s: s.set("Id", "sig")), True
    yield "ds:Object appended", on_signature(lambda s: etree.SubElement(s, f"{{{DS_NS}}}Object")), False
    yield (
        "Algorithm removed",
        on_signature(lambda s: ds("ds:SignedInfo/ds:SignatureMethod")(s).attrib.clear()),
        False,
    )
    yield "Reference URI removed", on_signature(lambda s: reference(s).attrib.pop("URI")), True
    yield (
        "XPath transform",
        on_signature(
            lambda s: etree.SubElement(
                ds("ds:SignedInfo/ds:Reference/ds:Transforms/ds:Transform")(s), f"{{{DS_NS}}}XPath"
            )
        ),
        True,
    )
    yield (
        "second KeyName",
        on_signature(lambda s: key_info(s).append(etree.Element(f"{{{DS_NS}}}KeyName"))),
        True,
    )
    yield (
        "X509Certificate not base64",
        on_signature(lambda s: setattr(ds("ds:KeyInfo/ds:X509Data/ds:X509Certificate")(s), "text", "@@@")),
        None,
    )


def mutations(
    root: etree._Element, cls: type[Any]
) -> Iterator[tuple[str, tuple[int, ...], Mutate, bool | None]]:
    for label, mutate, verdict in _root_mutations(cls):
        yield label, (), mutate, verdict
    for target in targets(root, cls):
        element = locate(root, target.where)
        has_next = element.getnext() is not None and etree.QName(element.getnext()).namespace == CEB_NS
        for label, mutate, verdict in structural(target, has_next):
            yield f"{target.name} {label}", target.where, mutate, verdict
        if isinstance(target.spec, FieldSpec):
            for label, mutate, verdict in values(target.spec):
                yield f"{target.name} {label}", target.where, mutate, verdict


# --------------------------------------------------------------------------- the test


@pytest.fixture(scope="module")
def official() -> dict[str, etree.XMLSchema]:
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    return {v: etree.XMLSchema(etree.parse(str(OFFICIAL_IMPORT_XSD[v]), parser)) for v in VERSIONS}


COUNTS: dict[str, int] = {}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("name", "cls"), MESSAGES, ids=[n for n, _ in MESSAGES])
def test_same_verdict_as_customs_xsd(
    version: str, name: str, cls: type[Any], official: dict[str, etree.XMLSchema]
) -> None:
    ours, theirs = schema_for(version), official[version]
    base = full_document(cls)
    assert theirs.validate(base), f"generated {name} is not valid for customs: {theirs.error_log}"
    assert ours.validate(base), f"generated {name} is not valid for us: {ours.error_log}"
    disagreements, wrong, compared, rejected = [], [], 0, 0
    for label, where, mutate, verdict in mutations(base, cls):
        document = copy.deepcopy(base)
        mutate(locate(document, where))
        customs, us = bool(theirs.validate(document)), bool(ours.validate(document))
        compared += 1
        rejected += not customs
        if customs != us:
            disagreements.append(f"{label}: customs {customs}, ours {us}")
        # The metadata describes 2018-113; 2022-05 shortens itemNo and loosens tradeCountry.
        version_free = version == "2018-113" or label.split()[0] not in ("itemNo", "tradeCountry")
        if verdict is not None and version_free and verdict != customs:
            wrong.append(f"{label}: expected {verdict}, customs says {customs}")
    COUNTS[f"{version}/{name}"] = compared
    assert not disagreements, "\n".join(disagreements)
    assert not wrong, "\n".join(wrong)
    # The mutations must bite: most are invalid, and some valid ones are among them.
    assert compared > 40
    assert 0 < rejected < compared


def test_mutation_count_is_reported(record_property: Any) -> None:
    """Runs last in this module: how many mutated documents were compared, in all."""
    if len(COUNTS) < len(VERSIONS) * len(MESSAGES):
        pytest.skip("run together with test_same_verdict_as_customs_xsd to count")
    total = sum(COUNTS.values())
    record_property("mutations_compared", total)
    print(f"\n{total} mutated documents compared against customs' XSD ({len(COUNTS)} message/version pairs)")
    assert total > 5000
