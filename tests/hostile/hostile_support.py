"""The machinery of the hostile-input tests: a guard that proves no file or network access happens,
the corpus manifest, and one runner per entry point.

**The guard** watches three ways at once, because no single one sees everything:

* a ``sys.addaudithook`` hook (installed once; active only while armed, and only for the arming
  thread) records every Python-level ``open`` of a path outside the test's work folder and the
  program's own read-only files, every socket connection or name lookup, every process spawn;
* Linux ``inotify`` (through ctypes) on the folder of the canary file records any open or read of it,
  including by libxml2's C code, which the audit hook cannot see;
* a listening socket on 127.0.0.1 whose URL the corpus's network entities point at; a connection
  to it from anywhere (C code included) is recorded.

Besides, the canary's content is a unique token that must appear in nothing the entry point
returns, raises, logs or prints.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import io
import json
import os
import socket
import struct
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
from lxml import etree

import cbec_declare
from cbec_declare import errors
from cbec_declare._xml import parse_untrusted
from cbec_declare.cli import main as cli_main
from cbec_declare.envelope import parse_dxp_reply, unwrap
from cbec_declare.messages import parse
from cbec_declare.pay179 import Pay179Config, Pay179Service, RequestStatus, SqlitePay179Store, parse_reply
from cbec_declare.signing import sign, verify, verify_payload
from cbec_declare.transport import (
    MemorySeenStore,
    ReceiptEvent,
    ReceiptReceiver,
    decode_push,
    make_wsgi_app,
    parse_mo,
)
from cbec_declare.transport.node import parse_transfer_reply
from cbec_declare.transport.soap import extract_return
from cbec_declare.validation import validate
from helpers.secrets_audit import exception_texts
from hostile import make_corpus

CORPUS = make_corpus.CORPUS
FORM_PREFIXES = ("push-", "valid-push")
ROOT = Path(__file__).resolve().parents[2]

# --------------------------------------------------------------------------- the audit hook


class _Armed:
    """What the audit hook polices while armed."""

    def __init__(self, thread: int, writable: tuple[str, ...], readable: tuple[str, ...]) -> None:
        self.thread = thread
        self.writable = writable
        self.readable = readable
        self.violations: list[str] = []


_ARMED: list[_Armed] = []  # at most one; a list so that the hook reads it without a global statement
_INSTALLED: list[bool] = []
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_NETWORK_EVENTS = frozenset(
    {
        "socket.connect",
        "socket.sendto",
        "socket.sendmsg",
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.gethostbyaddr",
        "urllib.Request",
        "http.client.connect",
    }
)
_PROCESS_EVENTS = frozenset(
    {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork"}
)


def _under(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == root or path.startswith(root + os.sep) for root in roots)


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not _ARMED:
        return
    armed = _ARMED[0]
    if threading.get_ident() != armed.thread:
        return
    if event == "open":
        target = args[0]
        if isinstance(target, int):
            return  # an already open descriptor
        path = os.path.abspath(os.fsdecode(target))
        mode, flags = args[1], args[2] if len(args) > 2 else 0
        writing = (mode is None and bool(flags & _WRITE_FLAGS)) or (
            isinstance(mode, str) and any(c in mode for c in "wax+")
        )
        if _under(path, armed.writable) or (not writing and _under(path, armed.readable)):
            return
        armed.violations.append(f"open({path!r}, {mode!r})")
    elif event in _NETWORK_EVENTS:
        armed.violations.append(f"{event}{args[1:]!r}" if event == "socket.connect" else f"{event}{args!r}")
    elif event in _PROCESS_EVENTS:
        armed.violations.append(f"{event}")


def _install_hook() -> None:
    if not _INSTALLED:
        sys.addaudithook(_hook)
        _INSTALLED.append(True)


# --------------------------------------------------------------------------- inotify, on Linux

_IN_ACCESS, _IN_OPEN = 0x1, 0x20
_IN_NONBLOCK, _IN_CLOEXEC = os.O_NONBLOCK, 0o2000000
_EVENT = struct.Struct("iIII")


class _Inotify:
    """Reports opens and reads of files in one folder, by any code in this process (or another)."""

    def __init__(self, folder: Path) -> None:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        self.fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        if libc.inotify_add_watch(self.fd, os.fsencode(folder), _IN_OPEN | _IN_ACCESS) < 0:
            os.close(self.fd)
            raise OSError(ctypes.get_errno(), "inotify_add_watch")

    def events(self) -> list[str]:
        out: list[str] = []
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                return out
            offset = 0
            while offset < len(chunk):
                _, mask, _, length = _EVENT.unpack_from(chunk, offset)
                name = chunk[offset + _EVENT.size : offset + _EVENT.size + length].rstrip(b"\0")
                kind = "open" if mask & _IN_OPEN else "read"
                out.append(f"{kind} {name.decode(errors='replace') or '(the folder)'}")
                offset += _EVENT.size + length

    def close(self) -> None:
        os.close(self.fd)


INOTIFY_MISSING = None if sys.platform.startswith("linux") else "inotify is Linux-only"


# --------------------------------------------------------------------------- the guard


class Guard:
    """A canary file, a listener and the audit hook around one piece of work (see module docs).

    ``work`` is the only folder the work may write or read freely; the program's own files (the
    interpreter, site-packages, the project source and schemas) may be read.
    """

    def __init__(self, base: Path) -> None:
        _install_hook()
        self.work = base / "work"
        self.work.mkdir(parents=True, exist_ok=True)
        outside = base / "outside"
        outside.mkdir(parents=True, exist_ok=True)
        self.token = f"CANARY-{uuid.uuid4().hex}"
        self.canary = outside / "canary.txt"
        self.canary.write_text(self.token, encoding="ascii")
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.listener.setblocking(False)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/canary.dtd"
        self.inotify = _Inotify(outside) if INOTIFY_MISSING is None else None
        self.violations: list[str] = []
        self._armed: _Armed | None = None

    def substitute(self, data: bytes, template: str | None) -> bytes:
        """Point the corpus placeholders at this guard's canary file and listener."""
        if template is None:
            return data
        text = data.decode(template)
        text = text.replace(make_corpus.CANARY_FILE, self.canary.as_uri())
        text = text.replace(make_corpus.CANARY_URL, self.url)
        return text.encode(template)

    @contextlib.contextmanager
    def armed(self) -> Iterator[None]:
        readable = tuple(
            os.path.abspath(p)
            for p in {
                sys.prefix,
                sys.base_prefix,
                sys.exec_prefix,
                str(Path(cbec_declare.__file__).resolve().parent),
                str(ROOT / "src"),
                str(ROOT / "schemas"),
            }
        )
        armed = _Armed(threading.get_ident(), (os.path.abspath(self.work),), readable)
        if self.inotify is not None:
            self.inotify.events()  # drop anything from before
        _ARMED.append(armed)
        try:
            yield
        finally:
            _ARMED.remove(armed)
            self.violations += armed.violations
            if self.inotify is not None:
                self.violations += [f"canary folder: {e}" for e in self.inotify.events()]
            with contextlib.suppress(BlockingIOError):
                connection, peer = self.listener.accept()
                connection.close()
                self.violations.append(f"a connection to the listener from {peer}")

    def assert_untouched(self, texts: list[str]) -> None:
        assert not self.violations, f"file or network access: {self.violations}"
        for text in texts:
            assert self.token not in text, f"the canary's content leaked into: {text[:300]!r}"

    def close(self) -> None:
        self.listener.close()
        if self.inotify is not None:
            self.inotify.close()


# --------------------------------------------------------------------------- the manifest


@attrs.frozen
class CorpusFile:
    name: str
    about: str
    template: str | None
    options: dict[str, Any]
    feeds: dict[str, dict[str, Any]]

    @property
    def path(self) -> Path:
        return CORPUS / self.name

    def data(self) -> bytes:
        return self.path.read_bytes()

    @property
    def is_form(self) -> bool:
        return self.name.startswith(FORM_PREFIXES)


def load_manifest() -> dict[str, CorpusFile]:
    document = json.loads((CORPUS / make_corpus.MANIFEST).read_text(encoding="utf-8"))
    return {
        name: CorpusFile(
            name, entry["about"], entry.get("template"), entry.get("options", {}), entry["feeds"]
        )
        for name, entry in document["files"].items()
    }


# --------------------------------------------------------------------------- running an entry point


class RecordingSink:
    """A receipt sink that remembers every delivery."""

    def __init__(self) -> None:
        self.events: list[ReceiptEvent] = []

    def deliver(self, event: ReceiptEvent) -> None:
        self.events.append(event)


@attrs.define
class Outcome:
    """What an entry point did: returned ``value``, raised ``error``, answered ``status``/``ack``
    (HTTP), exited ``exit`` with ``output`` (CLI). ``texts`` is everything it produced."""

    value: Any = None
    error: BaseException | None = None
    status: int | None = None
    ack: str | None = None
    answer: str | None = None
    exit: int | None = None
    output: Any = None
    texts: list[str] = attrs.Factory(list)

    def all_texts(self) -> list[str]:
        return self.texts + exception_texts(self.error)


def _ack_code(body: bytes) -> str | None:
    try:
        root = etree.fromstring(body)
    except etree.XMLSyntaxError:
        return None
    return root.findtext("errorCode")


class Bench:
    """Everything the runners need: keys, a receiver with a recording sink, a 179 service, a folder."""

    def __init__(self, work: Path) -> None:
        self.keys = make_corpus.keys()
        self.work = work
        self.sink = RecordingSink()
        self.receiver = ReceiptReceiver(
            aes_key=self.keys.aes,
            platform_public_key=self.keys.platform_public_pem(),
            sink=self.sink,
            seen=MemorySeenStore(),
        )
        self.store = SqlitePay179Store(str(work / "pay179.db"))
        config = Pay179Config(
            upload_url="http://127.0.0.1:9/never-used",
            signer=self.keys.software_signer(),
            store_path=str(work / "pay179.db"),
        )
        # The worker is never started: an accepted openReq is only recorded and queued.
        self.pay179 = Pay179Service(config, source=lambda order_no: None, store=self.store)

    def close(self) -> None:
        self.pay179.close()

    def recorded_requests(self) -> int:
        return sum(len(self.store.requests_in(status)) for status in RequestStatus)

    def certificate(self, option: str | None) -> bytes | None:
        return {
            None: None,
            "other": self.keys.other_cert,
            "expired": self.keys.expired_cert,
            "signer": self.keys.signer_cert,
        }[option]

    def push_body(self, document: bytes) -> bytes:
        return make_corpus.form(make_corpus.push_form(document))

    def wsgi(self, body: bytes) -> tuple[int, bytes]:
        app = make_wsgi_app(self.receiver)
        seen: list[str] = []
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/receipts",
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
        }
        answer = b"".join(app(environ, lambda status, headers: seen.append(status)))
        return int(seen[0].split()[0]), answer

    def cli(self, command: str, name: str, data: bytes) -> Outcome:
        path = self.work / name
        path.write_bytes(data)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli_main([command, "--json", str(path)])
        text = out.getvalue()
        try:
            output = json.loads(text)
        except ValueError:
            output = None
        return Outcome(exit=code, output=output, texts=[text, err.getvalue()])


def _trusted(bench: Bench, options: dict[str, Any]) -> list[bytes] | None:
    if "trusted" not in options:
        return None
    certificate = bench.certificate(options["trusted"])
    assert certificate is not None
    return [certificate]


def _document(value: Any) -> str:
    if isinstance(value, etree._Element):
        return etree.tostring(value, encoding="unicode")
    return repr(value)


def run(bench: Bench, entry: str, item: CorpusFile, data: bytes) -> Outcome:
    """Feed ``data`` (the corpus file, placeholders substituted) to ``entry``."""
    options = item.options
    if entry.startswith("cli."):
        return bench.cli(entry.split(".", 1)[1], item.name, data)
    if entry in ("push.handle", "push.dxp", "push.document"):
        if entry == "push.document":
            response = bench.receiver.handle_document(data)
        else:
            document = make_corpus.dxp(data) if entry == "push.dxp" else data
            body = data if item.is_form else bench.push_body(document)
            response = bench.receiver.handle(body, "application/x-www-form-urlencoded")
        return Outcome(
            status=response.status,
            ack=_ack_code(response.body),
            texts=[response.body.decode("utf-8", "replace")],
        )
    if entry == "push.wsgi":
        status, body = bench.wsgi(data)
        return Outcome(status=status, ack=_ack_code(body), texts=[body.decode("utf-8", "replace")])
    if entry == "pay179.handle_body":
        answer = bench.pay179.handle_body(data)
        code = json.loads(answer.body)["code"]
        return Outcome(status=answer.status, answer=code, texts=[answer.body.decode("utf-8", "replace")])
    calls: dict[str, Callable[[], Any]] = {
        "parse_untrusted": lambda: parse_untrusted(data),
        "messages.parse": lambda: parse(data),
        "envelope.unwrap": lambda: unwrap(data),
        "envelope.parse_dxp_reply": lambda: parse_dxp_reply(data),
        "mo.parse_mo": lambda: parse_mo(data),
        "soap.extract_return": lambda: extract_return(data),
        "signing.verify": lambda: verify(
            data,
            now=make_corpus.NOW,
            certificate=bench.certificate(options.get("certificate")),
            trusted=_trusted(bench, options),
        ),
        "validation.validate": lambda: validate(data, now=datetime(2026, 6, 1, 12, 0)),
        "push.decode": lambda: decode_push(
            data, aes_key=bench.keys.aes, platform_public_key=bench.keys.platform_public_pem()
        ),
        "pay179.parse_reply": lambda: parse_reply(data),
        "signing.verify_payload": lambda: verify_payload(
            data, certificate=bench.certificate(options.get("certificate", "signer")), now=make_corpus.NOW
        ),
        "node.parse_transfer_reply": lambda: parse_transfer_reply(data.decode("utf-8", "replace")),
        "signing.sign": lambda: sign(data, bench.keys.software_signer()),
    }
    try:
        value = calls[entry]()
    except Exception as exc:  # judged by check(): anything but the expected CbecError fails there
        return Outcome(error=exc)  # texts: all_texts(), after the guard (tracebacks read source files)
    return Outcome(value=value, texts=[_document(value)])


def _report_codes(value: Any) -> list[str]:
    return [finding.code for finding in getattr(value, "errors", ())]


def _cli_codes(output: Any) -> list[str]:
    codes: list[str] = []
    for entry in (output or {}).get("files", []):
        if isinstance(entry.get("error"), dict):
            codes.append(str(entry["error"].get("code")))
        codes += [str(f.get("code")) for f in entry.get("findings", []) if f.get("severity") == "error"]
    return codes


def check(expect: dict[str, Any], outcome: Outcome) -> None:
    """Assert that ``outcome`` is what the manifest promised."""
    if "raises" in expect:
        error = outcome.error
        cls = getattr(errors, expect["raises"])
        assert error is not None, f"expected {expect['raises']}, but it returned {outcome.value!r:.300}"
        assert isinstance(error, cls), f"expected {expect['raises']}, got {type(error).__name__}: {error}"
        assert isinstance(error, errors.CbecError)
        assert error.code.startswith(expect["code"]), f"code {error.code!r}, expected {expect['code']!r}…"
        assert error.message.strip(), "an error must say what is wrong"
        return
    if expect.get("typed"):
        assert outcome.error is None or isinstance(outcome.error, errors.CbecError), repr(outcome.error)
        return
    assert outcome.error is None, f"unexpected {type(outcome.error).__name__}: {outcome.error}"
    if "report_error" in expect:
        codes = _report_codes(outcome.value)
        assert any(c.startswith(expect["report_error"]) for c in codes), f"report errors: {codes}"
    if "status" in expect:
        assert outcome.status == expect["status"], f"HTTP {outcome.status}: {outcome.texts}"
    if "ack" in expect:
        assert outcome.ack == expect["ack"], f"ack {outcome.ack!r}: {outcome.texts}"
    if "answer" in expect:
        assert outcome.answer == expect["answer"], f"answer {outcome.answer!r}: {outcome.texts}"
    if "exit" in expect:
        assert outcome.exit == expect["exit"], f"exit {outcome.exit}: {outcome.texts}"
        codes = _cli_codes(outcome.output)
        assert codes, f"the CLI named no error: {outcome.texts}"
        assert any(c.startswith(expect.get("code", "")) for c in codes), f"CLI codes {codes}: {outcome.texts}"
        if "reason" in expect:
            reasons = [entry.get("reason") for entry in outcome.output["files"]]
            assert expect["reason"] in reasons, f"CLI reasons {reasons}"
    if "digest_valid" in expect:
        assert outcome.value.digest_valid is expect["digest_valid"]
    if "accepted" in expect:
        assert outcome.value.accepted is expect["accepted"]
    if expect.get("ok"):
        if outcome.status is not None:
            assert outcome.status == 200, f"HTTP {outcome.status}: {outcome.texts}"
        if outcome.exit is not None:
            assert outcome.exit == 0, f"exit {outcome.exit}: {outcome.texts}"
