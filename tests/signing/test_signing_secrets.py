"""No key material and no password in reprs, str() or exception messages — ever."""

from __future__ import annotations

import base64
import traceback

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from cbec_declare import errors
from cbec_declare.signing import CallableSigner, SoftwareSigner
from cbec_declare.signing.sm2 import Sm2PrivateKey
from signing.signing_support import rsa_signer, sm2_signer

PASSWORD = "Tr0ub4dor&3-口令"


def _secret_fragments(signer: SoftwareSigner) -> list[str]:
    """Texts that would betray the key: PEM body lines, private numbers in hex and decimal."""
    pem = signer.private_key_pem()
    lines = [line.decode() for line in pem.splitlines() if not line.startswith(b"-----")]
    fragments = [line[:24] for line in lines if len(line) >= 24]
    body = base64.b64decode("".join(lines))
    fragments.append(body[-32:].hex())
    try:
        key = serialization.load_pem_private_key(pem, None)
    except Exception:  # SM2: cryptography cannot load it; the PEM body lines suffice
        return fragments
    assert isinstance(key, rsa.RSAPrivateKey)
    numbers = key.private_numbers()
    for value in (numbers.d, numbers.p, numbers.q):
        fragments += [str(value)[:30], format(value, "x")[:30]]
    return fragments


def _all_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)) + repr(exc) + str(exc)


@pytest.mark.parametrize("make", [lambda: rsa_signer(1024), sm2_signer], ids=["rsa", "sm2"])
def test_repr_and_str_hold_no_key_material(make: object) -> None:
    signer: SoftwareSigner = make()  # type: ignore[operator]
    shown = repr(signer) + str(signer)
    assert "SoftwareSigner(" in shown
    assert signer.key_name in shown
    for fragment in _secret_fragments(signer):
        assert fragment not in shown


def test_sm2_private_key_repr_shows_only_public_data() -> None:
    key = Sm2PrivateKey.generate()
    pem = key.private_bytes()
    body = [line.decode() for line in pem.splitlines() if not line.startswith(b"-----")]
    shown = repr(key)
    assert shown.startswith("Sm2PrivateKey(public=04")
    assert all(line[:20] not in shown for line in body)


@pytest.mark.parametrize("make", [lambda: rsa_signer(1024), sm2_signer], ids=["rsa", "sm2"])
def test_wrong_password_error_names_neither_password_nor_key(make: object) -> None:
    signer: SoftwareSigner = make()  # type: ignore[operator]
    encrypted = signer.private_key_pem(PASSWORD)
    for attempt in ("wrong-" + PASSWORD, None):
        with pytest.raises(errors.KeyMaterialError) as caught:
            SoftwareSigner.from_pem(encrypted, signer.certificate, password=attempt)
        text = _all_text(caught.value)
        assert PASSWORD not in text
        assert "wrong-" not in text
        body = encrypted.splitlines()[1].decode()
        assert body[:20] not in text
        assert caught.value.__cause__ is None  # nothing chained that could carry library text
        assert "password" in caught.value.message


def test_unencrypted_key_given_a_password_does_not_echo_it() -> None:
    signer = rsa_signer(1024)
    with pytest.raises(errors.KeyMaterialError) as caught:
        SoftwareSigner.from_pem(signer.private_key_pem(), signer.certificate, password=PASSWORD)
    assert PASSWORD not in _all_text(caught.value)


def test_callable_signer_hides_what_the_function_raised() -> None:
    def remote(data: bytes) -> bytes:
        raise RuntimeError(f"service said: pin={PASSWORD}")

    signer = CallableSigner(remote, certificate=rsa_signer(1024).certificate, algorithm="rsa-sha1")
    with pytest.raises(errors.SigningError) as caught:
        signer.sign(b"x")
    assert PASSWORD not in caught.value.message
    assert PASSWORD not in str(caught.value)
    assert "RuntimeError" in caught.value.message
    assert PASSWORD not in repr(signer)


def test_errors_to_dict_carry_no_secrets() -> None:
    signer = rsa_signer(1024)
    with pytest.raises(errors.KeyMaterialError) as caught:
        SoftwareSigner.from_pem(signer.private_key_pem(PASSWORD), signer.certificate, password="nope")
    assert PASSWORD not in str(caught.value.to_dict())
