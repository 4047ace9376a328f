"""EportClientSigner against EportFakeServer over real sockets: signing, card errors, faults, threads."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import threading
from collections.abc import Iterator

import pytest
from cryptography import x509
from websockets.sync.client import connect
from websockets.sync.server import ServerConnection, serve

from cbec_declare.errors import ConfigError, SignerUnavailable, SigningError
from cbec_declare.signing import SignatureAlgorithm, Signer, SoftwareSigner
from cbec_declare.signing.certs import certificate_info, public_key
from cbec_declare.signing.eport import EportClientSigner, card_error_code, parse_reply
from cbec_declare.signing.sm2 import Sm2PublicKey, sm2_available
from cbec_declare.testing.eport_fake import (
    CARD_ABSENT_ERROR,
    DEFAULT_CARD_PIN,
    UNKNOWN_METHOD_ERROR,
    WRONG_PIN_ERROR,
    EportFakeServer,
)
from signing._softhsm_fixtures import rsa_verify
from signing.signing_support import gmssl_verify, rsa_signer, sm2_signer

DATA = '<ds:SignedInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">电子口岸 加签</ds:SignedInfo>'.encode()
PIN = DEFAULT_CARD_PIN


@pytest.fixture
def card() -> SoftwareSigner:
    return rsa_signer(1024)


@pytest.fixture
def fake(card: SoftwareSigner) -> Iterator[EportFakeServer]:
    with EportFakeServer(card) as server:
        yield server


def client(fake: EportFakeServer, **options: object) -> EportClientSigner:
    settings: dict[str, object] = {"pin": PIN, "timeout": 5.0, "connect_timeout": 2.0, "retry_delay": 0.05}
    settings.update(options)
    return EportClientSigner(fake.url, **settings)  # type: ignore[arg-type]


# --- wire format ----------------------------------------------------------------------------------


def test_parse_reply_reads_the_documented_shape() -> None:
    frame = (
        '{"_id":1,"_method":"cus-sec_SpcSignDataAsPEM","_status":"00","_args":{"Result":false,"Data":[],'
        '"Error":["[读卡器底层库]复位读卡器失败:错误码=50070","Err:Custom50070"]}}'
    )
    reply = parse_reply(frame)
    assert reply.id == 1
    assert reply.method == "cus-sec_SpcSignDataAsPEM"
    assert reply.result is False
    assert card_error_code(reply.errors) == "Err:Custom50070"
    assert parse_reply('{"_id":"7","_method":"open","_status":"00"}').id == 7


@pytest.mark.parametrize("frame", ["not json", "[1]", '{"_id":1}', '{"_method":"m","_args":{"Data":"x"}}'])
def test_parse_reply_refuses_other_frames(frame: str) -> None:
    with pytest.raises(SigningError) as caught:
        parse_reply(frame)
    assert caught.value.code == "sign.eport.protocol"


def test_the_fake_speaks_the_protocol_to_a_plain_websocket_client(
    fake: EportFakeServer, card: Signer
) -> None:
    with connect(fake.url, open_timeout=5) as ws:
        opening = json.loads(ws.recv(timeout=5))
        assert opening == {"_id": 0, "_method": "open", "_status": "00", "_args": opening["_args"]}
        ws.send(json.dumps({"_method": "cus-sec_SpcGetSignCertAsPEM", "_id": 5, "args": {}}))
        reply = json.loads(ws.recv(timeout=5))
        assert reply["_id"] == 5
        assert reply["_method"] == "cus-sec_SpcGetSignCertAsPEM"
        assert reply["_args"]["Result"] is True
        assert base64.b64decode(reply["_args"]["Data"][0]) == card.certificate
        ws.send("garbage")
        assert json.loads(ws.recv(timeout=5))["_args"]["Result"] is False


# --- signing --------------------------------------------------------------------------------------


def test_rsa_card_signature_certificate_and_key_name(fake: EportFakeServer, card: Signer) -> None:
    with client(fake) as signer:
        assert isinstance(signer, Signer)
        assert signer.algorithm is SignatureAlgorithm.RSA_SHA1
        assert signer.certificate == card.certificate
        assert signer.key_name == certificate_info(card.certificate).key_name
        signature = signer.sign(DATA)
        rsa_verify(card.certificate, signature, DATA, SignatureAlgorithm.RSA_SHA1)
    sign_calls = [call for call in fake.calls if call.method == "cus-sec_SpcSignDataAsPEM"]
    assert len(sign_calls) == 1
    assert sign_calls[0].args == {"inData": DATA.decode()}
    assert sign_calls[0].passwd_given
    assert [c.method for c in fake.calls[:2]] == ["cus-sec_SpcGetSignCertAsPEM", "cus-sec_SpcGetCertNo"]


@pytest.mark.skipif(not sm2_available(), reason="SM2 needs tongsuopy")
def test_sm2_card_gives_raw_r_s_that_gmssl_verifies() -> None:
    sm2_card = sm2_signer()
    with EportFakeServer(sm2_card) as fake, client(fake) as signer:
        assert signer.algorithm is SignatureAlgorithm.SM2_SM3
        signature = signer.sign(DATA)
        assert len(signature) == 64
        key = public_key(signer.certificate)
        assert isinstance(key, Sm2PublicKey)
        assert gmssl_verify(key.point, signature, DATA)


def test_data_that_is_not_utf8_is_refused_before_sending(fake: EportFakeServer) -> None:
    with client(fake) as signer, pytest.raises(SigningError) as caught:
        signer.sign(b"\xff\xfe")
    assert caught.value.code == "sign.eport.input"


def test_without_a_pin_no_passwd_is_sent(card: Signer) -> None:
    with EportFakeServer(card, pin=None) as fake, EportClientSigner(fake.url) as signer:
        rsa_verify(card.certificate, signer.sign(DATA), DATA, SignatureAlgorithm.RSA_SHA1)
        assert not [c for c in fake.calls if c.passwd_given]


def test_pin_from_an_environment_variable(fake: EportFakeServer, card: Signer) -> None:
    with client(fake, pin=None, pin_env="CARD_PIN", environ={"CARD_PIN": PIN}) as signer:
        rsa_verify(card.certificate, signer.sign(DATA), DATA, SignatureAlgorithm.RSA_SHA1)


# --- card errors ----------------------------------------------------------------------------------


def test_wrong_pin_is_a_typed_error_with_the_card_code(fake: EportFakeServer) -> None:
    with client(fake, pin="12345678") as signer, pytest.raises(SignerUnavailable) as caught:
        signer.sign(DATA)
    assert caught.value.code == "sign.eport.pin"
    assert caught.value.context["card_code"] == WRONG_PIN_ERROR[1]
    assert "12345678" not in str(caught.value)


def test_card_absent_is_reported_with_err_custom50070_and_recovers(
    fake: EportFakeServer, card: Signer
) -> None:
    with client(fake) as signer:
        fake.card_present = False
        with pytest.raises(SignerUnavailable) as caught:
            signer.sign(DATA)
        assert caught.value.code == "sign.eport.card"
        assert caught.value.context["card_code"] == "Err:Custom50070"
        assert CARD_ABSENT_ERROR[0] in caught.value.message
        fake.card_present = True
        rsa_verify(card.certificate, signer.sign(DATA), DATA, SignatureAlgorithm.RSA_SHA1)


def test_card_absent_when_opening(fake: EportFakeServer) -> None:
    fake.card_present = False
    with pytest.raises(SignerUnavailable) as caught:
        client(fake)
    assert caught.value.context["card_code"] == "Err:Custom50070"


def test_unknown_method_is_refused(fake: EportFakeServer) -> None:
    with client(fake) as signer, pytest.raises(SignerUnavailable) as caught:
        signer.call("cus-sec_NoSuchThing")
    assert caught.value.context["card_code"] == UNKNOWN_METHOD_ERROR[1]


def test_a_swapped_card_is_detected(card: Signer) -> None:
    with EportFakeServer(card) as first:
        port = first.port
        signer = client(first)
        signer.sign(DATA)
    other = rsa_signer(2048)
    with EportFakeServer(other, port=port), signer:  # same URL, another card
        with pytest.raises(SignerUnavailable) as caught:
            signer.sign(DATA)
        assert caught.value.code == "sign.eport.card_changed"


# --- connection faults ----------------------------------------------------------------------------


def test_a_dropped_connection_is_reopened(fake: EportFakeServer, card: Signer) -> None:
    with client(fake) as signer:
        fake.drop_after(0)
        rsa_verify(card.certificate, signer.sign(DATA), DATA, SignatureAlgorithm.RSA_SHA1)
        assert fake.connections == 2
        signs = [c for c in fake.calls if c.method == "cus-sec_SpcSignDataAsPEM"]
        assert len(signs) == 2  # the dropped request, then the same request again


def test_drops_beyond_the_attempts_fail(fake: EportFakeServer) -> None:
    with client(fake, attempts=1) as signer:
        fake.drop_after(0)
        with pytest.raises(SignerUnavailable) as caught:
            signer.sign(DATA)
        assert caught.value.code == "sign.eport.connect"


def test_a_slow_card_times_out_and_the_late_reply_is_not_taken_for_the_next(
    fake: EportFakeServer, card: Signer
) -> None:
    with client(fake, timeout=0.3) as signer:
        fake.reply_delay = 1.0
        with pytest.raises(SignerUnavailable) as caught:
            signer.sign(b"first")
        assert caught.value.code == "sign.eport.timeout"
        fake.reply_delay = 0.0
        signature = signer.sign(b"second")
        rsa_verify(card.certificate, signature, b"second", SignatureAlgorithm.RSA_SHA1)


def test_refused_then_restarted(fake: EportFakeServer, card: Signer) -> None:
    with client(fake, attempts=2) as signer:
        fake.stop()
        with pytest.raises(SignerUnavailable) as caught:
            signer.sign(DATA)
        assert caught.value.code == "sign.eport.connect"
        assert "127.0.0.1" in caught.value.message
        fake.start()
        rsa_verify(card.certificate, signer.sign(DATA), DATA, SignatureAlgorithm.RSA_SHA1)


def test_no_service_at_all() -> None:
    with EportFakeServer(rsa_signer(1024)) as fake:
        url = fake.url
    with pytest.raises(SignerUnavailable) as caught:
        EportClientSigner(url, pin=PIN, connect_timeout=1, attempts=2, retry_delay=0.01)
    assert caught.value.code == "sign.eport.connect"


def _raw_server(handler: object) -> Iterator[str]:
    server = serve(handler, "127.0.0.1", 0, ping_interval=None)  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"ws://127.0.0.1:{server.socket.getsockname()[1]}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def test_a_service_that_never_says_open_times_out() -> None:
    def silent(connection: ServerConnection) -> None:
        for _ in connection:
            pass

    for url in _raw_server(silent):
        with pytest.raises(SignerUnavailable) as caught:
            EportClientSigner(url, pin=PIN, timeout=0.3)
        assert caught.value.code == "sign.eport.timeout"


def test_replies_are_matched_by_id(card: Signer) -> None:
    # A stale reply (an earlier id) arrives before the right one: the client must skip it.
    def answering(connection: ServerConnection) -> None:
        connection.send(json.dumps({"_id": 0, "_method": "open", "_status": "00"}))
        for message in connection:
            request = json.loads(message)
            data = {
                "cus-sec_SpcGetSignCertAsPEM": [base64.b64encode(card.certificate).decode()],
                "cus-sec_SpcGetCertNo": [card.key_name],
                "cus-sec_SpcSignDataAsPEM": [base64.b64encode(b"right").decode(), card.key_name],
            }[request["_method"]]
            stale = {"_id": request["_id"] - 1, "_method": request["_method"], "_status": "00"}
            stale["_args"] = {"Result": True, "Data": [base64.b64encode(b"stale").decode(), card.key_name]}
            connection.send(json.dumps(stale))
            reply = {"_id": request["_id"], "_method": request["_method"], "_status": "00"}
            reply["_args"] = {"Result": True, "Data": data, "Error": []}
            connection.send(json.dumps(reply))

    for url in _raw_server(answering):
        with EportClientSigner(url, pin=PIN) as signer:
            assert signer.sign(DATA) == b"right"


# --- threads --------------------------------------------------------------------------------------


def test_concurrent_signing_through_one_client(fake: EportFakeServer, card: Signer) -> None:
    failures: list[BaseException] = []
    with client(fake) as signer:

        def work(number: int) -> None:
            try:
                for i in range(10):
                    message = f"<m>{number}-{i} 中文</m>".encode()
                    rsa_verify(card.certificate, signer.sign(message), message, SignatureAlgorithm.RSA_SHA1)
            except BaseException as exc:  # collected for the assertion below
                failures.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert not failures
    assert len([c for c in fake.calls if c.method == "cus-sec_SpcSignDataAsPEM"]) == 60


# --- the fake's other methods ---------------------------------------------------------------------


def test_fake_other_methods(fake: EportFakeServer, card: Signer) -> None:
    with client(fake) as signer:
        assert signer.call("cus-sec_SpcGetCertNo").data == (card.key_name,)
        assert bytes(signer.call("cus-sec_SpcGetSignCert").data[0]) == card.certificate
        raw = bytes(signer.call("cus-sec_SpcSignData", {"inData": "abc", "passwd": PIN}).data[0])
        rsa_verify(card.certificate, raw, b"abc", SignatureAlgorithm.RSA_SHA1)
        period = signer.call("cus-sec_SpcGetValidTimeFromCert").data[0]
        cert = x509.load_der_x509_certificate(card.certificate)
        assert period["szEndTime"] == _beijing(cert.not_valid_after_utc)
        assert period["szStartTime"] == _beijing(cert.not_valid_before_utc)
        digest = signer.call("cus-sec_SpcSHA1DigestAsPEM", {"szInfo": "abc"}).data[0]
        assert base64.b64decode(digest) == hashlib.sha1(b"abc").digest()
        assert bytes(signer.call("cus-sec_SpcSHA1Digest", {"szInfo": "abc"}).data[0]) == base64.b64decode(
            digest
        )
        good = base64.b64encode(signer.sign(b"abc")).decode()
        assert signer.call("cus-sec_SpcVerifySignData", {"inData": "abc", "signData": good}).result
        with pytest.raises(SignerUnavailable):
            signer.call("cus-sec_SpcVerifySignData", {"inData": "abd", "signData": good})


def _beijing(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y%m%d%H%M%S")


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"timeout": 0}, "timeout"),
        ({"connect_timeout": -1}, "connect_timeout"),
        ({"attempts": 0}, "attempts"),
        ({"retry_delay": -0.5}, "retry_delay"),
    ],
)
def test_bad_client_settings(options: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        EportClientSigner("ws://127.0.0.1:1", **options)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_bad_url() -> None:
    with pytest.raises(ConfigError) as caught:
        EportClientSigner("http://127.0.0.1:61232")
    assert caught.value.field == "url"
