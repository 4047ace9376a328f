"""§2.2: PlatformClient → PlatformServer round trips over real HTTP on 127.0.0.1, fresh keys each time."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from cbec_declare import errors
from cbec_declare.messages import build
from cbec_declare.models import CEB311Message
from cbec_declare.sandbox import EnterpriseAccount, PlatformServer
from cbec_declare.signing import SignatureAlgorithm, SoftwareSigner
from cbec_declare.transport import (
    AesEcbCodec,
    PlatformClient,
    PlatformProfile,
    RetryPolicy,
    import_order_from_ceb,
    parse_mo,
)
from cbec_declare.transport.soap import parse_request
from conftest import SAMPLES
from transport.transport_support import (
    HANGZHOU,
    OPENSSL,
    ceb_order,
    openssl_aes_ecb_decrypt,
    openssl_genpkey_512,
    openssl_verify_sha1,
    pkcs8_base64,
    public_pem,
    rsa_key,
)

SEND_CODE = "3301961Q43"
ORDER_XML = (HANGZHOU / "mo_IMPORTORDER_request.xml").read_bytes()
ONCE = RetryPolicy.none(deadline=20)


@pytest.fixture
def platform() -> Iterator[PlatformServer]:
    with PlatformServer() as server:
        yield server


def _client(platform: PlatformServer, bits: int = 512, **profile: object) -> PlatformClient:
    key = rsa_key(bits)
    aes = os.urandom(16)
    platform.add_account(EnterpriseAccount(SEND_CODE, aes, key.public_key()))
    return PlatformClient.from_keys(
        platform.profile(**profile),
        send_code=SEND_CODE,
        aes_key=base64.b64encode(aes).decode(),  # zjport hands out Base64 text
        private_key=pkcs8_base64(key),
        retry=ONCE,
    )


@pytest.mark.parametrize("bits", [512, 1024])
def test_round_trip_with_fresh_keys(platform: PlatformServer, bits: int) -> None:
    with _client(platform, bits) as client:
        result = client.send(ORDER_XML)
    assert result.accepted, result.messages
    assert result.msg_type == "IMPORTORDER"
    assert result.messages == ("处理成功",)
    assert result.receipt.results[0].business_no == "order001"
    assert result.receipt.results[0].company_code == SEND_CODE
    (submission,) = platform.submissions
    assert submission.digest_valid
    assert submission.plaintext == ORDER_XML
    assert submission.msg_type == "IMPORTORDER"
    result.raise_for_rejection()  # accepted: nothing raised


def test_a_mo_model_is_built_and_sent(platform: PlatformServer) -> None:
    message = import_order_from_ceb(ceb_order(), company_code=SEND_CODE, user_protocol="本人承诺")
    with _client(platform) as client:
        result = client.send(message)
    assert result.accepted, result.messages
    (submission,) = platform.submissions
    assert submission.plaintext is not None
    assert parse_mo(submission.plaintext) == message


@pytest.mark.skipif(OPENSSL is None, reason="the openssl command is not installed")
def test_request_bytes_check_out_with_openssl(platform: PlatformServer, tmp_path: Path) -> None:
    """Decrypt and verify what the client sends with an independent implementation."""
    key = rsa_key(512)
    aes = os.urandom(16)
    client = PlatformClient.from_keys(
        PlatformProfile(base_url="http://127.0.0.1:9/newyorkWS/ws/"),
        send_code=SEND_CODE,
        aes_key=aes,
        private_key=key,
    )
    prepared = client.prepare(ORDER_XML)
    client.close()
    params = parse_request(prepared.body).params
    assert params["msgType"] == "IMPORTORDER"
    assert params["sendCode"] == SEND_CODE
    assert openssl_aes_ecb_decrypt(aes, base64.b64decode(params["content"])) == ORDER_XML
    assert openssl_verify_sha1(public_pem(key), ORDER_XML, base64.b64decode(params["dataDigest"]), tmp_path)


@pytest.mark.skipif(OPENSSL is None, reason="the openssl command is not installed")
def test_a_512_bit_pem_key_from_openssl_genpkey(platform: PlatformServer, tmp_path: Path) -> None:
    pem = openssl_genpkey_512(tmp_path)
    aes = os.urandom(16)
    signer = PlatformClient.from_keys(
        platform.profile(), send_code=SEND_CODE, aes_key=aes, private_key=pem, retry=ONCE
    )
    from cbec_declare.transport import load_rsa_private_key

    platform.add_account(EnterpriseAccount(SEND_CODE, aes, load_rsa_private_key(pem).public_key()))
    with signer as client:
        assert client.send(ORDER_XML).accepted


def test_a_signer_with_a_certificate(platform: PlatformServer) -> None:
    signer = SoftwareSigner.generate(SignatureAlgorithm.RSA_SHA1, bits=1024)
    codec = AesEcbCodec.generate()
    platform.add_account(EnterpriseAccount(SEND_CODE, codec.key_base64(), signer.certificate))
    with PlatformClient(
        platform.profile(), send_code=SEND_CODE, codec=codec, digest_signer=signer, retry=ONCE
    ) as client:
        assert client.send(ORDER_XML).accepted


def test_wrong_enterprise_key_is_refused_with_reasons(platform: PlatformServer) -> None:
    with _client(platform) as client:
        platform.add_account(
            EnterpriseAccount(SEND_CODE, client.codec.key_base64(), rsa_key(512).public_key())
        )  # type: ignore[attr-defined]
        result = client.send(ORDER_XML)
    assert not result.accepted
    assert result.messages == ("数字签名验证失败",)
    with pytest.raises(errors.RemoteRejected, match="数字签名验证失败"):
        result.raise_for_rejection()


def test_wrong_aes_key_and_unknown_sender(platform: PlatformServer) -> None:
    with _client(platform) as client:
        account = platform.accounts[SEND_CODE]
        platform.add_account(EnterpriseAccount(SEND_CODE, os.urandom(16), account.public_key))
        assert client.send(ORDER_XML).messages == ("报文解密失败",)
        platform.accounts.clear()
        assert client.send(ORDER_XML).messages == (f"发送方代码未登记: {SEND_CODE}",)


def test_msg_type_must_match_the_document(platform: PlatformServer) -> None:
    with _client(platform) as client:
        result = client.send(ORDER_XML, msg_type="PERSONAL_GOODS_DECLAR")
    assert not result.accepted
    assert "不一致" in result.messages[0]


def test_malformed_xml_is_refused_by_the_platform(platform: PlatformServer) -> None:
    with _client(platform) as client:
        result = client.send(b"<mo><head>", msg_type="IMPORTORDER")
    assert not result.accepted
    assert result.messages[0].startswith("报文格式错误")


def test_ceb_xml_on_the_encrypted_channel(platform: PlatformServer) -> None:
    sample = (SAMPLES / "ceb-2022-05" / "CEB311Message.xml").read_bytes()
    from cbec_declare.messages import parse

    data = build(parse(sample, expect=CEB311Message))
    with _client(platform) as client:
        result = client.send(data)
    assert result.msg_type == "CEB311Message"
    assert result.accepted, result.messages


def test_checker_hook_reasons_are_returned(platform: PlatformServer) -> None:
    platform.checker = lambda msg_type, xml: ["订单编号重复"] if b"order001" in xml else []
    with _client(platform) as client:
        result = client.send(ORDER_XML)
    assert not result.accepted
    assert result.messages == ("订单编号重复",)


def test_plaintext_channel(platform: PlatformServer) -> None:
    with _client(platform) as client:
        result = client.check_received(ORDER_XML)
    assert result.accepted
    (submission,) = platform.submissions
    assert submission.service == "ReceivedDeclare"
    assert submission.plaintext == ORDER_XML


@pytest.mark.parametrize("style", ["escaped", "cdata", "raw"])
def test_every_response_style(style: str) -> None:
    with PlatformServer(response_style=style) as server, _client(server) as client:
        assert client.send(ORDER_XML).accepted


def test_identity_codec_profile(platform: PlatformServer) -> None:
    key = rsa_key(512)
    with PlatformClient.from_keys(
        platform.profile(codec="identity"), send_code=SEND_CODE, aes_key=b"", private_key=key, retry=ONCE
    ) as client:
        prepared = client.prepare(ORDER_XML)
    content = parse_request(prepared.body).params["content"]
    assert content.encode("utf-8") == ORDER_XML


def test_profile_names_reach_the_wire() -> None:
    profile = PlatformProfile(
        base_url="http://127.0.0.1:9/ws",
        encrypt_service="OtherService",
        encrypt_params=("c", "m", "d", "s"),
        namespace="urn:other",
        qualified_params=True,
    )
    with PlatformClient.from_keys(
        profile, send_code=SEND_CODE, aes_key=os.urandom(16), private_key=rsa_key(512)
    ) as client:
        prepared = client.prepare(ORDER_XML)
    assert prepared.url == "http://127.0.0.1:9/ws/OtherService"
    wrapper = etree.fromstring(prepared.body)[1][0]
    assert wrapper.tag == "{urn:other}receive"
    assert [child.tag for child in wrapper] == [
        "{urn:other}c",
        "{urn:other}m",
        "{urn:other}d",
        "{urn:other}s",
    ]
    assert "bytes" in repr(prepared)
    assert prepared.body.decode() not in repr(prepared)


@pytest.mark.parametrize("code", ["", "123", "3301961Q4", "3301961Q433", "3301961Q4!"])
def test_send_code_must_be_ten_characters(code: str) -> None:
    with pytest.raises(errors.ConfigError):
        PlatformClient.from_keys(
            PlatformProfile(base_url="http://127.0.0.1:9/"),
            send_code=code,
            aes_key=os.urandom(16),
            private_key=rsa_key(512),
        )


def test_profile_validation() -> None:
    with pytest.raises(errors.ConfigError):
        PlatformProfile(base_url="ftp://x")
    with pytest.raises(errors.ConfigError):
        PlatformProfile(base_url="http://x/", digest_hash="md5")
    with pytest.raises(errors.ConfigError):
        PlatformProfile(base_url="http://x/", read_timeout=0)


def test_answer_without_a_result_is_a_receipt_error() -> None:
    from cbec_declare.sandbox import LocalServer
    from cbec_declare.transport.soap import build_response

    def app(environ, start_response):  # type: ignore[no-untyped-def]
        body = build_response("urn:x", "receive", "success")
        start_response("200 OK", [("Content-Type", "text/xml")])
        return [body]

    with (
        LocalServer(app) as server,
        PlatformClient.from_keys(
            PlatformProfile(base_url=server.url + "/ws/"),
            send_code=SEND_CODE,
            aes_key=os.urandom(16),
            private_key=rsa_key(512),
            retry=ONCE,
        ) as client,
        pytest.raises(errors.ReceiptError, match="no <mo>"),
    ):
        client.send(ORDER_XML)


def test_text_instead_of_bytes_is_a_config_error() -> None:
    with PlatformClient.from_keys(
        PlatformProfile(base_url="http://127.0.0.1:9/"),
        send_code=SEND_CODE,
        aes_key=os.urandom(16),
        private_key=rsa_key(512),
    ) as client:
        with pytest.raises(errors.ConfigError, match="bytes"):
            client.prepare(ORDER_XML.decode())  # type: ignore[arg-type]
        with pytest.raises(errors.ConfigError, match="businessType"):
            client.prepare(b"<mo><head/><body/></mo>")
