"""The examples in examples/ run: the ERP script, the integrator's pytest file, the WSGI receiver."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

from cbec_declare._toml import load_toml
from cbec_declare.config import DeclareConfig
from cbec_declare.sandbox.config import SandboxConfig, TimingConfig
from cbec_declare.sandbox.sandbox import Sandbox
from cbec_declare.testing.harness import throwaway_signer, write_client_config
from conftest import ROOT

EXAMPLES = ROOT / "examples"


def run(args: list[str], **options: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=300, check=False, **options)  # type: ignore[call-overload]


def test_erp_integration_declares_against_the_sandbox() -> None:
    done = run([sys.executable, str(EXAMPLES / "erp_integration.py")])
    assert done.returncode == 0, done.stderr
    assert "ERP-10001: released 120" in done.stdout
    assert "ERP-10002: released 120" in done.stdout


def test_the_integrators_pytest_file_passes() -> None:
    done = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLES / "test_integrator.py")],
               cwd=EXAMPLES)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


def test_the_example_config_parses_and_names_every_section() -> None:
    data = load_toml(EXAMPLES / "cbec.toml")
    assert {"base_transfer", "signer", "platform", "receiver", "node", "ledger", "pipeline"} <= set(data)
    config = DeclareConfig(data, EXAMPLES, environ={})
    assert config.base_transfer().dxp_id == "DXPENT0000458763"
    assert config.settings().batch_size == 1


def test_the_wsgi_receiver_builds_from_a_config(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    with Sandbox(SandboxConfig(timing=TimingConfig(time_scale=0.01))) as sandbox:
        config = write_client_config(
            sandbox.credentials, tmp_path, signer=throwaway_signer(), receiver_port=port
        )
        code = (
            "import sys; sys.path.insert(0, sys.argv[1]); import receiver_wsgi as r; print(callable(r.app))"
        )
        done = run([sys.executable, "-c", code, str(EXAMPLES)], env={"CBEC_CONFIG": str(config), "PATH": ""})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"


def test_orders_json_builds() -> None:
    done = run(
        [sys.executable, "-m", "cbec_declare.cli", "build", "CEB311", str(EXAMPLES / "orders.json"), "--json"]
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["messages"][0]["documents"] == 3
