"""``cbec-declare validate``: every finding listed with path, 中文名, code and line; exit 0/1/2."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from cbec_declare.cli import main
from cbec_declare.envelope import wrap
from conftest import OFFICIAL_XSD, ROOT, SAMPLES

EXAMPLE = ROOT / "examples" / "orders.json"
CEB = {"ceb": "http://www.chinaport.gov.cn/ceb"}


@pytest.fixture(scope="module")
def orders_xml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example orders built as CEB311 (valid under both versions)."""
    out = tmp_path_factory.mktemp("validate") / "orders.xml"
    assert main(["build", "CEB311", str(EXAMPLE), "-o", str(out)]) == 0
    return out


def _pretty_with_bad_currency(source: Path, target: Path) -> Path:
    root = etree.fromstring(source.read_bytes())
    currency = root.find(".//ceb:currency", CEB)
    assert currency is not None
    currency.text = "14200"
    target.write_bytes(etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="UTF-8"))
    return target


def test_a_valid_message_exits_0(orders_xml: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(orders_xml)]) == 0
    assert capsys.readouterr().out == f"{orders_xml}: CEB311Message [2018-113]: ok\n"


def test_every_finding_is_listed_with_path_zh_code_and_line(
    orders_xml: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = _pretty_with_bad_currency(orders_xml, tmp_path / "bad.xml")
    expected_line = next(
        i for i, text in enumerate(bad.read_text(encoding="utf-8").splitlines(), 1) if "14200" in text
    )
    assert main(["validate", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "INVALID, 2 errors" in out
    assert (
        "error: CEB311Message/Order[0]/OrderHead/currency (币制): [facet 'length'] The value has a length of "
        f"'5'; this differs from the allowed length of '3'. [xsd.length] (line {expected_line})"
    ) in out
    assert "[rule.codes.currency]" in out


def test_json_report_carries_each_finding(
    orders_xml: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = _pretty_with_bad_currency(orders_xml, tmp_path / "bad.xml")
    assert main(["validate", "--json", str(bad), str(orders_xml)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    first, second = report["files"]
    assert (first["file"], first["ok"], second["ok"]) == (str(bad), False, True)
    xsd = next(f for f in first["findings"] if f["source"] == "xsd")
    assert xsd["path"] == "CEB311Message/Order[0]/OrderHead/currency"
    assert (xsd["zh"], xsd["code"], xsd["severity"]) == ("币制", "xsd.length", "error")
    assert isinstance(xsd["line"], int)
    assert second["findings"] == []


def test_warnings_alone_still_exit_0(
    orders_xml: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lower = orders_xml.read_bytes().replace(
        b"4CDE1CFD-EDED-46B1-946C-B8022E42FC90", b"4cde1cfd-eded-46b1-946c-b8022e42fc90"
    )
    (tmp_path / "lower.xml").write_bytes(lower)
    assert main(["validate", str(tmp_path / "lower.xml")]) == 0
    out = capsys.readouterr().out
    assert "ok, 1 warning" in out
    assert "warning: CEB311Message/Order[0]/OrderHead/guid (系统唯一序号)" in out
    assert "[rule.codes.guid_case]" in out


def test_official_sample_findings_under_both_versions(capsys: pytest.CaptureFixture[str]) -> None:
    sample = SAMPLES / "ceb-2022-05" / "CEB311Message.xml"
    for version in ("2018-113", "2022-05"):
        assert main(["validate", "--version", version, str(sample)]) == 1
        out = capsys.readouterr().out
        assert f"CEB311Message [{version}]: INVALID" in out
        assert "OrderHead/buyerIdNumber (订购人证件号码)" in out
        assert "[rule.identity.id_number]" in out


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', "[xml.unsafe]"),
        (b"<ceb:CEB311Message xmlns:ceb='http://www.chinaport.gov.cn/ceb'><unclosed>", "[xml.malformed]"),
        (b"<html><body/></html>", "[xml.unexpected]"),
        (b"\xff\xfe\x00garbage", "[xml.malformed]"),
    ],
)
def test_unreadable_files_are_reported_per_file_and_the_run_goes_on(
    content: bytes, needle: str, orders_xml: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile = tmp_path / "hostile.xml"
    hostile.write_bytes(content)
    assert main(["validate", str(hostile), str(orders_xml)]) == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].startswith(f"{hostile}: {needle}")
    assert f"{orders_xml}: CEB311Message [2018-113]: ok" in lines
    assert lines[-1] == "2 files, 1 invalid"
    assert "Traceback" not in captured.out + captured.err


def test_a_message_inside_a_dxp_envelope_is_unwrapped(
    orders_xml: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrapped = tmp_path / "dxp.xml"
    wrapped.write_bytes(wrap(orders_xml.read_bytes(), "DXPENT0000458763"))
    assert main(["validate", str(wrapped)]) == 0
    assert "CEB311Message (inside DxpMsg) [2018-113]: ok" in capsys.readouterr().out


def test_stdin(orders_xml: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(orders_xml.read_bytes())))
    assert main(["validate", "-"]) == 0
    assert capsys.readouterr().out.startswith("-: CEB311Message")


def test_official_schema_package(orders_xml: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["validate", "--version", "2022-05", "--schemas", str(OFFICIAL_XSD / "2022-05"), str(orders_xml)]
    assert main(argv) == 0
    assert "ok" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["validate", "/nonexistent.xml"], "no such file: /nonexistent.xml"),
        (["validate", "--schemas", "/nonexistent-dir", "ORDERS"], "does not exist or is not a directory"),
        (["validate", "-", "-"], "stdin (-) can be read only once"),
    ],
)
def test_usage_errors_exit_2_before_any_report(
    argv: list[str], needle: str, orders_xml: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(orders_xml) if a == "ORDERS" else a for a in argv]) == 2
    captured = capsys.readouterr()
    assert needle in captured.err
    assert captured.out == ""


def test_missing_file_is_found_before_the_first_report(
    orders_xml: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(orders_xml), "/nonexistent.xml"]) == 2
    assert capsys.readouterr().out == ""


def test_help_lists_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["validate", "--help"])
    assert exit_info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Exit codes: 0 no file has an error" in out


def test_entry_point_reads_what_build_writes() -> None:
    """The README's main job: ``cbec-declare build … | cbec-declare validate -``."""
    built = subprocess.run(
        [sys.executable, "-m", "cbec_declare.cli", "build", "CEB311", str(EXAMPLE)],
        capture_output=True,
        timeout=60,
        check=True,
    )
    done = subprocess.run(
        [sys.executable, "-m", "cbec_declare.cli", "validate", "--json", "-"],
        input=built.stdout,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["files"][0]["message_type"] == "CEB311Message"
