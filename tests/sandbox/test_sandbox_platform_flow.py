"""§2.2 through the sandbox: PlatformClient → synchronous RESULT → the 入库回执 push (§2.1)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from cbec_declare.errors import ConfigError
from cbec_declare.sandbox.config import BusinessConfig
from cbec_declare.sandbox.sandbox import Sandbox
from cbec_declare.testing.factories import DocumentFactory
from cbec_declare.transport import (
    ImportOrder,
    PlatformClient,
    RetryPolicy,
    import_order_from_ceb,
    personal_goods_declar_from_ceb,
)
from sandbox.test_sandbox_support import FAST, Collector, fast, orders, running, send_node, signed


def _order_message(count: int, send_code: str) -> ImportOrder:
    factory = DocumentFactory(seed=5)
    messages = [import_order_from_ceb(order, company_code=send_code) for order in factory.orders(count)]
    return ImportOrder(orders=tuple(o for m in messages for o in m.orders))


def test_an_import_order_is_answered_then_its_entry_receipt_pushed() -> None:
    with running() as (sandbox, receiver):
        credentials = sandbox.credentials
        message = _order_message(2, credentials.send_code)
        with credentials.platform_client(retry=RetryPolicy.none()) as client:
            result = client.send(message)
        assert sandbox.wait_idle(20)
        pushed = receiver.results()
        stats = sandbox.stats()
        states = sandbox.documents()
    numbers = [o.sign.business_no for o in message.orders]
    assert result.accepted
    assert result.messages == ("处理成功",) * 2
    assert [r.business_no for r in pushed] == numbers
    assert all(r.business_type == "IMPORTORDER" and r.chk_mark == "1" for r in pushed)
    assert all(r.company_code == credentials.send_code and r.result_info == ("处理成功",) for r in pushed)
    assert [e.msg_type for e in receiver.events] == ["CUSTOMS_DECLARE_RESULT_CALLBACK"]
    assert stats.messages == {"platform": 1}
    assert stats.documents == {"IMPORTORDER": 2}
    assert [(s.channel, s.business_no, s.final_status, s.settled) for s in states] == [
        ("platform", n, "1", True) for n in numbers
    ]


def test_a_refused_entry_receipt_carries_its_reasons() -> None:
    business = BusinessConfig(platform_rejection_rate=1.0, platform_reasons=("行邮税号:04010100, 未备案",))
    with running(fast(business=business)) as (sandbox, receiver):
        credentials = sandbox.credentials
        inventory = DocumentFactory(seed=2).inventory_for(DocumentFactory(seed=2).order())
        message = personal_goods_declar_from_ceb(inventory, company_code=credentials.send_code)
        with credentials.platform_client(retry=RetryPolicy.none()) as client:
            result = client.send(message)
        assert sandbox.wait_idle(20)
        (pushed,) = receiver.results()
        stats = sandbox.stats()
    assert result.accepted  # the synchronous answer only says the platform took it
    assert pushed.chk_mark == "2"
    assert pushed.business_type == "PERSONAL_GOODS_DECLAR"
    assert pushed.business_no == inventory.head.cop_no
    assert pushed.result_info == ("行邮税号:04010100, 未备案",)
    assert stats.rejections == {"platform": 1}


def test_the_same_request_twice_is_answered_twice_but_pushed_once() -> None:
    with running() as (sandbox, receiver):
        credentials = sandbox.credentials
        message = _order_message(1, credentials.send_code)
        with credentials.platform_client(retry=RetryPolicy.none()) as client:
            prepared = client.prepare(message)
            first, second = client.submit(prepared), client.submit(prepared)
        assert sandbox.wait_idle(20)
        stats = sandbox.stats()
        pushed = receiver.results()
    assert first.accepted
    assert second.accepted
    assert len(pushed) == 1
    assert stats.duplicate_deliveries == {"platform": 1}
    assert stats.messages == {"platform": 2}


def test_a_request_the_platform_cannot_verify_gets_no_entry_receipt() -> None:
    with running() as (sandbox, receiver):
        credentials = sandbox.credentials
        wrong = PlatformClient.from_keys(
            credentials.platform_profile(),
            send_code=credentials.send_code,
            aes_key=credentials.aes_key,
            private_key=rsa.generate_private_key(65537, 1024),
            retry=RetryPolicy.none(),
        )
        with wrong:
            result = wrong.send(_order_message(1, credentials.send_code))
        assert sandbox.wait_idle(20)
    assert not result.accepted
    assert result.messages == ("数字签名验证失败",)
    assert receiver.results() == []


def test_entry_receipts_wait_for_a_receiver() -> None:
    with Sandbox(FAST) as sandbox:
        credentials = sandbox.credentials
        with credentials.platform_client(retry=RetryPolicy.none()) as client:
            client.send(_order_message(1, credentials.send_code))
        assert sandbox.stats().pending_pushes == 1
        assert not sandbox.wait_idle(0.05)  # held back: nobody to push to
        with Collector(credentials) as receiver:
            sandbox.register_receiver(receiver.url)
            assert sandbox.wait_idle(20)
            assert len(receiver.results()) == 1


def test_receivers_can_take_some_callbacks_only_and_must_be_local() -> None:
    with running() as (sandbox, everything), Collector(sandbox.credentials) as results_only:
        sandbox.register_receiver(results_only.url, msg_types=["CUSTOMS_DECLARE_RESULT_CALLBACK"])
        credentials = sandbox.credentials
        with credentials.platform_client(retry=RetryPolicy.none()) as client:
            client.send(_order_message(1, credentials.send_code))
        send_node(credentials, signed(orders(1)))
        assert sandbox.wait_idle(20)
        with pytest.raises(ConfigError):
            sandbox.register_receiver("http://192.0.2.1/receipts")
    assert sorted(e.msg_type for e in everything.events) == [
        "CUSTOMS_CEB_CALLBACK",
        "CUSTOMS_CEB_CALLBACK",
        "CUSTOMS_DECLARE_RESULT_CALLBACK",
    ]
    assert [e.msg_type for e in results_only.events] == ["CUSTOMS_DECLARE_RESULT_CALLBACK"]
