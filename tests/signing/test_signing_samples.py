"""Every official declaration sample, rebuilt by our builder, signed and verified; XSD-valid when signed."""

from __future__ import annotations

import functools

import pytest
from lxml import etree

from cbec_declare.signing import SoftwareSigner, sign, sign_canonical, verify
from conftest import OFFICIAL_IMPORT_XSD
from signing.signing_support import (
    DECLARATIONS,
    VERSIONS,
    built_sample,
    remove_signature,
    rsa_signer,
    sm2_signer,
)

SIGNERS = {
    "rsa1024-sha1": (lambda: rsa_signer(1024), None),
    "rsa2048-sha1": (lambda: rsa_signer(2048), None),
    "rsa2048-sha256": (lambda: rsa_signer(2048, "rsa-sha256"), None),
    "sm2-spec": (sm2_signer, "sm2-sm3"),
    "sm2-practice": (sm2_signer, "sm2-sm3-w3c-sha1"),
}


@functools.cache
def _schema(version: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(OFFICIAL_IMPORT_XSD[version])))


@pytest.mark.parametrize("signer_id", sorted(SIGNERS))
@pytest.mark.parametrize("message", DECLARATIONS)
@pytest.mark.parametrize("version", VERSIONS)
def test_sign_and_verify_every_sample(version: str, message: str, signer_id: str) -> None:
    make, profile = SIGNERS[signer_id]
    signer: SoftwareSigner = make()  # type: ignore[operator]
    unsigned = built_sample(version, message)
    for signed in (
        sign(unsigned, signer, profile=profile),
        sign_canonical(unsigned, signer, profile=profile),
    ):
        assert remove_signature(signed) == unsigned
        result = verify(signed, certificate=signer.certificate)
        assert result.key_name == signer.key_name
        assert result.profile == (profile or signer.algorithm.value)


@pytest.mark.parametrize("signer_id", ["rsa2048-sha1", "sm2-spec"])
@pytest.mark.parametrize("message", ["CEB621", "CEB623", "CEB625", "CEB711"])
@pytest.mark.parametrize("version", VERSIONS)
def test_signed_messages_that_require_a_signature_are_valid_against_the_official_xsd(
    version: str, message: str, signer_id: str
) -> None:
    make, profile = SIGNERS[signer_id]
    unsigned = built_sample(version, message)
    schema = _schema(version)
    # These four declare ds:Signature without minOccurs=0: the unsigned form must fail, the signed pass.
    assert not schema.validate(etree.fromstring(unsigned))
    signed = sign(unsigned, make(), profile=profile)  # type: ignore[operator]
    document = etree.fromstring(signed)
    assert schema.validate(document), schema.error_log
