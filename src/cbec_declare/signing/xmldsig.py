"""Enveloped XMLDSig as customs wants it: sign a CEB message without touching any other byte.

Recipe (signature-dxp-179-receipts.md §A): the DigestValue is the hash of the inclusive C14N 1.0 of
the whole document; the Signature (prefix ``ds``, ``xmlns:ds`` declared on it, compact) is spliced
in as the root's last child, right before the root's end tag, so the XML declaration, a BOM and all
whitespace stay as given and removing the Signature element restores the signed bytes exactly. The
SignatureValue covers the C14N of ``ds:SignedInfo`` *in document context*: inclusive C14N writes the
root's namespace declarations (``xmlns:ceb``, ``xmlns:xsi``) and ``xmlns:ds`` on it, sorted. That
text is produced from a template, never by serialising a tree.

:func:`sign` parses and canonicalises its input. :func:`sign_canonical` skips both for input known to
be canonical already, i.e. :func:`cbec_declare.messages.build` output; the two give identical bytes.
"""

from __future__ import annotations

import base64
import functools
import re
from typing import Final

from lxml import etree

from .._xml import DEFAULT_MAX_BYTES, DS_NS, parse_untrusted
from ..errors import CbecError, SigningError, XmlError
from .base import Signer
from .profiles import C14N_URI, ENVELOPED_URI, SignatureProfile, digest, resolve_profile

__all__ = [
    "canonical_signed_info",
    "document_digest",
    "sign",
    "sign_canonical",
]

# The SignedInfo exactly as C14N writes it; ``{ns}`` receives the in-scope namespace declarations.
_SIGNED_INFO: Final = (
    "<ds:SignedInfo{ns}>"
    f'<ds:CanonicalizationMethod Algorithm="{C14N_URI}"></ds:CanonicalizationMethod>'
    '<ds:SignatureMethod Algorithm="{sm}"></ds:SignatureMethod>'
    '<ds:Reference URI=""><ds:Transforms>'
    f'<ds:Transform Algorithm="{ENVELOPED_URI}"></ds:Transform>'
    '</ds:Transforms><ds:DigestMethod Algorithm="{dm}"></ds:DigestMethod>'
    "<ds:DigestValue>{dv}</ds:DigestValue></ds:Reference></ds:SignedInfo>"
)
_DS_DECLARATION: Final = f'xmlns:ds="{DS_NS}"'

# A canonical start tag: single spaces, double quotes, '"' escaped inside values, no whitespace
# before '>'. '>' may stand unescaped in a canonical attribute value, hence the quoted groups.
_CANONICAL_START = re.compile(
    rb'<([^\s<>/="]+)((?: xmlns(?::[^\s<>/="]+)?="[^"]*")*)((?: [^\s<>/="]+="[^"]*")*)>'
)
_ATTRIBUTE = re.compile(rb' ([^\s=]+)="([^"]*)"')
_DECLARATION = re.compile(rb"^(?:\xef\xbb\xbf)?(?:<\?xml\s[^>]*\?>)?\s*")
_TRAILING_MISC = re.compile(rb"(\s+|<!--(?:(?!--).)*-->|<\?([^\s?]+)(?:\s+((?:(?!\?>).)*))?\?>)", re.DOTALL)
_NEEDS_ESCAPE = re.compile(rb"[&<\t\n\r]")
_KEY_NAME_OK = re.compile("^[^\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]*$")


def document_digest(canonical: bytes, profile: SignatureProfile) -> str:
    """Base64 DigestValue of a canonical document (the C14N bytes with no Signature)."""
    return base64.b64encode(digest(profile.digest, canonical)).decode("ascii")


def _root_context(canonical: bytes) -> tuple[bytes, str]:
    """The root qname and the namespace declarations SignedInfo inherits (canonical text)."""
    start = canonical.find(b"<")
    while canonical.startswith(b"<?", start):  # processing instructions before the root
        start = canonical.find(b"<", canonical.index(b"?>", start) + 2)
    match = _CANONICAL_START.match(canonical, start)
    if start < 0 or match is None:
        raise SigningError(
            "the document does not start with a canonical root start tag", code="sign.canonical"
        )
    # C14N writes namespace declarations before attributes, so the first group holds all of them.
    if b" xml:" in match.group(3):
        name = _ATTRIBUTE.search(match.group(3)[match.group(3).index(b" xml:") :])
        # C14N 1.0 would copy xml:lang/xml:space onto SignedInfo; lxml does not, xmlsec does.
        raise SigningError(
            f"the root carries {name.group(1).decode() if name else 'an xml: attribute'}: in-context C14N "
            "of SignedInfo differs between implementations then; remove it before signing",
            code="sign.xml-attribute",
        )
    return match.group(1), _context(match.group(2))


@functools.lru_cache(maxsize=64)
def _context(declarations_text: bytes) -> str:
    # Cached: every message from the builder declares the same namespaces.
    declarations: dict[bytes, bytes] = {}
    for name, value in _ATTRIBUTE.findall(declarations_text):
        if _NEEDS_ESCAPE.search(value):
            # libxml2 writes such URIs unescaped in C14N, the C14N spec escapes them: refuse.
            raise SigningError(
                f"namespace URI of {name.decode()} holds characters that C14N implementations "
                "write differently (& < or line breaks)",
                code="sign.namespace",
            )
        if value or name != b"xmlns":  # xmlns="" declares nothing to inherit
            declarations[name] = value
    declarations[b"xmlns:ds"] = DS_NS.encode()
    # C14N order: the default namespace first, then by prefix.
    ordered = sorted(declarations.items(), key=lambda item: item[0][6:] if item[0] != b"xmlns" else b"")
    return "".join(f' {k.decode("utf-8")}="{v.decode("utf-8")}"' for k, v in ordered)


def canonical_signed_info(profile: SignatureProfile, digest_value: str, context: str) -> str:
    """The C14N text of SignedInfo with the given in-scope namespace declarations (``context``,
    e.g. ``' xmlns:ceb="…" xmlns:ds="…" xmlns:xsi="…"'``)."""
    return _SIGNED_INFO.format(
        ns=context, sm=profile.signature_method, dm=profile.digest_method, dv=digest_value
    )


@functools.lru_cache(maxsize=32)
def _certificate_b64(der: bytes) -> str:
    return base64.b64encode(der).decode("ascii")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#xD;")


def _signature_element(
    canonical: bytes,
    context: str,
    signer: Signer,
    profile: SignatureProfile | str | None,
    key_name: str | None,
) -> bytes:
    """The compact ``ds:Signature`` text for a canonical document. Everything that can be checked
    is checked before the signer is called: a token or card operation is slow and may need a PIN."""
    chosen = resolve_profile(profile, signer.algorithm)
    name = signer.key_name if key_name is None else key_name
    if not name or _KEY_NAME_OK.match(name) is None:
        raise SigningError(f"key name {name!r} cannot be written in ds:KeyName", code="sign.key-name")
    certificate = _certificate_b64(bytes(signer.certificate))
    signed_info = canonical_signed_info(chosen, document_digest(canonical, chosen), context)
    try:
        signature = signer.sign(signed_info.encode("utf-8"))
    except CbecError:
        raise
    except Exception as exc:  # a backend's own exception type: keep the chain, add the context
        raise SigningError(
            f"the signer {type(signer).__name__} failed: {type(exc).__name__}", code="sign.backend"
        ) from exc
    if not isinstance(signature, (bytes, bytearray)) or not signature:
        raise SigningError(
            f"the signer {type(signer).__name__} returned {type(signature).__name__}, not signature bytes",
            code="sign.backend",
        )
    element = (
        f"<ds:Signature {_DS_DECLARATION}>"
        f"<ds:SignedInfo>{signed_info[signed_info.index('>') + 1 :]}"
        f"<ds:SignatureValue>{base64.b64encode(bytes(signature)).decode('ascii')}</ds:SignatureValue>"
        f"<ds:KeyInfo><ds:KeyName>{_escape(name)}</ds:KeyName><ds:X509Data><ds:X509Certificate>"
        f"{certificate}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
        "</ds:Signature>"
    )
    return element.encode("utf-8")


def sign_canonical(
    document: bytes,
    signer: Signer,
    *,
    profile: SignatureProfile | str | None = None,
    key_name: str | None = None,
) -> bytes:
    """Sign a document whose root element is already in canonical form (fast path).

    ``document`` is what :func:`cbec_declare.messages.build` returns: an optional BOM and XML
    declaration, then the canonical root element (no comments or PIs around it). Nothing is parsed
    or canonicalised; the caller vouches for the form (a non-canonical document gets a signature
    that does not verify). Same result as :func:`sign` on the same bytes; a document holding a
    comment is handed to :func:`sign`, since the digest excludes comments.
    """
    data = bytes(document)
    prolog = _DECLARATION.match(data)
    offset = prolog.end() if prolog else 0
    body = data[offset:].rstrip()
    if not body.startswith(b"<") or body.startswith((b"<?", b"<!")):
        raise SigningError(
            "sign_canonical expects a canonical document (XML declaration, then the root); "
            "use sign() for anything else",
            code="sign.canonical",
        )
    if b"<!--" in body:
        # A comment (e.g. inside an xs:any fragment) is canonical text, but the Reference
        # (URI="") digests the document *without* comments. Canonical text escapes every "<" in
        # data, so "<!--" can only be a comment: let the generic path drop it.
        return sign(data, signer, profile=profile, key_name=key_name)
    qname, context = _root_context(body)
    end_tag = b"</" + qname + b">"
    if not body.endswith(end_tag):
        raise SigningError(f"the document does not end with {end_tag.decode()}", code="sign.canonical")
    element = _signature_element(body, context, signer, profile, key_name)
    position = offset + len(body) - len(end_tag)
    return data[:position] + element + data[position:]


def sign(
    xml: bytes,
    signer: Signer,
    *,
    profile: SignatureProfile | str | None = None,
    key_name: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> bytes:
    """Sign a CEB message: the input bytes with an enveloped ``ds:Signature`` spliced in.

    ``profile`` is a :class:`SignatureProfile` or a name from :data:`PROFILES`; by default the
    signer's (``rsa-sha1`` for RSA, ``sm2-sm3`` for SM2); it must match the signer's algorithm.
    ``key_name`` overrides ``signer.key_name`` in ``ds:KeyName``. Refuses a document that is
    already signed, and documents in UTF-16/32 (re-encode them as UTF-8).
    """
    data = bytes(xml)
    try:
        root = parse_untrusted(data, max_bytes=max_bytes, what="document to sign")
    except XmlError as exc:
        raise SigningError(f"cannot sign: {exc.message}", code="sign.input") from exc
    existing = next(root.iter(f"{{{DS_NS}}}Signature"), None)
    if existing is not None:
        raise SigningError(
            "the document already carries a ds:Signature; sign the unsigned message",
            code="sign.already-signed",
        )
    tree = root.getroottree()
    encoding = (tree.docinfo.encoding or "UTF-8").upper()
    if encoding.startswith(("UTF-16", "UTF-32", "UCS")):
        raise SigningError(
            f"documents in {encoding} cannot be signed in place; encode them as UTF-8",
            code="sign.encoding",
        )
    # Reference URI="" selects the document without comments (XMLDSig §4.3.3.3); lxml keeps them
    # unless told otherwise.
    canonical = etree.tostring(tree, method="c14n", with_comments=False)
    # Canonical text may start with PIs that precede the root; the root start tag follows them.
    qname, context = _root_context(canonical)
    position = _root_end_tag(data, qname.decode("utf-8").encode(encoding), root)
    element = _signature_element(canonical, context, signer, profile, key_name)
    if encoding not in ("UTF-8", "UTF8", "ASCII", "US-ASCII"):
        element = element.decode("utf-8").encode(encoding, "xmlcharrefreplace")
    return data[:position] + element + data[position:]


def _root_end_tag(data: bytes, qname: bytes, root: etree._Element) -> int:
    """Offset of the root's end tag: the last ``</qname>`` followed only by the comments and PIs
    that the parser saw after the root (a comment or PI may itself contain ``</qname>``)."""
    after: list[tuple[str, str | None, str | None]] = [
        ("pi", str(node.target), (node.text or "").strip())
        if isinstance(node, etree._ProcessingInstruction)
        else ("comment", None, None)
        for node in root.itersiblings()
    ]
    needle = b"</" + qname
    search_end = len(data)
    while True:
        start = data.rfind(needle, 0, search_end)
        if start < 0:
            raise SigningError(
                "the root element has no end tag (an empty <root/> cannot be signed in place)",
                code="sign.structure",
            )
        close = re.compile(rb"\s*>").match(data, start + len(needle))
        if close is not None and _misc_matches(data[close.end() :], after):
            return start
        search_end = start


def _misc_matches(tail: bytes, expected: list[tuple[str, str | None, str | None]]) -> bool:
    seen: list[tuple[str, str | None, str | None]] = []
    position = 0
    while position < len(tail):
        match = _TRAILING_MISC.match(tail, position)
        if match is None:
            return False
        token = match.group(1)
        if token.startswith(b"<!--"):
            seen.append(("comment", None, None))
        elif token.startswith(b"<?"):
            target = match.group(2).decode("utf-8", "replace")
            seen.append(("pi", target, (match.group(3) or b"").decode("utf-8", "replace").strip()))
        position = match.end()
    return seen == expected
