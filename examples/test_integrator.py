"""An integrator's tests, using the fixtures cbec-declare's pytest plugin provides (nothing to import).

pytest examples/test_integrator.py
"""

from __future__ import annotations

import pytest

from cbec_declare import State
from cbec_declare.sandbox.config import BusinessConfig, SandboxConfig, TimingConfig


def test_my_order_is_released(cbec_harness, cbec_factory):  # type: ignore[no-untyped-def]
    order = cbec_factory.order(items=2)
    [result] = cbec_harness.submit([order])
    assert cbec_harness.drain(timeout=60)
    record = cbec_harness.pipeline.get(result.id)
    assert record.state is State.RELEASED
    assert record.customs_status == "120"  # 海关入库: final for an order


class TestWhenCustomsRejectsEverything:
    @pytest.fixture
    def cbec_sandbox_config(self) -> SandboxConfig:  # override the plugin's default sandbox
        return SandboxConfig(
            timing=TimingConfig(time_scale=0.01), business=BusinessConfig(rejection_rate=1.0)
        )

    def test_my_erp_sees_the_reason(self, cbec_harness, cbec_factory):  # type: ignore[no-untyped-def]
        reasons = []
        cbec_harness.pipeline.on_status(lambda change: reasons.append(change.reason))
        cbec_harness.submit([cbec_factory.inventory_for(cbec_factory.order())])
        assert cbec_harness.drain(timeout=60)
        assert reasons[-1]  # e.g. "[Code:1313;Desc:订购人年度额度超限]"
