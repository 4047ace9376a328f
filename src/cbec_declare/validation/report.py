"""Findings and reports: what :func:`cbec_declare.validate` returns."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from typing import Any

import attrs

__all__ = ["Finding", "Report", "Severity"]


class Severity(str, enum.Enum):
    ERROR = "error"  # customs would reject the message
    WARNING = "warning"  # allowed, but worth a look (e.g. near the personal annual limit)


@attrs.frozen(kw_only=True)
class Finding:
    """One problem found in a message.

    ``path`` is an element path such as ``CEB311Message/Order[0]/OrderHead/acturalPaid``; ``zh`` the
    spec's Chinese field name; ``code`` a stable machine code such as ``xsd.length`` or
    ``rule.order.actual_paid``; ``source`` is ``"xsd"`` or ``"rule"``.
    """

    code: str
    message: str
    path: str = ""
    zh: str = ""
    severity: Severity = Severity.ERROR
    source: str = "rule"
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "severity": self.severity.value,
            "source": self.source,
            "path": self.path,
            "message": self.message,
        }
        if self.zh:
            out["zh"] = self.zh
        if self.line is not None:
            out["line"] = self.line
        return out

    def __str__(self) -> str:
        where = self.path + (f" ({self.zh})" if self.zh else "")
        return f"{self.severity.value}: {where}: {self.message} [{self.code}]"


@attrs.frozen(kw_only=True)
class Report:
    """Every finding for one message; ``ok`` when there is no error (warnings allowed)."""

    message_type: str
    version: str
    findings: tuple[Finding, ...] = ()

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.WARNING)

    @property
    def ok(self) -> bool:
        return not self.errors

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)

    def __len__(self) -> int:
        return len(self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "message_type": self.message_type,
            "version": self.version,
            "ok": self.ok,
            "findings": [f.to_dict() for f in self.findings],
        }
