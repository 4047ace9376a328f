"""libxml2's schema error log → :class:`~cbec_declare.validation.report.Finding` objects.

Each log entry becomes one finding with our element path (local names, 0-based indices on repeatable
elements: ``CEB311Message/Order[0]/OrderHead/acturalPaid``), the spec's Chinese name from the model
metadata, a stable code and the source line. libxml2 reports a missing element as "this (next) element is
not expected"; the model metadata tells a missing required element from an out-of-order, repeated or
unknown one, so the finding names the element that is really at fault.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any, Final, Protocol

import attrs
from lxml import etree

from .._xml import CEB_NS, DS_NS, DXP_NS
from ..models import DECLARATION_MESSAGES, RECEIPT_MESSAGES, DeclarationMessage
from ..models._spec import META, ChildSpec, FieldSpec, Kind
from .report import Finding, Severity

__all__ = ["translate_error_log"]

Name = tuple[str | None, str]  # (namespace, local name)

_MESSAGES: Final[dict[str, type[Any]]] = {**DECLARATION_MESSAGES, **RECEIPT_MESSAGES}

_CODES: Final = {
    "SCHEMAV_CVC_LENGTH_VALID": "xsd.length",
    "SCHEMAV_CVC_MINLENGTH_VALID": "xsd.length",
    "SCHEMAV_CVC_MAXLENGTH_VALID": "xsd.length",
    "SCHEMAV_CVC_TOTALDIGITS_VALID": "xsd.digits",
    "SCHEMAV_CVC_FRACTIONDIGITS_VALID": "xsd.digits",
    "SCHEMAV_CVC_ENUMERATION_VALID": "xsd.enumeration",
    "SCHEMAV_CVC_PATTERN_VALID": "xsd.pattern",
    "SCHEMAV_CVC_MININCLUSIVE_VALID": "xsd.range",
    "SCHEMAV_CVC_MAXINCLUSIVE_VALID": "xsd.range",
    "SCHEMAV_CVC_MINEXCLUSIVE_VALID": "xsd.range",
    "SCHEMAV_CVC_MAXEXCLUSIVE_VALID": "xsd.range",
    "SCHEMAV_CVC_DATATYPE_VALID_1_2_1": "xsd.type",
    "SCHEMAV_CVC_DATATYPE_VALID_1_2_2": "xsd.type",
    "SCHEMAV_CVC_DATATYPE_VALID_1_2_3": "xsd.type",
    "SCHEMAV_CVC_TYPE_3_1_2": "xsd.type",
    "SCHEMAV_CVC_ELT_5_2_2_1": "xsd.fixed",
    "SCHEMAV_CVC_ELT_5_2_2_2_1": "xsd.fixed",
    "SCHEMAV_CVC_ELT_5_2_2_2_2": "xsd.fixed",
    "SCHEMAV_CVC_AU": "xsd.fixed",
    "SCHEMAV_CVC_ELT_1": "xsd.root",
    "SCHEMAV_CVC_COMPLEX_TYPE_4": "xsd.missing",
    "SCHEMAV_CVC_COMPLEX_TYPE_3_2_1": "xsd.unexpected",
    "SCHEMAV_CVC_COMPLEX_TYPE_3_2_2": "xsd.unexpected",
    "SCHEMAV_CVC_TYPE_3_1_1": "xsd.unexpected",
    "SCHEMAV_CVC_COMPLEX_TYPE_2_1": "xsd.unexpected",
    "SCHEMAV_CVC_COMPLEX_TYPE_2_3": "xsd.unexpected",
}
#: Elements that are not model fields but have a name in the spec.
_SIGNATURE: Final = (DS_NS, "Signature")
_SIGNATURE_ZH: Final = "数字签名"
_ROUTING: Final = frozenset({"CopMsgId", "SenderId", "ReceiverIds", "CreatTime", "MsgType"})
#: Required children of the elements that have no model (DXP envelopes, ds:Signature), from
#: dxp-terminal.xsd, dxp-transfer.xsd and xmldsig-customs.xsd: tells "missing" from "unexpected".
_REQUIRED_CHILDREN: Final[dict[Name, frozenset[str]]] = {
    (DXP_NS, "DxpMsg"): frozenset({"TransInfo", "Data"}),
    (DXP_NS, "TransInfo"): _ROUTING,
    (DXP_NS, "OriHead"): _ROUTING,
    (DXP_NS, "ReceiverIds"): frozenset({"ReceiverId"}),
    (DXP_NS, "BizKey"): frozenset({"Key"}),
    (DXP_NS, "DxpRep"): frozenset({"RecevierId", "Response"}),
    (DXP_NS, "Response"): frozenset({"ResponseCode", "NoticeTime", "OriHead"}),
    (DXP_NS, "Results"): frozenset({"Result"}),
    (DXP_NS, "Result"): frozenset({"RecId", "Code"}),
    (DXP_NS, "DxpMsgSv"): frozenset({"SvNo", "DxpMsg"}),
    (DXP_NS, "SvNo"): frozenset({"MsgId", "SendTime", "EndNode", "StaNode"}),
    (DS_NS, "Signature"): frozenset({"SignedInfo", "SignatureValue"}),
    (DS_NS, "SignedInfo"): frozenset({"CanonicalizationMethod", "SignatureMethod", "Reference"}),
    (DS_NS, "Reference"): frozenset({"DigestMethod", "DigestValue"}),
    (DS_NS, "Transforms"): frozenset({"Transform"}),
}

_PREFIX = re.compile(r"^Element '[^']*'(?:, attribute '([^']*)')?: ")
_CLARK = re.compile(r"\{[^}]*\}")
_EXPECTED = re.compile(r"Expected is (?:one of )?\( (.*?) \)")
_MISSING_ATTRIBUTE = re.compile(r"The attribute '([^']+)' is required")


class LogEntry(Protocol):
    """The fields of an lxml ``_LogEntry`` that we read (lxml-stubs does not describe the class)."""

    message: str
    line: int
    path: str | None
    type_name: str
    domain_name: str


def _name(element: etree._Element) -> Name:
    qname = etree.QName(element)
    return qname.namespace, qname.localname


def _show(names: Iterable[Name]) -> str:
    return ", ".join(local for _, local in names)


# --------------------------------------------------------------------------- model metadata


@cache
def _members(cls: type[Any]) -> tuple[dict[str, FieldSpec | ChildSpec], dict[str, FieldSpec]]:
    """For one entity or message class: element (or wrapper) local name → spec, attribute → spec."""
    elements: dict[str, FieldSpec | ChildSpec] = {}
    attributes: dict[str, FieldSpec] = {}
    for field in attrs.fields(cls):
        spec = field.metadata.get(META)
        if isinstance(spec, ChildSpec):
            elements[spec.wrapper or spec.element] = spec
        elif isinstance(spec, FieldSpec):
            (attributes if spec.kind is Kind.ATTRIBUTE else elements)[spec.element] = spec
    return elements, attributes


@attrs.frozen
class _Role:
    """How an element is declared in its parent's model."""

    zh: str
    required: bool
    max_occurs: int | None  # None = unbounded
    repeatable: bool
    #: where the element's own children are looked up: a model class, a ChildSpec (inside a
    #: wrapper element) or None (scalar or unknown)
    scope: Any


def _role(scope: Any, name: Name) -> _Role | None:
    namespace, local = name
    if isinstance(scope, ChildSpec):  # inside a wrapper such as ceb:Payment
        if name == (CEB_NS, scope.element):
            return _Role(scope.entity.__ceb__.zh, True, 1, False, scope.entity)
        return None
    if not isinstance(scope, type):
        return None
    if name == _SIGNATURE and issubclass(scope, DeclarationMessage):
        return _Role(_SIGNATURE_ZH, scope.SIGNATURE_REQUIRED, 1, False, None)
    spec = _members(scope)[0].get(local) if namespace == CEB_NS else None
    if spec is None:
        return None
    if isinstance(spec, FieldSpec):
        return _Role(spec.zh, spec.required, 1, False, None)
    limit = spec.max_occurs if spec.many else 1
    inner: Any = spec if spec.wrapper else spec.entity
    return _Role(spec.zh, spec.min_occurs > 0, limit, spec.many, inner)


@attrs.frozen
class _Where:
    path: str
    zh: str
    scope: Any
    role: _Role | None


class _Locator:
    """Maps libxml2's node paths back to elements, and elements to our paths and names."""

    #: Errors looked up one by one (an XPath each) before indexing the whole document instead.
    DIRECT_LOOKUPS: Final = 32

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.tree = root.getroottree()
        self._by_path: dict[str, etree._Element] | None = None
        self._direct = 0
        self._where: dict[etree._Element, _Where] = {}
        self._positions: dict[etree._Element, dict[etree._Element, int]] = {}
        self._totals: dict[etree._Element, dict[object, int]] = {}

    def element(self, node_path: str | None) -> etree._Element | None:
        if node_path is None:
            return None
        if self._by_path is None and self._direct < self.DIRECT_LOOKUPS:
            self._direct += 1
            found = self._evaluate(node_path)
            if found is not None:
                return found
        if self._by_path is None:
            # getpath() is libxml2's own path function, so the keys match the log entries exactly,
            # prefixed or default namespace alike.
            self._by_path = {self.tree.getpath(el): el for el in self.root.iter(etree.Element)}
        return self._by_path.get(node_path)

    def _evaluate(self, node_path: str) -> etree._Element | None:
        # A few errors in a large document: evaluating the path beats indexing every element. The
        # prefixes are those of the root; the getpath() check rejects any other reading of the path.
        namespaces = {prefix: uri for prefix, uri in self.root.nsmap.items() if prefix}
        try:
            hits = self.tree.xpath(node_path, namespaces=namespaces)
        except etree.XPathError:
            return None
        if isinstance(hits, list) and len(hits) == 1 and isinstance(hits[0], etree._Element):
            hit: etree._Element = hits[0]
            if self.tree.getpath(hit) == node_path:
                return hit
        return None

    def position(self, parent: etree._Element, element: etree._Element) -> tuple[int, int]:
        """0-based index of ``element`` among its same-named siblings, and their number."""
        table = self._positions.get(parent)
        if table is None:
            counts: dict[object, int] = {}
            table = {}
            for child in parent.iterchildren(etree.Element):
                table[child] = counts.get(child.tag, 0)
                counts[child.tag] = table[child] + 1
            self._totals[parent] = counts
            self._positions[parent] = table
        return table[element], self._totals[parent][element.tag]

    def where(self, element: etree._Element) -> _Where:
        known = self._where.get(element)
        if known is not None:
            return known
        name = _name(element)
        parent = element.getparent()
        if parent is None:
            cls = _MESSAGES.get(name[1]) if name[0] == CEB_NS else None
            found = _Where(name[1], cls.__ceb__.zh if cls else "", cls, None)
        else:
            above = self.where(parent)
            role = _role(above.scope, name)
            segment = name[1]
            index, count = self.position(parent, element)
            if role.repeatable if role is not None else count > 1:
                segment += f"[{index}]"
            found = _Where(
                f"{above.path}/{segment}", role.zh if role else "", role.scope if role else None, role
            )
        self._where[element] = found
        return found


# --------------------------------------------------------------------------- translation


def _finding(code: str, message: str, where: str, zh: str, line: int | None) -> Finding:
    return Finding(
        code=code,
        message=message,
        path=where,
        zh=zh,
        severity=Severity.ERROR,
        source="xsd",
        line=line if line and line > 0 else None,
    )


def _expected(message: str) -> list[Name]:
    found = _EXPECTED.search(message)
    names: list[Name] = []
    for token in found.group(1).split(", ") if found else ():
        if token.startswith("##"):  # a wildcard, not a name
            continue
        clark = re.fullmatch(r"\{([^}]*)\}(.+)", token)
        names.append((clark.group(1), clark.group(2)) if clark else (None, token))
    return names


def _is_required(role: _Role | None, parent: Name, name: Name) -> bool:
    if role is not None:
        return role.required
    # No model: DXP envelopes and the inside of ds:Signature (children share the parent's namespace).
    return name[0] == parent[0] and name[1] in _REQUIRED_CHILDREN.get(parent, frozenset())


def _content(
    locator: _Locator, element: etree._Element, message: str, detail: str, line: int | None
) -> Finding:
    """SCHEMAV_ELEMENT_CONTENT: missing, out of order, repeated, unknown or wrong-namespace element."""
    expected = _expected(message)
    offender: etree._Element | None = None
    parent: etree._Element | None = element
    if "Missing child element" not in message:
        parent, offender = element.getparent(), element
    if parent is None:  # pragma: no cover - libxml2 reports content errors of the root on the root
        return _finding("xsd.other", detail, locator.where(element).path, "", line)
    above = locator.where(parent)
    present = {_name(child) for child in parent if isinstance(child.tag, str)}
    roles = {name: _role(above.scope, name) for name in expected}
    parent_name = _name(parent)
    missing = [
        name for name in expected if name not in present and _is_required(roles[name], parent_name, name)
    ]
    if offender is not None:
        got = _name(offender)
        meant = next((name for name in expected if name[1] == got[1] and name[0] != got[0]), None)
        if meant is not None:
            where = locator.where(offender)
            found_in = f"namespace {got[0]}" if got[0] else "no namespace"
            role = roles[meant]  # the element it was meant to be names the field
            return _finding(
                "xsd.namespace",
                f"'{got[1]}' must be in namespace {meant[0]}, not in {found_in}",
                where.path,
                role.zh if role else where.zh,
                line,
            )
    if missing:
        name = missing[0]
        role = roles[name]
        instead = f" (found '{_name(offender)[1]}' in its place)" if offender is not None else ""
        return _finding(
            "xsd.missing",
            f"required element '{name[1]}' is missing{instead}",
            f"{above.path}/{name[1]}",
            role.zh if role else "",
            line,
        )
    if offender is None:
        return _finding(
            "xsd.missing",
            f"content is incomplete; expected {_show(expected) or 'more elements'}",
            above.path,
            above.zh,
            line,
        )
    where = locator.where(offender)
    local = _name(offender)[1]
    hint = f"; expected {_show(expected)} here" if expected else ""
    count = locator.position(parent, offender)[1]
    if where.role is None and count == 1:
        return _finding(
            "xsd.unexpected", f"element '{local}' is not allowed here{hint}", where.path, "", line
        )
    limit = where.role.max_occurs if where.role is not None else 1
    if limit is not None and count > limit:
        return _finding(
            "xsd.occurs",
            f"'{local}' occurs {count} times; at most {limit} allowed",
            where.path,
            where.zh,
            line,
        )
    return _finding("xsd.order", f"'{local}' is out of order{hint}", where.path, where.zh, line)


def _line(entry: LogEntry, element: etree._Element | None) -> int | None:
    # Elements added after parsing have no line in the log (0); fall back to the element's own.
    if entry.line > 0:
        return entry.line
    source: object = element.sourceline if element is not None else None
    return source if isinstance(source, int) and source > 0 else None


def _entry_finding(locator: _Locator, entry: LogEntry) -> Finding:
    message = entry.message or ""
    detail = _CLARK.sub("", _PREFIX.sub("", message)).strip()
    element = locator.element(entry.path)
    line = _line(entry, element)
    if element is None:
        # Should not happen; keep the raw path rather than lose the error.
        return _finding(_CODES.get(entry.type_name, "xsd.other"), detail, entry.path or "", "", line)
    where = locator.where(element)
    if entry.type_name == "SCHEMAV_ELEMENT_CONTENT":
        return _content(locator, element, message, detail, line)
    code = _CODES.get(entry.type_name, "xsd.other")
    prefix = _PREFIX.match(message)
    attribute = prefix.group(1) if prefix and prefix.group(1) else None
    if attribute is None and code == "xsd.missing":
        wanted = _MISSING_ATTRIBUTE.search(message)
        attribute = wanted.group(1) if wanted else None
    if attribute is not None:
        local = _CLARK.sub("", attribute)
        spec = _members(where.scope)[1].get(local) if isinstance(where.scope, type) else None
        return _finding(code, detail, f"{where.path}/@{local}", spec.zh if spec else "", line)
    if code == "xsd.root":
        detail = f"'{_name(element)[1]}' is not a document this schema defines"
    return _finding(code, detail, where.path, where.zh, line)


def translate_error_log(root: etree._Element, entries: Iterable[LogEntry]) -> list[Finding]:
    """One finding per schema error of ``entries`` (an lxml error log of validating ``root``)."""
    locator = _Locator(root)
    findings: list[Finding] = []
    seen: set[tuple[str, str, str]] = set()
    for entry in entries:
        if entry.domain_name != "SCHEMASV":
            continue
        finding = _entry_finding(locator, entry)
        key = (finding.code, finding.path, finding.message)
        if key not in seen:
            seen.add(key)
            findings.append(finding)
    return findings
