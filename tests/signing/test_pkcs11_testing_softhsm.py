"""cbec_declare.testing.softhsm: the tokens it makes, seen by independent tools and by the signer."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cryptography import x509

from cbec_declare.errors import ConfigError
from cbec_declare.signing import SignatureAlgorithm
from cbec_declare.signing.pkcs11 import Pkcs11Signer
from cbec_declare.testing.softhsm import KeySpec, SoftHsm, TokenSpec, create_softhsm
from signing._softhsm_fixtures import MAIN, MAIN_PIN, needs_softhsm, rsa_verify, shared_softhsm

pytestmark = needs_softhsm


@pytest.fixture(scope="module")
def hsm(tmp_path_factory: pytest.TempPathFactory) -> SoftHsm:
    return shared_softhsm(tmp_path_factory)


@pytest.mark.skipif(
    shutil.which("pkcs11-tool") is None, reason="pkcs11-tool not installed (apt-get install opensc)"
)
def test_pkcs11_tool_sees_the_keys_and_certificates(hsm: SoftHsm) -> None:
    command = [
        "pkcs11-tool", "--module", hsm.module, "--token-label", MAIN,
        "--login", "--pin", MAIN_PIN, "--list-objects",
    ]  # fmt: skip
    listing = subprocess.run(
        command, env=hsm.env, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    for label in ("rsa2048", "rsa1024", "ec", "nocert"):
        assert f"label:      {label}" in listing
    assert listing.count("Certificate Object") == 3  # every key but "nocert"
    assert listing.count("Private Key Object") == 4


def test_certificates_hold_the_token_keys_and_chain_to_the_ca(hsm: SoftHsm) -> None:
    ca = x509.load_der_x509_certificate(hsm.ca_certificate)
    token = hsm.token(MAIN)
    for key in token.keys:
        if key.certificate is None:
            assert key.label == "nocert"
            with pytest.raises(ConfigError):
                _ = key.key_name
            continue
        cert = x509.load_der_x509_certificate(key.certificate)
        cert.verify_directly_issued_by(ca)
        assert cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == key.label
    assert MAIN_PIN not in repr(token)


def test_a_later_call_adds_tokens_and_open_signers_keep_working(hsm: SoftHsm, tmp_path: Path) -> None:
    data = b"before and after"
    with Pkcs11Signer(hsm.module, token_label=MAIN, key_label="rsa1024", pin=MAIN_PIN) as early:
        early.sign(data)
        late = create_softhsm(
            tmp_path, [TokenSpec(label="cbec-sig-late", pin="112233", keys=(KeySpec(label="k", bits=1024),))]
        )
        assert late.folder == hsm.folder  # one installation per process
        assert [t.label for t in late.tokens] == ["cbec-sig-late"]
        rsa_verify(early.certificate, early.sign(data), data, SignatureAlgorithm.RSA_SHA1)
    with Pkcs11Signer(late.module, token_label="cbec-sig-late", key_label="k", pin="112233") as signer:
        rsa_verify(signer.certificate, signer.sign(data), data, SignatureAlgorithm.RSA_SHA1)
    with pytest.raises(ConfigError) as caught:
        create_softhsm(tmp_path, [TokenSpec(label="cbec-sig-late", pin="112233")])
    assert "cbec-sig-late" in caught.value.message


def test_a_folder_with_tokens_is_not_reused(tmp_path: Path) -> None:
    # A fresh process each time: the first installation of a process is the one that checks its folder.
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from cbec_declare.errors import ConfigError
        from cbec_declare.testing.softhsm import TokenSpec, create_softhsm
        try:
            create_softhsm(Path({str(tmp_path)!r}), [TokenSpec(label="t", pin="1234")])
        except ConfigError as exc:
            print("refused:", exc.field)
        else:
            print("created")
        """
    )
    outputs = [
        subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
        ).stdout
        for _ in range(2)
    ]
    assert outputs == ["created\n", "refused: folder\n"]
