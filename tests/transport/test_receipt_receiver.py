"""§2.1: PlatformServer pushes over HTTP into the receiver's WSGI app, served by the real threaded server."""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
from collections.abc import Iterator
from urllib.parse import urlencode

import attrs
import pytest
import requests
from lxml import etree

from cbec_declare import errors
from cbec_declare.envelope import wrap
from cbec_declare.messages import build, parse
from cbec_declare.models import CEB412Message, CEB622Message
from cbec_declare.sandbox import LocalServer, PlatformServer
from cbec_declare.transport import (
    AesEcbCodec,
    CebReceiptEvent,
    JsonAck,
    MemorySeenStore,
    MoReceiptEvent,
    PushProfile,
    QueueSink,
    ReceiptEvent,
    ReceiptReceiver,
    ResultReceipt,
    TextAck,
    decode_push,
    make_wsgi_app,
    parse_mo,
)
from conftest import SAMPLES
from transport.transport_support import HANGZHOU, rsa_key

RESULT = (HANGZHOU / "mo_RESULT_receipt.xml").read_bytes()
FAILED = (HANGZHOU / "mo_RESULT_receipt_failed.xml").read_bytes()
DOWNLINK = (HANGZHOU / "dxpmsgsv_ceb312_downlink.xml").read_bytes()
SUCCESS_ACK = b"<response><success>true</success></response>"


@attrs.define
class Rig:
    """A platform, a receiver behind the real server, and the queue the receipts land in."""

    platform: PlatformServer
    receiver: ReceiptReceiver
    server: LocalServer
    events: queue.Queue[ReceiptEvent]
    aes_key: bytes

    @property
    def url(self) -> str:
        return self.server.url + "/jkf/callback"

    def push(self, document: bytes, msg_type: str, **kwargs: object):  # type: ignore[no-untyped-def]
        return self.platform.push(self.url, document, msg_type, aes_key=kwargs.pop("aes_key", self.aes_key))

    def drained(self) -> list[ReceiptEvent]:
        out = []
        while not self.events.empty():
            out.append(self.events.get_nowait())
        return out


def _rig(**receiver_options: object) -> Iterator[Rig]:
    aes = os.urandom(16)
    events: queue.Queue[ReceiptEvent] = queue.Queue()
    with PlatformServer() as platform:
        options: dict[str, object] = {
            "aes_key": aes,
            "platform_public_key": platform.platform_public_key_base64(),
            "sink": QueueSink(events),
        }
        options.update(receiver_options)
        receiver = ReceiptReceiver(**options)  # type: ignore[arg-type]
        with LocalServer(make_wsgi_app(receiver, path="/jkf/callback")) as server:
            yield Rig(platform, receiver, server, events, aes)


@pytest.fixture
def rig() -> Iterator[Rig]:
    yield from _rig()


def _error_code(body: bytes) -> str | None:
    return etree.fromstring(body).findtext("errorCode")


def test_mo_result_push_is_delivered(rig: Rig) -> None:
    reply = rig.push(FAILED, "CUSTOMS_DECLARE_RESULT_CALLBACK")
    assert reply.status == 200
    assert reply.body == SUCCESS_ACK
    (event,) = rig.drained()
    assert isinstance(event, MoReceiptEvent)
    assert event.msg_type == "CUSTOMS_DECLARE_RESULT_CALLBACK"
    assert event.plaintext == FAILED
    assert event.digest_verified
    assert event.receipt == parse_mo(FAILED)
    assert isinstance(event.receipt, ResultReceipt)
    assert not event.receipt.accepted
    assert len(event.push_id) == 64


def test_personal_goods_receipt_push(rig: Rig) -> None:
    document = (HANGZHOU / "mo_PERSONAL_GOODS_DECLAR_receipt.xml").read_bytes()
    assert rig.push(document, "CUSTOMS_DECLARE_GOODS_CALLBACK").status == 200
    (event,) = rig.drained()
    assert isinstance(event, MoReceiptEvent)
    assert type(event.receipt).__name__ == "PersonalGoodsDeclarReceipt"


def test_duplicate_push_is_processed_once(rig: Rig) -> None:
    first = rig.push(RESULT, "CUSTOMS_DECLARE_RESULT_CALLBACK")
    second = rig.push(RESULT, "CUSTOMS_DECLARE_RESULT_CALLBACK")
    assert first.status == second.status == 200
    assert second.body == SUCCESS_ACK  # acknowledged, so the platform stops resending
    assert len(rig.drained()) == 1
    assert rig.receiver.stats["delivered"] == 1
    assert rig.receiver.stats["duplicate"] == 1


def test_concurrent_duplicates_are_delivered_once(rig: Rig) -> None:
    form = rig.platform.make_push(RESULT, "CUSTOMS_DECLARE_RESULT_CALLBACK", aes_key=rig.aes_key)
    statuses: list[int] = []

    def send() -> None:
        statuses.append(rig.platform.push_form(rig.url, form).status)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == [200] * 6
    assert len(rig.drained()) == 1


def test_downlink_dxpmsgsv_unwraps_to_its_ceb312(rig: Rig) -> None:
    assert rig.push(DOWNLINK, "CUSTOMS_CEB_CALLBACK").status == 200
    (event,) = rig.drained()
    assert isinstance(event, CebReceiptEvent)
    assert event.receipt.message_type == "CEB312Message"
    assert event.receipt.documents[0].order_no == "48511773608"
    assert event.trans_info is not None
    assert event.trans_info.msg_type == "CEB312Message"
    assert event.sv_no is not None
    assert event.sv_no.msg_id == "00000002201906281054520057087669"
    assert event.plaintext == DOWNLINK


def test_bare_ceb_receipt_and_one_in_a_dxpmsg(rig: Rig) -> None:
    bare = (SAMPLES / "ceb-2022-05" / "CEB622Message.xml").read_bytes()
    assert rig.push(bare, "CUSTOMS_CEB_CALLBACK").status == 200
    payment = build(parse((SAMPLES / "ceb-2022-05" / "CEB412Message.xml").read_bytes(), expect=CEB412Message))
    enveloped = wrap(payment, "DXPEDCCEB0000002", "DXPENT0000011951", namespace_style="default")
    assert rig.push(enveloped, "CUSTOMS_CEB_CALLBACK").status == 200
    first, second = rig.drained()
    assert isinstance(first, CebReceiptEvent)
    assert isinstance(first.receipt, CEB622Message)
    assert first.trans_info is None
    assert isinstance(second, CebReceiptEvent)
    assert isinstance(second.receipt, CEB412Message)
    assert second.trans_info is not None
    assert second.trans_info.sender_id == "DXPEDCCEB0000002"


def test_camel_case_aliases_are_accepted(rig: Rig) -> None:
    form = rig.platform.make_push(RESULT, "CUSTOMS_DECLARE_RESULT_CALLBACK", aes_key=rig.aes_key)
    camel = {"content": form["content"], "msgType": form["msg_type"], "dataDigest": form["data_digest"]}
    assert rig.platform.push_form(rig.url, camel).status == 200
    assert len(rig.drained()) == 1


# --------------------------------------------------------------------------- hostile pushes

XXE = (
    b'<?xml version="1.0"?><!DOCTYPE mo [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b"<mo><head><businessType>RESULT</businessType></head><body>&x;</body></mo>"
)
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]><mo><head><businessType>RESULT</businessType></head>'
    b"<body>&lol3;</body></mo>"
)


def _forged(rig: Rig) -> dict[str, str]:
    form = rig.platform.make_push(RESULT, "CUSTOMS_DECLARE_RESULT_CALLBACK", aes_key=rig.aes_key)
    from cbec_declare.transport import RsaDigestSigner

    form["data_digest"] = RsaDigestSigner(rsa_key(1024)).sign(RESULT)
    return form


def _tampered(rig: Rig) -> dict[str, str]:
    form = rig.platform.make_push(RESULT, "CUSTOMS_DECLARE_RESULT_CALLBACK", aes_key=rig.aes_key)
    other = rig.platform.make_push(FAILED, "CUSTOMS_DECLARE_RESULT_CALLBACK", aes_key=rig.aes_key)
    form["content"] = other["content"]  # a valid digest, but of another document
    return form


HOSTILE = {
    "forged digest": (_forged, "S02"),
    "digest of another document": (_tampered, "S02"),
    "no digest": (
        lambda rig: {
            k: v
            for k, v in rig.platform.make_push(
                RESULT, "CUSTOMS_DECLARE_RESULT_CALLBACK", aes_key=rig.aes_key
            ).items()
            if k != "data_digest"
        },
        "S02",
    ),
    "wrong AES key": (
        lambda rig: rig.platform.make_push(
            RESULT * 2, "CUSTOMS_DECLARE_RESULT_CALLBACK", aes_key=os.urandom(16)
        ),
        "S05",
    ),
    "truncated base64": (
        lambda rig: {
            **(f := rig.platform.make_push(RESULT, "CUSTOMS_DECLARE_RESULT_CALLBACK", aes_key=rig.aes_key)),
            "content": f["content"][:-3],
        },
        "S05",
    ),
    "XXE": (
        lambda rig: rig.platform.make_push(XXE, "CUSTOMS_DECLARE_RESULT_CALLBACK", aes_key=rig.aes_key),
        "S01",
    ),
    "entity expansion": (
        lambda rig: rig.platform.make_push(LAUGHS, "CUSTOMS_DECLARE_RESULT_CALLBACK", aes_key=rig.aes_key),
        "S01",
    ),
    "not XML": (
        lambda rig: rig.platform.make_push(b"hello", "CUSTOMS_DECLARE_RESULT_CALLBACK", aes_key=rig.aes_key),
        "S01",
    ),
    "unknown document": (
        lambda rig: rig.platform.make_push(
            b"<html/>", "CUSTOMS_DECLARE_RESULT_CALLBACK", aes_key=rig.aes_key
        ),
        "S04",
    ),
    "a declaration, not a receipt": (
        lambda rig: rig.platform.make_push(
            (SAMPLES / "ceb-2022-05" / "CEB311Message.xml").read_bytes(),
            "CUSTOMS_CEB_CALLBACK",
            aes_key=rig.aes_key,
        ),
        "S05",
    ),
    "missing content": (
        lambda rig: {"msg_type": "CUSTOMS_DECLARE_RESULT_CALLBACK", "data_digest": "AAAA"},
        "S12",
    ),
    "missing msg_type": (
        lambda rig: {
            k: v
            for k, v in rig.platform.make_push(RESULT, "X", aes_key=rig.aes_key).items()
            if k != "msg_type"
        },
        "S12",
    ),
    "10 MB body": (
        lambda rig: {"content": "A" * (10 * 1024 * 1024), "msg_type": "X", "data_digest": "AAAA"},
        "S12",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_pushes_are_refused_and_never_delivered(rig: Rig, case: str) -> None:
    make, code = HOSTILE[case]
    reply = rig.platform.push_form(rig.url, make(rig))
    assert reply.status == 400
    assert _error_code(reply.body) == code
    assert etree.fromstring(reply.body).findtext("success") == "false"
    assert rig.drained() == []
    assert rig.receiver.stats["delivered"] == 0


def test_repeated_fields_and_wrong_content_type(rig: Rig) -> None:
    form = rig.platform.make_push(RESULT, "CUSTOMS_DECLARE_RESULT_CALLBACK", aes_key=rig.aes_key)
    body = urlencode(form).encode() + b"&msg_type=OTHER"
    assert _error_code(rig.platform.push_form(rig.url, body).body) == "S12"
    both = urlencode({**form, "msgType": "OTHER"}).encode()
    assert _error_code(rig.platform.push_form(rig.url, both).body) == "S12"
    json_body = json.dumps(form).encode()
    reply = rig.platform.push_form(rig.url, json_body, content_type="application/json")
    assert _error_code(reply.body) == "S12"
    assert rig.drained() == []


def test_only_post_on_the_registered_path(rig: Rig) -> None:
    with requests.Session() as session:
        assert session.get(rig.url, timeout=10).status_code == 405
        assert session.post(rig.server.url + "/other", data=b"", timeout=10).status_code == 404


def test_a_failing_sink_gets_an_error_ack_and_the_resend_is_processed() -> None:
    delivered: list[ReceiptEvent] = []
    failures = [RuntimeError("database down")]

    def sink(event: ReceiptEvent) -> None:
        if failures:
            raise failures.pop()
        delivered.append(event)

    for rig in _rig(sink=sink):
        first = rig.push(RESULT, "CUSTOMS_DECLARE_RESULT_CALLBACK")
        assert first.status == 500
        assert _error_code(first.body) == "S07"
        second = rig.push(RESULT, "CUSTOMS_DECLARE_RESULT_CALLBACK")
        assert second.status == 200
        assert len(delivered) == 1
        assert rig.receiver.stats["failed"] == 1


def test_verify_false_is_loud_and_marks_events(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="cbec_declare")
    for rig in _rig(platform_public_key=None, verify=False):
        form = rig.platform.make_push(RESULT, "CUSTOMS_DECLARE_RESULT_CALLBACK", aes_key=rig.aes_key)
        form["data_digest"] = "Zm9yZ2Vk"
        assert rig.platform.push_form(rig.url, form).status == 200
        (event,) = rig.drained()
        assert not event.digest_verified
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("verify=False" in w for w in warnings)
    assert any("NOT verified" in w for w in warnings)


def test_a_receiver_without_a_key_refuses_to_start() -> None:
    with pytest.raises(errors.ConfigError, match="verify=False"):
        ReceiptReceiver(aes_key=os.urandom(16), platform_public_key=None, sink=lambda event: None)


@pytest.mark.parametrize(
    ("ack", "content_type"), [(JsonAck(), "application/json"), (TextAck("SUCCESS"), "text/plain")]
)
def test_ack_styles(ack: object, content_type: str) -> None:
    for rig in _rig(profile=PushProfile(ack=ack, reject_status=200)):  # type: ignore[arg-type]
        ok = rig.push(RESULT, "CUSTOMS_DECLARE_RESULT_CALLBACK")
        assert ok.content_type.startswith(content_type)
        bad = rig.platform.push_form(rig.url, {"msg_type": "X"})
        assert bad.status == 200
        assert b"S12" in bad.body
        if isinstance(ack, JsonAck):
            assert json.loads(ok.body) == {"success": True}
            assert json.loads(bad.body)["errorCode"] == "S12"
        else:
            assert ok.body == b"SUCCESS"


def test_handle_form_and_handle_document_without_http() -> None:
    events: list[ReceiptEvent] = []
    codec = AesEcbCodec.generate()
    platform = PlatformServer()
    receiver = ReceiptReceiver(
        aes_key=codec, platform_public_key=platform.platform_public_key, sink=events.append
    )
    status, headers, body = receiver.handle_form(
        platform.make_push(RESULT, "CUSTOMS_DECLARE_RESULT_CALLBACK", aes_key=codec.key_base64())
    )
    assert (status, body) == (200, SUCCESS_ACK)
    assert ("Content-Length", str(len(body))) in headers
    assert receiver.handle_document(DOWNLINK).status == 200
    assert receiver.handle_document(DOWNLINK).status == 200  # a duplicate
    assert receiver.handle_document(b"<nope/>").status == 400
    assert [e.kind for e in events] == ["mo", "ceb"]
    platform.stop()


def test_decode_push_for_troubleshooting() -> None:
    platform = PlatformServer()
    aes = os.urandom(16)
    form = platform.make_push(FAILED, "CUSTOMS_DECLARE_RESULT_CALLBACK", aes_key=aes)
    decoded = decode_push(
        urlencode(form).encode(), aes_key=aes, platform_public_key=platform.platform_public_key_base64()
    )
    assert decoded.plaintext == FAILED
    assert decoded.msg_type == "CUSTOMS_DECLARE_RESULT_CALLBACK"
    assert decoded.digest_valid
    assert decoded.digest_error is None
    assert "PT14021901" not in repr(decoded)
    wrong_key = decode_push(form, aes_key=aes, platform_public_key=rsa_key(1024).public_key())
    assert not wrong_key.digest_valid
    assert wrong_key.digest_error is not None
    assert "does not verify" in wrong_key.digest_error
    no_key = decode_push(form, aes_key=aes, platform_public_key=None)
    assert not no_key.digest_valid
    with pytest.raises(errors.PushRejected):
        decode_push(form, aes_key=os.urandom(16), platform_public_key=None)
    platform.stop()


def test_memory_seen_store_is_bounded() -> None:
    store = MemorySeenStore(max_entries=3)
    assert all(store.claim(str(i)) for i in range(5))
    assert len(store) == 3
    assert not store.claim("4")
    assert store.claim("0")  # forgotten: the oldest go first
    store.release("4")
    assert store.claim("4")


def test_a_copy_arriving_while_the_first_is_processed_is_asked_to_come_again() -> None:
    # If the copy were acknowledged and the first processing then failed, the platform would never send
    # the receipt again: the copy must get a retryable error until the first one is done.
    started, gate = threading.Event(), threading.Event()
    delivered: list[object] = []

    def slow_sink(event: object) -> None:
        started.set()
        assert gate.wait(10)
        delivered.append(event)

    receiver = ReceiptReceiver(aes_key=b"k" * 16, platform_public_key=None, sink=slow_sink, verify=False)
    document = (SAMPLES / "ceb-2018-113" / "CEB622Message.xml").read_bytes()
    first: list[object] = []
    worker = threading.Thread(target=lambda: first.append(receiver.handle_document(document)))
    worker.start()
    assert started.wait(10)
    copy = receiver.handle_document(document)
    assert copy.status == 500
    assert _error_code(copy.body) == "S14"
    gate.set()
    worker.join(10)
    assert first[0].status == 200  # type: ignore[attr-defined]
    again = receiver.handle_document(document)
    assert again.status == 200
    assert len(delivered) == 1
    assert receiver.stats["in_flight"] == 1
    assert receiver.stats["duplicate"] == 1
