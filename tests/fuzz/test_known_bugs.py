"""Each entry of ``targets.KNOWN_BUGS`` (crashes the fuzz harnesses tolerate while they are open) with
its reproducer, as a strict xfail: when a bug is fixed its test passes, pytest reports XPASS(strict)
as a failure, and the entry and the mark are removed together."""

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
@pytest.mark.xfail(strict=True, reason="a known bug (see targets.KNOWN_BUGS and tests/hostile/corpus)")
def test_known_bug_is_fixed(bug: str) -> None:
    name, data, _ = REPRODUCERS[bug]
    targets.run_target(name, data)


@pytest.mark.parametrize("bug", sorted(REPRODUCERS))
def test_reproducer_hits_its_known_bug(bug: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tolerated as known (not as a new crash) when reporting is off."""
    monkeypatch.delenv("CBEC_FUZZ_REPORT_KNOWN")
    name, data, _ = REPRODUCERS[bug]
    assert targets.run_target(name, data) == "known"


def test_every_known_bug_has_a_reproducer() -> None:
    modules = {module for _, module, _, _, _ in targets.KNOWN_BUGS}
    reproduced = {module for _, _, module in REPRODUCERS.values()}
    assert modules - {"cli/push.py"} == reproduced  # cli/push.py: tests/hostile/test_cli_hostile.py
