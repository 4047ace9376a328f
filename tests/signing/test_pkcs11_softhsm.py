"""Pkcs11Signer against real SoftHSM2 tokens: signatures, mechanisms, errors, threads, lifetime."""

from __future__ import annotations

import threading

import pkcs11
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pkcs11 import exceptions as p11e

from cbec_declare.errors import (
    ConfigError,
    KeyMaterialError,
    SignerUnavailable,
    SigningError,
    UnsupportedAlgorithm,
)
from cbec_declare.signing.base import SignatureAlgorithm, Signer, key_name_from_serial
from cbec_declare.signing.pkcs11 import MechanismChoice, Pkcs11Signer, reinitialize_pkcs11_library
from cbec_declare.testing.softhsm import SoftHsm
from signing._softhsm_fixtures import (
    MAIN,
    MAIN_PIN,
    SPARE,
    SPARE_PIN,
    needs_softhsm,
    rsa_verify,
    shared_softhsm,
)

pytestmark = needs_softhsm

DATA = '<ds:SignedInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">签名 test</ds:SignedInfo>'.encode()


@pytest.fixture(scope="module")
def hsm(tmp_path_factory: pytest.TempPathFactory) -> SoftHsm:
    return shared_softhsm(tmp_path_factory)


def open_signer(hsm: SoftHsm, **overrides: object) -> Pkcs11Signer:
    options: dict[str, object] = {"token_label": MAIN, "key_label": "rsa2048", "pin": MAIN_PIN}
    options.update(overrides)
    return Pkcs11Signer(hsm.module, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("algorithm", [SignatureAlgorithm.RSA_SHA1, SignatureAlgorithm.RSA_SHA256])
@pytest.mark.parametrize("mechanism", [MechanismChoice.COMBINED, MechanismChoice.RSA_PKCS])
@pytest.mark.parametrize("key", ["rsa2048", "rsa1024"])
def test_signatures_verify_with_the_token_certificate(
    hsm: SoftHsm, algorithm: SignatureAlgorithm, mechanism: MechanismChoice, key: str
) -> None:
    with open_signer(hsm, key_label=key, algorithm=algorithm, mechanism=mechanism) as signer:
        assert isinstance(signer, Signer)
        assert signer.algorithm is algorithm
        assert signer.mechanism is mechanism
        token_key = hsm.token(MAIN).key(key)
        assert signer.certificate == token_key.certificate
        serial = x509.load_der_x509_certificate(signer.certificate).serial_number
        assert signer.key_name == key_name_from_serial(serial) == token_key.key_name
        signature = signer.sign(DATA)
        rsa_verify(signer.certificate, signature, DATA, algorithm)
        assert len(signature) == token_key.bits // 8


def test_both_mechanisms_give_the_same_bytes_and_auto_picks_combined(hsm: SoftHsm) -> None:
    # PKCS#1 v1.5 is deterministic, so the DigestInfo fallback must reproduce the combined mechanism.
    with open_signer(hsm) as auto, open_signer(hsm, mechanism="rsa-pkcs") as raw:
        assert auto.mechanism is MechanismChoice.COMBINED  # SoftHSM2 lists CKM_SHA1_RSA_PKCS
        assert auto.sign(DATA) == raw.sign(DATA)
        assert auto.sign(b"other") != raw.sign(DATA)


def test_key_by_id_hex_or_bytes_and_by_label_and_id(hsm: SoftHsm) -> None:
    expected = hsm.token(MAIN).key("rsa1024").certificate
    for key_id in ("02", b"\x02"):
        with open_signer(hsm, key_label=None, key_id=key_id) as signer:
            assert signer.certificate == expected
    with open_signer(hsm, key_label="rsa1024", key_id="02") as signer:
        rsa_verify(signer.certificate, signer.sign(DATA), DATA, SignatureAlgorithm.RSA_SHA1)
    with pytest.raises(KeyMaterialError) as caught:
        open_signer(hsm, key_label="rsa1024", key_id="01")  # label and id of two different keys
    assert caught.value.code == "sign.pkcs11.key_not_found"


def test_certificate_given_as_pem_and_key_name_override(hsm: SoftHsm) -> None:
    der = hsm.token(MAIN).key("rsa2048").certificate
    assert der is not None
    pem = x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)
    with open_signer(hsm, certificate=pem, key_name="0001") as signer:
        assert signer.certificate == der
        assert signer.key_name == "0001"


def test_a_certificate_of_another_key_is_refused(hsm: SoftHsm) -> None:
    other = hsm.token(MAIN).key("rsa1024").certificate
    with pytest.raises(KeyMaterialError) as caught:
        open_signer(hsm, certificate=other)
    assert caught.value.code == "sign.pkcs11.certificate_mismatch"


def test_a_key_without_certificate_needs_one_given(hsm: SoftHsm) -> None:
    with pytest.raises(KeyMaterialError) as caught:
        open_signer(hsm, key_label="nocert")
    assert caught.value.code == "sign.pkcs11.certificate_not_found"
    assert "cert" in caught.value.message


def test_an_ec_key_is_refused(hsm: SoftHsm) -> None:
    with pytest.raises(UnsupportedAlgorithm) as caught:
        open_signer(hsm, key_label="ec")
    assert caught.value.code == "sign.pkcs11.key_type"


def test_unknown_token_and_key(hsm: SoftHsm) -> None:
    with pytest.raises(SignerUnavailable) as caught:
        open_signer(hsm, token_label="no-such-token")
    assert caught.value.code == "sign.pkcs11.token_not_found"
    assert "no-such-token" in caught.value.message
    with pytest.raises(KeyMaterialError) as key_caught:
        open_signer(hsm, key_label="no-such-key")
    assert key_caught.value.code == "sign.pkcs11.key_not_found"
    assert "no-such-key" in key_caught.value.message


def test_wrong_pin_rejected_by_the_token_and_by_the_process_login(hsm: SoftHsm) -> None:
    # SPARE is not logged in: the token itself judges the PIN.
    with pytest.raises(SignerUnavailable) as caught:
        open_signer(hsm, token_label=SPARE, pin="000000")
    assert caught.value.code == "sign.pkcs11.pin_incorrect"
    assert "000000" not in str(caught.value)
    # MAIN is logged in by an open signer: the PIN is compared with the one that logged in.
    with open_signer(hsm):
        with pytest.raises(SignerUnavailable) as joined:
            open_signer(hsm, pin="999999")
        assert joined.value.code == "sign.pkcs11.pin_incorrect"
        assert "999999" not in str(joined.value)


def test_pin_from_an_environment_variable(hsm: SoftHsm) -> None:
    with open_signer(
        hsm, token_label=SPARE, pin=None, pin_env="SPARE_PIN", environ={"SPARE_PIN": SPARE_PIN}
    ) as s:
        rsa_verify(s.certificate, s.sign(DATA), DATA, SignatureAlgorithm.RSA_SHA1)
    with pytest.raises(ConfigError) as caught:
        open_signer(hsm, pin=None, pin_env="UNSET_PIN_VARIABLE", environ={})
    assert caught.value.field == "pin_env"
    assert "UNSET_PIN_VARIABLE" in caught.value.message


def test_the_last_close_logs_the_process_out(hsm: SoftHsm) -> None:
    first = open_signer(hsm, token_label=SPARE, pin=SPARE_PIN)
    second = open_signer(hsm, token_label=SPARE, pin=SPARE_PIN, key_id="01")
    first.close()
    first.close()  # idempotent
    rsa_verify(second.certificate, second.sign(DATA), DATA, SignatureAlgorithm.RSA_SHA1)  # still logged in
    with pytest.raises(SignerUnavailable) as caught:
        first.sign(DATA)
    assert caught.value.code == "sign.pkcs11.closed"
    second.close()
    # Logged out now: a wrong PIN goes to the token again (a joined login would compare it instead),
    # and a right one logs in afresh.
    lib = pkcs11.lib(hsm.module)
    with pytest.raises(p11e.PinIncorrect):
        lib.get_token(token_label=SPARE).open(user_pin="000000")
    with open_signer(hsm, token_label=SPARE, pin=SPARE_PIN) as again:
        assert again.sign(DATA)


def test_signing_from_many_threads(hsm: SoftHsm) -> None:
    # python-pkcs11 initialises the module without locking; unserialised calls corrupt SoftHSM2's heap.
    signers = [open_signer(hsm), open_signer(hsm, key_label="rsa1024", mechanism="rsa-pkcs")]
    failures: list[BaseException] = []
    done: list[int] = []

    def work(number: int) -> None:
        signer = signers[number % 2]
        try:
            for i in range(20):
                message = f"thread {number} message {i}".encode()
                rsa_verify(signer.certificate, signer.sign(message), message, SignatureAlgorithm.RSA_SHA1)
            done.append(number)
        except BaseException as exc:  # collected for the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for signer in signers:
        signer.close()
    assert not failures
    assert sorted(done) == list(range(8))


def test_signers_recover_after_the_module_is_reinitialised(hsm: SoftHsm) -> None:
    with open_signer(hsm) as big, open_signer(hsm, key_label="rsa1024") as small:
        big.sign(DATA)
        small.sign(DATA)
        reinitialize_pkcs11_library(hsm.module)
        # Handles are reissued after C_Initialize: each signer must use its own key, not a reused number.
        rsa_verify(big.certificate, big.sign(DATA), DATA, SignatureAlgorithm.RSA_SHA1)
        rsa_verify(small.certificate, small.sign(DATA), DATA, SignatureAlgorithm.RSA_SHA1)


def test_a_lost_session_is_reopened_once(hsm: SoftHsm) -> None:
    with open_signer(hsm, token_label=SPARE, pin=SPARE_PIN) as signer:
        signer.sign(DATA)
        pkcs11.lib(hsm.module).reinitialize()  # behind the library's back: the session handle dies
        rsa_verify(signer.certificate, signer.sign(DATA), DATA, SignatureAlgorithm.RSA_SHA1)


def test_repr_names_the_token_and_key_only(hsm: SoftHsm) -> None:
    with open_signer(hsm) as signer:
        text = repr(signer)
        assert MAIN in text
        assert "rsa2048" in text
        assert MAIN_PIN not in text
    assert "closed" in repr(signer)


def test_sign_rejects_text(hsm: SoftHsm) -> None:
    with open_signer(hsm) as signer, pytest.raises(SigningError) as caught:
        signer.sign("text")  # type: ignore[arg-type]
    assert caught.value.code == "sign.input"
