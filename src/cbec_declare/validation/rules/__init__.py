"""Business rules: plain Python over the message models, one module per concern.

:func:`run_rules` applies the rules registered for the message's class. Every finding carries a stable
code ``rule.<family>.<name>``, the element path and the spec's Chinese field name.

========================  =====================================================================
module                    rules
========================  =====================================================================
``fields``                one walk over every entity: ``codes``, ``identity``, ``dates`` field
                          checks, ``rule.amounts.negative``, ``rule.limits.count``,
                          ``rule.spec_required``
``amounts``               acturalPaid, goodsValue, item totals, net ≤ gross weight
``sequence``              gnum 1..n, no repeats
``inventory``             what 1210 and 9610 inventories must carry
``limits``                counts per message; personal single and annual limits (warnings)
``duplicates``            documents repeated inside one message
``consistency``           related documents (三单对碰, 清单 vs 订单)
``receipts``              unknown returnStatus / tax status (warnings)
========================  =====================================================================
"""

from __future__ import annotations

from typing import Any

from ...models import (
    CEB311Message,
    CEB411Message,
    CEB511Message,
    CEB513Message,
    CEB621Message,
    CEB623Message,
    CEB625Message,
    CEB711Message,
    DeclarationMessage,
)
from ..report import Finding
from . import amounts, consistency, duplicates, inventory, limits, receipts, sequence
from ._base import Rule
from .context import PurchaseHistory, Related, RuleContext, RuleOptions
from .fields import field_rules

__all__ = [
    "DECLARATION_RULES",
    "PurchaseHistory",
    "Related",
    "Rule",
    "RuleContext",
    "RuleOptions",
    "rules_for",
    "run_rules",
]

#: rules per declaration class, after the field walk and the duplicate check every declaration gets
DECLARATION_RULES: dict[type[Any], tuple[Rule, ...]] = {
    CEB311Message: (
        amounts.order_amounts,
        sequence.order_gnum,
        limits.personal_limits,
        consistency.order_related,
    ),
    CEB411Message: (consistency.payment_related,),
    CEB511Message: (consistency.waybill_related,),
    CEB513Message: (),
    CEB621Message: (
        amounts.inventory_amounts,
        sequence.inventory_gnum,
        inventory.trade_mode_requirements,
        limits.personal_limits,
        consistency.inventory_related,
    ),
    CEB623Message: (),
    CEB625Message: (sequence.refund_gnum,),
    CEB711Message: (sequence.delivery_gnum,),
}
_COMMON: tuple[Rule, ...] = (field_rules, duplicates.unique_documents)
_RECEIPT: tuple[Rule, ...] = (receipts.receipt_codes,)


def rules_for(message: Any) -> tuple[Rule, ...]:
    """The rules that apply to a message model (receipts: only the code check)."""
    if isinstance(message, DeclarationMessage):
        return _COMMON + DECLARATION_RULES.get(type(message), ())
    return _RECEIPT


def run_rules(message: Any, ctx: RuleContext) -> list[Finding]:
    """Every rule finding for one message model, in rule order."""
    findings: list[Finding] = []
    for rule in rules_for(message):
        findings.extend(rule(message, ctx))
    return findings
