"""CLI commands that read JSON from files: hostile JSON must end in a clear error and an exit code,
never a traceback. (validate, receipt and verify are fed the whole corpus in test_corpus.py.)"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from cbec_declare.cli import main
from hostile import make_corpus

DEEP = "[" * 3000 + "]" * 3000


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out + err


def test_push_decode_refuses_deeply_nested_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    form = tmp_path / "push.json"
    form.write_text('{"content": ' + DEEP + "}", encoding="utf-8")
    key = make_corpus.keys()
    pem = tmp_path / "platform.pem"
    pem.write_bytes(key.platform_public_pem())
    code, text = _run(
        [
            "push",
            "decode",
            "--form",
            str(form),
            "--aes-key",
            "AAAAAAAAAAAAAAAAAAAAAA==",
            "--platform-key",
            str(pem),
        ],
        capsys,
    )
    assert code == 2
    assert "push.json" in text


def test_build_refuses_deeply_nested_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "order.json"
    source.write_text(DEEP, encoding="utf-8")
    code, text = _run(["build", "order", str(source)], capsys)
    assert code == 2
    assert "order.json" in text


def test_push_decode_answers_a_genuine_and_a_forged_push(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The controls for the test above: the command reads a captured push and reports its digest."""
    keys = make_corpus.keys()
    pem = tmp_path / "platform.pem"
    pem.write_bytes(keys.platform_public_pem())
    aes = base64.b64encode(keys.aes).decode()
    for name, expected in (("valid-push.txt", 0), ("push-forged-digest.txt", 1)):
        code, text = _run(
            [
                "push",
                "decode",
                "--json",
                "--form",
                str(make_corpus.CORPUS / name),
                "--aes-key",
                aes,
                "--platform-key",
                str(pem),
                "-o",
                str(tmp_path / "plain.xml"),
            ],
            capsys,
        )
        assert code == expected, text
        assert json.loads(text)["digest_valid"] is (expected == 0)
    code, text = _run(
        [
            "push",
            "decode",
            "--form",
            str(make_corpus.CORPUS / "push-content-garbage-base64.txt"),
            "--aes-key",
            aes,
            "--platform-key",
            str(pem),
        ],
        capsys,
    )
    assert code == 1
    assert "transport.push.base64" in text
