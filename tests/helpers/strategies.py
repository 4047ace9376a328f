"""Hypothesis strategies for every model, derived from the field metadata (not hand-written per class).

Values stay inside what the wire can carry (XML characters, the spec's decimal and time formats) but
are otherwise arbitrary: CR, ``&``, ``<``, quotes, CJK and astral characters, empty strings, extreme
decimals. Lengths respect the spec's bounds, capped so examples stay small.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs
from hypothesis import strategies as st

from cbec_declare.models._spec import META, ChildSpec, FieldSpec, Kind

# Every XML 1.0 character class: TAB/LF/CR, ASCII specials, CJK, astral (emoji), the top of the BMP.
XML_CHARS = st.characters(
    codec="utf-8",
    exclude_categories=("Cs",),
    exclude_characters="".join(chr(c) for c in range(0x20) if c not in (0x9, 0xA, 0xD)) + "\ufffe\uffff",
)
INTERESTING = st.sampled_from(
    ["&", "<", ">", "\r", "\r\n", '"', "'", "]]>", " ", "\t", "订单", "𠀀", "\ufffd"]
)

MAX_TEXT = 24
MAX_ITEMS = 3


def xml_text(min_size: int, max_size: int | None) -> st.SearchStrategy[str]:
    upper = min(max_size or MAX_TEXT, MAX_TEXT)
    lower = min(min_size, upper)
    plain = st.text(XML_CHARS, min_size=lower, max_size=upper)
    spiced = st.lists(st.one_of(INTERESTING, st.text(XML_CHARS, max_size=3)), min_size=1, max_size=6).map(
        "".join
    )
    # Trim or pad instead of filtering: exact-length fields (C1, C3, C36) would reject almost everything.
    return st.one_of(plain, spiced.map(lambda s: s[:upper].ljust(lower, "x")))


def decimals() -> st.SearchStrategy[Decimal]:
    return st.integers(min_value=0, max_value=5).flatmap(
        lambda places: st.decimals(
            min_value=Decimal("-99999999999999"),
            max_value=Decimal("99999999999999"),
            places=places,
            allow_nan=False,
            allow_infinity=False,
        )
    )


_STAMPS = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31))


def fragment() -> st.SearchStrategy[str]:
    names = st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)
    words = st.text("abc 订单&<>xyz", max_size=10).map(
        lambda s: s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    )
    return st.just("") | st.builds(lambda n, t: f"<{n}>{t}</{n}>", names, words)


def scalar(spec: FieldSpec) -> st.SearchStrategy[Any]:
    kind = spec.kind
    if kind is Kind.TEXT or kind is Kind.ATTRIBUTE:
        return xml_text(spec.min_length, spec.max_length)
    if kind is Kind.DECIMAL:
        return decimals()
    if kind is Kind.INT:
        return st.integers(min_value=-(2**31), max_value=2**31 - 1)
    if kind is Kind.TIMESTAMP:
        return _STAMPS.map(lambda d: d.replace(microsecond=0))
    if kind is Kind.TIMESTAMP_MS:
        return _STAMPS.map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))
    if kind is Kind.DATE:
        return _STAMPS.map(lambda d: d.date())
    if kind is Kind.FRAGMENT:
        return fragment()
    raise AssertionError(kind)


def model(cls: type[Any]) -> st.SearchStrategy[Any]:
    """A strategy producing arbitrary instances of a model class, recursively."""
    kwargs: dict[str, st.SearchStrategy[Any]] = {}
    for field in attrs.fields(cls):
        spec = field.metadata[META]
        if isinstance(spec, ChildSpec):
            inner = st.deferred(lambda e=spec.entity: model(e))
            if spec.many:
                upper = min(spec.max_occurs or MAX_ITEMS, MAX_ITEMS)
                kwargs[field.name] = st.lists(inner, min_size=spec.min_occurs, max_size=upper).map(tuple)
            elif spec.min_occurs == 0:
                kwargs[field.name] = st.none() | inner
            else:
                kwargs[field.name] = inner
            continue
        value = scalar(spec)
        kwargs[field.name] = value if spec.required or spec.kind is Kind.ATTRIBUTE else st.none() | value
    return st.builds(cls, **kwargs)
