"""PostgresLedger: the conformance suite on a real, throw-away PostgreSQL server, and what only it has.

The server is started once per session with initdb/pg_ctl (tests/pipeline/_pg.py). Without the server
binaries the tests are skipped, unless CBEC_REQUIRE_POSTGRES is set (CI sets it), when they fail.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import traceback
from collections.abc import Iterator
from itertools import count
from typing import Any

import pytest

from cbec_declare.errors import LedgerError
from cbec_declare.pipeline.ledgers import open_ledger
from pipeline._pg import PgCluster, find_bindir
from pipeline.ledger_conformance import FIND_CRITERIA_SQL, LedgerConformance, Store, count_up, new_doc
from pipeline.ledger_processes import ProcessConformance

pytestmark = pytest.mark.postgres

SECRET = "S3cr3t-pw!"
_databases = count(1)


def _unavailable(reason: str) -> None:
    if os.environ.get("CBEC_REQUIRE_POSTGRES"):
        pytest.fail(f"CBEC_REQUIRE_POSTGRES is set, but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def cluster() -> Iterator[PgCluster]:
    bindir = find_bindir()
    if bindir is None:
        _unavailable("no PostgreSQL server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin or on PATH")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("psycopg 3 is not installed (pip install 'cbec-declare[postgres]')")
    assert bindir is not None
    # fsync off: these tests kill clients, never the server, so server-side durability is not under test.
    started = PgCluster(bindir, settings={"fsync": "off", "full_page_writes": "off"}).start()
    yield started
    started.stop()


def _sql(url: str, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        cursor = conn.execute(query, params)
        return cursor.fetchall() if cursor.description else []


def pg_store(url: str) -> Store:
    from cbec_declare.pipeline.postgres_ledger import PostgresLedger

    def check_integrity() -> list[str]:
        # amcheck verifies every B-tree index of our tables against its heap.
        _sql(url, "CREATE EXTENSION IF NOT EXISTS amcheck")
        problems = []
        for (index,) in _sql(
            url,
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema()",
        ):
            try:
                _sql(url, "SELECT bt_index_parent_check(%s::regclass, true)", (index,))
            except Exception as exc:
                problems.append(f"{index}: {exc}")
        return problems

    return Store(
        url=url,
        open=lambda **options: PostgresLedger(url, **options),
        check_integrity=check_integrity,
        schema_versions=lambda: [r[0] for r in _sql(url, "SELECT version FROM schema_version ORDER BY 1")],
        tables=lambda: {
            r[0]
            for r in _sql(
                url, "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
            )
        },
    )


@pytest.fixture
def store(cluster: PgCluster) -> Store:
    return pg_store(cluster.create_database(f"ledger_{next(_databases)}"))


class TestPostgresConformance(LedgerConformance):
    pass


class TestPostgresProcesses(ProcessConformance):
    pass


def test_every_psycopg_error_becomes_a_ledger_error(store: Store) -> None:
    import psycopg
    from psycopg import errors

    classes = {
        c for module in (psycopg, errors) for c in vars(module).values()
        if isinstance(c, type) and issubclass(c, psycopg.Error)
    }  # fmt: skip
    assert len(classes) > 200
    ledger = store.open()
    codes = set()
    for cls in classes:
        original = cls("boom")
        with pytest.raises(LedgerError) as caught, ledger._map_errors():  # type: ignore[attr-defined]
            raise original
        assert caught.value.__cause__ is original
        codes.add(caught.value.code)
    assert codes == {"ledger.busy", "ledger.integrity", "ledger.unavailable", "ledger.storage"}
    assert ledger._map_errors is not None  # type: ignore[attr-defined]
    ledger.close()


def _shown(exc: BaseException) -> str:
    return (
        "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)) + repr(exc) + str(exc.__dict__)
    )


def test_the_password_is_never_shown(cluster: PgCluster, caplog: pytest.LogCaptureFixture) -> None:
    from cbec_declare.pipeline.postgres_ledger import PostgresLedger

    caplog.set_level(logging.DEBUG)
    # Nothing listens on port 1: connecting fails at once.
    with pytest.raises(LedgerError) as caught:
        PostgresLedger(f"postgresql://cbec:{SECRET}@127.0.0.1:1/db", connect_timeout=5)
    assert caught.value.code == "ledger.unavailable"
    assert SECRET not in _shown(caught.value)
    assert "127.0.0.1" in str(caught.value)  # but where it tried is said
    # A DSN that cannot be parsed is not quoted at all (libpq would quote the text around the error).
    with pytest.raises(LedgerError) as caught:
        PostgresLedger(f"host=x password={SECRET} junk")
    assert caught.value.code == "ledger.config"
    assert SECRET not in _shown(caught.value)
    # A working ledger (the server trusts the socket and ignores the password) never shows it either.
    url = cluster.create_database("ledger_secret")
    ledger = PostgresLedger(f"{cluster.dsn('ledger_secret')} password='{SECRET}'")
    (doc,) = ledger.submit([new_doc()])
    with pytest.raises(LedgerError) as caught:
        ledger.submit([new_doc(supersedes=10**9)])
    assert caught.value.code == "ledger.integrity"
    assert SECRET not in _shown(caught.value) + repr(ledger) + ledger.safe_dsn
    assert "dbname=ledger_secret" in repr(ledger)
    ledger.close()
    assert caplog.records  # the migration was logged …
    assert all(SECRET not in record.getMessage() for record in caplog.records)  # … without the password
    assert _sql(url, "SELECT count(*) FROM documents") == [(1,)]
    assert doc.created


def test_a_clear_error_when_psycopg_is_missing() -> None:
    program = (
        "import sys; sys.modules['psycopg'] = None\n"  # makes `import psycopg` fail, as if not installed
        "from cbec_declare.errors import LedgerError\n"
        "from cbec_declare.pipeline.ledgers import open_ledger\n"
        "try:\n"
        "    open_ledger('postgresql://u@localhost/db')\n"
        "except LedgerError as exc:\n"
        "    print(exc.code, '|', exc.message)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=True
    )
    code, message = done.stdout.strip().split(" | ")
    assert code == "ledger.missing_dependency"
    assert "pip install 'cbec-declare[postgres]'" in message


def test_a_held_row_lock_is_waited_for_then_reported(store: Store) -> None:
    import psycopg

    ledger = store.open(lock_timeout=0.2)
    (doc,) = ledger.submit([new_doc()])
    with psycopg.connect(store.url, connect_timeout=10) as other:  # a transaction holding the row
        other.execute("SELECT id FROM documents WHERE id = %s FOR UPDATE", (doc.id,))
        with pytest.raises(LedgerError) as caught:
            ledger.transition(doc.id, count_up, event="blocked")
        assert caught.value.code == "ledger.busy"
        assert ledger.get(doc.id).customs_rank is None  # readers are not blocked
        other.rollback()
    ledger.transition(doc.id, count_up, event="free again")
    assert [e.event for e in ledger.history(doc.id)] == ["free again"]
    ledger.close()


def test_claims_skip_locked_rows_instead_of_waiting(store: Store) -> None:
    from datetime import datetime, timezone

    import psycopg

    # With a short lock_timeout, a claim that waited for the locked row would fail with ledger.busy.
    ledger = store.open(lock_timeout=1.0)
    ids = [r.id for r in ledger.submit([new_doc() for _ in range(4)])]
    with psycopg.connect(store.url, connect_timeout=10) as other:
        other.execute("SELECT id FROM documents WHERE id = %s FOR UPDATE", (ids[0],))
        claimed = ledger.claim_due(now=datetime.now(timezone.utc), owner="w", limit=10, lease_seconds=60)
        assert [r.id for r in claimed] == ids[1:]
        other.rollback()
    claimed = ledger.claim_due(now=datetime.now(timezone.utc), owner="w2", limit=10, lease_seconds=60)
    assert [r.id for r in claimed] == ids[:1]
    ledger.close()


def test_every_find_criterion_can_use_an_index(store: Store) -> None:
    import psycopg

    store.open().close()
    with psycopg.connect(store.url, autocommit=True, connect_timeout=10) as conn:
        conn.execute("SET enable_seqscan = off")  # tiny tables: make the planner show its best index
        for column, sql in FIND_CRITERIA_SQL.items():
            explain = "EXPLAIN " + sql.format(now="now()")
            plan = " ".join(row[0] for row in conn.execute(explain))
            assert "Index" in plan, (column, plan)
            assert "Seq Scan" not in plan, (column, plan)


def test_the_ledger_recovers_when_its_sessions_are_ended(store: Store) -> None:
    ledger = store.open()
    (doc,) = ledger.submit([new_doc()])
    _sql(
        store.url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'cbec-declare'",
    )
    failures = []
    for _ in range(2):  # the pooled connection is found dead on first use, then replaced
        try:
            ledger.transition(doc.id, count_up, event="after restart")
            break
        except LedgerError as exc:
            failures.append(exc.code)
    assert failures in ([], ["ledger.unavailable"])
    assert len(ledger.history(doc.id)) == 1
    ledger.close()


def test_open_ledger_selects_postgres(cluster: PgCluster) -> None:
    from cbec_declare.pipeline.postgres_ledger import PostgresLedger

    url = cluster.create_database("ledger_url")
    for target in (url, url.replace("postgresql://", "postgres://", 1)):
        ledger = open_ledger(target)
        assert isinstance(ledger, PostgresLedger)
        ledger.submit([new_doc()])
        ledger.close()
    assert _sql(url, "SELECT count(*) FROM documents") == [(2,)]
