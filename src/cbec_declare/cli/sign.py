"""``cbec-declare sign`` and ``cbec-declare verify``: the customs XMLDSig signature on the command line.

Also home of two helpers other single-file commands share (``dxp``, ``push``, ``cert``):
:func:`about_file` names the file in any error raised while it is processed, and
:func:`write_output` writes bytes to ``-o`` or stdout.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import CbecError, ConfigError, KeyMaterialError, VerificationError, XmlError
from ..signing import DEFAULT_PROFILES, PROFILES, SoftwareSigner, load_certificate, load_signer, sign, verify
from ..signing.base import SignatureAlgorithm, Signer
from ..signing.verify import VerifiedSignature
from ._common import EXIT_INVALID, EXIT_OK, emit_json, read_input
from .validate import checked_inputs, file_failure

__all__ = [
    "about_file",
    "add_parser",
    "close_signer",
    "env_secret",
    "load_cert_option",
    "run_sign",
    "run_verify",
    "write_output",
]

_PEM_CERTIFICATE = re.compile(rb"-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE-----.+?-----END[^\n]*", re.DOTALL)


@contextlib.contextmanager
def about_file(name: str) -> Iterator[None]:
    """Name the file in any library error raised inside: ``[code] FILE: field: message``, and
    ``"file"`` in its JSON form."""
    try:
        yield
    except CbecError as exc:
        if "file" not in exc.context:
            exc.field = f"{name}: {exc.field}" if exc.field else name
            exc.context["file"] = name
        raise


def write_output(data: bytes, output: str | None) -> None:
    """Write ``data`` to the file ``output``, or to stdout when it is ``None`` or ``-``."""
    if output is None or output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        Path(output).write_bytes(data)
    except OSError as exc:
        raise ConfigError(f"cannot write {output}: {exc.strerror}", code="cli.output", field=output) from None


def env_secret(variable: str, option: str, what: str) -> str:
    """A secret from the environment variable named by ``option``; errors name the variable only."""
    value = os.environ.get(variable)
    if not value:
        raise ConfigError(
            f"environment variable {variable} (the {what}) is not set or empty",
            code="cli.secret",
            field=option,
            variable=variable,
        )
    return value


def load_cert_option(path: str, option: str) -> list[bytes]:
    """Every certificate in a file given to ``option`` (a PEM bundle may hold several), as DER."""
    raw = read_input(path)
    blocks = _PEM_CERTIFICATE.findall(raw) or [raw]
    try:
        return [load_certificate(block) for block in blocks]
    except KeyMaterialError as exc:
        raise ConfigError(exc.message, code="cli.certificate", field=f"{option} {path}") from None


# -- sign -----------------------------------------------------------------------------------------


def _signer(args: argparse.Namespace) -> Signer:
    if args.signer is not None:
        if args.algorithm or args.password_env or args.cert:
            raise ConfigError(
                "--algorithm, --cert and --password-env go with --key; with --signer, set them in the "
                "config section",
                code="cli.signer",
            )
        return load_signer(args.signer, section=args.section)
    algorithm: str | None = args.algorithm
    if algorithm is None and args.profile is not None:
        algorithm = PROFILES[args.profile].signature_algorithm.value
    password = env_secret(args.password_env, "--password-env", "key password") if args.password_env else None
    for option, path in (("--key", args.key), ("--cert", args.cert)):
        if path is not None and not Path(path).is_file():
            raise ConfigError("no such file", code="cli.file", field=f"{option} {path}")
    with about_file(args.key):
        return SoftwareSigner.from_files(args.key, args.cert, password=password, algorithm=algorithm)


def close_signer(signer: Signer) -> None:
    """Release what a signer holds open (a token session, a card client connection), if anything."""
    close = getattr(signer, "close", None)
    if callable(close):
        close()


def run_sign(args: argparse.Namespace) -> int:
    data = read_input(args.file)
    signer = _signer(args)
    try:
        with about_file(args.file):
            signed = sign(data, signer, profile=args.profile, key_name=args.key_name)
    finally:
        close_signer(signer)
    if args.output is not None and args.output != "-":
        write_output(signed, args.output)
    elif not args.json:
        write_output(signed, None)
    if args.json:
        summary: dict[str, Any] = {
            "ok": True,
            "file": args.file,
            "algorithm": signer.algorithm.value,
            "profile": args.profile or DEFAULT_PROFILES[signer.algorithm].name,
            "key_name": args.key_name or signer.key_name,
            "bytes": len(signed),
        }
        if args.output is not None and args.output != "-":
            summary["output"] = args.output
        else:
            summary["xml_base64"] = base64.b64encode(signed).decode("ascii")
        emit_json(summary)
    return EXIT_OK


# -- verify ---------------------------------------------------------------------------------------


def _certificate_entry(result: VerifiedSignature) -> dict[str, Any]:
    info = result.certificate_info
    return {
        "key_name": result.key_name,
        "key_name_matches_serial": result.key_name_matches_serial,
        "serial": info.key_name,
        "subject": info.subject,
        "issuer": info.issuer,
        "not_before": info.not_before.isoformat(),
        "not_after": info.not_after.isoformat(),
        "key_algorithm": info.key_algorithm,
        "key_size": info.key_size,
        "signature_algorithm": info.signature_algorithm,
    }


def _valid_lines(name: str, result: VerifiedSignature) -> list[str]:
    info = result.certificate_info
    trusted = {
        "keyinfo": "certificate from KeyInfo",
        "pinned": "pinned certificate",
        "chain": "chain to --trust",
    }
    match = "= serial" if result.key_name_matches_serial else f"≠ serial {info.key_name}"
    return [
        f"{name}: valid ({result.profile}, {trusted.get(result.trusted_by, result.trusted_by)})",
        f"  KeyName {result.key_name} ({match}); {info.key_algorithm.upper()}-{info.key_size}, "
        f"certificate signed {info.signature_algorithm}",
        f"  subject {info.subject}",
        f"  valid {info.not_before:%Y-%m-%d %H:%M} → {info.not_after:%Y-%m-%d %H:%M} UTC",
    ]


def run_verify(args: argparse.Namespace) -> int:
    pinned = load_cert_option(args.cert, "--cert")[0] if args.cert else None
    trusted = [der for path in args.trust or () for der in load_cert_option(path, "--trust")] or None
    entries: list[dict[str, Any]] = []
    all_valid = True
    for name, data in checked_inputs(args.files):
        try:
            result = verify(data, trusted=trusted, certificate=pinned, allowed_algorithms=args.allow)
        except (VerificationError, XmlError) as exc:
            all_valid = False
            entry, _ = file_failure(name, exc)
            reason = str(
                exc.context.get("reason", "unreadable-xml" if isinstance(exc, XmlError) else "invalid")
            )
            entry["reason"] = reason
            entries.append(entry)
            if not args.json:
                print(f"{name}: INVALID ({reason}): {exc.message}")
            continue
        entries.append(
            {
                "file": name,
                "ok": True,
                "profile": result.profile,
                "trusted_by": result.trusted_by,
                "certificate": _certificate_entry(result),
            }
        )
        if not args.json:
            print("\n".join(_valid_lines(name, result)))
    if args.json:
        emit_json({"ok": all_valid, "files": entries})
    sys.stdout.flush()
    return EXIT_OK if all_valid else EXIT_INVALID


# -- parsers --------------------------------------------------------------------------------------


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "sign",
        help="sign a CEB message (enveloped XMLDSig, RSA or SM2)",
        description="Sign a CEB message with the customs XMLDSig profile: the input bytes exactly as given, "
        "with an enveloped ds:Signature (SignedInfo, SignatureValue, KeyInfo with KeyName and the "
        "certificate) spliced in before the root's end tag. The key comes from a signer configuration "
        "(--signer: software key, PKCS#11 token, e-port card client …) or from key and certificate "
        "files (--key/--cert; a PKCS#12 or a PEM holding both needs no --cert). The key password is "
        "read from an environment variable, never from the command line. "
        "Exit codes: 0 signed; 1 the document or the key cannot be used; 2 usage error.",
    )
    parser.add_argument("file", metavar="FILE", help="the unsigned message, or - for stdin")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--signer", metavar="CONFIG.toml", help="TOML file with a signer section")
    source.add_argument("--key", metavar="KEY", help="private key file (PEM/DER, PKCS#12)")
    parser.add_argument("--section", default="signer", help="section of --signer to use (default: signer)")
    parser.add_argument("--cert", metavar="CERT", help="certificate file for --key (PEM, DER or base64)")
    parser.add_argument("--password-env", metavar="VAR", help="environment variable holding the key password")
    parser.add_argument(
        "--algorithm",
        choices=[a.value for a in SignatureAlgorithm],
        help="signer algorithm for --key (default: rsa-sha1 for RSA, sm2-sm3 for SM2)",
    )
    parser.add_argument(
        "--profile",
        choices=list(PROFILES),
        help="SignatureMethod/DigestMethod profile (default: the signer algorithm's)",
    )
    parser.add_argument("--key-name", help="ds:KeyName to write (default: the certificate serial in hex)")
    parser.add_argument("-o", "--output", metavar="OUT", help="output file (default: stdout)")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print a JSON summary (with the signed XML as base64 when there is no -o)",
    )
    parser.set_defaults(handler=run_sign)

    parser = sub.add_parser(
        "verify",
        help="verify the customs signature of messages, strictly",
        description="Verify the enveloped customs signature of each file strictly (digest over the document, "
        "SignatureValue over SignedInfo as it stands, certificate validity) and print one line per file: "
        "the signing certificate (KeyName/serial, subject, validity, algorithm) when valid, the reason "
        "when not (digest mismatch, signature mismatch, SignedInfo reformatted after signing, whitespace "
        "around the signature, unsupported or disallowed algorithm, missing signature, untrusted or "
        "expired certificate). By default the certificate in KeyInfo is used; --cert pins it and --trust "
        "requires a chain to a CA. "
        "Exit codes: 0 every signature is valid; 1 at least one is not; 2 usage error.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="signed messages, or - for stdin")
    parser.add_argument("--cert", metavar="CERT", help="the certificate the signature must be made with")
    parser.add_argument(
        "--trust",
        metavar="CA",
        action="append",
        help="CA certificate(s) the signer must chain to (PEM bundle allowed; repeatable)",
    )
    parser.add_argument(
        "--allow",
        metavar="ALG",
        action="append",
        choices=list(PROFILES),
        help=f"accept only these profiles (repeatable; one of {', '.join(PROFILES)})",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON report")
    parser.set_defaults(handler=run_verify)
