"""SandboxConfig from TOML and dicts, its refusals, and SandboxCredentials as a JSON hand-off."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from cbec_declare.errors import ConfigError
from cbec_declare.sandbox.config import DEFAULT_REASONS, ChannelFaults, SandboxConfig, TimingConfig
from cbec_declare.sandbox.credentials import SandboxCredentials
from cbec_declare.sandbox.sandbox import Sandbox
from cbec_declare.signing import certificate_pem
from cbec_declare.testing.factories import DocumentFactory
from cbec_declare.transport import RetryPolicy, import_order_from_ceb
from sandbox.test_sandbox_support import inventories, running, send_node, signed, signer

TOML = """
[sandbox]
seed = 7
spec_version = "2022-05"
receipt_envelope = "dxp"
batch_size = 10
trusted_certificates = ["certs/enterprise.pem"]

[sandbox.timing]
time_scale = 0.01
declaring = [0.1, 0.2]
accepted = 0.5

[sandbox.business]
rejection_rate = 0.1
[sandbox.business.reasons]
CEB621 = [["-621018", "超过年度限额"]]

[sandbox.faults.platform]
drop_rate = 0.02
error_rate = 0.03
error_statuses = [503]
[sandbox.faults.node]
timeout_rate = 0.01
timeout_mode = "late"
[sandbox.faults.push]
duplicate_rate = 0.05
reorder_lag = [1, 2]

[sandbox.push]
attempts = 3
"""


def test_a_toml_table_becomes_the_nested_config(tmp_path: Path) -> None:
    file = tmp_path / "sandbox.toml"
    file.write_text(TOML, encoding="utf-8")
    config = SandboxConfig.from_toml(file)
    assert config.seed == 7
    assert config.spec_version == "2022-05"
    assert config.receipt_envelope == "dxp"
    assert config.trusted_certificates == (str(tmp_path / "certs" / "enterprise.pem"),)
    assert config.timing == TimingConfig(time_scale=0.01, declaring=(0.1, 0.2), accepted=(0.5, 0.5))
    assert config.business.reasons["CEB621Message"] == (("-621018", "超过年度限额"),)
    assert config.business.reasons["CEB311Message"] == DEFAULT_REASONS["CEB311Message"]
    assert config.faults.platform == ChannelFaults(drop_rate=0.02, error_rate=0.03, error_statuses=(503,))
    assert config.faults.node.timeout_mode == "late"
    assert config.faults.push.reorder_lag == (1.0, 2.0)
    assert config.push.attempts == 3
    assert SandboxConfig.from_mapping({}) == SandboxConfig()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"colour": "blue"}, "sandbox.colour"),
        ({"faults": {"node": {"drop": 0.1}}}, "sandbox.faults.node.drop"),
        ({"faults": {"node": {"drop_rate": 1.5}}}, "drop_rate"),
        ({"faults": {"node": {"drop_rate": 0.6, "error_rate": 0.6}}}, "faults"),
        ({"faults": {"platform": {"error_statuses": [404]}}}, "error_statuses"),
        ({"faults": {"platform": {"timeout_mode": "forever"}}}, "timeout_mode"),
        ({"timing": {"accepted": [3, 1]}}, "accepted"),
        ({"timing": {"time_scale": 0}}, "time_scale"),
        ({"timing": "fast"}, "sandbox.timing"),
        ({"host": "0.0.0.0"}, "host"),
        ({"batch_size": 101}, "batch_size"),
        ({"spec_version": "2019"}, None),
        ({"business": {"reasons": {"CEB999": [["100", "x"]]}}}, "reasons.CEB999"),
        ({"business": {"reasons": {"CEB621Message": [["120", "fine"]]}}}, "reasons.CEB621Message"),
        ({"business": {"signature_codes": {"CEB311Message": "301008"}}}, "signature_codes.CEB311Message"),
        ({"push": {"attempts": 0}}, "attempts"),
    ],
)
def test_mistakes_are_config_errors_naming_the_key(data: dict[str, object], field: str | None) -> None:
    with pytest.raises(ConfigError) as caught:
        SandboxConfig.from_mapping(data)
    assert caught.value.field == field


def test_secrets_stay_out_of_reprs() -> None:
    config = SandboxConfig(aes_key="c2VjcmV0c2VjcmV0c2VjcmV0", enterprise_private_key="PRIVATE")
    assert "c2VjcmV0" not in repr(config)
    assert "PRIVATE" not in repr(config)
    with Sandbox(SandboxConfig()) as sandbox:
        credentials = sandbox.credentials
        assert credentials.aes_key not in repr(credentials)
        assert "PRIVATE KEY" not in repr(credentials)
        assert credentials.aes_key not in repr(sandbox)


def test_credentials_go_through_a_json_file_to_another_client(tmp_path: Path) -> None:
    with running() as (sandbox, receiver):
        credentials = sandbox.credentials
        path = credentials.write(tmp_path / "creds.json")
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data["format"] == SandboxCredentials.FORMAT
        assert "test keys" in data["note"]
        again = SandboxCredentials.read(path)
        assert again == credentials
        # a client built from the file alone is accepted by the platform
        with again.platform_client(retry=RetryPolicy.none()) as client:
            order = import_order_from_ceb(DocumentFactory(seed=9).order(), company_code=again.send_code)
            assert client.send(order).accepted
        assert sandbox.wait_idle(20)
        assert len(receiver.results()) == 1


def test_unreadable_credentials_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something else"}', encoding="utf-8")
    with pytest.raises(ConfigError):
        SandboxCredentials.read(bad)
    with pytest.raises(ConfigError):
        SandboxCredentials.read(tmp_path / "missing.json")


def test_given_keys_are_used_and_only_the_public_key_suffices() -> None:
    key = rsa.generate_private_key(65537, 1024)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    config = SandboxConfig(aes_key="MDEyMzQ1Njc4OWFiY2RlZg==", enterprise_public_key=public.decode())
    with Sandbox(config) as sandbox:
        credentials = sandbox.credentials
    assert credentials.aes_key_bytes == b"0123456789abcdef"
    assert credentials.enterprise_private_key_pem is None
    with pytest.raises(ConfigError):
        credentials.platform_client()


def test_pinned_certificates_come_from_files(tmp_path: Path) -> None:
    (tmp_path / "ent.pem").write_bytes(certificate_pem(signer().certificate))
    config = SandboxConfig.from_mapping(
        {"trusted_certificates": ["ent.pem"], "timing": {"time_scale": 0.001}}, base_dir=tmp_path
    )
    with running(config) as (sandbox, receiver):
        send_node(sandbox.credentials, signed(inventories(1)))
        assert sandbox.wait_idle(20)
    ((_, statuses),) = receiver.statuses().items()
    assert statuses[-1] == "800"
    with pytest.raises(ConfigError):
        Sandbox(SandboxConfig(trusted_certificates=(str(tmp_path / "nothing.pem"),)))
