"""Bodies just over each entry point's size limit, made at test time (10 MB files are not committed).

Every one is refused with a typed error or an error status, before it is parsed where the limit is a
byte count, and the HTTP shells refuse a too-long ``Content-Length`` without reading the body.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cbec_declare import errors
from cbec_declare._xml import DEFAULT_MAX_BYTES, parse_untrusted
from cbec_declare.envelope import parse_dxp_reply, unwrap
from cbec_declare.messages import parse
from cbec_declare.pay179 import make_wsgi_app as pay179_wsgi_app
from cbec_declare.pay179 import parse_reply
from cbec_declare.signing import verify, verify_payload
from cbec_declare.transport import PushProfile, make_wsgi_app, parse_mo
from cbec_declare.transport.node import parse_transfer_reply
from cbec_declare.transport.soap import extract_return
from cbec_declare.validation import validate
from hostile import make_corpus
from hostile.hostile_support import Bench, Guard

OVER = b"<r>" + b"x" * (DEFAULT_MAX_BYTES - 7 + 1) + b"</r>"  # DEFAULT_MAX_BYTES + 1 bytes
PUSH_LIMIT = PushProfile().max_body_bytes


@pytest.fixture(scope="module")
def guard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Guard]:
    guard = Guard(tmp_path_factory.mktemp("oversized"))
    yield guard
    guard.close()


@pytest.fixture
def bench(guard: Guard) -> Iterator[Bench]:
    bench = Bench(guard.work)
    yield bench
    bench.close()


class Unreadable(io.RawIOBase):
    """A request body that must not be read."""

    def read(self, size: int = -1) -> bytes:
        raise AssertionError("the body was read although Content-Length is over the limit")


def test_over_limit_is_one_byte_over() -> None:
    assert len(OVER) == DEFAULT_MAX_BYTES + 1


PARSERS: dict[str, Callable[[bytes], Any]] = {
    "parse_untrusted": parse_untrusted,
    "messages.parse": parse,
    "mo.parse_mo": parse_mo,
    "envelope.parse_dxp_reply": parse_dxp_reply,
    "soap.extract_return": extract_return,
    "signing.verify": verify,
    "validation.validate": validate,
}


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_xml_entry_points_refuse_one_byte_over_the_limit(name: str, guard: Guard) -> None:
    with guard.armed(), pytest.raises(errors.OversizedInputError) as caught:
        PARSERS[name](OVER)
    assert caught.value.code == "xml.oversized"
    assert str(DEFAULT_MAX_BYTES) in caught.value.message
    guard.assert_untouched([str(caught.value)])


def test_unwrap_refuses_an_envelope_over_twice_the_limit(guard: Guard) -> None:
    envelope = b"<r>" + b"x" * (2 * DEFAULT_MAX_BYTES) + b"</r>"
    with guard.armed(), pytest.raises(errors.OversizedInputError):
        unwrap(envelope)
    guard.assert_untouched([])


def test_unwrap_refuses_a_payload_over_the_limit(guard: Guard) -> None:
    """A Data of more than 10,000,000 characters is refused by libxml2's text-node limit (as malformed)
    before unwrap's own payload limit can look at it; either way a typed XmlError/EnvelopeError."""
    good = make_corpus.dxp(b"<x/>").decode()
    start, end = good.index("<dxp:Data>") + 10, good.index("</dxp:Data>")
    data = base64.b64encode(b"<a>" + b"x" * DEFAULT_MAX_BYTES + b"</a>").decode()
    with guard.armed(), pytest.raises((errors.XmlError, errors.EnvelopeError)) as caught:
        unwrap((good[:start] + data + good[end:]).encode())
    assert "too long" in caught.value.message or caught.value.code == "envelope.oversized"
    with pytest.raises(errors.EnvelopeError) as small_limit:
        unwrap(make_corpus.dxp(b"<x>" + b"y" * 2000 + b"</x>"), max_payload_bytes=1000)
    assert small_limit.value.code == "envelope.oversized"


def test_text_node_over_libxml2_limit_is_a_typed_error(guard: Guard) -> None:
    with guard.armed(), pytest.raises(errors.XmlError):
        parse_untrusted(b"<a>" + b"x" * 10_000_001 + b"</a>")


@pytest.mark.parametrize("command", ["validate", "receipt"])
def test_cli_refuses_an_oversized_file(command: str, bench: Bench, guard: Guard) -> None:
    with guard.armed():
        outcome = bench.cli(command, f"big-{command}.xml", OVER)
    assert outcome.exit == 1
    assert outcome.output["files"][0]["error"]["code"] == "xml.oversized"
    guard.assert_untouched(outcome.texts)


def test_receiver_refuses_a_body_over_its_limit(bench: Bench, guard: Guard) -> None:
    body = b"content=" + b"A" * (PUSH_LIMIT - 8 + 1)
    assert len(body) == PUSH_LIMIT + 1
    with guard.armed():
        response = bench.receiver.handle(body, "application/x-www-form-urlencoded")
    assert response.status == 400
    assert b"<errorCode>S12</errorCode>" in response.body
    assert bench.sink.events == []


def test_receiver_refuses_a_decrypted_content_over_its_limit(guard: Guard, bench: Bench) -> None:
    """Compressible plaintext cannot grow past the limit: AES-ECB does not compress, but the plaintext
    limit is checked anyway (here with a receiver whose plaintext limit is small)."""
    from cbec_declare.transport import MemorySeenStore, ReceiptReceiver

    small = ReceiptReceiver(
        aes_key=bench.keys.aes,
        platform_public_key=bench.keys.platform_public_pem(),
        sink=bench.sink,
        seen=MemorySeenStore(),
        profile=PushProfile(max_plaintext_bytes=100),
    )
    body = make_corpus.form(make_corpus.push_form(make_corpus.ceb312()))
    with guard.armed():
        response = small.handle(body, "application/x-www-form-urlencoded")
    assert response.status == 400
    assert b"S12" in response.body
    assert bench.sink.events == []


def _environ(length: str | None, body: io.RawIOBase) -> dict[str, Any]:
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/", "wsgi.input": body}
    environ["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
    if length is not None:
        environ["CONTENT_LENGTH"] = length
    return environ


def test_push_wsgi_refuses_a_long_content_length_without_reading(bench: Bench, guard: Guard) -> None:
    app = make_wsgi_app(bench.receiver)
    statuses: list[str] = []
    with guard.armed():
        body = b"".join(app(_environ(str(10 * 1024 * 1024), Unreadable()), lambda s, h: statuses.append(s)))
        chunked = b"".join(app(_environ(None, Unreadable()), lambda s, h: statuses.append(s)))
    assert statuses[0].startswith("400")
    assert b"S12" in body
    assert statuses[1].startswith("411")
    assert b"S12" in chunked
    assert bench.sink.events == []


def test_openreq_refuses_a_body_over_its_limit(bench: Bench, guard: Guard) -> None:
    limit = bench.pay179.max_body_bytes
    body = b"openReq=" + b"x" * (limit - 8 + 1)
    with guard.armed():
        answer = bench.pay179.handle_body(body)
    assert answer.status == 413
    assert json.loads(answer.body)["code"] == "20004"
    app = pay179_wsgi_app(bench.pay179)
    statuses: list[str] = []
    with guard.armed():
        raw = b"".join(app(_environ(str(10 * 1024 * 1024), Unreadable()), lambda s, h: statuses.append(s)))
    assert statuses == ["413 Payload Too Large"]
    assert json.loads(raw)["code"] == "20004"
    assert bench.recorded_requests() == 0


def test_json_entry_points_without_a_size_limit_still_answer_typed(guard: Guard, tmp_path: Path) -> None:
    """verify_payload, parse_reply and parse_transfer_reply take what their callers already limited
    (the upload reply is read up to 64 KiB, the node answer up to 10 MiB); ten megabytes of junk
    still gets a typed answer, in linear time."""
    junk = '{"sessionID":"' + "a" * DEFAULT_MAX_BYTES + '"}'
    with guard.armed():
        with pytest.raises(errors.SignatureStructureError):
            verify_payload(junk, certificate=make_corpus.keys().signer_cert, now=make_corpus.NOW)
        with pytest.raises(errors.RemoteRejected):
            parse_reply(b"x" * DEFAULT_MAX_BYTES)
        reply = parse_transfer_reply("y" * DEFAULT_MAX_BYTES)
    assert reply.accepted is False
    guard.assert_untouched([])
