"""``cbec-declare send | status | worker``: the pipeline for real use, configured by one TOML file."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..config import DeclareConfig, load_config
from ..errors import ConfigError, ModelError
from ..messages.jsonio import from_data
from ..pipeline import Pipeline, Worker
from ..pipeline.documents import DOCUMENT_TYPES
from ..pipeline.ledger import DocumentRecord
from ..pipeline.states import DocumentKind
from ..sandbox import LocalServer
from ..transport import make_wsgi_app
from ._common import EXIT_INVALID, EXIT_OK, emit_json
from .progress import Progress
from .serve import stop_signals

__all__ = ["add_parser"]

#: a stable namespace for guids derived from input lines (so that a re-run declares nothing twice)
_GUIDS = uuid.UUID("6f1c2a48-93b1-4c55-9d0e-2f6ad7f2c0b1")
_CHUNK = 500


def _kind(name: str) -> DocumentKind:
    aliases = {"waybill": "logistics", "logistics-status": "logistics_status"}
    try:
        return DocumentKind(aliases.get(name, name))
    except ValueError:
        known = ", ".join(k.value for k in DocumentKind)
        raise ConfigError(
            f"unknown document kind {name!r}; expected one of: {known}", code="cli.kind"
        ) from None


def _with_stable_guid(kind: DocumentKind, document: dict[str, Any], line: bytes) -> dict[str, Any]:
    """Give a document without a guid one derived from its line, so running the file again is idempotent."""
    head_key = {"ORDER": "OrderHead", "INVENTORY": "InventoryHead", "REFUND": "InvtRefundHead",
                "DELIVERY": "DeliveryHead"}.get(kind.name)  # fmt: skip
    head = document.get(head_key, {}) if head_key else document
    if isinstance(head, dict) and "guid" not in head:
        digest = hashlib.sha256(kind.value.encode() + b"\0" + line).hexdigest()
        head["guid"] = str(uuid.uuid5(_GUIDS, digest)).upper()
    return document


def read_documents(path: str, default_kind: DocumentKind | None) -> Iterator[Any]:
    """One document per line: ``{"kind": "order", "document": {...}}`` or the document itself with --kind."""
    handle = sys.stdin.buffer if path == "-" else Path(path).open("rb")  # noqa: SIM115 - closed below
    try:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line.decode("utf-8-sig"), parse_float=Decimal)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise ConfigError(f"{path}:{number}: not a JSON line: {exc}", code="cli.jsonl") from None
            if isinstance(data, dict) and "document" in data:
                kind = _kind(str(data.get("kind", "")))
                document = data["document"]
            elif default_kind is not None:
                kind, document = default_kind, data
            else:
                raise ConfigError(
                    f"{path}:{number}: no kind; give --kind or {{'kind', 'document'}}", code="cli.jsonl"
                )
            if not isinstance(document, dict):
                raise ModelError("a document is a JSON object", field=f"{path}:{number}")
            document = _with_stable_guid(kind, document, line.strip())
            model = DOCUMENT_TYPES[kind].model
            try:
                yield from_data(model, document, path=f"{path}:{number}")
            except ModelError as exc:
                raise ModelError(exc.message, code=exc.code, field=exc.field, zh=exc.zh) from None
    finally:
        if handle is not sys.stdin.buffer:
            handle.close()


class Running:
    """A worker plus the 2.1 receipt endpoint of a config, until stopped."""

    def __init__(self, config: DeclareConfig, pipeline: Pipeline, *, threads: int) -> None:
        host, port, path = config.receiver_address()
        receiver = config.receiver(pipeline)
        self.server = LocalServer(make_wsgi_app(receiver, path=path), host=host, port=port, record=False)
        self.worker = Worker(pipeline, threads=threads)

    def __enter__(self) -> Running:
        self.server.start()
        self.worker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.worker.stop()
        self.server.stop()


def _final_count(pipeline: Pipeline, ids: list[int]) -> int:
    return sum(1 for i in ids if pipeline.get(i).state.is_final)


def run_send(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    pipeline = config.pipeline()
    default_kind = _kind(args.kind) if args.kind else None
    ids: list[int] = []
    new = 0
    chunk: list[Any] = []
    for document in read_documents(args.input, default_kind):
        chunk.append(document)
        if len(chunk) >= _CHUNK:
            results = pipeline.submit(chunk)
            ids += [r.id for r in results]
            new += sum(r.created for r in results)
            chunk = []
    if chunk:
        results = pipeline.submit(chunk)
        ids += [r.id for r in results]
        new += sum(r.created for r in results)
    print(f"{len(ids)} documents in the ledger ({new} new, {len(ids) - new} already there)", file=sys.stderr)
    if args.no_wait:
        return EXIT_OK
    with Running(config, pipeline, threads=args.threads), stop_signals() as done:
        bar = Progress(len(ids), lambda: (_final_count(pipeline, ids), ""), label="declaring")
        with bar:
            while not done.wait(1.0):
                if _final_count(pipeline, ids) == len(ids):
                    break
    records = [pipeline.get(i) for i in ids]
    summary = _count_states(records)
    if args.json:
        emit_json({"documents": len(ids), "new": new, "states": summary})
    else:
        print(" ".join(f"{s} {n}" for s, n in summary.items()))
    return EXIT_OK if all(r.state.is_final for r in records) else EXIT_INVALID


def _count_states(records: list[DocumentRecord]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in records:
        counts[record.state.value] = counts.get(record.state.value, 0) + 1
    return counts


def _describe(record: DocumentRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "kind": record.kind.value,
        "business_key": record.business_key,
        "app_type": record.app_type,
        "state": record.state.value,
        "customs_status": record.customs_status,
        "reason": record.reason,
        "order_no": record.order_no,
        "cop_no": record.cop_no,
        "logistics_no": record.logistics_no,
        "guid": record.guid,
        "attempts": record.attempts,
        "updated_at": record.updated_at.isoformat(),
    }


def lookup(pipeline: Pipeline, key: str) -> list[DocumentRecord]:
    """An id, orderNo, copNo, logisticsNo or guid → the documents it names."""
    found: dict[int, DocumentRecord] = {}
    if key.isdigit():
        try:
            record = pipeline.get(int(key))
            found[record.id] = record
        except Exception:  # noqa: S110 - not an id: try the other keys
            pass
    for criterion in ("order_no", "cop_no", "logistics_no", "guid"):
        for record in pipeline.find(**{criterion: key}):
            found[record.id] = record
    return sorted(found.values(), key=lambda r: r.id)


def run_status(args: argparse.Namespace) -> int:
    pipeline = load_config(args.config).pipeline()
    if not args.ids:
        counts = {s.value: n for s, n in pipeline.counts().items() if n}
        if args.json:
            emit_json({"states": counts})
        else:
            for state, n in counts.items():
                print(f"{state:<20}{n:>10}")
        return EXIT_OK
    results: list[dict[str, Any]] = []
    missing = []
    for key in args.ids:
        records = lookup(pipeline, key)
        if not records:
            missing.append(key)
        for record in records:
            item = _describe(record)
            if args.history:
                item["history"] = [
                    {"at": h.at.isoformat(), "event": h.event, "state": h.new_state.value,
                     "customs_status": h.customs_status, "applied": h.applied, "reason": h.reason}
                    for h in pipeline.history(record.id)
                ]  # fmt: skip
            results.append(item)
    if args.json:
        emit_json({"documents": results, "not_found": missing})
    else:
        for item in results:
            status = f" customs {item['customs_status']}" if item["customs_status"] else ""
            print(f"#{item['id']} {item['kind']} {item['business_key']} appType {item['app_type']}: "
                  f"{item['state']}{status} {item['reason']}".rstrip())  # fmt: skip
            for h in item.get("history", []):
                mark = "" if h["applied"] else " (ignored)"
                print(f"    {h['at']} {h['event']:<22} → {h['state']}{mark} {h['reason']}".rstrip())
        for key in missing:
            print(f"{key}: no such document", file=sys.stderr)
    return EXIT_INVALID if missing else EXIT_OK


def run_worker(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    pipeline = config.pipeline()
    with Running(config, pipeline, threads=args.threads) as running, stop_signals() as done:
        print(f"worker running; receipts at {running.server.url}; Ctrl-C or SIGTERM stops", file=sys.stderr)
        while not done.wait(1.0):
            pass
    print("worker stopped", file=sys.stderr)
    return EXIT_OK


def add_parser(sub: Any) -> None:
    send = sub.add_parser(
        "send",
        help="declare documents from a JSON-lines file and follow them to their final status",
        description="Read documents (one JSON object per line, keyed by the spec's element names: "
        '{"kind": "order", "document": {"OrderHead": {...}, "OrderList": [...]}} or, with --kind, the '
        "document itself), store them in the ledger, run the worker and the receipt endpoint of the config "
        "until every one is final. Resumable: running the same file again declares nothing twice (a line "
        "without a guid gets one derived from its content). Exit codes: 0 all final, 1 not all final or "
        "invalid input, 2 usage error.",
    )
    send.add_argument("input", help="JSON-lines file, or - for stdin")
    send.add_argument("--config", required=True, help="the TOML config (see examples/cbec.toml)")
    send.add_argument("--kind", help="kind of every line: order, payment, logistics, logistics_status, "
                      "inventory, cancel, refund, delivery")  # fmt: skip
    send.add_argument("--threads", type=int, default=4)
    send.add_argument("--no-wait", action="store_true", help="only store the documents (a worker sends them)")
    send.add_argument("--json", action="store_true")
    send.set_defaults(handler=run_send)

    status = sub.add_parser(
        "status",
        help="documents by state, or one document's status and history",
        description="Without IDs: how many documents are in each state. With IDs (ledger id, orderNo, copNo, "
        "logisticsNo or guid): each document's state, customs status and reason; --history adds every "
        "event. Exit codes: 0 found, 1 an ID matched nothing, 2 usage error.",
    )
    status.add_argument("ids", nargs="*", metavar="ID")
    status.add_argument("--config", required=True)
    status.add_argument("--history", action="store_true")
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=run_status)

    worker = sub.add_parser(
        "worker",
        help="run the pipeline continuously with the 2.1 receipt endpoint",
        description="Run worker threads that take every due document through the flow, and the receipt "
        "endpoint of [receiver], until Ctrl-C or SIGTERM. Run several on one PostgreSQL ledger to scale "
        "out. Exit codes: 0 stopped cleanly, 2 usage error.",
    )
    worker.add_argument("--config", required=True)
    worker.add_argument("--threads", type=int, default=4)
    worker.set_defaults(handler=run_worker)
