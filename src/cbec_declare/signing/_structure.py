"""Reading a ``ds:Signature`` against the customs profile, strictly.

Anything the profile does not produce is refused before any hashing: a second Signature or
Reference, a Reference to anything but the whole document, transforms other than the single
enveloped-signature one, an ``Object``, HMAC parameters, a C14N other than inclusive 1.0.
"""

from __future__ import annotations

import base64
import binascii
import re

import attrs
from lxml import etree

from .._xml import DS_NS
from ..errors import AlgorithmNotAllowed, SignatureStructureError
from .profiles import C14N_URI, ENVELOPED_URI

__all__ = ["SignatureParts", "read_signature", "strict_base64"]

_DS = f"{{{DS_NS}}}"
_BASE64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")


@attrs.frozen
class SignatureParts:
    """The pieces of a structurally valid Signature."""

    signature: etree._Element
    signed_info: etree._Element
    signature_method: str
    digest_method: str
    digest_value: bytes
    signature_value: bytes
    key_name: str | None
    certificates: tuple[bytes, ...]


def _fail(reason: str, message: str, field: str) -> SignatureStructureError:
    return SignatureStructureError(
        f"{message} (reason: {reason})", code=f"verify.structure.{reason}", field=field, reason=reason
    )


def strict_base64(text: str | None, field: str) -> bytes:
    """Decode base64 that may hold whitespace (xs:base64Binary) but nothing else."""
    compact = "".join((text or "").split())
    if not compact or len(compact) % 4 or _BASE64.match(compact) is None:
        raise _fail("base64", "is empty or not valid base64", field)
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise _fail("base64", "is not valid base64", field) from None


def _elements(parent: etree._Element, path: str) -> list[etree._Element]:
    """Child elements, refusing foreign ones and text between them (whitespace is allowed)."""
    out = []
    if (parent.text or "").strip():
        raise _fail("text", "holds text where only elements are expected", path)
    # Elements only: comments are not part of the C14N used here, and carry nothing.
    for child in parent.iterchildren(etree.Element):
        if not child.tag.startswith(_DS):
            raise _fail("foreign-element", f"holds foreign element {child.tag}", path)
        if (child.tail or "").strip():
            raise _fail("text", "holds text where only elements are expected", path)
        out.append(child)
    return out


def _expect(
    children: list[etree._Element], names: list[str], path: str, optional: frozenset[str]
) -> dict[str, etree._Element]:
    found: dict[str, etree._Element] = {}
    index = 0
    for name in names:
        if index < len(children) and children[index].tag == _DS + name:
            found[name] = children[index]
            index += 1
        elif name not in optional:
            raise _fail("missing-element", f"has no ds:{name} where the profile requires it", path)
    if index < len(children):
        extra = etree.QName(children[index]).localname
        reason = {"Reference": "several-references", "Object": "object"}.get(extra, "unexpected-element")
        raise _fail(reason, f"holds an unexpected ds:{extra}", path)
    return found


def _algorithm(element: etree._Element, path: str) -> str:
    value = element.get("Algorithm")
    if not value:
        raise _fail("algorithm-missing", "has no Algorithm attribute", path)
    if len(element):
        raise _fail("algorithm-parameters", "carries parameters, which the profile never uses", path)
    return value


def find_signature(root: etree._Element) -> etree._Element:
    """The one ``ds:Signature``, a child of the root."""
    found = list(root.iter(_DS + "Signature"))
    if not found:
        raise _fail("missing", "the document has no ds:Signature", "Signature")
    if len(found) > 1:
        raise _fail(
            "several", f"the document has {len(found)} ds:Signature elements; one expected", "Signature"
        )
    signature = found[0]
    if signature.getparent() is not root:
        parent = signature.getparent()
        where = "the root" if parent is None else etree.QName(parent).localname
        raise _fail(
            "not-child-of-root", f"ds:Signature must be a child of the root, found under {where}", "Signature"
        )
    return signature


def read_signature(root: etree._Element) -> SignatureParts:
    """Find and check the Signature; raise a typed error for anything outside the profile."""
    signature = find_signature(root)
    top = _expect(
        _elements(signature, "Signature"),
        ["SignedInfo", "SignatureValue", "KeyInfo"],
        "Signature",
        frozenset({"KeyInfo"}),
    )
    signed_info = top["SignedInfo"]
    parts = _expect(
        _elements(signed_info, "Signature/SignedInfo"),
        ["CanonicalizationMethod", "SignatureMethod", "Reference"],
        "Signature/SignedInfo",
        frozenset(),
    )
    c14n = _algorithm(parts["CanonicalizationMethod"], "Signature/SignedInfo/CanonicalizationMethod")
    if c14n != C14N_URI:
        raise AlgorithmNotAllowed(
            f"CanonicalizationMethod {c14n} is not inclusive C14N 1.0 (reason: c14n)",
            code="verify.algorithm.c14n",
            field="Signature/SignedInfo/CanonicalizationMethod",
            reason="c14n",
        )
    signature_method = _algorithm(parts["SignatureMethod"], "Signature/SignedInfo/SignatureMethod")
    reference = parts["Reference"]
    ref_path = "Signature/SignedInfo/Reference"
    uri = reference.get("URI")
    if uri != "":
        shown = "absent" if uri is None else repr(uri)
        raise _fail("reference-uri", f'Reference URI must be "" (the whole document), is {shown}', ref_path)
    ref_parts = _expect(
        _elements(reference, ref_path), ["Transforms", "DigestMethod", "DigestValue"], ref_path, frozenset()
    )
    transforms = _elements(ref_parts["Transforms"], ref_path + "/Transforms")
    algorithms = [t.get("Algorithm") if t.tag == _DS + "Transform" else t.tag for t in transforms]
    if algorithms != [ENVELOPED_URI] or len(transforms[0]):
        raise _fail(
            "transforms",
            f"Transforms must be exactly the enveloped-signature transform, found {algorithms}",
            ref_path + "/Transforms",
        )
    digest_method = _algorithm(ref_parts["DigestMethod"], ref_path + "/DigestMethod")
    digest_value = strict_base64(ref_parts["DigestValue"].text, ref_path + "/DigestValue")
    signature_value = strict_base64(top["SignatureValue"].text, "Signature/SignatureValue")
    key_name, certificates = _key_info(top.get("KeyInfo"))
    return SignatureParts(
        signature=signature,
        signed_info=signed_info,
        signature_method=signature_method,
        digest_method=digest_method,
        digest_value=digest_value,
        signature_value=signature_value,
        key_name=key_name,
        certificates=certificates,
    )


def _key_info(key_info: etree._Element | None) -> tuple[str | None, tuple[bytes, ...]]:
    if key_info is None:
        return None, ()
    names = key_info.findall(_DS + "KeyName")
    key_name = (names[0].text or "").strip() if names else None
    certificates = tuple(
        strict_base64(node.text, "Signature/KeyInfo/X509Data/X509Certificate")
        for data in key_info.findall(_DS + "X509Data")
        for node in data.findall(_DS + "X509Certificate")
    )
    return key_name, certificates
