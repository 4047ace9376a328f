"""DxpRep: parsing, the SPEC §7 code meanings, strict errors."""

from __future__ import annotations

from datetime import date

import pytest
from lxml import etree

from cbec_declare import errors
from cbec_declare.envelope import DXP_RESPONSE_CODES, DxpReply, code_meaning, parse_dxp_reply
from conftest import OFFICIAL_DXP_XSD

ORI_HEAD = (
    "<{p}OriHead><{p}CopMsgId>MSG-1</{p}CopMsgId><{p}SenderId>DXPENT0000530815</{p}SenderId><{p}ReceiverIds>"
    "<{p}ReceiverId>DXPEDCCEB0000002</{p}ReceiverId></{p}ReceiverIds><{p}CreatTime>2024-01-02T03:04:05</{p}CreatTime>"
    "<{p}MsgType>CEB311Message</{p}MsgType></{p}OriHead>"
)


def _reply(code: str, results: str = "", prefix: str = "dxp:") -> bytes:
    p = prefix
    declaration = (
        ' xmlns:dxp="http://www.chinaport.gov.cn/dxp"' if p else ' xmlns="http://www.chinaport.gov.cn/dxp"'
    )
    return (
        f'<{p}DxpRep{declaration} ver="1.0"><{p}RecevierId>DXPENT0000530815</{p}RecevierId>'
        f"<{p}AdNodeId>4600</{p}AdNodeId><{p}Response><{p}NodeId>00000002</{p}NodeId>"
        f"<{p}ResponseCode>{code}</{p}ResponseCode><{p}ResponseInfo>信息</{p}ResponseInfo>{results}"
        f"<{p}NoticeTime>2024-01-02</{p}NoticeTime><{p}Note>n</{p}Note>{ORI_HEAD.format(p=p)}</{p}Response>"
        f"</{p}DxpRep>"
    ).encode()


@pytest.mark.parametrize("prefix", ["dxp:", ""])
def test_reply_samples_are_schema_valid_and_parse(prefix: str) -> None:
    results = (
        f"<{prefix}Results><{prefix}Result><{prefix}RecId>DXPEDCCEB0000002</{prefix}RecId><{prefix}Code>2001"
        f"</{prefix}Code><{prefix}Info>无接收方</{prefix}Info></{prefix}Result></{prefix}Results>"
    )
    document = _reply("0000", results, prefix)
    schema = etree.XMLSchema(etree.parse(str(OFFICIAL_DXP_XSD["2022-05"])))
    assert schema.validate(etree.fromstring(document)), schema.error_log
    reply = parse_dxp_reply(document)
    assert isinstance(reply, DxpReply)
    assert (reply.receiver_id, reply.ad_node_id, reply.code) == ("DXPENT0000530815", "4600", "0000")
    response = reply.responses[0]
    assert (response.node_id, response.info, response.note) == ("00000002", "信息", "n")
    assert response.notice_time == date(2024, 1, 2)
    assert response.ori_head.cop_msg_id == "MSG-1"
    assert response.results[0].code == "2001"
    assert not response.results[0].ok
    assert not reply.ok  # the per-receiver result failed
    assert parse_dxp_reply(_reply("0000", prefix=prefix)).ok


@pytest.mark.parametrize(
    ("code", "category", "meaning"),
    [
        ("0000", "ok", "成功"),
        ("0001", "format", "报文格式错误"),
        ("0002", "format", "数据包不能通过schema验证"),
        ("0500", "format", "格式错误"),
        ("1001", "security", "数字签名无效"),
        ("1004", "security", "签名与数据不符"),
        ("2001", "business", "指定的接收方不存在"),
        ("3003", "system", "远程连接超时"),
        ("4321", "user", "用户可扩展"),
        ("ABCD", "unknown", "未知代码"),
        ("10000", "unknown", "未知代码"),
    ],
)
def test_code_meanings(code: str, category: str, meaning: str) -> None:
    assert code_meaning(code) == (category, meaning)
    reply = parse_dxp_reply(_reply(code))
    assert (reply.responses[0].category, reply.meaning) == (category, meaning)
    assert reply.ok is (category == "ok")


def test_every_spec_code_has_its_category() -> None:
    assert len(DXP_RESPONSE_CODES) == 15
    for code in DXP_RESPONSE_CODES:
        assert code_meaning(code)[1] == DXP_RESPONSE_CODES[code]


@pytest.mark.parametrize(
    ("document", "field"),
    [
        (
            _reply("").replace(b"<dxp:ResponseCode></dxp:ResponseCode>", b"<dxp:ResponseCode/>"),
            "DxpRep/Response[0]/ResponseCode",
        ),
        (
            _reply("0000").replace(b"2024-01-02</dxp:NoticeTime>", b"yesterday</dxp:NoticeTime>"),
            "DxpRep/Response[0]/NoticeTime",
        ),
        (
            b'<dxp:DxpRep xmlns:dxp="http://www.chinaport.gov.cn/dxp"><dxp:RecevierId>x</dxp:RecevierId></dxp:DxpRep>',
            "DxpRep/Response",
        ),
        (b'<DxpMsg xmlns="http://www.chinaport.gov.cn/dxp"/>', "DxpMsg"),
        (_reply("0000").replace(b"<dxp:OriHead>", b"<dxp:Bogus/><dxp:OriHead>"), "DxpRep/Response[0]/Bogus"),
    ],
)
def test_reply_errors_name_the_element(document: bytes, field: str) -> None:
    with pytest.raises(errors.EnvelopeError) as caught:
        parse_dxp_reply(document)
    assert caught.value.field == field
