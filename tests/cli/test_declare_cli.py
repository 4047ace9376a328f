"""``cbec-declare send | status | worker | demo`` against a sandbox, configured by a TOML file."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cbec_declare.cli import main
from cbec_declare.messages.jsonio import to_data
from cbec_declare.sandbox.config import SandboxConfig, TimingConfig
from cbec_declare.sandbox.sandbox import Sandbox
from cbec_declare.testing.factories import DocumentFactory
from cbec_declare.testing.harness import company_for, throwaway_signer, write_client_config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def deployment(tmp_path: Path):  # type: ignore[no-untyped-def]
    port = free_port()
    config = SandboxConfig(timing=TimingConfig(time_scale=0.01), receivers=(f"http://127.0.0.1:{port}/",))
    with Sandbox(config) as sandbox:
        path = write_client_config(sandbox.credentials, tmp_path / "deploy", signer=throwaway_signer(),
                                   receiver_port=port)  # fmt: skip
        yield sandbox, path


def jsonl(tmp_path: Path, sandbox: Sandbox, count: int) -> Path:
    factory = DocumentFactory(seed=5, company=company_for(sandbox.credentials))
    lines = []
    for order in factory.orders(count, items=2):
        order_doc = to_data(order)
        order_doc["OrderHead"].pop("guid")  # no guid: send derives a stable one per line
        lines.append(json.dumps({"kind": "order", "document": order_doc}, ensure_ascii=False))
        lines.append(json.dumps({"kind": "payment", "document": to_data(factory.payment_for(order))}))
    path = tmp_path / "sales.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_send_declares_a_file_and_running_it_again_declares_nothing_twice(
    deployment,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],  # type: ignore[no-untyped-def]
) -> None:
    sandbox, config = deployment
    sales = jsonl(tmp_path, sandbox, 5)
    assert main(["send", str(sales), "--config", str(config), "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first == {"documents": 10, "new": 10, "states": {"released": 10}}
    assert main(["send", str(sales), "--config", str(config), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["new"] == 0
    assert sandbox.stats().declared_twice == 0
    assert sandbox.stats().documents["CEB311Message"] == 5

    assert main(["status", "--config", str(config), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"states": {"released": 10}}
    order_no = json.loads(sales.read_text(encoding="utf-8").splitlines()[0])["document"]["OrderHead"][
        "orderNo"
    ]
    assert main(["status", order_no, "--config", str(config), "--history"]) == 0
    shown = capsys.readouterr().out
    assert "order" in shown and "released" in shown and "customs 120" in shown
    assert "node_send" in shown
    assert main(["status", "NO-SUCH-ORDER", "--config", str(config)]) == 1


def test_bad_lines_are_named(deployment, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    _, config = deployment
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"kind": "order", "document": {"OrderHead": {"orderNo": "X"}}}\n{not json\n', encoding="utf-8"
    )
    assert main(["send", str(bad), "--config", str(config)]) == 1
    assert "bad.jsonl:1" in capsys.readouterr().err
    bad.write_text('{"kind": "parcel", "document": {}}\n', encoding="utf-8")
    assert main(["send", str(bad), "--config", str(config)]) == 2
    assert "unknown document kind 'parcel'" in capsys.readouterr().err


def test_worker_process_declares_what_send_stored(deployment, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sandbox, config = deployment
    sales = jsonl(tmp_path, sandbox, 3)
    assert main(["send", str(sales), "--config", str(config), "--no-wait"]) == 0
    worker = subprocess.Popen(
        [sys.executable, "-m", "cbec_declare.cli", "worker", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = subprocess.run(
                [sys.executable, "-m", "cbec_declare.cli", "status", "--config", str(config), "--json"],
                capture_output=True, text=True, timeout=60, check=True,
            )  # fmt: skip
            if json.loads(done.stdout)["states"] == {"released": 6}:
                break
            time.sleep(0.5)
        else:
            pytest.fail(f"not all released: {done.stdout}")
    finally:
        worker.terminate()
        _, err = worker.communicate(timeout=30)
    assert worker.returncode == 0
    assert b"worker stopped" in err


def test_demo_runs_the_whole_flow(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--count", "5", "--faults", "0.1", "--rejections", "0.2", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["declared"] == 20
    assert summary["final"] == 20
    assert summary["sandbox"]["declared_twice"] == 0
    assert summary["by_state"].get("failed", 0) == 0
