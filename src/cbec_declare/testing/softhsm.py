"""Throw-away SoftHSM2 tokens with RSA keys and certificates, for tests and demos.

::

    spec = TokenSpec(label="customs", pin="123456", keys=(KeySpec(label="rsa2048"),))
    hsm = create_softhsm(tmp_path, [spec])
    signer = Pkcs11Signer(hsm.module, token_label="customs", key_label="rsa2048", pin="123456")

:func:`create_softhsm` writes ``softhsm2.conf`` and a token folder into ``folder``, sets
``SOFTHSM2_CONF`` for this process (child processes such as ``pkcs11-tool`` need :attr:`SoftHsm.env`),
initialises each token with ``softhsm2-util``, generates its key pairs on the token (``store=True``)
and gives each key a certificate: the token key's public key, signed by a throw-away software CA,
stored on the token as a CKO_CERTIFICATE with the key's label and id.

SoftHSM2 reads its configuration and token list once, at ``C_Initialize``, and python-pkcs11
initialises a module once per process. So a process has **one** installation: the first call
makes it in its ``folder``; later calls (other test modules, other fixtures) add their tokens to it
and re-initialise the module, after which signers already open log in again on their next
signature (:func:`~cbec_declare.signing.pkcs11.reinitialize_pkcs11_library`). Token labels must
be unique within a process. Creating all tokens in one session-scoped fixture is cheapest.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Literal

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from pkcs11 import Attribute, KeyType
from pkcs11 import exceptions as p11e
from pkcs11.util.ec import encode_named_curve_parameters
from pkcs11.util.x509 import decode_x509_certificate

from ..errors import ConfigError, SignerUnavailable
from ..signing.base import key_name_from_serial
from ..signing.pkcs11 import load_pkcs11_library, pkcs11_lock, reinitialize_pkcs11_library

__all__ = [
    "SOFTHSM_MODULE_CANDIDATES",
    "KeySpec",
    "SoftHsm",
    "SoftHsmToken",
    "TokenKey",
    "TokenSpec",
    "create_softhsm",
    "find_softhsm_module",
    "softhsm_missing_reason",
]

#: Where distributions install the SoftHSM2 module (``SOFTHSM2_MODULE`` overrides).
SOFTHSM_MODULE_CANDIDATES: Final = (
    "/usr/lib/softhsm/libsofthsm2.so",  # Debian, Ubuntu
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib64/pkcs11/libsofthsm2.so",  # Fedora, RHEL
    "/usr/local/lib/softhsm/libsofthsm2.so",  # source builds, FreeBSD
    "/opt/homebrew/lib/softhsm/libsofthsm2.so",  # macOS Homebrew
)
_UTIL_TIMEOUT: Final = 60.0
_REASSIGNED: Final = re.compile(r"reassigned to slot (\d+)")


def find_softhsm_module() -> str | None:
    """Path of ``libsofthsm2.so``: ``$SOFTHSM2_MODULE`` or the first candidate that exists."""
    override = os.environ.get("SOFTHSM2_MODULE")
    for path in ((override,) if override else ()) + SOFTHSM_MODULE_CANDIDATES:
        if os.path.isfile(path):
            return path
    return None


def softhsm_missing_reason() -> str | None:
    """Why SoftHSM2 tokens cannot be made here (for ``pytest.skip``), or ``None`` if they can."""
    if find_softhsm_module() is None:
        return "libsofthsm2.so not found (apt-get install softhsm2, or set SOFTHSM2_MODULE)"
    if shutil.which("softhsm2-util") is None:
        return "softhsm2-util not found (apt-get install softhsm2)"
    return None


@attrs.frozen(kw_only=True)
class KeySpec:
    """A key pair to generate on a token. ``key_type`` ``"ec"`` (P-256) exists to test refusals."""

    label: str
    key_id: bytes = b"\x01"
    key_type: Literal["rsa", "ec"] = "rsa"
    bits: int = 2048
    with_certificate: bool = True


@attrs.frozen(kw_only=True)
class TokenSpec:
    """A token to initialise: its label, user PIN, SO PIN and keys."""

    label: str
    pin: str = attrs.field(repr=False)
    so_pin: str = attrs.field(default="87654321", repr=False)
    keys: tuple[KeySpec, ...] = ()


@attrs.frozen(kw_only=True)
class TokenKey:
    """A key made on a token; ``certificate`` is DER (``None`` if none was stored)."""

    label: str
    key_id: bytes
    key_type: str
    bits: int
    certificate: bytes | None = attrs.field(repr=False)

    @property
    def key_name(self) -> str:
        """The certificate serial as ``ds:KeyName`` carries it."""
        if self.certificate is None:
            raise ConfigError(f"key {self.label!r} has no certificate", field="certificate")
        return key_name_from_serial(x509.load_der_x509_certificate(self.certificate).serial_number)


@attrs.frozen(kw_only=True)
class SoftHsmToken:
    """An initialised token: what a :class:`~cbec_declare.signing.pkcs11.Pkcs11Signer` needs."""

    module: str
    label: str
    pin: str = attrs.field(repr=False)
    so_pin: str = attrs.field(repr=False)
    keys: tuple[TokenKey, ...]

    def key(self, label: str) -> TokenKey:
        for key in self.keys:
            if key.label == label:
                return key
        raise ConfigError(f"token {self.label!r} has no key {label!r}", field="label")


@attrs.frozen(kw_only=True)
class SoftHsm:
    """A SoftHSM2 installation in a folder: its configuration, module and tokens."""

    folder: Path
    conf_path: Path
    module: str
    ca_certificate: bytes = attrs.field(repr=False)
    tokens: tuple[SoftHsmToken, ...]

    @property
    def env(self) -> dict[str, str]:
        """Environment for child processes (``pkcs11-tool``, ``openssl`` via p11-kit)."""
        return {**os.environ, "SOFTHSM2_CONF": str(self.conf_path)}

    def token(self, label: str) -> SoftHsmToken:
        for token in self.tokens:
            if token.label == label:
                return token
        raise ConfigError(f"no token {label!r} in {self.folder}", field="label")


@attrs.define
class _Installation:
    folder: Path
    conf: Path
    ca_key: rsa.RSAPrivateKey
    ca_cert: x509.Certificate
    labels: set[str]


# SoftHSM2 reads one configuration per process (at C_Initialize): one installation per module.
_INSTALLATIONS: dict[str, _Installation] = {}


def create_softhsm(folder: Path, tokens: Sequence[TokenSpec], *, module: str | None = None) -> SoftHsm:
    """Create SoftHSM2 tokens with keys and certificates (see the module docstring).

    The first call in a process makes the installation in ``folder``; later calls add their tokens
    to that installation (``folder`` is then unused) and re-initialise the module. Raises
    :class:`~cbec_declare.errors.SignerUnavailable` when SoftHSM2 is not installed, and
    :class:`~cbec_declare.errors.ConfigError` for a folder already holding tokens or a token label
    that is given twice or already exists.
    """
    module = module or find_softhsm_module()
    util = shutil.which("softhsm2-util")
    if module is None or util is None:
        raise SignerUnavailable(
            softhsm_missing_reason() or "SoftHSM2 missing", code="testing.softhsm.missing"
        )
    labels = [spec.label for spec in tokens]
    if not labels or len(set(labels)) != len(labels):
        raise ConfigError("give at least one token, with distinct labels", field="tokens")
    with pkcs11_lock(module):
        key = os.path.realpath(module)
        setup = _INSTALLATIONS.get(key) or _new_installation(Path(folder).resolve())
        taken = setup.labels.intersection(labels)
        if taken:
            raise ConfigError(f"token label(s) {sorted(taken)} already exist in this process", field="tokens")
        env = {**os.environ, "SOFTHSM2_CONF": str(setup.conf)}
        slots = {spec.label: _init_token(util, spec, env) for spec in tokens}
        setup.labels.update(labels)
        _INSTALLATIONS[key] = setup
        os.environ["SOFTHSM2_CONF"] = str(setup.conf)  # SoftHSM2 reads it at C_Initialize
        lib = load_pkcs11_library(module)
        if not _visible(lib, slots):  # initialised before these tokens existed: look again
            reinitialize_pkcs11_library(module)
            lib = load_pkcs11_library(module)
            if not _visible(lib, slots):
                raise SignerUnavailable(
                    "the new tokens are not visible after re-initialising the module",
                    code="testing.softhsm.invisible",
                )
        made = tuple(_fill_token(lib, spec, module, setup.ca_key, setup.ca_cert) for spec in tokens)
    return SoftHsm(
        folder=setup.folder,
        conf_path=setup.conf,
        module=module,
        ca_certificate=setup.ca_cert.public_bytes(serialization.Encoding.DER),
        tokens=made,
    )


def _new_installation(folder: Path) -> _Installation:
    token_dir = folder / "tokens"
    if token_dir.exists() and any(token_dir.iterdir()):
        raise ConfigError(f"{token_dir} already holds tokens; use a fresh folder", field="folder")
    token_dir.mkdir(parents=True, exist_ok=True)
    conf = folder / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {token_dir}\nobjectstore.backend = file\n"
        "log.level = ERROR\nslots.removable = false\n",
        encoding="utf-8",
    )
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_cert = _certificate(_name("cbec-declare throw-away test CA"), ca_key.public_key(), ca_key, ca=True)
    return _Installation(folder=folder, conf=conf, ca_key=ca_key, ca_cert=ca_cert, labels=set())


def _visible(lib: Any, slots: Mapping[str, int | None]) -> bool:
    # Slot ids come from each new token's random serial, so they tell these tokens from same-labelled
    # tokens of an earlier installation that a module initialised before would still show.
    seen = {(slot.slot_id, slot.get_token().label) for slot in lib.get_slots(token_present=True)}
    labels = {label for _, label in seen}
    return all(
        (slot, label) in seen if slot is not None else label in labels for label, slot in slots.items()
    )


def _init_token(util: str, spec: TokenSpec, env: dict[str, str]) -> int | None:
    command = [
        util,
        "--init-token",
        "--free",
        "--label",
        spec.label,
        "--so-pin",
        spec.so_pin,
        "--pin",
        spec.pin,
    ]
    try:
        # The command is softhsm2-util, found with shutil.which, and arguments from the caller.
        done = subprocess.run(  # noqa: S603
            command, env=env, capture_output=True, text=True, timeout=_UTIL_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise SignerUnavailable(f"softhsm2-util did not finish within {_UTIL_TIMEOUT} s") from None
    if done.returncode != 0:  # the command line holds the PINs: report only its output
        raise SignerUnavailable(
            f"softhsm2-util --init-token for {spec.label!r} failed: "
            f"{done.stderr.strip() or done.stdout.strip()}",
            code="testing.softhsm.init",
        )
    slot = _REASSIGNED.search(done.stdout)
    return int(slot.group(1)) if slot else None


def _fill_token(
    lib: Any, spec: TokenSpec, module: str, ca_key: rsa.RSAPrivateKey, ca_cert: x509.Certificate
) -> SoftHsmToken:
    token = lib.get_token(token_label=spec.label)
    keys = []
    # A fresh token: nothing else in the process is logged in to it, so this login can end here.
    with token.open(rw=True, user_pin=spec.pin) as session:
        for key in spec.keys:
            public_key = _generate(session, key)
            der = None
            if key.with_certificate:
                cert = _certificate(_name(key.label), public_key, ca_key, issuer=ca_cert)
                der = cert.public_bytes(serialization.Encoding.DER)
                attributes = decode_x509_certificate(der)
                attributes.update(
                    {Attribute.TOKEN: True, Attribute.LABEL: key.label, Attribute.ID: key.key_id}
                )
                session.create_object(attributes)
            keys.append(
                TokenKey(
                    label=key.label, key_id=key.key_id, key_type=key.key_type, bits=key.bits, certificate=der
                )
            )
    return SoftHsmToken(module=module, label=spec.label, pin=spec.pin, so_pin=spec.so_pin, keys=tuple(keys))


def _generate(session: Any, key: KeySpec) -> rsa.RSAPublicKey | ec.EllipticCurvePublicKey:
    template = {"store": True, "label": key.label, "id": key.key_id}
    try:
        if key.key_type == "rsa":
            public, _ = session.generate_keypair(KeyType.RSA, key.bits, **template)
            numbers = rsa.RSAPublicNumbers(
                int.from_bytes(public[Attribute.PUBLIC_EXPONENT], "big"),
                int.from_bytes(public[Attribute.MODULUS], "big"),
            )
            return numbers.public_key()
        params = session.create_domain_parameters(
            KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")}, local=True
        )
        public, _ = params.generate_keypair(**template)
        from asn1crypto.core import OctetString

        point = OctetString.load(public[Attribute.EC_POINT]).native
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except p11e.PKCS11Error as exc:
        raise SignerUnavailable(
            f"generating key {key.label!r} on the token failed: {type(exc).__name__} {exc}",
            code="testing.softhsm.keygen",
        ) from None


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cbec-declare test"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _certificate(
    subject: x509.Name,
    public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey,
    ca_key: rsa.RSAPrivateKey,
    *,
    issuer: x509.Certificate | None = None,
    ca: bool = False,
) -> x509.Certificate:
    now = dt.datetime.now(dt.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer is not None else subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    return builder.sign(ca_key, hashes.SHA256())
