"""Validation of 统一版 messages: XSD structure and the business rules customs rejects for.

Typical use::

    report = validate(data, version="2022-05")      # bytes, str or a message model
    if not report.ok:
        for finding in report.errors:
            print(finding)                          # error: <path> (<中文名>): <message> [<code>]

:func:`validate` returns a :class:`Report` of :class:`Finding` objects (path, 中文名, stable code,
message, :class:`Severity`); :func:`validate_or_raise` raises
:class:`~cbec_declare.errors.ValidationError` when there is an error. Cross-document checks take a
:class:`Related`, the annual-limit warning a :class:`PurchaseHistory`; :class:`RuleOptions` holds the
tolerances and limits. :func:`xsd_findings` and :func:`schema_for` give the XSD part on its own.
"""

from .report import Finding, Report, Severity
from .rules import PurchaseHistory, Related, RuleOptions
from .schemas import schema_for, xsd_findings
from .validate import validate, validate_or_raise

__all__ = [
    "Finding",
    "PurchaseHistory",
    "Related",
    "Report",
    "RuleOptions",
    "Severity",
    "schema_for",
    "validate",
    "validate_or_raise",
    "xsd_findings",
]
