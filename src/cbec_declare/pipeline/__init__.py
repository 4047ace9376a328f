"""The declaration pipeline: the per-document state machine, the durable ledger, the flow and the worker.

* :class:`Pipeline` — submit documents, run their steps, apply receipts, query, hook status changes;
* :class:`Worker` — runs a pipeline with threads until stopped;
* :func:`open_ledger` — ``sqlite:///path`` (default, one file) or ``postgresql://…`` (many workers);
* :class:`State`, :class:`DocumentKind` and the events of :mod:`cbec_declare.pipeline.states`.
"""

from .ledger import DocumentRecord, HistoryEntry, Ledger, NewDocument, StoredMessage, SubmitResult
from .ledgers import open_ledger
from .pipeline import Pipeline, StatusChange
from .receipts import LedgerSeenStore, receipt_sink
from .settings import PipelineSettings
from .sqlite_ledger import SqliteLedger
from .states import DocumentKind, State, Transition, next_state
from .worker import Worker

__all__ = [
    "DocumentKind",
    "DocumentRecord",
    "HistoryEntry",
    "Ledger",
    "LedgerSeenStore",
    "NewDocument",
    "Pipeline",
    "PipelineSettings",
    "SqliteLedger",
    "State",
    "StatusChange",
    "StoredMessage",
    "SubmitResult",
    "Transition",
    "Worker",
    "next_state",
    "open_ledger",
    "receipt_sink",
]
