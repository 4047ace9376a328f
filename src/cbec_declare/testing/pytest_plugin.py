"""pytest fixtures for integrators (registered through the ``pytest11`` entry point).

Installing cbec-declare makes these fixtures available in every test suite, with nothing to import:

* ``cbec_sandbox_config`` — the :class:`~cbec_declare.sandbox.config.SandboxConfig` used below (fast timing,
  no faults); override it in your ``conftest.py`` to inject faults or rejections;
* ``cbec_signer`` — a throw-away enterprise signer with a self-signed RSA-2048 certificate (session-wide);
* ``cbec_harness`` — a running sandbox (platform + exchange node + customs on 127.0.0.1) and a
  :class:`~cbec_declare.pipeline.Pipeline` wired to it with a worker and the 2.1 receipt endpoint, on a
  fresh SQLite ledger in ``tmp_path``;
* ``cbec_pipeline`` — that pipeline; ``cbec_sandbox`` — that sandbox;
* ``cbec_factory`` — a seeded :class:`~cbec_declare.testing.factories.DocumentFactory` making valid orders,
  payments, waybills and inventories the sandbox accepts.

Example::

    def test_my_erp_declares_an_order(cbec_harness, cbec_factory):
        order = cbec_factory.order(items=2)
        [result] = cbec_harness.submit([order])
        assert cbec_harness.drain(timeout=30)
        assert cbec_harness.pipeline.get(result.id).state.value == "released"

Heavy imports happen inside the fixtures, so the plugin costs nothing in suites that do not use it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ..pipeline import Pipeline
    from ..sandbox.config import SandboxConfig
    from ..sandbox.sandbox import Sandbox
    from ..signing import Signer
    from .factories import DocumentFactory
    from .harness import Harness


@pytest.fixture
def cbec_sandbox_config() -> SandboxConfig:
    """Fast receipts (a hundredth of real delays), no faults, no rejections. Override to change."""
    from ..sandbox.config import SandboxConfig, TimingConfig

    return SandboxConfig(timing=TimingConfig(time_scale=0.01))


@pytest.fixture(scope="session")
def cbec_signer() -> Signer:
    from .harness import throwaway_signer

    return throwaway_signer()


@pytest.fixture
def cbec_harness(
    cbec_sandbox_config: SandboxConfig, cbec_signer: Signer, tmp_path: Path
) -> Iterator[Harness]:
    from .harness import start_harness

    running = start_harness(workdir=tmp_path / "cbec", sandbox_config=cbec_sandbox_config, signer=cbec_signer)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def cbec_pipeline(cbec_harness: Harness) -> Pipeline:
    return cbec_harness.pipeline


@pytest.fixture
def cbec_sandbox(cbec_harness: Harness) -> Sandbox:
    assert cbec_harness.sandbox is not None
    return cbec_harness.sandbox


@pytest.fixture
def cbec_factory(cbec_harness: Harness, request: Any) -> DocumentFactory:
    """Documents for this harness's enterprise, seeded by the test's name (stable across runs)."""
    import zlib

    return cbec_harness.factory(seed=zlib.crc32(request.node.nodeid.encode()))
