"""The customs side of the sandbox: what becomes of a CEB message once the exchange node has it.

:meth:`CustomsSimulator.on_message` is the :class:`~cbec_declare.sandbox.node.NodeServer` hook. It
answers the node at once (``处理成功``; ``系统流控`` when the push queue is full) and plans the
receipts customs would send, handed to ``schedule`` as :class:`PlannedReceipt` (offsets in seconds):

* not well-formed, not a declaration, or XSD-invalid (our :func:`~cbec_declare.validation.xsd_findings`
  of the configured version) → one ``CEB900Message`` with returnStatus ``-1`` [L: no real CEB900 is
  public], the findings in returnInfo, ``oriCopMsgId`` and ``oriMessageType`` (``Unknown``);
* signature missing (CEB621/623/625/711 always; the others while ``require_signature``) or failing
  :func:`~cbec_declare.signing.verify` (pinned ``trusted_certificates`` when configured) → every
  document gets the type's 验签失败 code (``BusinessConfig.signature_codes``);
* per document, independently (a message carries 1..100): ``appType`` 1 for a business number already
  accepted (orderNo, payTransactionId, logisticsNo, copNo) → 已存在相同编号 (-301010, -401007,
  -504012, -621004) and counted as *declared twice*; ``appType`` 2/3 for an unknown one → the
  family's appType code; a rejection drawn at ``rejection_rate`` → ``2`` then ``100`` with the reason,
  or the negative code alone; otherwise the success sequence:

  ============================  =====================================================================
  CEB311/411/511/513            2 新增申报成功[guid] → 120 [Code:1800;Desc:逻辑校验通过]
  CEB621                        2 清单新增申报成功[guid] → 120 → (300 人工审核) → (500 查验) → 399 海关审结
                                → 800 [Code:2600;Desc:放行]; preNo from 2, invtNo from 120
  CEB623/625/711                2 → 120 → 399 海关审结 (``appStatus`` 1 on 621/623/625/711: 1 暂存)
  ============================  =====================================================================

Receipts for the documents of one message are batched as customs does: the k-th receipt of every
document goes into one receipt message (at most ``batch_size`` returns each). Each return's ``guid``
is the declared document's guid. invtNo is 4 customs + 4 year + ``I`` + 9 sequence; preNo
(``B`` + year + 13 digits) and rkdNo are our layout [L].

A CopMsgId seen before is recognised and not processed again (a *duplicate delivery*). Every draw
(rejections, review, inspection, step delays) comes from RNGs seeded by ``SandboxConfig.seed``.
"""

from __future__ import annotations

import collections
import logging
import random
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs
from lxml import etree

from .._xml import CEB_NS, DS_NS, parse_untrusted
from ..codes import describe_business_error, describe_status
from ..errors import CbecError, VerificationError, XmlError
from ..messages import build, parse_element
from ..models import (
    CHINA_TZ,
    DECLARATION_MESSAGES,
    CEB900Message,
    DeclarationMessage,
    MessageReturn,
    cancel,
    delivery,
    inventory,
    logistics,
    new_guid,
    order,
    payment,
    refund,
)
from ..signing import verify
from ..validation import schema_for, xsd_findings
from ._pushes import Counters, DocumentBook, DocumentState, PlannedReceipt
from .config import SandboxConfig
from .node import NodeVerdict

__all__ = ["FORMAT_ERROR_STATUS", "CustomsSimulator"]

log = logging.getLogger("cbec_declare.sandbox")

#: returnStatus of the CEB900 the simulator sends for a message failing format checks [L]
FORMAT_ERROR_STATUS = "-1"

_CLOSING = ("CEB623Message", "CEB625Message", "CEB711Message")
_NUMBERED = frozenset({"120", "300", "399", "500", "800"})  # statuses that carry invtNo / rkdNo
_STEP_OF = {
    "1": "declaring",
    "2": "declaring",
    "120": "accepted",
    "100": "accepted",
    "300": "review",
    "500": "review",
    "399": "concluded",
    "800": "released",
}


@attrs.frozen
class _Rules:
    receipt: type[Any]  # a ReceiptMessage subclass
    entity: type[Any]
    duplicate_code: str | None  # 已存在相同编号… (appType 1 again)
    app_type_code: str  # appType 2/3 for a document customs does not know


_RULES: dict[str, _Rules] = {
    "CEB311Message": _Rules(order.CEB312Message, order.OrderReturn, "-301010", "-301009"),
    "CEB411Message": _Rules(payment.CEB412Message, payment.PaymentReturn, "-401007", "-401009"),
    "CEB511Message": _Rules(logistics.CEB512Message, logistics.LogisticsReturn, "-504012", "-504000"),
    "CEB513Message": _Rules(logistics.CEB514Message, logistics.LogisticsStatusReturn, None, "-505000"),
    "CEB621Message": _Rules(inventory.CEB622Message, inventory.InventoryReturn, "-621004", "-621000"),
    "CEB623Message": _Rules(cancel.CEB624Message, cancel.InvtCancelReturn, None, "-623000"),
    "CEB625Message": _Rules(refund.CEB626Message, refund.InvtRefundReturn, None, "-625001"),
    "CEB711Message": _Rules(delivery.CEB712Message, delivery.DeliveryReturn, None, "-800000"),
}


@attrs.frozen
class _View:
    """The parts of one declared document the receipts need."""

    guid: str
    app_type: str
    app_status: str
    number: str  # the business number named in texts
    key: str  # the identity that makes a second appType 1 "declared twice"
    fields: dict[str, Any]  # fixed fields of the …Return entity
    customs_code: str | None = None
    pre_no: str | None = None
    invt_no: str | None = None


def _pick(head: Any, *names: str) -> dict[str, Any]:
    return {name: getattr(head, name) for name in names}


def _view(message_type: str, doc: Any) -> _View:
    head = getattr(doc, "head", doc)
    common: dict[str, Any] = {"guid": head.guid, "app_type": head.app_type, "app_status": head.app_status}
    if message_type == "CEB311Message":
        key = f"{head.ebp_code}|{head.order_no}"
        return _View(
            **common, number=head.order_no, key=key, fields=_pick(head, "ebp_code", "ebc_code", "order_no")
        )
    if message_type == "CEB411Message":
        key = f"{head.pay_code}|{head.pay_transaction_id}"
        fields = _pick(head, "pay_code", "pay_transaction_id")
        return _View(**common, number=head.pay_transaction_id, key=key, fields=fields)
    if message_type in ("CEB511Message", "CEB513Message"):
        fields = _pick(head, "logistics_code", "logistics_no")
        if message_type == "CEB513Message":
            fields["logistics_status"] = head.logistics_status
        key = "|".join(fields.values())
        return _View(**common, number=head.logistics_no, key=key, fields=fields)
    if message_type == "CEB711Message":
        fields = {**_pick(head, "customs_code", "operator_code"), "cop_no": head.cop_no or head.guid[:20]}
        key = f"{head.operator_code}|{fields['cop_no']}"
        extra = {"customs_code": head.customs_code, "pre_no": head.pre_no}
        return _View(**common, number=fields["cop_no"], key=key, fields=fields, **extra)
    # CEB621 / 623 / 625: the inventory family
    inventory_no = head.order_no if message_type == "CEB621Message" else head.invt_no
    fields = {
        **_pick(head, "customs_code", "ebp_code", "ebc_code", "agent_code"),
        "cop_no": head.cop_no or inventory_no[:20],
    }
    key = f"{head.agent_code}|{fields['cop_no'] if message_type == 'CEB621Message' else head.invt_no}"
    extra = {"customs_code": head.customs_code, "pre_no": head.pre_no, "invt_no": head.invt_no}
    return _View(**common, number=fields["cop_no"], key=key, fields=fields, **extra)


def _now() -> datetime:
    return datetime.now(CHINA_TZ).replace(tzinfo=None)


class CustomsSimulator:
    """Validates, verifies and judges CEB messages; plans their receipts (see the module doc).

    ``schedule`` receives the planned receipts of each message; ``admit`` (optional) says whether
    there is room for more (``False``: the node answers 系统流控 and forgets the CopMsgId, so a
    resend is processed). Thread-safe.
    """

    def __init__(
        self,
        config: SandboxConfig,
        *,
        schedule: Callable[[Sequence[PlannedReceipt]], None],
        counters: Counters | None = None,
        book: DocumentBook | None = None,
        trusted: Sequence[bytes] = (),
        admit: Callable[[], bool] | None = None,
    ) -> None:
        self.config = config
        self.counters = counters if counters is not None else Counters()
        self.book = book if book is not None else DocumentBook(config.max_tracked)
        self._schedule = schedule
        self._trusted = list(trusted)
        self._admit = admit
        self._lock = threading.Lock()
        self._rng = random.Random(f"{config.seed}:customs")  # noqa: S311 - simulation, not secrets
        self._timing = random.Random(f"{config.seed}:timing")  # noqa: S311
        self._messages: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._keys: collections.OrderedDict[tuple[str, str], str] = collections.OrderedDict()
        self._sequence = 0

    def on_message(self, cop_msg_id: str, ceb: bytes) -> NodeVerdict:
        """The node hook: answer at once, plan and schedule the receipts."""
        self.counters.add("messages.node")
        with self._lock:
            if cop_msg_id in self._messages:
                self.counters.add("duplicate_deliveries.node")
                log.info("CopMsgId %s delivered again; not processed again", cop_msg_id)
                return NodeVerdict.ok("重复报文，已接收")
            if self._admit is not None and not self._admit():
                self.counters.add("rejections.flow_control")
                return NodeVerdict.reject("系统流控，请稍后重发")
            self._remember(self._messages, cop_msg_id, None)
        try:
            plans = self._process(cop_msg_id, bytes(ceb))
        except BaseException:  # a bug, not a verdict: forget the CopMsgId so a resend is processed
            with self._lock:
                self._messages.pop(cop_msg_id, None)
            raise
        self._schedule(plans)
        return NodeVerdict.ok()

    def warm_up(self) -> None:
        """Compile the XSD and the receipt writers now, so that the first message is not slowed down by
        one-off work a long-running customs would have done long ago."""
        schema_for(self.config.spec_version)
        when = _now()
        build(CEB900Message(returns=(MessageReturn(guid=new_guid(), return_status=FORMAT_ERROR_STATUS,
                                                   return_info="", return_time=when, ori_cop_msg_id="",
                                                   ori_message_type="", ori_biz_message=""),)))  # fmt: skip
        for rules in _RULES.values():
            build(rules.receipt(returns=()))  # an empty receipt: enough to compile its writer

    def _remember(self, table: collections.OrderedDict[Any, Any], key: Any, value: Any) -> None:
        table[key] = value
        while len(table) > self.config.max_tracked:
            table.popitem(last=False)

    # ------------------------------------------------------------------ checks

    def _process(self, cop_msg_id: str, ceb: bytes) -> list[PlannedReceipt]:
        received = _now()
        try:
            root = parse_untrusted(ceb, what="CEB message")
        except XmlError as exc:
            return self._format_error(
                cop_msg_id, ceb, "Unknown", None, [f"报文格式错误: {exc.message}"], received
            )
        qname = etree.QName(root)
        namespace, name = qname.namespace, qname.localname
        cls = DECLARATION_MESSAGES.get(name) if namespace == CEB_NS else None
        guid = root.get("guid")
        if cls is None:
            return self._format_error(cop_msg_id, ceb, name, guid, [f"不是可申报的报文: {name}"], received)
        findings = xsd_findings(root, self.config.spec_version)
        problems = [f for f in findings if not (f.code == "xsd.missing" and f.path == f"{name}/Signature")]
        if problems:
            return self._format_error(cop_msg_id, ceb, name, guid, [str(f) for f in problems[:20]], received)
        try:
            message: DeclarationMessage = parse_element(root)
        except CbecError as exc:
            return self._format_error(cop_msg_id, ceb, name, guid, [str(exc)], received)
        problem = self._signature_problem(cls, root, ceb)
        with self._lock:
            return self._plan(cop_msg_id, message, received, problem)

    def _signature_problem(self, cls: type[DeclarationMessage], root: Any, ceb: bytes) -> str | None:
        if root.find(f"{{{DS_NS}}}Signature") is None:
            return "missing" if cls.SIGNATURE_REQUIRED or self.config.require_signature else None
        try:
            verify(ceb, trusted=self._trusted or None)
        except VerificationError as exc:
            return str(exc.context.get("reason") or exc.code)
        except CbecError as exc:
            return exc.code
        return None

    def _format_error(
        self,
        cop_msg_id: str,
        ceb: bytes,
        name: str,
        guid: str | None,
        problems: list[str],
        received: datetime,
    ) -> list[PlannedReceipt]:
        self.counters.add("rejections.schema")
        original = name if name.startswith("CEB") and len(name) <= 15 else "Unknown"
        guid = guid if guid is not None and len(guid) == 36 else new_guid()
        with self._lock:
            offset = self._delay("2")
        entry = MessageReturn(
            guid=guid,
            return_status=FORMAT_ERROR_STATUS,
            return_info=("报文格式校验失败：" + "；".join(problems))[:5000],
            return_time=received + timedelta(seconds=offset),
            ori_cop_msg_id=cop_msg_id[:255],
            ori_message_type=original,
            ori_biz_message=ceb.decode("utf-8", "replace"),
        )
        try:
            document = build(CEB900Message(returns=(entry,)))
        except CbecError:  # characters XML cannot carry: leave the original out
            document = build(CEB900Message(returns=(attrs.evolve(entry, ori_biz_message=""),)))
        ref = f"{cop_msg_id}/{guid}"
        self.book.add(
            DocumentState(
                ref=ref,
                channel="node",
                message_type=original,
                receipt_type="CEB900Message",
                guid=guid,
                business_no="",
                app_type="",
                planned=(FORMAT_ERROR_STATUS,),
                final_status=FORMAT_ERROR_STATUS,
            )
        )
        log.info("CopMsgId %s: format check failed (%d problems): CEB900", cop_msg_id, len(problems))
        return [PlannedReceipt(offset, document, "CEB900Message", ((ref, FORMAT_ERROR_STATUS),), cop_msg_id)]

    # ------------------------------------------------------------------ planning (under the lock)

    def _plan(
        self, cop_msg_id: str, message: DeclarationMessage, received: datetime, problem: str | None
    ) -> list[PlannedReceipt]:
        name = message.message_type
        rules = _RULES[name]
        receipt_type = rules.receipt.__ceb__.element
        lanes: list[tuple[str, _View, list[tuple[str, str]], tuple[dict[str, str], dict[str, str]]]] = []
        for position, doc in enumerate(message.documents):
            view = _view(name, doc)
            self.counters.add(f"documents.{name}")
            steps = self._steps(name, rules, view, problem)
            ref = f"{cop_msg_id}/{view.guid}"
            if any(ref == lane[0] for lane in lanes):  # a guid repeated inside one message
                ref += f"#{position}"
            last = steps[-1][0]
            self.book.add(
                DocumentState(
                    ref=ref,
                    channel="node",
                    message_type=name,
                    receipt_type=receipt_type,
                    guid=view.guid,
                    business_no=view.number,
                    app_type=view.app_type,
                    planned=tuple(s for s, _ in steps),
                    final_status=last if describe_status(receipt_type, last).final else None,
                )
            )
            lanes.append((ref, view, steps, self._numbers(name, view)))
        plans: list[PlannedReceipt] = []
        offset = 0.0
        for k in range(max(len(steps) for _, _, steps, _ in lanes)):
            column = [(ref, view, steps[k], numbers) for ref, view, steps, numbers in lanes if len(steps) > k]
            offset += self._delay(column[0][2][0])
            when = received + timedelta(seconds=offset)
            size = self.config.batch_size
            for start in range(0, len(column), size):
                chunk = column[start : start + size]
                returns = tuple(
                    rules.entity(
                        guid=view.guid,
                        return_status=status,
                        return_time=when,
                        return_info=info[:1000],
                        **view.fields,
                        **always,
                        **(later if status in _NUMBERED else {}),
                    )
                    for _, view, (status, info), (always, later) in chunk
                )
                marks = tuple((ref, status) for ref, _, (status, _), _ in chunk)
                document = build(rules.receipt(returns=returns))
                plans.append(PlannedReceipt(offset, document, receipt_type, marks, cop_msg_id))
        return plans

    def _steps(self, name: str, rules: _Rules, view: _View, problem: str | None) -> list[tuple[str, str]]:
        business = self.config.business
        if problem is not None:
            self.counters.add("rejections.signature")
            code, text = business.signature_codes[name], self._text(business.signature_codes[name])
            return [(code, ("验签失败" if text == "验签失败" else f"{text}：验签失败") + f"[{problem}]")]
        key = (name, view.key)
        known = key in self._keys
        if view.app_type == "1" and known and rules.duplicate_code is not None:
            self.counters.add("declared_twice")
            self.counters.add("rejections.declared_twice")
            return [(rules.duplicate_code, f"{self._text(rules.duplicate_code)}[{view.number}]")]
        if view.app_type in ("2", "3") and not known:
            self.counters.add("rejections.app_type")
            verb = "变更" if view.app_type == "2" else "删除"
            return [
                (rules.app_type_code, f"{self._text(rules.app_type_code)}：{verb}的单证不存在[{view.number}]")
            ]
        verb = {"2": "变更", "3": "删除"}.get(view.app_type, "新增")
        declared = ("2", f"{'清单' if name == 'CEB621Message' else ''}{verb}申报成功[{view.guid}]")
        if view.app_status == "1" and name in ("CEB621Message", *_CLOSING):
            return [("1", "暂存")]
        if self._rng.random() < business.rejection_rate:
            self.counters.add("rejections.business")
            code, text = self._rng.choice(business.reasons[name])
            return [declared, (code, text)] if code == "100" else [(code, text)]
        steps = [declared, ("120", "[Code:1800;Desc:逻辑校验通过]")]
        if name == "CEB621Message":
            if self._rng.random() < business.manual_review_rate:
                steps.append(("300", "人工审核"))
            if self._rng.random() < business.inspection_rate:
                steps.append(("500", "查验"))
            steps += [("399", "海关审结"), ("800", "[Code:2600;Desc:放行]")]
        elif name in _CLOSING:
            steps.append(("399", "海关审结"))
        if view.app_type == "3":
            self._keys.pop(key, None)
        else:
            self._remember(self._keys, key, view.guid)
        return steps

    def _numbers(self, name: str, view: _View) -> tuple[dict[str, str], dict[str, str]]:
        """(numbers on every receipt, numbers from 120 on): preNo; invtNo (assigned at 120 for a 621,
        the declared one for 623/625); rkdNo (711, from 120). A declared preNo or invtNo is echoed
        only when it has the 18 characters the receipt's XSD requires."""
        if name not in ("CEB621Message", *_CLOSING):
            return {}, {}
        self._sequence += 1
        year = _now().year
        pre_no, invt_no = (n if n is not None and len(n) == 18 else None for n in (view.pre_no, view.invt_no))
        always = {"pre_no": pre_no or f"B{year}{self._sequence:013d}"}
        customs = (view.customs_code or "0000")[:4]
        if name == "CEB621Message":
            return always, {"invt_no": invt_no or f"{customs}{year}I{self._sequence:09d}"}
        if name == "CEB711Message":
            return always, {"rkd_no": f"{customs}{year}R{self._sequence:09d}"}
        return {**always, "invt_no": invt_no} if invt_no else always, {}

    def _delay(self, status: str) -> float:
        low, high = getattr(self.config.timing, _STEP_OF.get(status, "declaring"))
        return self.config.timing.scaled(self._timing.uniform(low, high))

    @staticmethod
    def _text(code: str) -> str:
        described = describe_business_error(code)
        return described.zh if described is not None else "处理异常"
