"""Soak: thousands of declarations through the full flow under every sandbox fault, the worker SIGKILLed.

Run (not in CI; ``tests/benchmarks/test_soak_short.py`` runs a short version)::

    python benchmarks/soak.py [--count 10000] [--kills 3] [--seed 1] [--fault-rate 0.1]

* The sandbox runs in another process (spawned, :func:`cbec_declare.sandbox.cli.run_sandbox`) with every
  fault at ``--fault-rate`` per request or push: on the platform (2.2) and the node (2.3) drops, 5xx,
  slow answers and timeouts in ``late`` mode (the request is processed after the client gave up, so its
  retry is a duplicate delivery); on the pushes (2.1) duplicates, reorderings and failed attempts. No
  push *loss*: a receipt that never comes makes a document unfinishable by design.
* ``--count`` declarations (orders, payments, waybills, inventories of ``count / 4`` sales) are
  submitted from this process into a SQLite ledger (durable default, ``synchronous=FULL``).
* A worker process (``_bench_worker.py``: pipeline, receipt endpoint, 12 threads claiming ``--batch``
  documents each, ``--lease`` seconds, 1 s HTTP timeouts, quick transport retries within 4 s) works
  through them. A thread holds the leases of its whole claim while it works it document by document, so
  the lease must outlast ``batch`` steps; ``--batch 20 --lease 10`` breaks that on purpose. It
  is killed with SIGKILL ``--kills`` times at random moments — each when a random share of the documents
  is final, plus a random fraction of a second — and started again after a random pause (while it is
  dead, the sandbox's pushes fail and are retried).
* At the end: declared, reached a final state (per state), **lost** (not final, or missing: must be 0),
  **declared twice** (must be 0) from the sandbox (customs saw a business document in two different
  messages, or a second appType 1) and from the ledger (a document put into NODE_SENDING with two
  different CopMsgIds), retries (pipeline, transport duplicates seen by the sandbox, pushes), faults
  injected, and the time. Exit status 1 if anything was lost or declared twice.
"""

from __future__ import annotations

import argparse
import json
import random
import select
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import attrs

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench_common import BENCH_DIR, Row, SandboxProcess, free_port, sales, sandbox_mapping, write_rows

from cbec_declare.pipeline import Pipeline, PipelineSettings, State, open_ledger
from cbec_declare.pipeline.ledger import Ledger
from cbec_declare.sandbox.credentials import SandboxCredentials
from cbec_declare.testing.factories import DocumentFactory
from cbec_declare.testing.harness import company_for, throwaway_signer
from cbec_declare.transport import SoapNodeTransport

BENCH = "soak"
#: what a sale's four declarations are called by the customs simulator
MESSAGE_TYPES = {
    "order": "CEB311Message",
    "payment": "CEB411Message",
    "logistics": "CEB511Message",
    "inventory": "CEB621Message",
}


@attrs.frozen(kw_only=True)
class SoakResult:
    declared: int
    final: int
    states: dict[str, int]
    #: documents final in another state than RELEASED, with the ledger's reason
    unreleased: list[str]
    lost: int
    not_final: list[str]
    twice_sandbox: int
    twice_ledger: int
    retries: dict[str, int]
    faults: dict[str, int]
    kills: int
    seconds: float
    sandbox: dict[str, Any]

    def lines(self) -> list[str]:
        return [
            f"declared                  {self.declared}",
            f"reached a final state     {self.final}  {self.states}",
            *(f"    {line}" for line in self.unreleased[:10]),
            f"lost                      {self.lost}" + (f"  {self.not_final[:10]}" if self.not_final else ""),
            f"declared twice (sandbox)  {self.twice_sandbox}",
            f"declared twice (ledger)   {self.twice_ledger}",
            f"retries                   {self.retries}",
            f"faults injected           {self.faults}",
            f"worker SIGKILLs           {self.kills}",
            f"time                      {self.seconds:.1f} s ({self.declared / self.seconds:.1f} declarations/s)",
        ]


def fault_mapping(rate: float, late_seconds: float) -> dict[str, Any]:
    """Every sandbox fault at ``rate``; timeouts answer late (after the client's read timeout)."""
    channel = {
        "drop_rate": rate,
        "error_rate": rate,
        "timeout_rate": rate,
        "slow_rate": rate,
        "timeout_mode": "late",
        "late_seconds": late_seconds,
        "slow_seconds": [10.0, 60.0],  # × time_scale 0.01: 0.1-0.6 s, below the read timeout
    }
    return {
        "platform": dict(channel),
        "node": dict(channel),
        "push": {"duplicate_rate": rate, "reorder_rate": rate, "fail_rate": rate, "loss_rate": 0.0},
    }


class WorkerProcess:
    """``_bench_worker.py`` in a subprocess; :meth:`start` waits (bounded) for its ``ready`` line."""

    def __init__(self, spec_path: Path, log: Path) -> None:
        self.spec_path, self.log = spec_path, log
        self.process: subprocess.Popen[bytes] | None = None
        self._err: IO[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        self._err = self.log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, str(BENCH_DIR / "_bench_worker.py"), str(self.spec_path)],
            stdout=subprocess.PIPE,
            stderr=self._err,
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        line = b""
        while time.monotonic() < deadline and self.process.poll() is None:  # readline blocks: poll first
            ready, _, _ = select.select([self.process.stdout], [], [], 0.2)
            if ready:
                line = self.process.stdout.readline()
                break
        if line.strip() != b"ready":
            self.kill()
            raise RuntimeError(f"the worker did not start; see {self.log}")

    def kill(self) -> None:
        """SIGKILL: no cleanup, no flush; mid-transaction or mid-send."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=30)
            self._close()

    def terminate(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
            self._close()

    def _close(self) -> None:
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()
        if self._err is not None:
            self._err.close()
            self._err = None
        self.process = None


def pending(ledger: Ledger) -> tuple[int, int]:
    """(documents not final, documents final)."""
    counts = ledger.counts()
    return (
        sum(n for state, n in counts.items() if not state.is_final),
        sum(n for state, n in counts.items() if state.is_final),
    )


def ledger_audit(ledger: Ledger, ids: list[int]) -> tuple[int, Counter[str], list[str], list[str]]:
    """(documents sent under two CopMsgIds, retry events by name, not-final documents, final documents
    other than RELEASED)."""
    twice = 0
    events: Counter[str] = Counter()
    not_final, unreleased = [], []
    for document_id in ids:
        record = ledger.get(document_id)
        label = f"{document_id}:{record.kind.value}:{record.state.value}"
        if not record.state.is_final:
            not_final.append(label)
        elif record.state is not State.RELEASED:
            unreleased.append(f"{label} {record.reason[:80]}")
        history = ledger.history(document_id)
        sent = {h.message_id for h in history if h.event == "node_send" and h.applied}
        if len(sent) > 1:
            twice += 1
        for entry in history:
            if entry.event.endswith("_failed"):
                events[entry.event] += 1
            elif not entry.applied and entry.event.startswith(("receipt", "platform_receipt")):
                events["receipts ignored (duplicate/stale)"] += 1
    return twice, events, not_final, unreleased


def run_soak(
    *,
    count: int,
    kills: int,
    seed: int,
    workdir: Path,
    fault_rate: float = 0.1,
    timeout: float = 3600.0,
    threads: int = 12,
    batch: int = 3,
    lease: float = 15.0,
    say: Callable[[str], None] = print,
    progress_every: float = 15.0,
) -> SoakResult:
    """The soak; see the module docs. Every wait is bounded by ``timeout`` (seconds for the whole flow)."""
    rnd = random.Random(seed)  # kill moments, not secrets
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    read_timeout = 1.0
    mapping = sandbox_mapping(
        seed=seed,
        time_scale=0.01,
        receiver_port=port,
        faults=fault_mapping(fault_rate, late_seconds=read_timeout + 0.5),
        # While the worker is dead its pushes fail; retries back off up to 1 s (100 × 0.01), ~60 s in all.
        push={"attempts": 60, "backoff": 1.0, "max_backoff": 100.0, "timeout": 5.0},
    )
    signer = throwaway_signer()
    key, cert = workdir / "enterprise.key", workdir / "enterprise.crt"
    key.write_bytes(signer.private_key_pem(None))  # type: ignore[attr-defined]
    cert.write_bytes(signer.certificate_pem())  # type: ignore[attr-defined]
    ledger_path = workdir / "ledger.sqlite3"
    sales_count = max(1, round(count / 4))
    with SandboxProcess(mapping, workdir) as sandbox:
        credentials = sandbox.credentials
        assert credentials is not None
        ledger = open_ledger(f"sqlite:///{ledger_path}")
        try:
            ids, submitted = _submit(ledger, credentials, signer, seed, sales_count)
            spec = {
                "credentials": str(sandbox.credentials_path),
                "ledger_url": f"sqlite:///{ledger_path}",
                "port": port,
                "key": str(key),
                "cert": str(cert),
                "threads": threads,
                "batch": batch,
                "lease": lease,
                "read_timeout": read_timeout,
                "log": str(workdir / "worker.log"),
            }
            spec_path = workdir / "worker.json"
            spec_path.write_text(json.dumps(spec), encoding="utf-8")
            worker = WorkerProcess(spec_path, workdir / "worker.stderr")
            say(
                f"soak: {len(ids)} declarations submitted; sandbox pid {sandbox.pid}; fault rate {fault_rate}"
            )
            thresholds = sorted(rnd.uniform(0.05, 0.7) for _ in range(kills))
            start = time.monotonic()
            deadline = start + timeout
            worker.start()
            done = 0
            last_report = start
            try:
                while time.monotonic() < deadline:
                    open_, final = pending(ledger)
                    if open_ == 0:
                        break
                    if done < len(thresholds) and final >= thresholds[done] * len(ids):
                        time.sleep(rnd.uniform(0.0, 0.5))
                        worker.kill()
                        done += 1
                        say(
                            f"  t={time.monotonic() - start:6.1f}s  SIGKILL {done} at {final}/{len(ids)} final"
                        )
                        time.sleep(rnd.uniform(0.2, 2.0))  # dead for a while: pushes fail meanwhile
                        worker.start()
                    if time.monotonic() - last_report >= progress_every:
                        last_report = time.monotonic()
                        say(f"  t={last_report - start:6.1f}s  {final}/{len(ids)} final")
                    time.sleep(0.2)
                seconds = time.monotonic() - start
            finally:
                worker.terminate()
            twice_ledger, events, not_final, unreleased = ledger_audit(ledger, ids)
            counts = {state.value: n for state, n in ledger.counts().items() if n}
        finally:
            ledger.close()
        stats = sandbox.stop()
    with sqlite3.connect(ledger_path) as db:
        integrity = db.execute("PRAGMA integrity_check").fetchone()
    if integrity != ("ok",):
        raise RuntimeError(f"ledger integrity check failed: {integrity}")
    documents = stats.get("documents", {})
    twice_sandbox = int(stats.get("declared_twice", 0)) + sum(
        max(0, int(documents.get(MESSAGE_TYPES[kind], 0)) - n) for kind, n in submitted.items()
    )
    never_reached = sum(
        max(0, n - int(documents.get(MESSAGE_TYPES[kind], 0))) for kind, n in submitted.items()
    )
    final_count = sum(n for s, n in counts.items() if State(s).is_final)
    retries = {
        **dict(sorted(events.items())),
        "node duplicate deliveries": int(stats.get("duplicate_deliveries", {}).get("node", 0)),
        "platform duplicate deliveries": int(stats.get("duplicate_deliveries", {}).get("platform", 0)),
        "push retries": int(stats.get("pushes_retried", 0)),
        "pushes abandoned": int(stats.get("pushes_abandoned", 0)),
        "documents customs never saw": never_reached,
    }
    return SoakResult(
        declared=len(ids),
        final=final_count,
        states=counts,
        unreleased=unreleased,
        lost=len(ids) - final_count,  # a missing row or a document left open
        not_final=not_final,
        twice_sandbox=twice_sandbox,
        twice_ledger=twice_ledger,
        retries=retries,
        faults=dict(stats.get("faults", {})),
        kills=done,
        seconds=seconds,
        sandbox=stats,
    )


def _submit(
    ledger: Ledger, credentials: SandboxCredentials, signer: Any, seed: int, sales_count: int
) -> tuple[list[int], Counter[str]]:
    """Submit every document from this process (a Pipeline used only for ``submit``)."""
    company = company_for(credentials)
    submitter = Pipeline(
        ledger,
        base_transfer=company.base_transfer,
        signer=signer,
        node=SoapNodeTransport(credentials.soap_node_profile()),
        platform=credentials.platform_client(),
        settings=PipelineSettings(spec_version=credentials.spec_version),
    )
    documents = list(sales(DocumentFactory(seed=seed, company=company), sales_count))
    ids: list[int] = []
    for start in range(0, len(documents), 500):
        results = submitter.submit(documents[start : start + 500])
        if not all(r.created for r in results):
            raise RuntimeError("a document was refused at submission")
        ids += [r.id for r in results]
    kinds = Counter(ledger.get(i).kind.value for i in ids)
    return ids, kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=10_000, help="declarations (4 per sale)")
    parser.add_argument("--kills", type=int, default=3, help="SIGKILLs of the worker")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fault-rate", type=float, default=0.1, help="rate of each sandbox fault")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds for the flow at most")
    parser.add_argument("--batch", type=int, default=3, help="documents a worker thread claims at once")
    parser.add_argument("--lease", type=float, default=15.0, help="PipelineSettings.lease, seconds")
    parser.add_argument("--workdir", help="keep ledger, logs and stats here (default: a temporary folder)")
    parser.add_argument("--json", help="append result rows (JSON lines) to this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cbec-soak-") as folder:
        workdir = Path(args.workdir) if args.workdir else Path(folder)
        result = run_soak(
            count=args.count,
            kills=args.kills,
            seed=args.seed,
            workdir=workdir,
            fault_rate=args.fault_rate,
            timeout=args.timeout,
            batch=args.batch,
            lease=args.lease,
        )
        (workdir / "sandbox-stats.json").write_text(json.dumps(result.sandbox, indent=2), encoding="utf-8")
    print("\n".join(["", "soak result", *result.lines()]))
    rate = result.declared / result.seconds
    write_rows(
        args.json, [Row(BENCH, f"soak {result.declared} decl., {result.kills} SIGKILLs", rate, "decl/s")]
    )
    if result.lost or result.twice_sandbox or result.twice_ledger:
        sys.exit(1)


if __name__ == "__main__":
    main()
