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


class _NothingResolver(etree.Resolver):
    """Answers every external reference (DTD, parameter entity) with nothing.

    libxml2 still opens an external DTD or parameter entity from a local file for a document in an
    encoding the prolog check cannot read (UTF-16/32), even with ``load_dtd=False``; this resolver makes
    that open impossible. Such documents are refused afterwards anyway.
    """

    def resolve(self, url: str | None, pubid: str | None, context: object) -> object:  # type: ignore[override]
        return self.resolve_string("", context)  # type: ignore[call-arg]


def _parser() -> etree.XMLParser:
    # A new parser per call: lxml parsers are not thread-safe, and construction costs ~1 µs.
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
        collect_ids=False,
    )
    parser.resolvers.add(_NothingResolver())
    return parser


#: encodings whose bytes the byte-level prolog check cannot read directly
_WIDE_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
)
_XINCLUDE = frozenset({"http://www.w3.org/2001/XInclude", "http://www.w3.org/2003/XInclude"})
_ABSOLUTE_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s{}]*")


def _ascii_prolog(raw: bytes) -> bytes:
    """The start of a UTF-16/32 document as UTF-8, so its prolog can be checked like any other."""
    for mark, codec in _WIDE_BOMS:
        if raw.startswith(mark):
            return raw[:65536].decode(codec, errors="ignore").lstrip("\ufeff").encode("utf-8")
    return raw


def _check_namespaces(root: etree._Element, what: str) -> None:
    """Refuse namespace URIs that C14N and QName cannot handle, and XInclude."""
    for _, (prefix, uri) in etree.iterwalk(root, events=("start-ns",)):
        if uri in _XINCLUDE:
            raise UnsafeXmlError(f"{what} uses XInclude, which is never accepted", code="xml.unsafe.xinclude")
        if uri and not _ABSOLUTE_URI.fullmatch(uri):
            raise MalformedXmlError(
                f"{what} declares the namespace {prefix or '(default)'} = {uri[:80]!r}, which is not an "
                "absolute URI",
                code="xml.namespace",
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
    doctype = _prolog_doctype(_ascii_prolog(raw))
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
    root = tree.getroot()
    _check_namespaces(root, what)
    return root


def local_name(element: etree._Element) -> str:
    return etree.QName(element).localname


def namespace_of(element: etree._Element) -> str | None:
    return etree.QName(element).namespace
