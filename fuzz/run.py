"""Run the atheris harnesses: ``python fuzz/run.py --seconds N [--target NAME ...]``.

Each target runs as its own process (``fuzz/fuzz_<name>.py``) on a working corpus seeded from
``tests/hostile/corpus`` (and the official samples, when the shared reference folder is there),
for ``--seconds`` each or ``--runs`` inputs each. Crashes (any exception that is not a CbecError),
timeouts and out-of-memory inputs are written to the work folder's ``artifacts/<target>/``;
``--minimize FILE`` shrinks one. The summary gives, per target, the inputs tried and the findings;
the exit code is 1 when anything was found. See fuzz/README.md.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TARGETS = sorted(p.stem.removeprefix("fuzz_") for p in HERE.glob("fuzz_*.py"))
_EXECUTED = re.compile(r"stat::number_of_executed_units:\s*(\d+)")
_DONE = re.compile(r"Done (\d+) runs")
_UNCAUGHT = re.compile(r"=== Uncaught Python exception: ===\n([^\n]+)")
_ARTIFACT = ("crash-", "timeout-", "oom-", "leak-", "slow-unit-")


def _seed(target: str, corpus: Path) -> int:
    """Write the target's seeds into its working corpus (content-named, as libFuzzer names files)."""
    sys.path.insert(0, str(HERE))
    import targets  # the harness module; imported here only to list seeds

    corpus.mkdir(parents=True, exist_ok=True)
    count = 0
    for _, data in targets.seeds(target):
        import hashlib

        (corpus / hashlib.sha1(data, usedforsecurity=False).hexdigest()).write_bytes(data)
        count += 1
    return count


def _tail(path: Path, size: int = 256 * 1024) -> str:
    """The end of a log: libFuzzer writes its final statistics last."""
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - size))
        return handle.read().decode("utf-8", "replace")


def _command(target: str, args: argparse.Namespace, corpus: Path, artifacts: Path) -> list[str]:
    command = [
        sys.executable,
        str(HERE / f"fuzz_{target}.py"),
        str(corpus),
        f"-timeout={args.timeout}",
        f"-rss_limit_mb={args.rss_limit_mb}",
        f"-max_len={args.max_len}",
        f"-artifact_prefix={artifacts}/",
        "-print_final_stats=1",
    ]
    if args.runs is not None:
        command.append(f"-runs={args.runs}")
    if args.seconds is not None:
        command.append(f"-max_total_time={args.seconds}")
    return command


def run_one(target: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    corpus, artifacts = work / "corpus" / target, work / "artifacts" / target
    artifacts.mkdir(parents=True, exist_ok=True)
    seeded = _seed(target, corpus)
    env = dict(os.environ)
    # Where a harness keeps its scratch files (libFuzzer ends the process without Python's atexit).
    env["CBEC_FUZZ_SCRATCH"] = str(work / "scratch" / target)
    if args.report_known:
        env["CBEC_FUZZ_REPORT_KNOWN"] = "1"
    # Bounded: libFuzzer stops itself after --seconds; the margin covers start-up and the final merge.
    limit = (args.seconds or 0) + 600 if args.runs is None else max(600, (args.seconds or 0) + 600)
    log = work / "logs" / f"{target}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    # Straight to the file: a harness can print millions of lines, which must not pile up in this
    # process (its peak RSS is inherited by the next harness, whose -rss_limit_mb would then trip).
    with log.open("wb") as sink:
        try:
            status = subprocess.run(  # noqa: S603 - our own harness, run by this interpreter
                _command(target, args, corpus, artifacts),
                stdout=sink,
                stderr=subprocess.STDOUT,
                timeout=limit,
                env=env,
                check=False,
            ).returncode
        except subprocess.TimeoutExpired:
            status = -1
    output = _tail(log)
    executed = _EXECUTED.findall(output) or _DONE.findall(output)
    found = sorted(p.name for p in artifacts.iterdir() if p.name.startswith(_ARTIFACT))
    if status not in (0, None) and not found:
        # libFuzzer died without writing the input (seen once, killed by SIGALRM): name the exception.
        errors = _UNCAUGHT.findall(output)
        found = [f"no artifact; exit {status}; {errors[-1].strip() if errors else 'see the log'}"]
    return {
        "target": target,
        "seeds": seeded,
        "executed": int(executed[-1]) if executed else None,
        "corpus": sum(1 for _ in corpus.iterdir()),
        "status": status,
        "findings": found,
        "artifacts": str(artifacts),
        "log": str(log),
    }


def _signature(target: str, data: bytes) -> str | None:
    """What crashing on ``data`` looks like (exception type and innermost library frame), or None."""
    sys.path.insert(0, str(HERE))
    import targets

    try:
        targets.run_target(target, data)
    except Exception as exc:
        where = targets._innermost_library_frame(exc)
        return f"{type(exc).__name__} at {where}"
    return None


def minimize(target: str, crash: Path, args: argparse.Namespace) -> int:
    """Shrink a crash input in-process (delta debugging: drop chunks while the same crash remains);
    libFuzzer's own -minimize_crash re-executes the harness as a program, which a venv does not allow."""
    data = crash.read_bytes()
    wanted = _signature(target, data)
    if wanted is None:
        print(f"{crash} does not crash target {target}")
        return 1
    chunk = max(1, len(data) // 2)
    budget = args.runs or 20000
    while chunk >= 1 and budget > 0:
        start, shrunk = 0, False
        while start < len(data) and budget > 0:
            candidate = data[:start] + data[start + chunk :]
            budget -= 1
            if candidate and _signature(target, candidate) == wanted:
                data, shrunk = candidate, True
            else:
                start += chunk
        if not shrunk:
            chunk //= 2
    out = crash.with_name(f"minimized-{crash.name}")
    out.write_bytes(data)
    print(f"{wanted}; minimized to {len(data)} bytes: {out}")
    print(repr(data))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", action="append", choices=TARGETS, help="repeatable; default: all")
    parser.add_argument("--seconds", type=int, help="time per target (libFuzzer -max_total_time)")
    parser.add_argument("--runs", type=int, help="inputs per target (libFuzzer -runs)")
    parser.add_argument("--timeout", type=int, default=10, help="seconds one input may take (default 10)")
    parser.add_argument("--rss-limit-mb", type=int, default=2048, help="memory limit (default 2048)")
    parser.add_argument("--max-len", type=int, default=65536, help="longest generated input (default 64 KiB)")
    parser.add_argument("--parallel", type=int, default=1, help="targets run at the same time (default 1)")
    parser.add_argument("--work", type=Path, help="keep the working corpora, artifacts and logs here")
    parser.add_argument(
        "--report-known",
        action="store_true",
        help="treat the known bugs of targets.KNOWN_BUGS as crashes too",
    )
    parser.add_argument("--minimize", type=Path, metavar="CRASH", help="minimize one crash file of --target")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    if args.minimize is not None:
        if not args.target or len(args.target) != 1:
            parser.error("--minimize needs exactly one --target")
        return minimize(args.target[0], args.minimize, args)
    if args.seconds is None and args.runs is None:
        parser.error("give --seconds or --runs")
    chosen = args.target or TARGETS
    work = args.work or Path(tempfile.mkdtemp(prefix="cbec-fuzz-"))
    work.mkdir(parents=True, exist_ok=True)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.parallel)) as pool:
        results = list(pool.map(lambda target: run_one(target, args, work), chosen))
    if args.json:
        print(json.dumps({"work": str(work), "targets": results}, indent=2))
    else:
        print(f"work folder: {work}")
        for result in results:
            findings = ", ".join(result["findings"]) or "none"
            print(
                f"{result['target']:<10} inputs {result['executed']!s:>10}  corpus {result['corpus']:>6}  "
                f"exit {result['status']:>3}  findings: {findings}"
            )
    if args.work is None and not any(r["findings"] for r in results):
        shutil.rmtree(work, ignore_errors=True)
    bad = any(r["findings"] or r["status"] not in (0,) or r["executed"] is None for r in results)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
