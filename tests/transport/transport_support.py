"""Shared helpers for the transport and sandbox tests (not a conftest: the root conftest owns that name).

Keys are made fresh per call. 512-bit RSA keys, which zjport issues but ``cryptography`` will not
generate, are built here from two random 256-bit primes (Miller-Rabin), the way any RSA key is.
The ``openssl`` command, when installed, serves as an independent implementation to check our AES
and SHA1withRSA bytes against.
"""

from __future__ import annotations

import base64
import secrets
import shutil
import subprocess
from math import gcd
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from cbec_declare.messages import parse
from cbec_declare.models import CEB311Message, CEB621Message, Inventory, Order
from conftest import SAMPLES

HANGZHOU = SAMPLES / "hangzhou"
OPENSSL = shutil.which("openssl")

_SMALL_PRIMES = [p for p in range(3, 1000) if all(p % d for d in range(2, int(p**0.5) + 1))]


def _probably_prime(n: int, rounds: int = 40) -> bool:
    if n < 2:
        return False
    for p in _SMALL_PRIMES:
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for _ in range(rounds):
        a = secrets.randbelow(n - 3) + 2
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(bits: int) -> int:
    while True:
        # top two bits set so that the product has exactly 2 * bits bits
        candidate = secrets.randbits(bits) | (0b11 << (bits - 2)) | 1
        if _probably_prime(candidate):
            return candidate


def rsa_key(bits: int) -> rsa.RSAPrivateKey:
    """A fresh RSA key of ``bits`` bits (512 allowed), with e = 65537."""
    if bits >= 1024:
        return rsa.generate_private_key(public_exponent=65537, key_size=bits)
    e = 65537
    while True:
        p, q = _prime(bits // 2), _prime(bits // 2)
        if p == q or gcd(e, (p - 1) * (q - 1)) != 1:
            continue
        n = p * q
        assert n.bit_length() == bits
        d = pow(e, -1, (p - 1) * (q - 1))
        numbers = rsa.RSAPrivateNumbers(
            p=p,
            q=q,
            d=d,
            dmp1=d % (p - 1),
            dmq1=d % (q - 1),
            iqmp=pow(q, -1, p),
            public_numbers=rsa.RSAPublicNumbers(e, n),
        )
        return numbers.private_key()


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
