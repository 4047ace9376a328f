"""Our XSDs against the official samples and schemas; findings; official packages from a directory.

The equivalence-by-mutation proof is in ``test_schemas_mutations.py``.
"""

from __future__ import annotations

import base64
import copy
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from cbec_declare._xml import CEB_NS, DS_NS, DXP_NS, parse_untrusted
from cbec_declare.errors import ConfigError
from cbec_declare.messages import MESSAGE_CLASSES, build, parse
from cbec_declare.models import DeclarationMessage
from cbec_declare.validation.report import Finding, Severity
from cbec_declare.validation.schemas import (
    SCHEMA_KINDS,
    bundled_schema_dir,
    clear_schema_cache,
    is_valid,
    load_schema_package,
    schema_for,
    schema_path,
    xsd_findings,
)
from conftest import OFFICIAL_DXP_XSD, OFFICIAL_IMPORT_XSD, OFFICIAL_XSD, ROOT, SAMPLES

VERSIONS = ("2018-113", "2022-05")
SAMPLE_FILES = [(v, p) for v in VERSIONS for p in sorted((SAMPLES / f"ceb-{v}").glob("*.xml"))]
SAMPLE_IDS = [f"{v}/{p.stem}" for v, p in SAMPLE_FILES]
SV_SAMPLE = SAMPLES / "hangzhou" / "dxpmsgsv_ceb312_downlink.xml"
C = f"{{{CEB_NS}}}"
D = f"{{{DXP_NS}}}"


def _official(path: Path) -> etree.XMLSchema:
    # Compiled straight from the customs file, without our loader.
    return etree.XMLSchema(etree.parse(str(path), etree.XMLParser(no_network=True, resolve_entities=False)))


@pytest.fixture(scope="module")
def official_import() -> dict[str, etree.XMLSchema]:
    return {v: _official(OFFICIAL_IMPORT_XSD[v]) for v in VERSIONS}


@pytest.fixture(scope="module")
def official_dxp() -> dict[str, etree.XMLSchema]:
    return {v: _official(OFFICIAL_DXP_XSD[v]) for v in VERSIONS}


def _sample(version: str, name: str) -> etree._Element:
    return parse_untrusted((SAMPLES / f"ceb-{version}" / f"{name}.xml").read_bytes())


# --------------------------------------------------------------------------- 1. official samples


def test_there_are_sixteen_samples_per_version() -> None:
    assert len(SAMPLE_FILES) == 32


@pytest.mark.parametrize(("version", "path"), SAMPLE_FILES, ids=SAMPLE_IDS)
def test_official_sample_is_valid_against_our_schema(version: str, path: Path) -> None:
    raw = path.read_bytes()
    root = parse_untrusted(raw)
    assert xsd_findings(root, version) == []
    assert is_valid(root, version)
    assert schema_for(version).validate(root)


# --------------------------------------------------------------------------- 2. what the builder makes


@pytest.mark.parametrize(("version", "path"), SAMPLE_FILES, ids=SAMPLE_IDS)
def test_rebuilt_message_is_valid_for_customs_and_for_us(
    version: str, path: Path, official_import: dict[str, etree.XMLSchema]
) -> None:
    raw = path.read_bytes()
    message = parse(raw)
    root = etree.fromstring(build(message))
    if isinstance(message, DeclarationMessage) and message.SIGNATURE_REQUIRED:
        signature = parse_untrusted(raw).find(f"{{{DS_NS}}}Signature")
        assert signature is not None
        root.append(copy.deepcopy(signature))
    for target in VERSIONS:
        assert official_import[target].validate(root), (target, official_import[target].error_log)
        assert xsd_findings(root, target) == []


def test_unsigned_inventory_is_invalid_for_customs_and_for_us(
    official_import: dict[str, etree.XMLSchema],
) -> None:
    root = etree.fromstring(build(parse((SAMPLES / "ceb-2022-05" / "CEB621Message.xml").read_bytes())))
    for version in VERSIONS:
        assert not official_import[version].validate(root)
        [finding] = xsd_findings(root, version)
        assert (finding.code, finding.path, finding.zh) == (
            "xsd.missing",
            "CEB621Message/Signature",
            "数字签名",
        )


def test_signature_in_a_default_namespace_validates(official_import: dict[str, etree.XMLSchema]) -> None:
    # HZ-style <Signature xmlns="...xmldsig#">: the schema sees namespaces, not prefixes.
    text = (SAMPLES / "ceb-2018-113" / "CEB621Message.xml").read_bytes().decode("utf-8")
    text = re.sub(r"<(/?)ds:", r"<\1", text).replace("xmlns:ds=", "xmlns=")
    root = parse_untrusted(text.encode("utf-8"))
    signature = root[-1]
    assert signature.tag == f"{{{DS_NS}}}Signature"
    assert signature.prefix is None
    for version in VERSIONS:
        assert official_import[version].validate(root)
        assert xsd_findings(root, version) == []


def test_xsi_type_naming_our_own_type_is_the_documented_difference(
    official_import: dict[str, etree.XMLSchema],
) -> None:
    # schemas/README.md: our types are named, customs' are anonymous; only xsi:type can tell.
    root = _sample("2018-113", "CEB311Message")
    guid = root.find(f"{C}Order/{C}OrderHead/{C}guid")
    guid.set("{http://www.w3.org/2001/XMLSchema-instance}type", "ceb:C36")
    assert is_valid(root, "2018-113")
    assert not official_import["2018-113"].validate(root)


def test_every_message_type_has_a_root_in_our_schema() -> None:
    for version in VERSIONS:
        schema_doc = etree.parse(str(schema_path(version)))
        roots = {
            el.get("name")
            for el in schema_doc.getroot().iterchildren(etree.Element)
            if (el.get("name") or "").startswith("CEB")
        }
        assert roots == set(MESSAGE_CLASSES)


# --------------------------------------------------------------------------- 4. DXP envelopes


def _dxp_message() -> etree._Element:
    payload = build(parse((SAMPLES / "ceb-2022-05" / "CEB311Message.xml").read_bytes()))
    signature = copy.deepcopy(_sample("2018-113", "CEB621Message").find(f"{{{DS_NS}}}Signature"))
    xml = f"""<dxp:DxpMsg xmlns:dxp="{DXP_NS}" ver="1.0" Id="msg-1">
      <dxp:TransInfo>
        <dxp:CopMsgId>2A2C9B7E-4F3B-4C1F-9C6E-7A1D2B3C4D5E</dxp:CopMsgId>
        <dxp:SenderId>DXPENT0000458763</dxp:SenderId>
        <dxp:ReceiverIds><dxp:ReceiverId>DXPEDCCEB0000002</dxp:ReceiverId></dxp:ReceiverIds>
        <dxp:CreatTime>2024-05-06T07:08:09</dxp:CreatTime>
        <dxp:MsgType>CEB311Message</dxp:MsgType>
      </dxp:TransInfo>
      <dxp:Data>{base64.b64encode(payload).decode("ascii")}</dxp:Data>
      <dxp:AddInfo>
        <dxp:FileName>CEB311Message_2A2C9B7E.xml</dxp:FileName>
        <dxp:IcCard>1234567890123</dxp:IcCard>
        <dxp:BizKey><dxp:Key name="DealFlag">1</dxp:Key><dxp:Key>plain</dxp:Key></dxp:BizKey>
        <dxp:IsText Encode="UTF-8"/>
        <dxp:RecMapId>any <b>content</b></dxp:RecMapId>
      </dxp:AddInfo>
    </dxp:DxpMsg>"""
    root = etree.fromstring(xml)
    root.append(signature)
    return root


def _dxp_reply() -> etree._Element:
    return etree.fromstring(f"""<DxpRep xmlns="{DXP_NS}" ver="1.0">
      <RecevierId>DXPENT0000458763</RecevierId><AdNodeId>46000002</AdNodeId>
      <Response><NodeId>46000002</NodeId><ResponseCode>0002</ResponseCode>
        <ResponseInfo>数据包不能通过schema验证</ResponseInfo>
        <Results><Result><RecId>DXPEDCCEB0000002</RecId><Code>0002</Code><Info>x</Info><Note>y</Note></Result></Results>
        <NoticeTime>2024-05-06</NoticeTime><Note>n</Note>
        <OriHead><CopMsgId>1</CopMsgId><SenderId>DXPENT0000458763</SenderId>
          <ReceiverIds><ReceiverId>DXPEDCCEB0000002</ReceiverId></ReceiverIds>
          <CreatTime>2024-05-06T07:08:09</CreatTime><MsgType>CEB311Message</MsgType></OriHead>
      </Response>
    </DxpRep>""")


@pytest.mark.parametrize("version", VERSIONS)
def test_dxpmsgsv_sample_is_valid_for_us_and_for_customs(version: str) -> None:
    root = parse_untrusted(SV_SAMPLE.read_bytes())
    assert xsd_findings(root, version, kind="dxp-transfer") == []
    # Customs' transfer schema, loaded from its package; the 2022-05 one includes the terminal schema
    # under its 2018 file name, which the loader resolves by namespace.
    assert is_valid(root, version, kind="dxp-transfer", directory=OFFICIAL_XSD / version)
    # The inner DxpMsg is a terminal envelope in its own right.
    assert is_valid(root[1], version, kind="dxp")


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("make", [_dxp_message, _dxp_reply], ids=["DxpMsg", "DxpRep"])
def test_terminal_envelope_is_valid_for_us_and_for_customs(
    version: str, make: Any, official_dxp: dict[str, etree.XMLSchema]
) -> None:
    root = make()
    assert official_dxp[version].validate(root), official_dxp[version].error_log
    assert xsd_findings(root, version, kind="dxp") == []
    assert is_valid(root, version, kind="dxp-transfer")  # the transfer schema includes the terminal one


def _child(path: str) -> Any:
    def find(root: etree._Element) -> etree._Element:
        found = root.find(path.replace("dxp:", D).replace("ds:", f"{{{DS_NS}}}"))
        assert found is not None, path
        return found

    return find


def _text(path: str, value: str) -> Any:
    return lambda root: setattr(_child(path)(root), "text", value)


def _drop(path: str) -> Any:
    def mutate(root: etree._Element) -> None:
        element = _child(path)(root)
        element.getparent().remove(element)

    return mutate


def _receivers(count: int) -> Any:
    def mutate(root: etree._Element) -> None:
        first = _child("dxp:TransInfo/dxp:ReceiverIds/dxp:ReceiverId")(root)
        for _ in range(count - 1):
            first.addnext(copy.deepcopy(first))

    return mutate


DXP_MUTATIONS: dict[str, tuple[Any, bool | None]] = {
    "ver 2.0": (lambda r: r.set("ver", "2.0"), False),
    "no ver": (lambda r: r.attrib.pop("ver"), False),
    "numeric Id": (lambda r: r.set("Id", "123"), False),
    "CopMsgId of 255": (_text("dxp:TransInfo/dxp:CopMsgId", "x" * 255), True),
    "CopMsgId of 256": (_text("dxp:TransInfo/dxp:CopMsgId", "x" * 256), False),
    "empty SenderId": (_text("dxp:TransInfo/dxp:SenderId", ""), False),
    "SenderId of 17": (_text("dxp:TransInfo/dxp:SenderId", "x" * 17), False),
    "6 receivers": (_receivers(6), False),
    "5 receivers": (_receivers(5), True),
    "CreatTime with a space": (_text("dxp:TransInfo/dxp:CreatTime", "2024-05-06 07:08:09"), False),
    "CreatTime with a zone": (_text("dxp:TransInfo/dxp:CreatTime", "2024-05-06T07:08:09+08:00"), True),
    "empty MsgType": (_text("dxp:TransInfo/dxp:MsgType", ""), True),
    "MsgType of 31": (_text("dxp:TransInfo/dxp:MsgType", "x" * 31), False),
    "no Data": (_drop("dxp:Data"), False),
    "Data not base64": (_text("dxp:Data", "&&&"), None),
    "no AddInfo": (_drop("dxp:AddInfo"), True),
    "IcCard of 14": (_text("dxp:AddInfo/dxp:IcCard", "1" * 14), False),
    "Key of 65": (_text("dxp:AddInfo/dxp:BizKey/dxp:Key", "k" * 65), False),
    "Key name of 33": (lambda r: _child("dxp:AddInfo/dxp:BizKey/dxp:Key")(r).set("name", "n" * 33), False),
    "IsText without Encode": (lambda r: _child("dxp:AddInfo/dxp:IsText")(r).attrib.clear(), False),
    "IsText with text": (_text("dxp:AddInfo/dxp:IsText", "x"), False),
    "AddInfo out of order": (lambda r: r.insert(0, _child("dxp:AddInfo")(r)), False),
    "unknown element": (lambda r: r.insert(1, etree.Element(f"{D}Extra")), False),
    "signature removed": (_drop("ds:Signature"), True),
}


@pytest.mark.parametrize("version", VERSIONS)
def test_dxp_mutations_get_the_same_verdict(version: str, official_dxp: dict[str, etree.XMLSchema]) -> None:
    base = _dxp_message()
    for label, (mutate, expected) in DXP_MUTATIONS.items():
        root = copy.deepcopy(base)
        mutate(root)
        customs = bool(official_dxp[version].validate(root))
        assert is_valid(root, version, kind="dxp") == customs, label
        if expected is not None:
            assert customs == expected, label


# --------------------------------------------------------------------------- 5. findings


def _several_errors() -> etree._Element:
    root = _sample("2018-113", "CEB311Message")
    heads = root.findall(f"{C}Order/{C}OrderHead")
    root.set("guid", "too-short")
    heads[0].find(f"{C}acturalPaid").text = "1.1234567"
    heads[0].find(f"{C}currency").text = "143"
    heads[1].find(f"{C}orderNo").text = "x" * 61
    freight, discount = heads[2].find(f"{C}freight"), heads[2].find(f"{C}discount")
    heads[2].remove(freight)
    discount.addnext(freight)
    heads[3].remove(heads[3].find(f"{C}buyerName"))
    item = root.find(f"{C}Order/{C}OrderList")
    item.find(f"{C}gnum").text = "one"
    item.find(f"{C}note").addnext(etree.Element(f"{C}colour"))
    return root


EXPECTED_FINDINGS = [
    ("xsd.length", "CEB311Message/@guid", "报文唯一序号"),
    ("xsd.digits", "CEB311Message/Order[0]/OrderHead/acturalPaid", "实际支付金额"),
    ("xsd.fixed", "CEB311Message/Order[0]/OrderHead/currency", "币制"),
    ("xsd.type", "CEB311Message/Order[0]/OrderList[0]/gnum", "商品序号"),
    ("xsd.unexpected", "CEB311Message/Order[0]/OrderList[0]/colour", ""),
    ("xsd.length", "CEB311Message/Order[1]/OrderHead/orderNo", "订单编号"),
    ("xsd.order", "CEB311Message/Order[2]/OrderHead/discount", "非现金抵扣金额"),
    ("xsd.missing", "CEB311Message/Order[3]/OrderHead/buyerName", "订购人姓名"),
]


@pytest.mark.parametrize("source", ["ours", "official package"])
def test_several_errors_give_one_finding_each(source: str) -> None:
    directory = OFFICIAL_XSD / "2018-113" if source != "ours" else None
    root = _several_errors()
    findings = xsd_findings(root, "2018-113", directory=directory)
    assert [(f.code, f.path, f.zh) for f in findings] == EXPECTED_FINDINGS
    for finding in findings:
        assert isinstance(finding, Finding)
        assert finding.source == "xsd"
        assert finding.severity is Severity.ERROR
        assert finding.message
        assert "{http" not in finding.message
    lines = {f.path: f.line for f in findings}
    # Lines are those of the parsed sample; an element added in memory has none of its own.
    assert lines["CEB311Message/@guid"] == root.sourceline
    assert lines["CEB311Message/Order[0]/OrderHead/acturalPaid"] == root.find(f".//{C}acturalPaid").sourceline
    assert lines["CEB311Message/Order[0]/OrderList[0]/colour"] is None
    assert all(
        line and line > root.sourceline for p, line in lines.items() if not p.endswith(("colour", "@guid"))
    )
    missing = findings[-1]
    assert "buyerName" in missing.message
    assert "buyerTelephone" in missing.message
    assert "'discount' is out of order" in findings[6].message


def test_findings_in_a_default_namespace_receipt() -> None:
    root = _sample("2022-05", "CEB312Message")
    returns = root.findall(f"{C}OrderReturn")
    returns[1].find(f"{C}returnTime").text = "20160428182238"  # C14, not the XSD's 17
    returns[2].remove(returns[2].find(f"{C}returnInfo"))
    returns[3].append(etree.Element(f"{C}returnInfo"))
    findings = xsd_findings(root, "2022-05")
    assert [(f.code, f.path, f.zh) for f in findings] == [
        ("xsd.length", "CEB312Message/OrderReturn[1]/returnTime", "回执时间"),
        ("xsd.missing", "CEB312Message/OrderReturn[2]/returnInfo", "回执信息"),
        ("xsd.occurs", "CEB312Message/OrderReturn[3]/returnInfo", "回执信息"),
    ]
    assert findings[0].line == returns[1].find(f"{C}returnTime").sourceline


def test_findings_through_wrappers_and_on_a_subtree() -> None:
    root = _sample("2018-113", "CEB411Message")
    head = root.find(f"{C}Payment/{C}PaymentHead")
    head.find(f"{C}amountPaid").text = "12345678901234567890"
    [finding] = xsd_findings(root, "2018-113")
    assert (finding.code, finding.path, finding.zh) == (
        "xsd.digits",
        "CEB411Message/Payment[0]/PaymentHead/amountPaid",
        "支付金额",
    )
    # An entity is a global element of the schema, so it can be checked alone; lines are kept.
    [alone] = xsd_findings(head, "2018-113")
    assert (alone.code, alone.path, alone.line) == ("xsd.digits", "PaymentHead/amountPaid", finding.line)


def test_findings_for_missing_and_repeated_entities() -> None:
    root = _sample("2018-113", "CEB621Message")
    inventory = root.find(f"{C}Inventory")
    inventory.remove(inventory.find(f"{C}InventoryHead"))
    root.find(f"{C}BaseTransfer").addnext(copy.deepcopy(root.find(f"{C}BaseTransfer")))
    findings = xsd_findings(root, "2018-113")
    assert [(f.code, f.path, f.zh) for f in findings] == [
        ("xsd.missing", "CEB621Message/Inventory[0]/InventoryHead", "进口清单表头"),
        ("xsd.occurs", "CEB621Message/BaseTransfer", "基础报文传输实体"),
    ]


def test_findings_for_wrong_root_and_namespace() -> None:
    root = _sample("2018-113", "CEB513Message")
    root.find(f"{C}LogisticsStatus/{C}logisticsNo").tag = "logisticsNo"
    [finding] = xsd_findings(root, "2018-113")
    assert (finding.code, finding.path, finding.zh) == (
        "xsd.namespace",
        "CEB513Message/LogisticsStatus[0]/logisticsNo",
        "物流运单编号",
    )
    unknown = etree.fromstring(f'<ceb:CEB999Message xmlns:ceb="{CEB_NS}" guid="x" version="1"/>')
    [finding] = xsd_findings(unknown, "2018-113")
    assert (finding.code, finding.path) == ("xsd.root", "CEB999Message")


def test_findings_in_a_dxp_envelope() -> None:
    root = parse_untrusted(SV_SAMPLE.read_bytes())
    root.set("ver", "2")
    trans = root.find(f"{D}DxpMsg/{D}TransInfo")
    trans.remove(trans.find(f"{D}CopMsgId"))
    root.find(f"{D}SvNo/{D}SendTime").text = "yesterday"
    findings = xsd_findings(root, "2018-113", kind="dxp-transfer")
    assert [(f.code, f.path) for f in findings] == [
        ("xsd.fixed", "DxpMsgSv/@ver"),
        ("xsd.type", "DxpMsgSv/SvNo/SendTime"),
        ("xsd.missing", "DxpMsgSv/DxpMsg/TransInfo/CopMsgId"),
    ]


def test_findings_are_correct_when_threads_validate_at_once() -> None:
    # lxml keeps one error log per schema object; each caller must still get its own findings.
    def broken(index: int) -> etree._Element:
        root = _sample("2018-113", "CEB411Message")
        root.find(f"{C}Payment/{C}PaymentHead/{C}payCode").text = "x" * (19 + index)
        return root

    documents = [broken(i) for i in range(40)]
    start = threading.Barrier(8, timeout=30)

    def check(index: int) -> str:
        if index < 8:  # the first eight start together
            start.wait()
        findings = xsd_findings(documents[index], "2018-113")
        assert len(findings) == 1
        return findings[0].message

    with ThreadPoolExecutor(max_workers=8) as pool:
        messages = list(pool.map(check, range(40), timeout=60))
    for index, message in enumerate(messages):
        assert f"'{19 + index}'" in message


# --------------------------------------------------------------------------- packages and errors


@pytest.mark.parametrize("version", VERSIONS)
def test_official_package_is_found_by_content(version: str) -> None:
    package = load_schema_package(OFFICIAL_XSD / version)
    assert package.ceb == OFFICIAL_IMPORT_XSD[version]
    assert package.dxp == OFFICIAL_DXP_XSD[version]
    assert package.dxp_transfer is not None
    assert package.dxp_transfer.name.endswith(".xsd")
    assert package.dxp_transfer not in (package.ceb, package.dxp)
    assert "出口" not in package.ceb.name  # the export messages schema is not mistaken for it


@pytest.mark.parametrize(("version", "path"), SAMPLE_FILES, ids=SAMPLE_IDS)
def test_samples_are_valid_against_the_official_package_directory(version: str, path: Path) -> None:
    assert xsd_findings(parse_untrusted(path.read_bytes()), version, directory=OFFICIAL_XSD / version) == []


def test_package_files_are_found_whatever_their_names(tmp_path: Path) -> None:
    names = {OFFICIAL_IMPORT_XSD["2018-113"]: "a.xsd", OFFICIAL_DXP_XSD["2018-113"]: "b.xsd"}
    for source, name in names.items():
        (tmp_path / name).write_bytes(source.read_bytes())
    (tmp_path / "xmldsig-core-schema.xsd").write_bytes(
        (OFFICIAL_XSD / "2018-113" / "xmldsig-core-schema.xsd").read_bytes()
    )
    (tmp_path / "notes.txt").write_text("not a schema")
    package = load_schema_package(tmp_path)
    assert (package.ceb, package.dxp, package.dxp_transfer) == (tmp_path / "a.xsd", tmp_path / "b.xsd", None)
    with pytest.raises(ConfigError) as info:
        schema_for("2018-113", kind="dxp-transfer", directory=tmp_path)
    assert info.value.code == "config.schema.missing"
    assert "DxpMsgSv" in info.value.message
    assert is_valid(_sample("2018-113", "CEB621Message"), "2018-113", directory=tmp_path)


def test_a_package_in_a_non_ascii_folder_loads(tmp_path: Path) -> None:
    # libxml2 cannot build URIs from non-ASCII relative locations; the loader hands it file: URIs.
    folder = tmp_path / "海关 报文"
    folder.mkdir()
    for source in (ROOT / "schemas" / "2022-05").glob("*.xsd"):
        (folder / source.name).write_bytes(source.read_bytes())
    assert load_schema_package(folder).dxp_transfer == folder / "dxp-transfer.xsd"
    assert is_valid(parse_untrusted(SV_SAMPLE.read_bytes()), "2022-05", kind="dxp-transfer", directory=folder)
    assert is_valid(_sample("2022-05", "CEB621Message"), "2022-05", directory=folder)


def _ceb_schema(body: str) -> str:
    return f"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:ds="{DS_NS}"
        targetNamespace="{CEB_NS}" elementFormDefault="qualified">{body}</xs:schema>"""


def test_remote_xmldsig_import_is_served_locally(tmp_path: Path) -> None:
    (tmp_path / "import.xsd").write_text(
        _ceb_schema(
            '<xs:import namespace="http://www.w3.org/2000/09/xmldsig#" '
            'schemaLocation="http://www.w3.org/TR/xmldsig-core/xmldsig-core-schema.xsd"/>'
            '<xs:element name="CEB311Message"><xs:complexType><xs:sequence>'
            '<xs:element ref="ds:Signature"/></xs:sequence></xs:complexType></xs:element>'
        )
    )
    signed = etree.fromstring(f'<ceb:CEB311Message xmlns:ceb="{CEB_NS}"/>')
    signed.append(copy.deepcopy(_sample("2018-113", "CEB621Message").find(f"{{{DS_NS}}}Signature")))
    assert is_valid(signed, "2018-113", directory=tmp_path)
    assert not is_valid(etree.fromstring(f'<ceb:CEB311Message xmlns:ceb="{CEB_NS}"/>'), directory=tmp_path)


BAD_PACKAGES = {
    "missing": (None, "config.schema.directory"),
    "a file": ("file", "config.schema.directory"),
    "empty": ({}, "config.schema.missing"),
    "not xml": ({"import.xsd": "<xs:schema"}, "config.schema.missing"),
    "two import schemas": (
        {
            "a.xsd": _ceb_schema('<xs:element name="CEB311Message"/>'),
            "b.xsd": _ceb_schema('<xs:element name="CEB621Message"/>'),
        },
        "config.schema.ambiguous",
    ),
    "remote import": (
        {
            "import.xsd": _ceb_schema(
                '<xs:import namespace="urn:elsewhere" schemaLocation="https://example.invalid/other.xsd"/>'
                '<xs:element name="CEB311Message"><xs:complexType><xs:sequence>'
                '<xs:element xmlns:o="urn:elsewhere" ref="o:thing"/>'
                "</xs:sequence></xs:complexType></xs:element>"
            )
        },
        "config.schema.remote",
    ),
    "not a usable schema": (
        {
            "import.xsd": _ceb_schema(
                '<xs:element name="CEB311Message" type="ceb:Nowhere" xmlns:ceb="' + CEB_NS + '"/>'
            )
        },
        "config.schema",
    ),
    "missing include": (
        {
            "import.xsd": _ceb_schema(
                '<xs:include schemaLocation="gone.xsd"/><xs:element name="CEB311Message"/>'
            )
        },
        "config.schema",
    ),
}


@pytest.mark.parametrize("case", list(BAD_PACKAGES))
def test_a_bad_directory_is_a_config_error(case: str, tmp_path: Path) -> None:
    content, code = BAD_PACKAGES[case]
    folder = tmp_path / "package"
    if content == "file":
        folder.write_text("x")
    elif isinstance(content, dict):
        folder.mkdir()
        for name, text in content.items():
            (folder / name).write_text(text)
    with pytest.raises(ConfigError) as info:
        schema_for("2018-113", directory=folder)
    assert info.value.code == code
    assert str(folder) in info.value.message or "import.xsd" in info.value.message


def test_bad_arguments_are_config_errors() -> None:
    root = _sample("2018-113", "CEB311Message")
    with pytest.raises(ConfigError) as info:
        schema_for("2019-01")
    assert info.value.code == "config.version"
    with pytest.raises(ConfigError) as info:
        xsd_findings(root, "2018-113", kind="soap")
    assert info.value.code == "config.schema.kind"
    with pytest.raises(ConfigError) as info:
        xsd_findings(b"<xml/>", "2018-113")  # type: ignore[arg-type]
    assert info.value.code == "config.argument"


# --------------------------------------------------------------------------- the schema files


def test_schemas_are_found_in_the_checkout_and_cached() -> None:
    assert bundled_schema_dir() == ROOT / "schemas"
    for version in VERSIONS:
        for kind in SCHEMA_KINDS:
            assert schema_path(version, kind=kind).is_file()
    first = schema_for("2022-05", kind="dxp")
    assert schema_for("2022-05", kind="dxp") is first
    clear_schema_cache()
    assert schema_for("2022-05", kind="dxp") is not first


def test_schema_files_never_point_at_the_network() -> None:
    for path in sorted((ROOT / "schemas").rglob("*.xsd")):
        for link in etree.parse(str(path)).getroot():
            location = link.get("schemaLocation")
            if location is not None:
                assert "://" not in location, (path, location)
                assert (path.parent / location).is_file(), (path, location)


def _comparable(path: Path) -> tuple[str, ...]:
    """Every declaration of a schema file as text: its nearest named ancestor, its name and attributes."""
    root = etree.parse(str(path), etree.XMLParser(remove_comments=True, remove_blank_text=True)).getroot()
    root.attrib.pop("version")
    lines = []
    for element in root.iter(etree.Element):
        owner = next((a.get("name") for a in element.iterancestors() if a.get("name")), "")
        lines.append(f"{owner}/{element.get('name')}:{sorted(element.attrib.items())}")
    return tuple(lines)


def test_the_two_versions_differ_only_where_the_2022_package_does() -> None:
    old, new = (_comparable(ROOT / "schemas" / v / "ceb-import.xsd") for v in VERSIONS)
    changed = sorted(set(old) ^ set(new))
    # Each changed declaration appears twice: as 2018-113 has it, and as 2022-05 has it.
    assert changed == [
        f"InventoryListEntity/{name}:[('minOccurs', '0'), ('name', '{name}'), ('type', 'ceb:{kind}')]"
        for name, kind in (
            ("itemNo", "C..20"),
            ("itemNo", "C..30"),
            ("tradeCountry", "C1..3"),
            ("tradeCountry", "C3"),
        )
    ]
    for name in ("xmldsig-customs.xsd", "dxp-terminal.xsd", "dxp-transfer.xsd"):
        assert (ROOT / "schemas" / VERSIONS[0] / name).read_bytes() == (
            ROOT / "schemas" / VERSIONS[1] / name
        ).read_bytes()
