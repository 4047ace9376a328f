"""The one entry point: :func:`validate` a message (bytes, text or model) against XSD and business rules.

Input handling, decided once:

* ``bytes``/``str`` are outside data: parsed by :func:`cbec_declare._xml.parse_untrusted`. Input that is
  not a 统一版 message document at all — not well-formed, carrying a DTD, too large, or with a root
  element that is no CEB message — raises the typed :class:`~cbec_declare.errors.XmlError` instead of
  returning a report: there is no message to report on, and unsafe input must not pass as a mere finding.
* Any document whose root is a CEB message gets a :class:`Report`. If its content does not fit the
  message model (a missing element, a bad number or date), that becomes an ERROR finding (source
  ``"parse"``) next to the XSD findings, and the business rules, which need the model, are skipped.
* Models are written with :func:`cbec_declare.messages.build` for the XSD check (a value XML cannot carry
  becomes a finding with source ``"build"``); the rules read the model directly. A model has no
  ``ds:Signature`` (signing comes after validation), so the XSD's "Signature missing" is not reported for
  models; for bytes it is, since bytes are what would be sent.

The XSD part costs what lxml's ``XMLSchema.validate`` costs plus one parse; rules are plain Python.
"""

from __future__ import annotations

import copy
from datetime import datetime
from pathlib import Path
from typing import Any

from lxml import etree

from .._xml import CEB_NS, DS_NS, parse_untrusted
from ..codes import SpecVersion
from ..errors import BuildError, ConfigError, UnexpectedDocumentError, ValidationError
from ..messages import MESSAGE_CLASSES, build, parse_element
from ..models import CHINA_TZ, DeclarationMessage, ReceiptMessage
from .report import Finding, Report, Severity
from .rules import PurchaseHistory, Related, RuleContext, RuleOptions, run_rules
from .schemas import xsd_findings

__all__ = ["validate", "validate_or_raise"]

Message = bytes | str | DeclarationMessage | ReceiptMessage


def _beijing_now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(CHINA_TZ).replace(tzinfo=None)
    if now.tzinfo is not None:
        return now.astimezone(CHINA_TZ).replace(tzinfo=None)
    return now


def _message_root(data: bytes | str) -> tuple[etree._Element, str]:
    root = parse_untrusted(data, what="message")
    name = etree.QName(root)
    if name.namespace not in (CEB_NS, None) or name.localname not in MESSAGE_CLASSES:
        raise UnexpectedDocumentError(
            f"root element {{{name.namespace}}}{name.localname} is not a 统一版 import message "
            f"(expected one of CEB311Message … CEB900Message in {CEB_NS})",
            code="xml.unexpected",
            field=name.localname,
        )
    return root, name.localname


def _error_finding(exc: UnexpectedDocumentError | BuildError, source: str, consequence: str) -> Finding:
    return Finding(
        code=exc.code,
        message=f"{exc.message} ({consequence})",
        path=exc.field or "",
        zh=exc.zh or "",
        severity=Severity.ERROR,
        source=source,
    )


# A model never holds its ds:Signature (the signing layer appends it to the built bytes), so the XSD's
# "Signature missing" for CEB621/623/625/711 says nothing about a model. Rather than translate that
# error and drop it (costly: a failed validation is validated again to read its log), a placeholder
# that satisfies the xmldsig schema stands in for the signature while the model's bytes are checked.
_PLACEHOLDER_SIGNATURE = (
    f'<ds:Signature xmlns:ds="{DS_NS}"><ds:SignedInfo>'
    '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>'
    '<ds:SignatureMethod Algorithm="http://www.w3.org/2000/09/xmldsig#rsa-sha1"/>'
    '<ds:Reference URI=""><ds:Transforms>'
    '<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></ds:Transforms>'
    '<ds:DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/><ds:DigestValue>AA==</ds:DigestValue>'
    "</ds:Reference></ds:SignedInfo><ds:SignatureValue>AA==</ds:SignatureValue></ds:Signature>"
)
_PLACEHOLDER_ELEMENT = etree.fromstring(_PLACEHOLDER_SIGNATURE)

#: frozen, so one instance serves every call (building it costs microseconds per message)
_DEFAULT_OPTIONS = RuleOptions()


def _model_tree(data: bytes, signature_required: bool) -> etree._Element:
    # Our own canonical bytes: trusted, so the plain parser is enough.
    root = etree.fromstring(data)
    if signature_required:
        root.append(copy.deepcopy(_PLACEHOLDER_ELEMENT))  # a copy costs a third of a parse
    return root


def validate(
    message: Message,
    *,
    version: SpecVersion | str = "2018-113",
    xsd: bool = True,
    rules: bool = True,
    related: Related | None = None,
    history: PurchaseHistory | None = None,
    directory: Path | str | None = None,
    options: RuleOptions | None = None,
    now: datetime | None = None,
    built: bytes | None = None,
) -> Report:
    """Check a message against the XSD of ``version`` and the business rules; return every finding.

    ``message``: the XML (``bytes``/``str``) or a message model. ``xsd``/``rules`` switch the two parts.
    ``related``: the other documents of the same sales (orders, payments, waybills) for cross-checks.
    ``history``: the buyers' purchases this year, for the annual-limit warning. ``directory``: an
    official customs XSD package to validate against instead of the bundled schemas. ``options``:
    tolerances and limits (:class:`RuleOptions`). ``now``: the clock for the date rules (default: now).
    ``built``: for a model, the bytes :func:`~cbec_declare.messages.build` already made of it (the
    pipeline passes them to avoid building twice); they must be exactly that builder output.

    Raises :class:`~cbec_declare.errors.XmlError` when bytes or text are not a CEB message document at
    all, :class:`~cbec_declare.errors.ConfigError` for bad arguments; everything else is a finding.
    """
    spec_version = SpecVersion.coerce(version)
    if related is not None and not isinstance(related, Related):
        raise ConfigError("related= expects a Related (see Related.of)", code="config.related")
    findings: list[Finding] = []
    model: Any = None
    if isinstance(message, (bytes, bytearray, memoryview, str)):
        root, message_type = _message_root(bytes(message) if not isinstance(message, str) else message)
        if xsd:
            findings.extend(xsd_findings(root, spec_version, kind="ceb", directory=directory))
        if rules:
            try:
                model = parse_element(root)
            except UnexpectedDocumentError as exc:
                findings.append(
                    _error_finding(exc, "parse", "does not fit the message model; business rules not run")
                )
    elif isinstance(message, (DeclarationMessage, ReceiptMessage)):
        model = message
        message_type = message.message_type
        if xsd:
            try:
                data = build(message, declaration=False) if built is None else built
            except BuildError as exc:
                findings.append(_error_finding(exc, "build", "cannot be written as XML; XSD check skipped"))
            else:
                required = isinstance(message, DeclarationMessage) and message.SIGNATURE_REQUIRED
                tree = _model_tree(data, required)
                findings.extend(xsd_findings(tree, spec_version, kind="ceb", directory=directory))
    else:
        raise ConfigError(
            f"validate expects bytes, str or a message model, got {type(message).__name__}",
            code="config.message",
        )
    if rules and model is not None:
        context = RuleContext(
            version=spec_version,
            options=options if options is not None else _DEFAULT_OPTIONS,
            now=_beijing_now(now),
            related=related,
            history=history,
        )
        findings.extend(run_rules(model, context))
    return Report(message_type=message_type, version=spec_version.value, findings=tuple(findings))


def validate_or_raise(
    message: Message,
    *,
    version: SpecVersion | str = "2018-113",
    xsd: bool = True,
    rules: bool = True,
    related: Related | None = None,
    history: PurchaseHistory | None = None,
    directory: Path | str | None = None,
    options: RuleOptions | None = None,
    now: datetime | None = None,
) -> Report:
    """Like :func:`validate`, but raise :class:`~cbec_declare.errors.ValidationError` on any ERROR.

    The exception's ``report`` holds every finding; ``field``/``zh`` name the first error.

    Returns the report (which may hold warnings) when there is no error.
    """
    report = validate(
        message,
        version=version,
        xsd=xsd,
        rules=rules,
        related=related,
        history=history,
        directory=directory,
        options=options,
        now=now,
    )
    if report.ok:
        return report
    errors = report.errors
    first = errors[0]
    raise ValidationError(
        f"{report.message_type} fails validation with {len(errors)} error(s); first: {first}",
        report=report,
        field=first.path or None,
        zh=first.zh or None,
    )
