"""The SOAP writer matches the observed request templates; the reader takes every return style."""

from __future__ import annotations

import pytest
from lxml import etree

from cbec_declare import errors
from cbec_declare.transport.profiles import ZJPORT_NAMESPACE
from cbec_declare.transport.soap import (
    build_fault,
    build_request,
    build_response,
    extract_mo,
    extract_return,
    parse_request,
)
from transport.transport_support import HANGZHOU

RESULT = (HANGZHOU / "mo_RESULT_receipt_failed.xml").read_text(encoding="utf-8")


def _shape(data: bytes) -> list[tuple[str | None, str]]:
    """(namespace, local name) of every element, in document order."""
    root = etree.fromstring(data)
    return [
        (etree.QName(n).namespace, etree.QName(n).localname) for n in root.iter() if isinstance(n.tag, str)
    ]


def test_encrypt_declare_request_has_the_template_shape() -> None:
    template = (HANGZHOU / "soap_ReceiveEncryptDeclare_request.template.xml").read_bytes()
    ours = build_request(
        ZJPORT_NAMESPACE,
        "receive",
        [("content", "QUJD"), ("msgType", "IMPORTORDER"), ("dataDigest", "REVG"), ("sendCode", "3301961Q43")],
    )
    assert _shape(ours) == _shape(template)
    call = parse_request(ours)
    assert call.namespace == ZJPORT_NAMESPACE
    assert call.operation == "receive"
    assert call.params == {
        "content": "QUJD",
        "msgType": "IMPORTORDER",
        "dataDigest": "REVG",
        "sendCode": "3301961Q43",
    }


def test_ceb_declare_request_uses_cdata_like_the_template() -> None:
    template = (HANGZHOU / "soap_ReceiveCebDeclare_request.template.xml").read_bytes()
    dxp = '<DxpMsg xmlns="http://www.chinaport.gov.cn/dxp" ver="1.0"><Data>QQ==</Data></DxpMsg>'
    ours = build_request(ZJPORT_NAMESPACE, "receive", [("content", dxp)], cdata={"content"})
    assert b"<content><![CDATA[<DxpMsg" in ours
    assert _shape(ours) == _shape(template)
    assert parse_request(ours).params["content"] == dxp


def test_cdata_falls_back_to_escaping_when_the_value_ends_a_cdata() -> None:
    value = "a]]>b<c>"
    ours = build_request(ZJPORT_NAMESPACE, "receive", [("content", value)], cdata={"content"})
    assert b"CDATA" not in ours
    assert parse_request(ours).params["content"] == value


def test_qualified_parameters_and_omitted_none() -> None:
    ours = build_request(ZJPORT_NAMESPACE, "receive", [("a", "1"), ("b", None)], qualified=True)
    assert _shape(ours)[-1] == (ZJPORT_NAMESPACE, "a")
    assert parse_request(ours).params == {"a": "1"}


def test_request_refuses_control_characters() -> None:
    with pytest.raises(errors.BuildError):
        build_request(ZJPORT_NAMESPACE, "receive", [("content", "\x00")])


@pytest.mark.parametrize("style", ["escaped", "cdata", "raw"])
def test_every_return_style_reads_back(style: str) -> None:
    response = build_response(ZJPORT_NAMESPACE, "receive", RESULT, style=style)
    text = extract_return(response)
    mo = extract_mo(text)
    assert mo is not None
    assert etree.fromstring(mo).findtext("body/list/jkfResult/chkMark") == "2"


def test_extract_mo_skips_declaration_and_noise() -> None:
    assert extract_mo('junk <?xml version="1.0" encoding="GBK"?><mo><head/></mo> tail') == b"<mo><head/></mo>"
    assert extract_mo("no receipt here") is None


def test_soap_fault_becomes_remote_rejected() -> None:
    with pytest.raises(errors.RemoteRejected) as caught:
        extract_return(build_fault("soap:Server", "java.lang.NullPointerException"))
    assert caught.value.code == "transport.rejected.soap_fault"
    assert "NullPointerException" in caught.value.message
    assert not caught.value.retryable


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"<html>503</html>", errors.UnexpectedDocumentError),
        (b"not xml", errors.MalformedXmlError),
        (
            b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
            b'<r:receiveResponse xmlns:r="urn:x"/></s:Body></s:Envelope>',
            errors.ReceiptError,
        ),
        (
            b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>',
            errors.ReceiptError,
        ),
    ],
)
def test_unreadable_responses(data: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        extract_return(data)


def test_soap12_envelope_is_read() -> None:
    data = (
        b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body>'
        b'<r:receiveResponse xmlns:r="urn:x"><return>&lt;mo/&gt;</return></r:receiveResponse>'
        b"</e:Body></e:Envelope>"
    )
    assert extract_return(data) == "<mo/>"
