"""The upload to customs: retries on 5xx, dropped connections and timeouts (then success, or the
outcome recorded as failed), no retry on 4xx or a business answer, customs' reply codes, and the
sandbox customs rejecting a tampered or foreign signature."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from cbec_declare import errors
from cbec_declare.pay179 import Outcome, ReplyKind, RequestStatus, Uploader, UploadOutcome, parse_reply
from cbec_declare.sandbox import Fault
from cbec_declare.sandbox.customs179 import UPLOAD_PATH, Customs179
from cbec_declare.signing import build_payload
from pay179.pay179_support import (
    WAIT,
    Catalogue,
    fast_retry,
    independently_verified,
    other_signer,
    payment_data,
    platform_and_customs,
    rsa_signer,
    sm2_signer,
)


def upload_posts(customs: Customs179) -> list[bytes]:
    return [r.body for r in customs.server.requests if r.path == UPLOAD_PATH]


def run_one(tmp_path: Path, *faults: Fault, **changes: object) -> tuple[UploadOutcome, Customs179, object]:
    """One order through the whole flow with ``faults`` on customs' upload endpoint."""
    outcomes: list[UploadOutcome] = []
    with platform_and_customs(tmp_path, sm2_signer(), Catalogue("SO-1"), **changes) as (server, customs):
        server.service.on_outcome = outcomes.append
        customs.faults.add(*faults)
        customs.tell_order("SO-1")
        exchange = customs.open_request("SO-1")
        assert exchange.code == "10000"
        assert server.service.worker.wait_idle(WAIT)
        stored = server.service.store.get_upload(exchange.session_id)
    (outcome,) = outcomes
    return outcome, customs, stored


@pytest.mark.parametrize(
    "fault", [Fault.status(503, b"busy"), Fault.status(502), Fault.drop()], ids=["503", "502", "dropped"]
)
def test_a_transient_failure_is_retried_with_the_same_bytes(tmp_path: Path, fault: Fault) -> None:
    outcome, customs, stored = run_one(tmp_path, fault)
    assert (outcome.outcome, outcome.attempts) == (Outcome.UPLOADED, 2)
    assert outcome.reply is not None
    assert outcome.reply.kind is ReplyKind.OK
    posts = upload_posts(customs)
    assert len(posts) == 2
    assert posts[0] == posts[1]  # same sessionID, serviceTime and signValue: one upload, posted twice
    assert stored.attempts == 2  # type: ignore[attr-defined]


def test_a_timeout_is_retried(tmp_path: Path) -> None:
    outcome, customs, _ = run_one(tmp_path, Fault.hang(), read_timeout=0.3)
    assert (outcome.outcome, outcome.attempts) == (Outcome.UPLOADED, 2)
    assert len(upload_posts(customs)) == 2


def test_exhausted_retries_are_recorded_as_failed(tmp_path: Path) -> None:
    outcome, customs, stored = run_one(tmp_path, *[Fault.status(503)] * 3)
    assert (outcome.outcome, outcome.attempts, outcome.error_code) == (
        Outcome.FAILED,
        3,
        "transport.server.http",
    )
    assert len(upload_posts(customs)) == 3
    assert (stored.status, stored.attempts, stored.error_code) == (  # type: ignore[attr-defined]
        RequestStatus.FAILED,
        3,
        "transport.server.http",
    )


def test_connection_refused_everywhere_fails_within_the_policy(tmp_path: Path) -> None:
    with Customs179(platform_certificate=sm2_signer().certificate) as customs:
        dead_url = customs.upload_url
    # customs is gone: its port refuses connections
    with Customs179(platform_certificate=sm2_signer().certificate) as asking:
        from cbec_declare.pay179 import serve
        from pay179.pay179_support import config

        server = serve(config(tmp_path, sm2_signer(), dead_url), source=Catalogue("SO-1"))
        try:
            asking.platform_url = server.url
            asking.tell_order("SO-1")
            exchange = asking.open_request("SO-1")
            assert server.service.worker.wait_idle(WAIT)
            upload = server.service.store.get_upload(exchange.session_id)
        finally:
            server.stop()
    assert upload is not None
    assert (upload.status, upload.attempts) == (RequestStatus.FAILED, 3)
    assert upload.error_code is not None
    assert upload.error_code.startswith("transport.connect")


@pytest.mark.parametrize("status", [400, 403, 404])
def test_a_4xx_is_not_retried(tmp_path: Path, status: int) -> None:
    outcome, customs, stored = run_one(tmp_path, Fault.status(status, b"forbidden"))
    assert (outcome.outcome, outcome.attempts, outcome.error_code) == (
        Outcome.REJECTED,
        1,
        "transport.rejected.http",
    )
    assert len(upload_posts(customs)) == 1
    assert stored.status is RequestStatus.REJECTED  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ('{"code":"20000","message":"上传失败","total":0,"serviceTime":1}', ReplyKind.FAILED),
        ('{"code":20017,"message":"企业实时数据获取验签证书未在服务系统注册"}', ReplyKind.ERROR),
    ],
)
def test_a_business_error_is_a_result_not_retried(tmp_path: Path, body: str, kind: ReplyKind) -> None:
    outcome, customs, stored = run_one(tmp_path, Fault.status(200, body.encode()))
    assert (outcome.outcome, outcome.attempts) == (Outcome.REJECTED, 1)
    assert outcome.reply is not None
    assert outcome.reply.kind is kind
    assert len(upload_posts(customs)) == 1
    assert stored.reply_code == outcome.reply.code  # type: ignore[attr-defined]


def test_an_unreadable_2xx_answer_is_not_retried(tmp_path: Path) -> None:
    # customs may have stored the upload: a second POST would be refused as a reused sessionID
    outcome, customs, _ = run_one(tmp_path, Fault.status(200, b"<html>gateway</html>"))
    assert (outcome.outcome, outcome.attempts, outcome.error_code) == (
        Outcome.REJECTED,
        1,
        "pay179.reply.unreadable",
    )
    assert len(upload_posts(customs)) == 1


def test_a_signature_customs_does_not_know_is_rejected_and_not_retried(tmp_path: Path) -> None:
    outcome, customs, _ = run_one(tmp_path, registered=other_signer().certificate)
    assert (outcome.outcome, outcome.attempts) == (Outcome.REJECTED, 1)
    assert outcome.reply is not None
    assert (outcome.reply.code, outcome.reply.kind) == ("20000", ReplyKind.FAILED)
    assert "验签失败" in outcome.reply.message
    (upload,) = customs.uploads
    assert upload.verified is None


@pytest.mark.parametrize("make_signer", [rsa_signer, sm2_signer], ids=["rsa", "sm2"])
def test_the_sandbox_rejects_a_tampered_payload_and_accepts_the_original(
    tmp_path: Path, make_signer: object
) -> None:
    signer = make_signer()  # type: ignore[operator]
    # A platform that does not know the order: customs' request is answered, its sessionID stays unused.
    with platform_and_customs(tmp_path, signer, Catalogue()) as (server, customs):
        customs.tell_order("SO-1")
        session = customs.open_request("SO-1").session_id
        assert server.service.worker.wait_idle(WAIT)
        data = payment_data("SO-1", amount="100.1")
        original = build_payload(data.head, data.items, session_id=session, signer=signer)
        assert independently_verified(original, signer.certificate)
        tampered = [
            original.replace('"totalAmount":100.1,', '"totalAmount":1001,'),
            original.replace("麦卢卡蜂蜜", "麦卢卡蜂密"),
            original.replace('"verDept":"3"', '"verDept":"1"'),
        ]
        with Uploader(customs.upload_url, retry=fast_retry()) as uploader:
            for text in tampered:
                assert text != original
                assert not independently_verified(text, signer.certificate)
                delivery = uploader.send(text)
                assert delivery.attempts == 1
                assert delivery.reply is not None
                assert delivery.reply.code == "20000"
                assert "verify.signature" in delivery.reply.message
            accepted = uploader.send(original)
            assert accepted.reply is not None
            assert accepted.reply.ok
            again = uploader.send(original)  # customs refuses a sessionID it has stored
            assert again.reply is not None
            assert (again.reply.code, again.reply.message) == ("20000", "上传失败，入库失败")
    assert [u.accepted for u in customs.uploads] == [False, False, False, True, False]


def test_the_sandbox_refuses_unknown_sessions_and_other_orders(tmp_path: Path) -> None:
    signer = sm2_signer()
    with platform_and_customs(tmp_path, signer, Catalogue()) as (server, customs):
        customs.tell_order("SO-1")
        session = customs.open_request("SO-1").session_id
        assert server.service.worker.wait_idle(WAIT)
        with Uploader(customs.upload_url, retry=fast_retry()) as uploader:
            data = payment_data("SO-OTHER")
            wrong_order = uploader.send(
                build_payload(data.head, data.items, session_id=session, signer=signer)
            )
            data = payment_data("SO-1")
            unknown = uploader.send(
                build_payload(data.head, data.items, session_id="SID-MADE-UP", signer=signer)
            )
        form = customs.server.url + UPLOAD_PATH
        missing = requests.post(form, data={"other": "1"}, timeout=WAIT).json()
    assert wrong_order.reply is not None
    assert wrong_order.reply.code == "20000"
    assert unknown.reply is not None
    assert "sessionID" in unknown.reply.message
    assert missing["code"] == "20001"


@pytest.mark.parametrize(
    ("body", "code", "kind", "total"),
    [
        (
            b'{"code":"10000","message":"\xe4\xb8\x8a\xe4\xbc\xa0\xe6\x88\x90\xe5\x8a\x9f","total":0,"serviceTime":1}',
            "10000",
            ReplyKind.OK,
            0,
        ),
        (b'{"code":10000}', "10000", ReplyKind.OK, None),
        (b'{"code":"20000","message":"x"}', "20000", ReplyKind.FAILED, None),
        (b'{"code":"20001"}', "20001", ReplyKind.ERROR, None),
        (b'{"code":"21000"}', "21000", ReplyKind.ERROR, None),
        (b'{"code":"21001"}', "21001", ReplyKind.UNKNOWN, None),
        (b'\xef\xbb\xbf{"code":"10000","total":"3"}', "10000", ReplyKind.OK, 3),
    ],
)
def test_reply_codes_are_typed(body: bytes, code: str, kind: ReplyKind, total: int | None) -> None:
    reply = parse_reply(body)
    assert (reply.code, reply.kind, reply.total, reply.ok) == (code, kind, total, kind is ReplyKind.OK)


@pytest.mark.parametrize(
    "body", [b"", b"ok", b"[]", b'{"message":"x"}', b'{"code":true}', b'{"code":""}', b"\xff"]
)
def test_replies_without_a_code_are_unreadable(body: bytes) -> None:
    with pytest.raises(errors.RemoteRejected) as caught:
        parse_reply(body)
    assert caught.value.code == "pay179.reply.unreadable"
