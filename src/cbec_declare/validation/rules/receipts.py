"""Receipts are checked at parse level only; what remains is whether their codes are known.

A ``returnStatus`` not listed for the receipt type (the official samples carry placeholders such as 18
and 23) or a non-numeric one gives a WARNING ``rule.receipt.unknown_status``: the receipt is still
readable, but no program should act on the status. Tax bills (CEB816/818) get the same treatment for
their ``status`` (1 已生成, 2 已汇总, 3 作废).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ...codes import RECEIPT_STATUS_TABLE, TAX_BILL_STATUSES, describe_status
from ...models import CEB816Message, CEB818Message, Tax
from ..report import Finding
from ._base import WARNING, documents, field_finding, part_path
from .context import RuleContext

__all__ = ["receipt_codes"]


def _tax_status(message: CEB816Message | CEB818Message) -> Iterator[Finding]:
    for document, path in documents(message):
        entity, where = (
            (document.head, part_path(path, Tax, "head")) if isinstance(document, Tax) else (document, path)
        )
        if entity.status not in TAX_BILL_STATUSES:
            yield field_finding(
                "rule.receipt.unknown_tax_status",
                f"{entity.status!r} is not a 税单状态 (1 已生成, 2 已汇总, 3 作废)",
                where,
                type(entity),
                "status",
                WARNING,
            )


def receipt_codes(message: Any, ctx: RuleContext) -> Iterator[Finding]:
    """Unknown ``returnStatus`` (or tax ``status``) values, as warnings."""
    if isinstance(message, (CEB816Message, CEB818Message)):
        yield from _tax_status(message)
        return
    name = message.message_type
    if name not in RECEIPT_STATUS_TABLE:
        return
    for entity, path in documents(message):
        info = describe_status(name, entity.return_status)
        if not info.known:
            listed = ", ".join(RECEIPT_STATUS_TABLE[name]) or "negative codes only"
            yield field_finding(
                "rule.receipt.unknown_status",
                f"returnStatus {entity.return_status!r} is not listed for {name} ({listed}; "
                "negative = processing error)",
                path,
                type(entity),
                "return_status",
                WARNING,
            )
