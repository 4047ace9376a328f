"""§2.3: SOAP and REST transports against NodeServer; DirectoryTransport with real folders."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cbec_declare import errors
from cbec_declare.envelope import unwrap, wrap
from cbec_declare.messages import build, parse
from cbec_declare.models import CEB311Message
from cbec_declare.sandbox import Fault, NodeServer, NodeVerdict
from cbec_declare.signing import SignatureAlgorithm, SoftwareSigner, sign
from cbec_declare.transport import (
    DirectoryTransport,
    NodeTransport,
    ReceiptReceiver,
    RestNodeProfile,
    RestTransferDeclareTransport,
    RetryPolicy,
    SoapNodeProfile,
    SoapNodeTransport,
)
from cbec_declare.transport.node import parse_transfer_reply
from conftest import SAMPLES
from transport.transport_support import HANGZHOU

FAST = RetryPolicy(attempts=4, deadline=30, backoff=0.01, max_backoff=0.02, jitter=0)
COP_MSG_ID = "5C2E3B6A-0B59-4F4C-9D43-2D5C8E7A1F00"


@pytest.fixture(scope="module")
def signed_ceb() -> bytes:
    message = parse((SAMPLES / "ceb-2022-05" / "CEB311Message.xml").read_bytes(), expect=CEB311Message)
    signer = SoftwareSigner.generate(SignatureAlgorithm.RSA_SHA1, bits=1024)
    return sign(build(message), signer)


@pytest.fixture
def dxp(signed_ceb: bytes) -> bytes:
    return wrap(signed_ceb, "DXPENT0000011951", cop_msg_id=COP_MSG_ID)


@pytest.fixture
def node() -> Iterator[tuple[NodeServer, list[tuple[str, bytes]]]]:
    seen: list[tuple[str, bytes]] = []

    def on_message(cop_msg_id: str, ceb: bytes) -> NodeVerdict:
        seen.append((cop_msg_id, ceb))
        if b"REJECT-ME" in ceb:
            return NodeVerdict.reject("订单重复申报")
        return NodeVerdict.ok()

    with NodeServer(on_message=on_message) as server:
        yield server, seen


def test_transports_satisfy_the_protocol(tmp_path: Path) -> None:
    soap = SoapNodeTransport(SoapNodeProfile(endpoint="http://127.0.0.1:9/x"))
    rest = RestTransferDeclareTransport(RestNodeProfile(url="http://127.0.0.1:9/x"))
    for transport in (soap, rest, DirectoryTransport(tmp_path)):
        assert isinstance(transport, NodeTransport)
    soap.close()
    rest.close()


@pytest.mark.parametrize("cdata", [True, False])
def test_soap_round_trip(
    node: tuple[NodeServer, list[tuple[str, bytes]]], dxp: bytes, signed_ceb: bytes, cdata: bool
) -> None:
    server, seen = node
    with SoapNodeTransport(SoapNodeProfile(endpoint=server.soap_url, cdata=cdata), retry=FAST) as transport:
        reply = transport.send(dxp, cop_msg_id=COP_MSG_ID)
    assert reply.accepted
    assert reply.transport == "soap"
    assert reply.result is not None
    assert reply.result.accepted
    assert reply.messages == ("处理成功",)
    assert seen == [(COP_MSG_ID, signed_ceb)]  # the hook gets the exact signed bytes
    (submission,) = server.submissions
    assert submission.msg_type == "CEB311Message"
    assert submission.sender_id == "DXPENT0000011951"
    assert (b"<![CDATA[" in server.server.requests[0].body) is cdata


def test_soap_rejection_is_returned_not_raised(node: tuple[NodeServer, list[tuple[str, bytes]]]) -> None:
    server, _ = node
    dxp = wrap(b'<?xml version="1.0"?><CEB311Message note="REJECT-ME"/>', "DXPENT0000011951")
    with SoapNodeTransport(SoapNodeProfile(endpoint=server.soap_url), retry=FAST) as transport:
        reply = transport.send(dxp, cop_msg_id="X1")
    assert not reply.accepted
    assert reply.messages == ("订单重复申报",)
    with pytest.raises(errors.RemoteRejected, match="订单重复申报"):
        reply.raise_for_rejection()


def test_soap_retries_a_503_with_the_same_bytes(
    node: tuple[NodeServer, list[tuple[str, bytes]]], dxp: bytes
) -> None:
    server, seen = node
    server.faults.add(Fault.status(503), Fault.drop())
    with SoapNodeTransport(SoapNodeProfile(endpoint=server.soap_url), retry=FAST) as transport:
        assert transport.send(dxp, cop_msg_id=COP_MSG_ID).accepted
    bodies = {r.body for r in server.server.requests}
    assert len(server.server.requests) == 3
    assert len(bodies) == 1
    assert len(seen) == 1


def test_unwrappable_message_is_refused_without_calling_the_hook(
    node: tuple[NodeServer, list[tuple[str, bytes]]],
) -> None:
    server, seen = node
    with SoapNodeTransport(SoapNodeProfile(endpoint=server.soap_url), retry=FAST) as transport:
        reply = transport.send(b'<DxpMsg xmlns="http://www.chinaport.gov.cn/dxp" ver="1.0"/>', cop_msg_id="X")
    assert not reply.accepted
    assert reply.messages[0].startswith("报文格式错误")
    assert seen == []


@pytest.mark.parametrize(("urlencode", "payload"), [(True, "dxp"), (False, "dxp"), (True, "ceb")])
def test_rest_round_trip(
    node: tuple[NodeServer, list[tuple[str, bytes]]],
    dxp: bytes,
    signed_ceb: bytes,
    urlencode: bool,
    payload: str,
) -> None:
    server, seen = node
    profile = RestNodeProfile(url=server.rest_url, urlencode=urlencode, payload=payload)
    with RestTransferDeclareTransport(profile, retry=FAST) as transport:
        reply = transport.send(dxp, cop_msg_id=COP_MSG_ID)
    assert reply.accepted
    assert reply.transport == "rest"
    assert reply.result is not None
    assert reply.result.accepted
    # A raw (not URL-encoded) body still arrives intact: Base64 '+' survives because the server reads it raw.
    expected_id = COP_MSG_ID if payload == "dxp" else unwrap(dxp).trans_info.cop_msg_id
    if payload == "ceb":
        expected_id = parse(signed_ceb).guid
    assert seen == [(expected_id, signed_ceb)]
    body = server.server.requests[0].body
    assert body.startswith(b"xml=%3C" if urlencode else b"xml=<")


def test_rest_rejection(node: tuple[NodeServer, list[tuple[str, bytes]]]) -> None:
    server, _ = node
    dxp = wrap(b'<?xml version="1.0"?><CEB311Message note="REJECT-ME"/>', "DXPENT0000011951")
    with RestTransferDeclareTransport(RestNodeProfile(url=server.rest_url), retry=FAST) as transport:
        reply = transport.send(dxp, cop_msg_id="X2")
    assert not reply.accepted
    assert "订单重复申报" in reply.messages


def test_rest_4xx_is_not_retried(node: tuple[NodeServer, list[tuple[str, bytes]]], dxp: bytes) -> None:
    server, _ = node
    server.faults.add(Fault.status(404, b"no such resource"))
    transport = RestTransferDeclareTransport(RestNodeProfile(url=server.rest_url), retry=FAST)
    with transport, pytest.raises(errors.RemoteRejected):
        transport.send(dxp, cop_msg_id=COP_MSG_ID)
    assert len(server.server.requests) == 1


RESULT_TEXT = (HANGZHOU / "mo_RESULT_receipt.xml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("text", "accepted", "has_xml"),
    [
        ('{"success":true,"data":"<CEB311Message/>"}', True, True),
        ('{"success":false,"data":"签名失败"}', False, False),
        ('{"result":true,"xml":"<a/>"}', True, True),
        ('{"isOk":false,"body":"<a/>"}', False, True),  # unknown keys: the first boolean decides
        ('{"flag":true, "data": "<a attr=\\"1\\">\\u4e2d</a>"}', True, True),
        ("<CEB311Message/>", True, True),
        (RESULT_TEXT, True, True),
        (RESULT_TEXT.replace("<chkMark>1", "<chkMark>2"), False, True),
        (RESULT_TEXT.replace("<chkMark>1</chkMark>", ""), True, True),  # no chkMark: 处理成功 decides
        ('{success:true,data:"<a>\\u4e2d\\/</a>"}', True, True),  # not JSON: the clients' heuristic
        ("ERROR: bad request", False, False),
    ],
)
def test_transfer_reply_parsing(text: str, accepted: bool, has_xml: bool) -> None:
    reply = parse_transfer_reply(text)
    assert reply.accepted is accepted
    assert (reply.xml is not None) is has_xml
    if reply.xml is not None:
        assert reply.xml.startswith("<")
    if "\\u4e2d" in text:
        assert reply.xml is not None
        assert "中" in reply.xml


# --------------------------------------------------------------------------- directory


def test_directory_send_is_atomic_and_idempotent(tmp_path: Path, dxp: bytes) -> None:
    outbox = tmp_path / "out"
    outbox.mkdir()
    transport = DirectoryTransport(outbox)
    reply = transport.send(dxp, cop_msg_id=COP_MSG_ID)
    assert reply.accepted
    assert reply.transport == "directory"
    target = outbox / f"{COP_MSG_ID}.xml"
    assert reply.location == str(target)
    assert target.read_bytes() == dxp
    transport.send(dxp, cop_msg_id=COP_MSG_ID)  # a retry overwrites; it never adds a second file
    assert sorted(os.listdir(outbox)) == [f"{COP_MSG_ID}.xml"]  # and no temporary file is left


@pytest.mark.parametrize("bad", ["../escape", "a/b", "", ".hidden", "x" * 300, "名字"])
def test_directory_refuses_unsafe_names(tmp_path: Path, dxp: bytes, bad: str) -> None:
    with pytest.raises(errors.EnvelopeError):
        DirectoryTransport(tmp_path).send(dxp, cop_msg_id=bad)
    assert os.listdir(tmp_path) == []


def test_directory_write_failure_is_a_transport_error(tmp_path: Path, dxp: bytes) -> None:
    outbox = tmp_path / "out"
    outbox.mkdir()
    transport = DirectoryTransport(outbox)
    outbox.rmdir()
    with pytest.raises(errors.TransportError, match="cannot write"):
        transport.send(dxp, cop_msg_id=COP_MSG_ID)


def test_missing_folders_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(errors.ConfigError):
        DirectoryTransport(tmp_path / "nope")
    with pytest.raises(errors.ConfigError):
        DirectoryTransport(tmp_path).poll(timeout=0)


def test_inbox_polling_is_bounded_and_skips_partial_files(tmp_path: Path) -> None:
    inbox, archive = tmp_path / "in", tmp_path / "done"
    inbox.mkdir()
    archive.mkdir()
    transport = DirectoryTransport(tmp_path, inbox=inbox, archive=archive)
    assert transport.poll(timeout=0.2) == []
    (inbox / ".incoming.tmp").write_bytes(b"half")
    (inbox / "x.part").write_bytes(b"half")
    receipt = (HANGZHOU / "dxpmsgsv_ceb312_downlink.xml").read_bytes()

    def drop_later() -> None:
        time.sleep(0.3)
        (inbox / "receipt-1.xml").write_bytes(receipt)

    thread = threading.Thread(target=drop_later)
    thread.start()
    items = transport.poll(timeout=10, interval=0.05)
    thread.join(timeout=10)
    assert [item.path.name for item in items] == ["receipt-1.xml"]
    assert items[0].data == receipt
    # The receipt goes through the same reading, de-duplication and delivery as an HTTP push.
    events: list[object] = []
    receiver = ReceiptReceiver(
        aes_key=os.urandom(16), platform_public_key=None, sink=events.append, verify=False
    )
    assert receiver.handle_document(items[0].data).status == 200
    assert len(events) == 1
    transport.done(items[0])
    assert (archive / "receipt-1.xml").read_bytes() == receipt
    assert transport.poll(timeout=0) == []


def test_inbox_settle_and_delete(tmp_path: Path) -> None:
    transport = DirectoryTransport(tmp_path, inbox=tmp_path, settle=60)
    (tmp_path / "fresh.xml").write_bytes(b"<a/>")
    assert transport.poll(timeout=0) == []  # too young: a non-atomic writer may still be busy
    old = time.time() - 120
    os.utime(tmp_path / "fresh.xml", (old, old))
    (item,) = transport.poll(timeout=0)
    transport.done(item)
    assert not (tmp_path / "fresh.xml").exists()
