"""The reproducer of every crash the fuzzers found, kept as a regression case: each must now end in a
typed answer (accepted, or refused with a ``CbecError``), never another exception. While a new crash is
open it goes into ``targets.KNOWN_BUGS`` and here as a strict xfail."""

from __future__ import annotations

import pytest

from fuzz.fuzz_support import targets
from hostile import make_corpus

DEEP = b"[" * 3000 + b"]" * 3000
SIGNED = (make_corpus.CORPUS / "valid-signed-ceb311.xml").read_bytes()

#: (target, input, KNOWN_BUGS module it reproduces)
REPRODUCERS: dict[str, tuple[str, bytes, str]] = {
    "reader-int": ("parse", make_corpus.ceb816("+-1"), "messages/reader.py"),
    "openreq-service-time": (
        "openreq",
        make_corpus.form({"openReq": make_corpus.open_req(service_time="9" * 5000)}),
        "pay179/openreq.py",
    ),
    "payload-utf8": ("payload", b'{"sessionID":"\xff"}', "signing/pay179.py"),
    "openreq-depth": ("openreq", b"openReq=" + b"[" * 2000 + b"]" * 2000, "pay179/openreq.py"),
    "reply179-depth": ("reply179", DEEP, "pay179/upload.py"),
    "payload-depth": ("payload", b'{"sessionID":' + DEEP + b"}", "signing/_jsonspan.py"),
    "transfer-depth": ("transfer", DEEP, "transport/node.py"),
    "c14n-verify": (
        "verify",
        SIGNED.replace(b"<ceb:CEB311Message ", b'<ceb:CEB311Message xmlns:x="relative" ', 1),
        "*",
    ),
    "namespace-brace": (
        "unwrap",
        (make_corpus.CORPUS / "fuzz-namespace-brace.xml").read_bytes(),
        "*",
    ),
    "certificate-public-key": (
        "verify",
        (make_corpus.CORPUS / "fuzz-certificate-bad-public-key.xml").read_bytes(),
        "signing/certs.py",
    ),
    "certificate-issuer": (
        "verify",
        (make_corpus.CORPUS / "fuzz-certificate-bad-issuer.xml").read_bytes(),
        "signing/certs.py",
    ),
    "certificate-version": (
        "verify",
        (make_corpus.CORPUS / "fuzz-certificate-bad-version.xml").read_bytes(),
        "signing/certs.py",
    ),
    "c14n-mo": (
        "mo",
        b'<mo version="1.0.0" xmlns:x="r"><head><businessType>X</businessType></head><body><a/></body></mo>',
        "*",
    ),
}


@pytest.fixture(autouse=True)
def report_known(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CBEC_FUZZ_REPORT_KNOWN", "1")


@pytest.mark.parametrize("bug", sorted(REPRODUCERS))
def test_fixed_crash_stays_fixed(bug: str) -> None:
    name, data, _ = REPRODUCERS[bug]
    assert targets.run_target(name, data) in ("ok", "refused")


def test_no_crash_is_open() -> None:
    assert targets.KNOWN_BUGS == ()
