"""Shared pieces of the hypothesis harnesses: the fuzz targets of ``fuzz/targets.py`` and mutation
strategies over valid documents (byte-level, and tree-level through a trusted test-only parser)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from hypothesis import strategies as st
from lxml import etree

ROOT = Path(__file__).resolve().parents[2]


def load_targets() -> ModuleType:
    """``fuzz/targets.py`` (not a package: loaded by path, once)."""
    name = "cbec_fuzz_targets"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "fuzz" / "targets.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


targets = load_targets()

#: tokens that break parsers: markup, encodings, numbers, namespaces
TOKENS: tuple[bytes, ...] = (
    b"<!DOCTYPE r>",
    b'<!DOCTYPE r [<!ENTITY x "y">]>',
    b"&x;",
    b"&#0;",
    b"&#xD800;",
    b"]]>",
    b"<![CDATA[",
    b"\x00",
    b"\xff",
    b"\xed\xa0\x80",
    b"\xc0\xaf",
    b"<?xml version='1.0' encoding='UTF-16'?>",
    b"</",
    b"<a>" * 300,
    b'"',
    b"'",
    b"%",
    b"+",
    b"=",
    b"&",
    b"\r\n",
    b"1E+999",
    b"-0",
    b"+-1",
    b"9" * 40,
    "٣".encode(),
    "中文".encode(),
    "𠀀".encode(),
    b' xmlns:x="relative"',
    b' xmlns="urn:other"',
    b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/hostname"/>',
    b"[" * 50,
    b"{",
    b"\\u0000",
    b"\\ud800",
)
#: values for text nodes in tree-level mutations
TEXTS: tuple[str, ...] = (
    "",
    " ",
    "+-1",
    "-0",
    "1E+5",
    "1.5",
    "99999999999999999999999999999",
    "٣٤",
    "20261341100000123",
    "2026-02-30T10:00:00",
    "\t",
    "中文",
    "𠀀",
    "&<>\"'",
    "true",
    "null",
)

_TRUSTED = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


@st.composite
def byte_mutation(draw: st.DrawFn, data: bytes) -> bytes:
    """One to three byte-level edits of ``data``."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(("flip", "insert", "delete", "truncate", "duplicate")))
        at = draw(st.integers(0, len(out)))
        if kind == "flip" and out:
            out[min(at, len(out) - 1)] = draw(st.integers(0, 255))
        elif kind == "insert":
            out[at:at] = draw(st.sampled_from(TOKENS))
        elif kind == "delete":
            out[at : at + draw(st.integers(1, 64))] = b""
        elif kind == "truncate":
            del out[at:]
        elif kind == "duplicate":
            out[at:at] = out[at : at + draw(st.integers(1, 256))]
    return bytes(out)


@st.composite
def tree_mutation(draw: st.DrawFn, data: bytes) -> bytes:
    """One structural edit of a well-formed document: an element duplicated, removed, moved into its
    sibling, renamed, given an attribute, or its text replaced."""
    try:
        root = etree.fromstring(data, _TRUSTED)
    except (etree.XMLSyntaxError, ValueError):
        return draw(byte_mutation(data))
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    target = draw(st.sampled_from(elements))
    parent = target.getparent()
    kind = draw(st.sampled_from(("duplicate", "remove", "move", "rename", "attribute", "text")))
    if kind == "duplicate" and parent is not None:
        parent.insert(parent.index(target), etree.fromstring(etree.tostring(target)))
    elif kind == "remove" and parent is not None:
        parent.remove(target)
    elif kind == "move" and parent is not None:
        sibling = target.getnext()
        if sibling is not None and isinstance(sibling.tag, str):
            sibling.append(target)
    elif kind == "rename":
        qname = etree.QName(target)
        target.tag = etree.QName(qname.namespace, draw(st.sampled_from(("evil", "Signature", "mo", "body"))))
    elif kind == "attribute":
        target.set(draw(st.sampled_from(("guid", "Id", "version", "xmlns_x"))), draw(st.sampled_from(TEXTS)))
    else:
        target.text = draw(st.sampled_from(TEXTS))
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


def mutations(seed_data: list[bytes]) -> st.SearchStrategy[bytes]:
    """A seed, mutated at byte or tree level."""
    seed = st.sampled_from(seed_data)
    return st.one_of(seed.flatmap(byte_mutation), seed.flatmap(tree_mutation))


def outcome(name: str, data: bytes) -> Any:
    """Run a target; a crash propagates with the input in the message."""
    try:
        return targets.run_target(name, data)
    except Exception as exc:
        raise AssertionError(f"target {name} crashed on {data[:400]!r}: {targets.describe(exc)}") from exc
