"""The README's example runs as written (against the bundled local customs) and prints what it says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import cbec_declare.pay179

README = Path(cbec_declare.pay179.__file__).with_name("README.md")


def test_the_readme_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    example = blocks[0]
    assert "serve(config, source=payment_data)" in example
    exec(compile(example, str(README), "exec"), {"__name__": "readme_example"})  # our own README
    printed = capsys.readouterr().out.splitlines()
    assert printed == ["10000 10000 上传成功", "RequestStatus.UPLOADED"]
