"""Known secrets, every encoding in which they could leak, and a collector of everything a code path
produced (texts and bytes) to grep for them.

A leak is any of these, anywhere in what was collected:

* text secrets (PIN, password): as given, URL-quoted, JSON-escaped, Base64 and hex of their UTF-8;
* byte secrets (AES key, private key DER): the raw bytes, their ``repr`` body, hex (both cases),
  Base64 (standard and URL-safe) at the three byte alignments (a secret inside a longer blob is
  encoded differently depending on its offset), the same URL-quoted (form bodies), and PEM body lines;
* private numbers (RSA d, p, q, dP, dQ, qInv; the SM2 scalar): decimal and hex, whole and as a
  30-digit run from the middle (a truncated print).
"""

from __future__ import annotations

import base64
import json
import logging
import traceback
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import attrs
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from cbec_declare.errors import CbecError


def _b64_cores(data: bytes) -> set[str]:
    """Base64 runs that appear whenever ``data`` is encoded inside a longer blob, at any alignment."""
    out: set[str] = set()
    for pad in range(3):
        for encoder in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encoder(b"\x00" * pad + data).decode("ascii")
            core = encoded[4 if pad else 0 : len(encoded) - 4]
            if len(core) >= 12:
                out.add(core)
    return out


def _windows(text: str, size: int = 24, step: int = 8) -> set[str]:
    """Every ``size``-character run starting at a multiple of ``step``: any leaked substring of at least
    ``size + step - 1`` characters contains one of them (a truncated print is still found)."""
    if len(text) <= size:
        return {text}
    return {text[i : i + size] for i in range(0, len(text) - size + 1, step)}


def _digits(value: int) -> set[str]:
    out: set[str] = set()
    for text in (str(value), format(value, "x"), format(value, "X")):
        out |= {text} | _windows(text)
    return out


@attrs.define
class Needle:
    """One secret and the forms it is searched for in."""

    name: str
    texts: set[str]
    blobs: set[bytes]


def text_secret(name: str, value: str) -> Needle:
    raw = value.encode("utf-8")
    texts = {
        value,
        quote(value, safe=""),
        quote(value),
        json.dumps(value)[1:-1],
        raw.hex(),
        base64.b64encode(raw).decode("ascii").rstrip("="),
    }
    return Needle(name, texts, {raw})


def bytes_secret(name: str, value: bytes) -> Needle:
    cores = _b64_cores(value)
    texts = {value.hex(), value.hex().upper(), repr(value)[2:-1]} | cores | {quote(c, safe="") for c in cores}
    return Needle(name, texts, {value} | {t.encode("ascii") for t in texts if t.isascii()})


def rsa_key_secrets(name: str, key: rsa.RSAPrivateKey) -> list[Needle]:
    """The key's PKCS#8 and PKCS#1 DER (whole, and their PEM lines that carry private bytes), and its
    private numbers in every form, whole or in part."""
    needles = []
    numbers = key.private_numbers()
    public_der = [
        key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1),
    ]
    public = {
        base64.b64encode(b"\x00" * pad + der).decode("ascii")[4 if pad else 0 :]
        for der in public_der
        for pad in range(3)
    }
    for label, fmt in (
        ("pkcs8", serialization.PrivateFormat.PKCS8),
        ("pkcs1", serialization.PrivateFormat.TraditionalOpenSSL),
    ):
        der = key.private_bytes(serialization.Encoding.DER, fmt, serialization.NoEncryption())
        pem = key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())
        needle = bytes_secret(f"{name} {label} DER", der)
        lines = [line.decode() for line in pem.splitlines() if line and not line.startswith(b"-----")]
        # PEM lines that only carry the modulus are public (the certificate holds them too)
        needle.texts |= {
            line for line in lines if len(line) >= 40 and not any(line in core for core in public)
        }
        needles.append(needle)
    for label, value in (
        ("d", numbers.d),
        ("p", numbers.p),
        ("q", numbers.q),
        ("dmp1", numbers.dmp1),
        ("dmq1", numbers.dmq1),
        ("iqmp", numbers.iqmp),
    ):
        raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
        secret = bytes_secret(f"{name} {label}", raw)
        parts = {window for core in _b64_cores(raw) for window in _windows(core)}
        secret.texts |= _digits(value) | parts | {quote(part, safe="") for part in parts}
        secret.blobs |= {t.encode() for t in secret.texts if t.isascii()}
        needles.append(secret)
    return needles


def pem_secrets(name: str, pem: bytes) -> list[Needle]:
    """Any private key PEM (SM2 included): its DER and its body lines."""
    lines = [line for line in pem.splitlines() if line and not line.startswith(b"-----")]
    der = base64.b64decode(b"".join(lines))
    needle = bytes_secret(f"{name} DER", der)
    needle.texts |= {line.decode() for line in lines if len(line) >= 40}
    return [needle]


def scalar_secret(name: str, value: int) -> Needle:
    texts = _digits(value) | {format(value, "064x")}
    return Needle(name, texts, {t.encode() for t in texts} | {value.to_bytes(32, "big")})


# --------------------------------------------------------------------------- collecting


def exception_texts(exc: BaseException | None, seen: set[int] | None = None) -> list[str]:
    """str, repr, args, CbecError context/to_dict, the formatted traceback — and the same for the
    cause and the context, even a context suppressed with ``from None`` (it is still attached)."""
    if exc is None:
        return []
    seen = set() if seen is None else seen
    if id(exc) in seen:
        return []
    seen.add(id(exc))
    texts = [str(exc), repr(exc), repr(exc.args)]
    texts.append("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    texts += [repr(value) for value in vars(exc).values()] if hasattr(exc, "__dict__") else []
    if isinstance(exc, CbecError):
        texts += [exc.message, repr(exc.context), repr(exc.to_dict()), str(exc.field)]
    return texts + exception_texts(exc.__cause__, seen) + exception_texts(exc.__context__, seen)


class Collector:
    """Everything a code path produced: texts (messages, reprs, outputs, logs) and blobs (files)."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []
        self.blobs: list[tuple[str, bytes]] = []
        self._formatter = logging.Formatter("%(levelname)s %(name)s %(message)s")

    def text(self, where: str, *values: Any) -> None:
        for value in values:
            self.texts.append((where, value if isinstance(value, str) else repr(value)))
            if not isinstance(value, str):
                self.texts.append((f"{where} (str)", str(value)))

    def error(self, where: str, exc: BaseException) -> None:
        self.texts += [(f"{where} (exception)", t) for t in exception_texts(exc)]

    def blob(self, where: str, data: bytes) -> None:
        self.blobs.append((where, data))

    def files(self, where: str, paths: Iterable[Path]) -> int:
        count = 0
        for path in paths:
            if path.is_file():
                self.blob(f"{where}: {path.name}", path.read_bytes())
                count += 1
        return count

    def logs(self, records: Iterable[logging.LogRecord]) -> int:
        count = 0
        for record in records:
            count += 1
            where = f"log {record.name}"
            self.texts.append((where, record.getMessage()))
            self.texts.append((where, self._formatter.format(record)))
            self.texts.append((f"{where} (args)", repr(record.args)))
            if record.exc_info and record.exc_info[1] is not None:
                self.error(where, record.exc_info[1])
        return count

    def leaks(self, needles: Iterable[Needle]) -> list[str]:
        found = []
        needles = list(needles)
        for where, text in self.texts:
            for needle in needles:
                for form in needle.texts:
                    if form and form in text:
                        found.append(f"{needle.name} as {form[:24]!r}… in {where}: {text[:200]!r}")
        for place, data in self.blobs:
            for needle in needles:
                for blob in needle.blobs:
                    if blob and blob in data:
                        found.append(f"{needle.name} ({len(blob)} bytes) in {place}")
        return found

    def assert_clean(self, needles: Iterable[Needle]) -> None:
        assert self.texts, "nothing was collected: the audit would be empty"
        leaks = self.leaks(needles)
        assert not leaks, "secrets leaked:\n" + "\n".join(leaks[:20])


# --------------------------------------------------------------------------- the known secrets


def _sm2_scalar(pem: bytes) -> int:
    from asn1crypto import keys as asn1_keys

    lines = [line for line in pem.splitlines() if line and not line.startswith(b"-----")]
    info = asn1_keys.PrivateKeyInfo.load(base64.b64decode(b"".join(lines)))
    scalar: int = info["private_key"].parsed["private_key"].native
    return scalar


@attrs.frozen
class KnownSecrets:
    """The secrets every audited path handles. Test values only, made for this audit."""

    password: str
    card_pin: str
    wrong_pin: str
    aes_key: bytes
    wrong_aes_key: bytes
    signer_key: rsa.RSAPrivateKey
    signer_cert: bytes
    enterprise_key: rsa.RSAPrivateKey
    sm2_pem: bytes
    token_pin: str
    spare_pin: str

    @property
    def aes_base64(self) -> str:
        return base64.b64encode(self.aes_key).decode("ascii")

    def signer_pem(self, password: str | None = None) -> bytes:
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password.encode())
            if password
            else serialization.NoEncryption()
        )
        return self.signer_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    def enterprise_pkcs8_base64(self) -> str:
        der = self.enterprise_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return base64.b64encode(der).decode("ascii")

    def needles(self) -> list[Needle]:
        out = [
            text_secret("key password", self.password),
            text_secret("card PIN", self.card_pin),
            text_secret("wrong PIN", self.wrong_pin),
            text_secret("token PIN", self.token_pin),
            text_secret("spare token PIN", self.spare_pin),
            bytes_secret("AES key", self.aes_key),
            bytes_secret("wrong AES key", self.wrong_aes_key),
        ]
        out += rsa_key_secrets("signer key", self.signer_key)
        out += rsa_key_secrets("enterprise key", self.enterprise_key)
        out += pem_secrets("SM2 key", self.sm2_pem)
        out.append(scalar_secret("SM2 scalar", _sm2_scalar(self.sm2_pem)))
        return out


def _make_known() -> KnownSecrets:
    import hashlib

    from cbec_declare.signing import SoftwareSigner
    from hostile import make_corpus
    from signing._softhsm_fixtures import MAIN_PIN, SPARE_PIN

    signer_key = make_corpus.rsa_key("audit signer")
    return KnownSecrets(
        password="pw-Kx7&Q9口令z#",
        card_pin="card-PIN-5R8w&x",
        wrong_pin="wrong-PIN-3Zq!",
        aes_key=hashlib.sha256(b"audit aes key").digest()[:16],
        wrong_aes_key=hashlib.sha256(b"audit wrong aes key").digest()[:16],
        signer_key=signer_key,
        signer_cert=make_corpus.certificate(signer_key, "audit signer", 0x3001, 2020, 2050),
        enterprise_key=make_corpus.rsa_key("audit enterprise"),
        sm2_pem=SoftwareSigner.generate("sm2-sm3", common_name="audit sm2").private_key_pem(),
        token_pin=MAIN_PIN,
        spare_pin=SPARE_PIN,
    )


_KNOWN: list[KnownSecrets] = []


def known() -> KnownSecrets:
    if not _KNOWN:
        _KNOWN.append(_make_known())
    return _KNOWN[0]


def debug_everywhere(caplog: Any) -> None:
    """DEBUG on the root logger and every library logger; a logger that does not propagate gets the
    capture handler itself."""
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        if name.startswith(("cbec_declare", "websockets", "urllib3", "requests")):
            caplog.set_level(logging.DEBUG, logger=name)
            logger = logging.getLogger(name)
            if not logger.propagate and caplog.handler not in logger.handlers:
                logger.addHandler(caplog.handler)


def probe_capture(caplog: Any) -> None:
    """Prove that a DEBUG record of a library logger reaches the capture (else the audit sees nothing)."""
    logging.getLogger("cbec_declare.audit.probe").debug("audit probe %s", "live")
    assert any(r.getMessage() == "audit probe live" for r in caplog.get_records("setup")), (
        "DEBUG capture is off"
    )
