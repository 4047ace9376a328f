"""The PKCS#11 signer's parts that need no token: DigestInfo, mechanism choice, error mapping, arguments."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pkcs11 import Mechanism
from pkcs11 import exceptions as p11e

from cbec_declare.errors import (
    ConfigError,
    KeyMaterialError,
    SignerUnavailable,
    SigningError,
    UnsupportedAlgorithm,
)
from cbec_declare.signing.base import SignatureAlgorithm
from cbec_declare.signing.pkcs11 import (
    MechanismChoice,
    Pkcs11Signer,
    digest_info,
    resolve_mechanism,
    translate_pkcs11_error,
)

DATA = '<ds:SignedInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">签名 test</ds:SignedInfo>'.encode()


@pytest.mark.parametrize(
    ("algorithm", "name"), [(SignatureAlgorithm.RSA_SHA1, "sha1"), (SignatureAlgorithm.RSA_SHA256, "sha256")]
)
def test_digest_info_is_the_der_that_rsa_recovery_yields(algorithm: SignatureAlgorithm, name: str) -> None:
    # An independent oracle: cryptography signs with PKCS#1 v1.5 and recovers the DigestInfo.
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    signature = key.sign(DATA, padding.PKCS1v15(), getattr(hashes, name.upper())())
    recovered = key.public_key().recover_data_from_signature(signature, padding.PKCS1v15(), None)
    assert digest_info(algorithm, DATA) == recovered


def test_resolve_mechanism_prefers_combined_and_falls_back() -> None:
    both = {Mechanism.SHA1_RSA_PKCS, Mechanism.SHA256_RSA_PKCS, Mechanism.RSA_PKCS}
    sha1 = SignatureAlgorithm.RSA_SHA1
    assert resolve_mechanism(sha1, MechanismChoice.AUTO, both) is MechanismChoice.COMBINED
    assert resolve_mechanism(sha1, MechanismChoice.AUTO, {Mechanism.RSA_PKCS}) is MechanismChoice.RSA_PKCS
    assert resolve_mechanism(sha1, MechanismChoice.RSA_PKCS, both) is MechanismChoice.RSA_PKCS
    with pytest.raises(UnsupportedAlgorithm, match="SHA1_RSA_PKCS"):
        resolve_mechanism(sha1, MechanismChoice.COMBINED, {Mechanism.RSA_PKCS})
    with pytest.raises(UnsupportedAlgorithm, match="neither"):
        resolve_mechanism(SignatureAlgorithm.RSA_SHA256, MechanismChoice.AUTO, {Mechanism.SHA1_RSA_PKCS})


def test_every_python_pkcs11_error_is_translated() -> None:
    classes = [
        cls
        for cls in vars(p11e).values()
        if inspect.isclass(cls) and issubclass(cls, p11e.PKCS11Error) and cls is not p11e.PKCS11Error
    ]
    assert len(classes) > 50
    for cls in classes:
        error = translate_pkcs11_error(cls("detail"), action="signing", token="t")
        assert isinstance(error, SigningError), cls
        assert error.code.startswith("sign.pkcs11."), cls
        assert cls.__name__ in error.message
        assert "signing (token 't')" in error.message
    expected = {
        p11e.PinIncorrect: (SignerUnavailable, "sign.pkcs11.pin_incorrect"),
        p11e.PinLocked: (SignerUnavailable, "sign.pkcs11.pin_locked"),
        p11e.NoSuchToken: (SignerUnavailable, "sign.pkcs11.token_not_found"),
        p11e.NoSuchKey: (KeyMaterialError, "sign.pkcs11.key_not_found"),
        p11e.SessionHandleInvalid: (SignerUnavailable, "sign.pkcs11.session_lost"),
        p11e.DeviceRemoved: (SignerUnavailable, "sign.pkcs11.session_lost"),
        p11e.MechanismInvalid: (UnsupportedAlgorithm, "sign.pkcs11.mechanism"),
        p11e.GeneralError: (SigningError, "sign.pkcs11.error"),
    }
    for cls, (kind, code) in expected.items():
        error = translate_pkcs11_error(cls(), action="x")
        assert type(error) is kind, cls
        assert error.code == code, cls


def test_sm2_is_refused_with_the_reason_and_the_alternatives() -> None:
    # Refused before the module is touched, so it needs no SoftHSM2.
    with pytest.raises(UnsupportedAlgorithm) as caught:
        Pkcs11Signer("/nonexistent/module.so", token_label="t", key_label="k", pin="1", algorithm="sm2-sm3")
    assert caught.value.code == "sign.pkcs11.sm2"
    assert "no standard SM2 mechanism" in caught.value.message
    assert "EportClientSigner" in caught.value.message
    assert "callable" in caught.value.message


def test_missing_module_is_signer_unavailable(tmp_path: Path) -> None:
    with pytest.raises(SignerUnavailable) as caught:
        Pkcs11Signer(tmp_path / "nope.so", token_label="t", key_label="k", pin="1")
    assert caught.value.code == "sign.pkcs11.module_missing"
    assert "nope.so" in caught.value.message


def test_a_file_that_is_no_pkcs11_module_is_signer_unavailable(tmp_path: Path) -> None:
    fake = tmp_path / "libfake.so"
    fake.write_bytes(b"this is not a shared object")
    with pytest.raises(SignerUnavailable) as caught:
        Pkcs11Signer(fake, token_label="t", key_label="k", pin="1")
    assert caught.value.code == "sign.pkcs11.module_load"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"key_label": None}, "key_label"),
        ({"token_label": ""}, "token_label"),
        ({"key_label": None, "key_id": "zz"}, "key_id"),
        ({"mechanism": "raw"}, "mechanism"),
        ({"pin": None}, "pin"),
        ({"pin_env": "X"}, "pin"),  # both a PIN and a variable
    ],
)
def test_bad_arguments_are_config_errors_naming_the_field(overrides: dict[str, object], field: str) -> None:
    options: dict[str, object] = {"token_label": "t", "key_label": "k", "pin": "1"}
    options.update(overrides)
    with pytest.raises(ConfigError) as caught:
        Pkcs11Signer("/nonexistent/module.so", **options)  # type: ignore[arg-type]
    assert caught.value.field == field
