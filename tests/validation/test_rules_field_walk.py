"""The generated field walk finds exactly what the generic walk over the plan (the definition) finds.

Arbitrary instances of every declaration message (random text in code fields, negative amounts, empty
and missing values) make most checks fire, so both the quiet and the finding paths are compared, in
order, field by field; lists outside their allowed counts cover the count limits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cbec_declare.codes import SpecVersion
from cbec_declare.models import DECLARATION_MESSAGES, CEB311Message
from cbec_declare.testing.factories import DocumentFactory
from cbec_declare.validation.rules import RuleContext, RuleOptions
from cbec_declare.validation.rules.fields import field_rules, reference_findings
from helpers.strategies import model

CONTEXTS = [
    RuleContext(version=version, options=RuleOptions(), now=datetime(2026, 11, 28, 12, 0))
    for version in SpecVersion
]


@pytest.mark.parametrize("message_type", sorted(DECLARATION_MESSAGES))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_generated_walk_equals_the_definition(message_type: str, data: st.DataObject) -> None:
    message = data.draw(model(DECLARATION_MESSAGES[message_type]))
    for ctx in CONTEXTS:
        assert field_rules(message, ctx) == reference_findings(message, ctx)


def test_count_limits_and_pdf_required_fields_agree() -> None:
    factory = DocumentFactory(seed=4)
    orders = tuple(factory.order(items=1) for _ in range(101))  # one over the 100 per message
    empty = attrs.evolve(orders[0], items=())  # below the minimum of one item
    blank = attrs.evolve(orders[1], head=attrs.evolve(orders[1].head, buyer_telephone=""))
    message: Any = CEB311Message(
        orders=(empty, blank, *orders[2:]), base_transfer=factory.company.base_transfer
    )
    for ctx in CONTEXTS:
        found = field_rules(message, ctx)
        assert found == reference_findings(message, ctx)
        codes = {f.code for f in found}
        assert "rule.limits.count" in codes
        paths = [f.path for f in found if f.code == "rule.limits.count"]
        assert paths == ["CEB311Message/Order", "CEB311Message/Order[0]/OrderList"], paths
