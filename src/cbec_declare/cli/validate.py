"""``cbec-declare validate FILE...``: XSD and business rules for each file, every finding listed.

Also home of the helpers the other multi-file commands share (``receipt``, ``verify``):
:func:`checked_inputs` reads the named files lazily after checking that all of them exist, and
:func:`file_failure` turns a per-file error into a report entry instead of stopping the run.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..envelope import unwrap
from ..errors import CbecError, ConfigError, UnexpectedDocumentError
from ..validation import Finding, Report, validate
from ..validation.schemas import load_schema_package
from ._common import EXIT_INVALID, EXIT_OK, emit_json, read_input

__all__ = ["add_parser", "checked_inputs", "file_failure", "run"]

_ENVELOPES = ("DxpMsg", "DxpMsgSv")


def checked_inputs(names: Sequence[str]) -> Iterator[tuple[str, bytes]]:
    """Check that every named file exists (``-`` at most once), then read them one at a time.

    A missing file is a usage error (:class:`ConfigError`, exit 2) raised before anything is read,
    so a run never prints half a report and then stops.
    """
    if list(names).count("-") > 1:
        raise ConfigError("stdin (-) can be read only once", code="cli.file", field="-")
    for name in names:
        if name != "-" and not Path(name).is_file():
            raise ConfigError(f"no such file: {name}", code="cli.file", field=name)
    return ((name, read_input(name)) for name in names)


def file_failure(name: str, exc: CbecError) -> tuple[dict[str, Any], str]:
    """A file that could not be processed: its JSON entry and its one human line."""
    return {"file": name, "ok": False, "error": exc.to_dict()}, f"{name}: {exc}"


def _validate_one(data: bytes, args: argparse.Namespace) -> tuple[Report, str | None]:
    """The report for one file; a DxpMsg/DxpMsgSv is unwrapped and its payload validated."""
    try:
        return validate(data, version=args.spec_version, directory=args.schemas), None
    except UnexpectedDocumentError as exc:
        if exc.field not in _ENVELOPES:
            raise
        kind = str(exc.field)
    payload = unwrap(data).payload
    return validate(payload, version=args.spec_version, directory=args.schemas), kind


def _finding_line(finding: Finding) -> str:
    line = f" (line {finding.line})" if finding.line is not None else ""
    return f"  {finding}{line}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def _summary(report: Report) -> str:
    errors, warnings = len(report.errors), len(report.warnings)
    if not errors:
        return f"ok, {_plural(warnings, 'warning')}" if warnings else "ok"
    return ", ".join(
        ["INVALID", _plural(errors, "error")] + ([_plural(warnings, "warning")] if warnings else [])
    )


def run(args: argparse.Namespace) -> int:
    if args.schemas is not None:
        load_schema_package(args.schemas)  # a wrong --schemas folder is a usage error, found first
    entries: list[dict[str, Any]] = []
    all_ok = True
    for name, data in checked_inputs(args.files):
        try:
            report, envelope = _validate_one(data, args)
        except CbecError as exc:
            if isinstance(exc, ConfigError):
                raise
            all_ok = False
            entry, line = file_failure(name, exc)
            entries.append(entry)
            if not args.json:
                print(line)
            continue
        all_ok = all_ok and report.ok
        entries.append({"file": name, **report.to_dict(), **({"envelope": envelope} if envelope else {})})
        if not args.json:
            inside = f" (inside {envelope})" if envelope else ""
            print(f"{name}: {report.message_type}{inside} [{report.version}]: {_summary(report)}")
            for finding in report.findings:
                print(_finding_line(finding))
    if args.json:
        emit_json({"ok": all_ok, "version": args.spec_version, "files": entries})
    elif len(entries) > 1:
        bad = sum(1 for entry in entries if not entry["ok"])
        print(f"{len(entries)} files, {bad} invalid" if bad else f"{len(entries)} files, all valid")
    sys.stdout.flush()
    return EXIT_OK if all_ok else EXIT_INVALID


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "validate",
        help="check messages against the XSD and the business rules",
        description="Validate 统一版 messages (CEB311 … CEB900, bare or inside a DxpMsg/DxpMsgSv) against "
        "the XSD of the chosen spec version and the business rules customs rejects for, and list every "
        "finding with its path, 中文名, code, message and line. A file that is not a readable message "
        "(malformed, hostile, not a CEB document) is reported with its error and the run goes on. "
        "Exit codes: 0 no file has an error (warnings allowed); 1 at least one file has an error or "
        "could not be read; 2 usage error (missing file, bad --schemas folder).",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="message files, or - for stdin")
    parser.add_argument(
        "--version",
        dest="spec_version",
        default="2018-113",
        choices=["2018-113", "2022-05"],
        help="spec version to validate against (default 2018-113)",
    )
    parser.add_argument(
        "--schemas",
        metavar="DIR",
        help="an official customs XSD package folder to validate against instead of the bundled schemas",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON report")
    parser.set_defaults(handler=run)
