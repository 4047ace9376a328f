"""``cbec-declare eport-fake``: a card fake that EportClientSigner signs through, stopped cleanly by signals."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from cbec_declare.cli import main
from cbec_declare.errors import SigningError
from cbec_declare.signing import EportClientSigner, SoftwareSigner, sign, verify
from cbec_declare.testing.eport_fake import DEFAULT_CARD_PIN
from cli.pipe_lines import DEADLINE, Lines, wait_until_listening
from conftest import ROOT

EXAMPLE = ROOT / "examples" / "orders.json"
PIN = "31415926"


@pytest.fixture(scope="module")
def unsigned(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    out = tmp_path_factory.mktemp("eport") / "orders.xml"
    assert main(["build", "CEB311", str(EXAMPLE), "-o", str(out)]) == 0
    return out.read_bytes()


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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("kind", ["rsa", "sm2"])
def test_sign_through_the_fake_then_sigterm(
    kind: str, unsigned: bytes, child: list[subprocess.Popen[bytes]]
) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cbec_declare.cli",
            "eport-fake",
            "--generate",
            kind,
            "--port",
            "0",
            "--pin-env",
            "CBEC_TEST_PIN",
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "CBEC_TEST_PIN": PIN},
    )
    child.append(process)
    out, err = Lines(process.stdout), Lines(process.stderr)
    started = json.loads(out.next())
    assert started["url"].startswith("ws://127.0.0.1:")
    assert started["algorithm"] == {"rsa": "rsa-sha1", "sm2": "sm2-sm3"}[kind]
    with EportClientSigner(started["url"], pin_env="PIN", environ={"PIN": PIN}, timeout=10) as signer:
        assert signer.key_name == started["key_name"]
        signed = sign(unsigned, signer)
    result = verify(signed)
    assert (result.key_name, result.signature_algorithm.value) == (started["key_name"], started["algorithm"])
    with (
        pytest.raises(SigningError),
        EportClientSigner(started["url"], pin="00000000", timeout=10, attempts=1) as wrong,
    ):
        wrong.sign(b"<x/>")
    process.terminate()
    assert process.wait(timeout=DEADLINE) == 0
    assert err.next() == b"e-port fake stopped"
    assert PIN.encode() not in out.seen + err.seen


def test_a_key_and_certificate_in_process_stopped_by_ctrl_c(
    unsigned: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    card = SoftwareSigner.generate("sm2-sm3", common_name="card in a file")
    (tmp_path / "card.key").write_bytes(card.private_key_pem())
    (tmp_path / "card.crt").write_bytes(card.certificate_pem())
    port = _free_port()
    url = f"ws://127.0.0.1:{port}"
    outcome: dict[str, object] = {}

    def client() -> None:
        if not wait_until_listening(port):
            outcome["error"] = "the fake never listened"
            return  # main() is not serving: no signal to send
        try:
            with EportClientSigner(
                url, pin=DEFAULT_CARD_PIN, timeout=10
            ) as signer:  # no --pin-env: the default
                outcome["signed"] = sign(unsigned, signer)
        except Exception as exc:  # reported by the test thread below
            outcome["error"] = repr(exc)
        finally:
            os.kill(os.getpid(), signal.SIGINT)

    helper = threading.Thread(target=client)
    helper.start()
    argv = [
        "eport-fake",
        "--key",
        str(tmp_path / "card.key"),
        "--cert",
        str(tmp_path / "card.crt"),
        "--port",
        str(port),
    ]
    code = main(argv)
    helper.join(timeout=DEADLINE)
    assert code == 0
    assert "error" not in outcome, outcome.get("error")
    assert verify(outcome["signed"]).key_name == card.key_name  # type: ignore[arg-type]
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"e-port fake listening on {url}"
    assert out[1].startswith(f"  KeyName {card.key_name} (sm2-sm3, CN=card in a file")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--generate", "rsa", "--port", "BUSY"], "cannot listen on 127.0.0.1:"),
        (["--key", "k.pem", "--port", "0"], "--key needs --cert"),
        (
            ["--key", "/nonexistent.key", "--cert", "/nonexistent.crt"],
            "[cli.file] --key /nonexistent.key: no such file",
        ),
        (
            ["--generate", "sm2", "--port", "0", "--pin-env", "CBEC_UNSET_PIN_VAR"],
            "environment variable CBEC_UNSET_PIN_VAR (the card PIN) is not set",
        ),
        (["--generate", "sm2", "--cert", "c.pem"], "--cert and --password-env go with --key"),
    ],
)
def test_usage_errors(
    argv: list[str], needle: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CBEC_UNSET_PIN_VAR", raising=False)
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = str(busy.getsockname()[1])
        assert main(["eport-fake", *(port if a == "BUSY" else a for a in argv)]) == 2
    err = capsys.readouterr().err
    assert needle in err
    assert "Traceback" not in err


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["eport-fake", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "Exit codes: 0 stopped by a signal; 1 the key or certificate cannot be used; 2 usage error" in out
