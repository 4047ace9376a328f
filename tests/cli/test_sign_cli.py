"""``cbec-declare sign`` and ``verify``: RSA and SM2 signatures made and checked, failures named, secrets kept."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from cbec_declare.cli import main
from cbec_declare.signing import SoftwareSigner, verify
from conftest import ROOT, VECTORS

EXAMPLE = ROOT / "examples" / "orders.json"
PASSWORD = "Key-Passw0rd-do-not-print"


class Keys:
    """Key and certificate files in a folder: RSA, SM2, a CA with a leaf, an expired certificate."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        ca = SoftwareSigner.generate("rsa-sha256", common_name="cbec test CA", is_ca=True)
        signers = {
            "rsa": SoftwareSigner.generate("rsa-sha1", common_name="cbec rsa signer"),
            "sm2": SoftwareSigner.generate("sm2-sm3", common_name="cbec sm2 signer"),
            "ca": ca,
            "leaf": SoftwareSigner.generate("rsa-sha1", common_name="cbec leaf", issuer=ca),
            "other-ca": SoftwareSigner.generate("rsa-sha256", common_name="other CA", is_ca=True),
            "expired": SoftwareSigner.generate(
                "rsa-sha1",
                common_name="cbec expired",
                not_before=datetime(2020, 1, 1, tzinfo=timezone.utc),
                days=1,
            ),
        }
        self.signers = signers
        for name, signer in signers.items():
            (folder / f"{name}.key").write_bytes(signer.private_key_pem(PASSWORD))
            (folder / f"{name}.crt").write_bytes(signer.certificate_pem())

    def key(self, name: str) -> str:
        return str(self.folder / f"{name}.key")

    def cert(self, name: str) -> str:
        return str(self.folder / f"{name}.crt")

    def args(self, name: str) -> list[str]:
        return [
            "--key",
            self.key(name),
            "--cert",
            self.cert(name),
            "--password-env",
            "CBEC_TEST_KEY_PASSWORD",
        ]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return Keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def unsigned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("unsigned") / "orders.xml"
    assert main(["build", "CEB311", str(EXAMPLE), "-o", str(out)]) == 0
    return out


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CBEC_TEST_KEY_PASSWORD", PASSWORD)


def _sign(keys: Keys, name: str, unsigned: Path, target: Path, *extra: str) -> Path:
    assert main(["sign", str(unsigned), *keys.args(name), "-o", str(target), *extra]) == 0
    return target


@pytest.mark.parametrize(
    ("name", "profile"),
    [("rsa", None), ("rsa", "rsa-sha256"), ("sm2", None), ("sm2", "sm2-sm3-w3c-sha1")],
)
def test_sign_then_verify(
    name: str,
    profile: str | None,
    keys: Keys,
    unsigned: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    extra = ["--profile", profile] if profile else []
    signed = _sign(keys, name, unsigned, tmp_path / "signed.xml", *extra)
    expected = profile or {"rsa": "rsa-sha1", "sm2": "sm2-sm3"}[name]
    data = signed.read_bytes()
    assert data.startswith(unsigned.read_bytes()[: data.index(b"<ds:Signature")])
    assert verify(data).profile == expected
    capsys.readouterr()
    assert main(["verify", str(signed)]) == 0
    out = capsys.readouterr().out.splitlines()
    signer = keys.signers[name]
    assert out[0] == f"{signed}: valid ({expected}, certificate from KeyInfo)"
    assert out[1].startswith(f"  KeyName {signer.key_name} (= serial); {name.upper()}-")
    assert out[2] == f"  subject {signer.certificate_info.subject}"
    assert out[3].startswith("  valid ")


def test_sign_with_a_signer_config_to_stdout(
    keys: Keys, unsigned: Path, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    config = tmp_path / "cbec.toml"
    config.write_text(
        f'[customs.signer]\ntype = "software"\nkey = "{keys.key("sm2")}"\ncert = "{keys.cert("sm2")}"\n'
        'password_env = "CBEC_TEST_KEY_PASSWORD"\n',
        encoding="utf-8",
    )
    assert main(["sign", str(unsigned), "--signer", str(config), "--section", "customs.signer"]) == 0
    result = verify(capsysbinary.readouterr().out)
    assert result.key_name == keys.signers["sm2"].key_name


def test_sign_json_summary_carries_the_document(
    keys: Keys, unsigned: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sign", "--json", str(unsigned), *keys.args("rsa"), "--key-name", "0001"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["ok"], summary["profile"], summary["key_name"]) == (True, "rsa-sha1", "0001")
    assert verify(base64.b64decode(summary["xml_base64"])).key_name == "0001"


def test_the_real_pretty_printed_vector_fails_with_the_reformatted_reason(
    capsys: pytest.CaptureFixture[str],
) -> None:
    vector = VECTORS / "ceb311_signed_sm2_pretty.xml"
    assert main(["verify", str(vector)]) == 1
    out = capsys.readouterr().out
    assert out.startswith(
        f"{vector}: INVALID (signed-info-reformatted): SignedInfo was re-formatted after signing"
    )
    assert main(["verify", "--json", str(vector)]) == 1
    entry = json.loads(capsys.readouterr().out)["files"][0]
    assert (entry["ok"], entry["reason"], entry["error"]["code"]) == (
        False,
        "signed-info-reformatted",
        "verify.signature.reformatted",
    )


def _tamper(kind: str, data: bytes) -> bytes:
    if kind == "content":
        return data.replace("王小明".encode(), "王大明".encode(), 1)
    if kind == "whitespace":
        return data.replace(b"<ds:Signature", b"\n<ds:Signature", 1)
    if kind == "pretty":
        return data.replace(
            b"<ds:SignedInfo><ds:CanonicalizationMethod", b"<ds:SignedInfo>\n  <ds:CanonicalizationMethod"
        )
    assert kind == "unsigned"
    start, end = data.index(b"<ds:Signature"), data.index(b"</ds:Signature>") + len(b"</ds:Signature>")
    return data[:start] + data[end:]


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("content", "digest"),
        ("whitespace", "whitespace-around-signature"),
        ("pretty", "signed-info-reformatted"),
        ("unsigned", "missing"),
    ],
)
def test_each_failure_is_named(
    kind: str, reason: str, keys: Keys, unsigned: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _sign(keys, "rsa", unsigned, tmp_path / "good.xml")
    bad = tmp_path / "bad.xml"
    bad.write_bytes(_tamper(kind, good.read_bytes()))
    assert bad.read_bytes() != good.read_bytes()
    capsys.readouterr()
    assert main(["verify", str(good), str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{good}: valid (rsa-sha1" in out
    assert f"{bad}: INVALID ({reason}): " in out


def test_certificate_checks(
    keys: Keys, unsigned: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    leaf = _sign(keys, "leaf", unsigned, tmp_path / "leaf.xml")
    expired = _sign(keys, "expired", unsigned, tmp_path / "expired.xml")
    sm2 = _sign(keys, "sm2", unsigned, tmp_path / "sm2.xml")
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(Path(keys.cert("other-ca")).read_bytes() + Path(keys.cert("ca")).read_bytes())
    capsys.readouterr()
    assert main(["verify", "--trust", str(bundle), str(leaf)]) == 0
    assert f"{leaf}: valid (rsa-sha1, chain to --trust)" in capsys.readouterr().out
    cases = [
        (["--trust", keys.cert("other-ca"), str(leaf)], "untrusted"),
        ([str(expired)], "expired"),
        (["--cert", keys.cert("rsa"), str(sm2)], "certificate-mismatch"),
        (["--allow", "rsa-sha256", str(leaf)], "disallowed"),
    ]
    for argv, reason in cases:
        assert main(["verify", "--json", *argv]) == 1, reason
        assert json.loads(capsys.readouterr().out)["files"][0]["reason"] == reason
    assert main(["verify", "--cert", keys.cert("sm2"), str(sm2)]) == 0
    assert "(sm2-sm3, pinned certificate)" in capsys.readouterr().out


def test_verify_json_reports_the_certificate(
    keys: Keys, unsigned: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    signed = _sign(keys, "sm2", unsigned, tmp_path / "sm2.xml")
    capsys.readouterr()
    assert main(["verify", "--json", str(signed)]) == 0
    entry = json.loads(capsys.readouterr().out)["files"][0]
    info = keys.signers["sm2"].certificate_info
    certificate = entry["certificate"]
    assert (entry["profile"], entry["trusted_by"]) == ("sm2-sm3", "keyinfo")
    assert (certificate["key_name"], certificate["serial"], certificate["subject"]) == (
        info.key_name,
        info.key_name,
        info.subject,
    )
    assert (certificate["key_algorithm"], certificate["signature_algorithm"]) == ("sm2", "SM3withSM2")
    assert certificate["not_after"] == info.not_after.isoformat()


def test_the_key_password_never_shows(
    keys: Keys, unsigned: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sign", "--json", str(unsigned), *keys.args("rsa")]) == 0
    ok = capsys.readouterr()
    monkeypatch.setenv("CBEC_TEST_KEY_PASSWORD", PASSWORD + "-wrong")
    assert main(["sign", str(unsigned), *keys.args("rsa")]) == 1
    wrong = capsys.readouterr()
    assert "cbec-declare: [sign.key.load] " in wrong.err
    assert keys.key("rsa") in wrong.err
    monkeypatch.delenv("CBEC_TEST_KEY_PASSWORD")
    assert main(["sign", "--json", str(unsigned), *keys.args("rsa")]) == 2
    missing = capsys.readouterr()
    assert "CBEC_TEST_KEY_PASSWORD" in missing.out
    for text in (ok.out, ok.err, wrong.out, wrong.err, missing.out, missing.err):
        assert PASSWORD not in text
        assert "Traceback" not in text


@pytest.mark.parametrize(
    ("argv", "code", "needle"),
    [
        (["SIGNED", "RSA"], 1, "SIGNED: the document already carries a ds:Signature"),
        (["UNSIGNED", "SM2", "--profile", "rsa-sha1"], 1, "does not fit an SM2 key"),
        (["UNSIGNED", "RSA", "--algorithm", "sm2-sm3"], 1, "does not fit an RSA key"),
        (["UNSIGNED", "--signer", "cbec.toml", "--algorithm", "rsa-sha1"], 2, "go with --key"),
        (
            ["UNSIGNED", "--key", "/nonexistent.key", "--cert", "/nonexistent.crt"],
            2,
            "--key /nonexistent.key: no such file",
        ),
        (["UNSIGNED", "--signer", "/nonexistent.toml"], 2, "config file not found: /nonexistent.toml"),
        (["/nonexistent.xml", "RSA"], 2, "no such file: /nonexistent.xml"),
    ],
)
def test_sign_errors(
    argv: list[str],
    code: int,
    needle: str,
    keys: Keys,
    unsigned: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    signed = _sign(keys, "rsa", unsigned, tmp_path / "signed.xml")
    names = {
        "SIGNED": [str(signed)],
        "UNSIGNED": [str(unsigned)],
        "RSA": keys.args("rsa"),
        "SM2": keys.args("sm2"),
    }
    expanded = [part for arg in argv for part in names.get(arg, [arg])]
    capsys.readouterr()
    assert main(["sign", *expanded]) == code
    err = capsys.readouterr().err
    assert needle.replace("SIGNED", str(signed)) in err
    assert "Traceback" not in err


def test_verify_usage_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "junk.pem").write_text("<not a certificate>", encoding="utf-8")
    vector = str(VECTORS / "ceb311_signed_sm2_pretty.xml")
    assert main(["verify", "--trust", str(tmp_path / "junk.pem"), vector]) == 2
    err = capsys.readouterr().err
    assert (
        err
        == f"cbec-declare: [cli.certificate] --trust {tmp_path / 'junk.pem'}: certificate is neither DER, PEM nor base64\n"
    )
    with pytest.raises(SystemExit) as exit_info:
        main(["verify", "--allow", "md5", vector])
    assert exit_info.value.code == 2


def test_entry_point_signs_and_verifies(keys: Keys, unsigned: Path, tmp_path: Path) -> None:
    signed = tmp_path / "signed.xml"
    cli = [sys.executable, "-m", "cbec_declare.cli"]
    env = {**os.environ, "CBEC_TEST_KEY_PASSWORD": PASSWORD}
    done = subprocess.run(
        [*cli, "sign", str(unsigned), *keys.args("sm2"), "-o", str(signed)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    done = subprocess.run(
        [*cli, "verify", str(signed)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{signed}: valid (sm2-sm3")


@pytest.mark.parametrize(
    ("command", "codes"),
    [
        (["sign"], "Exit codes: 0 signed; 1 the document or the key cannot be used; 2 usage error"),
        (["verify"], "Exit codes: 0 every signature is valid; 1 at least one is not; 2 usage error"),
    ],
)
def test_help_lists_the_exit_codes(
    command: list[str], codes: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    assert codes in " ".join(capsys.readouterr().out.split())
