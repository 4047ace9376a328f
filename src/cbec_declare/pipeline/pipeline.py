"""The 方案二 pipeline: hand it documents, it takes each one to its final customs status.

``Pipeline`` owns the flow of :mod:`cbec_declare.pipeline.states` over a :class:`Ledger`: it submits
documents, performs the next step of every due one (:meth:`Pipeline.run_once`, called in a loop by
:class:`~cbec_declare.pipeline.worker.Worker`), and applies receipts (:meth:`Pipeline.handle_event`, the sink
of the 2.1 :class:`~cbec_declare.transport.ReceiptReceiver`). Integrators get a callback per status change
(:meth:`on_status`) and queries by orderNo, copNo, logisticsNo, guid or state.

The sending steps live in :mod:`cbec_declare.pipeline.steps`, receipt matching in
:mod:`cbec_declare.pipeline.receipts`.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

import attrs

from ..errors import PipelineError
from ..models import BaseTransfer, new_guid
from ..signing.base import Signer
from ..transport import NodeTransport, PlatformClient, ReceiptEvent
from ..validation import validate
from .documents import kind_of, load_document, new_document, to_message
from .ledger import DocumentRecord, HistoryEntry, Ledger, NewDocument, StoredMessage, SubmitResult
from .settings import PipelineSettings
from .states import DocumentKind, Event, State, Transition, ValidationFailed, next_state

__all__ = ["Pipeline", "StatusChange"]

log = logging.getLogger("cbec_declare.pipeline")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@attrs.frozen(kw_only=True)
class StatusChange:
    """What a hook receives after a document changed state (the ledger already holds it)."""

    document_id: int
    kind: DocumentKind
    business_key: str
    order_no: str | None
    cop_no: str | None
    logistics_no: str | None
    old: State
    new: State
    customs_status: str | None
    reason: str
    event: str
    at: datetime


StatusHook = Callable[[StatusChange], None]


class Pipeline:
    """Declares documents through the platform (2.2) and the exchange node (2.3), tracks their receipts.

    ``platform`` may be None when no document kind has a platform step (``settings.platform_kinds``).
    ``company_code`` is the 10-character 发送方代码 of the ``<mo>`` messages (default: the platform client's
    ``send_code``).
    """

    def __init__(
        self,
        ledger: Ledger,
        *,
        base_transfer: BaseTransfer,
        signer: Signer,
        node: NodeTransport,
        platform: PlatformClient | None = None,
        company_code: str | None = None,
        settings: PipelineSettings | None = None,
        clock: Callable[[], datetime] = utcnow,
        owner: str | None = None,
    ) -> None:
        self.ledger = ledger
        self.base_transfer = base_transfer
        self.signer = signer
        self.node = node
        self.platform = platform
        self.settings = settings or PipelineSettings()
        self.company_code = company_code or (getattr(platform, "send_code", None) if platform else None)
        self.clock = clock
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._hooks: list[StatusHook] = []
        if self.platform is None and self.settings.platform_kinds:
            log.info("no platform client: documents go straight to the exchange node")

    # ------------------------------------------------------------------ hooks

    def on_status(self, hook: StatusHook) -> StatusHook:
        """Register ``hook(change)``, called after every applied state change (usable as a decorator).

        Hooks are notifications after the commit; one that raises is logged and does not undo anything.
        """
        self._hooks.append(hook)
        return hook

    def _emit(self, record: DocumentRecord, old: State, transition: Transition, event: str) -> None:
        if not transition.applied or (record.state is old and not self._hooks):
            return
        change = StatusChange(
            document_id=record.id,
            kind=record.kind,
            business_key=record.business_key,
            order_no=record.order_no,
            cop_no=record.cop_no,
            logistics_no=record.logistics_no,
            old=old,
            new=record.state,
            customs_status=record.customs_status,
            reason=record.reason,
            event=event,
            at=record.updated_at,
        )
        if record.state is not old:
            log.info("document %s (%s %s): %s → %s %s", record.id, record.kind.value, record.business_key,
                     old.value, record.state.value, record.reason)  # fmt: skip
        for hook in self._hooks:
            try:
                hook(change)
            except Exception:  # a user's hook must not break the flow
                log.exception("status hook %r failed for document %s", hook, record.id)

    def apply(
        self,
        document_id: int,
        event: Event,
        *,
        name: str,
        message_id: int | None = None,
        next_attempt_at: datetime | None = None,
        count_attempt: bool = False,
        decide: Callable[[DocumentRecord], Transition] | None = None,
    ) -> tuple[DocumentRecord, Transition]:
        """Apply one event atomically (or a custom ``decide``), record it, notify the hooks."""
        seen: dict[str, State] = {}

        def default(current: DocumentRecord) -> Transition:
            seen["old"] = current.state
            return next_state(
                current.state,
                event,
                customs_status=current.customs_status,
                customs_rank=current.customs_rank,
                platform_step=current.platform_step,
            )

        def custom(current: DocumentRecord) -> Transition:
            seen["old"] = current.state
            assert decide is not None
            return decide(current)

        record, transition = self.ledger.transition(
            document_id,
            default if decide is None else custom,
            event=name,
            message_id=message_id,
            next_attempt_at=next_attempt_at,
            count_attempt=count_attempt,
            now=self.clock(),
        )
        self._emit(record, seen["old"], transition, name)
        return record, transition

    # ------------------------------------------------------------------ submitting

    def _platform_step(self, kind: DocumentKind) -> bool:
        return self.platform is not None and kind in self.settings.platform_kinds

    def submit(self, documents: Iterable[Any]) -> list[SubmitResult]:
        """Queue documents (``Order``, ``PaymentHead``, ``LogisticsHead``, ``LogisticsStatus``,
        ``Inventory``, ``InvtCancel``, ``InvtRefund``, ``Delivery``) for declaration.

        Idempotent: the same document again (same entity guid) is not queued twice; a *new* declaration
        (appType 1) of a business document the ledger already holds is refused with ``created=False``,
        because customs would reject it as a duplicate (e.g. -301010).

        The business rules run here, once per document: a document that breaks one is stored (nothing is
        lost) and goes straight to INVALID with the findings; it is never sent. The XSD is checked when
        the message is built, before signing.
        """
        docs = list(documents)
        return self._store(
            docs, [new_document(d, platform_step=self._platform_step(kind_of(d).kind)) for d in docs]
        )

    def _store(self, models: Sequence[Any], records: Sequence[NewDocument]) -> list[SubmitResult]:
        problems = [self._rule_errors(model) for model in models]
        results = self.ledger.submit(records)
        for result, errors in zip(results, problems, strict=True):
            if result.created and errors:
                self.apply(result.id, ValidationFailed(reasons=errors), name="invalid")
        return results

    def _rule_errors(self, document: Any) -> tuple[str, ...]:
        message = to_message(kind_of(document).kind, [document], self.base_transfer)
        report = validate(message, version=self.settings.spec_version, xsd=False)
        return tuple(str(finding) for finding in report.errors)

    def _follow_up(self, document_id: int, app_type: str, document: Any | None) -> SubmitResult:
        record = self.ledger.get(document_id)
        current = document if document is not None else load_document(record.kind, record.payload)
        if kind_of(current).kind is not record.kind:
            raise PipelineError(
                f"document {document_id} is a {record.kind.value}; cannot replace it with a "
                f"{type(current).__name__}",
                code="pipeline.follow_up",
            )
        head = getattr(current, "head", current)
        head = attrs.evolve(head, app_type=app_type, guid=new_guid())
        if hasattr(head, "cop_no") and record.cop_no and not head.cop_no:
            head = attrs.evolve(head, cop_no=record.cop_no)
        changed = (
            attrs.evolve(current, head=head) if current is not head and hasattr(current, "head") else head
        )
        doc = new_document(changed, platform_step=self._platform_step(record.kind), supersedes=document_id)
        if doc.business_key != record.business_key:
            raise PipelineError(
                f"a modification must keep the business key {record.business_key!r}, "
                f"got {doc.business_key!r}",
                code="pipeline.follow_up",
            )
        return self._store([changed], [doc])[0]

    def modify(self, document_id: int, document: Any) -> SubmitResult:
        """Declare a change (appType 2 变更) of a declared document; a new entity guid, same business key."""
        return self._follow_up(document_id, "2", document)

    def delete(self, document_id: int) -> SubmitResult:
        """Declare the deletion (appType 3 删除) of a declared document."""
        return self._follow_up(document_id, "3", None)

    # ------------------------------------------------------------------ queries

    def get(self, document_id: int) -> DocumentRecord:
        return self.ledger.get(document_id)

    def find(self, **criteria: Any) -> list[DocumentRecord]:
        """By ``order_no``, ``cop_no``, ``logistics_no``, ``guid``, ``state``, ``kind``, ``business_key``."""
        return self.ledger.find(**criteria)

    def history(self, document_id: int) -> list[HistoryEntry]:
        return self.ledger.history(document_id)

    def messages(self, document_id: int) -> list[StoredMessage]:
        return self.ledger.messages(document_id)

    def counts(self) -> dict[State, int]:
        return self.ledger.counts()

    # ------------------------------------------------------------------ work

    def run_once(self, *, limit: int = 100, owner: str | None = None) -> int:
        """Claim the due documents (up to ``limit``), perform their next step, release them.

        Returns how many documents were handled. Safe to call from several threads and processes: the
        ledger leases each document to one ``owner`` (give each thread its own; default: this pipeline's).
        """
        from .steps import perform

        who = owner or self.owner
        records = self.ledger.claim_due(
            now=self.clock(), owner=who, limit=limit, lease_seconds=self.settings.lease.total_seconds()
        )
        if not records:
            return 0
        try:
            perform(self, records)
        finally:
            for record in records:
                self.ledger.release(record.id, owner=who)
        return len(records)

    def handle_event(self, event: ReceiptEvent) -> None:
        """Apply one receipt (the :class:`~cbec_declare.transport.ReceiptReceiver` sink calls this)."""
        from .receipts import apply_receipt

        apply_receipt(self, event)

    def pending(self) -> int:
        """How many documents are not in a final state yet."""
        return sum(count for state, count in self.counts().items() if not state.is_final)

    def documents(self, ids: Sequence[int]) -> list[DocumentRecord]:
        return [self.ledger.get(i) for i in ids]
