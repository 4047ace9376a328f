"""The README's Python examples run as written (in order, sharing one namespace), and its commands exist."""

from __future__ import annotations

import re

import pytest

from cbec_declare.cli import make_parser
from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, re.DOTALL)


def test_the_python_examples_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert len(BLOCKS) >= 5
    namespace: dict[str, object] = {}
    for block in BLOCKS:
        exec(compile(block, "README.md", "exec"), namespace)
    out = capsys.readouterr().out
    assert "rule.order.actual_paid" in out
    assert "HZ2026112800001 海关入库 True True" in out
    assert "inventory released 800" in out


def test_the_two_first_commands_come_first() -> None:
    first = README.split("```bash\n", 1)[1].split("```", 1)[0].strip().splitlines()
    commands = [line for line in first if line and not line.startswith("#")]
    assert commands == [
        "python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/cbec-declare demo",
        "bash scripts/test.sh",
    ]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.rstrip().endswith("bash scripts/test.sh")


def test_every_command_in_the_table_exists() -> None:
    section = README.split("## Command line", 1)[1].split("\n## ", 1)[0]
    table = re.findall(r"^\| `([a-z0-9-]+)", section, re.MULTILINE)
    commands = set(make_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    assert set(table) <= commands, set(table) - commands
    assert len(set(table)) >= 15
