"""``cbec-declare cert``: what a signing certificate says, in the terms customs uses."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from typing import Any

from ..signing import CertificateInfo, certificate_info, load_signer
from ._common import EXIT_OK, emit_json, read_input
from .sign import about_file, close_signer

__all__ = ["add_parser", "certificate_data", "run"]


def _state(info: CertificateInfo, now: datetime) -> str:
    if now < info.not_before:
        return "not yet valid"
    if now > info.not_after:
        return "EXPIRED"
    return "valid now"


def certificate_data(info: CertificateInfo, now: datetime | None = None) -> dict[str, Any]:
    """The JSON-ready facts of a certificate, with its validity at ``now`` (default: now)."""
    moment = now or datetime.now(timezone.utc)
    return {
        "key_name": info.key_name,
        "serial": str(info.serial),
        "key_algorithm": info.key_algorithm,
        "key_size": info.key_size,
        "subject": info.subject,
        "issuer": info.issuer,
        "not_before": info.not_before.isoformat(),
        "not_after": info.not_after.isoformat(),
        "valid_now": info.is_valid_at(moment),
        "state": _state(info, moment),
        "signature_algorithm": info.signature_algorithm,
        "signature_algorithm_oid": info.signature_algorithm_oid,
        "sha256_fingerprint": info.sha256_fingerprint,
    }


def run(args: argparse.Namespace) -> int:
    if args.signer is not None:
        source = args.signer
        signer = load_signer(args.signer, section=args.section)
        try:
            info = certificate_info(signer.certificate)
        finally:
            close_signer(signer)
    else:
        source = args.file
        raw = read_input(args.file)
        with about_file(args.file):
            info = certificate_info(raw)
    data = certificate_data(info)
    if args.json:
        emit_json({"ok": True, "source": source, **data})
        return EXIT_OK
    rows = [
        ("KeyName", f"{data['key_name']} (serial {data['serial']})"),
        ("key", f"{data['key_algorithm'].upper()}-{data['key_size']}"),
        ("subject", data["subject"]),
        ("issuer", data["issuer"]),
        (
            "validity",
            f"{info.not_before:%Y-%m-%d %H:%M:%S} → {info.not_after:%Y-%m-%d %H:%M:%S} UTC ({data['state']})",
        ),
        ("signed with", f"{data['signature_algorithm']} ({data['signature_algorithm_oid']})"),
        ("SHA-256", data["sha256_fingerprint"]),
    ]
    print(f"{source}:")
    for label, value in rows:
        print(f"  {label:<12}{value}")
    return EXIT_OK


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "cert",
        help="show a certificate's KeyName, key, subject, issuer and validity",
        description="Show what a signing certificate says in the terms customs uses: the serial as "
        "ds:KeyName (lower-case hex), key algorithm and size, subject, issuer, validity (and whether it "
        "is valid now), the CA's signature algorithm and the SHA-256 fingerprint. Works for RSA and SM2 "
        "certificates in PEM, DER or bare base64, or for the certificate of a configured signer. "
        "Exit codes: 0 shown (an expired certificate is still shown, marked EXPIRED); 1 not a readable "
        "certificate, or the signer cannot be opened; 2 usage error.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("file", nargs="?", metavar="FILE", help="certificate file, or - for stdin")
    source.add_argument("--signer", metavar="CONFIG.toml", help="TOML file with a signer section")
    parser.add_argument("--section", default="signer", help="section of --signer to use (default: signer)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run)
