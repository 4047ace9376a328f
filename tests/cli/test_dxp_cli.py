"""``cbec-declare dxp wrap`` / ``unwrap``: the envelope round-trips the signed bytes exactly."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from cbec_declare.cli import main
from cbec_declare.envelope import EXPORT_RECEIVER, IMPORT_RECEIVER, unwrap
from cbec_declare.signing import SoftwareSigner, sign
from cbec_declare.validation import xsd_findings
from conftest import ROOT, SAMPLES

EXAMPLE = ROOT / "examples" / "orders.json"
SENDER = "DXPENT0000458763"


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dxp")
    assert main(["build", "CEB311", str(EXAMPLE), "-o", str(folder / "orders.xml")]) == 0
    out = folder / "signed.xml"
    out.write_bytes(sign((folder / "orders.xml").read_bytes(), SoftwareSigner.generate("sm2-sm3")))
    return out


def test_wrap_then_unwrap_gives_the_same_bytes(
    signed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    envelope, inner = tmp_path / "dxp.xml", tmp_path / "inner.xml"
    argv = ["dxp", "wrap", str(signed), "--sender", SENDER, "--cop-msg-id", "COP-1", "-o", str(envelope)]
    assert main(argv) == 0
    read = unwrap(envelope.read_bytes())
    assert read.payload == signed.read_bytes()
    info = read.trans_info
    assert (info.cop_msg_id, info.sender_id, info.receiver_ids, info.msg_type) == (
        "COP-1",
        SENDER,
        (IMPORT_RECEIVER,),
        "CEB311Message",
    )
    assert xsd_findings(etree.fromstring(envelope.read_bytes()), "2018-113", kind="dxp") == []
    capsys.readouterr()
    assert main(["dxp", "unwrap", str(envelope), "-o", str(inner)]) == 0
    assert inner.read_bytes() == signed.read_bytes()
    out = capsys.readouterr().out.splitlines()
    assert out[:3] == ["CopMsgId   COP-1", f"SenderId   {SENDER}", f"ReceiverId {IMPORT_RECEIVER}"]
    assert out[4] == "MsgType    CEB311Message"


def test_unwrap_to_stdout_keeps_the_trans_info_on_stderr(
    signed: Path, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    envelope = tmp_path / "dxp.xml"
    assert main(["dxp", "wrap", str(signed), "--sender", SENDER, "-o", str(envelope)]) == 0
    capsysbinary.readouterr()
    assert main(["dxp", "unwrap", str(envelope)]) == 0
    captured = capsysbinary.readouterr()
    assert captured.out == signed.read_bytes()
    assert f"SenderId   {SENDER}".encode() in captured.err


def test_receivers_export_msg_type_and_style(
    signed: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    assert (
        main(["dxp", "wrap", str(signed), "--sender", SENDER, "--export", "--namespace-style", "default"])
        == 0
    )
    data = capsysbinary.readouterr().out
    assert data.startswith(
        b'<?xml version="1.0" encoding="UTF-8"?><DxpMsg xmlns="http://www.chinaport.gov.cn/dxp"'
    )
    assert unwrap(data).trans_info.receiver_ids == (EXPORT_RECEIVER,)
    argv = [
        "dxp",
        "wrap",
        str(signed),
        "--sender",
        SENDER,
        "--receiver",
        "DXPA",
        "--receiver",
        "DXPB",
        "--msg-type",
        "CEB311",
    ]
    assert main(argv) == 0
    info = unwrap(capsysbinary.readouterr().out).trans_info
    assert (info.receiver_ids, info.msg_type) == (("DXPA", "DXPB"), "CEB311")


def test_json_forms(signed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dxp", "wrap", "--json", str(signed), "--sender", SENDER]) == 0
    summary = json.loads(capsys.readouterr().out)
    envelope = base64.b64decode(summary["xml_base64"])
    assert (summary["sender_id"], summary["payload_bytes"]) == (SENDER, len(signed.read_bytes()))
    assert unwrap(envelope).trans_info.cop_msg_id == summary["cop_msg_id"]
    sample = SAMPLES / "hangzhou" / "dxpmsgsv_ceb312_downlink.xml"
    assert main(["dxp", "unwrap", "--json", str(sample)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["msg_type"], data["sv_no"]["sta_node"]) == ("CEB312Message", "00000002")
    assert base64.b64decode(data["payload_base64"]) == unwrap(sample.read_bytes()).payload


@pytest.mark.parametrize(
    ("argv", "code", "needle"),
    [
        (
            ["wrap", "SIGNED", "--sender", "DXPENT00004587631234"],
            1,
            "[envelope.length] SIGNED: TransInfo/SenderId: must be 1..16 characters",
        ),
        (
            ["wrap", "SIGNED", "--sender", SENDER, "--receiver", "A", "--export"],
            2,
            "not allowed with argument",
        ),
        (["wrap", "SIGNED"], 2, "--sender"),
        (["unwrap", "SIGNED"], 1, "[envelope.root] SIGNED: CEB311Message: expected"),
        (["unwrap", "/nonexistent.xml"], 2, "no such file"),
    ],
)
def test_errors(
    argv: list[str], code: int, needle: str, signed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["dxp", *(str(signed) if a == "SIGNED" else a for a in argv)]
    if code == 2 and "/nonexistent.xml" not in argv:
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
    else:
        assert main(argv) == code
    err = capsys.readouterr().err
    assert needle.replace("SIGNED", str(signed)) in err
    assert "Traceback" not in err


def test_entry_point(signed: Path, tmp_path: Path) -> None:
    cli = [sys.executable, "-m", "cbec_declare.cli", "dxp"]
    done = subprocess.run(
        [*cli, "wrap", str(signed), "--sender", SENDER], capture_output=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    back = subprocess.run(
        [*cli, "unwrap", "-"], input=done.stdout, capture_output=True, timeout=60, check=False
    )
    assert back.returncode == 0, back.stderr
    assert back.stdout == signed.read_bytes()


@pytest.mark.parametrize(
    ("command", "codes"),
    [
        (["dxp", "wrap"], "Exit codes: 0 wrapped; 1"),
        (["dxp", "unwrap"], "Exit codes: 0 unwrapped; 1"),
        (["dxp"], "Exit codes: 0 ok; 1 invalid input; 2 usage error"),
    ],
)
def test_help_lists_the_exit_codes(
    command: list[str], codes: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    assert codes in " ".join(capsys.readouterr().out.split())
