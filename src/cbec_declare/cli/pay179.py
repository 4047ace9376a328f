"""``cbec-declare 179 serve | upload | verify``: the 海关总署公告2018年第179号 payment raw-data interface."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..pay179 import cli as pay179
from ._common import EXIT_INVALID, EXIT_OK, emit_json
from .serve import stop_signals

__all__ = ["add_parser"]


def run_serve(args: argparse.Namespace) -> int:
    config = pay179.load_config(args.config, section=args.section)
    server = pay179.serve(config)
    try:
        with stop_signals() as done:
            print(
                f"179 endpoint (platDataOpen) at {server.url}; uploads to {config.upload_url}",
                file=sys.stderr,
            )
            while not done.wait(1.0):
                pass
    finally:
        server.stop()
    return EXIT_OK


def run_upload(args: argparse.Namespace) -> int:
    config = pay179.load_config(args.config, section=args.section)
    outcome = pay179.upload_again(args.order_no, config)
    if args.json:
        emit_json(outcome)
    else:
        print(f"{args.order_no}: {outcome}")
    return EXIT_OK if getattr(outcome, "ok", False) else EXIT_INVALID


def run_verify(args: argparse.Namespace) -> int:
    config = pay179.load_config(args.config, section=args.section) if args.config else None
    ok, reason = pay179.verify_payload_file(args.payload, args.cert, config)
    if args.json:
        emit_json({"ok": ok, "reason": reason, "file": args.payload})
    else:
        print(f"{args.payload}: {'valid' if ok else 'INVALID'}: {reason}")
    return EXIT_OK if ok else EXIT_INVALID


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "179",
        help="the 179 payment raw-data interface: serve openReq, re-upload, verify an upload",
        description="海关总署公告2018年第179号: customs asks the platform for an order's raw payment data "
        "(platDataOpen, form field openReq) and the platform uploads the signed payExInfoStr.",
    )
    commands = parser.add_subparsers(dest="command179", metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="run the openReq endpoint and its background uploader",
        description="Run the platDataOpen endpoint of [pay179] until Ctrl-C or SIGTERM; every openReq is "
        "answered at once and its signed upload follows in the background. Exit codes: 0, 2 usage error.",
    )
    upload = commands.add_parser(
        "upload",
        help="re-send an order's payment data now",
        description="Re-upload ORDER_NO's payment data with the newest unused sessionID customs gave for it "
        "(customs refuses a reused sessionID). Exit codes: 0 uploaded, 1 refused or failed, 2 usage error.",
    )
    upload.add_argument("order_no", metavar="ORDER_NO")
    verify = commands.add_parser(
        "verify",
        help="check the signature of an uploaded payExInfoStr",
        description="Rebuild the sign string of PAYLOAD (the payExInfoStr JSON as uploaded, a form body, or "
        '{"payExInfoStr": ...}) and check signValue with --cert (PEM or DER), or a certificate found by '
        "certNo in the config's certificate folder. Exit codes: 0 valid, 1 not, 2 usage error.",
    )
    verify.add_argument("payload", metavar="PAYLOAD")
    verify.add_argument("--cert", help="the platform certificate (PEM or DER)")
    for command, handler, needs_config in ((serve, run_serve, True), (upload, run_upload, True),
                                           (verify, run_verify, False)):  # fmt: skip
        command.add_argument("--config", required=needs_config, help="TOML config with a [pay179] section")
        command.add_argument("--section", default="pay179", help="the TOML table (default pay179)")
        command.add_argument("--json", action="store_true")
        command.set_defaults(handler=handler)
