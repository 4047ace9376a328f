"""Shared helpers for the transport and sandbox tests (not a conftest: the root conftest owns that name).

Keys are made fresh per call. 512-bit RSA keys, which zjport issues but ``cryptography`` will not
generate, are built here from two random 256-bit primes (Miller-Rabin), the way any RSA key is.
The ``openssl`` command, when installed, serves as an independent implementation to check our AES
and SHA1withRSA bytes against.
"""

from __future__ import annotations

import base64
import random
import shutil
import subprocess
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from cbec_declare.messages import parse
from cbec_declare.models import CEB311Message, CEB621Message, Inventory, Order
from conftest import SAMPLES
from hostile import make_corpus

HANGZHOU = SAMPLES / "hangzhou"
OPENSSL = shutil.which("openssl")


def rsa_key(bits: int) -> rsa.RSAPrivateKey:
    """A fresh RSA key of ``bits`` bits (512 allowed), with e = 65537."""
    if bits >= 1024:
        return rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return make_corpus.rsa_key_from(random.SystemRandom(), bits)


def pkcs8_base64(key: rsa.RSAPrivateKey) -> str:
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return base64.b64encode(der).decode("ascii")


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def openssl_aes_ecb_decrypt(key: bytes, ciphertext: bytes) -> bytes:
    """AES-ECB with PKCS#7 unpadding, done by the openssl command."""
    assert OPENSSL is not None
    bits = len(key) * 8
    done = subprocess.run(
        [OPENSSL, "enc", "-d", f"-aes-{bits}-ecb", "-K", key.hex(), "-nosalt"],
        input=ciphertext,
        capture_output=True,
        check=True,
        timeout=30,
    )
    return done.stdout


def openssl_verify_sha1(public_key_pem: bytes, data: bytes, signature: bytes, tmp: Path) -> bool:
    """SHA1withRSA verification by ``openssl dgst``."""
    assert OPENSSL is not None
    (tmp / "pub.pem").write_bytes(public_key_pem)
    (tmp / "sig.bin").write_bytes(signature)
    done = subprocess.run(
        [OPENSSL, "dgst", "-sha1", "-verify", str(tmp / "pub.pem"), "-signature", str(tmp / "sig.bin")],
        input=data,
        capture_output=True,
        check=False,
        timeout=30,
    )
    return done.returncode == 0 and b"Verified OK" in done.stdout


def openssl_genpkey_512(tmp: Path) -> bytes:
    """A 512-bit key in PEM made by ``openssl genpkey``, as integrators make theirs."""
    assert OPENSSL is not None
    out = tmp / "k512.pem"
    subprocess.run(
        [OPENSSL, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:512", "-out", str(out)],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return out.read_bytes()


def ceb_order() -> Order:
    """The first order of the official 202205 CEB311 sample."""
    message = parse((SAMPLES / "ceb-2022-05" / "CEB311Message.xml").read_bytes(), expect=CEB311Message)
    return message.orders[0]


def ceb_inventory() -> Inventory:
    message = parse((SAMPLES / "ceb-2022-05" / "CEB621Message.xml").read_bytes(), expect=CEB621Message)
    return message.inventories[0]
