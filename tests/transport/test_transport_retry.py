"""Retries against real misbehaving servers: what is retried, with which bytes, and for how long."""

from __future__ import annotations

import base64
import logging
import os
import time
from collections.abc import Iterator

import pytest

from cbec_declare import errors
from cbec_declare.sandbox import EnterpriseAccount, Fault, PlatformServer
from cbec_declare.transport import PlatformClient, RetryPolicy
from transport.transport_support import HANGZHOU, pkcs8_base64, rsa_key

SEND_CODE = "3301961Q43"
ORDER_XML = (HANGZHOU / "mo_IMPORTORDER_request.xml").read_bytes()
FAST = RetryPolicy(attempts=5, deadline=30, backoff=0.01, max_backoff=0.05, jitter=0.01)


@pytest.fixture
def platform() -> Iterator[PlatformServer]:
    with PlatformServer() as server:
        yield server


def _client(
    platform: PlatformServer, retry: RetryPolicy, **profile: object
) -> tuple[PlatformClient, bytes, str]:
    key = rsa_key(512)
    aes = os.urandom(16)
    platform.add_account(EnterpriseAccount(SEND_CODE, aes, key.public_key()))
    private = pkcs8_base64(key)
    client = PlatformClient.from_keys(
        platform.profile(**profile), send_code=SEND_CODE, aes_key=aes, private_key=private, retry=retry
    )
    return client, aes, private


def test_503_503_200_takes_three_attempts_with_identical_bodies(platform: PlatformServer) -> None:
    platform.faults.add(Fault.status(503), Fault.status(503))
    client, _, _ = _client(platform, FAST)
    with client:
        result = client.send(ORDER_XML)
    assert result.accepted
    bodies = [r.body for r in platform.server.requests]
    assert len(bodies) == 3
    assert len(set(bodies)) == 1  # the same ciphertext and digest: never a second declaration
    assert len(platform.submissions) == 1


def test_400_is_not_retried(platform: PlatformServer) -> None:
    platform.faults.add(Fault.status(400, b"bad request"))
    client, _, _ = _client(platform, FAST)
    with client, pytest.raises(errors.RemoteRejected) as caught:
        client.send(ORDER_XML)
    assert caught.value.context["status"] == 400
    assert len(platform.server.requests) == 1


def test_a_soap_fault_is_not_retried(platform: PlatformServer) -> None:
    from cbec_declare.transport.soap import build_fault

    platform.faults.add(Fault.status(500, build_fault("soap:Server", "java.lang.IllegalStateException")))
    client, _, _ = _client(platform, FAST)
    with client, pytest.raises(errors.RemoteRejected, match="IllegalStateException"):
        client.send(ORDER_XML)
    assert len(platform.server.requests) == 1


def test_dropped_connections_are_retried(platform: PlatformServer) -> None:
    platform.faults.add(Fault.drop(), Fault.drop())
    client, _, _ = _client(platform, FAST)
    with client:
        assert client.send(ORDER_XML).accepted
    assert len(platform.server.requests) == 3


def test_attempts_are_bounded(platform: PlatformServer) -> None:
    platform.faults.default = Fault.status(503)
    client, _, _ = _client(
        platform, RetryPolicy(attempts=3, deadline=30, backoff=0.01, max_backoff=0.01, jitter=0)
    )
    with client, pytest.raises(errors.RemoteServerError):
        client.send(ORDER_XML)
    assert len(platform.server.requests) == 3


def test_a_server_that_never_answers_hits_the_deadline(platform: PlatformServer) -> None:
    platform.faults.default = Fault.hang()
    # Without the deadline this would take attempts × read_timeout = 10 × 60 s.
    retry = RetryPolicy(attempts=10, deadline=1.5, backoff=0.05, max_backoff=0.1, jitter=0)
    client, _, _ = _client(platform, retry, read_timeout=60.0)
    started = time.monotonic()
    with client, pytest.raises(errors.TransportTimeout):
        client.send(ORDER_XML)
    elapsed = time.monotonic() - started
    assert elapsed < 20, "the deadline did not bound the call"
    assert 1 <= len(platform.server.requests) < 10


def test_delays_within_the_timeout_succeed(platform: PlatformServer) -> None:
    platform.faults.add(Fault.delay(0.2))
    client, _, _ = _client(platform, RetryPolicy.none(deadline=10))
    with client:
        assert client.send(ORDER_XML).accepted


def test_logs_carry_no_secrets(platform: PlatformServer, caplog: pytest.LogCaptureFixture) -> None:
    platform.faults.add(Fault.status(503), Fault.drop())
    client, aes, private = _client(platform, FAST)
    caplog.set_level(logging.DEBUG, logger="cbec_declare")
    with client:
        assert client.send(ORDER_XML).accepted
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "attempt 1/5 failed" in text
    assert "attempt 2/5 failed" in text
    assert base64.b64encode(aes).decode() not in text
    assert aes.hex() not in text
    assert private[20:60] not in text
    assert "loujianhua" not in text
    assert "23458-9503285382434" not in text
    assert ORDER_XML.decode()[60:120] not in text


def test_retry_predicate() -> None:
    assert RetryPolicy.should_retry(errors.ConnectError("x"))
    assert RetryPolicy.should_retry(errors.TransportTimeout("x"))
    assert RetryPolicy.should_retry(errors.RemoteServerError("x"))
    assert not RetryPolicy.should_retry(errors.RemoteRejected("x"))
    assert not RetryPolicy.should_retry(errors.ConnectError("x", code="transport.connect.tls"))
    assert not RetryPolicy.should_retry(errors.ReceiptError("x"))
    assert not RetryPolicy.should_retry(ValueError("x"))


def test_policy_call_counts_and_budget() -> None:
    seen: list[float] = []

    def flaky(left: float) -> str:
        seen.append(left)
        if len(seen) < 3:
            raise errors.ConnectError("refused")
        return "ok"

    assert FAST.call(flaky, what="t") == "ok"
    assert len(seen) == 3
    assert seen[0] >= seen[1] >= seen[2] > 0


@pytest.mark.parametrize("settings", [{"attempts": 0}, {"deadline": 0}, {"backoff": -1}, {"jitter": -0.1}])
def test_policy_validation(settings: dict[str, float]) -> None:
    with pytest.raises(errors.ConfigError):
        RetryPolicy(**settings)  # type: ignore[arg-type]
