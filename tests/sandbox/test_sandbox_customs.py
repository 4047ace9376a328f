"""The customs simulator end to end: signed CEB messages over §2.3, receipts pushed back over §2.1."""

from __future__ import annotations

import re
from datetime import datetime

import attrs
import pytest

from cbec_declare._xml import parse_untrusted
from cbec_declare.codes import DECLARATION_RECEIPTS, describe_status
from cbec_declare.envelope import IMPORT_RECEIVER
from cbec_declare.messages import build, parse
from cbec_declare.models import CEB623Message, CEB900Message, InvtCancel, new_guid
from cbec_declare.sandbox.config import BusinessConfig
from cbec_declare.signing import SoftwareSigner, certificate_pem
from cbec_declare.signing import sign as xml_sign
from cbec_declare.validation import xsd_findings
from conftest import SAMPLES
from sandbox.test_sandbox_support import fast, inventories, orders, running, send_node, signed, signer

INVT_NO = re.compile(r"2991\d{4}I\d{9}")  # 4 customs + 4 year + I + 9 sequence


def test_a_ceb621_reaches_800_through_receipts_pushed_in_order() -> None:
    message = inventories(3)
    with running() as (sandbox, receiver):
        cop, reply = send_node(sandbox.credentials, signed(message))
        assert reply.accepted
        assert sandbox.wait_idle(20)
        events = receiver.ceb_events()
        statuses = receiver.statuses()
        states = sandbox.documents()
    guids = [doc.head.guid for doc in message.inventories]
    assert set(statuses) == set(guids)
    for guid in guids:
        assert statuses[guid] == ["2", "120", "399", "800"]  # arrival order, every step once
    # receipts for the three documents travel together: one CEB622 per step, three returns each
    assert [e.receipt.message_type for e in events] == ["CEB622Message"] * 4
    assert all(len(e.receipt.returns) == 3 for e in events)
    first, accepted, _, released = (e.receipt.returns for e in events)
    assert first[0].return_info == f"清单新增申报成功[{guids[0]}]"
    assert accepted[0].return_info == "[Code:1800;Desc:逻辑校验通过]"
    assert released[0].return_info == "[Code:2600;Desc:放行]"
    assert all(r.invt_no is None and len(r.pre_no) == 18 for r in first)
    assert all(INVT_NO.fullmatch(r.invt_no or "") for r in released)
    assert len({r.invt_no for r in released}) == 3
    assert [r.pre_no for r in first] == [r.pre_no for r in released]
    assert all(isinstance(r.return_time, datetime) for r in released)
    # the sandbox's own view agrees: planned, delivered, settled
    assert {s.guid for s in states} == set(guids)
    assert all(s.ref == f"{cop}/{s.guid}" and s.settled and s.final_status == "800" for s in states)


def test_review_and_inspection_steps_come_before_399() -> None:
    config = fast(business=BusinessConfig(manual_review_rate=1.0, inspection_rate=1.0))
    with running(config) as (sandbox, receiver):
        send_node(sandbox.credentials, signed(inventories(1)))
        assert sandbox.wait_idle(20)
        assert list(receiver.statuses().values()) == [["2", "120", "300", "500", "399", "800"]]


@pytest.mark.parametrize("shape", ["soap", "rest"])
def test_a_ceb311_reaches_120_on_both_node_shapes(shape: str) -> None:
    message = orders(2)
    with running() as (sandbox, receiver):
        _, reply = send_node(sandbox.credentials, signed(message), shape=shape)
        assert reply.accepted
        assert sandbox.wait_idle(20)
        finals = receiver.finals()
        stats = sandbox.stats()
    for order in message.orders:
        assert receiver.statuses()[order.head.guid] == ["2", "120"]
        assert describe_status("CEB312Message", finals[order.head.guid]).success
    returns = [entry for kind, entry in receiver.returns() if kind == "CEB312Message"]
    assert {r.order_no for r in returns} == {o.head.order_no for o in message.orders}
    assert stats.messages == {"node": 1}
    assert stats.documents == {"CEB311Message": 2}
    assert stats.receipts_pushed == 2


def test_a_cancellation_is_concluded_with_399() -> None:
    inventory = inventories(1).inventories[0].head
    fields = {f: getattr(inventory, f) for f in ("app_time", "customs_code", "order_no", "ebp_code", "ebp_name",
              "ebc_code", "ebc_name", "logistics_no", "logistics_code", "logistics_name", "buyer_id_number",
              "buyer_name", "buyer_telephone", "agent_code", "agent_name")}  # fmt: skip
    cancel = InvtCancel(**fields, cop_no="CANCEL-1", invt_no="299120261000000001", reason="买家取消订单")
    with running() as (sandbox, receiver):
        send_node(
            sandbox.credentials,
            signed(CEB623Message(cancels=(cancel,), base_transfer=orders(1).base_transfer)),
        )
        assert sandbox.wait_idle(20)
        returns = receiver.returns()
    assert [(kind, r.return_status) for kind, r in returns] == [
        ("CEB624Message", s) for s in ("2", "120", "399")
    ]
    assert all(r.invt_no == "299120261000000001" and r.cop_no == "CANCEL-1" for _, r in returns)


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        (("-621005", "购买金额超过单笔限额"), [("-621005", "购买金额超过单笔限额")]),
        (
            ("100", "[Code:1313;Desc:订购人年度额度超限]"),
            [("2", None), ("100", "[Code:1313;Desc:订购人年度额度超限]")],
        ),
    ],
)
def test_a_business_rejection_carries_its_reason(
    reason: tuple[str, str], expected: list[tuple[str, str]]
) -> None:
    business = BusinessConfig(rejection_rate=1.0, reasons={"CEB621Message": [list(reason)]})
    with running(fast(business=business)) as (sandbox, receiver):
        send_node(sandbox.credentials, signed(inventories(1)))
        assert sandbox.wait_idle(20)
        got = [(r.return_status, r.return_info) for _, r in receiver.returns()]
        stats = sandbox.stats()
        (state,) = sandbox.documents()
    assert [status for status, _ in got] == [status for status, _ in expected]
    assert got[-1][1] == expected[-1][1]
    assert stats.rejections == {"business": 1}
    assert state.settled
    assert describe_status("CEB622Message", state.final_status or "").failure


def test_an_invalid_message_gets_a_ceb900() -> None:
    broken = build(orders(1)).replace(b"<ceb:orderType>I</ceb:orderType>", b"")
    with running() as (sandbox, receiver):
        cop, reply = send_node(sandbox.credentials, xml_sign(broken, signer()))
        assert reply.accepted  # the node takes it; the format check answers asynchronously
        assert sandbox.wait_idle(20)
        (event,) = receiver.ceb_events()
        stats = sandbox.stats()
    assert isinstance(event.receipt, CEB900Message)
    assert xsd_findings(parse_untrusted(event.plaintext), "2018-113") == []
    (entry,) = event.receipt.returns
    assert int(entry.return_status) < 0
    assert entry.ori_cop_msg_id == cop
    assert entry.ori_message_type == "CEB311Message"
    assert "orderType" in entry.return_info
    assert entry.ori_biz_message.startswith('<?xml version="1.0" encoding="UTF-8"?><ceb:CEB311Message')
    assert stats.rejections == {"schema": 1}


def test_something_that_is_no_declaration_gets_a_ceb900_of_unknown_type() -> None:
    with running() as (sandbox, receiver):
        send_node(sandbox.credentials, b"<hello>world</hello>")
        assert sandbox.wait_idle(20)
        (event,) = receiver.ceb_events()
    assert event.receipt.returns[0].ori_message_type == "Unknown"


@pytest.mark.parametrize(
    ("case", "code", "detail"),
    [
        ("tampered", "-621029", "digest"),
        ("missing", "-621029", "missing"),
        ("unpinned", "-621029", "untrusted"),
    ],
)
def test_a_bad_signature_gets_the_types_code(case: str, code: str, detail: str) -> None:
    message = inventories(2)
    pinned = certificate_pem(signer().certificate).decode()
    if case == "tampered":
        data = signed(message).replace(b"<ceb:buyerName>", b"<ceb:buyerName>X", 1)
    elif case == "missing":
        data = build(message)
    else:
        data = signed(message, SoftwareSigner.generate(bits=1024, common_name="someone else"))
    with running(fast(trusted_certificates=(pinned,))) as (sandbox, receiver):
        send_node(sandbox.credentials, data)
        assert sandbox.wait_idle(20)
        got = [(kind, r.return_status, r.return_info) for kind, r in receiver.returns()]
        stats = sandbox.stats()
    assert [(kind, status) for kind, status, _ in got] == [("CEB622Message", code)] * 2
    assert all(info == f"验签失败[{detail}]" for _, _, info in got)
    assert stats.rejections == {"signature": 2}


def test_an_unsigned_order_gets_the_chosen_311_code() -> None:
    with running() as (sandbox, receiver):
        send_node(sandbox.credentials, build(orders(1)))
        assert sandbox.wait_idle(20)
        ((kind, entry),) = receiver.returns()
    assert (kind, entry.return_status) == ("CEB312Message", "-301008")
    assert entry.return_info == "参数校验不通过：验签失败[missing]"


def test_unsigned_orders_pass_when_signatures_are_not_required() -> None:
    with running(fast(require_signature=False)) as (sandbox, receiver):
        send_node(sandbox.credentials, build(orders(1)))
        assert sandbox.wait_idle(20)
        assert list(receiver.statuses().values()) == [["2", "120"]]


def test_the_same_copmsgid_twice_is_processed_once() -> None:
    data = signed(inventories(2))
    with running() as (sandbox, receiver):
        cop, first = send_node(sandbox.credentials, data)
        _, again = send_node(sandbox.credentials, data, cop_msg_id=cop)
        assert sandbox.wait_idle(20)
        stats = sandbox.stats()
        pushed = len(receiver.ceb_events())
    assert first.accepted
    assert again.accepted
    assert stats.messages == {"node": 2}
    assert stats.duplicate_deliveries == {"node": 1}
    assert stats.documents == {"CEB621Message": 2}
    assert pushed == 4  # one CEB622 per step, not two
    assert len(sandbox.documents()) == 2


def test_a_document_declared_again_as_new_is_rejected_and_counted() -> None:
    message = inventories(2)
    with running() as (sandbox, receiver):
        send_node(sandbox.credentials, signed(message))
        assert sandbox.wait_idle(20)
        again = attrs.evolve(message, guid=new_guid())  # the same documents in a new message
        cop, _ = send_node(sandbox.credentials, signed(again))
        assert sandbox.wait_idle(20)
        stats = sandbox.stats()
        late = [s for s in sandbox.documents() if s.ref.startswith(cop)]
    assert stats.declared_twice == 2
    assert stats.rejections == {"declared_twice": 2}
    assert [s.planned for s in late] == [("-621004",), ("-621004",)]
    rejected = [r for _, r in receiver.returns() if r.return_status == "-621004"]
    assert [r.return_info for r in rejected] == [f"已经申报过[{d.head.cop_no}]" for d in message.inventories]


def test_modification_and_deletion_of_a_known_document_are_accepted() -> None:
    original = inventories(1)
    head = original.inventories[0].head
    changed = inventories(1, app_type="2")
    with running() as (sandbox, receiver):
        send_node(sandbox.credentials, signed(original))
        send_node(sandbox.credentials, signed(changed))
        send_node(sandbox.credentials, signed(inventories(1, app_type="3", cop_no="UNKNOWN0001")))
        assert sandbox.wait_idle(20)
        infos = [(r.return_status, r.return_info) for _, r in receiver.returns()]
        stats = sandbox.stats()
    assert changed.inventories[0].head.cop_no == head.cop_no
    assert ("2", f"清单变更申报成功[{changed.inventories[0].head.guid}]") in infos
    assert sum(status == "800" for status, _ in infos) == 2
    assert any(status == "-621000" and "删除的单证不存在" in info for status, info in infos)
    assert stats.declared_twice == 0
    assert stats.rejections == {"app_type": 1}


def test_a_saved_inventory_stays_at_1() -> None:
    with running() as (sandbox, receiver):
        send_node(sandbox.credentials, signed(inventories(1, app_status="1")))
        assert sandbox.wait_idle(20)
        (state,) = sandbox.documents()
    assert list(receiver.statuses().values()) == [["1"]]
    assert state.final_status is None
    assert not state.settled


def test_receipts_can_come_in_a_dxp_envelope_in_batches() -> None:
    with running(fast(receipt_envelope="dxp", batch_size=2)) as (sandbox, receiver):
        send_node(sandbox.credentials, signed(orders(3)))
        assert sandbox.wait_idle(20)
        events = receiver.ceb_events()
    assert [len(e.receipt.returns) for e in events] == [2, 1, 2, 1]
    assert all(e.trans_info is not None and e.trans_info.sender_id == IMPORT_RECEIVER for e in events)
    assert all(e.trans_info is not None and e.trans_info.msg_type == "CEB312Message" for e in events)


@pytest.mark.parametrize("version", ["2018-113", "2022-05"])
@pytest.mark.parametrize("number", ["311", "411", "511", "513", "621", "623", "625", "711"])
def test_every_official_sample_gets_schema_valid_receipts_of_its_type(number: str, version: str) -> None:
    message = parse((SAMPLES / f"ceb-{version}" / f"CEB{number}Message.xml").read_bytes())
    with running(fast(spec_version=version)) as (sandbox, receiver):
        send_node(sandbox.credentials, signed(message))
        assert sandbox.wait_idle(20)
        events = receiver.ceb_events()
        states = sandbox.documents()
    expected = DECLARATION_RECEIPTS[f"CEB{number}Message"]
    assert events
    assert {e.receipt.message_type for e in events} == {expected}
    for event in events:
        assert xsd_findings(parse_untrusted(event.plaintext), version) == []
    guids = {getattr(doc, "head", doc).guid for doc in message.documents}
    assert {entry.guid for _, entry in receiver.returns()} == guids
    assert all(state.planned[: len(state.delivered)] == state.delivered for state in states)
