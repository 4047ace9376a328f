"""signer_from_config / load_signer: every signer type from TOML, and every mistake naming its key."""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from cbec_declare.errors import ConfigError, KeyMaterialError
from cbec_declare.signing import CallableSigner, SignatureAlgorithm, Signer, SoftwareSigner
from cbec_declare.signing.config import load_signer, signer_from_config
from cbec_declare.signing.eport import EportClientSigner
from cbec_declare.signing.pkcs11 import MechanismChoice, Pkcs11Signer
from cbec_declare.testing.eport_fake import DEFAULT_CARD_PIN, EportFakeServer
from cbec_declare.testing.softhsm import SoftHsm
from signing._softhsm_fixtures import MAIN, MAIN_PIN, MISSING, rsa_verify, shared_softhsm
from signing.signing_support import rsa_signer

DATA = "<ds:SignedInfo>配置</ds:SignedInfo>".encode()


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def assert_signs(signer: Signer, certificate: bytes, algorithm: SignatureAlgorithm) -> None:
    assert isinstance(signer, Signer)
    assert signer.certificate == certificate
    assert signer.algorithm is algorithm
    rsa_verify(certificate, signer.sign(DATA), DATA, algorithm)


@pytest.fixture(scope="module")
def key_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SoftwareSigner]:
    folder = tmp_path_factory.mktemp("keys")
    signer = rsa_signer(1024)
    (folder / "keys").mkdir()
    (folder / "keys" / "plain.key").write_bytes(signer.private_key_pem())
    (folder / "keys" / "locked.key").write_bytes(signer.private_key_pem(password="s3cret-pass"))
    (folder / "keys" / "ent.crt").write_bytes(signer.certificate_pem())
    key = serialization.load_pem_private_key(signer.private_key_pem(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    bundle = pkcs12.serialize_key_and_certificates(
        b"ent",
        key,
        x509.load_der_x509_certificate(signer.certificate),
        None,
        serialization.BestAvailableEncryption(b"p12-pass"),
    )
    (folder / "keys" / "ent.p12").write_bytes(bundle)
    return folder, signer


# --- software -------------------------------------------------------------------------------------


def test_software_key_and_cert_relative_to_the_file(key_files: tuple[Path, SoftwareSigner]) -> None:
    folder, expected = key_files
    path = write(
        folder,
        "plain.toml",
        """
        [signer]
        type = "software"
        key = "keys/plain.key"
        cert = "keys/ent.crt"
        """,
    )
    signer = load_signer(path)
    assert isinstance(signer, SoftwareSigner)
    assert_signs(signer, expected.certificate, SignatureAlgorithm.RSA_SHA1)


def test_software_encrypted_key_with_password_env_and_sha256(key_files: tuple[Path, SoftwareSigner]) -> None:
    folder, expected = key_files
    config = {
        "type": "software",
        "key": "keys/locked.key",
        "cert": "keys/ent.crt",
        "password_env": "KEY_PASSWORD",
        "algorithm": "rsa-sha256",
    }
    signer = signer_from_config(config, base_dir=folder, environ={"KEY_PASSWORD": "s3cret-pass"})
    assert_signs(signer, expected.certificate, SignatureAlgorithm.RSA_SHA256)
    with pytest.raises(KeyMaterialError):
        signer_from_config(config, base_dir=folder, environ={"KEY_PASSWORD": "wrong"})


def test_software_pkcs12(key_files: tuple[Path, SoftwareSigner]) -> None:
    folder, expected = key_files
    config = {"type": "software", "pkcs12": "keys/ent.p12", "password": "p12-pass", "key_name": "0001"}
    signer = signer_from_config(config, base_dir=folder)
    assert signer.key_name == "0001"
    assert_signs(signer, expected.certificate, SignatureAlgorithm.RSA_SHA1)


def test_relative_paths_default_to_the_working_directory(
    key_files: tuple[Path, SoftwareSigner], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, expected = key_files
    monkeypatch.chdir(folder)
    signer = signer_from_config({"type": "software", "key": "keys/plain.key", "cert": "keys/ent.crt"})
    assert signer.certificate == expected.certificate


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"type": "software"}, "key"),
        ({"type": "software", "key": "keys/plain.key", "pkcs12": "keys/ent.p12"}, "key"),
        (
            {"type": "software", "pkcs12": "keys/ent.p12", "cert": "keys/ent.crt", "password": "p12-pass"},
            "cert",
        ),
        ({"type": "software", "key": "keys/missing.key"}, "key"),
        ({"type": "software", "key": 42}, "key"),
        ({"type": "software", "key": "keys/plain.key", "password": "x", "password_env": "Y"}, "password"),
    ],
)
def test_software_mistakes(
    key_files: tuple[Path, SoftwareSigner], config: dict[str, object], field: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        signer_from_config(config, base_dir=key_files[0])
    assert caught.value.field == field


# --- pkcs11 ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hsm(tmp_path_factory: pytest.TempPathFactory) -> SoftHsm:
    return shared_softhsm(tmp_path_factory)


@pytest.mark.softhsm
@pytest.mark.skipif(MISSING is not None, reason=MISSING or "")
def test_pkcs11_from_toml(hsm: SoftHsm, tmp_path: Path) -> None:
    der = hsm.token(MAIN).key("rsa1024").certificate
    assert der is not None
    (tmp_path / "token.crt").write_bytes(der)
    path = write(
        tmp_path,
        "signer.toml",
        f"""
        [customs.signer]
        type = "pkcs11"
        module = "{hsm.module}"
        token_label = "{MAIN}"
        key_id = "02"
        pin_env = "TOKEN_PIN"
        cert = "token.crt"
        mechanism = "rsa-pkcs"
        algorithm = "rsa-sha256"
        lock_timeout = 5
        """,
    )
    signer = load_signer(path, section="customs.signer", environ={"TOKEN_PIN": MAIN_PIN})
    assert isinstance(signer, Pkcs11Signer)
    with signer:
        assert signer.mechanism is MechanismChoice.RSA_PKCS
        assert_signs(signer, der, SignatureAlgorithm.RSA_SHA256)


def test_pkcs11_needs_the_module_named() -> None:
    with pytest.raises(ConfigError) as caught:
        signer_from_config({"type": "pkcs11", "token_label": "t", "key_label": "k", "pin": "1"})
    assert caught.value.field == "module"


# --- eport ----------------------------------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[EportFakeServer]:
    with EportFakeServer(rsa_signer(1024)) as server:
        yield server


def test_eport_from_toml(fake: EportFakeServer, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "card.toml",
        f"""
        [signer]
        type = "eport"
        url = "{fake.url}"
        pin_env = "CARD_PIN"
        timeout = 5
        connect_timeout = 2.5
        attempts = 2
        retry_delay = 0.05
        """,
    )
    signer = load_signer(path, environ={"CARD_PIN": DEFAULT_CARD_PIN})
    assert isinstance(signer, EportClientSigner)
    with signer:
        assert_signs(signer, rsa_signer(1024).certificate, SignatureAlgorithm.RSA_SHA1)


@pytest.mark.parametrize(
    ("extra", "field"),
    [({"timeout": "10"}, "timeout"), ({"attempts": 1.5}, "attempts"), ({"timeout": True}, "timeout")],
)
def test_eport_mistakes(extra: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        signer_from_config({"type": "eport", **extra})
    assert caught.value.field == field


# --- callable -------------------------------------------------------------------------------------


@pytest.fixture
def sign_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    """An importable module whose ``sign`` uses a key; returns its name and the certificate file."""
    signer = rsa_signer(2048)
    name = f"cbec_test_hsm_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text(
        textwrap.dedent(
            f"""
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import padding

            _KEY = serialization.load_pem_private_key({signer.private_key_pem()!r}, None)
            NOT_CALLABLE = 3

            def sign(data):
                return _KEY.sign(data, padding.PKCS1v15(), hashes.SHA1())
            """
        ),
        encoding="utf-8",
    )
    (tmp_path / "vendor.crt").write_bytes(signer.certificate_pem())
    monkeypatch.syspath_prepend(str(tmp_path))
    return name, tmp_path


def test_callable_from_config(sign_module: tuple[str, Path]) -> None:
    name, folder = sign_module
    config = {"type": "callable", "function": f"{name}:sign", "cert": "vendor.crt", "algorithm": "rsa-sha1"}
    signer = signer_from_config(config, base_dir=folder)
    assert isinstance(signer, CallableSigner)
    assert_signs(signer, rsa_signer(2048).certificate, SignatureAlgorithm.RSA_SHA1)


@pytest.mark.parametrize(
    ("function", "fragment"),
    [
        ("no_colon_here", "package.module:attribute"),
        ("cbec_no_such_module_xyz:sign", "cannot be imported"),
        ("{name}:missing", "no attribute"),
        ("{name}:NOT_CALLABLE", "not callable"),
    ],
)
def test_callable_mistakes(sign_module: tuple[str, Path], function: str, fragment: str) -> None:
    name, folder = sign_module
    config = {
        "type": "callable",
        "function": function.format(name=name),
        "cert": "vendor.crt",
        "algorithm": "rsa-sha1",
    }
    with pytest.raises(ConfigError) as caught:
        signer_from_config(config, base_dir=folder)
    assert caught.value.field == "function"
    assert fragment in caught.value.message


def test_callable_needs_cert_and_algorithm(sign_module: tuple[str, Path]) -> None:
    name, folder = sign_module
    for missing in ("cert", "algorithm"):
        config = {
            "type": "callable",
            "function": f"{name}:sign",
            "cert": "vendor.crt",
            "algorithm": "rsa-sha1",
        }
        del config[missing]
        with pytest.raises(ConfigError) as caught:
            signer_from_config(config, base_dir=folder)
        assert caught.value.field == missing


# --- the table and the file -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "field", "code"),
    [
        ({}, "type", "config.signer.type"),
        ({"type": "hsm"}, "type", "config.signer.type"),
        ({"type": "eport", "pin_evn": "X"}, "pin_evn", "config.signer.unknown"),
        ({"type": "eport", "pin_env": "UNSET_VARIABLE_FOR_TEST"}, "pin_env", "config.secret.env_missing"),
    ],
)
def test_table_mistakes_name_the_key(config: dict[str, object], field: str, code: str) -> None:
    with pytest.raises(ConfigError) as caught:
        signer_from_config(config, environ={})
    assert caught.value.field == field
    assert caught.value.code == code


def test_not_a_table() -> None:
    with pytest.raises(ConfigError):
        signer_from_config(["type", "software"])  # type: ignore[arg-type]


def test_file_mistakes(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as missing:
        load_signer(tmp_path / "absent.toml")
    assert missing.value.code == "config.file"
    broken = write(tmp_path, "broken.toml", "[signer\ntype = 1\n")
    with pytest.raises(ConfigError) as invalid:
        load_signer(broken)
    assert invalid.value.code == "config.toml"
    other = write(tmp_path, "other.toml", '[other]\ntype = "eport"\n')
    with pytest.raises(ConfigError) as no_section:
        load_signer(other)
    assert no_section.value.field == "signer"
    unset = write(tmp_path, "unset.toml", '[signer]\ntype = "eport"\npin_env = "NOT_SET_ANYWHERE"\n')
    with pytest.raises(ConfigError) as prefixed:
        load_signer(unset, environ={})
    assert prefixed.value.field == "signer.pin_env"
    assert "NOT_SET_ANYWHERE" in prefixed.value.message
    assert str(unset) in prefixed.value.message
