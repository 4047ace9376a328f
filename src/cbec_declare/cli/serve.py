"""``cbec-declare serve``: the §2.1 receipt endpoint on a local threaded server, for trying it out.

Settings come from the ``[receiver]`` table of a TOML file (:func:`receiver_from_config`); every
receipt that passes decryption, the digest check and reading is printed as one JSON line, and with
``--out DIR`` also written to ``DIR`` (the decrypted document, plus a line in ``DIR/index.jsonl``).

Also home of :func:`stop_signals`, the SIGINT/SIGTERM handling ``eport-fake`` shares.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Final

from ..errors import ConfigError, KeyMaterialError
from ..sandbox import LocalServer
from ..signing.config import resolve_secret
from ..transport import ReceiptReceiver, ReceiptSink, load_aes_key, load_rsa_public_key, make_wsgi_app
from ..transport.receipts import CebReceiptEvent, ReceiptEvent
from ._common import EXIT_OK, load_toml
from .receipt import ReadReceipt, describe_receipt, envelope_data

__all__ = ["add_parser", "listen_settings", "receiver_from_config", "run", "stop_signals"]

log = logging.getLogger("cbec_declare.cli.serve")

RECEIVER_KEYS: Final = frozenset(
    {"aes_key", "aes_key_env", "platform_public_key", "verify", "host", "port", "path"}
)
_DEFAULTS: Final = {"host": "127.0.0.1", "port": 8080, "path": "/receipts"}


# -- configuration --------------------------------------------------------------------------------


def _platform_key(value: Any, base_dir: Path) -> bytes | str:
    """``platform_public_key``: PEM text, a file (relative to ``base_dir``), or Base64 SPKI/certificate."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            "must be a file name or the key as Base64/PEM text",
            code="config.receiver.key",
            field="receiver.platform_public_key",
        )
    key: bytes | str = value
    if "-----BEGIN" not in value and len(value) < 1024 and (base_dir / value).is_file():
        key = (base_dir / value).read_bytes()
    try:
        load_rsa_public_key(key, what="platform public key")
    except KeyMaterialError as exc:
        raise ConfigError(
            f"is neither a readable key file (relative to the config's folder) nor a Base64/PEM RSA public "
            f"key: {exc.message}",
            code="config.receiver.key",
            field="receiver.platform_public_key",
        ) from None
    return key


def receiver_from_config(
    section: Mapping[str, Any],
    *,
    base_dir: Path,
    environ: Mapping[str, str],
    sink: ReceiptSink | Callable[[ReceiptEvent], Any],
) -> ReceiptReceiver:
    """A :class:`ReceiptReceiver` from a ``[receiver]`` table, delivering to ``sink``.

    Keys: ``aes_key_env`` (name of an environment variable, preferred) or ``aes_key`` (Base64),
    ``platform_public_key`` (a file, relative to ``base_dir``, or Base64/PEM text), ``verify``
    (``true`` unless explicitly ``false``), and ``host``/``port``/``path`` (see
    :func:`listen_settings`). Mistakes raise :class:`ConfigError` naming the key, never a secret.
    """
    if not isinstance(section, Mapping):
        raise ConfigError("[receiver] must be a table", code="config.receiver", field="receiver")
    unknown = sorted(set(section) - RECEIVER_KEYS)
    if unknown:
        raise ConfigError(
            f"unknown setting(s) {', '.join(unknown)}; allowed: {', '.join(sorted(RECEIVER_KEYS))}",
            code="config.receiver.unknown",
            field=f"receiver.{unknown[0]}",
        )
    secret = resolve_secret(
        section.get("aes_key"),
        section.get("aes_key_env"),
        environ=environ,
        what="AES key",
        field="receiver.aes_key",
    )
    try:
        aes_key = load_aes_key(secret)
    except KeyMaterialError as exc:
        raise ConfigError(exc.message, code="config.receiver.aes_key", field="receiver.aes_key") from None
    verify = section.get("verify", True)
    if not isinstance(verify, bool):
        raise ConfigError("must be true or false", code="config.receiver.verify", field="receiver.verify")
    value = section.get("platform_public_key")
    if value is None and verify:
        raise ConfigError(
            "is required to verify data_digest "
            "(set verify = false only to accept unverified pushes on purpose)",
            code="config.receiver.key",
            field="receiver.platform_public_key",
        )
    key = None if value is None else _platform_key(value, base_dir)
    return ReceiptReceiver(aes_key=aes_key, platform_public_key=key, sink=sink, verify=verify)


def listen_settings(section: Mapping[str, Any], args: argparse.Namespace) -> tuple[str, int, str]:
    """``(host, port, path)``: the command line first, then ``[receiver]``, then the defaults."""
    host = args.host if args.host is not None else section.get("host", _DEFAULTS["host"])
    port = args.port if args.port is not None else section.get("port", _DEFAULTS["port"])
    path = args.path if args.path is not None else section.get("path", _DEFAULTS["path"])
    if not isinstance(host, str) or not host:
        raise ConfigError(
            "must be a host name or address", code="config.receiver.host", field="receiver.host"
        )
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ConfigError(
            "must be a port number 0..65535", code="config.receiver.port", field="receiver.port"
        )
    if not isinstance(path, str) or not path.startswith("/"):
        raise ConfigError("must start with /", code="config.receiver.path", field="receiver.path")
    return host, port, path


# -- running --------------------------------------------------------------------------------------


@contextlib.contextmanager
def stop_signals() -> Iterator[threading.Event]:
    """An event set by SIGINT or SIGTERM while inside; the previous handlers come back on exit."""
    stop = threading.Event()
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for number in (signal.SIGINT, signal.SIGTERM):
            previous[number] = signal.signal(number, lambda *_: stop.set())
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def wait_for(stop: threading.Event) -> None:
    """Block until ``stop`` is set (woken at least twice a second)."""
    while not stop.wait(0.5):
        pass


class _Printer:
    """The sink: one JSON line per receipt on stdout, and with ``out`` the document and an index line."""

    def __init__(self, out: Path | None) -> None:
        self._out = out
        self._lock = threading.Lock()

    def deliver(self, event: ReceiptEvent) -> None:
        if isinstance(event, CebReceiptEvent):
            envelope = None if event.trans_info is None else ("DxpMsgSv" if event.sv_no else "DxpMsg")
            read = ReadReceipt(event.receipt, envelope, event.trans_info, event.sv_no)
        else:
            read = ReadReceipt(event.receipt)
        entry: dict[str, Any] = {
            "received_at": event.received_at.isoformat(),
            "push_id": event.push_id,
            "msg_type": event.msg_type,
            "message_type": read.message_type,
            "digest_verified": event.digest_verified,
            "envelope": envelope_data(read),
            "documents": describe_receipt(read.model),
        }
        with self._lock:
            if self._out is not None:
                kind = read.message_type.replace(" ", "_")
                target = self._out / f"{event.received_at:%Y%m%dT%H%M%S}_{kind}_{event.push_id[:16]}.xml"
                target.write_bytes(event.plaintext)
                entry["file"] = str(target)
                with (self._out / "index.jsonl").open("a", encoding="utf-8") as index:
                    index.write(json.dumps(entry, ensure_ascii=False) + "\n")
            sys.stdout.write(json.dumps(entry, ensure_ascii=False) + "\n")
            sys.stdout.flush()


@contextlib.contextmanager
def _stderr_logging() -> Iterator[None]:
    """Warnings of the library (refused pushes, verify = false) on stderr while serving."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("cbec-declare serve: %(levelname)s %(message)s"))
    package = logging.getLogger("cbec_declare")
    # This format replaces the CLI's general one while serving (one line per event, not two).
    previous, package.handlers = package.handlers, [handler]
    try:
        yield
    finally:
        package.handlers = previous


def run(args: argparse.Namespace) -> int:
    config = Path(args.config)
    section = load_toml(config).get("receiver")
    if section is None:
        raise ConfigError(f"{config} has no [receiver] table", code="config.receiver", field="receiver")
    out = Path(args.out) if args.out else None
    if out is not None:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"cannot create {out}: {exc.strerror}", code="cli.output", field=str(out)
            ) from None
    with _stderr_logging():
        receiver = receiver_from_config(
            section, base_dir=config.resolve().parent, environ=os.environ, sink=_Printer(out)
        )
        host, port, path = listen_settings(section, args)
        server = LocalServer(
            make_wsgi_app(receiver, path=path),
            host=host,
            port=port,
            max_request_bytes=receiver.profile.max_body_bytes,
            record=False,  # a long-running endpoint must not keep every body
        )
        with stop_signals() as stop:
            try:
                server.start()
            except OSError as exc:
                raise ConfigError(
                    f"cannot listen on {host}:{port}: {exc.strerror or exc}", code="cli.listen", field="port"
                ) from None
            try:
                if not receiver.verify:
                    print(
                        "cbec-declare serve: WARNING [receiver] verify = false: push digests are NOT "
                        "checked, forged receipts will be accepted",
                        file=sys.stderr,
                    )
                print(f"cbec-declare serve: listening on {server.url}{path}", file=sys.stderr, flush=True)
                wait_for(stop)
            finally:
                server.stop()
    print("cbec-declare serve: stopped", file=sys.stderr, flush=True)
    return EXIT_OK


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "serve",
        help="run the receipt push endpoint (§2.1) locally and print each receipt",
        description="Run the platform's receipt push endpoint (§2.1: form fields content, msg_type, "
        "data_digest) on a local threaded server, with the settings of the [receiver] table of a TOML "
        "file: aes_key_env (or aes_key), platform_public_key (a file or Base64), verify (true unless "
        "explicitly false, which is loudly logged), host, port, path. Every receipt that decrypts, "
        "verifies and reads is printed as one JSON line on stdout; with --out DIR the decrypted "
        "document is also written to DIR with a line in DIR/index.jsonl. Refused pushes are answered "
        "with an error and logged on stderr. Runs until SIGINT or SIGTERM, then stops cleanly. "
        "Exit codes: 0 stopped by a signal; 2 usage error (bad configuration, port in use).",
    )
    parser.add_argument(
        "--config", required=True, metavar="cbec.toml", help="TOML file with a [receiver] table"
    )
    parser.add_argument("--host", help="address to listen on (default: [receiver] host or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: [receiver] port or 8080; 0 = any free port)")
    parser.add_argument("--path", help="URL path of the endpoint (default: [receiver] path or /receipts)")
    parser.add_argument("--out", metavar="DIR", help="also write each decrypted document and an index to DIR")
    parser.set_defaults(handler=run)
