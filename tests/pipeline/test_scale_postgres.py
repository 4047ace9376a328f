"""Scale-out on PostgreSQL: worker processes share one declaration stream, SIGKILL loses nothing, and a
claim that outlasts its lease (once by design, then with leases of a millisecond) never declares twice.

Everything is real: a throw-away PostgreSQL server, worker processes (``pg_worker.py``) each with its own
2.1 receipt endpoint, one sandbox (platform, exchange node, customs) in this process pushing every receipt
to every endpoint, and SIGKILL. What is checked comes from three independent places:

* customs (the sandbox): ``declared_twice == 0``, each business document processed once, and the one
  CopMsgId under which it reached customs;
* the ledger: every document final, one applied ``node_send`` whose stored message carries exactly that
  CopMsgId, each customs status applied once, every receipt stored once although every worker got it;
* the worker processes' own event logs: who sent what (the work really was shared).
"""

from __future__ import annotations

import collections
import random
import selectors
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone
from itertools import count
from pathlib import Path
from typing import Any

import attrs
import pytest

from cbec_declare.pipeline import Pipeline, PipelineSettings, State, open_ledger
from cbec_declare.pipeline.ledger import Ledger
from cbec_declare.pipeline.steps import perform
from cbec_declare.sandbox import Sandbox, SandboxConfig, SandboxStats
from cbec_declare.sandbox.config import ChannelFaults, FaultConfig, PushConfig, TimingConfig
from cbec_declare.signing import Signer
from cbec_declare.testing.factories import DocumentFactory
from cbec_declare.testing.harness import company_for, throwaway_signer
from cbec_declare.transport import SoapNodeTransport
from pipeline._pg import PgCluster
from pipeline.test_ledger_postgres import cluster  # noqa: F401 - the session's throw-away server

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

HERE = Path(__file__).resolve().parent
_databases = count(1)
#: a receipt reaches every endpoint; while one worker restarts, its copies are retried for ~10 s
#: (backoff is scaled by time_scale: 0.02 × 1…5 s)
PUSHES = PushConfig(attempts=100, backoff=1.0, max_backoff=5.0, timeout=5.0)
FINISH = 300.0  # seconds: the bound on waiting for a batch to end (it takes a few seconds)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(done: Callable[[], bool], timeout: float, poll: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done():
            return True
        time.sleep(poll)
    return done()


def pushing_to(ports: list[int], *, seed: int, time_scale: float) -> SandboxConfig:
    """A sandbox that pushes every receipt to the endpoint of every worker process on ``ports``."""
    return SandboxConfig(
        seed=seed,
        timing=TimingConfig(time_scale=time_scale),
        push=PUSHES,
        receivers=tuple(f"http://127.0.0.1:{port}" for port in ports),
    )


@attrs.define
class Deployment:
    """What every worker process of one test shares: the sandbox credentials, the key, the ledger URL."""

    folder: Path
    ledger_url: str
    credentials: Path
    key: Path
    cert: Path
    incarnations: count[int] = attrs.field(factory=count)

    def start(self, port: int, *, go: bool = False, lease: float = 5.0) -> WorkerProcess:
        incarnation = next(self.incarnations)
        events = self.folder / f"events-{port}-{incarnation}.log"
        args = [
            "--credentials", str(self.credentials), "--ledger", self.ledger_url, "--port", str(port),
            "--key", str(self.key), "--cert", str(self.cert), "--events", str(events),
            "--lease", str(lease), *(["--go"] if go else []),
        ]  # fmt: skip
        with (self.folder / f"worker-{port}-{incarnation}.log").open("wb") as log:  # kept in tmp_path
            process = subprocess.Popen(
                [sys.executable, str(HERE / "pg_worker.py"), *args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
            )
        worker = WorkerProcess(process, port, events)
        worker.wait_ready(timeout=120)
        return worker


@attrs.define
class WorkerProcess:
    process: subprocess.Popen[bytes]
    port: int
    events: Path

    def wait_ready(self, timeout: float) -> None:
        assert self.process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            if not selector.select(timeout):
                self.kill()
                pytest.fail(f"worker on port {self.port} not ready within {timeout} s")
        line = self.process.stdout.readline().strip()
        assert line == b"ready", line

    def go(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"go\n")
        self.process.stdin.flush()

    def kill(self) -> None:
        """SIGKILL: no cleanup, no flush, mid-transaction or mid-send."""
        self.process.kill()
        self._reap()

    def stop(self) -> None:
        """SIGTERM: the worker finishes its steps and exits (killed if it does not within 60 s)."""
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._reap()

    def _reap(self) -> None:
        self.process.wait(timeout=30)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()

    def owner(self) -> str:
        """The process's lease owner (its threads lease as ``<owner>/t<n>``)."""
        first = self.events.read_text().split("\n", 1)[0].split()
        assert first[0] == "owner", first
        return first[1]

    def sent(self) -> list[int]:
        """The documents this process moved to NODE_SENDING (its applied ``node_send`` events)."""
        lines = self.events.read_text().splitlines()
        return [int(line.split()[1]) for line in lines if line.startswith("node_send ")]


def pipeline_for(ledger: Ledger, sandbox: Sandbox, signer: Signer, owner: str | None = None) -> Pipeline:
    """A pipeline in this process, on ``ledger``, talking to ``sandbox`` (no worker threads)."""
    credentials = sandbox.credentials
    return Pipeline(
        ledger,
        base_transfer=company_for(credentials).base_transfer,
        signer=signer,
        node=SoapNodeTransport(credentials.soap_node_profile()),
        platform=credentials.platform_client(),
        settings=PipelineSettings(spec_version=credentials.spec_version),
        owner=owner,
    )


@pytest.fixture
def closing() -> Iterator[ExitStack]:
    """Closes what a test opened even when it fails: an open ledger left to the garbage collector
    surfaces as a ResourceWarning in whichever later test happens to collect it."""
    with ExitStack() as stack:
        yield stack


def deploy(
    folder: Path, ledger_url: str, sandbox: Sandbox, closing: ExitStack
) -> tuple[Deployment, Pipeline]:
    """Write the files the workers need; a pipeline in this process submits the documents (its ledger
    is closed by ``closing``)."""
    signer = throwaway_signer()
    key, cert = folder / "enterprise.key", folder / "enterprise.crt"
    key.write_bytes(signer.private_key_pem(None))  # type: ignore[attr-defined]
    cert.write_bytes(signer.certificate_pem())  # type: ignore[attr-defined]
    path = sandbox.credentials.write(folder / "credentials.json")
    submitter = pipeline_for(closing.enter_context(open_ledger(ledger_url)), sandbox, signer)
    return Deployment(folder, ledger_url, path, key, cert), submitter


def sales(pipeline: Pipeline, sandbox: Sandbox, number: int, seed: int) -> list[int]:
    """Submit ``number`` sales (order, payment, waybill, inventory): 4 × ``number`` documents."""
    factory = DocumentFactory(seed=seed, company=company_for(sandbox.credentials))
    results = pipeline.submit(factory.sales(number, items=2))
    assert all(r.created for r in results)
    return [r.id for r in results]


def declared(ledger: Ledger) -> int:
    """How many documents the exchange node has accepted (DECLARED or beyond)."""
    return sum(n for state, n in ledger.counts().items() if state.rank >= State.DECLARED.rank)


def stuck_report(ledger: Ledger) -> list[Any]:
    return [
        (
            r.id,
            r.kind.value,
            r.state.value,
            [(h.event, h.new_state.value, h.applied) for h in ledger.history(r.id)],
        )
        for r in ledger.find(limit=10_000)
        if not r.state.is_final
    ][:10]


def customs_cop_msg_ids(sandbox: Sandbox) -> dict[str, set[str]]:
    """guid → the CopMsgIds under which customs (the sandbox) processed a document with that guid."""
    seen: dict[str, set[str]] = collections.defaultdict(set)
    for state in sandbox.documents():
        if state.channel == "node":
            seen[state.guid].add(state.ref.split("/", 1)[0])
    return seen


def stored_pushes(ledger_url: str) -> tuple[int, int]:
    """(incoming pushes stored, distinct push ids among them), straight from the database."""
    import psycopg

    with psycopg.connect(ledger_url, connect_timeout=10) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT key) FROM messages WHERE direction = 'in' AND channel = 'push'"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def leased_by(ledger_url: str, owner: str) -> set[int]:
    """The documents whose lease some thread of ``owner`` holds (the ledger has no call for this)."""
    import psycopg

    with psycopg.connect(ledger_url, connect_timeout=10) as conn:
        rows = conn.execute("SELECT id FROM documents WHERE lease_owner LIKE %s", (owner + "/%",)).fetchall()
    return {int(row[0]) for row in rows}


def assert_declared_once(
    ledger: Ledger, ids: list[int], sandbox: Sandbox, stats: SandboxStats, *, one_message: bool
) -> None:
    """Each document reached customs once, under the CopMsgId of its one applied ``node_send``.

    ``one_message``: also no second outgoing node message was even stored (true without crashes; a
    worker killed between storing a message and its ``node_send`` leaves one that was never sent).
    """
    sales_count = len(ids) // 4
    assert stats.declared_twice == 0
    for message_type in ("CEB311Message", "CEB411Message", "CEB511Message", "CEB621Message"):
        assert stats.documents[message_type] == sales_count, (message_type, stats.documents)
    customs = customs_cop_msg_ids(sandbox)
    for document_id in ids:
        record = ledger.get(document_id)
        history = ledger.history(document_id)
        sends = [h for h in history if h.event == "node_send" and h.applied]
        assert len(sends) == 1, (document_id, [(h.event, h.new_state.value, h.applied) for h in history])
        out = {
            m.id: m.key for m in ledger.messages(document_id) if (m.direction, m.channel) == ("out", "node")
        }
        assert sends[0].message_id in out
        assert customs[record.guid] == {out[sends[0].message_id]}, (document_id, customs[record.guid], out)
        if one_message:
            assert len(set(out.values())) == 1, (document_id, out)
        statuses = [h.customs_status for h in history if h.event.startswith("receipt_") and h.applied]
        assert len(statuses) == len(set(statuses)), (document_id, statuses)  # each receipt applied once


def test_several_worker_processes_share_one_batch(
    cluster: PgCluster,  # noqa: F811
    tmp_path: Path,
    closing: ExitStack,
) -> None:
    workers_count, sales_count = 3, 100  # 400 documents
    url = cluster.create_database(f"scale_{next(_databases)}")
    ports = [free_port() for _ in range(workers_count)]
    config = pushing_to(ports, seed=5, time_scale=0.01)
    with Sandbox(config) as sandbox:
        deployment, submitter = deploy(tmp_path, url, sandbox, closing)
        ledger = submitter.ledger
        ids = sales(submitter, sandbox, sales_count, seed=21)
        workers = [deployment.start(port, go=True, lease=30.0) for port in ports]
        try:
            for worker in workers:  # all start claiming together
                worker.go()
            finished = wait_until(lambda: submitter.pending() == 0, FINISH, poll=0.2)
            # Every copy of every receipt delivered (each went to all endpoints) before looking.
            idle = sandbox.wait_idle(60)
        finally:
            for worker in workers:
                worker.stop()
        stats = sandbox.stats()
        assert finished, stuck_report(ledger)
        assert idle, stats.format()
        assert_declared_once(ledger, ids, sandbox, stats, one_message=True)

    counts = ledger.counts()
    assert sum(counts.values()) == len(ids)
    assert counts[State.RELEASED] == len(ids), counts
    assert stats.duplicate_deliveries.get("node", 0) == 0  # no send was repeated: no lease ran out
    assert stats.pushes_abandoned == 0
    # Every receipt went to every endpoint, and was stored (and applied) once.
    stored, distinct = stored_pushes(url)
    assert stored == distinct == stats.receipts_scheduled
    assert stats.receipts_pushed == workers_count * stats.receipts_scheduled
    # The work was shared: every process sent some documents, no document was sent by two.
    sent = [worker.sent() for worker in workers]
    assert all(sent), [len(s) for s in sent]
    assert sorted(i for s in sent for i in s) == sorted(ids)
    ledger.close()


def test_sigkill_of_one_worker_loses_nothing_on_postgres(
    cluster: PgCluster,  # noqa: F811
    tmp_path: Path,
    closing: ExitStack,
) -> None:
    rnd = random.Random(20261201)
    sales_count, kills = 60, 5  # 240 documents
    url = cluster.create_database(f"scale_{next(_databases)}")
    ports = [free_port(), free_port()]
    config = pushing_to(ports, seed=9, time_scale=0.02)
    # Kill when these shares of the batch have been declared: random moments, but always mid-batch,
    # while documents are still being sent. Not later than 60 %: a kill near the end (90 % once) can
    # come after a fast machine has finished the batch, and then it tests nothing.
    moments = sorted(rnd.uniform(0.05, 0.6) for _ in range(kills))
    with Sandbox(config) as sandbox:
        deployment, submitter = deploy(tmp_path, url, sandbox, closing)
        ledger = submitter.ledger
        ids = sales(submitter, sandbox, sales_count, seed=33)
        workers = [deployment.start(port) for port in ports]
        # per kill: (documents not final yet, documents the killed process held leases on)
        killed: list[tuple[int, set[int]]] = []
        try:
            for share in moments:
                assert wait_until(lambda share=share: declared(ledger) >= share * len(ids), FINISH)
                time.sleep(rnd.uniform(0.0, 0.3))
                slot = rnd.randrange(len(workers))
                victim = workers[slot]
                victim.kill()
                killed.append((submitter.pending(), leased_by(url, victim.owner())))
                workers[slot] = deployment.start(ports[slot])  # the survivor works on meanwhile
            finished = wait_until(lambda: submitter.pending() == 0, FINISH, poll=0.2)
        finally:
            for worker in workers:
                worker.stop()
        stats = sandbox.stats()
        assert finished, stuck_report(ledger)
        assert_declared_once(ledger, ids, sandbox, stats, one_message=False)

    assert len(killed) == kills
    assert all(pending > 0 for pending, _ in killed), killed  # every kill hit a batch in progress
    # ... and some hit documents in the dead process's hands (leased, mid-step): the other process took
    # them over once the lease ran out (they are RELEASED with the rest).
    assert any(orphans for _, orphans in killed), killed
    counts = ledger.counts()
    assert sum(counts.values()) == len(ids)  # nothing lost, nothing added
    assert counts[State.RELEASED] == len(ids), counts
    # Processes that never ran together left the ledger consistent: pass PostgreSQL's own index checks.
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS amcheck")
        indexes = conn.execute(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema()"
        ).fetchall()
        for (index,) in indexes:
            conn.execute("SELECT bt_index_parent_check(%s::regclass, true)", (index,))
    ledger.close()


def test_a_worker_whose_lease_ran_out_does_not_declare_again(
    cluster: PgCluster,  # noqa: F811
    closing: ExitStack,
) -> None:
    """The lease covers a whole claim (up to ``Worker.batch`` documents, sent one after another), so on a
    slow network it can run out before the worker reaches its last documents, and another worker claims
    them. The late worker must not send them again under a new CopMsgId (the fence of ``steps.py``:
    a send starts only if the document is as it was claimed).

    No waiting on the clock: the claims are given their ``now``; the node answers slowly (0.5 s) so that
    B's send is in flight while A, holding its stale claim, gets to the same document."""
    url = cluster.create_database(f"scale_{next(_databases)}")
    slow_node = FaultConfig(node=ChannelFaults(slow_rate=1.0, slow_seconds=(0.5, 0.5)))
    with Sandbox(SandboxConfig(seed=4, faults=slow_node)) as sandbox:
        ledger = closing.enter_context(open_ledger(url))
        signer = throwaway_signer()
        late, other = pipeline_for(ledger, sandbox, signer, "A"), pipeline_for(ledger, sandbox, signer, "B")
        factory = DocumentFactory(seed=8, company=company_for(sandbox.credentials))
        [submitted] = late.submit([factory.payment_for(factory.order())])
        now = datetime.now(timezone.utc)
        stale = ledger.claim_due(now=now, owner="A", limit=20, lease_seconds=90)
        # 90 s later A has not reached this document yet (slow sends ahead of it in its claim) ...
        fresh = ledger.claim_due(now=now + timedelta(seconds=91), owner="B", limit=20, lease_seconds=90)
        assert [r.id for r in stale] == [r.id for r in fresh] == [submitted.id]
        sending = threading.Thread(target=perform, args=(other, fresh))
        sending.start()
        try:
            in_flight = wait_until(
                lambda: ledger.get(submitted.id).state is State.NODE_SENDING, 30, poll=0.01
            )
            assert in_flight
            perform(late, stale)  # ... and now it does, with the record it claimed
        finally:
            sending.join(60)
        stats = sandbox.stats()
        history = ledger.history(submitted.id)
        guid = ledger.get(submitted.id).guid
        ledger.close()
    sends = [h for h in history if h.event == "node_send"]
    assert [h.applied for h in sends] == [True, False]  # B's send started; A's was refused ...
    assert "changed since it was claimed" in sends[1].reason
    assert len(customs_cop_msg_ids(sandbox)[guid]) == 1  # ... so customs got one declaration
    assert stats.declared_twice == 0


def test_leases_that_always_expire_still_declare_once(
    cluster: PgCluster,  # noqa: F811
    tmp_path: Path,
    closing: ExitStack,
) -> None:
    """The worst case of the above, with real processes: leases of a millisecond, so that every claim of
    every worker thread takes documents other threads are still working on. Work is wasted and stored
    messages are resent (same CopMsgId: harmless), but no document reaches customs twice."""
    url = cluster.create_database(f"scale_{next(_databases)}")
    ports = [free_port(), free_port()]
    config = pushing_to(ports, seed=6, time_scale=0.01)
    with Sandbox(config) as sandbox:
        deployment, submitter = deploy(tmp_path, url, sandbox, closing)
        ledger = submitter.ledger
        ids = sales(submitter, sandbox, 25, seed=44)
        workers = [deployment.start(port, go=True, lease=0.001) for port in ports]
        try:
            for worker in workers:
                worker.go()
            finished = wait_until(lambda: submitter.pending() == 0, FINISH, poll=0.2)
        finally:
            for worker in workers:
                worker.stop()
        stats = sandbox.stats()
        assert finished, stuck_report(ledger)
        assert_declared_once(ledger, ids, sandbox, stats, one_message=False)
        refused = [h for i in ids for h in ledger.history(i) if h.event.endswith("_send") and not h.applied]
    assert refused, "the claims never overlapped: the test did not test the fence"
    assert ledger.counts()[State.RELEASED] == len(ids)
    ledger.close()
