"""validate() on every official sample of both spec versions.

The samples are XSD-valid, but they are test data: the same document repeated, invented ID numbers,
amounts that do not add up. The only rule errors allowed are the breaks listed in ``EXPECTED_ERRORS``,
each of which is also confirmed here straight from the raw XML (python-stdnum for identities, the
sample's own numbers for totals, earlier siblings for repeats), so no finding is a false alarm.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

import pytest
from lxml import etree
from stdnum.cn import ric, uscc

from cbec_declare.messages import parse
from cbec_declare.validation import Finding, Report, Severity, validate
from conftest import SAMPLES

VERSIONS = ("2018-113", "2022-05")
NOW = datetime(2024, 1, 1)


def at(template: str, indexes: Iterable[int]) -> set[str]:
    return {template.format(i) for i in indexes}


#: message type → rule error code → paths. Each entry says how the sample breaks the rule.
EXPECTED_ERRORS: dict[str, dict[str, set[str]]] = {
    "CEB311Message": {
        # The buyer's 身份证 number: its first 17 digits give another check character.
        "rule.identity.id_number": at("CEB311Message/Order[{}]/OrderHead/buyerIdNumber", range(6)),
        # Six copies of one order: the same orderNo on the same platform.
        "rule.order.duplicate": at("CEB311Message/Order[{}]/OrderHead/orderNo", range(1, 6)),
        # Second item: qty 200 × price 10 = 2000, but totalPrice 12000.
        "rule.order.item_total": at("CEB311Message/Order[{}]/OrderList[1]/totalPrice", range(6)),
    },
    "CEB411Message": {
        "rule.identity.id_number": at("CEB411Message/Payment[{}]/PaymentHead/payerIdNumber", range(10)),
        # Two payments alternate five times.
        "rule.payment.duplicate": at("CEB411Message/Payment[{}]/PaymentHead/payTransactionId", range(2, 10)),
    },
    "CEB511Message": {
        # Six waybills with the same logisticsNo.
        "rule.logistics.duplicate": at("CEB511Message/Logistics[{}]/LogisticsHead/logisticsNo", range(1, 6)),
    },
    "CEB621Message": {
        "rule.identity.id_number": at("CEB621Message/Inventory[{}]/InventoryHead/buyerIdNumber", range(10)),
        # areaCode has 18 characters but is no 统一社会信用代码 (check character).
        "rule.identity.uscc": at("CEB621Message/Inventory[{}]/InventoryHead/areaCode", range(10)),
        "rule.inventory.duplicate": at("CEB621Message/Inventory[{}]/InventoryHead/orderNo", range(2, 10))
        | at("CEB621Message/Inventory[{}]/InventoryHead/logisticsNo", range(2, 10)),
        # Both items: qty × price is far from totalPrice.
        "rule.inventory.item_total": at("CEB621Message/Inventory[{}]/InventoryList[0]/totalPrice", range(10))
        | at("CEB621Message/Inventory[{}]/InventoryList[1]/totalPrice", range(10)),
    },
    "CEB623Message": {
        "rule.identity.id_number": at("CEB623Message/InvtCancel[{}]/buyerIdNumber", range(10)),
        "rule.cancel.duplicate": at("CEB623Message/InvtCancel[{}]/invtNo", range(2, 10)),
    },
}

#: message type → warning codes (placeholders 18/23 in receipts, packNo 6000, logisticsStatus R, ...).
EXPECTED_WARNINGS: dict[str, set[str]] = {
    "CEB311Message": {"rule.message.duplicate_guid", "rule.limits.single_transaction"},
    "CEB411Message": {"rule.message.duplicate_guid", "rule.dates.pay_after_app"},
    "CEB511Message": {"rule.message.duplicate_guid", "rule.logistics.pack_no"},
    "CEB513Message": {
        "rule.message.duplicate_guid",
        "rule.codes.logistics_status",
        "rule.logistics_status.duplicate",
    },
    "CEB514Message": {"rule.receipt.unknown_status"},
    "CEB621Message": {
        "rule.message.duplicate_guid",
        "rule.inventory.pack_no",
        "rule.identity.enterprise_code",
    },
    "CEB623Message": {"rule.message.duplicate_guid"},
    "CEB624Message": {"rule.receipt.unknown_status"},
    "CEB625Message": {
        "rule.message.duplicate_guid",
        "rule.refund.duplicate",
        "rule.identity.enterprise_code",
    },
    "CEB626Message": {"rule.receipt.unknown_status"},
    "CEB712Message": {"rule.receipt.unknown_status"},
}

SAMPLE_FILES = [(v, p.name) for v in VERSIONS for p in sorted((SAMPLES / f"ceb-{v}").glob("CEB*.xml"))]


def test_all_sixteen_samples_per_version_are_covered() -> None:
    assert len(SAMPLE_FILES) == 32


def resolve(root: etree._Element, path: str) -> etree._Element:
    """Our finding path → the element in the parsed sample (0-based indexes, prefix-agnostic)."""
    node = root
    for step in path.split("/")[1:]:
        name, _, index = step.partition("[")
        matches = [c for c in node if isinstance(c.tag, str) and etree.QName(c).localname == name]
        node = matches[int(index.rstrip("]")) if index else 0]
    return node


def sibling(element: etree._Element, name: str) -> str:
    [value] = [c.text or "" for c in element.getparent() if etree.QName(c).localname == name]
    return value


def confirm(root: etree._Element, finding: Finding) -> None:
    """Check, from the raw XML alone, that the sample really breaks the rule the finding names."""
    element = resolve(root, finding.path)
    text = (element.text or "").strip()
    if finding.code == "rule.identity.id_number":
        assert not ric.is_valid(text)
        assert ric.calc_check_digit(text) != text[-1]
    elif finding.code == "rule.identity.uscc":
        assert not uscc.is_valid(text)
    elif finding.code.endswith(".item_total"):
        qty, price = Decimal(sibling(element, "qty")), Decimal(sibling(element, "price"))
        assert abs(qty * price - Decimal(text)) > Decimal("0.005")
    elif finding.code.endswith(".duplicate"):
        # The same key value in an earlier document of the message.
        steps = finding.path.split("/")
        document_step = steps[1]
        name, _, index = document_step.partition("[")
        earlier = ["/".join([steps[0], f"{name}[{i}]", *steps[2:]]) for i in range(int(index.rstrip("]")))]
        assert any((resolve(root, p).text or "").strip() == text for p in earlier)
    else:  # pragma: no cover - a new kind of sample error must get its own confirmation
        raise AssertionError(f"no raw-XML confirmation for {finding.code}")


@pytest.mark.parametrize(("version", "name"), SAMPLE_FILES, ids=[f"{v}/{n}" for v, n in SAMPLE_FILES])
def test_sample_has_only_its_real_breaks(version: str, name: str) -> None:
    data = (SAMPLES / f"ceb-{version}" / name).read_bytes()
    report = validate(data, version=version, now=NOW)
    message_type = name.removesuffix(".xml")
    assert report.message_type == message_type
    assert [f for f in report if f.source != "rule"] == []  # XSD-valid in both versions
    errors: dict[str, set[str]] = {}
    for finding in report.errors:
        errors.setdefault(finding.code, set()).add(finding.path)
    assert errors == EXPECTED_ERRORS.get(message_type, {})
    assert {f.code for f in report.warnings} == EXPECTED_WARNINGS.get(message_type, set())
    root = etree.fromstring(data)
    for finding in report.errors:
        confirm(root, finding)
        assert finding.zh
    for finding in report.warnings:
        resolve(root, finding.path.rsplit("/", 1)[0])  # every warning points into the document


@pytest.mark.parametrize("version", VERSIONS)
def test_the_ceb311_second_item_finding_exactly(version: str) -> None:
    data = (SAMPLES / f"ceb-{version}" / "CEB311Message.xml").read_bytes()
    report = validate(data, version=version, now=NOW)
    assert (
        Finding(
            code="rule.order.item_total",
            message="totalPrice 12000 ≠ qty 200 × price 10 = 2000 "
            "(differs by 10000; accepted rounding: ±0.005)",
            path="CEB311Message/Order[0]/OrderList[1]/totalPrice",
            zh="总价",
            severity=Severity.ERROR,
            source="rule",
        )
        in report.findings
    )
    # The head is consistent: goodsValue 14000 = 2000 + 12000, acturalPaid 19050 = 14000 + 5000 + 50 − 0.
    assert not [f for f in report if f.code in ("rule.order.goods_value", "rule.order.actual_paid")]


@pytest.mark.parametrize(("version", "name"), SAMPLE_FILES, ids=[f"{v}/{n}" for v, n in SAMPLE_FILES])
def test_sample_as_bytes_text_and_model_agree(version: str, name: str) -> None:
    data = (SAMPLES / f"ceb-{version}" / name).read_bytes()
    model = parse(data)

    def rules(report: Report) -> list[tuple[str, str, str, str]]:
        return sorted((f.source, f.code, f.path, f.message) for f in report)

    from_bytes = validate(data, version=version, now=NOW)
    from_text = validate(data.decode("utf-8"), version=version, now=NOW)
    from_model = validate(model, version=version, now=NOW)  # built again, then XSD-checked
    assert rules(from_bytes) == rules(from_text) == rules(from_model)
