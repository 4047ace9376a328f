"""``cbec-declare serve``: the §2.1 endpoint from a [receiver] table, fed by the sandbox platform's pushes."""

from __future__ import annotations

import base64
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cbec_declare.cli import main
from cbec_declare.cli.serve import receiver_from_config
from cbec_declare.envelope import wrap
from cbec_declare.errors import ConfigError
from cbec_declare.sandbox import PlatformServer
from cbec_declare.transport import generate_aes_key
from cbec_declare.transport.receipts import ReceiptEvent
from cli.pipe_lines import DEADLINE, Lines, wait_until_listening
from conftest import SAMPLES

RECEIPT = (SAMPLES / "ceb-2018-113" / "CEB622Message.xml").read_bytes()
MO_RESULT = (SAMPLES / "hangzhou" / "mo_RESULT_receipt_failed.xml").read_bytes()


class Setup:
    """A sandbox platform, the agreed AES key, and a cbec.toml whose [receiver] points at both."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.platform = PlatformServer()
        self.aes_key = generate_aes_key()
        self.aes_b64 = base64.b64encode(self.aes_key).decode("ascii")
        (folder / "keys").mkdir()
        (folder / "keys" / "platform.b64").write_text(
            self.platform.platform_public_key_base64(), encoding="ascii"
        )
        self.config = self.write(
            'aes_key_env = "CBEC_TEST_PUSH_AES"\nplatform_public_key = "keys/platform.b64"\n'
        )

    def write(self, receiver: str, name: str = "cbec.toml") -> Path:
        path = self.folder / name
        path.write_text("[receiver]\n" + receiver, encoding="utf-8")
        return path

    def push(self, url: str, document: bytes, msg_type: str = "CUSTOMS_CEB_CALLBACK") -> int:
        return self.platform.push(url, document, msg_type, aes_key=self.aes_key, timeout=DEADLINE).status

    def forged(self, url: str) -> int:
        form = self.platform.make_push(RECEIPT, "CUSTOMS_CEB_CALLBACK", aes_key=self.aes_key)
        form["data_digest"] = self.platform.make_push(MO_RESULT, "X", aes_key=None)["data_digest"]
        return self.platform.push_form(url, form, timeout=DEADLINE).status


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Setup:
    made = Setup(tmp_path)
    monkeypatch.setenv("CBEC_TEST_PUSH_AES", made.aes_b64)
    return made


@pytest.fixture
def child() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Children started by a test; any still running at the end is killed (by its own handle)."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=DEADLINE)
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()


# -- the [receiver] table ---------------------------------------------------------------------------


def _section(setup: Setup, **changes: Any) -> dict[str, Any]:
    section: dict[str, Any] = {
        "aes_key_env": "CBEC_TEST_PUSH_AES",
        "platform_public_key": "keys/platform.b64",
    }
    section.update(changes)
    return {k: v for k, v in section.items() if v is not None}


def test_receiver_from_config_decrypts_and_verifies(setup: Setup) -> None:
    events: list[ReceiptEvent] = []
    environ = {"CBEC_TEST_PUSH_AES": setup.aes_b64}
    receiver = receiver_from_config(
        _section(setup), base_dir=setup.folder, environ=environ, sink=events.append
    )
    form = setup.platform.make_push(RECEIPT, "CUSTOMS_CEB_CALLBACK", aes_key=setup.aes_key)
    assert receiver.handle_form(form).status == 200
    assert [e.receipt.message_type for e in events] == ["CEB622Message"]  # type: ignore[union-attr]
    assert events[0].digest_verified is True
    form["data_digest"] = setup.platform.make_push(b"<x/>", "X", aes_key=None)["data_digest"]
    assert receiver.handle_form(form).status == 400
    inline = _section(
        setup,
        aes_key_env=None,
        aes_key=setup.aes_b64,
        platform_public_key=setup.platform.platform_public_key_base64(),
    )
    again = receiver_from_config(inline, base_dir=Path("/"), environ={}, sink=events.append)
    assert again.handle_form(setup.platform.make_push(MO_RESULT, "M", aes_key=setup.aes_key)).status == 200


def test_verify_false_must_be_explicit_and_is_loud(setup: Setup, caplog: pytest.LogCaptureFixture) -> None:
    environ = {"CBEC_TEST_PUSH_AES": setup.aes_b64}
    with caplog.at_level(logging.WARNING, logger="cbec_declare"):
        receiver = receiver_from_config(
            _section(setup, platform_public_key=None, verify=False),
            base_dir=setup.folder,
            environ=environ,
            sink=lambda event: None,
        )
    assert receiver.verify is False
    assert "verify=False" in caplog.text
    with pytest.raises(ConfigError, match="is required to verify data_digest") as missing:
        receiver_from_config(
            _section(setup, platform_public_key=None),
            base_dir=setup.folder,
            environ=environ,
            sink=lambda event: None,
        )
    assert missing.value.field == "receiver.platform_public_key"


@pytest.mark.parametrize(
    ("changes", "field", "needle"),
    [
        ({"verify": "no"}, "receiver.verify", "must be true or false"),
        ({"colour": "blue"}, "receiver.colour", "unknown setting(s) colour"),
        ({"aes_key": "QUJD"}, "receiver.aes_key", "either directly or through an environment variable"),
        (
            {"aes_key_env": "CBEC_NOT_SET_ANYWHERE"},
            "receiver.aes_key_env",
            "CBEC_NOT_SET_ANYWHERE, which is not set",
        ),
        ({"aes_key_env": None, "aes_key": "QUJD"}, "receiver.aes_key", "AES key is 3 bytes"),
        (
            {"platform_public_key": "keys/missing.pem"},
            "receiver.platform_public_key",
            "is neither a readable key",
        ),
    ],
)
def test_receiver_config_mistakes_name_the_key_and_never_the_secret(
    changes: dict[str, Any], field: str, needle: str, setup: Setup
) -> None:
    environ = {"CBEC_TEST_PUSH_AES": setup.aes_b64}
    with pytest.raises(ConfigError) as caught:
        receiver_from_config(_section(setup, **changes), base_dir=setup.folder, environ=environ, sink=print)
    assert caught.value.field == field
    assert needle in caught.value.message
    assert setup.aes_b64 not in str(caught.value)


# -- the command ------------------------------------------------------------------------------------


def test_serve_in_a_subprocess_prints_each_receipt_and_stops_on_sigterm(
    setup: Setup, child: list[subprocess.Popen[bytes]]
) -> None:
    out_dir = setup.folder / "received"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cbec_declare.cli",
            "serve",
            "--config",
            str(setup.config),
            "--port",
            "0",
            "--out",
            str(out_dir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "CBEC_TEST_PUSH_AES": setup.aes_b64},
    )
    child.append(process)
    out, err = Lines(process.stdout), Lines(process.stderr)
    listening = err.next().decode()
    assert listening.startswith("cbec-declare serve: listening on http://127.0.0.1:")
    url = listening.rsplit(" ", 1)[1]
    assert url.endswith("/receipts")

    assert setup.push(url, RECEIPT) == 200
    first = json.loads(out.next())
    assert (first["message_type"], first["digest_verified"], first["envelope"]) == (
        "CEB622Message",
        True,
        None,
    )
    document = first["documents"][0]
    assert (document["keys"]["copNo"], document["status"], document["zh"]) == (
        "cop2016032211000",
        "1",
        "电子口岸已暂存",
    )

    assert setup.forged(url) == 400
    assert "push refused (S02)" in err.next().decode()

    downlink = wrap(RECEIPT, "DXPEDCCEB0000002", "DXPENT0000000001")
    assert setup.push(url, downlink) == 200
    second = json.loads(out.next())
    assert (second["envelope"]["type"], second["envelope"]["sender_id"]) == ("DxpMsg", "DXPEDCCEB0000002")
    assert setup.push(url, MO_RESULT, "CUSTOMS_DECLARE_RESULT_CALLBACK") == 200
    third = json.loads(out.next())
    assert (third["message_type"], third["documents"][0]["success"]) == ("mo RESULT", False)

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=DEADLINE) == 0
    assert err.next() == b"cbec-declare serve: stopped"
    index = [json.loads(line) for line in (out_dir / "index.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [entry["push_id"] for entry in index] == [first["push_id"], second["push_id"], third["push_id"]]
    assert Path(index[0]["file"]).read_bytes() == RECEIPT
    assert Path(index[2]["file"]).read_bytes() == MO_RESULT
    assert setup.aes_b64.encode() not in out.seen + err.seen


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_in_process_with_verify_false_is_loud(setup: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    config = setup.write('aes_key_env = "CBEC_TEST_PUSH_AES"\nverify = false\npath = "/cb"\n', "open.toml")
    port = _free_port()
    url = f"http://127.0.0.1:{port}/cb"
    outcome: dict[str, Any] = {}

    def platform() -> None:
        if not wait_until_listening(port):
            outcome["error"] = "the endpoint never listened"
            return  # main() is not serving: no signal to send
        try:
            outcome["status"] = setup.forged(url)  # accepted: nothing is verified
        except Exception as exc:  # reported by the test thread below
            outcome["error"] = repr(exc)
        finally:
            os.kill(os.getpid(), signal.SIGTERM)

    helper = threading.Thread(target=platform)
    helper.start()
    code = main(["serve", "--config", str(config), "--port", str(port)])
    helper.join(timeout=DEADLINE)
    assert code == 0
    assert outcome == {"status": 200}
    captured = capsys.readouterr()
    line = json.loads(captured.out)
    assert (line["digest_verified"], line["message_type"]) == (False, "CEB622Message")
    assert "WARNING [receiver] verify = false: push digests are NOT checked" in captured.err
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


@pytest.mark.parametrize(
    ("receiver", "extra", "needle"),
    [
        (None, [], "has no [receiver] table"),
        ('aes_key_env = "CBEC_TEST_PUSH_AES"\n', [], "is required to verify data_digest"),
        (
            'aes_key_env = "CBEC_TEST_PUSH_AES"\nverify = false\n',
            ["--port", "BUSY"],
            "cannot listen on 127.0.0.1:",
        ),
        ('aes_key_env = "CBEC_TEST_PUSH_AES"\nverify = false\nport = 70000\n', [], "receiver.port"),
        ('aes_key_env = "CBEC_TEST_PUSH_AES"\nverify = false\n', ["--path", "cb"], "must start with /"),
    ],
)
def test_usage_errors(
    receiver: str | None, extra: list[str], needle: str, setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    config = setup.folder / "other.toml"
    config.write_text("[elsewhere]\n" if receiver is None else "[receiver]\n" + receiver, encoding="utf-8")
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = str(busy.getsockname()[1])
        assert main(["serve", "--config", str(config), *(port if a == "BUSY" else a for a in extra)]) == 2
    captured = capsys.readouterr()
    assert needle in captured.err
    assert captured.out == ""
    assert setup.aes_b64 not in captured.err


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "Exit codes: 0 stopped by a signal; 2 usage error" in out
