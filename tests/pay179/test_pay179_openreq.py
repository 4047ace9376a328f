"""customs' openReq: parsing (escaped and not), the answer codes, and that a malformed request is
never recorded — checked on the parser, on the handler with a real SQLite store, and over HTTP."""

from __future__ import annotations

import html
import json
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from cbec_declare import errors
from cbec_declare.pay179 import (
    ANSWER_BAD_FIELD,
    ANSWER_BAD_JSON,
    ANSWER_CODES,
    ANSWER_FAILED,
    ANSWER_METHOD,
    ANSWER_NO_OPENREQ,
    ANSWER_OK,
    ANSWER_TOO_LARGE,
    Pay179Service,
    parse_open_req,
    parse_open_req_form,
    serve,
)
from pay179.pay179_support import Catalogue, config, sm2_signer

GOOD = '{"orderNo":"SO-1","sessionID":"SID-1","serviceTime":1533271903898}'


def form(text: str) -> bytes:
    return urlencode({"openReq": text}).encode()


def recorded(path: Path) -> int:
    """Requests in the store file, read with plain sqlite3 (the durable truth)."""
    with sqlite3.connect(path) as conn:
        count: int = conn.execute("SELECT count(*) FROM pay179_requests").fetchone()[0]
    conn.close()
    return count


def test_plain_and_html_escaped_openreq_parse_the_same() -> None:
    plain = parse_open_req(GOOD)
    escaped = parse_open_req(html.escape(GOOD))
    assert "&quot;" in html.escape(GOOD)
    for request in (plain, escaped):
        assert (request.order_no, request.session_id, request.service_time) == (
            "SO-1",
            "SID-1",
            1533271903898,
        )
    assert escaped.raw == GOOD  # what is kept is the unescaped JSON


def test_service_time_may_be_digits_in_a_string() -> None:
    assert parse_open_req(GOOD.replace("1533271903898", '"1533271903898"')).service_time == 1533271903898


def test_valid_json_is_never_unescaped() -> None:
    # "&amp;" inside a valid value is data, not an escape: only unparsable text is unescaped.
    request = parse_open_req('{"orderNo":"A&amp;B","sessionID":"S","serviceTime":1}')
    assert request.order_no == "A&amp;B"


MALFORMED = [
    ("", ANSWER_NO_OPENREQ, "openReq"),
    ("   ", ANSWER_NO_OPENREQ, "openReq"),
    ("orderNo=SO-1", ANSWER_BAD_JSON, "openReq"),
    ('{"orderNo":"SO-1",', ANSWER_BAD_JSON, "openReq"),
    ("[1, 2]", ANSWER_BAD_JSON, "openReq"),
    ('"SO-1"', ANSWER_BAD_JSON, "openReq"),
    ('{"orderNo":"A","orderNo":"B","sessionID":"S","serviceTime":1}', ANSWER_BAD_JSON, "openReq"),
    ("{&quot;orderNo&quot;:&quot;SO-1&quot;,", ANSWER_BAD_JSON, "openReq"),
    ('{"orderNo":"SO-1","sessionID":"SID-1"}', ANSWER_BAD_FIELD, "serviceTime"),
    ("{&quot;orderNo&quot;:&quot;SO-1&quot;}", ANSWER_BAD_FIELD, "sessionID"),
    ('{"sessionID":"S","serviceTime":1}', ANSWER_BAD_FIELD, "orderNo"),
    ('{"orderNo":12345,"sessionID":"S","serviceTime":1}', ANSWER_BAD_FIELD, "orderNo"),
    ('{"orderNo":"","sessionID":"S","serviceTime":1}', ANSWER_BAD_FIELD, "orderNo"),
    ('{"orderNo":"' + "9" * 61 + '","sessionID":"S","serviceTime":1}', ANSWER_BAD_FIELD, "orderNo"),
    ('{"orderNo":"SO","sessionID":null,"serviceTime":1}', ANSWER_BAD_FIELD, "sessionID"),
    ('{"orderNo":"SO","sessionID":"a\\"b","serviceTime":1}', ANSWER_BAD_FIELD, "sessionID"),
    ('{"orderNo":"SO","sessionID":"a\\nb","serviceTime":1}', ANSWER_BAD_FIELD, "sessionID"),
    ('{"orderNo":"SO","sessionID":"S","serviceTime":true}', ANSWER_BAD_FIELD, "serviceTime"),
    ('{"orderNo":"SO","sessionID":"S","serviceTime":1.5}', ANSWER_BAD_FIELD, "serviceTime"),
    ('{"orderNo":"SO","sessionID":"S","serviceTime":"12a"}', ANSWER_BAD_FIELD, "serviceTime"),
    ('{"orderNo":"SO","sessionID":"S","serviceTime":-1}', ANSWER_BAD_FIELD, "serviceTime"),
    ('{"orderNo":"SO","sessionID":"S","serviceTime":"١٢"}', ANSWER_BAD_FIELD, "serviceTime"),
]


@pytest.mark.parametrize(("text", "answer", "field"), MALFORMED)
def test_malformed_openreq_is_refused_with_the_answer_code_and_field(
    text: str, answer: str, field: str
) -> None:
    with pytest.raises(errors.ModelError) as caught:
        parse_open_req(text)
    assert caught.value.context["answer_code"] == answer
    assert caught.value.field == field
    assert caught.value.code.startswith("pay179.openreq.")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"openreq=" + form(GOOD)[8:],  # field names are case-sensitive
        form(GOOD) + b"&" + form(GOOD),  # given twice: which one would be the request?
        b"openReq=%FF%FE",  # not UTF-8 once decoded
        b"\xff\xfe",
    ],
    ids=["empty", "wrong-name", "twice", "bad-percent-utf8", "bad-utf8"],
)
def test_form_without_exactly_one_openreq_is_refused(body: bytes) -> None:
    with pytest.raises(errors.ModelError) as caught:
        parse_open_req_form(body)
    assert caught.value.context["answer_code"] == ANSWER_NO_OPENREQ


def test_form_with_other_fields_and_an_escaped_openreq_parses() -> None:
    body = urlencode({"x": "1", "openReq": html.escape(GOOD)}).encode()
    assert parse_open_req_form(body).session_id == "SID-1"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_either_a_request_or_a_documented_refusal(text: str) -> None:
    answer: object = None
    try:
        request = parse_open_req(text)
    except errors.ModelError as exc:
        answer = exc.context["answer_code"]
    else:
        assert request.order_no.strip()
        assert request.session_id.strip()
        assert request.service_time > 0
        answer = ANSWER_OK
    assert answer in ANSWER_CODES


@settings(max_examples=200, deadline=None)
@given(
    order_no=st.text(
        st.characters(min_codepoint=0x20, exclude_characters='"\\\x7f'), min_size=1, max_size=60
    ),
    session_id=st.text(
        st.characters(min_codepoint=0x20, exclude_characters='"\\\x7f'), min_size=1, max_size=100
    ),
    service_time=st.integers(1, 10**14 - 1),
    escape=st.booleans(),
)
def test_every_valid_request_parses_back_escaped_or_not(
    order_no: str, session_id: str, service_time: int, escape: bool
) -> None:
    text = json.dumps({"orderNo": order_no, "sessionID": session_id, "serviceTime": service_time})
    if not order_no.strip() or not session_id.strip():
        return  # blank identifiers are refused; covered above
    request = parse_open_req_form(form(html.escape(text) if escape else text))
    assert (request.order_no, request.session_id, request.service_time) == (
        order_no,
        session_id,
        service_time,
    )


# -- the handler with a real store: nothing malformed is recorded ---------------------------------


@pytest.fixture
def service(tmp_path: Path) -> Any:
    # Never started: the worker does not run, so these tests look at the answer and the store only.
    with Pay179Service(
        config(tmp_path, sm2_signer(), "http://127.0.0.1:9/unused"), source=Catalogue("SO-1")
    ) as svc:
        yield svc


@pytest.mark.parametrize(("text", "answer", "field"), MALFORMED)
def test_handler_answers_malformed_requests_and_records_nothing(
    service: Pay179Service, tmp_path: Path, text: str, answer: str, field: str
) -> None:
    reply = service.handle_body(form(text))
    data = json.loads(reply.body)
    assert list(data) == ["code", "message", "serviceTime"]
    assert (reply.status, data["code"]) == (200, answer)
    assert field in data["message"]
    assert recorded(tmp_path / "pay179.db") == 0
    assert service.worker.pending == 0


def test_handler_answers_10000_and_records_a_valid_request(service: Pay179Service, tmp_path: Path) -> None:
    for body in (form(GOOD), form(html.escape(GOOD))):
        reply = service.handle_body(body)
        data = json.loads(reply.body)
        assert data["code"] == ANSWER_OK
        assert data["message"] == ""
        assert isinstance(data["serviceTime"], int)
    record = service.store.get_request("SID-1")
    assert record is not None
    assert (record.order_no, record.duplicates, record.open_req) == ("SO-1", 1, GOOD)
    assert recorded(tmp_path / "pay179.db") == 1


def test_handler_refuses_other_methods_and_oversized_bodies(service: Pay179Service, tmp_path: Path) -> None:
    assert service.handle_body(form(GOOD), method="GET").code == ANSWER_METHOD
    big = form(GOOD) + b"&pad=" + b"x" * service.max_body_bytes
    reply = service.handle_body(big)
    assert (reply.status, reply.code) == (413, ANSWER_TOO_LARGE)
    assert recorded(tmp_path / "pay179.db") == 0


def test_handle_open_req_serves_frameworks_that_parse_the_form(service: Pay179Service) -> None:
    assert service.handle_open_req(html.escape(GOOD)).code == ANSWER_OK
    assert service.handle_open_req("{").code == ANSWER_BAD_JSON


# -- over HTTP ---------------------------------------------------------------------------------------


def test_over_http_malformed_escaped_and_unescaped_are_refused_and_not_recorded(tmp_path: Path) -> None:
    server = serve(config(tmp_path, sm2_signer(), "http://127.0.0.1:9/unused"), source=Catalogue())
    try:
        with requests.Session() as http:

            def post(body: bytes, **kwargs: Any) -> requests.Response:
                return http.post(
                    server.url,
                    data=body,
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                    timeout=10,
                    **kwargs,
                )

            bad_plain = '{"orderNo":"SO-1","sessionID":"SID-1"}'
            for body, answer in (
                (form("not json"), ANSWER_BAD_JSON),
                (form(html.escape("not json")), ANSWER_BAD_JSON),
                (form(bad_plain), ANSWER_BAD_FIELD),
                (form(html.escape(bad_plain)), ANSWER_BAD_FIELD),
                (b"", ANSWER_NO_OPENREQ),
            ):
                response = post(body)
                assert response.status_code == 200
                assert response.headers["Content-Type"].startswith("application/json")
                assert response.json()["code"] == answer
            oversized = post(b"openReq=" + b"x" * (server.service.max_body_bytes + 1))
            assert (oversized.status_code, oversized.json()["code"]) == (413, ANSWER_TOO_LARGE)
            wrong_method = http.get(server.url, timeout=10)
            assert (wrong_method.status_code, wrong_method.json()["code"]) == (405, ANSWER_METHOD)
            assert http.post(server.url + "/other", data=form(GOOD), timeout=10).status_code == 404
        assert recorded(tmp_path / "pay179.db") == 0
    finally:
        server.stop()


def test_a_store_failure_answers_20000(service: Pay179Service) -> None:
    service.store.close()
    reply = service.handle_body(form(GOOD))
    assert reply.code == ANSWER_FAILED
    assert service.worker.pending == 0
