"""The whole 179 round trip on real local HTTP servers: the sandbox customs calls the platform's
openReq endpoint, the endpoint answers 10000 at once, the background upload reaches the sandbox's
upload endpoint, the signature is checked there (and independently here), the outcome is recorded."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from cbec_declare import errors
from cbec_declare.messages.jsonio import to_data
from cbec_declare.pay179 import (
    ANSWER_BUSY,
    ANSWER_OK,
    ANSWER_SESSION_CONFLICT,
    Outcome,
    Pay179Service,
    RawPaymentExchange,
    RequestStatus,
    SqlitePay179Store,
    UploadOutcome,
    serve,
    upload_again,
)
from cbec_declare.pipeline.ledger import NewDocument
from cbec_declare.pipeline.sqlite_ledger import SqliteLedger
from cbec_declare.pipeline.states import DocumentKind
from cbec_declare.sandbox import LocalServer
from cbec_declare.sandbox.customs179 import Customs179, Customs179Upload
from cbec_declare.signing import SignatureAlgorithm, SoftwareSigner
from cbec_declare.testing.factories import DocumentFactory
from pay179.pay179_support import (
    SIGNERS,
    WAIT,
    Catalogue,
    config,
    independently_verified,
    payment_data,
    platform_and_customs,
    sm2_signer,
)


class Gate:
    """Holds customs' upload handler until released (bounded), to show the answer does not wait."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, upload: Customs179Upload) -> None:
        self.entered.set()
        assert self.release.wait(WAIT), "the gate was never released"


@pytest.mark.parametrize("algorithm", ["rsa", "sm2"])
def test_round_trip_answer_then_signed_upload_then_recorded_outcome(tmp_path: Path, algorithm: str) -> None:
    signer: SoftwareSigner = SIGNERS[algorithm]()
    outcomes: list[UploadOutcome] = []
    catalogue = Catalogue("HZ2024-179-1")
    with platform_and_customs(tmp_path, signer, catalogue) as (server, customs):
        server.service.on_outcome = outcomes.append
        customs.tell_order("HZ2024-179-1")
        result = customs.request_payment_data("HZ2024-179-1", timeout=WAIT)
        assert server.service.worker.wait_idle(WAIT)
        store = server.service.store
        exchange, upload = result.exchange, result.upload
        assert result.ok
        assert (exchange.http_status, exchange.code) == (200, ANSWER_OK)
        assert exchange.answer is not None
        assert list(exchange.answer) == ["code", "message", "serviceTime"]
        # customs verified it with the registered certificate ...
        assert upload is not None
        assert upload.verified is not None
        assert upload.verified.algorithm is (
            SignatureAlgorithm.SM2_SM3 if algorithm == "sm2" else SignatureAlgorithm.RSA_SHA1
        )
        assert upload.verified.cert_no == signer.key_name
        assert upload.order_nos == ("HZ2024-179-1",)
        # ... and so does an implementation that shares nothing with ours
        assert independently_verified(upload.payload, signer.certificate)
        stored = store.get_upload(exchange.session_id)
        assert stored is not None
        assert stored.payload == upload.payload  # the exact bytes that were signed and sent
        assert (stored.status, stored.attempts, stored.reply_code) == (RequestStatus.UPLOADED, 1, "10000")
        request = store.get_request(exchange.session_id)
        assert request is not None
        assert request.status is RequestStatus.UPLOADED
    assert [o.outcome for o in outcomes] == [Outcome.UPLOADED]
    assert catalogue.calls == ["HZ2024-179-1"]


def test_the_answer_does_not_wait_for_the_upload(tmp_path: Path) -> None:
    gate = Gate()
    with platform_and_customs(tmp_path, sm2_signer(), Catalogue("SO-1"), on_upload=gate) as (server, customs):
        customs.tell_order("SO-1")
        exchange = customs.open_request("SO-1")
        assert exchange.code == ANSWER_OK  # answered while the upload cannot have completed
        assert gate.entered.wait(WAIT)  # the upload did start, in the background
        upload = server.service.store.get_upload(exchange.session_id)
        assert upload is not None
        assert upload.status is RequestStatus.UPLOADING
        assert customs.uploads == []
        gate.release.set()
        assert customs.wait_upload(exchange.session_id, WAIT) is not None
        assert server.service.worker.wait_idle(WAIT)
        assert server.service.store.get_upload(exchange.session_id).status is RequestStatus.UPLOADED  # type: ignore[union-attr]


def test_html_escaped_openreq_round_trip(tmp_path: Path) -> None:
    with platform_and_customs(tmp_path, sm2_signer(), Catalogue("SO-1"), escape_open_req=True) as (
        _,
        customs,
    ):
        customs.tell_order("SO-1")
        assert customs.request_payment_data("SO-1", timeout=WAIT).ok


def test_customs_repeating_an_openreq_gets_10000_and_no_second_upload(tmp_path: Path) -> None:
    gate = Gate()
    with platform_and_customs(tmp_path, sm2_signer(), Catalogue("SO-1", "SO-2"), on_upload=gate) as (
        server,
        customs,
    ):
        customs.tell_order("SO-1")
        customs.tell_order("SO-2")
        first = customs.open_request("SO-1")
        assert gate.entered.wait(WAIT)
        # repeated while the upload is in flight, and again after it finished
        assert customs.open_request("SO-1", session_id=first.session_id).code == ANSWER_OK
        gate.release.set()
        assert customs.wait_upload(first.session_id, WAIT) is not None
        assert server.service.worker.wait_idle(WAIT)
        assert customs.open_request("SO-1", session_id=first.session_id).code == ANSWER_OK
        # the same sessionID for another order is a conflict, and changes nothing
        assert customs.open_request("SO-2", session_id=first.session_id).code == ANSWER_SESSION_CONFLICT
        assert server.service.worker.wait_idle(WAIT)
        assert len(customs.uploads) == 1
        request = server.service.store.get_request(first.session_id)
        assert request is not None
        assert (request.order_no, request.duplicates, request.status) == ("SO-1", 2, RequestStatus.UPLOADED)
        assert len(server.service.store.uploads_for_order("SO-1")) == 1


def test_a_used_session_is_refused_and_upload_again_needs_a_fresh_one(tmp_path: Path) -> None:
    catalogue = Catalogue()
    with platform_and_customs(tmp_path, sm2_signer(), catalogue) as (server, customs):
        service = server.service
        customs.tell_order("SO-9")
        # customs asks before the platform knows the order: answered, nothing uploaded, session unused
        early = customs.open_request("SO-9")
        assert early.code == ANSWER_OK
        assert service.worker.wait_idle(WAIT)
        assert service.store.get_request(early.session_id).status is RequestStatus.NO_DATA  # type: ignore[union-attr]
        assert customs.uploads == []
        # the data arrives; a manual re-send uses that unused sessionID
        catalogue.known["SO-9"] = payment_data("SO-9")
        outcome = service.upload_again("SO-9")
        assert (outcome.outcome, outcome.session_id, outcome.attempts) == (
            Outcome.UPLOADED,
            early.session_id,
            1,
        )
        assert customs.uploads[0].accepted
        # now every sessionID of the order is used: a re-send is refused, clearly and typed
        with pytest.raises(errors.PipelineError) as none_left:
            service.upload_again("SO-9")
        assert none_left.value.code == "pay179.session.none"
        assert early.session_id in none_left.value.message
        with pytest.raises(errors.PipelineError) as used:
            service.upload_session(early.session_id)
        assert (used.value.code, used.value.field) == ("pay179.session.used", "sessionID")
        assert service.process(early.session_id) is None  # a repeated background job is a no-op
        assert len(customs.uploads) == 1
        with pytest.raises(errors.PipelineError) as never:
            service.upload_again("NEVER-ASKED")
        assert never.value.code == "pay179.session.none"


def test_customs_retry_after_no_data_uploads_with_the_same_session(tmp_path: Path) -> None:
    catalogue = Catalogue()
    with platform_and_customs(tmp_path, sm2_signer(), catalogue) as (server, customs):
        customs.tell_order("SO-3")
        first = customs.open_request("SO-3")
        assert server.service.worker.wait_idle(WAIT)
        catalogue.known["SO-3"] = payment_data("SO-3")
        assert customs.open_request("SO-3", session_id=first.session_id).code == ANSWER_OK
        upload = customs.wait_upload(first.session_id, WAIT)
        assert upload is not None
        assert upload.accepted


def test_requests_recorded_before_a_crash_are_uploaded_on_the_next_start(tmp_path: Path) -> None:
    signer = sm2_signer()
    with Customs179(platform_certificate=signer.certificate) as customs:
        settings = config(tmp_path, signer, customs.upload_url)
        # A platform whose worker never runs: requests are recorded and answered, not uploaded.
        crashed = Pay179Service(settings, source=Catalogue("SO-1", "SO-2"))
        with LocalServer(crashed.wsgi_app()) as http:
            customs.platform_url = http.url + settings.endpoint_path
            customs.tell_order("SO-1")
            customs.tell_order("SO-2")
            sessions = [customs.open_request(order).session_id for order in ("SO-1", "SO-2")]
        crashed.close()
        assert customs.uploads == []
        with SqlitePay179Store(settings.store_path) as store:
            assert [r.session_id for r in store.requests_in(RequestStatus.RECEIVED)] == sessions
        server = serve(settings, source=Catalogue("SO-1", "SO-2"))
        try:
            for session in sessions:
                upload = customs.wait_upload(session, WAIT)
                assert upload is not None
                assert upload.accepted
            assert server.service.worker.wait_idle(WAIT)
            assert server.service.store.requests_in(RequestStatus.UPLOADED, limit=10)
        finally:
            server.stop()


def test_a_full_queue_answers_busy_and_customs_asking_again_is_served(tmp_path: Path) -> None:
    gate = Gate()
    source = Catalogue("SO-1", "SO-2", "SO-3")
    with platform_and_customs(tmp_path, sm2_signer(), source, on_upload=gate, workers=1, queue_size=1) as (
        server,
        customs,
    ):
        for order in ("SO-1", "SO-2", "SO-3"):
            customs.tell_order(order)
        assert customs.open_request("SO-1").code == ANSWER_OK
        assert gate.entered.wait(WAIT)  # the only worker is busy with SO-1
        assert customs.open_request("SO-2").code == ANSWER_OK  # queued
        busy = customs.open_request("SO-3")
        assert busy.code == ANSWER_BUSY
        request = server.service.store.get_request(busy.session_id)
        assert request is not None
        assert request.status is RequestStatus.RECEIVED  # recorded all the same
        gate.release.set()
        assert server.service.worker.wait_idle(WAIT)
        assert customs.open_request("SO-3", session_id=busy.session_id).code == ANSWER_OK
        upload = customs.wait_upload(busy.session_id, WAIT)
        assert upload is not None
        assert upload.accepted
        assert server.service.worker.wait_idle(WAIT)
        assert len(customs.uploads) == 3


def test_the_customs_timer_asks_for_every_order_it_is_told_about(tmp_path: Path) -> None:
    orders = [f"SO-T{n}" for n in range(4)]
    with platform_and_customs(tmp_path, sm2_signer(), Catalogue(*orders), auto_request=0.01) as (_, customs):
        for order in orders:
            customs.tell_order(order)
        results = customs.wait_results(len(orders), WAIT)
    assert sorted(r.exchange.order_no for r in results) == orders
    assert all(r.ok for r in results)


def test_concurrent_requests_are_each_uploaded_once(tmp_path: Path) -> None:
    orders = [f"SO-C{n}" for n in range(12)]
    with platform_and_customs(tmp_path, sm2_signer(), Catalogue(*orders), workers=3) as (server, customs):
        for order in orders:
            customs.tell_order(order)
        results: list[bool] = []
        threads = [
            threading.Thread(target=lambda o=order: results.append(customs.request_payment_data(o).ok))
            for order in orders
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=WAIT)
        assert server.service.worker.wait_idle(WAIT)
        assert results == [True] * len(orders)
        assert sorted(u.order_nos[0] for u in customs.uploads) == sorted(orders)


def test_serve_from_the_ledger_configured_by_name(tmp_path: Path) -> None:
    """config.ledger + raw exchanges in the 179 store: no code of the integrator's in the loop."""
    factory = DocumentFactory(seed=3)
    order = factory.order(items=1)
    order_no = order.head.order_no
    ledger_path = tmp_path / "ledger.db"
    ledger = SqliteLedger(ledger_path)
    for kind, payload in (
        (DocumentKind.ORDER, to_data(order)),
        (DocumentKind.PAYMENT, {"PaymentHead": to_data(factory.payment_for(order))}),
    ):
        ledger.submit(
            [
                NewDocument(
                    kind=kind,
                    business_key=order_no,
                    app_type="1",
                    guid=f"{kind.value}-1",
                    payload=json.dumps(payload, ensure_ascii=False).encode(),
                    order_no=order_no,
                )
            ]
        )
    ledger.close()
    signer = sm2_signer()
    with Customs179(platform_certificate=signer.certificate) as customs:
        settings = config(
            tmp_path,
            signer,
            customs.upload_url,
            store_path=str(ledger_path),
            ledger=str(ledger_path),
            item_link_template="https://shop.example.cn/item/{itemNo}",
        )
        with SqlitePay179Store(ledger_path) as store:
            store.put_raw_exchange(
                order_no,
                RawPaymentExchange(
                    inital_request="<xml>req</xml>",
                    inital_response="<xml>res</xml>",
                    ver_dept="3",
                    recp_account="A1",
                ),
            )
        server = serve(settings)
        try:
            customs.platform_url = server.url
            customs.tell_order(order_no)
            result = customs.request_payment_data(order_no, timeout=WAIT)
            assert result.ok
            assert result.upload is not None
            assert result.upload.verified is not None
            assert result.upload.verified.head["payTransactionId"] == order.head.pay_transaction_id
        finally:
            server.stop()
        # the manual re-send through the CLI function: refused, the one sessionID is used
        with pytest.raises(errors.PipelineError) as refused:
            upload_again(order_no, settings)
        assert refused.value.code == "pay179.session.none"
