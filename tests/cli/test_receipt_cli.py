"""``cbec-declare receipt``: any receipt read and explained; exit 0 when read, whatever customs decided."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from cbec_declare.cli import main
from cbec_declare.envelope import wrap
from cbec_declare.messages import build
from cbec_declare.models import (
    CEB816Message,
    CEB818Message,
    CEB900Message,
    MessageReturn,
    Tax,
    TaxHead,
    TaxItem,
    TaxStatus,
)
from conftest import SAMPLES

RECEIPTS = ["CEB312", "CEB412", "CEB512", "CEB514", "CEB622", "CEB624", "CEB626", "CEB712"]
HANGZHOU = SAMPLES / "hangzhou"
WHEN = datetime(2026, 11, 28, 10, 0, 0)


def _tax_bill() -> bytes:
    head = TaxHead(
        guid="A" * 36,
        return_time=WHEN,
        invt_no="330120261128000001",
        tax_no="TAX1",
        customs_tax=Decimal(0),
        value_added_tax=Decimal("10.5"),
        consumption_tax=Decimal(0),
        status="1",
    )
    item = TaxItem(
        gnum=1,
        gcode="1901101000",
        tax_price=Decimal(100),
        customs_tax=Decimal(0),
        value_added_tax=Decimal("10.5"),
        consumption_tax=Decimal(0),
    )
    return build(CEB816Message(taxes=(Tax(head=head, items=(item,)),)))


@pytest.mark.parametrize("version", ["ceb-2018-113", "ceb-2022-05"])
@pytest.mark.parametrize("kind", RECEIPTS)
def test_every_official_receipt_sample_is_read(
    kind: str, version: str, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = SAMPLES / version / f"{kind}Message.xml"
    assert main(["receipt", "--json", str(sample)]) == 0
    report = json.loads(capsys.readouterr().out)
    entry = report["files"][0]
    assert (report["ok"], entry["message_type"], entry["envelope"]) == (True, f"{kind}Message", None)
    assert entry["documents"]
    for document in entry["documents"]:
        # The samples' statuses are placeholders (18, 23 …) for some types: known or not, each is explained.
        assert document["entity"].endswith("Return")
        assert document["status"]
        assert document["zh"]
        assert document["en"]
        assert document["keys"]
        assert document["final"] in (True, False)


def test_a_receipt_in_a_dxpmsgsv_shows_its_key_fields_and_meaning(capsys: pytest.CaptureFixture[str]) -> None:
    sample = HANGZHOU / "dxpmsgsv_ceb312_downlink.xml"
    assert main(["receipt", str(sample)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        f"{sample}: CEB312Message (inside DxpMsgSv from DXPEDCCEB0000002 to DXPENT0000011951, "
        "CopMsgId BDF401B3-36D7-4A73-BCAD-292E9F053C6D)"
    )
    assert out[1] == "  OrderReturn ebpCode=420196T001 ebcCode=420196T001 orderNo=48511773608"
    assert out[2] == "    status 2: 电子口岸申报中 / being declared by the e-port — in progress"
    assert out[4] == "    returnInfo 订单新增申报成功[EDF641C4-E341-4772-A1E4-E1657E1F55B9]"


@pytest.mark.parametrize(
    ("status", "flags"),
    [
        ("100", "海关退单 / rejected by customs — final, failure"),
        ("800", "放行 / released — final, success"),
        ("-621029", "验签失败 / signature verification failed — final, error"),
        ("777", "未知回执状态 / status '777' is not listed for CEB622Message — unknown status"),
    ],
)
def test_a_rejected_receipt_is_still_read_fine(
    status: str, flags: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = (SAMPLES / "ceb-2018-113" / "CEB622Message.xml").read_bytes()
    changed = sample.replace(
        b"<returnStatus>1</returnStatus>", f"<returnStatus>{status}</returnStatus>".encode()
    )
    assert changed != sample
    (tmp_path / "r.xml").write_bytes(changed)
    assert main(["receipt", str(tmp_path / "r.xml")]) == 0
    out = capsys.readouterr().out
    assert f"    status {status}: {flags}" in out
    assert "copNo=cop2016032211000" in out


def test_tax_bills_and_format_receipts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = TaxStatus(
        guid="B" * 36, return_time=WHEN, invt_no="330120261128000001", tax_no="TAX1", status="3"
    )
    rejected = MessageReturn(
        guid="C" * 36,
        return_status="-1",
        return_info="报文格式错误",
        return_time=WHEN,
        ori_cop_msg_id="COPMSG1",
        ori_message_type="CEB311Message",
        ori_biz_message="",
    )
    files = {
        "816.xml": _tax_bill(),
        "818.xml": build(CEB818Message(statuses=(status,))),
        "900.xml": wrap(build(CEB900Message(returns=(rejected,))), "DXPEDCCEB0000002", "DXPENT0000000001"),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    assert main(["receipt", "--json", *(str(tmp_path / name) for name in files)]) == 0
    tax, tax_status, check = (f["documents"][0] for f in json.loads(capsys.readouterr().out)["files"])
    assert tax["entity"] == "TaxHeadRd"
    assert (tax["status"], tax["zh"], tax["items"]) == ("1", "已生成", 1)
    assert tax["keys"]["invtNo"] == "330120261128000001"
    assert tax["keys"]["valueAddedTax"] == "10.5"
    assert (tax_status["status"], tax_status["zh"], tax_status["final"]) == ("3", "作废", None)
    assert (check["status"], check["error"], check["return_info"]) == ("-1", True, "报文格式错误")
    assert check["keys"] == {"oriCopMsgId": "COPMSG1", "oriMessageType": "CEB311Message"}


def test_hangzhou_mo_receipts(capsys: pytest.CaptureFixture[str]) -> None:
    failed, ok = HANGZHOU / "mo_RESULT_receipt_failed.xml", HANGZHOU / "mo_RESULT_receipt.xml"
    goods = HANGZHOU / "mo_PERSONAL_GOODS_DECLAR_receipt.xml"
    assert main(["receipt", str(failed), str(ok), str(goods)]) == 0
    out = capsys.readouterr().out
    assert f"{failed}: mo RESULT" in out
    assert "    status 2: 处理失败 / refused by the platform — final, error" in out
    assert (
        "    returnInfo 行邮税号:04010100, 未备案; 商品货号:GDO51411405080000059,料号不存在申请单明细中"
        in out
    )
    assert "    status 1: 处理成功（入库） / accepted by the platform — final, success" in out
    assert "  jkfGoodsDeclar companyCode=PT14021901 businessNo=TMGJ00022910007000 " in out
    assert "    status 99 (not interpreted)" in out


@pytest.mark.parametrize(
    ("path", "code", "needle"),
    [
        (
            SAMPLES / "ceb-2018-113" / "CEB311Message.xml",
            "xml.unexpected.receipt",
            "a declaration, not a receipt",
        ),
        (
            HANGZHOU / "mo_IMPORTORDER_request.xml",
            "xml.unexpected.receipt",
            "IMPORTORDER message is a request",
        ),
        (None, "xml.malformed", "not well-formed"),
    ],
)
def test_what_is_not_a_receipt_exits_1_and_the_rest_is_still_read(
    path: Path | None, code: str, needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if path is None:
        path = tmp_path / "broken.xml"
        path.write_bytes(b"<ceb:CEB312Message xmlns:ceb='http://www.chinaport.gov.cn/ceb'>")
    good = SAMPLES / "ceb-2018-113" / "CEB312Message.xml"
    assert main(["receipt", str(path), str(good)]) == 1
    captured = capsys.readouterr()
    first = captured.out.splitlines()[0]
    assert first.startswith(f"{path}: [{code}]")
    assert needle in first
    assert f"{good}: CEB312Message" in captured.out
    assert "Traceback" not in captured.out + captured.err
    assert main(["receipt", "--json", str(path)]) == 1
    entry = json.loads(capsys.readouterr().out)["files"][0]
    assert (entry["ok"], entry["error"]["code"]) == (False, code)
    assert needle in entry["error"]["message"]


def test_missing_file_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["receipt", "/nonexistent.xml"]) == 2
    assert "no such file: /nonexistent.xml" in capsys.readouterr().err


def test_help_says_a_rejection_is_read_fine(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["receipt", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "a receipt saying 'rejected' is read fine and exits 0" in out
    assert "Exit codes: 0 every file was read; 1" in out


def test_entry_point() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cbec_declare.cli", "receipt", str(HANGZHOU / "dxpmsgsv_ceb312_downlink.xml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "orderNo=48511773608" in done.stdout
