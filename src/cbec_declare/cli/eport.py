"""``cbec-declare eport-fake``: run the local fake of the 中国电子口岸 signing client until stopped."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..signing import SoftwareSigner
from ..testing.eport_fake import DEFAULT_CARD_PIN, EportFakeServer
from ._common import EXIT_OK
from .serve import stop_signals, wait_for
from .sign import about_file, env_secret

__all__ = ["add_parser", "run"]

_GENERATE = {"rsa": "rsa-sha1", "sm2": "sm2-sm3"}


def _signer(args: argparse.Namespace) -> SoftwareSigner:
    if args.generate is not None:
        if args.cert or args.password_env:
            raise ConfigError("--cert and --password-env go with --key, not --generate", code="cli.signer")
        return SoftwareSigner.generate(_GENERATE[args.generate], common_name="cbec-declare eport-fake card")
    if args.cert is None:
        raise ConfigError("--key needs --cert (the card's certificate)", code="cli.signer", field="--cert")
    for option, path in (("--key", args.key), ("--cert", args.cert)):
        if not Path(path).is_file():
            raise ConfigError("no such file", code="cli.file", field=f"{option} {path}")
    password = env_secret(args.password_env, "--password-env", "key password") if args.password_env else None
    with about_file(args.key):
        return SoftwareSigner.from_files(args.key, args.cert, password=password)


def run(args: argparse.Namespace) -> int:
    signer = _signer(args)
    pin = env_secret(args.pin_env, "--pin-env", "card PIN") if args.pin_env else DEFAULT_CARD_PIN
    fake = EportFakeServer(signer, pin=pin, host=args.host, port=args.port)
    with stop_signals() as stop:
        fake.start()  # a port in use is a ConfigError naming the port
        try:
            info = signer.certificate_info
            if args.json:
                record = {
                    "url": fake.url,
                    "key_name": signer.key_name,
                    "algorithm": signer.algorithm.value,
                    "subject": info.subject,
                    "pin_env": args.pin_env,
                }
                print(json.dumps(record, ensure_ascii=False), flush=True)
            else:
                source = f"from ${args.pin_env}" if args.pin_env else "the cards' factory default"
                print(f"e-port fake listening on {fake.url}", flush=True)
                print(f"  KeyName {signer.key_name} ({signer.algorithm.value}, {info.subject})", flush=True)
                print(f"  card PIN: {source}; stop with Ctrl-C or SIGTERM", flush=True)
            wait_for(stop)
        finally:
            fake.stop()
    print("e-port fake stopped", file=sys.stderr, flush=True)
    return EXIT_OK


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "eport-fake",
        help="run a local fake of the 中国电子口岸 card signing client",
        description="Run a local stand-in for the 中国电子口岸 signing client's WebSocket service "
        "(ws://127.0.0.1:61232 by default), signing with a key and certificate you give (--key/--cert) "
        "or a throw-away one (--generate rsa|sm2) as an RSA or SM2 card would, so EportClientSigner and "
        "the e-port signer configuration can be tried without a card. Prints the URL and the "
        "certificate's KeyName, then runs until Ctrl-C or SIGTERM and stops cleanly. The card PIN is "
        "read from --pin-env; without it the fake accepts the cards' factory default PIN. "
        "Exit codes: 0 stopped by a signal; 1 the key or certificate cannot be used; 2 usage error "
        "(port in use, missing file or environment variable).",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--key", metavar="KEY", help="private key file (PEM/DER) playing the card")
    source.add_argument("--generate", choices=sorted(_GENERATE), help="use a fresh throw-away RSA or SM2 key")
    parser.add_argument("--cert", metavar="CERT", help="the certificate of --key")
    parser.add_argument("--password-env", metavar="VAR", help="environment variable holding the key password")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=61232, help="port (default: 61232; 0 = any free port)")
    parser.add_argument(
        "--pin-env", metavar="VAR", help="environment variable holding the card PIN to expect"
    )
    parser.add_argument("--json", action="store_true", help="print the URL and KeyName as one JSON line")
    parser.set_defaults(handler=run)
