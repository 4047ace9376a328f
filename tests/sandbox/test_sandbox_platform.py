"""PlatformServer at the protocol level: hand-built requests from the observed templates, raw pushes."""

from __future__ import annotations

import base64
import os
import queue
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from lxml import etree

from cbec_declare.sandbox import EnterpriseAccount, LocalServer, PlatformServer
from transport.transport_support import HANGZHOU, rsa_key

SEND_CODE = "3301961Q43"
ORDER_XML = (HANGZHOU / "mo_IMPORTORDER_request.xml").read_bytes()


def _encrypt(key: bytes, data: bytes) -> str:
    # Written out here with the primitives, independently of the library's codec.
    pad = 16 - len(data) % 16
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return base64.b64encode(encryptor.update(data + bytes([pad]) * pad) + encryptor.finalize()).decode()


def _decrypt(key: bytes, text: str) -> bytes:
    decryptor = Cipher(algorithms.AES(key), modes.ECB()).decryptor()
    padded = decryptor.update(base64.b64decode(text)) + decryptor.finalize()
    return padded[: -padded[-1]]


def _filled_template(content: str, digest: str, msg_type: str = "IMPORTORDER") -> bytes:
    template = (HANGZHOU / "soap_ReceiveEncryptDeclare_request.template.xml").read_text(encoding="utf-8")
    return (
        template.replace("{BASE64_AES_CIPHERTEXT}", content)
        .replace("{BASE64_SHA1withRSA_SIGNATURE}", digest)
        .replace("{COMPANY_CODE}", SEND_CODE)
        .replace("<msgType>IMPORTORDER</msgType>", f"<msgType>{msg_type}</msgType>")
        .encode("utf-8")
    )


def _result(response: bytes) -> etree._Element:
    envelope = etree.fromstring(response)
    text = envelope.find(".//return").text  # type: ignore[union-attr]
    assert text is not None
    return etree.fromstring(text[text.index("<mo") :].encode())


@pytest.fixture
def platform() -> Iterator[tuple[PlatformServer, bytes, Any]]:
    key = rsa_key(512)
    aes = os.urandom(16)
    with PlatformServer(accounts=[EnterpriseAccount(SEND_CODE, aes, key.public_key())]) as server:
        yield server, aes, key


def test_the_observed_request_template_is_accepted(platform: tuple[PlatformServer, bytes, Any]) -> None:
    server, aes, key = platform
    digest = base64.b64encode(key.sign(ORDER_XML, padding.PKCS1v15(), hashes.SHA1())).decode()
    with requests.Session() as session:
        reply = session.post(
            server.base_url + "ReceiveEncryptDeclare",
            data=_filled_template(_encrypt(aes, ORDER_XML), digest),
            headers={"Content-Type": "text/xml; charset=utf-8"},
            timeout=10,
        )
    assert reply.status_code == 200
    result = _result(reply.content)
    assert result.findtext("head/businessType") == "RESULT"
    assert result.findtext("body/list/jkfResult/chkMark") == "1"
    assert result.findtext("body/list/jkfResult/businessNo") == "order001"
    assert result.findtext("body/list/jkfResult/resultList/jkfResultDetail/resultInfo") == "处理成功"


def test_a_digest_over_the_ciphertext_is_refused(platform: tuple[PlatformServer, bytes, Any]) -> None:
    server, aes, key = platform
    content = _encrypt(aes, ORDER_XML)
    digest = base64.b64encode(key.sign(content.encode(), padding.PKCS1v15(), hashes.SHA1())).decode()
    with requests.Session() as session:
        reply = session.post(
            server.base_url + "ReceiveEncryptDeclare", data=_filled_template(content, digest), timeout=10
        )
    result = _result(reply.content)
    assert result.findtext("body/list/jkfResult/chkMark") == "2"
    assert result.findtext("body/list/jkfResult/resultList/jkfResultDetail/resultInfo") == "数字签名验证失败"
    (submission,) = server.submissions
    assert not submission.digest_valid


def test_unreadable_requests_get_a_soap_fault(platform: tuple[PlatformServer, bytes, Any]) -> None:
    server, _, _ = platform
    with requests.Session() as session:
        reply = session.post(server.base_url + "ReceiveEncryptDeclare", data=b"<not-soap/>", timeout=10)
        assert reply.status_code == 500
        assert b"Fault" in reply.content
        assert b"soap:Client" in reply.content
        assert session.post(server.base_url + "Unknown", data=b"", timeout=10).status_code == 404
        assert session.get(server.base_url + "ReceiveEncryptDeclare", timeout=10).status_code == 404
    assert server.submissions == []


def test_missing_parameters(platform: tuple[PlatformServer, bytes, Any]) -> None:
    server, _, _ = platform
    body = _filled_template("", "")
    with requests.Session() as session:
        reply = session.post(server.base_url + "ReceiveEncryptDeclare", data=body, timeout=10)
    info = _result(reply.content).findtext("body/list/jkfResult/resultList/jkfResultDetail/resultInfo")
    assert info is not None
    assert info.startswith("缺少参数")


def test_pushes_are_made_as_the_platform_makes_them() -> None:
    """Catch a push with a bare WSGI app and check it with the primitives, not with the library."""
    caught: queue.Queue[dict[str, str]] = queue.Queue()

    def collector(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
        assert environ["CONTENT_TYPE"].startswith("application/x-www-form-urlencoded")
        caught.put(dict(parse_qsl(body.decode("ascii"))))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"OK"]

    aes = os.urandom(16)
    document = (HANGZHOU / "mo_RESULT_receipt_failed.xml").read_bytes()
    with PlatformServer() as platform, LocalServer(collector) as receiver:
        reply = platform.push(receiver.url + "/cb", document, "CUSTOMS_DECLARE_RESULT_CALLBACK", aes_key=aes)
        assert (reply.status, reply.body) == (200, b"OK")
        form = caught.get(timeout=10)
        assert set(form) == {"content", "msg_type", "data_digest"}
        assert form["msg_type"] == "CUSTOMS_DECLARE_RESULT_CALLBACK"
        plaintext = _decrypt(aes, form["content"])
        assert plaintext == document
        public = platform.platform_public_key
        assert public.key_size == 1024
        public.verify(base64.b64decode(form["data_digest"]), plaintext, padding.PKCS1v15(), hashes.SHA1())


def test_response_style_raw_puts_elements_in_return(platform: tuple[PlatformServer, bytes, Any]) -> None:
    server, aes, key = platform
    server.response_style = "raw"
    digest = base64.b64encode(key.sign(ORDER_XML, padding.PKCS1v15(), hashes.SHA1())).decode()
    with requests.Session() as session:
        reply = session.post(
            server.base_url + "ReceiveEncryptDeclare",
            data=_filled_template(_encrypt(aes, ORDER_XML), digest),
            timeout=10,
        )
    returned = etree.fromstring(reply.content).find(".//return")
    assert returned is not None
    assert returned[0].tag == "mo"
