"""The full-flow scenarios of ``test_flow.py``, run against both ledger backends.

The scenarios are imported, not copied: pytest collects them here too, and here ``cbec_harness`` (which
every one of them uses, directly or through ``cbec_factory``) is parametrized by the ledger URL —
a SQLite file in ``tmp_path``, or a fresh database on the session's throw-away PostgreSQL server. A
scenario added to ``test_flow.py`` runs on both backends once it is imported below.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import count
from pathlib import Path

import pytest

from cbec_declare.sandbox.config import SandboxConfig
from cbec_declare.signing import Signer
from cbec_declare.testing.harness import Harness, start_harness
from pipeline.test_flow import (  # noqa: F401 - collected here, once per backend
    TestFaults,
    TestPlatformRefusal,
    TestRejections,
    cbec_sandbox_config,
    test_a_sale_is_declared_and_released,
    test_an_invalid_document_is_not_sent,
    test_modification_and_deletion,
    test_queries_by_every_key,
    test_the_same_document_is_never_declared_twice,
)
from pipeline.test_ledger_postgres import cluster  # noqa: F401 - the session's throw-away server

_databases = count(1)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty ledger: a SQLite file, or a new database on the session's PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    server = request.getfixturevalue("cluster")  # skipped (or failed, in CI) without PostgreSQL
    url: str = server.create_database(f"flow_{next(_databases)}")
    return url


@pytest.fixture
def cbec_harness(
    cbec_sandbox_config: SandboxConfig,  # noqa: F811 - the scenario's own (module or class) config
    cbec_signer: Signer,
    tmp_path: Path,
    ledger_url: str,
) -> Iterator[Harness]:
    """The plugin's harness, on the parametrized ledger."""
    running = start_harness(
        workdir=tmp_path / "cbec",
        sandbox_config=cbec_sandbox_config,
        signer=cbec_signer,
        ledger_url=ledger_url,
    )
    try:
        yield running
    finally:
        running.stop()


def test_the_harness_runs_on_the_parametrized_backend(cbec_harness: Harness, ledger_url: str) -> None:
    """The scenarios above really ran on the backend their id names (not on a default SQLite file)."""
    from cbec_declare.pipeline.postgres_ledger import PostgresLedger
    from cbec_declare.pipeline.sqlite_ledger import SqliteLedger

    expected = PostgresLedger if ledger_url.startswith("postgresql:") else SqliteLedger
    assert type(cbec_harness.ledger) is expected
    assert type(cbec_harness.pipeline.ledger) is expected
