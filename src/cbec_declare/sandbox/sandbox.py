"""The full local sandbox: platform (§2.2) + exchange node (§2.3) + customs + receipt pushes (§2.1).

::

    with Sandbox(SandboxConfig(seed=7, timing=TimingConfig(time_scale=0.001))) as sandbox:
        sandbox.register_receiver("http://127.0.0.1:8080/receipts")
        creds = sandbox.credentials               # URLs, send code, DXP ids, test keys
        ...                                       # declare with the library's own clients
        sandbox.wait_idle(10)                     # every receipt pushed
        print(sandbox.stats().format())

* the :class:`~cbec_declare.sandbox.platform.PlatformServer` answers a ``<mo>`` IMPORTORDER or
  PERSONAL_GOODS_DECLAR that decrypts and verifies with chkMark 1, then pushes the 入库回执
  (``CUSTOMS_DECLARE_RESULT_CALLBACK``: chkMark 1, or 2 with reasons at ``platform_rejection_rate``);
  the same request twice is answered again but pushed once;
* the :class:`~cbec_declare.sandbox.node.NodeServer` hands each message to the
  :class:`~cbec_declare.sandbox.customs.CustomsSimulator`, whose receipts are pushed as
  ``CUSTOMS_CEB_CALLBACK`` (bare CEB, or in a DxpMsg from the customs DXP id);
* pushes go through one background dispatcher (a thread and a queue ordered by due time): delays,
  duplicates, reorderings and lost attempts as configured; a delivery that fails (connection error,
  non-2xx, an error acknowledgement) is retried with exponential back-off up to ``push.attempts``
  times, then abandoned loudly (logged, counted);
* faults on the two servers are drawn per request by :class:`FaultRule`, each channel from its own
  RNG seeded by ``config.seed``: the same seed and the same request order give the same faults.
  Push faults and customs decisions come from RNGs of their own too; with concurrent clients, or for
  retried pushes, *which* message or push meets which draw depends on timing.

Everything listens on 127.0.0.1 and pushes to loopback URLs only.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import logging
import random
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from urllib.parse import urlsplit

import attrs
from cryptography.hazmat.primitives import serialization

from ..envelope import wrap
from ..errors import CbecError, ConfigError
from ..models import CHINA_TZ
from ..transport import (
    ImportOrder,
    JkfResult,
    JkfResultDetail,
    PersonalGoodsDeclar,
    ResultReceipt,
    build_mo,
    parse_mo,
)
from ._pushes import (
    Counters,
    DocumentBook,
    DocumentState,
    FaultRule,
    PlannedReceipt,
    Push,
    PushDispatcher,
    SandboxStats,
    ack_ok,
)
from ._server import Faults
from .config import SandboxConfig
from .credentials import SandboxCredentials, sandbox_keys, trusted_certificates
from .customs import CustomsSimulator
from .node import NodeServer
from .platform import EnterpriseAccount, PlatformServer

__all__ = ["Counters", "DocumentState", "FaultRule", "Sandbox", "SandboxStats"]

log = logging.getLogger("cbec_declare.sandbox")

CEB_CALLBACK = "CUSTOMS_CEB_CALLBACK"
RESULT_CALLBACK = "CUSTOMS_DECLARE_RESULT_CALLBACK"
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


class Sandbox:
    """Platform + node + customs + pushes on 127.0.0.1 (see the module doc). Use as a context manager."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = c = config or SandboxConfig()
        self.counters = Counters()
        self.book = DocumentBook(c.max_tracked)
        self._aes_key, self._enterprise_key, public, platform_key = sandbox_keys(c)
        scale = c.timing.time_scale
        self.platform_faults = FaultRule(
            "platform", c.faults.platform, seed=c.seed, time_scale=scale, counters=self.counters
        )
        self.node_faults = FaultRule(
            "node", c.faults.node, seed=c.seed, time_scale=scale, counters=self.counters
        )
        self.platform = PlatformServer(
            accounts=[EnterpriseAccount(c.send_code, self._aes_key, public)],
            platform_key=platform_key,
            checker=self._platform_check,
            faults=Faults(rule=self.platform_faults),
            host=c.host,
            port=c.platform_port,
        )
        self.customs = CustomsSimulator(
            c,
            schedule=lambda plans: self._schedule(plans, CEB_CALLBACK),
            counters=self.counters,
            book=self.book,
            trusted=trusted_certificates(c.trusted_certificates),
            admit=self._has_room,
        )
        self.node = NodeServer(
            on_message=self.customs.on_message,
            faults=Faults(rule=self.node_faults),
            host=c.host,
            port=c.node_port,
        )
        self._dispatcher = PushDispatcher(
            self._deliver, self._delivered, c.push, time_scale=c.timing.time_scale, counters=self.counters
        )
        self._lock = threading.Lock()
        self._receivers: list[tuple[str, frozenset[str] | None]] = []
        self._parked: list[tuple[Sequence[PlannedReceipt], str]] = []
        self._push_rng = random.Random(f"{c.seed}:push")  # noqa: S311 - simulation
        self._delivery_rng = random.Random(f"{c.seed}:push-delivery")  # noqa: S311
        self._platform_rng = random.Random(f"{c.seed}:platform")  # noqa: S311
        self._platform_seen: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._started = False
        for url in c.receivers:
            self.register_receiver(url)

    def __repr__(self) -> str:
        state = (
            f"platform={self.platform.base_url}, node={self.node.soap_url}" if self._started else "stopped"
        )
        return f"Sandbox(seed={self.config.seed}, {state})"

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Sandbox:
        """Start platform, node and the push dispatcher (idempotent)."""
        if not self._started:
            self.customs.warm_up()
            self.platform.start()
            self.node.start()
            self._dispatcher.start()
            self._started = True
        return self

    def stop(self) -> None:
        """Stop the servers (waking hung requests), then the dispatcher; pending pushes are dropped."""
        if not self._started:
            return
        self.node.stop()
        self.platform.server.stop()
        left = self._dispatcher.stop()
        self.platform.stop()
        self._started = False
        if left:
            log.warning("sandbox stopped with %d pushes still pending", left)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def credentials(self) -> SandboxCredentials:
        """URLs, ids and keys for clients (the sandbox must be started)."""
        if not self._started:
            raise ConfigError("the sandbox is not running; call start() first", code="config.sandbox")
        key = self._enterprise_key
        return SandboxCredentials(
            platform_url=self.platform.base_url,
            node_soap_url=self.node.soap_url,
            node_rest_url=self.node.rest_url,
            send_code=self.config.send_code,
            sender_dxp_id=self.config.enterprise_dxp_id,
            receiver_dxp_id=self.config.customs_dxp_id,
            spec_version=self.config.spec_version,
            aes_key=base64.b64encode(self._aes_key).decode("ascii"),
            enterprise_private_key_pem=None
            if key is None
            else key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ).decode("ascii"),
            platform_public_key_pem=self.platform.platform_public_key.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ).decode("ascii"),
        )

    # ------------------------------------------------------------------ observing

    def register_receiver(self, url: str, *, msg_types: Sequence[str] | None = None) -> None:
        """Push receipts (all, or those of ``msg_types``) to ``url``, a loopback http URL; receipts held
        back for want of a receiver go out now."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.hostname not in _LOOPBACK:
            raise ConfigError(
                f"the sandbox pushes to loopback http URLs only, got {url!r}", code="config.sandbox"
            )
        with self._lock:
            self._receivers.append((url, None if msg_types is None else frozenset(msg_types)))
            parked, self._parked = self._parked, []
        for plans, msg_type in parked:
            self._schedule(plans, msg_type)

    def stats(self) -> SandboxStats:
        """Counts since start (see :class:`SandboxStats`)."""
        return SandboxStats.from_counts(self.counters.snapshot(), self._pending())

    def documents(self) -> list[DocumentState]:
        """Every document seen, with its planned and delivered statuses."""
        return self.book.snapshot()

    def fault_history(self, channel: str) -> tuple[str, ...]:
        """The fault kind drawn for each request of ``"platform"`` or ``"node"``, in order."""
        rule = {"platform": self.platform_faults, "node": self.node_faults}.get(channel)
        if rule is None:
            raise ConfigError(f"no fault channel {channel!r}; use platform or node", code="config.sandbox")
        return rule.kinds()

    def wait_idle(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds until no push is pending; ``False`` if some still are."""
        with self._lock:
            if self._parked:
                return False
        return self._dispatcher.wait_idle(timeout)

    # ------------------------------------------------------------------ pushes

    def _pending(self) -> int:
        with self._lock:
            parked = sum(len(plans) for plans, _ in self._parked)
        return self._dispatcher.pending + parked

    def _has_room(self) -> bool:
        return self._pending() < self.config.push.max_pending

    def _schedule(self, plans: Sequence[PlannedReceipt], msg_type: str) -> None:
        if not plans:
            return
        with self._lock:
            targets = [url for url, types in self._receivers if types is None or msg_type in types]
            if not targets:
                self._parked.append((plans, msg_type))
                return
        self.counters.add("receipts.scheduled", len(plans))
        faults, scale, now = self.config.faults.push, self.config.timing.time_scale, time.monotonic()
        last = max(plan.offset for plan in plans)
        for plan in plans:
            document = plan.document
            if self.config.receipt_envelope == "dxp" and msg_type == CEB_CALLBACK:
                document = wrap(
                    document,
                    self.config.customs_dxp_id,
                    self.config.enterprise_dxp_id,
                    namespace_style="default",
                )
            label = f"{plan.receipt_type} {','.join(sorted({s for _, s in plan.marks}))} ({plan.group[:12]})"
            for url in targets:
                with self._lock:  # five draws per push, whatever the outcome
                    lost, twice, late = (
                        self._push_rng.random() < rate
                        for rate in (faults.loss_rate, faults.duplicate_rate, faults.reorder_rate)
                    )
                    lag = self._push_rng.uniform(*faults.reorder_lag) * scale
                    echo = self._push_rng.uniform(*faults.duplicate_lag) * scale
                if lost:
                    self.counters.add("pushes.lost")
                    self.counters.add("faults.push.loss")
                    log.warning("push %s to %s lost on purpose (loss_rate)", label, url)
                    continue
                due = now + (last + lag if late else plan.offset)
                if late:
                    self.counters.add("pushes.reordered")
                    self.counters.add("faults.push.reorder")
                job = Push(url, document, msg_type, plan.marks, label)
                self._dispatcher.put(job, due)
                if twice:
                    self.counters.add("pushes.duplicated")
                    self.counters.add("faults.push.duplicate")
                    self._dispatcher.put(attrs.evolve(job, label=label + " (again)"), due + echo)

    def _deliver(self, job: Push) -> bool:
        if self.config.faults.push.fail_rate > 0:
            with self._lock:
                failed = self._delivery_rng.random() < self.config.faults.push.fail_rate
            if failed:
                self.counters.add("faults.push.fail")
                self.counters.add("pushes.failed")
                return False
        try:
            reply = self.platform.push(
                job.url, job.document, job.msg_type, aes_key=self._aes_key, timeout=self.config.push.timeout
            )
        except CbecError as exc:
            self.counters.add("pushes.failed")
            log.warning(
                "push %s to %s failed (attempt %d): %s", job.label, job.url, job.attempt + 1, exc.code
            )
            return False
        if ack_ok(reply):
            return True
        self.counters.add("pushes.failed")
        log.warning(
            "push %s to %s refused (attempt %d): HTTP %d", job.label, job.url, job.attempt + 1, reply.status
        )
        return False

    def _delivered(self, job: Push) -> None:
        self.counters.add("receipts.pushed")
        self.book.mark(job.marks)

    # ------------------------------------------------------------------ platform (§2.2)

    def _platform_check(self, msg_type: str, plaintext: bytes) -> list[str]:
        """The PlatformServer checker: accept, and plan the 入库回执 of each business document."""
        self.counters.add("messages.platform")
        try:
            message = parse_mo(plaintext)
        except CbecError:
            return []  # a CEB document over §2.2: accepted as it is
        units = (
            message.orders
            if isinstance(message, ImportOrder)
            else message.modules
            if isinstance(message, PersonalGoodsDeclar)
            else ()
        )
        signs = [unit.sign for unit in units if unit.sign is not None]
        if not signs:
            return []
        request = hashlib.sha256(msg_type.encode() + b"\0" + plaintext).hexdigest()[:24]
        business = self.config.business
        moment = datetime.now(CHINA_TZ)
        results, marks = [], []
        with self._lock:
            if request in self._platform_seen:
                self.counters.add("duplicate_deliveries.platform")
                return []
            self._platform_seen[request] = None
            while len(self._platform_seen) > self.config.max_tracked:
                self._platform_seen.popitem(last=False)
            for sign in signs:
                refused = self._platform_rng.random() < business.platform_rejection_rate
                reason = self._platform_rng.choice(business.platform_reasons)
                mark, number = ("2" if refused else "1"), sign.business_no or ""
                self.counters.add(f"documents.{msg_type}")
                if refused:
                    self.counters.add("rejections.platform")
                results.append(
                    JkfResult(
                        company_code=sign.company_code or self.config.send_code,
                        business_no=number,
                        business_type=msg_type,
                        declare_type=sign.declare_type or "1",
                        chk_mark=mark,
                        notice_date=moment.strftime("%Y-%m-%d"),
                        notice_time=moment.strftime("%H:%M"),
                        details=(JkfResultDetail(result_info=reason if refused else "处理成功"),),
                    )
                )
                ref = f"{request}/{number}"
                marks.append((ref, mark))
                self.book.add(
                    DocumentState(
                        ref=ref,
                        channel="platform",
                        message_type=msg_type,
                        receipt_type="RESULT",
                        guid=number,
                        business_no=number,
                        app_type=sign.declare_type or "1",
                        planned=(mark,),
                        final_status=mark,
                    )
                )
            low, high = self.config.timing.platform
            offset = self.config.timing.scaled(self._platform_rng.uniform(low, high))
        document = build_mo(ResultReceipt(results=tuple(results)))
        self._schedule([PlannedReceipt(offset, document, "RESULT", tuple(marks), request)], RESULT_CALLBACK)
        return []
