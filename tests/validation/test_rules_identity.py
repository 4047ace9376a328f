"""Identity rules: 身份证 numbers (stdnum.cn.ric) and enterprise codes (stdnum.cn.uscc, customs codes)."""

from __future__ import annotations

from typing import Any

import pytest
from stdnum.cn import ric, uscc

from cbec_declare.validation import Severity
from validation.test_rules_baseline import (
    BUYER_ID,
    USCC,
    ceb311,
    ceb411,
    ceb621,
    ceb623,
    check,
    evolve_head,
    order,
    payment,
)


def with_check(first17: str) -> str:
    """Complete 17 digits with their ISO 7064 check character (computed by python-stdnum)."""
    return first17 + ric.calc_check_digit(first17 + "0")


def buyer_findings(number: str, **changes: Any) -> list[tuple[str, Severity, str]]:
    report = check(ceb311(order(buyer_id_number=number, **changes)))
    return [(f.code, f.severity, f.message) for f in report]


def test_valid_id_number_passes() -> None:
    assert ric.is_valid(BUYER_ID)
    assert buyer_findings(BUYER_ID) == []
    assert buyer_findings(with_check("44030819990101123")) == []


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("11010519491231002", "18 characters, got 17"),
        ("11010519491231002X1", "18 characters, got 19"),
        ("1101051949123100AX", "17 digits and a check character"),
        ("１１０１０５１９４９１２３１００２X", "17 digits and a check character"),  # full-width digits
        ("110105194912310029", "check character is 9, but the first 17 digits give X"),
        (with_check("11010519491331002"), "not a real birth date"),
        (with_check("11010520230229002"), "not a real birth date"),  # 2023 is no leap year
        (with_check("11010500000101002"), "not a real birth date"),  # there is no year 0
        (with_check("11010520991231002"), "lies in the future"),
    ],
)
def test_invalid_id_numbers_are_errors(number: str, reason: str) -> None:
    [(code, severity, message)] = buyer_findings(number)
    assert (code, severity) == ("rule.identity.id_number", Severity.ERROR)
    assert reason in message
    assert number not in message  # the full number is never repeated


def test_id_number_finding_has_path_and_zh() -> None:
    report = check(ceb311(order(buyer_id_number="110105194912310029")))
    [finding] = report.errors
    assert (finding.path, finding.zh) == ("CEB311Message/Order[0]/OrderHead/buyerIdNumber", "订购人证件号码")


def test_lower_case_x_is_a_warning() -> None:
    assert buyer_findings(BUYER_ID.lower()) == [
        ("rule.identity.id_number", Severity.WARNING, "write the check character X in upper case")
    ]


def test_region_unknown_to_stdnum_is_only_a_warning() -> None:
    number = with_check("99999919800101001")
    assert not ric.is_valid(number)  # stdnum refuses it for the region alone
    [(code, severity, _)] = buyer_findings(number)
    assert (code, severity) == ("rule.identity.id_region", Severity.WARNING)


def test_region_assigned_after_birth_is_accepted() -> None:
    # 130681 涿州市 exists since 1994; people born before carry it too. stdnum.cn.ric rejects such
    # numbers, the rule must not.
    number = with_check("13068119620302333")
    assert not ric.is_valid(number)
    assert buyer_findings(number) == []


def test_other_id_types_are_not_checked_as_id_cards() -> None:
    # ID type 2 其它 gets its own warning (rule.codes.id_type), not an ID-card error.
    assert [c for c, _, _ in buyer_findings("P1234567", buyer_id_type="2")] == ["rule.codes.id_type"]


@pytest.mark.parametrize(
    ("message", "path"),
    [
        (lambda n: ceb411(payment(payer_id_number=n)), "CEB411Message/Payment[0]/PaymentHead/payerIdNumber"),
        (
            lambda n: evolve_head(ceb621(), buyer_id_number=n),
            "CEB621Message/Inventory[0]/InventoryHead/buyerIdNumber",
        ),
        (lambda n: evolve_head(ceb623(), buyer_id_number=n), "CEB623Message/InvtCancel[0]/buyerIdNumber"),
    ],
)
def test_every_id_number_field_is_checked(message: Any, path: str) -> None:
    assert check(message(BUYER_ID)).findings == ()
    [finding] = check(message("110105194912310029")).errors
    assert (finding.code, finding.path) == ("rule.identity.id_number", path)


@pytest.mark.parametrize(
    ("attr", "value", "code", "severity"),
    [
        ("ebc_code", "91110108551385082A", "rule.identity.uscc", Severity.ERROR),  # wrong check character
        ("ebc_code", "9111010855138508IQ", "rule.identity.uscc", Severity.ERROR),  # I is not in the alphabet
        ("ebp_code", "3301960abc", "rule.identity.customs_code", Severity.ERROR),
        ("ebp_code", "3301-60ABC", "rule.identity.customs_code", Severity.ERROR),
        ("pay_code", "ass201603081155", "rule.identity.enterprise_code", Severity.WARNING),
        ("pay_code", "330196", "rule.identity.enterprise_code", Severity.WARNING),
    ],
)
def test_enterprise_codes(attr: str, value: str, code: str, severity: Severity) -> None:
    report = check(ceb311(order(**{attr: value})))
    [finding] = report.findings
    assert (finding.code, finding.severity) == (code, severity)
    element = {"ebc_code": "ebcCode", "ebp_code": "ebpCode", "pay_code": "payCode"}[attr]
    assert finding.path == f"CEB311Message/Order[0]/OrderHead/{element}"


def test_uscc_checksum_message_names_the_expected_character() -> None:
    bad = USCC[:-1] + "A"
    [finding] = check(ceb311(order(ebc_code=bad))).errors
    assert f"the first 17 characters give {uscc.calc_check_digit(bad)}" in finding.message


def test_valid_enterprise_codes_pass() -> None:
    assert uscc.is_valid(USCC)
    assert check(ceb311(order(ebc_code=USCC, ebp_code="1105910159", pay_code="31209W0DEF"))).findings == ()


def test_inventory_enterprise_fields_are_checked() -> None:
    message = evolve_head(ceb621(), area_code="110108130000000007", assure_code="ass2016")
    found = {(f.code, f.path.rsplit("/", 1)[1]) for f in check(message)}
    assert found == {("rule.identity.uscc", "areaCode"), ("rule.identity.enterprise_code", "assureCode")}
