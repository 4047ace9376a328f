"""returnStatus tables: agreement with the official XSD, finality, order, negative and unknown codes."""

from __future__ import annotations

import re

import pytest
from lxml import etree

from cbec_declare.codes import (
    DECLARATION_RECEIPTS,
    RECEIPT_STATUS_TABLE,
    RECEIPT_TYPES,
    ReceiptStatus,
    StatusInfo,
    describe_status,
    normalize_message_type,
    statuses_for,
    supersedes,
)
from cbec_declare.errors import ConfigError
from conftest import OFFICIAL_IMPORT_XSD

XS = "{http://www.w3.org/2001/XMLSchema}"
RETURN_ENTITY = {
    "CEB312Message": "OrderReturn",
    "CEB412Message": "PaymentReturn",
    "CEB512Message": "LogisticsReturn",
    "CEB514Message": "LogisticsStatusReturn",
    "CEB622Message": "InventoryReturn",
    "CEB624Message": "InvtCancelReturn",
    "CEB626Message": "InvtRefundReturn",
    "CEB712Message": "DeliveryReturn",
}


def documented_statuses(version: str, entity: str) -> dict[str, str]:
    """code → meaning, from the returnStatus documentation of ``entity`` in the official XSD."""
    tree = etree.parse(str(OFFICIAL_IMPORT_XSD[version]))
    [declaration] = [e for e in tree.getroot().iterchildren(f"{XS}element") if e.get("name") == entity]
    [status] = [e for e in declaration.iter(f"{XS}element") if e.get("name") == "returnStatus"]
    text = "".join(status.find(f"{XS}annotation/{XS}documentation").itertext())
    # "操作结果（2电子口岸申报中/3发送海关成功/…）,若小于0数字表示处理异常回执": the list is in the brackets.
    listed = re.search(r"（(.*?)）", text)
    assert listed is not None, text
    pairs: dict[str, str] = {}
    for part in listed.group(1).split("/"):
        match = re.fullmatch(r"(\d+)(\D+)", part)
        assert match is not None, part
        pairs[match[1]] = match[2]
    return pairs


@pytest.mark.parametrize("version", sorted(OFFICIAL_IMPORT_XSD))
@pytest.mark.parametrize("receipt", sorted(RETURN_ENTITY))
def test_every_code_the_official_xsd_documents_is_known_with_its_meaning(version: str, receipt: str) -> None:
    documented = documented_statuses(version, RETURN_ENTITY[receipt])
    assert documented, "the XSD documentation lists the codes"
    for code, meaning in documented.items():
        info = describe_status(receipt, code)
        assert info.known, (receipt, code)
        assert info.zh == meaning
        assert "XSD" in info.source


def test_spec_table_codes_are_known() -> None:
    # messages.md §4.2 (SPEC tables): 120 for every receipt, 1 and 399 for 622/624/626/712, the rest 622.
    for receipt in RETURN_ENTITY:
        for code in ("2", "3", "4", "100", "120"):
            assert describe_status(receipt, code).known
    for receipt in ("CEB622Message", "CEB624Message", "CEB626Message", "CEB712Message"):
        assert describe_status(receipt, "1").known
        assert describe_status(receipt, "399").known
    assert {s.status for s in statuses_for("CEB622Message")} == {m.value for m in ReceiptStatus}


def test_domain_names() -> None:
    assert ReceiptStatus.RELEASED == "800"
    assert ReceiptStatus.CUSTOMS_ACCEPTED == "120"
    assert ReceiptStatus.REJECTED == "100"
    assert ReceiptStatus.CONCLUDED == "899"
    assert describe_status("CEB622Message", ReceiptStatus.RELEASED.value).member is ReceiptStatus.RELEASED


@pytest.mark.parametrize(
    ("receipt", "code", "final", "success"),
    [
        # 三单: 120 海关入库 is the final success; 100 and 4 are final failures; 2/3 are steps.
        ("CEB312Message", "2", False, False),
        ("CEB312Message", "3", False, False),
        ("CEB312Message", "120", True, True),
        ("CEB412Message", "120", True, True),
        ("CEB512Message", "100", True, False),
        ("CEB514Message", "4", True, False),
        ("CEB312Message", "399", True, True),
        # 清单: steps up to release; 800/899 final success, 700 退运 final failure.
        ("CEB622Message", "1", False, False),
        ("CEB622Message", "120", False, False),
        ("CEB622Message", "300", False, False),
        ("CEB622Message", "399", False, False),
        ("CEB622Message", "500", False, False),
        ("CEB622Message", "501", False, False),
        ("CEB622Message", "502", False, False),
        ("CEB622Message", "503", False, False),
        ("CEB622Message", "599", False, False),
        ("CEB622Message", "700", True, False),
        ("CEB622Message", "800", True, True),
        ("CEB622Message", "899", True, True),
        ("CEB622Message", "100", True, False),
        # 撤销/退货/入库明细: 399 审结 is the final success, 120 a step.
        ("CEB624Message", "399", True, True),
        ("CEB626Message", "399", True, True),
        ("CEB712Message", "399", True, True),
        ("CEB624Message", "120", False, False),
        ("CEB712Message", "100", True, False),
    ],
)
def test_finality(receipt: str, code: str, final: bool, success: bool) -> None:
    info = describe_status(receipt, code)
    assert (info.known, info.final, info.success, info.error) == (True, final, success, False)
    assert info.failure is (final and not success)


def test_negative_codes_are_final_processing_errors() -> None:
    info = describe_status("CEB622Message", "-621029")
    assert (info.known, info.final, info.success, info.error, info.failure) == (True, True, False, True, True)
    assert info.zh == "验签失败"
    assert describe_status("CEB312Message", -301010).zh == "已存在相同编号的订单"
    # In a known range but not transcribed: described by its family, not guessed.
    assert describe_status("CEB622Message", "-621001").zh == "清单处理异常"
    # Outside every range.
    assert describe_status("CEB412Message", "-7").zh == "处理异常"
    assert describe_status("CEB900Message", "-1").zh == "报文格式校验异常"
    assert describe_status("CEB900Message", "-1").error


UNKNOWN = [
    ("CEB626Message", "18"),  # placeholders of the official samples
    ("CEB624Message", "23"),
    ("CEB312Message", "800"),  # 放行 exists for inventories only
    ("CEB622Message", "OK"),
    ("CEB900Message", "0"),
    ("CEB622Message", ""),
]


@pytest.mark.parametrize(("receipt", "code"), UNKNOWN)
def test_unknown_codes_are_described_not_raised(receipt: str, code: str) -> None:
    info = describe_status(receipt, code)
    assert isinstance(info, StatusInfo)
    assert (info.known, info.final, info.success, info.error, info.rank) == (False, False, False, False, -1)
    assert info.zh == "未知回执状态"


def test_message_type_spellings() -> None:
    assert normalize_message_type("CEB622") == "CEB622Message"
    assert normalize_message_type("622") == "CEB622Message"
    assert describe_status(" 712 ", " 399 ").final
    with pytest.raises(ConfigError) as caught:
        describe_status("CEB311Message", "2")  # a declaration has no returnStatus
    assert caught.value.code == "config.message_type"
    with pytest.raises(ConfigError):
        describe_status("CEB816Message", "1")


def test_every_declaration_has_its_receipt() -> None:
    assert (
        set(DECLARATION_RECEIPTS.values()) | {"CEB900Message"}
        == set(RECEIPT_TYPES)
        == set(RECEIPT_STATUS_TABLE)
    )


@pytest.mark.parametrize("receipt", sorted(RETURN_ENTITY))
def test_ranks_put_steps_before_finals(receipt: str) -> None:
    infos = statuses_for(receipt)
    assert list(infos) == sorted(infos, key=lambda i: i.rank)  # lifecycle order
    steps = [i.rank for i in infos if not i.final]
    finals = [i.rank for i in infos if i.final]
    assert max(steps) < min(finals)


@pytest.mark.parametrize(
    ("receipt", "current", "new", "expected"),
    [
        ("CEB622Message", None, "2", True),
        ("CEB622Message", "2", "120", True),
        ("CEB622Message", "120", "2", False),  # late step arriving after a later one
        ("CEB622Message", "120", "500", True),
        ("CEB622Message", "500", "800", True),
        ("CEB622Message", "800", "899", True),  # later final with the same outcome
        ("CEB622Message", "899", "800", False),
        ("CEB622Message", "800", "100", False),  # a final success is never turned into a failure
        ("CEB622Message", "100", "800", False),
        ("CEB622Message", "2", "-621029", True),
        ("CEB622Message", "-621029", "120", False),
        ("CEB622Message", "120", "18", False),  # unknown codes never move a document
        ("CEB622Message", "18", "120", True),
        ("CEB622Message", "120", "120", False),  # a repeated receipt changes nothing
        ("CEB312Message", "120", "399", True),
        ("CEB312Message", "2", "120", True),
        ("CEB624Message", "120", "399", True),
        ("CEB624Message", "399", "100", False),
    ],
)
def test_statuses_never_move_backwards(receipt: str, current: str | None, new: str, expected: bool) -> None:
    assert supersedes(receipt, current, new) is expected
