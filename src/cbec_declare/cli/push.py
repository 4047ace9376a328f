"""``cbec-declare push decode``: decrypt a captured receipt push and check its digest."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .._json import loads_untrusted
from ..errors import ConfigError, KeyMaterialError
from ..transport import decode_push, load_aes_key, load_rsa_public_key
from ._common import EXIT_INVALID, EXIT_OK, emit_json, read_input
from .sign import about_file, env_secret, write_output

__all__ = ["add_parser", "read_form", "run_decode"]


def read_form(name: str) -> dict[str, str] | bytes:
    """A captured push: the raw urlencoded body (bytes), or a JSON object of its fields."""
    raw = read_input(name)
    text = raw.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith(b"{"):
        return raw.strip()
    try:
        fields = loads_untrusted(text.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{name} starts like JSON but is not: {exc}", code="cli.form", field=name) from None
    if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
        raise ConfigError(
            f"{name}: a JSON form must be an object of text fields", code="cli.form", field=name
        )
    return fields


def _aes_key(args: argparse.Namespace) -> bytes:
    secret = env_secret(args.aes_key_env, "--aes-key-env", "AES key") if args.aes_key_env else args.aes_key
    try:
        return load_aes_key(secret)
    except KeyMaterialError as exc:
        option = "--aes-key-env" if args.aes_key_env else "--aes-key"
        raise ConfigError(exc.message, code="cli.aes_key", field=option) from None


def _platform_key(value: str) -> bytes | str:
    key: bytes | str = (
        Path(value).read_bytes() if "-----BEGIN" not in value and Path(value).is_file() else value
    )
    try:
        load_rsa_public_key(key, what="platform public key")
    except KeyMaterialError as exc:
        raise ConfigError(
            f"neither a readable key file nor a Base64/PEM RSA public key ({exc.message})",
            code="cli.platform_key",
            field="--platform-key",
        ) from None
    return key


def run_decode(args: argparse.Namespace) -> int:
    form = read_form(args.form)
    aes_key = _aes_key(args)
    platform_key = _platform_key(args.platform_key)
    with about_file(args.form):
        decoded = decode_push(form, aes_key=aes_key, platform_public_key=platform_key)
    to_file = args.output is not None and args.output != "-"
    if to_file:
        write_output(decoded.plaintext, args.output)
    if args.json:
        out: dict[str, Any] = {
            "ok": decoded.digest_valid,
            "msg_type": decoded.msg_type,
            "digest_valid": decoded.digest_valid,
            "digest_error": decoded.digest_error,
            "push_id": decoded.push_id,
            "bytes": len(decoded.plaintext),
        }
        if to_file:
            out["output"] = args.output
        else:
            out["plaintext"] = decoded.text
        emit_json(out)
    else:
        verdict = "verified" if decoded.digest_valid else f"DOES NOT VERIFY: {decoded.digest_error}"
        print(f"msg_type  {decoded.msg_type}")
        print(f"digest    {verdict}")
        print(f"push id   {decoded.push_id}")
        if to_file:
            print(f"plaintext {len(decoded.plaintext)} bytes written to {args.output}")
        else:
            print(f"plaintext {len(decoded.plaintext)} bytes:")
            print(decoded.text)
    sys.stdout.flush()
    return EXIT_OK if decoded.digest_valid else EXIT_INVALID


def add_parser(sub: Any) -> None:
    push = sub.add_parser(
        "push",
        help="decode a captured receipt push",
        description="Receipt pushes from the platform (§2.1). "
        "Exit codes: 0 ok; 1 invalid input; 2 usage error.",
    )
    commands = push.add_subparsers(dest="push_command", metavar="{decode}", required=True)
    parser = commands.add_parser(
        "decode",
        help="decrypt a captured push and check its data_digest",
        description="Decrypt a captured receipt push (form fields content, msg_type, data_digest) with the "
        "agreed AES key and check data_digest (SHA1withRSA over the plaintext) with the platform's public "
        "key; print msg_type, whether the digest verifies, and the plaintext (or write it to -o). FILE is "
        "the raw form body as captured (urlencoded) or a JSON object of the fields. Give the AES key by "
        "environment variable (--aes-key-env) rather than on the command line, where other users can see "
        "it; it is never printed. "
        "Exit codes: 0 decrypted and the digest verifies; 1 it does not decrypt or the digest does not "
        "verify; 2 usage error.",
    )
    parser.add_argument("--form", required=True, metavar="FILE", help="the captured push, or - for stdin")
    aes = parser.add_mutually_exclusive_group(required=True)
    aes.add_argument("--aes-key", metavar="B64", help="the AES key, Base64")
    aes.add_argument("--aes-key-env", metavar="VAR", help="environment variable holding the AES key (Base64)")
    parser.add_argument(
        "--platform-key",
        required=True,
        metavar="PEM_FILE|B64",
        help="the platform's RSA public key: a PEM/DER file, or Base64 SPKI",
    )
    parser.add_argument("-o", "--output", metavar="OUT", help="write the plaintext to this file")
    parser.add_argument(
        "--json", action="store_true", help="print JSON (with the plaintext when there is no -o)"
    )
    parser.set_defaults(handler=run_decode)
