"""The multi-process half of the ledger conformance suite: racing processes, and SIGKILL at random moments.

Child programs run in fresh interpreters (``python -c``), open the ledger by URL with
:func:`~cbec_declare.pipeline.ledgers.open_ledger`, and acknowledge what they did to a file with one
``os.write`` *after* each commit, so the acknowledgements survive SIGKILL and never claim more than the
ledger holds. A backend's test module subclasses :class:`ProcessConformance` next to
:class:`~ledger_conformance.LedgerConformance`.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from cbec_declare.pipeline import states
from cbec_declare.pipeline.ledger import DocumentRecord
from cbec_declare.pipeline.ledgers import open_ledger
from cbec_declare.pipeline.states import State, Transition
from pipeline.ledger_conformance import (
    Store,
    apply_event,
    assert_history_consistent,
    count_up,
    ignore,
    new_doc,
    receipt,
    to_state,
)

TESTS = Path(__file__).resolve().parents[1]
_CHILD = (
    "import sys; sys.path.insert(0, sys.argv[1]);"
    " from pipeline.ledger_processes import main; main(sys.argv[2:])"
)


# -- the child side


class _Acks:
    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def __call__(self, *fields: object) -> None:
        os.write(self._fd, (" ".join(map(str, fields)) + "\n").encode())


def _wait_file(path: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise SystemExit(f"{path} did not appear in {timeout} s")
        time.sleep(0.005)


def _race(url: str, ack_path: str, go: str, ids: str, rounds: str, tag: str) -> None:
    ack, ledger = _Acks(ack_path), open_ledger(url)
    ack("ready")
    _wait_file(go)
    for k in range(int(rounds)):
        for document_id in map(int, ids.split(",")):
            ledger.transition(document_id, count_up, event=f"{tag}-{k}")
    ledger.close()


def _claim(url: str, ack_path: str, go: str, owner: str) -> None:
    ack, ledger = _Acks(ack_path), open_ledger(url)
    ack("ready")
    _wait_file(go)
    while batch := ledger.claim_due(now=datetime.now(timezone.utc), owner=owner, limit=3, lease_seconds=600):
        for record in batch:

            def process(fresh: DocumentRecord) -> Transition:
                return to_state(State.DECLARED)(fresh) if fresh.state is State.QUEUED else ignore(fresh)

            _, outcome = ledger.transition(record.id, process, event=f"processed by {owner}")
            if outcome.applied:
                ack(record.id)
            ledger.release(record.id, owner=owner)
    ledger.close()


def _first_open(url: str, ack_path: str, go: str) -> None:
    ack = _Acks(ack_path)
    _wait_file(go)
    ledger = open_ledger(url)
    (result,) = ledger.submit([new_doc()])
    ack(result.id)
    ledger.close()


_PATH: list[states.Event] = [
    states.SendStarted(channel="platform"),
    states.PlatformAnswered(accepted=True),
    states.PlatformReceipt(accepted=True),
    states.SendStarted(channel="node"),
    states.NodeAnswered(accepted=True),
]


def _crash(url: str, ack_path: str, round_no: str, seed: str) -> None:
    """Submit and move documents forever; the parent kills this process."""
    ack, ledger, rng = _Acks(ack_path), open_ledger(url), random.Random(int(seed))
    statuses = ["2", "120", "300", "500", "800", "100"]
    for i in range(10**9):
        (doc,) = ledger.submit([new_doc(guid=f"crash-{round_no}-{i}")])
        ack("S", doc.id)
        events: list[states.Event] = _PATH[: rng.randint(0, len(_PATH))]
        events += [receipt(rng.choice(statuses)) for _ in range(rng.randint(0, 3))]
        for event in events:
            record, _ = apply_event(ledger, doc.id, event)
            ack("T", doc.id, record.state.value)
        if rng.random() < 0.3:
            body = rng.randbytes(rng.randint(0, 2048))
            message_id, _ = ledger.record_message(
                direction="in", channel="push", message_type="CEB622Message", key=f"push-{round_no}-{i}",
                body=body, document_ids=[doc.id],
            )  # fmt: skip
            ack("M", doc.id, message_id, hashlib.sha256(body).hexdigest())


def _hold(url: str, ack_path: str) -> None:
    """Stop inside a transition's transaction until killed."""
    ack, ledger = _Acks(ack_path), open_ledger(url)
    (doc,) = ledger.submit([new_doc()])
    ack("S", doc.id)

    def stall(record: DocumentRecord) -> Transition:
        ack("inside")
        time.sleep(300)
        return to_state(State.DECLARED)(record)

    ledger.transition(doc.id, stall, event="never committed")


_PROGRAMS: dict[str, Callable[..., None]] = {
    "race": _race,
    "claim": _claim,
    "first_open": _first_open,
    "crash": _crash,
    "hold": _hold,
}


def main(argv: list[str]) -> None:
    """Entry point of a child process: ``<program> <args…>``."""
    _PROGRAMS[argv[0]](*argv[1:])


# -- the parent side


class Child:
    """A child program, its acknowledgement file and its stderr (shown when it fails)."""

    def __init__(self, folder: Path, name: str, program: str, *args: str) -> None:
        self.acks, self.log = folder / f"{name}.acks", folder / f"{name}.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _CHILD, str(TESTS), program, *args[:1], str(self.acks), *args[1:]],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
            )  # fmt: skip

    def lines(self) -> list[list[str]]:
        if not self.acks.exists():
            return []
        text = self.acks.read_text()
        return [line.split() for line in text.split("\n")[: text.count("\n")]]

    def wait_acks(self, count: int, timeout: float = 60.0) -> None:
        wait_for(lambda: len(self.lines()) >= count or self.proc.poll() is not None, timeout, "acks")
        assert len(self.lines()) >= count, f"child ended early ({self.proc.returncode}): {self.stderr()}"

    def finish(self, timeout: float = 180.0) -> None:
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise AssertionError(f"child did not finish in {timeout} s: {self.stderr()}") from None
        assert code == 0, f"child failed ({code}): {self.stderr()}"

    def kill(self) -> None:
        assert self.proc.poll() is None, f"child died before the kill: {self.stderr()}"
        self.proc.send_signal(signal.SIGKILL)
        assert self.proc.wait(30) == -signal.SIGKILL

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.01)


def check_after_crash(store: Store, acks: list[list[str]]) -> None:
    """What a SIGKILL must never break: integrity, acknowledged work, whole transitions."""
    assert store.check_integrity() == []
    ledger = store.open()  # reopens (and re-checks the schema) cleanly
    try:
        for fields in acks:
            document_id = int(fields[1])
            record = ledger.get(document_id)  # every acknowledged document is there
            if fields[0] == "T":
                applied = [e.new_state.value for e in ledger.history(document_id) if e.applied]
                assert fields[2] in applied or fields[2] == State.QUEUED.value, (fields, applied)
            elif fields[0] == "M":
                stored = {m.id: m for m in ledger.messages(document_id)}[int(fields[2])]
                assert hashlib.sha256(stored.body).hexdigest() == stored.sha256 == fields[3]
            assert_history_consistent(ledger, record)
        for record in ledger.find(limit=10**6):  # acknowledged or not: no transition half-applied
            assert_history_consistent(ledger, record)
    finally:
        ledger.close()


class ProcessConformance:
    """Several processes on one ledger. Subclasses provide a ``store`` fixture (a fresh Store)."""

    def test_processes_racing_transitions_lose_no_update(self, store: Store, tmp_path: Path) -> None:
        ledger = store.open()
        ids = [r.id for r in ledger.submit([new_doc() for _ in range(3)])]
        go, processes, rounds = tmp_path / "go", 3, 15
        id_list = ",".join(map(str, ids))
        children = [
            Child(tmp_path, f"race{n}", "race", store.url, str(go), id_list, str(rounds), f"p{n}")
            for n in range(processes)
        ]
        for child in children:
            child.wait_acks(1)
        go.touch()
        for child in children:
            child.finish()
        total = processes * rounds
        for document_id in ids:
            assert ledger.get(document_id).customs_rank == total
            entries = ledger.history(document_id)
            assert [e.customs_status for e in entries] == [str(i) for i in range(1, total + 1)]
        ledger.close()

    def test_processes_claiming_one_batch_never_share(self, store: Store, tmp_path: Path) -> None:
        ledger = store.open()
        ids = {r.id for r in ledger.submit([new_doc() for _ in range(45)])}
        go = tmp_path / "go"
        children = [Child(tmp_path, f"claim{n}", "claim", store.url, str(go), f"w{n}") for n in range(3)]
        for child in children:
            child.wait_acks(1)
        go.touch()
        for child in children:
            child.finish()
        processed = [int(f[0]) for child in children for f in child.lines() if f[0] != "ready"]
        assert sorted(processed) == sorted(ids)  # every document once, none twice
        for document_id in ids:
            (entry,) = ledger.history(document_id)
            assert entry.applied
            assert entry.new_state is State.DECLARED
        ledger.close()

    def test_processes_opening_a_new_store_together(self, store: Store, tmp_path: Path) -> None:
        go = tmp_path / "go"
        children = [Child(tmp_path, f"open{n}", "first_open", store.url, str(go)) for n in range(4)]
        time.sleep(0.5)  # let them start, then release them at once
        go.touch()
        for child in children:
            child.finish()
        assert store.schema_versions() == [1]
        ledger = store.open()
        assert len(ledger.find()) == 4
        ledger.close()

    def test_a_process_killed_inside_a_transaction_leaves_nothing(self, store: Store, tmp_path: Path) -> None:
        child = Child(tmp_path, "hold", "hold", store.url)
        child.wait_acks(2)  # "S <id>", then "inside" the transaction
        child.kill()
        document_id = int(child.lines()[0][1])
        check_after_crash(store, child.lines()[:1])
        ledger = store.open()
        assert ledger.get(document_id).state is State.QUEUED
        assert ledger.history(document_id) == []
        ledger.transition(document_id, count_up, event="after the kill")  # the lock died with it
        assert len(ledger.history(document_id)) == 1
        ledger.close()

    def test_sigkill_at_random_moments(self, store: Store, tmp_path: Path) -> None:
        rng = random.Random(20260301)
        store.open().close()
        acks: list[list[str]] = []
        for round_no in range(5):
            child = Child(
                tmp_path, f"crash{round_no}", "crash", store.url, str(round_no), str(rng.randrange(2**32))
            )
            child.wait_acks(3)
            time.sleep(rng.uniform(0.0, 0.3))
            child.kill()
            acks += child.lines()
            check_after_crash(store, acks)
        assert sum(1 for fields in acks if fields[0] == "T") > 10  # the children did real work
