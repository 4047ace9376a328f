"""The 方案二 flow end to end against the sandbox, through the pytest plugin's fixtures (as an integrator)."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from cbec_declare.pipeline import DocumentKind, State, StatusChange
from cbec_declare.sandbox.config import (
    BusinessConfig,
    ChannelFaults,
    FaultConfig,
    PushConfig,
    PushFaults,
    SandboxConfig,
    TimingConfig,
)
from cbec_declare.testing.harness import Harness

FAST = TimingConfig(time_scale=0.01)


def declare_sale(harness: Harness, factory, items: int = 2) -> dict[str, int]:  # type: ignore[no-untyped-def]
    docs = list(factory.sale(items=items))
    results = harness.submit(docs)
    assert all(r.created for r in results)
    return dict(zip(["order", "payment", "logistics", "inventory"], [r.id for r in results], strict=True))


def states(harness: Harness, ids: dict[str, int]) -> dict[str, State]:
    return {name: harness.pipeline.get(i).state for name, i in ids.items()}


def test_a_sale_is_declared_and_released(cbec_harness: Harness, cbec_factory) -> None:  # type: ignore[no-untyped-def]
    changes: list[StatusChange] = []
    cbec_harness.pipeline.on_status(changes.append)
    ids = declare_sale(cbec_harness, cbec_factory)
    assert cbec_harness.drain(timeout=60)
    assert states(cbec_harness, ids) == dict.fromkeys(ids, State.RELEASED)

    inventory = cbec_harness.pipeline.get(ids["inventory"])
    assert inventory.customs_status == "800"
    path = [h.new_state for h in cbec_harness.pipeline.history(inventory.id) if h.applied]
    assert path[:6] == [State.PLATFORM_SENDING, State.PLATFORM_SENT, State.PLATFORM_ACCEPTED,
                        State.NODE_SENDING, State.DECLARED, State.CUSTOMS_PROCESSING]  # fmt: skip
    assert path[-1] is State.RELEASED
    # Every byte that went out and came in is in the ledger: the <mo>, its RESULT, the DxpMsg, the pushes.
    kinds = {(m.direction, m.channel) for m in cbec_harness.pipeline.messages(inventory.id)}
    assert {("out", "platform"), ("in", "platform"), ("out", "node"), ("in", "push")} <= kinds
    # The payment has no platform step: straight to the node, released at 120 (海关入库).
    payment = cbec_harness.pipeline.get(ids["payment"])
    assert payment.customs_status == "120"
    assert not payment.platform_step
    # Hooks saw every change of every document, in order (customs steps within one state included).
    seen = [c.customs_status or c.new.value for c in changes if c.document_id == inventory.id]
    assert seen[-1] == "800"
    assert [c.new for c in changes if c.document_id == inventory.id] == path


def test_queries_by_every_key(cbec_harness: Harness, cbec_factory) -> None:  # type: ignore[no-untyped-def]
    ids = declare_sale(cbec_harness, cbec_factory)
    assert cbec_harness.drain(timeout=60)
    p = cbec_harness.pipeline
    inventory = p.get(ids["inventory"])
    assert [r.id for r in p.find(cop_no=inventory.cop_no)] == [inventory.id]
    assert {r.id for r in p.find(order_no=inventory.order_no)} == {ids["order"], ids["payment"], ids["logistics"],
                                                                    ids["inventory"]}  # fmt: skip
    assert ids["logistics"] in {r.id for r in p.find(logistics_no=inventory.logistics_no)}
    assert [r.id for r in p.find(guid=inventory.guid)] == [inventory.id]
    assert len(p.find(state=State.RELEASED)) == 4
    assert p.find(kind=DocumentKind.ORDER)[0].id == ids["order"]


def test_the_same_document_is_never_declared_twice(cbec_harness: Harness, cbec_factory) -> None:  # type: ignore[no-untyped-def]
    order = cbec_factory.order()
    first = cbec_harness.submit([order])[0]
    again = cbec_harness.submit([order])[0]
    other_guid = cbec_harness.submit([attrs.evolve(order, head=attrs.evolve(order.head, guid="A" * 36))])[0]
    assert first.created
    assert (again.id, again.created) == (first.id, False)
    assert (other_guid.id, other_guid.created) == (first.id, False)
    assert cbec_harness.drain(timeout=60)
    assert cbec_harness.sandbox is not None
    assert cbec_harness.sandbox.stats().declared_twice == 0


@pytest.fixture
def cbec_sandbox_config() -> SandboxConfig:
    # Overridden per test module below through indirect parametrisation would be overkill: tests that need
    # another sandbox set it through this fixture's default and the ones below.
    return SandboxConfig(timing=FAST)


class TestRejections:
    @pytest.fixture
    def cbec_sandbox_config(self) -> SandboxConfig:
        reasons = {"CEB621Message": [["100", "[Code:1313;Desc:订购人年度额度超限]"]]}
        return SandboxConfig(timing=FAST, business=BusinessConfig(rejection_rate=1.0, reasons=reasons))

    def test_rejections_carry_their_reasons(self, cbec_harness: Harness, cbec_factory) -> None:  # type: ignore[no-untyped-def]
        order = cbec_factory.order()
        [result] = cbec_harness.submit([cbec_factory.inventory_for(order)])
        assert cbec_harness.drain(timeout=60)
        record = cbec_harness.pipeline.get(result.id)
        assert record.state is State.REJECTED
        assert record.customs_status == "100"
        assert "订购人年度额度超限" in record.reason


class TestPlatformRefusal:
    @pytest.fixture
    def cbec_sandbox_config(self) -> SandboxConfig:
        return SandboxConfig(timing=FAST, business=BusinessConfig(platform_rejection_rate=1.0))

    def test_a_refused_platform_receipt_rejects_before_customs(
        self, cbec_harness: Harness, cbec_factory
    ) -> None:  # type: ignore[no-untyped-def]
        [result] = cbec_harness.submit([cbec_factory.order()])
        assert cbec_harness.drain(timeout=60)
        record = cbec_harness.pipeline.get(result.id)
        assert record.state is State.REJECTED
        assert record.reason.startswith("platform receipt:")
        assert all(m.channel != "node" for m in cbec_harness.pipeline.messages(result.id))


class TestFaults:
    @pytest.fixture
    def cbec_sandbox_config(self) -> SandboxConfig:
        return SandboxConfig(
            seed=7,
            timing=FAST,
            faults=FaultConfig(
                node=ChannelFaults(drop_rate=0.2, error_rate=0.2),
                platform=ChannelFaults(drop_rate=0.15, error_rate=0.15),
                push=PushFaults(duplicate_rate=0.5, reorder_rate=0.5, fail_rate=0.2),
            ),
            push=PushConfig(backoff=0.02, max_backoff=0.2, attempts=20),
        )

    def test_drops_errors_duplicates_and_reordering_end_released(
        self, cbec_harness: Harness, cbec_factory
    ) -> None:  # type: ignore[no-untyped-def]
        all_ids = [declare_sale(cbec_harness, cbec_factory) for _ in range(6)]
        assert cbec_harness.drain(timeout=120)
        p = cbec_harness.pipeline
        for ids in all_ids:
            assert states(cbec_harness, ids) == dict.fromkeys(ids, State.RELEASED)
        assert cbec_harness.sandbox is not None
        stats = cbec_harness.sandbox.stats()
        assert stats.pushes_duplicated > 0
        assert stats.pushes_reordered > 0
        assert stats.declared_twice == 0
        ignored = [h for ids in all_ids for i in ids.values() for h in p.history(i) if not h.applied]
        assert ignored, "duplicate or stale receipts must show up as ignored history entries"
        for ids in all_ids:  # the state never moved backwards
            for i in ids.values():
                ranks = [h.new_state.rank for h in p.history(i) if h.applied]
                assert ranks == sorted(ranks)


def test_an_invalid_document_is_not_sent(cbec_harness: Harness, cbec_factory) -> None:  # type: ignore[no-untyped-def]
    order = cbec_factory.order()
    wrong = attrs.evolve(
        order, head=attrs.evolve(order.head, actual_paid=order.head.actual_paid + Decimal("1"))
    )
    [bad] = cbec_harness.submit([cbec_factory.payment_for(order), wrong][1:])
    # The business rules run at submit: the document is stored, already INVALID, before any worker runs.
    assert bad.created
    assert cbec_harness.pipeline.get(bad.id).state is State.INVALID
    assert cbec_harness.drain(timeout=60)
    record = cbec_harness.pipeline.get(bad.id)
    assert record.state is State.INVALID
    assert "acturalPaid" in record.reason
    assert not [m for m in cbec_harness.pipeline.messages(bad.id) if m.channel == "node"]


def test_modification_and_deletion(cbec_harness: Harness, cbec_factory) -> None:  # type: ignore[no-untyped-def]
    order = cbec_factory.order()
    waybill = cbec_factory.logistics_for(order)
    [declared] = cbec_harness.submit([waybill])
    assert cbec_harness.drain(timeout=60)
    changed = attrs.evolve(waybill, consignee_address=waybill.consignee_address + "1号楼")
    modified = cbec_harness.pipeline.modify(declared.id, changed)
    deleted = cbec_harness.pipeline.delete(declared.id)
    assert cbec_harness.drain(timeout=60)
    p = cbec_harness.pipeline
    assert [p.get(i).app_type for i in (declared.id, modified.id, deleted.id)] == ["1", "2", "3"]
    assert p.get(modified.id).state is State.RELEASED
    assert p.get(deleted.id).state is State.RELEASED
    assert p.get(modified.id).business_key == p.get(declared.id).business_key
    assert p.get(deleted.id).supersedes == declared.id
