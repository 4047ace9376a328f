"""The validate() entry point: bytes, text and models alike; XSD and rules together; typed failures."""

from __future__ import annotations

import json
from decimal import Decimal

import attrs
import pytest

from cbec_declare.errors import (
    ConfigError,
    MalformedXmlError,
    UnexpectedDocumentError,
    UnsafeXmlError,
    ValidationError,
)
from cbec_declare.messages import build
from cbec_declare.validation import Report, Severity, validate, validate_or_raise
from conftest import OFFICIAL_XSD, SAMPLES
from validation.test_rules_baseline import NOW, ceb311, ceb621, evolve_item, inventory, inventory_head, order


def key(report: Report) -> list[tuple[str, str, str]]:
    return sorted((f.source, f.code, f.path) for f in report)


def test_bytes_text_and_model_give_the_same_findings() -> None:
    message = evolve_item(ceb311(order(order_no="X" * 61)), 1, total_price=Decimal("31"))
    data = build(message)
    from_model = validate(message, now=NOW)
    from_bytes = validate(data, now=NOW)
    from_text = validate(data.decode("utf-8"), now=NOW)
    assert key(from_model) == key(from_bytes) == key(from_text)
    # Both parts contributed: the XSD length and the rule findings.
    assert {f.source for f in from_bytes} == {"xsd", "rule"}
    assert ("xsd", "xsd.length", "CEB311Message/Order[0]/OrderHead/orderNo") in key(from_bytes)
    assert ("rule", "rule.order.item_total", "CEB311Message/Order[0]/OrderList[1]/totalPrice") in key(
        from_bytes
    )
    assert from_bytes.message_type == "CEB311Message"
    assert from_bytes.version == "2018-113"


def test_every_finding_carries_code_path_zh_and_severity() -> None:
    message = evolve_item(ceb311(order(order_no="X" * 61, buyer_id_number="110105194912310029")), 0, gnum=5)
    report = validate(build(message), now=NOW)
    assert len(report) >= 3
    for finding in report:
        assert finding.code.startswith(("xsd.", "rule."))
        assert finding.path.startswith("CEB311Message/")
        assert finding.zh
        assert finding.message
        assert isinstance(finding.severity, Severity)


def test_switches() -> None:
    message = ceb311(order(order_no="X" * 61, actual_paid=Decimal(0)))
    assert {f.source for f in validate(message, rules=False)} == {"xsd"}
    assert {f.source for f in validate(message, xsd=False, now=NOW)} == {"rule"}
    assert validate(message, xsd=False, rules=False).findings == ()


def test_versions() -> None:
    message = ceb621()
    assert validate(message, version="2022-05", now=NOW).version == "2022-05"
    assert validate(message, version="V2022_05", now=NOW).ok
    # itemNo is 0..30 in the 2018 XSD and 0..20 in the 2022 XSD.
    long_item_no = evolve_item(message, 0, item_no="A" * 25)
    assert validate(long_item_no, version="2018-113", now=NOW).ok
    [finding] = validate(long_item_no, version="2022-05", now=NOW).errors
    assert (finding.code, finding.path) == (
        "xsd.length",
        "CEB621Message/Inventory[0]/InventoryList[0]/itemNo",
    )
    with pytest.raises(ConfigError):
        validate(message, version="2019")


def test_unsigned_model_is_not_blamed_for_its_signature_but_unsigned_bytes_are() -> None:
    message = ceb621()
    assert validate(message, now=NOW).findings == ()
    [finding] = validate(build(message), now=NOW).findings
    assert (finding.source, finding.code, finding.path) == ("xsd", "xsd.missing", "CEB621Message/Signature")


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", MalformedXmlError),
        (b"<ceb:CEB311Message xmlns:ceb='http://www.chinaport.gov.cn/ceb'>", MalformedXmlError),
        (b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', UnsafeXmlError),
        (b"<Invoice/>", UnexpectedDocumentError),
        (b"<CEB311Message xmlns='urn:other'/>", UnexpectedDocumentError),
    ],
)
def test_input_that_is_no_message_raises_typed_errors(data: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        validate(data)


def test_content_that_does_not_fit_the_model_is_a_finding() -> None:
    data = build(ceb311()).replace(
        b"<ceb:acturalPaid>168.44</ceb:acturalPaid>", b"<ceb:acturalPaid>1.2.3</ceb:acturalPaid>"
    )
    report = validate(data, now=NOW)
    assert not report.ok
    parse = [f for f in report if f.source == "parse"]
    assert [(f.code, f.path, f.zh) for f in parse] == [
        ("xml.unexpected", "CEB311Message/Order[0]/OrderHead/acturalPaid", "实际支付金额")
    ]
    assert "business rules not run" in parse[0].message
    assert any(f.source == "xsd" and f.path.endswith("acturalPaid") for f in report)
    # Without the XSD the problem is still reported, never silently accepted.
    assert [f.source for f in validate(data, xsd=False)] == ["parse"]


def test_model_that_cannot_be_written_is_a_finding_and_rules_still_run() -> None:
    message = ceb311(order(buyer_name="张\x01三", actual_paid=Decimal(1)))
    report = validate(message, now=NOW)
    sources = {(f.source, f.code) for f in report}
    assert ("build", "build.character") in sources
    assert ("rule", "rule.order.actual_paid") in sources


def test_wrong_argument_type() -> None:
    with pytest.raises(ConfigError):
        validate(12345)  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        validate(order())  # type: ignore[arg-type]  # a document, not a message


def test_validate_or_raise() -> None:
    broken = ceb311(order(actual_paid=Decimal(1)))
    with pytest.raises(ValidationError) as caught:
        validate_or_raise(broken, now=NOW)
    error = caught.value
    assert error.code == "validation"
    assert isinstance(error.report, Report)
    assert [f.code for f in error.report.errors] == ["rule.order.actual_paid"]
    assert error.field == "CEB311Message/Order[0]/OrderHead/acturalPaid"
    assert error.zh == "实际支付金额"
    assert "1 error(s)" in str(error)

    warned = ceb621(inventory(inventory_head(pack_no=2)))
    report = validate_or_raise(warned, now=NOW)
    assert report.ok
    assert [f.code for f in report.warnings] == ["rule.inventory.pack_no"]


def test_report_serialises_to_json() -> None:
    report = validate(ceb311(order(actual_paid=Decimal(1))), now=NOW)
    document = json.loads(json.dumps(report.to_dict(), ensure_ascii=False))
    assert document["ok"] is False
    assert document["findings"][0]["zh"] == "实际支付金额"


def test_official_schema_package_as_directory() -> None:
    data = (SAMPLES / "ceb-2022-05" / "CEB622Message.xml").read_bytes()
    report = validate(data, version="2022-05", directory=OFFICIAL_XSD / "2022-05")
    assert report.findings == ()
    message = attrs.evolve(ceb311(), orders=(order(order_no="X" * 61),))
    bad = validate(message, directory=OFFICIAL_XSD / "2018-113", rules=False)
    assert [(f.code, f.path) for f in bad] == [("xsd.length", "CEB311Message/Order[0]/OrderHead/orderNo")]


def test_public_names() -> None:
    import cbec_declare.validation as validation

    expected = {
        "validate",
        "validate_or_raise",
        "Report",
        "Finding",
        "Severity",
        "Related",
        "PurchaseHistory",
    }
    assert set(validation.__all__) >= expected
    for name in validation.__all__:
        assert hasattr(validation, name), name
