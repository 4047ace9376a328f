"""``cbec-declare build KIND INPUT.json``: spec-named JSON → 统一版 XML messages."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError, ModelError
from ..messages import build
from ..messages.jsonio import from_data
from ..models import DECLARATION_MESSAGES, BaseTransfer, DeclarationMessage
from ..models._spec import META, ChildSpec
from ._common import EXIT_OK, emit_json, load_json, load_toml

__all__ = ["KIND_ALIASES", "add_parser", "message_class", "messages_from_input"]

KIND_ALIASES = {
    "order": "CEB311Message",
    "payment": "CEB411Message",
    "logistics": "CEB511Message",
    "waybill": "CEB511Message",
    "logistics-status": "CEB513Message",
    "inventory": "CEB621Message",
    "cancel": "CEB623Message",
    "refund": "CEB625Message",
    "delivery": "CEB711Message",
}


def message_class(kind: str) -> type[DeclarationMessage]:
    """``CEB311``, ``CEB311Message`` or ``order`` → the message class."""
    name = KIND_ALIASES.get(kind.lower(), kind.upper().replace("MESSAGE", "") + "Message")
    cls = DECLARATION_MESSAGES.get(name)
    if cls is None:
        kinds = ", ".join(sorted(DECLARATION_MESSAGES) + sorted(KIND_ALIASES))
        raise ConfigError(f"unknown message kind {kind!r}; expected one of: {kinds}", code="cli.kind")
    return cls


def _body_spec(cls: type[DeclarationMessage]) -> ChildSpec:
    import attrs

    spec: ChildSpec = attrs.fields_dict(cls)[cls.__body__].metadata[META]
    return spec


def _document(spec: ChildSpec, data: Any, where: str) -> Any:
    if spec.wrapper:
        if not isinstance(data, Mapping) or set(data) != {spec.element}:
            raise ModelError(
                f"a {spec.wrapper} document is an object with one key {spec.element!r}", field=where
            )
        data = data[spec.element]
        where += f"/{spec.element}"
    return from_data(spec.entity, data, path=where)


def messages_from_input(
    cls: type[DeclarationMessage], data: Any, base_transfer: BaseTransfer | None
) -> list[DeclarationMessage]:
    """Accept a whole message object, one document object, or a list of documents."""
    spec = _body_spec(cls)
    body_key = spec.wrapper or spec.element
    if isinstance(data, Mapping) and body_key in data:
        payload = dict(data)
        if "BaseTransfer" not in payload:
            if base_transfer is None:
                raise _no_transfer()
            payload["BaseTransfer"] = {
                "copCode": base_transfer.cop_code,
                "copName": base_transfer.cop_name,
                "dxpMode": base_transfer.dxp_mode,
                "dxpId": base_transfer.dxp_id,
            }
        message = from_data(cls, payload)
        if len(message.documents) <= cls.MAX_DOCUMENTS:
            return [message]
        return cls.batches(
            message.documents,
            base_transfer=message.base_transfer,
            base_subscribes=message.base_subscribes,
            extend_message=message.extend_message,
            version=message.version,
        )
    if isinstance(data, Mapping):
        data = dict(data)
        if "BaseTransfer" in data:
            base_transfer = from_data(BaseTransfer, data.pop("BaseTransfer"), path="BaseTransfer")
        documents = [_document(spec, data, body_key)]
    elif isinstance(data, list):
        documents = [_document(spec, item, f"[{i}]") for i, item in enumerate(data)]
    else:
        raise ModelError(f"input must be a JSON object or list, got {type(data).__name__}", field="input")
    if not documents:
        raise ModelError("input holds no documents", field="input")
    if base_transfer is None:
        raise _no_transfer()
    return cls.batches(documents, base_transfer=base_transfer)


def _no_transfer() -> ConfigError:
    return ConfigError(
        "no BaseTransfer: put a 'BaseTransfer' object in the input, or give --cop-code/--cop-name/--dxp-id, "
        "or a [base_transfer] section in --config",
        code="cli.base_transfer",
    )


def base_transfer_from_args(args: argparse.Namespace) -> BaseTransfer | None:
    values: dict[str, Any] = {}
    if args.config:
        section = load_toml(Path(args.config)).get("base_transfer")
        if isinstance(section, Mapping):
            values.update(
                {k: v for k, v in section.items() if k in ("cop_code", "cop_name", "dxp_id", "dxp_mode")}
            )
    for name in ("cop_code", "cop_name", "dxp_id"):
        if getattr(args, name):
            values[name] = getattr(args, name)
    if not values:
        return None
    missing = [n for n in ("cop_code", "cop_name", "dxp_id") if n not in values]
    if missing:
        raise ConfigError(f"BaseTransfer is missing {', '.join(missing)}", code="cli.base_transfer")
    return BaseTransfer(**values)


def run(args: argparse.Namespace) -> int:
    cls = message_class(args.kind)
    messages = messages_from_input(cls, load_json(args.input), base_transfer_from_args(args))
    outputs = [(m, build(m)) for m in messages]
    written: list[str] = []
    if args.output is None:
        if len(outputs) > 1:
            raise ConfigError(
                f"the input makes {len(outputs)} messages (at most {cls.MAX_DOCUMENTS} documents each); "
                "give -o DIRECTORY",
                code="cli.output",
            )
        if not args.json:
            sys.stdout.buffer.write(outputs[0][1])
            sys.stdout.buffer.flush()
    else:
        out = Path(args.output)
        if len(outputs) > 1 or out.is_dir():
            out.mkdir(parents=True, exist_ok=True)
            targets = [out / f"{m.message_type}_{m.guid}.xml" for m, _ in outputs]
        else:
            targets = [out]
        for (_, data), target in zip(outputs, targets, strict=False):
            target.write_bytes(data)
            written.append(str(target))
    if args.json:
        emit_json(
            {
                "ok": True,
                "messages": [
                    {"type": m.message_type, "guid": m.guid, "documents": len(m.documents), "bytes": len(d)}
                    for m, d in outputs
                ],
                "files": written,
            }
        )
    return EXIT_OK


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "build",
        help="build 统一版 XML from JSON keyed by the spec's element names",
        description="Build CEB messages from JSON keyed by the spec's element names (see messages.md): one "
        'document such as {"OrderHead": {...}, "OrderList": [...]}, a list of them, or a whole message '
        '{"Order": [...], "BaseTransfer": {...}}. More than the per-message limit is split into several '
        "messages.",
    )
    parser.add_argument("kind", help="CEB311 … CEB711, or order, payment, logistics, logistics-status, "
                        "inventory, cancel, refund, delivery")  # fmt: skip
    parser.add_argument("input", help="JSON file, or - for stdin")
    parser.add_argument("-o", "--output", help="output file (one message) or directory (several)")
    parser.add_argument("--version", dest="spec_version", default="2018-113", choices=["2018-113", "2022-05"],
                        help="spec version the output is meant for (default 2018-113)")  # fmt: skip
    parser.add_argument("--config", help="TOML config with a [base_transfer] section")
    parser.add_argument("--cop-code", help="BaseTransfer/copCode (传输企业代码)")
    parser.add_argument("--cop-name", help="BaseTransfer/copName (传输企业名称)")
    parser.add_argument("--dxp-id", help="BaseTransfer/dxpId (报文传输编号)")
    parser.add_argument("--json", action="store_true", help="print a JSON summary instead of the XML")
    parser.set_defaults(handler=run)
