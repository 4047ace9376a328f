"""End to end: a message built by cbec_declare.messages, signed through the e-port client protocol
(EportFakeServer playing an RSA card and an SM2 card), verified by cbec_declare.signing.verify."""

from __future__ import annotations

import pytest

from cbec_declare.errors import SignatureMismatch
from cbec_declare.signing import SignatureAlgorithm, sign, verify
from cbec_declare.signing.eport import EportClientSigner
from cbec_declare.signing.sm2 import sm2_available
from cbec_declare.testing.eport_fake import DEFAULT_CARD_PIN, EportFakeServer
from signing.signing_support import built_sample, rsa_signer, sm2_signer


@pytest.mark.parametrize(
    ("card", "algorithm", "version"),
    [
        ("rsa", SignatureAlgorithm.RSA_SHA1, "2018-113"),
        pytest.param(
            "sm2",
            SignatureAlgorithm.SM2_SM3,
            "2022-05",
            marks=pytest.mark.skipif(not sm2_available(), reason="SM2 needs tongsuopy"),
        ),
    ],
)
def test_card_signed_message_verifies(card: str, algorithm: SignatureAlgorithm, version: str) -> None:
    backing = rsa_signer(1024) if card == "rsa" else sm2_signer()
    document = built_sample(version, "CEB311")
    with EportFakeServer(backing) as fake, EportClientSigner(fake.url, pin=DEFAULT_CARD_PIN) as signer:
        signed = sign(document, signer)
    result = verify(signed, certificate=backing.certificate)
    assert result.signature_algorithm is algorithm
    assert result.key_name == backing.key_name
    # The card signed exactly the canonical SignedInfo our builder produced.
    assert [c.args["inData"].encode() for c in fake.calls if c.method.endswith("SignDataAsPEM")] == [
        result.signed_info
    ]
    forged = signed.replace(b"<ds:SignatureValue>", b"<ds:SignatureValue>AAAA", 1)
    with pytest.raises(SignatureMismatch):
        verify(forged, certificate=backing.certificate)
