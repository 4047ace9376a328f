"""Parsing real-world variants and refusing hostile or malformed input with typed errors."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from cbec_declare import errors
from cbec_declare.messages import build, parse
from cbec_declare.models import CEB311Message, CEB622Message, InventoryReturn
from conftest import SAMPLES

RECEIPT = """<?xml version="1.0" encoding="{enc}" standalone="yes"?>
<CEB622Message version="1.0" xmlns="http://www.chinaport.gov.cn/ceb"
 guid="4CDE1CFD-EDED-46B1-946C-B8022E42FC94">
{returns}
</CEB622Message>"""
RETURN = """  <InventoryReturn>
    <guid>4CDE1CFD-EDED-46B1-946C-B8022E42FC9{n}</guid><customsCode>2991</customsCode>
    <copNo>COP{n}</copNo><preNo>B2024051200000188{n}</preNo><invtNo>29912024I00000000{n}</invtNo>
    <returnStatus>{status}</returnStatus><returnTime>20240512102646{ms}</returnTime>
    <returnInfo>{info}</returnInfo>
  </InventoryReturn>"""


def receipt(encoding: str = "UTF-8", count: int = 3, info: str = "[Code:2600;Desc:放行]") -> str:
    returns = "\n".join(RETURN.format(n=i, status=800, ms=f"{i:03d}", info=info) for i in range(count))
    return RECEIPT.format(enc=encoding, returns=returns)


def test_default_namespace_receipt_with_many_returns() -> None:
    message = parse(receipt(count=5).encode())
    assert isinstance(message, CEB622Message)
    assert len(message.returns) == 5
    first = message.returns[0]
    assert isinstance(first, InventoryReturn)
    assert first.return_status == "800"
    assert first.return_time == datetime(2024, 5, 12, 10, 26, 46, 0)
    assert message.returns[4].return_time.microsecond == 4000
    assert first.return_info == "[Code:2600;Desc:放行]"


@pytest.mark.parametrize("encoding", ["GBK", "GB2312", "GB18030"])
def test_declared_chinese_encodings(encoding: str) -> None:
    data = receipt(encoding=encoding, info="海关审结放行").encode(encoding)
    message = parse(data, expect=CEB622Message)
    assert message.returns[0].return_info == "海关审结放行"


def test_utf8_bom_and_prefixed_sample() -> None:
    raw = (SAMPLES / "ceb-2022-05" / "CEB311Message.xml").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    message = parse(raw, expect=CEB311Message)
    head = message.orders[0].head
    assert head.actual_paid == Decimal("19050")
    assert head.app_time == datetime(2016, 3, 8, 11, 27, 1)
    assert message.orders[0].items[0].note == ""


def test_text_input_must_not_declare_another_encoding() -> None:
    assert isinstance(parse(receipt()), CEB622Message)
    with pytest.raises(errors.MalformedXmlError, match="declares encoding 'gbk'"):
        parse(receipt(encoding="GBK"))


def test_ceb_message_without_namespace_is_tolerated() -> None:
    data = receipt().replace(' xmlns="http://www.chinaport.gov.cn/ceb"', "")
    assert len(parse(data.encode()).returns) == 3


HOSTILE = {
    "billion_laughs": b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<CEB622Message xmlns="http://www.chinaport.gov.cn/ceb">&lol3;</CEB622Message>""",
    "external_entity": b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<CEB622Message xmlns="http://www.chinaport.gov.cn/ceb">&xxe;</CEB622Message>""",
    "external_dtd": b"""<!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd"><CEB622Message/>""",
    "utf16_doctype": '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY a "b">]><r>&a;</r>'.encode(
        "utf-16"
    ),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_dtds_and_entities_are_refused(name: str) -> None:
    with pytest.raises(errors.UnsafeXmlError, match="DTD"):
        parse(HOSTILE[name])


def test_oversized_input_is_refused_before_parsing() -> None:
    data = receipt(count=1).encode() + b" " * 2048
    with pytest.raises(errors.OversizedInputError, match="limit is 1024"):
        parse(data, max_bytes=1024)


def test_deep_nesting_is_refused() -> None:
    data = b"<a>" * 5000 + b"</a>" * 5000
    with pytest.raises(errors.OversizedInputError, match="deeply"):
        parse(data)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (receipt().encode()[:-40], "not well-formed"),
        (b"\xff\xfe<not xml", "not well-formed|cannot be decoded"),
        (receipt().encode("utf-8").replace("放行".encode(), b"\xe6\x94"), "not well-formed"),
        (receipt(encoding="UTF-8", info="放行").encode("gbk"), "not well-formed"),
        (b"", "empty"),
    ],
    ids=["truncated", "garbage", "invalid_utf8", "mislabelled_gbk", "empty"],
)
def test_malformed_input(data: bytes, match: str) -> None:
    with pytest.raises(errors.MalformedXmlError, match=match):
        parse(data)


@pytest.mark.parametrize(
    ("old", "new", "match", "field"),
    [
        (
            "<returnStatus>800</returnStatus>",
            "<returnStatus>800</returnStatus><bogus/>",
            "no element 'bogus'",
            "CEB622Message/InventoryReturn[0]/bogus",
        ),
        (
            "<copNo>COP0</copNo>",
            "<copNo>COP0</copNo><copNo>X</copNo>",
            "more than once",
            "CEB622Message/InventoryReturn[0]/copNo",
        ),
        (
            "<returnTime>20240512102646000</returnTime>",
            "<returnTime>2024-05-12</returnTime>",
            "C17",
            "CEB622Message/InventoryReturn[0]/returnTime",
        ),
        (
            "<returnTime>20240512102646000</returnTime>",
            "<returnTime>20241312102646000</returnTime>",
            "real date",
            "CEB622Message/InventoryReturn[0]/returnTime",
        ),
        (
            "<returnTime>20240512102646000</returnTime>",
            "",
            "'returnTime' is missing",
            "CEB622Message/InventoryReturn[0]/returnTime",
        ),
    ],
    ids=["unknown", "repeated", "format", "impossible_date", "missing"],
)
def test_documents_that_do_not_fit_the_model(old: str, new: str, match: str, field: str) -> None:
    data = receipt(count=1).replace(old, new, 1)
    with pytest.raises(errors.UnexpectedDocumentError, match=match) as info:
        parse(data.encode())
    assert info.value.field == field


def test_bad_decimal_names_the_field_and_chinese_name() -> None:
    raw = (SAMPLES / "ceb-2018-113" / "CEB311Message.xml").read_bytes()
    bad = raw.replace(b"<ceb:freight>5000</ceb:freight>", b"<ceb:freight>5,000</ceb:freight>", 1)
    with pytest.raises(errors.UnexpectedDocumentError) as info:
        parse(bad)
    assert info.value.field == "CEB311Message/Order[0]/OrderHead/freight"
    assert info.value.zh == "运杂费"
    assert "not a decimal" in info.value.message


def test_unknown_root_and_expectation_mismatch() -> None:
    with pytest.raises(errors.UnexpectedDocumentError, match="not a 统一版 import message"):
        parse(b'<CEB999Message xmlns="http://www.chinaport.gov.cn/ceb"/>')
    with pytest.raises(errors.UnexpectedDocumentError, match="expected CEB311Message, got CEB622Message"):
        parse(receipt().encode(), expect=CEB311Message)
    with pytest.raises(errors.UnexpectedDocumentError, match="namespace"):
        parse(b'<CEB622Message xmlns="urn:other"/>')


def test_signature_of_a_declaration_is_skipped_not_parsed() -> None:
    raw = (SAMPLES / "ceb-2018-113" / "CEB621Message.xml").read_bytes()
    assert b"Signature" in raw
    message = parse(raw)
    assert b"Signature" not in build(message)


def test_errors_are_typed_and_serialisable() -> None:
    with pytest.raises(errors.CbecError) as info:
        parse(b"<unclosed>")
    as_dict = info.value.to_dict()
    assert as_dict["code"] == "xml.malformed"
    assert "line" in as_dict


def test_missing_required_child_of_a_message_is_named() -> None:
    raw = (SAMPLES / "ceb-2018-113" / "CEB311Message.xml").read_bytes()
    start = raw.index(b"<ceb:BaseTransfer>")
    end = raw.index(b"</ceb:BaseTransfer>") + len(b"</ceb:BaseTransfer>")
    with pytest.raises(errors.UnexpectedDocumentError, match="'BaseTransfer' is missing") as info:
        parse(raw[:start] + b"<ceb:BaseSubscribe><ceb:status>ALL</ceb:status><ceb:dxpMode>DXP</ceb:dxpMode>"
              b"<ceb:dxpAddress>X</ceb:dxpAddress></ceb:BaseSubscribe>" + raw[end:])  # fmt: skip
    assert info.value.field == "CEB311Message/BaseTransfer"
