"""``cbec-declare build``: spec-named JSON in, 统一版 XML out, with exit codes 0/1/2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cbec_declare.cli import main
from cbec_declare.messages import parse
from cbec_declare.models import CEB311Message, CEB411Message
from conftest import ROOT

EXAMPLE = ROOT / "examples" / "orders.json"


def test_example_orders_build_to_one_message(tmp_path: Path) -> None:
    out = tmp_path / "orders.xml"
    assert main(["build", "CEB311", str(EXAMPLE), "-o", str(out)]) == 0
    message = parse(out.read_bytes(), expect=CEB311Message)
    assert [o.head.order_no for o in message.orders] == ["HZ202611280000", "HZ202611280001", "HZ202611280002"]
    assert message.base_transfer.cop_code == "3301964J31"


def test_a_list_of_documents_is_split_at_the_spec_limit(tmp_path: Path) -> None:
    order = json.loads(EXAMPLE.read_text(encoding="utf-8"))["Order"][0]
    docs = tmp_path / "docs.json"
    docs.write_text(json.dumps([order] * 150, ensure_ascii=False), encoding="utf-8")
    args = ["build", "order", str(docs), "-o", str(tmp_path / "out"), "--cop-code", "3301964J31",
            "--cop-name", "示例", "--dxp-id", "DXPENT0000458763"]  # fmt: skip
    assert main(args) == 0
    files = sorted((tmp_path / "out").glob("CEB311Message_*.xml"))
    assert sorted(len(parse(f.read_bytes()).orders) for f in files) == [50, 100]


def test_base_transfer_from_a_config_file(tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    payment = {"PaymentHead": {"appTime": "20261128100000", "payCode": "312228034T", "payName": "示例支付",
               "payTransactionId": "PAY1", "orderNo": "HZ1", "ebpCode": "3301964J31", "ebpName": "平台",
               "payerIdNumber": "110105199003070076", "payerName": "李华", "amountPaid": 10.5,
               "payTime": "20261128095959"}}  # fmt: skip
    (tmp_path / "p.json").write_text(json.dumps(payment, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "cbec.toml").write_text(
        '[base_transfer]\ncop_code = "312228034T"\ncop_name = "示例支付"\ndxp_id = "DXPENT0000000001"\n',
        encoding="utf-8",
    )
    assert main(["build", "payment", str(tmp_path / "p.json"), "--config", str(tmp_path / "cbec.toml")]) == 0
    message = parse(capsysbinary.readouterr().out, expect=CEB411Message)
    assert str(message.payments[0].amount_paid) == "10.5"
    assert message.base_transfer.dxp_id == "DXPENT0000000001"


@pytest.mark.parametrize(
    ("argv", "code", "needle"),
    [
        (["build", "CEB999", str(EXAMPLE)], 2, "unknown message kind"),
        (["build", "CEB311", "/nonexistent.json"], 2, "no such file"),
        (["build", "CEB411", str(EXAMPLE)], 1, "one key 'PaymentHead'"),
    ],
)
def test_errors_have_exit_codes_and_one_clear_line(
    argv: list[str], code: int, needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == code
    err = capsys.readouterr().err
    assert needle in err
    assert "Traceback" not in err


def test_bad_json_and_missing_base_transfer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.json").write_text('{"OrderHead": ', encoding="utf-8")
    assert main(["build", "order", str(tmp_path / "bad.json")]) == 2
    assert "not JSON" in capsys.readouterr().err
    order = json.loads(EXAMPLE.read_text(encoding="utf-8"))["Order"][0]
    (tmp_path / "one.json").write_text(json.dumps(order, ensure_ascii=False), encoding="utf-8")
    assert main(["build", "order", str(tmp_path / "one.json")]) == 2
    assert "no BaseTransfer" in capsys.readouterr().err


def test_console_script_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cbec_declare.cli", "build", "CEB311", str(EXAMPLE), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["messages"][0]["documents"] == 3


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    # `cbec-declare build … | head -c 10`: the reader goes away; no traceback. 100 orders make ~200 KB,
    # more than a pipe buffer holds (90 orders, one message), so the write really hits the closed pipe.
    example = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    example["Order"] = example["Order"] * 30
    big = tmp_path / "big.json"
    big.write_text(json.dumps(example, ensure_ascii=False), encoding="utf-8")
    done = subprocess.run(
        f"{sys.executable} -m cbec_declare.cli build CEB311 {big} | head -c 10; exit ${{PIPESTATUS[0]}}",
        shell=True,
        capture_output=True,
        timeout=60,
        check=False,
        executable="/bin/bash",
    )
    assert done.stdout == b"<?xml vers"
    assert b"Traceback" not in done.stderr
    assert done.returncode in (0, 141)  # 0 when the whole write fit before head closed the pipe
