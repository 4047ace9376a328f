"""End to end: a message built by cbec_declare.messages, signed on a SoftHSM2 token, verified by
cbec_declare.signing.verify and by the xmlsec1 command."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from cbec_declare.errors import DigestMismatch
from cbec_declare.signing import SignatureAlgorithm, certificate_pem, sign, verify
from cbec_declare.signing.pkcs11 import Pkcs11Signer
from cbec_declare.testing.softhsm import SoftHsm
from signing._softhsm_fixtures import MAIN, MAIN_PIN, needs_softhsm, shared_softhsm
from signing.signing_support import built_sample

pytestmark = needs_softhsm


@pytest.fixture(scope="module")
def hsm(tmp_path_factory: pytest.TempPathFactory) -> SoftHsm:
    return shared_softhsm(tmp_path_factory)


@pytest.mark.parametrize("mechanism", ["combined", "rsa-pkcs"])
@pytest.mark.parametrize("message", ["CEB311", "CEB621"])
def test_token_signed_message_verifies(hsm: SoftHsm, mechanism: str, message: str) -> None:
    document = built_sample("2018-113", message)
    with Pkcs11Signer(
        hsm.module, token_label=MAIN, key_label="rsa2048", pin=MAIN_PIN, mechanism=mechanism
    ) as signer:
        signed = sign(document, signer)
        result = verify(signed, certificate=signer.certificate, trusted=[hsm.ca_certificate])
    assert result.signature_algorithm is SignatureAlgorithm.RSA_SHA1
    assert result.key_name == signer.key_name
    assert result.trusted_by == "chain"
    tampered = signed.replace(b"</ceb:copName>", b"X</ceb:copName>", 1)
    assert tampered != signed
    with pytest.raises(DigestMismatch):
        verify(tampered, certificate=signer.certificate)


@pytest.mark.xmlsec1
@pytest.mark.skipif(shutil.which("xmlsec1") is None, reason="xmlsec1 not installed (apt-get install xmlsec1)")
def test_xmlsec1_verifies_the_token_signature(hsm: SoftHsm, tmp_path: Path) -> None:
    document = built_sample("2018-113", "CEB311")
    with Pkcs11Signer(hsm.module, token_label=MAIN, key_id="02", pin=MAIN_PIN) as signer:
        signed = sign(document, signer)
        (tmp_path / "cert.pem").write_bytes(certificate_pem(signer.certificate))
    (tmp_path / "ca.pem").write_bytes(certificate_pem(hsm.ca_certificate))

    def xmlsec1(data: bytes) -> subprocess.CompletedProcess[str]:
        (tmp_path / "signed.xml").write_bytes(data)
        command = ["xmlsec1", "--verify", "--pubkey-cert-pem", str(tmp_path / "cert.pem")]
        command += ["--trusted-pem", str(tmp_path / "ca.pem"), str(tmp_path / "signed.xml")]
        return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)

    good = xmlsec1(signed)
    assert good.returncode == 0, good.stderr
    assert "SignedInfo References (ok/all): 1/1" in good.stderr
    bad = xmlsec1(signed.replace(b"</ceb:copName>", b"X</ceb:copName>", 1))
    assert bad.returncode != 0
