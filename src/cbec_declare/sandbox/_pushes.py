"""The sandbox's bookkeeping and push machinery: counters, the document book, the per-request fault
rule, the push dispatcher and the stats snapshot. Private: :mod:`cbec_declare.sandbox.sandbox` wires
them; the public names are re-exported there.
"""

from __future__ import annotations

import collections
import heapq
import itertools
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from ..transport.http import HttpReply
from ._server import Fault, RecordedRequest
from .config import ChannelFaults, PushConfig

__all__ = [
    "Counters",
    "DocumentBook",
    "DocumentState",
    "FaultRule",
    "PlannedReceipt",
    "Push",
    "PushDispatcher",
    "SandboxStats",
    "ack_ok",
]

log = logging.getLogger("cbec_declare.sandbox")


class Counters:
    """Thread-safe named counts (``messages.node``, ``faults.platform.drop``, ...)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: collections.Counter[str] = collections.Counter()

    def add(self, name: str, n: int = 1) -> None:
        """Add ``n`` to the count called ``name``."""
        with self._lock:
            self._counts[name] += n

    def snapshot(self) -> dict[str, int]:
        """Every count, at one moment."""
        with self._lock:
            return dict(self._counts)


@attrs.frozen
class PlannedReceipt:
    """One receipt document to push ``offset`` seconds after its message arrived.

    ``marks`` are the (document ref, returnStatus) pairs it carries; ``group`` ties together the
    receipts of one message (a reordered push is held back until after the group's last one).
    """

    offset: float
    document: bytes = attrs.field(repr=lambda value: f"<{len(value)} bytes>")
    receipt_type: str
    marks: tuple[tuple[str, str], ...]
    group: str


@attrs.frozen(kw_only=True)
class DocumentState:
    """One declared document as the sandbox sees it: the statuses it planned and those delivered.

    ``ref`` is ``<CopMsgId or request id>/<guid or businessNo>``; ``channel`` is ``node`` or
    ``platform``. ``final_status`` is the planned final status (``None`` while the document stays
    open, e.g. 1 暂存); ``settled`` once a push carrying it was delivered.
    """

    ref: str
    channel: str
    message_type: str
    receipt_type: str
    guid: str
    business_no: str
    app_type: str
    planned: tuple[str, ...]
    final_status: str | None
    delivered: tuple[str, ...] = ()

    @property
    def settled(self) -> bool:
        """The planned final status was delivered."""
        return self.final_status is not None and self.final_status in self.delivered


class DocumentBook:
    """Every document the sandbox planned receipts for (bounded; the oldest are forgotten first)."""

    def __init__(self, max_tracked: int) -> None:
        self._lock = threading.Lock()
        self._states: collections.OrderedDict[str, DocumentState] = collections.OrderedDict()
        self._max = max_tracked

    def add(self, state: DocumentState) -> None:
        """Record a document (replacing one with the same ``ref``)."""
        with self._lock:
            self._states[state.ref] = state
            while len(self._states) > self._max:
                self._states.popitem(last=False)

    def mark(self, marks: Iterable[tuple[str, str]]) -> None:
        """Record that a push carrying these (ref, status) pairs was delivered."""
        with self._lock:
            for ref, status in marks:
                state = self._states.get(ref)
                if state is not None:
                    self._states[ref] = attrs.evolve(state, delivered=(*state.delivered, status))

    def snapshot(self) -> list[DocumentState]:
        """Every document, oldest first."""
        with self._lock:
            return list(self._states.values())


class FaultRule:
    """A :class:`~cbec_declare.sandbox._server.Faults` rule drawing one fault per request.

    Kinds: ``drop``, ``error`` (a 5xx), ``timeout`` (hang, or answer late), ``slow`` and ``none``;
    :meth:`kinds` lists them in request order. Three draws per request whatever the outcome, from the
    channel's own RNG: the same seed and request order give the same faults.
    """

    def __init__(
        self, channel: str, config: ChannelFaults, *, seed: int, time_scale: float, counters: Counters
    ) -> None:
        self.channel = channel
        self.config = config
        self._scale = time_scale
        self._counters = counters
        self._rng = random.Random(f"{seed}:{channel}-faults")  # noqa: S311 - simulation, not secrets
        self._lock = threading.Lock()
        self._history: collections.deque[str] = collections.deque(maxlen=100_000)

    def kinds(self) -> tuple[str, ...]:
        """The kind drawn for each request so far, in order (the last 100 000)."""
        with self._lock:
            return tuple(self._history)

    def __call__(self, request: RecordedRequest) -> Fault | None:
        c = self.config
        edges = itertools.accumulate((c.drop_rate, c.error_rate, c.timeout_rate, c.slow_rate))
        drop, error, timeout, slow = edges
        with self._lock:
            draw, status = self._rng.random(), self._rng.choice(c.error_statuses)
            seconds = self._rng.uniform(*c.slow_seconds) * self._scale
            fault: Fault | None = None
            kind = "none"
            if draw < drop:
                kind, fault = "drop", Fault.drop()
            elif draw < error:
                kind, fault = "error", Fault.status(status, b"Service Unavailable")
            elif draw < timeout:
                kind = "timeout"
                fault = Fault.hang() if c.timeout_mode == "hang" else Fault.delay(c.late_seconds)
            elif draw < slow:
                kind, fault = "slow", Fault.delay(seconds)
            self._history.append(kind)
        if fault is not None:
            self._counters.add(f"faults.{self.channel}.{kind}")
            log.debug("%s: injecting %s on %s %s", self.channel, kind, request.method, request.path)
        return fault


@attrs.frozen
class Push:
    """One delivery of one receipt document to one receiver URL."""

    url: str
    document: bytes = attrs.field(repr=lambda value: f"<{len(value)} bytes>")
    msg_type: str
    marks: tuple[tuple[str, str], ...]
    label: str
    attempt: int = 0


def ack_ok(reply: HttpReply) -> bool:
    """A 2xx whose body is not an error acknowledgement (XML, JSON or text, as the receivers answer)."""
    if not 200 <= reply.status < 300:
        return False
    head = reply.body[:300].decode("utf-8", "replace").replace(" ", "").lower()
    return not ("<success>false" in head or '"success":false' in head or head.startswith("error"))


class PushDispatcher:
    """``config.concurrency`` threads delivering pushes in due-time order; a failed delivery comes back
    with back-off.

    ``deliver(push) -> bool`` makes one attempt; ``delivered(push)`` runs after a success. After
    ``config.attempts`` failed attempts a push is abandoned: logged at ERROR and counted.
    """

    def __init__(
        self,
        deliver: Callable[[Push], bool],
        delivered: Callable[[Push], None],
        config: PushConfig,
        *,
        time_scale: float,
        counters: Counters,
    ) -> None:
        self._deliver, self._delivered = deliver, delivered
        self._config, self._scale, self._counters = config, time_scale, counters
        self._heap: list[tuple[float, int, Push]] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._busy = 0
        self._stopping = False
        self._threads: list[threading.Thread] = []

    @property
    def pending(self) -> int:
        """Pushes queued or being delivered."""
        with self._cond:
            return len(self._heap) + self._busy

    def put(self, push: Push, due: float) -> None:
        """Deliver ``push`` at ``due`` (``time.monotonic()`` seconds) or soon after."""
        with self._cond:
            heapq.heappush(self._heap, (due, next(self._order), push))
            self._cond.notify_all()

    def start(self) -> None:
        """Start the delivery threads."""
        self._stopping = False
        self._threads = [
            threading.Thread(target=self._run, name=f"cbec-sandbox-push-{n}", daemon=True)
            for n in range(self._config.concurrency)
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> int:
        """Stop after the deliveries in progress (bounded by the push timeout); return how many were left."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        deadline = time.monotonic() + self._config.timeout + 5
        for thread in self._threads:
            thread.join(timeout=max(deadline - time.monotonic(), 0.0))
        self._threads = []
        with self._cond:
            left = len(self._heap)
            self._heap.clear()
        return left

    def wait_idle(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for an empty queue; ``False`` if pushes are still pending."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._heap and not self._busy, timeout=timeout)

    def _next(self) -> Push | None:
        with self._cond:
            while not self._stopping and not (self._heap and self._heap[0][0] <= time.monotonic()):
                wait = self._heap[0][0] - time.monotonic() if self._heap else 0.5
                self._cond.wait(timeout=min(max(wait, 0.0), 0.5))
            if self._stopping:
                return None
            self._busy += 1
            return heapq.heappop(self._heap)[2]

    def _run(self) -> None:
        while (push := self._next()) is not None:
            try:
                ok = self._deliver(push)
            except Exception:  # a bug must not kill the dispatcher: a failed attempt
                log.exception("push %s to %s failed unexpectedly", push.label, push.url)
                ok = False
            with self._cond:
                self._busy -= 1
                if ok:
                    self._delivered(push)
                elif push.attempt + 1 < self._config.attempts:
                    backoff = self._config.backoff * 2**push.attempt
                    wait = min(backoff, self._config.max_backoff) * self._scale
                    again = attrs.evolve(push, attempt=push.attempt + 1)
                    heapq.heappush(self._heap, (time.monotonic() + wait, next(self._order), again))
                    self._counters.add("pushes.retried")
                else:
                    self._counters.add("pushes.abandoned")
                    log.error(
                        "push %s to %s abandoned after %d attempts", push.label, push.url, push.attempt + 1
                    )
                self._cond.notify_all()


_SCALARS = {
    "declared_twice": "declared_twice",
    "receipts_scheduled": "receipts.scheduled",
    "receipts_pushed": "receipts.pushed",
    "pushes_failed": "pushes.failed",
    "pushes_retried": "pushes.retried",
    "pushes_abandoned": "pushes.abandoned",
    "pushes_duplicated": "pushes.duplicated",
    "pushes_reordered": "pushes.reordered",
    "pushes_lost": "pushes.lost",
}
_GROUPS = {
    "messages": "messages.",
    "documents": "documents.",
    "duplicate_deliveries": "duplicate_deliveries.",
    "faults": "faults.",
    "rejections": "rejections.",
}


@attrs.frozen(kw_only=True)
class SandboxStats:
    """Counts since start (:meth:`format` prints them).

    ``messages`` per channel (``platform``, ``node``); ``documents`` per type (CEB621Message,
    IMPORTORDER…); ``duplicate_deliveries`` per channel (the same CopMsgId, or the same 2.2 request,
    again); ``declared_twice``: appType 1 for a known business number; ``receipts_pushed``: successful
    deliveries (duplicates included); ``pushes_failed``: failed attempts; ``pushes_retried`` /
    ``_abandoned`` / ``_duplicated`` / ``_reordered`` / ``_lost``; ``pending_pushes`` now; ``faults``
    per ``channel.kind``; ``rejections`` per cause (business, platform, signature, schema,
    declared_twice, app_type, flow_control).
    """

    messages: Mapping[str, int]
    documents: Mapping[str, int]
    duplicate_deliveries: Mapping[str, int]
    declared_twice: int
    receipts_scheduled: int
    receipts_pushed: int
    pushes_failed: int
    pushes_retried: int
    pushes_abandoned: int
    pushes_duplicated: int
    pushes_reordered: int
    pushes_lost: int
    pending_pushes: int
    faults: Mapping[str, int]
    rejections: Mapping[str, int]

    @classmethod
    def from_counts(cls, counts: Mapping[str, int], pending: int) -> SandboxStats:
        """From a :meth:`Counters.snapshot` and the number of pending pushes."""
        groups: dict[str, Any] = {
            name: {k[len(prefix) :]: v for k, v in sorted(counts.items()) if k.startswith(prefix)}
            for name, prefix in _GROUPS.items()
        }
        scalars: dict[str, Any] = {name: counts.get(key, 0) for name, key in _SCALARS.items()}
        return cls(pending_pushes=pending, **groups, **scalars)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every count, groups as plain dicts."""
        out: dict[str, Any] = {}
        for field in attrs.fields(type(self)):
            value = getattr(self, field.name)
            out[field.name] = dict(value) if isinstance(value, Mapping) else value
        return out

    def format(self) -> str:
        """One ``name: value`` line per count, for the soak test and the demo."""
        lines = []
        for name, value in self.to_dict().items():
            if isinstance(value, dict):
                value = ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
            lines.append(f"{name}: {value}")
        return "\n".join(lines)
