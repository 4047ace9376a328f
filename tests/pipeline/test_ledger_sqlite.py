"""SqliteLedger: the conformance suite on real files, and what only SQLite has (pragmas, file locks)."""

from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from cbec_declare.errors import LedgerError
from cbec_declare.pipeline.ledgers import open_ledger
from cbec_declare.pipeline.sqlite_ledger import SqliteLedger, _map_errors
from cbec_declare.pipeline.states import State
from pipeline.ledger_conformance import FIND_CRITERIA_SQL, LedgerConformance, Store, count_up, new_doc
from pipeline.ledger_processes import ProcessConformance


def _query(path: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


def sqlite_store(path: Path) -> Store:
    def check_integrity() -> list[str]:
        problems = [str(row[0]) for row in _query(path, "PRAGMA integrity_check") if row[0] != "ok"]
        return problems + [str(row) for row in _query(path, "PRAGMA foreign_key_check")]

    return Store(
        url=f"sqlite:///{path}",  # an absolute path: sqlite:////tmp/…
        open=lambda **options: SqliteLedger(path, **options),
        check_integrity=check_integrity,
        schema_versions=lambda: [
            int(str(r[0])) for r in _query(path, "SELECT version FROM schema_version ORDER BY 1")
        ],
        tables=lambda: {
            str(r[0]) for r in _query(path, "SELECT name FROM sqlite_master WHERE type = 'table'")
        },
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return sqlite_store(tmp_path / "ledger.db")


class TestSqliteConformance(LedgerConformance):
    pass


class TestSqliteProcesses(ProcessConformance):
    pass


def test_connection_settings(tmp_path: Path) -> None:
    for mode, level in (("FULL", 2), ("NORMAL", 1), ("extra", 3)):
        path = tmp_path / f"{mode}.db"
        with SqliteLedger(path, synchronous=mode) as ledger, ledger._pool.connection() as conn:
            assert conn.execute("PRAGMA synchronous").fetchone() == (level,)
            assert conn.execute("PRAGMA foreign_keys").fetchone() == (1,)
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
            ledger.submit([new_doc()])
        assert repr(ledger) == f"SqliteLedger({str(path)!r}, synchronous={mode.upper()!r})"
        # Times are exact integer microseconds.
        assert _query(path, "SELECT typeof(created_at), typeof(updated_at) FROM documents") == [
            ("integer", "integer")
        ]


@pytest.mark.parametrize(
    ("path", "options"),
    [(":memory:", {}), ("", {}), ("file:x.db?mode=memory", {}), ("x.db", {"synchronous": "OFF"}),
     ("x.db", {"busy_timeout": -1})],
)  # fmt: skip
def test_configuration_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str, options: dict[str, Any]
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(LedgerError) as caught:
        SqliteLedger(path, **options)
    assert caught.value.code == "ledger.config"
    assert not (tmp_path / "x.db").exists()


def test_unusable_files(tmp_path: Path) -> None:
    with pytest.raises(LedgerError) as caught:
        SqliteLedger(tmp_path / "no such folder" / "ledger.db")
    assert caught.value.code == "ledger.unavailable"
    assert "no such folder" in str(caught.value)
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database, " * 100)
    with pytest.raises(LedgerError) as caught:
        SqliteLedger(garbage)
    assert caught.value.code == "ledger.storage"


def test_a_busy_file_is_waited_for_then_reported(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    ledger = SqliteLedger(path, busy_timeout=0.2)
    (doc,) = ledger.submit([new_doc()])
    with closing(sqlite3.connect(path, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")  # another writer holds the file
        with pytest.raises(LedgerError) as caught:
            ledger.transition(doc.id, count_up, event="blocked")
        assert caught.value.code == "ledger.busy"
        assert ledger.get(doc.id).state is State.QUEUED  # readers are not blocked (WAL)
        other.execute("COMMIT")
    ledger.transition(doc.id, count_up, event="free again")
    assert [e.event for e in ledger.history(doc.id)] == ["free again"]
    ledger.close()


def test_every_sqlite3_error_becomes_a_ledger_error() -> None:
    classes = [c for c in vars(sqlite3).values() if isinstance(c, type) and issubclass(c, sqlite3.Error)]
    assert len(classes) >= 9
    for cls in classes:
        original = cls("database is locked")
        with pytest.raises(LedgerError) as caught, _map_errors("test"):
            raise original
        assert caught.value.__cause__ is original
        assert caught.value.code.startswith("ledger.")
    with pytest.raises(ZeroDivisionError), _map_errors("test"):  # other exceptions pass unchanged
        raise ZeroDivisionError


def test_every_find_criterion_uses_an_index(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    SqliteLedger(path).close()
    for column, sql in FIND_CRITERIA_SQL.items():
        plan = " ".join(str(row[-1]) for row in _query(path, "EXPLAIN QUERY PLAN " + sql.format(now=0)))
        assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, (column, plan)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts open files through /proc")
def test_short_lived_threads_do_not_pile_up_connections(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"

    def open_files() -> int:
        links = []
        for fd in os.listdir("/proc/self/fd"):
            try:
                links.append(os.readlink(f"/proc/self/fd/{fd}"))
            except FileNotFoundError:  # the descriptor of the listing itself, closed since
                continue
        return links.count(str(path))

    ledger = SqliteLedger(path, max_idle=2)
    (doc,) = ledger.submit([new_doc()])
    for _ in range(30):  # like an HTTP server answering each push on a new thread
        worker = threading.Thread(target=ledger.transition, args=(doc.id, count_up), kwargs={"event": "push"})
        worker.start()
        worker.join(30)
    assert len(ledger.history(doc.id)) == 30
    assert 1 <= open_files() <= 2
    ledger.close()
    assert open_files() == 0


def test_open_ledger_selects_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for target, expected in (
        ("relative.db", tmp_path / "relative.db"),
        (tmp_path / "pathlike.db", tmp_path / "pathlike.db"),
        ("sqlite:///url-relative.db", tmp_path / "url-relative.db"),
        (f"sqlite:///{tmp_path}/url-absolute.db", tmp_path / "url-absolute.db"),
        ("sqlite:///with%20space.db?synchronous=NORMAL&busy_timeout=2.5", tmp_path / "with space.db"),
    ):
        ledger = open_ledger(target)
        assert isinstance(ledger, SqliteLedger)
        assert ledger.path.resolve() == expected
        ledger.close()
        assert expected.exists()
    with closing(open_ledger("sqlite:///with%20space.db?synchronous=NORMAL")) as ledger:
        assert isinstance(ledger, SqliteLedger)
        assert ledger.synchronous == "NORMAL"
    for bad in (
        "mysql://db/x",
        "sqlite://host/x.db",
        "sqlite:///x.db?journal=off",
        "sqlite:///x.db?busy_timeout=soon",
    ):
        with pytest.raises(LedgerError) as caught:
            open_ledger(bad)
        assert caught.value.code == "ledger.config", bad
