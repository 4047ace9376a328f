"""Seeded fault injection: request faults on §2.2 and §2.3, push faults and push retries on §2.1."""

from __future__ import annotations

import collections
import logging
import math
import time
from collections.abc import Callable

import attrs
import pytest

from cbec_declare.errors import ConnectError, RemoteServerError, TransportTimeout
from cbec_declare.models import new_guid
from cbec_declare.sandbox import Fault, FaultRule, Faults, LocalServer, RecordedRequest
from cbec_declare.sandbox.config import BusinessConfig, ChannelFaults, FaultConfig, PushConfig, PushFaults
from cbec_declare.sandbox.credentials import SandboxCredentials
from cbec_declare.sandbox.sandbox import Counters, Sandbox
from cbec_declare.testing.factories import DocumentFactory
from cbec_declare.transport import RetryPolicy, import_order_from_ceb
from sandbox.test_sandbox_support import Collector, fast, inventories, orders, running, send_node, signed

RATES = ChannelFaults(
    drop_rate=0.1, error_rate=0.1, timeout_rate=0.05, slow_rate=0.1, slow_seconds=(5.0, 20.0)
)  # slow: 5-20 ms at time_scale 0.001, well inside the client's read timeout
#: long enough that a loaded machine never turns a normal answer into a timeout; a hang costs this much
READ_TIMEOUT = 1.0
OUTCOME = {"none": "ok", "slow": "ok", "drop": "drop", "error": "error", "timeout": "timeout"}


def _outcome(call: Callable[[], object]) -> str:
    try:
        call()
    except ConnectError:
        return "drop"
    except RemoteServerError:
        return "error"
    except TransportTimeout:
        return "timeout"
    return "ok"


def _platform_calls(credentials: SandboxCredentials, count: int) -> list[str]:
    order = import_order_from_ceb(DocumentFactory(seed=1).order(), company_code=credentials.send_code)
    profile = credentials.platform_profile(read_timeout=READ_TIMEOUT)
    with credentials.platform_client(profile=profile, retry=RetryPolicy.none()) as client:
        return [_outcome(lambda: client.send(order)) for _ in range(count)]


def _node_calls(credentials: SandboxCredentials, count: int) -> list[str]:
    def one() -> None:
        _, reply = send_node(credentials, b"<x/>", read_timeout=READ_TIMEOUT)
        assert reply.accepted

    return [_outcome(one) for _ in range(count)]


CALLS = {"platform": _platform_calls, "node": _node_calls}


def test_fault_draws_follow_the_configured_rates() -> None:
    counters = Counters()
    rule = FaultRule("node", RATES, seed=5, time_scale=0.001, counters=counters)
    request = RecordedRequest("POST", "/", "", {}, b"")
    count = 20_000
    for _ in range(count):
        rule(request)
    drawn = collections.Counter(rule.kinds())
    for kind, rate in (("drop", 0.1), ("error", 0.1), ("timeout", 0.05), ("slow", 0.1)):
        tolerance = 4 * math.sqrt(rate * (1 - rate) / count)  # four standard deviations
        assert abs(drawn[kind] / count - rate) < tolerance, (kind, drawn)
        assert counters.snapshot()[f"faults.node.{kind}"] == drawn[kind]
    assert drawn["none"] == count - sum(drawn[k] for k in ("drop", "error", "timeout", "slow"))


@pytest.mark.parametrize("channel", ["platform", "node"])
def test_request_faults_reach_the_client_exactly_as_drawn(channel: str) -> None:
    faults = FaultConfig(**{channel: RATES})
    count = 100
    with Sandbox(fast(seed=5, faults=faults)) as sandbox:
        seen = CALLS[channel](sandbox.credentials, count)
        history = sandbox.fault_history(channel)
        stats = sandbox.stats()
    # every fault the sandbox drew is what the client went through, request by request
    assert seen == [OUTCOME[kind] for kind in history]
    drawn = collections.Counter(history)
    assert {"drop", "error", "timeout", "slow", "none"} == set(drawn)
    assert {kind: n for kind, n in drawn.items() if kind != "none"} == {
        key.split(".", 1)[1]: n for key, n in stats.faults.items()
    }
    for kind, rate in (("drop", 0.1), ("error", 0.1), ("slow", 0.1)):
        assert abs(drawn[kind] / count - rate) < 4 * math.sqrt(rate * (1 - rate) / count), (kind, drawn)


def test_the_same_seed_gives_the_same_fault_sequence() -> None:
    faults = FaultConfig(node=ChannelFaults(drop_rate=0.2, error_rate=0.2, slow_rate=0.2, slow_seconds=1.0))

    def sequence(seed: int) -> tuple[str, ...]:
        with Sandbox(fast(seed=seed, faults=faults)) as sandbox:
            _node_calls(sandbox.credentials, 40)
            return sandbox.fault_history("node")

    first, again, other = sequence(21), sequence(21), sequence(22)
    assert len(first) == 40
    assert first == again
    assert first != other
    assert len(set(first)) == 4  # drop, error, slow and none all occur


def test_a_late_answer_is_still_processed_and_the_retry_is_a_duplicate() -> None:
    faults = FaultConfig(node=ChannelFaults(timeout_rate=1.0, timeout_mode="late", late_seconds=0.3))
    data = signed(orders(1))
    with Sandbox(fast(faults=faults)) as sandbox:
        cop = new_guid()
        with pytest.raises(TransportTimeout):
            send_node(sandbox.credentials, data, cop_msg_id=cop, read_timeout=0.1)
        assert _eventually(lambda: bool(sandbox.documents()))  # customs got it after the client gave up
        with pytest.raises(TransportTimeout):
            send_node(sandbox.credentials, data, cop_msg_id=cop, read_timeout=0.1)
        assert _eventually(lambda: sandbox.stats().duplicate_deliveries.get("node") == 1)
        assert len(sandbox.documents()) == 1


def test_duplicate_pushes_arrive_twice_and_are_recognised() -> None:
    config = fast(faults=FaultConfig(push=PushFaults(duplicate_rate=1.0)))
    with running(config) as (sandbox, receiver):
        send_node(sandbox.credentials, signed(orders(1)))
        assert sandbox.wait_idle(20)
        stats = sandbox.stats()
    assert stats.receipts_scheduled == 2
    assert stats.pushes_duplicated == 2
    assert stats.receipts_pushed == 4
    assert receiver.receiver.stats["delivered"] == 2
    assert receiver.receiver.stats["duplicate"] == 2
    assert list(receiver.statuses().values()) == [["2", "120"]]


def test_reordered_pushes_arrive_out_of_order_yet_every_document_settles() -> None:
    config = fast(seed=3, faults=FaultConfig(push=PushFaults(reorder_rate=0.5, reorder_lag=(1.0, 5.0))))
    with running(config) as (sandbox, receiver):
        for number in range(6):
            send_node(sandbox.credentials, signed(inventories(1, cop_no=f"REORDER{number:04d}")))
        assert sandbox.wait_idle(20)
        stats = sandbox.stats()
        states = sandbox.documents()
    arrivals = receiver.statuses()
    assert len(arrivals) == 6
    assert any(order != ["2", "120", "399", "800"] for order in arrivals.values())
    assert all(sorted(order, key=int) == ["2", "120", "399", "800"] for order in arrivals.values())
    assert 0 < stats.pushes_reordered < 24
    assert stats.faults["push.reorder"] == stats.pushes_reordered
    assert set(receiver.finals().values()) == {"800"}
    assert all(state.settled for state in states)


def test_a_failing_receiver_gets_the_push_retried() -> None:
    with running(faults=Faults(Fault.status(503), Fault.drop())) as (sandbox, receiver):
        send_node(sandbox.credentials, signed(orders(2)))
        assert sandbox.wait_idle(20)
        stats = sandbox.stats()
        states = sandbox.documents()
    assert stats.pushes_failed == 2
    assert stats.pushes_retried == 2
    assert stats.receipts_pushed == 2
    assert len(receiver.server.requests) == 4
    assert all(state.settled for state in states)


def test_a_receiver_that_cannot_store_gets_the_push_again() -> None:
    with running(fail_first=2) as (sandbox, receiver):
        send_node(sandbox.credentials, signed(orders(1)))
        assert sandbox.wait_idle(20)
        stats = sandbox.stats()
    assert receiver.receiver.stats["failed"] == 2
    assert stats.pushes_retried == 2
    assert list(receiver.statuses().values()) == [["2", "120"]]


def test_simulated_lost_attempts_are_retried() -> None:
    # Which push meets which draw depends on delivery timing, so allow enough attempts that none is
    # abandoned (0.5 ** 20 per push).
    push = PushConfig(timeout=5.0, backoff=1.0, attempts=20)
    config = fast(seed=8, push=push, faults=FaultConfig(push=PushFaults(fail_rate=0.5)))
    with running(config) as (sandbox, receiver):
        send_node(sandbox.credentials, signed(inventories(3)))
        assert sandbox.wait_idle(20)
        stats = sandbox.stats()
    assert stats.faults["push.fail"] == stats.pushes_failed == stats.pushes_retried > 0
    assert stats.receipts_pushed == 4
    assert set(receiver.finals().values()) == {"800"}


def test_a_push_nobody_takes_is_abandoned_loudly(caplog: pytest.LogCaptureFixture) -> None:
    with LocalServer(lambda environ, start_response: []) as gone:
        url = gone.url + "/receipts"  # a port that was free, and is closed again now
    config = fast(push=PushConfig(attempts=3, backoff=1.0, timeout=2.0))
    with caplog.at_level(logging.ERROR, logger="cbec_declare.sandbox"), Sandbox(config) as sandbox:
        sandbox.register_receiver(url)
        send_node(sandbox.credentials, signed(orders(1)))
        assert sandbox.wait_idle(20)
        stats = sandbox.stats()
        states = sandbox.documents()
    assert stats.pushes_abandoned == 2
    assert stats.pushes_failed == 6
    assert stats.pushes_retried == 4
    assert stats.receipts_pushed == 0
    assert sum("abandoned after 3 attempts" in r.getMessage() for r in caplog.records) == 2
    assert not any(state.settled for state in states)


def test_pushes_are_lost_only_when_the_config_says_so() -> None:
    config = fast(faults=FaultConfig(push=PushFaults(loss_rate=1.0)))
    with running(config) as (sandbox, receiver):
        send_node(sandbox.credentials, signed(orders(1)))
        assert sandbox.wait_idle(20)
        stats = sandbox.stats()
        states = sandbox.documents()
    assert stats.pushes_lost == 2
    assert receiver.events == []
    assert not any(state.delivered for state in states)


def test_a_full_push_queue_makes_the_node_answer_flow_control() -> None:
    with Sandbox(fast(push=PushConfig(max_pending=3))) as sandbox:
        credentials = sandbox.credentials
        _, first = send_node(credentials, signed(inventories(1)))  # four receipts wait for a receiver
        cop, second = send_node(credentials, signed(orders(1)))
        assert first.accepted
        assert not second.accepted
        assert second.messages == ("系统流控，请稍后重发",)
        assert sandbox.stats().rejections == {"flow_control": 1}
        with Collector(credentials) as receiver:
            sandbox.register_receiver(receiver.url)
            assert sandbox.wait_idle(20)
            _, resent = send_node(credentials, signed(orders(1)), cop_msg_id=cop)  # not remembered: taken now
            assert resent.accepted
            assert sandbox.wait_idle(20)
            assert len(receiver.statuses()) == 2


def _eventually(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_with_every_fault_at_once_every_document_settles_on_both_sides() -> None:
    request_faults = ChannelFaults(drop_rate=0.05, error_rate=0.05, timeout_rate=0.03, slow_rate=0.05)
    faults = FaultConfig(
        node=request_faults,
        push=PushFaults(duplicate_rate=0.1, reorder_rate=0.1, fail_rate=0.1),
    )
    business = BusinessConfig(rejection_rate=0.1, manual_review_rate=0.2, inspection_rate=0.1)
    retry = RetryPolicy(attempts=10, deadline=30, backoff=0.01, max_backoff=0.05, jitter=0.0)
    with running(fast(seed=12, faults=faults, business=business)) as (sandbox, receiver):
        for number in range(20):
            message = inventories(5, seed=number, cop_no=None)
            unique = tuple(
                attrs.evolve(doc, head=attrs.evolve(doc.head, cop_no=f"SOAK{number:03d}{k}"))
                for k, doc in enumerate(message.inventories)
            )
            _, reply = send_node(
                sandbox.credentials,
                signed(attrs.evolve(message, inventories=unique)),
                retry=retry,
                read_timeout=READ_TIMEOUT,
            )
            assert reply.accepted
        assert sandbox.wait_idle(30)
        stats = sandbox.stats()
        states = sandbox.documents()
    finals = receiver.finals()
    assert len(states) == 100
    assert all(state.settled for state in states)
    assert {state.guid: state.final_status for state in states} == finals  # both sides agree
    # a retry after a drop, 5xx or hang is a first delivery; one after a lost answer is a duplicate
    assert stats.messages["node"] - stats.duplicate_deliveries.get("node", 0) == 20
    assert stats.rejections["business"] > 0
    assert {"push.duplicate", "push.reorder", "push.fail", "node.drop", "node.timeout"} <= set(stats.faults)


@pytest.mark.parametrize("concurrency", [1, 4])
def test_push_concurrency_bounds_the_deliveries_in_flight(concurrency: int) -> None:
    import threading

    lock = threading.Lock()
    in_flight, most = 0, 0

    def slow_receiver(environ: dict[str, object], start_response: Callable[..., object]) -> list[bytes]:
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        time.sleep(0.2)
        with lock:
            in_flight -= 1
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"OK"]

    config = fast(push=PushConfig(concurrency=concurrency))
    with LocalServer(slow_receiver) as receiver, Sandbox(config) as sandbox:
        sandbox.register_receiver(receiver.url + "/receipts")
        batch = orders(4)
        for order in batch.orders:  # four messages, two receipts each, all due within milliseconds
            send_node(sandbox.credentials, signed(attrs.evolve(batch, orders=(order,))))
        assert sandbox.wait_idle(30)
        assert sandbox.stats().receipts_pushed == 8
    assert most == 1 if concurrency == 1 else 2 <= most <= concurrency
