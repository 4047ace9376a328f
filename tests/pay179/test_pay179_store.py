"""The SQLite 179 store: durable, one upload per sessionID across threads and store instances."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest

from cbec_declare import errors
from cbec_declare.pay179 import (
    OpenRequest,
    Outcome,
    RawPaymentExchange,
    ReplyKind,
    RequestStatus,
    SqlitePay179Store,
    UploadOutcome,
    UploadReply,
)
from cbec_declare.pipeline.sqlite_ledger import SqliteLedger


def request(session_id: str = "SID-1", order_no: str = "SO-1") -> OpenRequest:
    raw = f'{{"orderNo":"{order_no}","sessionID":"{session_id}","serviceTime":1533271903898}}'
    return OpenRequest(order_no=order_no, session_id=session_id, service_time=1533271903898, raw=raw)


@pytest.fixture
def store(tmp_path: Path) -> SqlitePay179Store:
    with SqlitePay179Store(tmp_path / "pay179.db") as opened:
        yield opened


def test_a_request_is_recorded_once_and_repeats_are_counted(store: SqlitePay179Store) -> None:
    first, created = store.record_request(request())
    assert created
    assert (first.status, first.duplicates) == (RequestStatus.RECEIVED, 0)
    again, created = store.record_request(request())
    assert not created
    assert again.duplicates == 1
    other, created = store.record_request(request(order_no="SO-2"))
    assert not created
    assert other.order_no == "SO-1"  # the first order stays; the caller sees the conflict
    assert other.duplicates == 1
    assert [r.session_id for r in store.requests_for_order("SO-1")] == ["SID-1"]
    assert store.requests_for_order("SO-2") == []


def test_everything_survives_closing_and_reopening(tmp_path: Path) -> None:
    path = tmp_path / "pay179.db"
    with SqlitePay179Store(path) as store:
        store.record_request(request())
        upload_id = store.claim_upload("SID-1", '{"payload":1}')
        reply = UploadReply(code="10000", message="上传成功", kind=ReplyKind.OK, raw='{"code":"10000"}')
        store.finish_upload(
            upload_id,
            UploadOutcome(
                session_id="SID-1", order_no="SO-1", outcome=Outcome.UPLOADED, attempts=2, reply=reply
            ),
        )
    with SqlitePay179Store(path) as reopened:
        record = reopened.get_request("SID-1")
        upload = reopened.get_upload("SID-1")
    assert record is not None
    assert upload is not None
    assert (record.status, record.reason) == (RequestStatus.UPLOADED, "10000 上传成功")
    assert (upload.status, upload.attempts, upload.reply_code, upload.payload) == (
        RequestStatus.UPLOADED,
        2,
        "10000",
        '{"payload":1}',
    )
    assert upload.finished_at is not None


def test_a_session_is_claimed_once_even_from_another_store_on_the_same_file(
    store: SqlitePay179Store, tmp_path: Path
) -> None:
    store.record_request(request())
    store.claim_upload("SID-1", "p1")
    with pytest.raises(errors.PipelineError) as caught:
        store.claim_upload("SID-1", "p2")
    assert (caught.value.code, caught.value.field) == ("pay179.session.used", "sessionID")
    with SqlitePay179Store(tmp_path / "pay179.db") as second, pytest.raises(errors.PipelineError) as caught:
        second.claim_upload("SID-1", "p3")
    assert caught.value.code == "pay179.session.used"
    assert store.get_upload("SID-1").payload == "p1"  # type: ignore[union-attr]


def test_concurrent_claims_have_exactly_one_winner(tmp_path: Path) -> None:
    path = tmp_path / "pay179.db"
    stores = [SqlitePay179Store(path) for _ in range(2)]
    stores[0].record_request(request())
    barrier = threading.Barrier(8, timeout=10)
    won: list[int] = []
    refused: list[str] = []

    def claim(n: int) -> None:
        barrier.wait()
        try:
            won.append(stores[n % 2].claim_upload("SID-1", f"payload {n}"))
        except errors.PipelineError as exc:
            refused.append(exc.code)

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    for opened in stores:
        opened.close()
    assert len(won) == 1
    assert refused == ["pay179.session.used"] * 7


def test_unknown_sessions_and_used_sessions_cannot_be_marked(store: SqlitePay179Store) -> None:
    with pytest.raises(errors.PipelineError) as caught:
        store.claim_upload("nope", "p")
    assert caught.value.code == "pay179.session.unknown"
    with pytest.raises(errors.PipelineError):
        store.mark_request("nope", RequestStatus.NO_DATA)
    store.record_request(request())
    store.mark_request("SID-1", RequestStatus.NO_DATA, "pay179.data.none: unknown order")
    assert store.requests_in(RequestStatus.NO_DATA)[0].reason.startswith("pay179.data.none")
    with pytest.raises(errors.LedgerError) as refused:
        store.mark_request("SID-1", RequestStatus.UPLOADED)
    assert refused.value.code == "pay179.store.status"
    store.claim_upload("SID-1", "p")
    with pytest.raises(errors.PipelineError) as caught:
        store.mark_request("SID-1", RequestStatus.INVALID)
    assert caught.value.code == "pay179.session.used"


def test_failed_uploads_keep_the_error(store: SqlitePay179Store) -> None:
    store.record_request(request())
    upload_id = store.claim_upload("SID-1", "p")
    store.finish_upload(
        upload_id,
        UploadOutcome(
            session_id="SID-1",
            order_no="SO-1",
            outcome=Outcome.FAILED,
            attempts=4,
            error_code="transport.server.http",
            error_message="179 upload: HTTP 503",
        ),
    )
    upload = store.uploads_for_order("SO-1")[0]
    assert (upload.status, upload.attempts, upload.error_code, upload.reply_code) == (
        RequestStatus.FAILED,
        4,
        "transport.server.http",
        None,
    )
    assert store.get_request("SID-1").status is RequestStatus.FAILED  # type: ignore[union-attr]
    with pytest.raises(errors.LedgerError):
        store.finish_upload(999, UploadOutcome(session_id="x", order_no="y", outcome=Outcome.FAILED))


def test_raw_exchanges_round_trip_and_are_replaced(store: SqlitePay179Store) -> None:
    assert store.raw_exchange("SO-1") is None
    raw = RawPaymentExchange(
        inital_request="<xml>请求</xml>",
        inital_response="<xml>应答</xml>",
        ver_dept="3",
        pay_type="4",
        recp_account="6222",
        item_links={"SKU1": "https://shop.example.cn/1"},
    )
    store.put_raw_exchange("SO-1", raw)
    assert store.raw_exchange("SO-1") == raw
    changed = RawPaymentExchange(inital_request="a", inital_response="b", ver_dept="1", recp_account="x")
    store.put_raw_exchange("SO-1", changed)
    assert store.raw_exchange("SO-1") == changed


def test_the_tables_live_beside_the_ledger_in_its_file(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    ledger = SqliteLedger(path)
    try:
        with SqlitePay179Store(path) as store:
            store.record_request(request())
            assert store.get_request("SID-1") is not None
        assert ledger.find(limit=5) == []  # the ledger still reads its own tables
    finally:
        ledger.close()
    reopened = SqliteLedger(path)  # and reopens (migrations see no stranger) ...
    reopened.close()
    with SqlitePay179Store(path) as again:  # ... as does the store
        assert again.get_request("SID-1") is not None


def test_closed_store_and_naive_times_are_errors(tmp_path: Path) -> None:
    store = SqlitePay179Store(tmp_path / "pay179.db")
    with pytest.raises(errors.LedgerError) as naive:
        store.record_request(request(), now=datetime(2024, 1, 1))  # naive on purpose
    assert naive.value.code == "pay179.store.naive-time"
    store.record_request(request(), now=datetime(2024, 1, 1, tzinfo=timezone.utc))
    store.close()
    with pytest.raises(errors.LedgerError) as closed:
        store.get_request("SID-1")
    assert closed.value.code == "pay179.store.closed"
