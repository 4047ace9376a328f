"""Sign and verify speed of the customs XMLDSig profile, as ratios against baselines measured in the same run.

Run: ``python benchmarks/sign_verify.py [--rounds 7] [--ops 200]``. Needs the test extras (signxml,
tongsuopy) and the reference samples (``../shared``, or ``CBEC_SHARED``).

The message is a realistic CEB311: the official 202205 sample's first order with 10 goods items,
built by :func:`cbec_declare.messages.build`. For each key (RSA-2048, RSA-1024, SM2) it times

* ``raw sign``: the bare private-key operation (cryptography / tongsuopy) over the same SignedInfo
  bytes — the floor no XMLDSig code can beat;
* our ``sign_canonical`` (fast path, builder output), ``sign`` (parse + C14N) and ``verify``;
* the same through signxml (RSA only; signxml has no SM2);
* the hot path build + validate + sign + wrap (RSA-2048 only) against the raw RSA-2048 sign, and
  its parts.

Each case runs ``ops`` operations per round, rounds interleaved across cases; the table shows the
median per-operation time and the ratios. Nothing is asserted: numbers go to stdout.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

from cbec_declare.envelope import wrap
from cbec_declare.messages import build, parse
from cbec_declare.signing import SoftwareSigner, sign, sign_canonical, verify
from cbec_declare.signing.certs import public_key
from cbec_declare.validation import validate


def _shared() -> Path:
    for candidate in (
        os.environ.get("CBEC_SHARED"),
        Path(__file__).resolve().parents[2] / "shared",
        "/work/shared",
    ):
        if candidate and (Path(candidate) / "reference").is_dir():
            return Path(candidate)
    sys.exit("reference material not found: set CBEC_SHARED")


def realistic_ceb311() -> Any:
    """The official sample's first order with 10 items and consistent totals."""
    sample = parse((_shared() / "reference/samples/ceb-2022-05/CEB311Message.xml").read_bytes())
    order = sample.orders[0]
    template = order.items[0]
    items = tuple(
        attrs.evolve(template, gnum=n, qty=Decimal(n), total_price=template.price * n) for n in range(1, 11)
    )
    goods = sum((item.total_price for item in items), Decimal(0))
    head = order.head
    paid = goods + head.freight - head.discount + head.tax_total
    head = attrs.evolve(head, goods_value=goods, actual_paid=paid)
    return attrs.evolve(sample, orders=(attrs.evolve(order, head=head, items=items),))


def measure(cases: dict[str, Callable[[], object]], rounds: int, ops: int) -> dict[str, float]:
    """Median µs per operation; rounds interleave the cases so drift hits them alike."""
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for case in cases.values():  # warm-up: caches, lazy imports, XSD loading
        for _ in range(3):
            case()
    for _ in range(rounds):
        for name, case in cases.items():
            start = time.perf_counter()
            for _ in range(ops):
                case()
            samples[name].append((time.perf_counter() - start) / ops * 1e6)
    return {name: statistics.median(values) for name, values in samples.items()}


class _SignXml:
    """signxml with SHA-1 enabled, the way customs needs it (toolchain.md §3)."""

    def __init__(self) -> None:
        import signxml
        from signxml.algorithms import CanonicalizationMethod

        class CustomsSigner(signxml.XMLSigner):  # type: ignore[misc]
            def check_deprecated_methods(self) -> None:
                pass

        self.signxml = signxml
        self.signer = CustomsSigner(
            method=signxml.methods.enveloped,
            signature_algorithm=signxml.SignatureMethod.RSA_SHA1,
            digest_algorithm=signxml.DigestAlgorithm.SHA1,
            c14n_algorithm=CanonicalizationMethod.CANONICAL_XML_1_0,
        )
        self.config = signxml.SignatureConfiguration(
            signature_methods=frozenset({signxml.SignatureMethod.RSA_SHA1}),
            digest_algorithms=frozenset({signxml.DigestAlgorithm.SHA1}),
            require_x509=True,
            expect_references=1,
        )

    def sign(self, unsigned: bytes, key: Any, cert_pem: str, key_name: str) -> bytes:
        root = self.signer.sign(
            etree.fromstring(unsigned),
            key=key,
            cert=cert_pem,
            key_name=key_name,
            exclude_c14n_transform_element=True,
        )
        return bytes(etree.tostring(root))

    def verify(self, signed: bytes, cert_pem: str) -> None:
        self.signxml.XMLVerifier().verify(signed, x509_cert=cert_pem, expect_config=self.config)


def cases_for(
    label: str, signer: SoftwareSigner, message: Any, backend: _SignXml
) -> dict[str, Callable[[], object]]:
    """The timed operations for one key; closures bind this function's locals."""
    unsigned = build(message)
    signed = sign_canonical(unsigned, signer)
    signed_info = verify(signed).signed_info
    signature = signer.sign(signed_info)
    pem = signer.private_key_pem()
    cases: dict[str, Callable[[], object]] = {}
    if signer.algorithm.is_sm2:
        from tongsuopy.crypto import hashes as t_hashes
        from tongsuopy.crypto import serialization as t_serialization
        from tongsuopy.crypto.asymciphers import ec as t_ec

        sm2_private = t_serialization.load_pem_private_key(pem, None)
        sm2_public = public_key(signer.certificate)
        cases["raw sign (tongsuopy)"] = lambda: sm2_private.sign(signed_info, t_ec.ECDSA(t_hashes.SM3()))
        cases["raw verify (tongsuopy)"] = lambda: sm2_public.verify(signature, signed_info)
    else:
        rsa_private = serialization.load_pem_private_key(pem, None)
        rsa_public = rsa_private.public_key()
        cert_pem = signer.certificate_pem().decode()
        cases["raw sign (cryptography)"] = lambda: rsa_private.sign(
            signed_info, padding.PKCS1v15(), hashes.SHA1()
        )
        cases["raw verify (cryptography)"] = lambda: rsa_public.verify(
            signature, signed_info, padding.PKCS1v15(), hashes.SHA1()
        )
        cases["signxml sign"] = lambda: backend.sign(unsigned, rsa_private, cert_pem, signer.key_name)
        cases["signxml verify"] = lambda: backend.verify(signed, cert_pem)
    cases["sign_canonical (fast path)"] = lambda: sign_canonical(unsigned, signer)
    cases["sign (parse + C14N)"] = lambda: sign(unsigned, signer)
    cases["verify"] = lambda: verify(signed)
    if label == "RSA-2048":

        def hot_path() -> bytes:
            data = build(message)
            validate(data, version="2022-05")
            return wrap(sign_canonical(data, signer), "DXPENT0000530815")

        cases["build+validate+sign+wrap"] = hot_path
        # Its parts, to see where the time goes.
        cases["  build"] = lambda: build(message)
        cases["  validate (bytes)"] = lambda: validate(unsigned, version="2022-05")
        cases["  validate (model)"] = lambda: validate(message, version="2022-05")
        cases["  wrap"] = lambda: wrap(signed, "DXPENT0000530815")
    return cases


def run(rounds: int, ops: int) -> None:
    message = realistic_ceb311()
    backend = _SignXml()
    print(
        f"CEB311 with 10 items: {len(build(message))} bytes unsigned; {rounds} rounds x {ops} ops, medians\n"
    )
    header = f"{'key':<9} {'operation':<26} {'µs/op':>9} {'x raw sign':>11} {'x signxml':>10}"
    print(header)
    print("-" * len(header))
    keys = (("RSA-2048", "rsa-sha1", 2048), ("RSA-1024", "rsa-sha1", 1024), ("SM2", "sm2-sm3", 2048))
    for label, algorithm, bits in keys:
        signer = SoftwareSigner.generate(algorithm, bits=bits)
        times = measure(cases_for(label, signer, message, backend), rounds, ops)
        raw = next(v for k, v in times.items() if k.startswith("raw sign"))
        raw_verify = next(v for k, v in times.items() if k.startswith("raw verify"))
        for name, value in times.items():
            baseline = raw_verify if "verify" in name else raw
            versus = ""
            if not name.startswith(("raw", "signxml", " ")) and "build" not in name:
                other = times.get("signxml verify" if "verify" in name else "signxml sign")
                versus = f"{value / other:>9.2f}x" if other else f"{'n/a':>10}"
            print(f"{label:<9} {name:<26} {value:>9.1f} {value / baseline:>10.2f}x {versus}")
        print()
    print("x raw sign: ratio to the bare private-key operation over the same SignedInfo (verify rows:")
    print("to the bare public-key verification). x signxml: ratio to the same operation through signxml")
    print("(below 1 is faster). SM2 has no signxml column: signxml has no SM2.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--ops", type=int, default=200)
    args = parser.parse_args()
    run(args.rounds, args.ops)


if __name__ == "__main__":
    main()
