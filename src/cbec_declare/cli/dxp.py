"""``cbec-declare dxp wrap`` / ``dxp unwrap``: the DXP terminal envelope around a signed CEB message."""

from __future__ import annotations

import argparse
import base64
import sys
import uuid
from typing import Any

from ..envelope import Unwrapped, unwrap, wrap
from ._common import EXIT_OK, emit_json, read_input
from .sign import about_file, write_output

__all__ = ["add_parser", "run_unwrap", "run_wrap"]


def _to_file(output: str | None) -> bool:
    return output is not None and output != "-"


def _envelope_data(envelope: Unwrapped) -> dict[str, Any]:
    info = envelope.trans_info
    out: dict[str, Any] = {
        "cop_msg_id": info.cop_msg_id,
        "sender_id": info.sender_id,
        "receiver_ids": list(info.receiver_ids),
        "creat_time": info.creat_time.isoformat(),
        "msg_type": info.msg_type,
        "envelope_signed": envelope.envelope_signed,
        "payload_bytes": len(envelope.payload),
    }
    if envelope.sv_no is not None:
        sv = envelope.sv_no
        out["sv_no"] = {
            "msg_id": sv.msg_id,
            "sub_msg_id": sv.sub_msg_id,
            "send_time": sv.send_time.isoformat(),
            "sta_node": sv.sta_node,
            "end_node": sv.end_node,
        }
    if envelope.add_info is not None:
        add = envelope.add_info
        out["add_info"] = {"file_name": add.file_name, "biz_keys": [list(k) for k in add.biz_keys]}
    return out


def _lines(data: dict[str, Any]) -> list[str]:
    lines = [
        f"CopMsgId   {data['cop_msg_id']}",
        f"SenderId   {data['sender_id']}",
        f"ReceiverId {', '.join(data['receiver_ids'])}",
        f"CreatTime  {data['creat_time']}",
        f"MsgType    {data['msg_type']}",
        f"Data       {data['payload_bytes']} bytes",
    ]
    if "sv_no" in data:
        sv = data["sv_no"]
        lines.append(
            f"SvNo       MsgId {sv['msg_id']}, {sv['sta_node']} → {sv['end_node']}, {sv['send_time']}"
        )
    return lines


def run_wrap(args: argparse.Namespace) -> int:
    payload = read_input(args.file)
    with about_file(args.file):
        wrapped = wrap(
            payload,
            args.sender,
            args.receiver,
            args.msg_type,
            args.cop_msg_id or str(uuid.uuid4()).upper(),
            ie_flag="E" if args.export else "I",
            namespace_style=args.namespace_style,
        )
    if _to_file(args.output) or not args.json:
        write_output(wrapped, args.output)
    if args.json:
        summary: dict[str, Any] = {"ok": True, **_envelope_data(unwrap(wrapped))}
        if _to_file(args.output):
            summary["output"] = args.output
        else:
            summary["xml_base64"] = base64.b64encode(wrapped).decode("ascii")
        emit_json(summary)
    return EXIT_OK


def run_unwrap(args: argparse.Namespace) -> int:
    data = read_input(args.file)
    with about_file(args.file):
        envelope = unwrap(data)
    info = _envelope_data(envelope)
    if args.json:
        if _to_file(args.output):
            write_output(envelope.payload, args.output)
            info["output"] = args.output
        else:
            info["payload_base64"] = base64.b64encode(envelope.payload).decode("ascii")
        emit_json({"ok": True, **info})
        return EXIT_OK
    # The payload may go to stdout, so the routing data goes to stderr unless -o takes the payload.
    stream = sys.stdout if _to_file(args.output) else sys.stderr
    print("\n".join(_lines(info)), file=stream)
    stream.flush()
    write_output(envelope.payload, args.output)
    return EXIT_OK


def add_parser(sub: Any) -> None:
    dxp = sub.add_parser(
        "dxp",
        help="wrap a signed message in a DxpMsg, or unwrap one",
        description="The DXP terminal envelope (终端节点报文). "
        "Exit codes: 0 ok; 1 invalid input; 2 usage error.",
    )
    commands = dxp.add_subparsers(dest="dxp_command", metavar="{wrap,unwrap}", required=True)

    parser = commands.add_parser(
        "wrap",
        help="wrap a signed CEB message in a DxpMsg",
        description="Wrap a signed CEB message in a DxpMsg (TransInfo + base64 Data) for the exchange: the "
        "sender is the enterprise DXP id (BaseTransfer/dxpId), the receiver defaults to customs' import "
        "receiver (DXPEDCCEB0000002; with --export, the export receiver), MsgType to the message's root "
        "name and CopMsgId to a new UUID. The payload is wrapped as given, not parsed. "
        "Exit codes: 0 wrapped; 1 a value does not fit the envelope; 2 usage error.",
    )
    parser.add_argument("file", metavar="FILE", help="the signed message, or - for stdin")
    parser.add_argument("--sender", required=True, metavar="DXPID", help="TransInfo/SenderId (your DXP id)")
    receiver = parser.add_mutually_exclusive_group()
    receiver.add_argument(
        "--receiver",
        metavar="ID",
        action="append",
        help="TransInfo/ReceiverId (repeatable, up to 5; default: customs)",
    )
    receiver.add_argument(
        "--export", action="store_true", help="address the export receiver DXPEDCCEB0000003"
    )
    parser.add_argument(
        "--msg-type", metavar="T", help="TransInfo/MsgType (default: the payload's root name)"
    )
    parser.add_argument("--cop-msg-id", metavar="ID", help="TransInfo/CopMsgId (default: a new UUID)")
    parser.add_argument(
        "--namespace-style",
        choices=["prefix", "default"],
        default="prefix",
        help="dxp:DxpMsg (prefix, default) or <DxpMsg xmlns=…> (default)",
    )
    parser.add_argument("-o", "--output", metavar="OUT", help="output file (default: stdout)")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the TransInfo as JSON (with the envelope as base64 when there is no -o)",
    )
    parser.set_defaults(handler=run_wrap)

    parser = commands.add_parser(
        "unwrap",
        help="print the TransInfo of a DxpMsg/DxpMsgSv and write its payload",
        description="Read a DxpMsg (prefix or default namespace) or a DxpMsgSv around one, print its "
        "TransInfo (and SvNo) and write the decoded payload to -o, or to stdout (the TransInfo then goes "
        "to stderr, so the payload can be piped on). "
        "Exit codes: 0 unwrapped; 1 not a readable envelope; 2 usage error.",
    )
    parser.add_argument("file", metavar="FILE", help="the envelope, or - for stdin")
    parser.add_argument("-o", "--output", metavar="OUT", help="file for the payload (default: stdout)")
    parser.add_argument(
        "--json", action="store_true", help="print JSON (with the payload as base64 when there is no -o)"
    )
    parser.set_defaults(handler=run_unwrap)
