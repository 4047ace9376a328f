"""NodeServer at the protocol level: the observed ReceiveCebDeclare template, raw transferDeclare bodies."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator

import pytest
import requests
from lxml import etree

from cbec_declare.sandbox import NodeServer, NodeVerdict
from conftest import SAMPLES
from transport.transport_support import HANGZHOU

CEB = (SAMPLES / "ceb-2022-05" / "CEB311Message.xml").read_bytes()


def _dxp_from_template(cop_msg_id: str, payload: bytes) -> bytes:
    template = (HANGZHOU / "soap_ReceiveCebDeclare_request.template.xml").read_text(encoding="utf-8")
    return (
        template.replace("{UUID_UPPER}", cop_msg_id)
        .replace("{DXP_ID}", "DXPENT0000011951")
        .replace("{YYYY-MM-ddTHH:mm:ss}", "2024-01-02T03:04:05")
        .replace("{BASE64_OF_SIGNED_CEB311}", base64.b64encode(payload).decode())
        .encode("utf-8")
    )


def _return_mo(response: bytes) -> etree._Element:
    text = etree.fromstring(response).findtext(".//return")
    assert text is not None
    return etree.fromstring(text.encode())


@pytest.fixture
def node() -> Iterator[tuple[NodeServer, list[tuple[str, bytes]]]]:
    calls: list[tuple[str, bytes]] = []

    def on_message(cop_msg_id: str, ceb: bytes) -> NodeVerdict:
        calls.append((cop_msg_id, ceb))
        return NodeVerdict.ok("入库成功")

    with NodeServer(on_message=on_message) as server:
        yield server, calls


def test_the_observed_soap_template_is_accepted(node: tuple[NodeServer, list[tuple[str, bytes]]]) -> None:
    server, calls = node
    cop_msg_id = str(uuid.uuid4()).upper()
    with requests.Session() as session:
        reply = session.post(server.soap_url, data=_dxp_from_template(cop_msg_id, CEB), timeout=10)
    assert reply.status_code == 200
    result = _return_mo(reply.content)
    assert result.findtext("body/list/jkfResult/chkMark") == "1"
    assert result.findtext("body/list/jkfResult/businessNo") == cop_msg_id
    assert result.findtext("body/list/jkfResult/resultList/jkfResultDetail/resultInfo") == "入库成功"
    assert calls == [(cop_msg_id, CEB)]


def test_raw_transfer_declare_body_keeps_plus_signs(node: tuple[NodeServer, list[tuple[str, bytes]]]) -> None:
    server, calls = node
    payload = b"\xfb\xff" * 30 + CEB  # Base64 of this contains '+' and '/'
    dxp_msg = etree.fromstring(_dxp_from_template("RAW-1", payload)).findtext(".//content")
    assert dxp_msg is not None
    assert "+" in dxp_msg
    with requests.Session() as session:
        reply = session.post(
            server.rest_url,
            data=b"xml=" + dxp_msg.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=10,
        )
    answer = json.loads(reply.content)
    assert answer["success"] is True
    assert calls == [("RAW-1", payload)]
    assert etree.fromstring(answer["data"].encode()).findtext("body/list/jkfResult/chkMark") == "1"


def test_a_bare_ceb_message_on_the_rest_shape(node: tuple[NodeServer, list[tuple[str, bytes]]]) -> None:
    server, calls = node
    with requests.Session() as session:
        reply = session.post(server.rest_url, data={"xml": CEB.decode("utf-8")}, timeout=10)
    assert json.loads(reply.content)["success"] is True
    ((cop_msg_id, ceb),) = calls
    assert ceb == CEB
    assert cop_msg_id == etree.fromstring(CEB).get("guid")


def test_missing_field_and_garbage(node: tuple[NodeServer, list[tuple[str, bytes]]]) -> None:
    server, calls = node
    with requests.Session() as session:
        missing = session.post(server.rest_url, data={"other": "x"}, timeout=10)
        assert missing.status_code == 400
        assert json.loads(missing.content)["success"] is False
        garbage = session.post(server.rest_url, data={"xml": "<DxpMsg"}, timeout=10)
        answer = json.loads(garbage.content)
        assert answer["success"] is False
        assert "报文格式错误" in answer["data"]
        fault = session.post(server.soap_url, data=b"<x/>", timeout=10)
        assert fault.status_code == 500
        assert b"soap:Client" in fault.content
        assert session.get(server.soap_url, timeout=10).status_code == 404
    assert calls == []


def test_a_failing_hook_is_a_server_error() -> None:
    def on_message(cop_msg_id: str, ceb: bytes) -> NodeVerdict:
        raise RuntimeError("checker crashed")

    with NodeServer(on_message=on_message) as server, requests.Session() as session:
        soap = session.post(server.soap_url, data=_dxp_from_template("E-1", CEB), timeout=10)
        assert soap.status_code == 500
        assert b"soap:Server" in soap.content
        rest = session.post(server.rest_url, data={"xml": CEB.decode()}, timeout=10)
        assert rest.status_code == 500
        assert json.loads(rest.content)["success"] is False
        assert server.submissions == []
