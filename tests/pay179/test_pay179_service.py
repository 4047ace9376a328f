"""The service's decisions when nothing can be sent (no data, invalid data, a failing source or
signer): the sessionID stays unused and the reason is recorded; and the bounded worker itself."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from cbec_declare import errors
from cbec_declare.pay179 import Outcome, Pay179Service, PaymentData, RequestStatus, UploadWorker
from cbec_declare.signing import SignatureAlgorithm
from pay179.pay179_support import WAIT, Catalogue, config, payment_data, sm2_signer

GOOD = '{"orderNo":"SO-1","sessionID":"SID-1","serviceTime":1533271903898}'


class BrokenSigner:
    """A signer whose token is gone."""

    algorithm = SignatureAlgorithm.SM2_SM3
    certificate = sm2_signer().certificate
    key_name = sm2_signer().key_name

    def sign(self, data: bytes) -> bytes:
        raise errors.SignerUnavailable("the card client is not running", code="sign.unavailable.eport")


def service_with(tmp_path: Path, source: object, *, signer: object = None) -> Pay179Service:
    # Nothing here reaches the upload URL: every case stops before sending.
    settings = config(tmp_path, signer or sm2_signer(), "http://127.0.0.1:9/never")  # type: ignore[arg-type]
    svc = Pay179Service(settings, source=source)  # type: ignore[arg-type]
    assert svc.handle_open_req(GOOD).code == "10000"
    return svc


def raising_source(order_no: str) -> PaymentData | None:
    raise RuntimeError("database down")


def invalid_source(order_no: str) -> PaymentData | None:
    raise errors.ModelError("payTime missing", code="pay179.data.missing", field="PaymentHead/payTime")


@pytest.mark.parametrize(
    ("source", "signer", "outcome", "code"),
    [
        (Catalogue(), None, Outcome.NO_DATA, "pay179.data.none"),
        (raising_source, None, Outcome.NO_DATA, "pay179.data.source"),
        (invalid_source, None, Outcome.INVALID, "pay179.data.missing"),
        (lambda order_no: payment_data("SOMEONE-ELSE"), None, Outcome.INVALID, "pay179.data.order-mismatch"),
        (lambda order_no: {"orderNo": order_no}, None, Outcome.INVALID, "pay179.data.type"),
        (Catalogue("SO-1"), BrokenSigner(), Outcome.SIGN_FAILED, "sign.unavailable.eport"),
    ],
    ids=["unknown", "source-fails", "invalid", "other-order", "not-payment-data", "signer-down"],
)
def test_nothing_sent_leaves_the_session_unused_with_the_reason(
    tmp_path: Path, source: object, signer: object, outcome: Outcome, code: str
) -> None:
    with service_with(tmp_path, source, signer=signer) as svc:
        result = svc.process("SID-1")
        assert result is not None
        assert (result.outcome, result.error_code, result.attempts) == (outcome, code, 0)
        request = svc.store.get_request("SID-1")
        assert request is not None
        assert request.status is outcome.request_status
        assert not request.status.session_used
        assert request.reason.startswith(code)
        assert svc.store.get_upload("SID-1") is None


def test_an_unknown_session_is_a_typed_error(tmp_path: Path) -> None:
    with service_with(tmp_path, Catalogue()) as svc, pytest.raises(errors.PipelineError) as caught:
        svc.upload_session("SID-NEVER")
    assert caught.value.code == "pay179.session.unknown"


def test_the_worker_survives_failing_jobs_and_waits_boundedly() -> None:
    release = threading.Event()
    started = threading.Event()
    done: list[str] = []

    def job(session_id: str) -> None:
        if session_id == "boom":
            raise RuntimeError("a bug")
        started.set()
        assert release.wait(WAIT)
        done.append(session_id)

    worker = UploadWorker(job, threads=1, queue_size=2).start()
    try:
        assert worker.submit("boom")
        assert worker.wait_idle(WAIT)  # the failing job is over, logged
        assert worker.submit("a")
        assert started.wait(WAIT)  # the one thread survived "boom" and runs "a"
        assert worker.submit("b")
        assert worker.submit("c")
        assert not worker.submit("d")  # two waiting: full
        assert not worker.wait_idle(0.01)  # "a" is held: not idle
        release.set()
        assert worker.wait_idle(WAIT)
        assert done == ["a", "b", "c"]
    finally:
        release.set()
        worker.stop()
    assert not worker.submit("e")  # stopped: refuses
    with pytest.raises(errors.ConfigError):
        UploadWorker(job, threads=0)


def test_stopping_drops_queued_jobs_which_resume_from_the_store(tmp_path: Path) -> None:
    with service_with(tmp_path, Catalogue()) as svc:
        assert svc.worker.pending == 1  # queued by handle_open_req, never run (not started)
        svc.stop()
        assert svc.worker.pending == 0
        request = svc.store.get_request("SID-1")
        assert request is not None
        assert request.status is RequestStatus.RECEIVED
        assert [r.session_id for r in svc.store.requests_in(RequestStatus.RECEIVED)] == ["SID-1"]
