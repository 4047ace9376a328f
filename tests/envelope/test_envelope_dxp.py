"""DXP envelope: wrap valid against both official XSDs, unwrap both styles and DxpMsgSv, strict errors."""

from __future__ import annotations

import base64
import functools
import re
from datetime import datetime, timedelta, timezone

import pytest
from lxml import etree

from cbec_declare import errors
from cbec_declare.envelope import (
    CHINA_TIME,
    EXPORT_RECEIVER,
    IMPORT_RECEIVER,
    AddInfo,
    SvNo,
    TransInfo,
    Unwrapped,
    unwrap,
    wrap,
)
from cbec_declare.messages import build, parse
from cbec_declare.signing import SoftwareSigner, sign, verify
from conftest import OFFICIAL_DXP_XSD, SAMPLES

SENDER = "DXPENT0000530815"


@functools.cache
def _schema(version: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(OFFICIAL_DXP_XSD[version])))


@functools.cache
def _signed_ceb311() -> bytes:
    unsigned = build(parse((SAMPLES / "ceb-2022-05" / "CEB311Message.xml").read_bytes()))
    return sign(unsigned, SoftwareSigner.generate(bits=1024))


@pytest.mark.parametrize("version", ["2018-113", "2022-05"])
@pytest.mark.parametrize("style", ["prefix", "default"])
def test_wrapped_envelopes_are_valid_against_the_official_xsd(version: str, style: str) -> None:
    envelopes = [
        wrap(_signed_ceb311(), SENDER, namespace_style=style),
        wrap(
            _signed_ceb311(),
            SENDER,
            ["DXPEDCCEB0000002", "DXPENT0000000001"],
            "CEB311Message",
            "MSG-1",
            creat_time=datetime(2024, 1, 2, 3, 4, 5),
            file_name="CEB311Message_MSG-1.xml",
            ic_card="8930000012345",
            biz_keys={"DealFlag": "1", "Ret<Type>": "a&b"},
            namespace_style=style,
        ),
    ]
    for envelope in envelopes:
        root = etree.fromstring(envelope)
        assert _schema(version).validate(root), _schema(version).error_log
        expected = "dxp" if style == "prefix" else None
        assert root.prefix == expected


def test_wrap_defaults_and_round_trip() -> None:
    before = datetime.now(CHINA_TIME).replace(microsecond=0, tzinfo=None)
    envelope = wrap(_signed_ceb311(), SENDER)
    after = datetime.now(CHINA_TIME).replace(tzinfo=None)
    assert envelope.startswith(
        b'<?xml version="1.0" encoding="UTF-8"?><dxp:DxpMsg xmlns:dxp="http://www.chinaport'
    )
    data_text = re.search(rb"<dxp:Data>([^<]*)</dxp:Data>", envelope)
    assert data_text is not None
    assert b"\n" not in data_text.group(1)
    assert base64.b64decode(data_text.group(1)) == _signed_ceb311()
    opened = unwrap(envelope)
    assert isinstance(opened, Unwrapped)
    assert opened.payload == _signed_ceb311()
    info = opened.trans_info
    assert info.sender_id == SENDER
    assert info.receiver_ids == (IMPORT_RECEIVER,)
    assert info.msg_type == "CEB311Message"
    assert re.fullmatch(r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}", info.cop_msg_id)
    assert before <= info.creat_time <= after
    assert info.creat_time.tzinfo is None
    assert re.search(rb"<dxp:CreatTime>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d</dxp:CreatTime>", envelope)
    assert opened.sv_no is None
    assert opened.add_info is None
    assert verify(opened.payload).profile == "rsa-sha1"
    assert repr(opened).count("bytes>") == 1  # the payload is summarised in repr, not dumped


def test_wrap_options() -> None:
    aware = datetime(2024, 1, 2, 0, 0, 0, tzinfo=timezone.utc)
    envelope = wrap(
        b"<CEB411Message/>",
        SENDER,
        ie_flag="E",
        creat_time=aware,
        cop_msg_id="A&B",
        file_name="f.xml",
        biz_keys={"DealFlag": "1"},
        namespace_style="default",
    )
    opened = unwrap(envelope)
    assert opened.trans_info == TransInfo(
        cop_msg_id="A&B",
        sender_id=SENDER,
        receiver_ids=(EXPORT_RECEIVER,),
        creat_time=datetime(2024, 1, 2, 8, 0, 0),
        msg_type="CEB411Message",
    )
    assert opened.add_info == AddInfo(file_name="f.xml", biz_keys=(("DealFlag", "1"),))
    bom = b"\xef\xbb\xbf<?xml version='1.0'?>\n<!-- c --><ceb:CEB621Message xmlns:ceb='x'/>"
    assert unwrap(wrap(bom, SENDER)).trans_info.msg_type == "CEB621Message"
    assert unwrap(wrap(bom, SENDER, msg_type="")).trans_info.msg_type == ""


@pytest.mark.parametrize(
    ("kwargs", "field", "code"),
    [
        ({"sender_id": ""}, "TransInfo/SenderId", "envelope.length"),
        ({"sender_id": "X" * 17}, "TransInfo/SenderId", "envelope.length"),
        ({"receiver_id": ["R"] * 6}, "TransInfo/ReceiverIds", "envelope.length"),
        ({"receiver_id": "R\x00"}, "TransInfo/ReceiverIds/ReceiverId[0]", "envelope.character"),
        ({"msg_type": "M" * 31}, "TransInfo/MsgType", "envelope.length"),
        ({"cop_msg_id": "C" * 256}, "TransInfo/CopMsgId", "envelope.length"),
        ({"ie_flag": "X"}, "ie_flag", "envelope.ie-flag"),
        ({"file_name": ""}, "AddInfo/FileName", "envelope.length"),
        ({"ic_card": "1" * 14}, "AddInfo/IcCard", "envelope.length"),
        ({"biz_keys": {str(i): "v" for i in range(6)}}, "AddInfo/BizKey", "envelope.length"),
        ({"sender_id": 5}, "TransInfo/SenderId", "envelope.value"),
    ],
)
def test_wrap_rejects_bad_routing_data(kwargs: dict[str, object], field: str, code: str) -> None:
    arguments: dict[str, object] = {"sender_id": SENDER, **kwargs}
    with pytest.raises(errors.EnvelopeError) as caught:
        wrap(b"<CEB311Message/>", **arguments)  # type: ignore[arg-type]
    assert (caught.value.field, caught.value.code) == (field, code)


def test_wrap_rejects_bad_payload_and_style() -> None:
    with pytest.raises(errors.EnvelopeError, match="non-empty bytes"):
        wrap(b"  ", SENDER)
    with pytest.raises(errors.EnvelopeError, match="does not start with an XML element"):
        wrap(b"plain text", SENDER)
    with pytest.raises(errors.EnvelopeError, match="namespace_style"):
        wrap(b"<a/>", SENDER, namespace_style="dxp")


def test_real_downlink_dxpmsgsv_unwraps_to_a_ceb312() -> None:
    opened = unwrap((SAMPLES / "hangzhou" / "dxpmsgsv_ceb312_downlink.xml").read_bytes())
    assert opened.sv_no == SvNo(
        msg_id="00000002201906281054520057087669",
        sub_msg_id="1",
        send_time=datetime(2019, 6, 28, 10, 54, 52, tzinfo=timezone.utc),
        end_node="46000002",
        sta_node="00000002",
    )
    assert opened.trans_info.sender_id == IMPORT_RECEIVER
    assert opened.trans_info.receiver_ids == ("DXPENT0000011951",)
    assert opened.trans_info.msg_type == "CEB312Message"
    assert opened.trans_info.creat_time == datetime(2017, 1, 2, 23, 19, 32)
    message = parse(opened.payload)
    assert type(message).__name__ == "CEB312Message"
    assert opened.payload.startswith(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>')


def _envelope(
    data: str = "PGEvPg==", extra: str = "", trans: str | None = None, root: str = "DxpMsg"
) -> bytes:
    trans = trans or (
        "<TransInfo><CopMsgId>C</CopMsgId><SenderId>S</SenderId><ReceiverIds><ReceiverId>R</ReceiverId>"
        "</ReceiverIds><CreatTime>2024-01-02T03:04:05.123+08:00</CreatTime><MsgType>M</MsgType></TransInfo>"
    )
    return (
        f'<{root} xmlns="http://www.chinaport.gov.cn/dxp" ver="1.0">'
        f"{trans}<Data>{data}</Data>{extra}</{root}>"
    ).encode()


def test_unwrap_parses_zones_fractions_and_envelope_signatures() -> None:
    signature = '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/>'
    opened = unwrap(_envelope(data="PGEv\n  Pg==", extra=signature))
    assert opened.payload == b"<a/>"
    assert opened.trans_info.creat_time == datetime(
        2024, 1, 2, 3, 4, 5, 123000, tzinfo=timezone(timedelta(hours=8))
    )
    assert opened.envelope_signed


@pytest.mark.parametrize(
    ("document", "field", "code"),
    [
        (_envelope(data="PGEv!Pg=="), "DxpMsg/Data", "envelope.base64"),
        (_envelope(data="PGEvPg="), "DxpMsg/Data", "envelope.base64"),
        (_envelope(data=""), "DxpMsg/Data", "envelope.data"),
        (_envelope(extra="<Data>PGEvPg==</Data>"), "DxpMsg/Data", "envelope.structure"),
        (_envelope(extra="<Other/>"), "DxpMsg/Other", "envelope.structure"),
        (
            _envelope(trans="<TransInfo><CopMsgId>C</CopMsgId></TransInfo>"),
            "DxpMsg/TransInfo/SenderId",
            "envelope.structure",
        ),
        (
            _envelope(
                trans="<TransInfo><CopMsgId>C</CopMsgId><SenderId>S</SenderId><ReceiverIds/>"
                "<CreatTime>2024-01-02T03:04:05</CreatTime><MsgType>M</MsgType></TransInfo>"
            ),
            "DxpMsg/TransInfo/ReceiverIds/ReceiverId",
            "envelope.structure",
        ),
        (
            _envelope(
                trans="<TransInfo><CopMsgId>C</CopMsgId><SenderId>S</SenderId><ReceiverIds><ReceiverId>R"
                "</ReceiverId></ReceiverIds><CreatTime>2024-13-02T03:04:05</CreatTime><MsgType>M</MsgType>"
                "</TransInfo>"
            ),
            "DxpMsg/TransInfo/CreatTime",
            "envelope.datetime",
        ),
        (
            _envelope(trans="<TransInfo><CopMsgId>C</CopMsgId><SenderId><b/></SenderId></TransInfo>"),
            "DxpMsg/TransInfo/SenderId",
            "envelope.structure",
        ),
        (_envelope(root="DxpRep"), "DxpRep", "envelope.root"),
        (b"<DxpMsg ver='1.0'><TransInfo/></DxpMsg>", "DxpMsg", "envelope.root"),
        (
            b'<DxpMsgSv xmlns="http://www.chinaport.gov.cn/dxp"><SvNo/></DxpMsgSv>',
            "DxpMsgSv/DxpMsg",
            "envelope.structure",
        ),
    ],
)
def test_unwrap_errors_name_the_element(document: bytes, field: str, code: str) -> None:
    with pytest.raises(errors.EnvelopeError) as caught:
        unwrap(document)
    assert (caught.value.field, caught.value.code) == (field, code)


def test_unwrap_limits_and_unsafe_input() -> None:
    big = _envelope(data=base64.b64encode(b"x" * 3000).decode())
    with pytest.raises(errors.EnvelopeError) as caught:
        unwrap(big, max_payload_bytes=1000)
    assert caught.value.code == "envelope.oversized"
    with pytest.raises(errors.OversizedInputError):
        unwrap(big, max_bytes=500)
    with pytest.raises(errors.UnsafeXmlError):
        unwrap(b'<!DOCTYPE d [<!ENTITY e "x">]><DxpMsg>&e;</DxpMsg>')
    with pytest.raises(errors.MalformedXmlError):
        unwrap(b"<DxpMsg>")
