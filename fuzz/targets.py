"""The fuzz targets: every entry point that reads outside bytes, wrapped so that the only accepted
failure is a :class:`~cbec_declare.errors.CbecError`.

Shared by the coverage-guided atheris harnesses (``fuzz/fuzz_*.py``, run by ``fuzz/run.py``) and the
hypothesis property tests (``tests/fuzz/``). A target takes bytes and returns normally, raises a
``CbecError`` (a refusal: fine), or raises anything else (a crash).

Known bugs — crashes already recorded as strict-xfail tests in ``tests/hostile`` — would stop every
fuzz run at once and hide new ones, so :func:`run_target` turns them into :class:`KnownBug` (a
``CbecError`` to the harness) unless ``CBEC_FUZZ_REPORT_KNOWN=1``. Each entry of :data:`KNOWN_BUGS` is
removed when the bug is fixed (``tests/fuzz/test_known_bugs.py`` fails for an entry that no longer
reproduces).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import io
import logging
import os
import shutil
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))


from cbec_declare import errors  # noqa: E402
from cbec_declare._xml import parse_untrusted  # noqa: E402
from cbec_declare.envelope import parse_dxp_reply, unwrap  # noqa: E402
from cbec_declare.messages import parse  # noqa: E402
from cbec_declare.pay179 import Pay179Config, Pay179Service, SqlitePay179Store, parse_reply  # noqa: E402
from cbec_declare.signing import sign, verify, verify_payload  # noqa: E402
from cbec_declare.transport import (  # noqa: E402
    MemorySeenStore,
    ReceiptReceiver,
    decode_push,
    make_wsgi_app,
    parse_mo,
)
from cbec_declare.transport.node import parse_transfer_reply  # noqa: E402
from cbec_declare.transport.soap import extract_mo, extract_return  # noqa: E402
from cbec_declare.validation import validate  # noqa: E402
from hostile import make_corpus  # noqa: E402

__all__ = ["CORPUS", "KNOWN_BUGS", "TARGETS", "KnownBug", "run_target", "seeds"]


class _FormatAndDrop(logging.Handler):
    """Every library log record is formatted (a record that cannot be formatted is a bug too) and
    then dropped: millions of "push refused" lines would only slow the fuzzer down."""

    def emit(self, record: logging.LogRecord) -> None:
        self.format(record)  # not caught: a record that cannot be formatted is reported as a crash


_library_log = logging.getLogger("cbec_declare")
_library_log.addHandler(_FormatAndDrop(logging.DEBUG))
_library_log.setLevel(logging.DEBUG)
_library_log.propagate = False

CORPUS = make_corpus.CORPUS
FORM = "application/x-www-form-urlencoded"


class KnownBug(errors.CbecError):
    """A crash already recorded as a bug; raised instead of it while the bug is open."""

    code = "fuzz.known-bug"


#: (exception type, cbec_declare module path, function of the innermost library frame — "*" for any —,
#: a text the message must contain, and what the bug is)
KNOWN_BUGS: tuple[tuple[type[BaseException], str, str, str, str], ...] = (
    # Every crash found so far is fixed; tests/fuzz/test_known_bugs.py keeps their reproducers as
    # regression cases. A new crash is recorded here while it is open (type, module, function, text, what).
)


def _innermost_library_frame(exc: BaseException) -> tuple[str, str] | None:
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        path = frame.filename.replace("\\", "/")
        if "/cbec_declare/" in path:
            found = (path.split("/cbec_declare/", 1)[1], frame.name)
    return found


def known_bug(exc: BaseException) -> str | None:
    """The description of the known bug ``exc`` is, or None."""
    where = _innermost_library_frame(exc)
    for kind, module, function, text, about in KNOWN_BUGS:
        if isinstance(exc, kind) and (module == "*" or where == (module, function)) and text in str(exc):
            return f"{module} {function}: {about}"
    return None


def report_known() -> bool:
    return os.environ.get("CBEC_FUZZ_REPORT_KNOWN") == "1"


# --------------------------------------------------------------------------- fixtures of the targets


@functools.cache
def _receiver() -> ReceiptReceiver:
    keys = make_corpus.keys()
    return ReceiptReceiver(
        aes_key=keys.aes,
        platform_public_key=keys.platform_public_pem(),
        sink=lambda event: None,
        seen=MemorySeenStore(max_entries=1000),
    )


@functools.cache
def _pay179() -> Pay179Service:
    scratch = os.environ.get("CBEC_FUZZ_SCRATCH")
    if scratch:  # under fuzz/run.py: inside its work folder, removed with it
        folder = Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
    else:  # in-process (the tests): gone when the interpreter exits
        folder = Path(tempfile.mkdtemp(prefix="cbec-fuzz-179-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    keys = make_corpus.keys()
    config = Pay179Config(
        upload_url="http://127.0.0.1:9/never-used",
        signer=keys.software_signer(),
        store_path=str(folder / "pay179.db"),
    )
    # Never started: an accepted openReq is recorded and queued, nothing is uploaded.
    return Pay179Service(config, source=lambda order_no: None, store=SqlitePay179Store(config.store_path))


def _wsgi(body: bytes) -> None:
    environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": FORM,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    statuses: list[str] = []
    b"".join(make_wsgi_app(_receiver())(environ, lambda status, headers: statuses.append(status)))
    _status_ok(int(statuses[0].split()[0]))


def _status_ok(status: int) -> None:
    if status not in (200, 400):
        raise AssertionError(f"the receiver answered HTTP {status}")


def _looks_like_document(data: bytes) -> bool:
    head = data[:4].lstrip(b" \t\r\n")
    return head.startswith((b"<", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00<", b"<\x00"))


# --------------------------------------------------------------------------- the targets


def t_xml(data: bytes) -> None:
    parse_untrusted(data)


def t_parse(data: bytes) -> None:
    parse(data)


def _each(*calls: Callable[[], object]) -> None:
    """Run every call; refusals (CbecError) are fine and do not stop the next call."""
    for call in calls:
        with contextlib.suppress(errors.CbecError):
            call()


def t_unwrap(data: bytes) -> None:
    _each(lambda: unwrap(data), lambda: parse_dxp_reply(data))


def t_mo(data: bytes) -> None:
    _each(lambda: parse_mo(data), lambda: parse_mo(data, strict=True))


def t_push(data: bytes) -> None:
    """Raw form bodies go to the receiver (handle, WSGI, decode_push); documents are pushed genuinely
    (encrypted with the agreed key, signed by the platform) so that the fuzzer reaches the readers."""
    receiver = _receiver()
    if _looks_like_document(data):
        mode = data[-1] % 3
        if mode == 0:
            document = data
        elif mode == 1:
            try:
                document = make_corpus.dxp(data)
            except errors.EnvelopeError:
                document = data
        else:
            _status_ok(receiver.handle_document(data).status)
            return
        body = make_corpus.form(make_corpus.push_form(document))
        _status_ok(receiver.handle(body, FORM).status)
        return
    _status_ok(receiver.handle(data, FORM).status)
    _wsgi(data)
    keys = make_corpus.keys()
    decode_push(data, aes_key=keys.aes, platform_public_key=keys.platform_public_pem())


def t_openreq(data: bytes) -> None:
    answer = _pay179().handle_body(data)
    if answer.status not in (200, 405, 413):
        raise AssertionError(f"the 179 endpoint answered HTTP {answer.status}")


def t_verify(data: bytes) -> None:
    """Verify the input as it is; if it is an unsigned document, sign it with the corpus key first, so
    that mutations of the document body reach the digest, signature and certificate checks."""
    try:
        verify(data, now=make_corpus.NOW)
    except errors.SignatureStructureError as exc:
        if exc.code != "verify.structure.missing":
            raise
        signed = sign(data, make_corpus.keys().software_signer())
        verify(signed, now=make_corpus.NOW, certificate=make_corpus.keys().signer_cert)


def t_payload(data: bytes) -> None:
    verify_payload(data, certificate=make_corpus.keys().signer_cert, now=make_corpus.NOW)


def t_reply179(data: bytes) -> None:
    parse_reply(data)


def t_transfer(data: bytes) -> None:
    parse_transfer_reply(data.decode("utf-8", "replace"))


def t_soap(data: bytes) -> None:
    text = extract_return(data)
    document = extract_mo(text)
    if document is not None:
        parse_mo(document)


def t_validate(data: bytes) -> None:
    validate(data)


#: target name → function; ``fuzz/fuzz_<name>.py`` runs each under atheris
TARGETS: dict[str, Callable[[bytes], None]] = {
    "xml": t_xml,
    "parse": t_parse,
    "unwrap": t_unwrap,
    "mo": t_mo,
    "push": t_push,
    "openreq": t_openreq,
    "verify": t_verify,
    "payload": t_payload,
    "reply179": t_reply179,
    "transfer": t_transfer,
    "soap": t_soap,
    "validate": t_validate,
}


#: known bugs hit so far in this process (each is printed once)
KNOWN_HITS: dict[str, int] = {}


def run_target(name: str, data: bytes) -> str:
    """Run one input: ``"ok"`` (accepted), ``"refused"`` (a CbecError), ``"known"`` (a known bug,
    printed to stderr the first time); anything else propagates: a crash."""
    try:
        TARGETS[name](data)
    except KnownBug as bug:
        about = bug.message
    except errors.CbecError:
        return "refused"
    except Exception as exc:
        found = known_bug(exc)
        if found is None or report_known():
            raise
        about = found
    else:
        return "ok"
    if about not in KNOWN_HITS:
        print(f"KNOWN BUG hit (not a new crash): {about}", file=sys.stderr)
    KNOWN_HITS[about] = KNOWN_HITS.get(about, 0) + 1
    return "known"


# --------------------------------------------------------------------------- seeds

#: which corpus files seed which target (by name prefix); every target also gets the valid-* files
_SEED_PREFIXES: dict[str, tuple[str, ...]] = {
    "xml": ("xml-", "ceb", "mo-", "dxp", "sig-", "soap-"),
    "parse": ("xml-", "ceb", "sig-"),
    "unwrap": ("dxp", "xml-"),
    "mo": ("mo-", "xml-", "transfer-mo"),
    "push": ("push-", "xml-", "ceb", "mo-", "dxp"),
    "openreq": ("openreq-",),
    "verify": ("sig-", "xml-"),
    "payload": ("payload-",),
    "reply179": ("reply179-",),
    "transfer": ("transfer-", "mo-"),
    "soap": ("soap-", "xml-"),
    "validate": ("ceb", "xml-", "sig-"),
}


def _samples() -> Iterator[Path]:
    """The official samples in the shared reference folder, when it is there (read, never copied)."""
    for folder in (Path(os.environ.get("CBEC_SHARED", "")), ROOT.parent / "shared", Path("/work/shared")):
        samples = folder / "reference" / "samples"
        if samples.is_dir() and str(folder):
            yield from sorted(p for p in samples.rglob("*.xml") if p.is_file())
            return


def seeds(name: str, *, with_samples: bool = True) -> list[tuple[str, bytes]]:
    """(file name, bytes) seeds of a target: its corpus files, the valid ones, and (for XML targets)
    the official samples."""
    prefixes = (*_SEED_PREFIXES[name], "valid-")
    out = [
        (path.name, path.read_bytes())
        for path in sorted(CORPUS.iterdir())
        if path.is_file() and path.name.startswith(prefixes)
    ]
    if with_samples and name in ("xml", "parse", "unwrap", "mo", "push", "verify", "validate", "soap"):
        out += [(f"sample-{p.parent.name}-{p.name}", p.read_bytes()) for p in _samples()]
    return out


def describe(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


def check_input(name: str, data: bytes) -> str:
    """For tools: run one input and say what happened."""
    try:
        return run_target(name, data)
    except Exception as exc:
        return f"CRASH {describe(exc)}"
