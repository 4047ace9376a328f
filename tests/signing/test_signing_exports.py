"""The public names other layers rely on stay exported."""

from __future__ import annotations

import cbec_declare.envelope as envelope
import cbec_declare.signing as signing

SIGNING = {
    "sign",
    "sign_canonical",
    "verify",
    "VerifiedSignature",
    "SignatureProfile",
    "PROFILES",
    "SoftwareSigner",
    "CallableSigner",
    "Signer",
    "SignatureAlgorithm",
    "certificate_info",
    "CertificateInfo",
    "load_certificate",
    "PayExchangeInfoHead",
    "PayExchangeInfoItem",
    "GoodsInfo",
    "build_payload",
    "sign_string",
    "verify_payload",
    "Pkcs11Signer",
    "EportClientSigner",
    "load_signer",
    "signer_from_config",
}
ENVELOPE = {
    "wrap",
    "unwrap",
    "Unwrapped",
    "TransInfo",
    "SvNo",
    "parse_dxp_reply",
    "DxpReply",
    "IMPORT_RECEIVER",
    "EXPORT_RECEIVER",
}


def test_signing_exports() -> None:
    assert set(signing.__all__) >= SIGNING
    for name in signing.__all__:
        assert getattr(signing, name) is not None


def test_envelope_exports() -> None:
    assert set(envelope.__all__) >= ENVELOPE
    for name in envelope.__all__:
        assert getattr(envelope, name) is not None
    assert envelope.IMPORT_RECEIVER == "DXPEDCCEB0000002"
    assert envelope.EXPORT_RECEIVER == "DXPEDCCEB0000003"
