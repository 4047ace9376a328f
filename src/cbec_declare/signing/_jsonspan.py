"""Top-level members of a JSON object with the exact source text of each value.

The 179 sign string embeds the head and list JSON *as they appear in the upload*; re-serialising
them (``json.dumps``) could change number forms (``1E2`` → ``100.0``), escapes (``\\u4e2d`` → ``中``)
or spacing, and the signature would no longer match. ``json.JSONDecoder.raw_decode``
returns where each value ends, which gives the spans without a hand-written JSON parser.
"""

from __future__ import annotations

import json
from typing import Any

from .._json import raw_decode_untrusted
from ..errors import SignatureStructureError

__all__ = ["Member", "object_members"]

_WHITESPACE = " \t\n\r"
_DECODER = json.JSONDecoder()


class Member:
    """One ``"key": value`` of the top-level object: the decoded value and its source text."""

    __slots__ = ("raw", "value")

    def __init__(self, value: Any, raw: str) -> None:
        self.value = value
        self.raw = raw


def _skip(text: str, index: int) -> int:
    while index < len(text) and text[index] in _WHITESPACE:
        index += 1
    return index


def _fail(message: str, index: int) -> SignatureStructureError:
    return SignatureStructureError(
        f"payload JSON: {message} at character {index}", code="verify.payload.json", offset=index
    )


def object_members(text: str) -> dict[str, Member]:
    """Parse a JSON object; return its members in order. Duplicate keys are refused (which of two
    values was signed would be ambiguous)."""
    index = _skip(text, 0)
    if not text.startswith("{", index):
        raise _fail("expected '{'", index)
    index = _skip(text, index + 1)
    members: dict[str, Member] = {}
    if text.startswith("}", index):
        return members if _skip(text, index + 1) == len(text) else _trailing(index + 1)
    while True:
        if not text.startswith('"', index):
            raise _fail("expected a member name", index)
        try:
            key, index = raw_decode_untrusted(_DECODER, text, index)
        except json.JSONDecodeError as exc:
            raise _fail(exc.msg, exc.pos) from None
        index = _skip(text, index)
        if not text.startswith(":", index):
            raise _fail("expected ':'", index)
        start = _skip(text, index + 1)
        try:
            value, end = raw_decode_untrusted(_DECODER, text, start)
        except json.JSONDecodeError as exc:
            raise _fail(exc.msg, exc.pos) from None
        if key in members:
            raise _fail(f"member {key!r} appears twice", start)
        members[key] = Member(value, text[start:end])
        index = _skip(text, end)
        if text.startswith(",", index):
            index = _skip(text, index + 1)
            continue
        if text.startswith("}", index):
            break
        raise _fail("expected ',' or '}'", index)
    if _skip(text, index + 1) != len(text):
        return _trailing(index + 1)
    return members


def _trailing(index: int) -> dict[str, Member]:
    raise _fail("text after the closing '}'", index)
