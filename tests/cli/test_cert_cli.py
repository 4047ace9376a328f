"""``cbec-declare cert``: RSA and SM2 certificates in PEM, DER and base64, or a configured signer's."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from cbec_declare.cli import main
from cbec_declare.signing import SoftwareSigner, load_certificate
from conftest import VECTORS


@pytest.fixture(scope="module")
def signers() -> dict[str, SoftwareSigner]:
    return {
        "rsa": SoftwareSigner.generate(
            "rsa-sha1", bits=1024, common_name="cbec rsa card", signature_hash="sha1"
        ),
        "sm2": SoftwareSigner.generate("sm2-sm3", common_name="cbec sm2 card"),
        "expired": SoftwareSigner.generate(
            "sm2-sm3", common_name="old card", not_before=datetime(2020, 1, 1, tzinfo=timezone.utc), days=30
        ),
    }


@pytest.mark.parametrize("form", ["pem", "der", "base64"])
@pytest.mark.parametrize(
    ("name", "key", "signed_with"), [("rsa", "RSA-1024", "sha1WithRSA"), ("sm2", "SM2-256", "SM3withSM2")]
)
def test_certificate_facts(
    form: str,
    name: str,
    key: str,
    signed_with: str,
    signers: dict[str, SoftwareSigner],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    signer = signers[name]
    der = load_certificate(signer.certificate_pem())
    data = {"pem": signer.certificate_pem(), "der": der, "base64": base64.encodebytes(der)}[form]
    path = tmp_path / f"card.{form}"
    path.write_bytes(data)
    assert main(["cert", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    info = signer.certificate_info
    assert lines[0] == f"{path}:"
    assert lines[1] == f"  KeyName     {info.key_name} (serial {info.serial})"
    assert lines[2] == f"  key         {key}"
    assert lines[3] == f"  subject     {info.subject}"
    assert lines[4] == f"  issuer      {info.issuer}"
    assert lines[5].endswith("UTC (valid now)")
    assert lines[6].startswith(f"  signed with {signed_with} (")


def test_json_and_an_expired_certificate(
    signers: dict[str, SoftwareSigner], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "old.pem"
    path.write_bytes(signers["expired"].certificate_pem())
    assert main(["cert", str(path)]) == 0
    assert "(EXPIRED)" in capsys.readouterr().out
    assert main(["cert", "--json", str(path)]) == 0
    data = json.loads(capsys.readouterr().out)
    info = signers["expired"].certificate_info
    assert (data["key_name"], data["key_algorithm"], data["key_size"]) == (info.key_name, "sm2", 256)
    assert (data["valid_now"], data["state"], data["not_after"]) == (
        False,
        "EXPIRED",
        info.not_after.isoformat(),
    )
    assert data["sha256_fingerprint"] == info.sha256_fingerprint


def _real_certificates() -> list[tuple[str, str, str, str]]:
    vectors = json.loads((VECTORS / "signature-vectors.json").read_text(encoding="utf-8"))
    return [
        (v["id"], v["x509_b64"], v["cert_serial_hex"], v["cert_sigalg"])
        for v in vectors
        if v.get("cert_serial_hex")
    ]


@pytest.mark.parametrize(("vector", "b64", "serial_hex", "sigalg"), _real_certificates())
def test_real_customs_card_certificates(
    vector: str, b64: str, serial_hex: str, sigalg: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "real.cer").write_text(b64, encoding="utf-8")
    assert main(["cert", "--json", str(tmp_path / "real.cer")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["key_name"] == serial_hex
    assert sigalg.startswith(data["signature_algorithm"])
    assert data["key_algorithm"] == ("sm2" if "SM2" in sigalg else "rsa")


def test_the_certificate_of_a_configured_signer(
    signers: dict[str, SoftwareSigner],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "k.pem").write_bytes(signers["sm2"].private_key_pem("pw-secret-9"))
    (tmp_path / "c.pem").write_bytes(signers["sm2"].certificate_pem())
    (tmp_path / "cbec.toml").write_text(
        '[signer]\ntype = "software"\nkey = "k.pem"\ncert = "c.pem"\npassword_env = "CBEC_CERT_TEST_PW"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("CBEC_CERT_TEST_PW", "pw-secret-9")
    assert main(["cert", "--signer", str(tmp_path / "cbec.toml")]) == 0
    captured = capsys.readouterr()
    assert f"KeyName     {signers['sm2'].key_name}" in captured.out
    assert "pw-secret-9" not in captured.out + captured.err


@pytest.mark.parametrize(
    ("argv", "code", "needle"),
    [
        (["cert", "JUNK"], 1, "JUNK: certificate is neither DER, PEM nor base64"),
        (["cert", "/nonexistent.pem"], 2, "no such file"),
        (["cert", "--signer", "/nonexistent.toml"], 2, "config file not found: /nonexistent.toml"),
    ],
)
def test_errors(
    argv: list[str], code: int, needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "junk.txt"
    junk.write_text("<certificate?>", encoding="utf-8")
    assert main([str(junk) if a == "JUNK" else a for a in argv]) == code
    err = capsys.readouterr().err
    assert needle.replace("JUNK", str(junk)) in err
    assert "Traceback" not in err


def test_file_and_signer_exclude_each_other(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["cert", "a.pem", "--signer", "cbec.toml"])
    assert exit_info.value.code == 2


def test_entry_point(signers: dict[str, SoftwareSigner], tmp_path: Path) -> None:
    (tmp_path / "c.pem").write_bytes(signers["rsa"].certificate_pem())
    done = subprocess.run(
        [sys.executable, "-m", "cbec_declare.cli", "cert", "--json", str(tmp_path / "c.pem")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["key_name"] == signers["rsa"].key_name


@pytest.mark.parametrize(
    ("command", "codes"),
    [(["cert"], "Exit codes: 0 shown (an expired certificate is still shown, marked EXPIRED); 1")],
)
def test_help_lists_the_exit_codes(
    command: list[str], codes: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    assert codes in " ".join(capsys.readouterr().out.split())
