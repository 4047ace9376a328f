"""``cbec-declare push decode``: pushes made by the sandbox platform decrypted and their digest checked."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from cbec_declare.cli import main
from cbec_declare.sandbox import LocalServer, PlatformServer
from cbec_declare.transport import generate_aes_key
from conftest import SAMPLES

RECEIPT = (SAMPLES / "ceb-2022-05" / "CEB312Message.xml").read_bytes()
MO_RESULT = (SAMPLES / "hangzhou" / "mo_RESULT_receipt.xml").read_bytes()


class Platform:
    """The sandbox platform's push encoder, its AES key and its public key as files."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.server = PlatformServer()
        self.aes_key = generate_aes_key()
        self.aes_b64 = base64.b64encode(self.aes_key).decode("ascii")
        self.key_b64 = self.server.platform_public_key_base64()
        pem = "-----BEGIN PUBLIC KEY-----\n" + self.key_b64 + "\n-----END PUBLIC KEY-----\n"
        (folder / "platform.pem").write_text(pem, encoding="ascii")

    def form(self, document: bytes = RECEIPT, msg_type: str = "CUSTOMS_CEB_CALLBACK") -> dict[str, str]:
        return self.server.make_push(document, msg_type, aes_key=self.aes_key)

    def write(self, name: str, form: dict[str, str], *, as_json: bool = False) -> Path:
        path = self.folder / name
        path.write_text(json.dumps(form) if as_json else urlencode(form), encoding="ascii")
        return path

    def args(self, path: Path, *extra: str) -> list[str]:
        return [
            "push",
            "decode",
            "--form",
            str(path),
            "--aes-key-env",
            "CBEC_TEST_AES",
            "--platform-key",
            str(self.folder / "platform.pem"),
            *extra,
        ]


@pytest.fixture
def platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Platform:
    made = Platform(tmp_path)
    monkeypatch.setenv("CBEC_TEST_AES", made.aes_b64)
    return made


def _no_secret(platform: Platform, texts: Iterable[str]) -> None:
    for text in texts:
        assert platform.aes_b64 not in text
        assert "Traceback" not in text


def test_a_push_captured_on_the_wire_decodes_and_verifies(
    platform: Platform, capsys: pytest.CaptureFixture[str]
) -> None:
    bodies: list[bytes] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        bodies.append(environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"])))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    with LocalServer(app) as capture:
        reply = platform.server.push(
            capture.url + "/receipts", RECEIPT, "CUSTOMS_CEB_CALLBACK", aes_key=platform.aes_key
        )
    assert reply.status == 200
    captured = platform.folder / "captured.txt"
    captured.write_bytes(bodies[0])
    assert main(platform.args(captured)) == 0
    out = capsys.readouterr()
    lines = out.out.splitlines()
    assert lines[:2] == ["msg_type  CUSTOMS_CEB_CALLBACK", "digest    verified"]
    assert lines[3] == f"plaintext {len(RECEIPT)} bytes:"
    assert out.out.endswith(RECEIPT.decode("utf-8") + "\n")
    _no_secret(platform, [out.out, out.err])


def test_json_fields_and_output_file(platform: Platform, capsys: pytest.CaptureFixture[str]) -> None:
    path = platform.write(
        "push.json", platform.form(MO_RESULT, "CUSTOMS_DECLARE_RESULT_CALLBACK"), as_json=True
    )
    target = platform.folder / "plain.xml"
    assert main(platform.args(path, "--json", "-o", str(target))) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["ok"], data["digest_valid"], data["msg_type"]) == (
        True,
        True,
        "CUSTOMS_DECLARE_RESULT_CALLBACK",
    )
    assert (data["output"], data["bytes"]) == (str(target), len(MO_RESULT))
    assert "plaintext" not in data
    assert target.read_bytes() == MO_RESULT


def test_a_forged_digest_exits_1(platform: Platform, capsys: pytest.CaptureFixture[str]) -> None:
    forged = dict(platform.form(), data_digest=platform.form(b"<other/>")["data_digest"])
    path = platform.write("forged.txt", forged)
    assert main(platform.args(path)) == 1
    out = capsys.readouterr().out
    assert "digest    DOES NOT VERIFY: data_digest does not verify" in out
    assert main(platform.args(path, "--json")) == 1
    data = json.loads(capsys.readouterr().out)
    assert (data["ok"], data["digest_valid"]) == (False, False)
    assert data["plaintext"] == RECEIPT.decode("utf-8")


def test_a_key_that_is_not_the_platforms_exits_1(
    platform: Platform, capsys: pytest.CaptureFixture[str]
) -> None:
    other = PlatformServer().platform_public_key_base64()
    path = platform.write("push.txt", platform.form())
    argv = ["push", "decode", "--form", str(path), "--aes-key-env", "CBEC_TEST_AES", "--platform-key", other]
    assert main(argv) == 1
    assert "DOES NOT VERIFY" in capsys.readouterr().out


def test_a_wrong_aes_key_exits_1_without_showing_either_key(
    platform: Platform, capsys: pytest.CaptureFixture[str]
) -> None:
    path = platform.write("push.txt", platform.form())
    wrong = base64.b64encode(bytes(16)).decode("ascii")
    argv = ["push", "decode", "--form", str(path), "--aes-key", wrong, "--platform-key", platform.key_b64]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert f"cbec-declare: [transport.push.decrypt] {path}: " in captured.err
    assert wrong not in captured.out + captured.err
    _no_secret(platform, [captured.out, captured.err])


@pytest.mark.parametrize(
    ("setup", "code", "needle"),
    [
        ("no-env", 2, "environment variable CBEC_TEST_AES (the AES key) is not set"),
        ("short-key", 2, "--aes-key: AES key is 3 bytes"),
        (
            "bad-platform-key",
            2,
            "--platform-key: neither a readable key file nor a Base64/PEM RSA public key",
        ),
        ("missing-field", 1, "form field 'content' is missing or empty"),
        ("bad-json", 2, "starts like JSON but is not"),
    ],
)
def test_errors(
    setup: str,
    code: int,
    needle: str,
    platform: Platform,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = platform.write("push.txt", platform.form())
    argv = platform.args(path)
    if setup == "no-env":
        monkeypatch.delenv("CBEC_TEST_AES")
    elif setup == "short-key":
        argv = [
            "push",
            "decode",
            "--form",
            str(path),
            "--aes-key",
            "AAAA",
            "--platform-key",
            platform.key_b64,
        ]
    elif setup == "bad-platform-key":
        argv[-1] = str(platform.folder / "missing.pem")
    elif setup == "missing-field":
        form = platform.form()
        del form["content"]
        argv = platform.args(platform.write("partial.txt", form))
    else:
        (platform.folder / "bad.json").write_text('{"content": ', encoding="ascii")
        argv = platform.args(platform.folder / "bad.json")
    assert main(argv) == code
    captured = capsys.readouterr()
    assert needle in captured.err
    _no_secret(platform, [captured.out, captured.err])


def test_entry_point(platform: Platform) -> None:
    path = platform.write("push.txt", platform.form())
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cbec_declare.cli",
            "push",
            "decode",
            "--form",
            "-",
            "--aes-key-env",
            "AES",
            "--platform-key",
            platform.key_b64,
            "--json",
        ],
        input=path.read_bytes(),
        capture_output=True,
        timeout=60,
        check=False,
        env={**os.environ, "AES": platform.aes_b64},
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["digest_valid"] is True
    assert platform.aes_b64.encode() not in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("command", "codes"),
    [
        (
            ["push", "decode"],
            "Exit codes: 0 decrypted and the digest verifies; 1 it does not decrypt or the digest does not verify; 2 usage error",
        )
    ],
)
def test_help_lists_the_exit_codes(
    command: list[str], codes: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    assert codes in " ".join(capsys.readouterr().out.split())
