"""Namespaces and the one safe way to turn outside bytes into an lxml tree.

Everything that reads bytes from outside (receipts, pushes, DXP envelopes, ``<mo>`` messages, files
given to the CLI) goes through :func:`parse_untrusted`: no DTD, no entity expansion, no network,
no XInclude, a size limit, libxml2's depth limit; every failure is a typed
:class:`~cbec_declare.errors.XmlError` that says where.
"""

from __future__ import annotations

import re
from typing import Final

from lxml import etree

from .errors import MalformedXmlError, OversizedInputError, UnsafeXmlError

__all__ = [
    "CEB_NS",
    "DEFAULT_MAX_BYTES",
    "DS_NS",
    "DXP_NS",
    "XSI_NS",
    "local_name",
    "namespace_of",
    "parse_untrusted",
]

CEB_NS: Final = "http://www.chinaport.gov.cn/ceb"
DS_NS: Final = "http://www.w3.org/2000/09/xmldsig#"
DXP_NS: Final = "http://www.chinaport.gov.cn/dxp"
XSI_NS: Final = "http://www.w3.org/2001/XMLSchema-instance"

#: 10 MiB: a full CEB621 (100 inventories × 99 items) is about 6 MB; a DXP envelope adds a third.
DEFAULT_MAX_BYTES: Final = 10 * 1024 * 1024

_WHITESPACE = b" \t\r\n"


def _prolog_doctype(raw: bytes) -> int:
    """Byte offset of a ``<!DOCTYPE`` in the prolog, or -1.

    A DOCTYPE can only stand in the prolog, so refusing it there, before parsing, is cheap. This walks the
    prolog (BOM, whitespace, PIs, comments) in linear time; documents in other encodings (UTF-16) are caught
    after parsing by the docinfo check.
    """
    pos = 3 if raw.startswith(b"\xef\xbb\xbf") else 0
    end = len(raw)
    while pos < end:
        if raw[pos] in _WHITESPACE:
            pos += 1
        elif raw.startswith(b"<?", pos):
            close = raw.find(b"?>", pos + 2)
            if close < 0:
                return -1
            pos = close + 2
        elif raw.startswith(b"<!--", pos):
            close = raw.find(b"-->", pos + 4)
            if close < 0:
                return -1
            pos = close + 3
        elif raw.startswith(b"<!DOCTYPE", pos):
            return pos
        else:
            return -1
    return -1


_ENCODING_DECL = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def _parser() -> etree.XMLParser:
    # A new parser per call: lxml parsers are not thread-safe, and construction costs ~1 µs.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
        collect_ids=False,
    )


def parse_untrusted(
    data: bytes | str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    what: str = "document",
) -> etree._Element:
    """Parse outside XML safely and return its root element.

    ``what`` names the input in error messages (``"receipt"``, ``"push content"``...).
    Accepts a UTF-8 BOM and declared encodings (UTF-8, GBK, GB2312, GB18030...). A ``str`` is encoded
    as UTF-8 and must not declare another encoding.
    """
    if isinstance(data, str):
        raw = data.encode("utf-8")
        declared = _ENCODING_DECL.match(raw)
        name = declared.group(1).decode("ascii").lower().replace("_", "-") if declared else "utf-8"
        if name not in ("utf-8", "utf8"):
            raise MalformedXmlError(
                f"{what} was given as text but declares encoding {name!r}; pass the original bytes instead",
                code="xml.encoding",
            )
    elif isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
    else:
        raise MalformedXmlError(f"{what} must be bytes or str, got {type(data).__name__}", code="xml.type")
    if len(raw) > max_bytes:
        raise OversizedInputError(f"{what} is {len(raw)} bytes; the limit is {max_bytes}", size=len(raw))
    if not raw.strip():
        raise MalformedXmlError(f"{what} is empty", code="xml.empty")
    doctype = _prolog_doctype(raw)
    if doctype >= 0:
        raise UnsafeXmlError(
            f"{what} carries a DTD (<!DOCTYPE at byte {doctype}), which is never accepted", offset=doctype
        )
    try:
        tree = etree.fromstring(raw, _parser()).getroottree()
    except etree.XMLSyntaxError as exc:
        text = str(exc)
        if "depth" in text.lower():
            raise OversizedInputError(f"{what} is nested too deeply: {text}", code="xml.depth") from exc
        line, column = exc.position if exc.position else (0, 0)
        raise MalformedXmlError(f"{what} is not well-formed XML: {text}", line=line, column=column) from exc
    except ValueError as exc:  # e.g. unknown encoding names
        raise MalformedXmlError(f"{what} cannot be decoded: {exc}", code="xml.encoding") from exc
    info = tree.docinfo
    if info.internalDTD is not None or info.externalDTD is not None or info.doctype:
        raise UnsafeXmlError(f"{what} carries a DTD, which is never accepted")
    return tree.getroot()


def local_name(element: etree._Element) -> str:
    return etree.QName(element).localname


def namespace_of(element: etree._Element) -> str | None:
    return etree.QName(element).namespace
