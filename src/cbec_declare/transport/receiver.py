"""§2.1: the receipt endpoint, framework-agnostic (``handle(body, content_type) → (status, headers, body)``).

Each push goes through, in order, and stops at the first failure with an error acknowledgement —
nothing that failed a step ever reaches the sink:

1. size and form (S12): at most ``PushProfile.max_body_bytes``; ``content`` and ``msg_type``
   present (snake_case names, camelCase aliases accepted), no field given twice;
2. decryption (S05): Base64 and AES with the agreed key;
3. the digest (S02): SHA1withRSA over the plaintext with the **platform's** public key. Mandatory:
   a receiver without a key refuses to start unless built with ``verify=False``, which is logged at
   WARNING on start and on every push, and marks events ``digest_verified=False``;
4. reading (S01 not well-formed or unsafe — DTDs and entities are refused; S04 no reader for the
   root; S05 not the expected document): see :mod:`cbec_declare.transport.receipts`;
5. de-duplication: the push id (SHA-256 of ``msg_type`` and plaintext) is claimed in a
   :class:`SeenStore`; a push already claimed is acknowledged as success and not delivered again;
6. delivery to the :class:`ReceiptSink`. If the sink raises, the claim is released and the answer is
   an error (S07, ``failure_status``) so that the platform sends it again: data is never swallowed.

The acknowledgement body is ``PushProfile.ack`` (default ``<response><success>true</success>
</response>``). :func:`~cbec_declare.transport.wsgi.make_wsgi_app` serves a receiver over WSGI.
"""

from __future__ import annotations

import collections
import logging
import queue
import threading
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, Protocol, runtime_checkable

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from ..errors import (
    CbecError,
    ConfigError,
    EnvelopeError,
    ModelError,
    PushRejected,
    UnexpectedDocumentError,
    VerificationError,
    XmlError,
)
from .codec import DigestVerifier, PayloadCodec
from .profiles import PushProfile
from .push import make_codec, make_verifier, parse_form, push_id_of, read_fields
from .receipts import ReceiptEvent, read_receipt

__all__ = [
    "CallbackSink",
    "MemorySeenStore",
    "PushResponse",
    "QueueSink",
    "ReceiptReceiver",
    "ReceiptSink",
    "SeenStore",
]

log = logging.getLogger("cbec_declare.transport.receiver")


class PushResponse(NamedTuple):
    """What to answer: HTTP status, headers, body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


@runtime_checkable
class ReceiptSink(Protocol):
    """Where parsed receipts go. ``deliver`` must not return before the event is safe (stored,
    queued); raising makes the receiver answer an error so the platform retries."""

    def deliver(self, event: ReceiptEvent) -> None: ...


class CallbackSink:
    """Calls a function with each event."""

    def __init__(self, callback: Callable[[ReceiptEvent], Any]) -> None:
        self._callback = callback

    def deliver(self, event: ReceiptEvent) -> None:
        self._callback(event)


class QueueSink:
    """Puts each event on a ``queue.Queue``; a queue still full after ``timeout`` seconds is a
    failure (the platform will retry), never a silent drop."""

    def __init__(self, target: queue.Queue[ReceiptEvent], *, timeout: float = 5.0) -> None:
        self.queue = target
        self.timeout = timeout

    def deliver(self, event: ReceiptEvent) -> None:
        self.queue.put(event, timeout=self.timeout)


@runtime_checkable
class SeenStore(Protocol):
    """Remembers pushes being and already processed.

    ``claim`` is atomic: ``True`` for the first caller only. ``complete`` marks a claimed push processed;
    ``release`` forgets a claim whose processing failed. ``in_flight`` tells a copy that arrives while
    the first is still being processed (it must not be acknowledged yet: if that processing fails, the
    platform would never send the push again).
    """

    def claim(self, push_id: str) -> bool: ...

    def complete(self, push_id: str) -> None: ...

    def release(self, push_id: str) -> None: ...

    def in_flight(self, push_id: str) -> bool: ...


class MemorySeenStore:
    """In-memory, bounded (the oldest ids are forgotten first), thread-safe. Lost on restart: give
    the receiver a persistent store (the pipeline's ledger) in production."""

    def __init__(self, max_entries: int = 100_000) -> None:
        if max_entries < 1:
            raise ConfigError("max_entries must be at least 1", code="config.seen_store")
        # push id → processed (False while its first delivery is being processed)
        self._ids: collections.OrderedDict[str, bool] = collections.OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()

    def claim(self, push_id: str) -> bool:
        with self._lock:
            if push_id in self._ids:
                return False
            self._ids[push_id] = False
            while len(self._ids) > self._max:
                self._ids.popitem(last=False)
            return True

    def complete(self, push_id: str) -> None:
        with self._lock:
            self._ids[push_id] = True

    def release(self, push_id: str) -> None:
        with self._lock:
            self._ids.pop(push_id, None)

    def in_flight(self, push_id: str) -> bool:
        with self._lock:
            return self._ids.get(push_id) is False

    def __len__(self) -> int:
        return len(self._ids)


def _ack_code(exc: CbecError) -> str:
    if isinstance(exc, VerificationError) or exc.code == "transport.push.digest_missing":
        return "S02"
    if isinstance(exc, PushRejected):
        return "S05" if exc.code.startswith(("transport.push.base64", "transport.push.decrypt")) else "S12"
    if isinstance(exc, UnexpectedDocumentError):
        return "S04" if exc.code == "xml.unexpected.root" else "S05"
    if isinstance(exc, XmlError):
        return "S01"
    return "S05"  # EnvelopeError, ModelError: the right kind of document, but its content is wrong


class ReceiptReceiver:
    """Decrypts, verifies, reads, de-duplicates and delivers receipt pushes.

    ``aes_key``: the agreed key (raw bytes, Base64 text) or a codec. ``platform_public_key``: the
    platform's key (Base64/PEM/DER SPKI, a certificate) or a :class:`DigestVerifier`. ``sink``: a
    :class:`ReceiptSink` or a plain callable. ``seen``: defaults to a :class:`MemorySeenStore`.
    """

    def __init__(
        self,
        *,
        aes_key: bytes | str | PayloadCodec,
        platform_public_key: bytes | str | rsa.RSAPublicKey | x509.Certificate | DigestVerifier | None,
        sink: ReceiptSink | Callable[[ReceiptEvent], Any],
        seen: SeenStore | None = None,
        profile: PushProfile | None = None,
        verify: bool = True,
    ) -> None:
        self.profile = profile or PushProfile()
        self._codec = make_codec(aes_key)
        self._verifier = make_verifier(platform_public_key, self.profile)
        self.verify = verify
        if verify and self._verifier is None:
            raise ConfigError(
                "a receipt receiver needs the platform public key to verify data_digest; "
                "pass verify=False only to accept unverified pushes on purpose",
                code="config.push.verify",
            )
        if not verify:
            log.warning(
                "ReceiptReceiver built with verify=False: push digests are NOT checked; "
                "forged receipts will be accepted"
            )
        self.sink: ReceiptSink = sink if isinstance(sink, ReceiptSink) else CallbackSink(sink)
        self.seen: SeenStore = seen if seen is not None else MemorySeenStore()
        self._lock = threading.Lock()
        self.stats: collections.Counter[str] = collections.Counter()

    def __repr__(self) -> str:
        return (
            f"ReceiptReceiver(codec={self._codec!r}, verify={self.verify}, sink={type(self.sink).__name__})"
        )

    # ------------------------------------------------------------------ answers

    def _count(self, outcome: str) -> None:
        with self._lock:
            self.stats[outcome] += 1

    def _answer(self, status: int, content: tuple[str, bytes]) -> PushResponse:
        content_type, body = content
        return PushResponse(
            status, [("Content-Type", content_type), ("Content-Length", str(len(body)))], body
        )

    def reject(self, exc: CbecError, msg_type: str | None = None) -> PushResponse:
        """The error acknowledgement for a refused push (logged; counted in ``stats``)."""
        code = _ack_code(exc)
        log.warning("push refused (%s) msg_type=%s: %s", code, msg_type, exc)
        self._count("rejected")
        return self._answer(self.profile.reject_status, self.profile.ack.error(code, exc.message[:500]))

    # ------------------------------------------------------------------ entry points

    def handle(self, body: bytes, content_type: str | None = None) -> PushResponse:
        """Handle a raw HTTP body (``content_type`` as sent; ``None`` when unknown)."""
        if len(body) > self.profile.max_body_bytes:
            return self.reject(
                PushRejected(
                    f"the push body is {len(body)} bytes; the limit is {self.profile.max_body_bytes}",
                    code="transport.push.oversized",
                )
            )
        media = (content_type or "").split(";")[0].strip().lower()
        if media and media != "application/x-www-form-urlencoded":
            return self.reject(
                PushRejected(f"a push is a urlencoded form, not {media}", code="transport.push.content_type")
            )
        try:
            form = parse_form(body)
        except PushRejected as exc:
            return self.reject(exc)
        return self.handle_form(form)

    def handle_form(self, form: Mapping[str, str]) -> PushResponse:
        """Handle a push whose form fields a web framework has already read."""
        msg_type: str | None = None
        try:
            fields = read_fields(form, self.profile)
            msg_type = fields.msg_type
            if len(fields.content) > self.profile.max_body_bytes:
                raise PushRejected("the content field is oversized", code="transport.push.oversized")
            plaintext = self._codec.decode(fields.content)
            if len(plaintext) > self.profile.max_plaintext_bytes:
                raise PushRejected("the decrypted content is oversized", code="transport.push.oversized")
            verified = self._check_digest(fields.content, fields.digest, plaintext)
            push_id = push_id_of(msg_type, plaintext)
            event = read_receipt(
                plaintext,
                msg_type=msg_type,
                push_id=push_id,
                digest_verified=verified,
                max_bytes=self.profile.max_plaintext_bytes,
            )
        except (PushRejected, VerificationError, XmlError, EnvelopeError, ModelError) as exc:
            return self.reject(exc, msg_type)
        return self._deliver(event)

    def handle_document(self, document: bytes, *, msg_type: str = "CUSTOMS_CEB_CALLBACK") -> PushResponse:
        """Read, de-duplicate and deliver a receipt that came by another channel (an inbox folder, a
        queue): no decryption and no digest — that channel vouches for it (``digest_verified=False``)."""
        try:
            if len(document) > self.profile.max_plaintext_bytes:
                raise PushRejected("the document is oversized", code="transport.push.oversized")
            event = read_receipt(
                document,
                msg_type=msg_type,
                push_id=push_id_of(msg_type, document),
                digest_verified=False,
                max_bytes=self.profile.max_plaintext_bytes,
            )
        except (PushRejected, XmlError, EnvelopeError, ModelError) as exc:
            return self.reject(exc, msg_type)
        return self._deliver(event)

    def _check_digest(self, content: str, digest: str | None, plaintext: bytes) -> bool:
        if not self.verify:
            log.warning("push digest NOT verified (verify=False)")
            return False
        assert self._verifier is not None
        if digest is None:
            raise PushRejected("the push carries no data_digest", code="transport.push.digest_missing")
        signed = plaintext if self.profile.digest_over == "plaintext" else content.encode("utf-8")
        self._verifier.verify(signed, digest)
        return True

    def _deliver(self, event: ReceiptEvent) -> PushResponse:
        if not self.seen.claim(event.push_id):
            if self.seen.in_flight(event.push_id):
                # Its first copy is still being processed: acknowledging now would lose the receipt if
                # that processing fails, so ask the platform to send it again later.
                log.info(
                    "push %s (%s) is being processed; asked to resend", event.push_id[:16], event.msg_type
                )
                self._count("in_flight")
                return self._answer(
                    self.profile.failure_status,
                    self.profile.ack.error("S14", "being processed; send again later"),
                )
            log.info("push %s (%s) already processed; acknowledged again", event.push_id[:16], event.msg_type)
            self._count("duplicate")
            return self._answer(200, self.profile.ack.success())
        try:
            self.sink.deliver(event)
        except Exception:
            # Any failure of the consumer: forget the claim and ask the platform to send it again.
            self.seen.release(event.push_id)
            log.exception("push %s (%s): the receipt sink failed", event.push_id[:16], event.msg_type)
            self._count("failed")
            return self._answer(
                self.profile.failure_status,
                self.profile.ack.error("S07", "receipt could not be stored; send again"),
            )
        self.seen.complete(event.push_id)
        log.info("push %s delivered: %s %s", event.push_id[:16], event.msg_type, type(event.receipt).__name__)
        self._count("delivered")
        return self._answer(200, self.profile.ack.success())
