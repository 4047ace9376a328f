"""Helpers for the full-sandbox tests (no tests here): a real receipt receiver, messages, senders.

Everything goes over HTTP with the library's own clients: ``PlatformClient``, ``SoapNodeTransport`` /
``RestTransferDeclareTransport``, ``sign`` + ``wrap`` with a ``SoftwareSigner.generate`` key, and a
``ReceiptReceiver`` served by ``make_wsgi_app`` on a ``LocalServer``.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import attrs

from cbec_declare.codes import supersedes
from cbec_declare.envelope import wrap
from cbec_declare.messages import build
from cbec_declare.models import CEB311Message, CEB621Message, new_guid
from cbec_declare.sandbox import Faults, LocalServer
from cbec_declare.sandbox.config import BusinessConfig, PushConfig, SandboxConfig, TimingConfig
from cbec_declare.sandbox.credentials import SandboxCredentials
from cbec_declare.sandbox.sandbox import Sandbox
from cbec_declare.signing import SoftwareSigner, sign
from cbec_declare.testing.factories import DocumentFactory
from cbec_declare.transport import (
    CebReceiptEvent,
    JkfResult,
    MoReceiptEvent,
    NodeReply,
    ReceiptEvent,
    RestTransferDeclareTransport,
    RetryPolicy,
    SoapNodeTransport,
    make_wsgi_app,
)

#: receipts in milliseconds, no review or inspection unless a test asks for them
FAST = SandboxConfig(
    seed=1,
    timing=TimingConfig(time_scale=0.001),
    business=BusinessConfig(manual_review_rate=0.0, inspection_rate=0.0),
    push=PushConfig(timeout=5.0, backoff=1.0, attempts=6),
)


def fast(**changes: Any) -> SandboxConfig:
    return attrs.evolve(FAST, **changes)


@functools.lru_cache(maxsize=1)
def signer() -> SoftwareSigner:
    return SoftwareSigner.generate(bits=1024, common_name="sandbox test enterprise")


def signed(message: Any, key: SoftwareSigner | None = None) -> bytes:
    return sign(build(message), key or signer())


def inventories(count: int, *, seed: int = 3, **head: Any) -> CEB621Message:
    factory = DocumentFactory(seed=seed)
    docs = []
    for _ in range(count):
        inventory = factory.inventory_for(factory.order())
        docs.append(attrs.evolve(inventory, head=attrs.evolve(inventory.head, **head)) if head else inventory)
    return CEB621Message(inventories=tuple(docs), base_transfer=factory.company.base_transfer)


def orders(count: int, *, seed: int = 3) -> CEB311Message:
    factory = DocumentFactory(seed=seed)
    return CEB311Message(orders=tuple(factory.orders(count)), base_transfer=factory.company.base_transfer)


def send_node(
    credentials: SandboxCredentials,
    ceb: bytes,
    *,
    cop_msg_id: str | None = None,
    shape: str = "soap",
    retry: RetryPolicy | None = None,
    read_timeout: float = 30.0,
) -> tuple[str, NodeReply]:
    """Wrap ``ceb`` in a DxpMsg and send it to the node; return (CopMsgId, reply)."""
    cop = cop_msg_id or new_guid()
    dxp = wrap(ceb, credentials.sender_dxp_id, cop_msg_id=cop)
    policy = retry or RetryPolicy.none()
    transport: SoapNodeTransport | RestTransferDeclareTransport
    if shape == "soap":
        transport = SoapNodeTransport(credentials.soap_node_profile(read_timeout=read_timeout), retry=policy)
    else:
        transport = RestTransferDeclareTransport(
            credentials.rest_node_profile(read_timeout=read_timeout), retry=policy
        )
    with transport:
        return cop, transport.send(dxp, cop_msg_id=cop)


class Collector:
    """A real §2.1 receiver on 127.0.0.1 keeping every receipt it accepted, in arrival order.

    ``fail_first``: the sink raises for that many pushes (the receiver answers 500 S07, so the
    platform must push again); ``faults``: injected on the receiver's own server.
    """

    def __init__(self, credentials: SandboxCredentials, *, fail_first: int = 0, faults: Faults | None = None):
        self.events: list[ReceiptEvent] = []
        self._lock = threading.Lock()
        self._fail = fail_first
        self.receiver = credentials.receipt_receiver(self._sink)
        self.server = LocalServer(make_wsgi_app(self.receiver), faults=faults)

    def _sink(self, event: ReceiptEvent) -> None:
        with self._lock:
            if self._fail > 0:
                self._fail -= 1
                raise RuntimeError("the receipt store is down")
            self.events.append(event)

    def __enter__(self) -> Collector:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    @property
    def url(self) -> str:
        return self.server.url + "/receipts"

    def ceb_events(self) -> list[CebReceiptEvent]:
        with self._lock:
            return [e for e in self.events if isinstance(e, CebReceiptEvent)]

    def returns(self) -> list[tuple[str, Any]]:
        """(receipt type, …Return entity) in arrival order."""
        return [(e.receipt.message_type, entry) for e in self.ceb_events() for entry in e.receipt.documents]

    def statuses(self) -> dict[str, list[str]]:
        """guid → returnStatus values in arrival order."""
        out: dict[str, list[str]] = {}
        for _, entry in self.returns():
            out.setdefault(entry.guid, []).append(entry.return_status)
        return out

    def finals(self) -> dict[str, str]:
        """guid → the status a client keeps, never moving backwards (``codes.supersedes``)."""
        out: dict[str, str] = {}
        for kind, entry in self.returns():
            if supersedes(kind, out.get(entry.guid), entry.return_status):
                out[entry.guid] = entry.return_status
        return out

    def results(self) -> list[JkfResult]:
        with self._lock:
            return [r for e in self.events if isinstance(e, MoReceiptEvent) for r in e.receipt.results]


@contextmanager
def running(config: SandboxConfig | None = None, **collector: Any) -> Iterator[tuple[Sandbox, Collector]]:
    """A started sandbox with a started collector registered as its receiver."""
    with Sandbox(config or FAST) as sandbox, Collector(sandbox.credentials, **collector) as receiver:
        sandbox.register_receiver(receiver.url)
        yield sandbox, receiver
