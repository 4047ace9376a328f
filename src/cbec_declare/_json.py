"""JSON from outside: ``json.loads`` whose only failure is a ``json.JSONDecodeError``.

The standard parser recurses once per nesting level, so ``[[[[…]]]]`` a few thousand deep raises
``RecursionError`` — not a ``ValueError`` — straight through every handler written for bad JSON. Everything
that reads outside JSON (the 179 ``openReq`` and replies, node replies, captured pushes, CLI inputs) goes
through these two functions instead.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["loads_untrusted", "raw_decode_untrusted"]


def _too_deep(text: str | bytes, index: int) -> json.JSONDecodeError:
    document = text if isinstance(text, str) else ""
    return json.JSONDecodeError("JSON nested too deeply", document, index)


def loads_untrusted(text: str | bytes, **options: Any) -> Any:
    """``json.loads(text, **options)``; too deep a nesting is a ``JSONDecodeError`` like any other."""
    try:
        return json.loads(text, **options)
    except RecursionError:
        error = _too_deep(text, 0)
    raise error


def raw_decode_untrusted(decoder: json.JSONDecoder, text: str, index: int) -> tuple[Any, int]:
    """``decoder.raw_decode(text, index)`` with the same guarantee."""
    try:
        return decoder.raw_decode(text, index)
    except RecursionError:
        error = _too_deep(text, index)
    raise error
