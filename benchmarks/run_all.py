"""Run every benchmark and print one table of the ratios each measured against its own baseline.

Run: ``python benchmarks/run_all.py [--quick] [--only hot_path,flow] [--log all.txt]``.

Each script runs in its own process, one after the other (so they do not compete for the cores, and
the memory figures are the script's own), with a time limit. The suite's scripts (``hot_path``,
``flow``, ``memory``, ``soak``) hand their rows over as JSON lines (``--json``); the others
(``build_validate``, ``sign_verify``, ``ledger``, and ``scale_postgres`` when present) are read from
their printed tables. Every ratio in the table was measured within one run of one script, against a
baseline that script measured in the same run; nothing is compared across scripts or with old numbers.
``--log`` keeps every script's full output.

Defaults keep the whole run to roughly a quarter of an hour on 2 cores: ``memory`` with 10,000 orders
(``--memory-orders``), ``flow`` with 100 sales (``--flow-sales``), no soak (``--soak-count N`` adds one).
``ledger`` includes PostgreSQL when its server binaries are installed (a throw-away cluster);
``scale_postgres.py`` runs only if it exists and PostgreSQL is available.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench_common import BENCH_DIR, ROOT, Row

Parser = Callable[[str], list[Row]]

_NUMBER = r"(?:\d+(?:\.\d+)?|nan)"


def parse_build_validate(text: str) -> list[Row]:
    rows, title = [], ""
    line_re = re.compile(rf"^(?P<case>\S.*?)\s+(?P<us>{_NUMBER})\s+\d+\s+(?P<ratio>{_NUMBER})× (?P<base>.+)$")
    for line in text.splitlines():
        if ": " in line and "ratio against" in line:
            title = line.split(":")[0]
            continue
        match = line_re.match(line)
        if match:
            rows.append(Row("build_validate", f"{title}: {match['case']}", float(match["us"]), "µs/op",
                            float(match["ratio"]), match["base"]))  # fmt: skip
    return rows


def parse_sign_verify(text: str) -> list[Row]:
    rows = []
    line_re = re.compile(
        rf"^(?P<key>RSA-2048|RSA-1024|SM2)\s+(?P<case>.+?)\s+(?P<us>{_NUMBER})\s+(?P<raw>{_NUMBER})x"
        rf"(?:\s+(?P<other>{_NUMBER})x|\s+n/a)?\s*$"
    )
    for line in text.splitlines():
        match = line_re.match(line)
        if not match:
            continue
        case = f"{match['key']} {match['case'].strip()}"
        base = "raw verify" if "verify" in match["case"] else "raw sign"
        rows.append(Row("sign_verify", case, float(match["us"]), "µs/op", float(match["raw"]), base))
        if match["other"]:
            other = "signxml verify" if "verify" in match["case"] else "signxml sign"
            rows.append(Row("sign_verify", case, float(match["us"]), "µs/op", float(match["other"]), other))
    return rows


def parse_ledger(text: str) -> list[Row]:
    rows, section = [], ""
    line_re = re.compile(rf"^\s+(?P<case>.+?)\s+(?P<rate>\d+) /s\s+(?P<ratio>{_NUMBER})× baseline$")
    for line in text.splitlines():
        if line and not line.startswith(" "):
            section = line.strip()
            continue
        match = line_re.match(line)
        if match:
            rows.append(Row("ledger", f"{section}: {match['case']}", float(match["rate"]), "/s",
                            float(match["ratio"]), "plain INSERT, 1 row/txn"))  # fmt: skip
    return rows


def parse_generic(name: str) -> Parser:
    """Any line that ends in a ratio ``1.23× baseline`` (or ``1.23x``) becomes a row."""
    line_re = re.compile(rf"^\s*(?P<case>\S.*?)\s{{2,}}.*?(?P<ratio>{_NUMBER})\s*[×x]\s*(?P<base>[^\d].*)?$")

    def parse(text: str) -> list[Row]:
        rows = []
        for line in text.splitlines():
            match = line_re.match(line)
            if match:
                ratio = float(match["ratio"])
                rows.append(Row(name, match["case"], ratio, "×", ratio, (match["base"] or "").strip()))
        return rows

    return parse


def parse_scale_postgres(text: str) -> list[Row]:
    """Its table: ledger × workers, declared s, decl./s, ratio, final s, final/s, ratio."""
    rows, base = [], ""
    line_re = re.compile(
        rf"^(?P<label>\S.*? × \d+)\s+{_NUMBER}\s+(?P<declared>{_NUMBER})\s*(?P<r1>{_NUMBER})×"
        rf"\s+{_NUMBER}\s+(?P<final>{_NUMBER})\s*(?P<r2>{_NUMBER})×\s*$"
    )
    for line in text.splitlines():
        if line.startswith("Ratios are to "):
            base = line.removeprefix("Ratios are to ").split(";")[0]
        match = line_re.match(line)
        if match:
            label = match["label"].strip()
            rows.append(Row("scale_postgres", f"{label}: declared/s", float(match["declared"]), "decl/s",
                            float(match["r1"]), base))  # fmt: skip
            rows.append(Row("scale_postgres", f"{label}: final/s", float(match["final"]), "docs/s",
                            float(match["r2"]), base))  # fmt: skip
    return rows or parse_generic("scale_postgres")(text)


def postgres_available() -> bool:
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from pipeline._pg import find_bindir
    except ImportError:
        return False
    finally:
        sys.path.remove(str(ROOT / "tests"))
    return find_bindir() is not None


def plan(args: argparse.Namespace, json_path: Path) -> list[tuple[str, list[str], Parser | None, float]]:
    """(name, arguments, stdout parser or None for --json scripts, time limit in seconds)."""
    quick = args.quick
    timing = ["--rounds", "3", "--ops", "50"] if quick else []
    mine = ["--json", str(json_path)]
    orders = args.memory_orders // 5 if quick else args.memory_orders
    steps: list[tuple[str, list[str], Parser | None, float]] = [
        ("build_validate", timing, parse_build_validate, 900),
        ("sign_verify", ["--rounds", "3", "--ops", "50"] if quick else [], parse_sign_verify, 900),
        ("hot_path", [*timing, *mine], None, 1200),
        ("ledger", ["--n", "200"] if quick else [], parse_ledger, 1200),
        ("flow", ["--sales", str(args.flow_sales // 2 if quick else args.flow_sales), *mine], None, 1800),
        (
            "memory",
            ["--orders", str(orders), "--checkpoints", f"{orders // 5},{orders // 2},{orders}", *mine],
            None,
            3600,
        ),  # checkpoints past the warm-up (the heap peak settles within ~2,000 orders)
    ]
    if args.soak_count:
        steps.append(("soak", ["--count", str(args.soak_count), *mine], None, 7200))
    if (BENCH_DIR / "scale_postgres.py").exists():
        if postgres_available():
            steps.append(("scale_postgres", [], parse_scale_postgres, 3600))
        else:
            print("scale_postgres.py: skipped (no PostgreSQL server binaries)")
    if args.only:
        wanted = set(args.only.split(","))
        steps = [step for step in steps if step[0] in wanted]
    return steps


def print_rows(rows: list[Row]) -> None:
    print(f"\n{'benchmark':<15} {'case':<74} {'value':>10} {'unit':<7} {'ratio':>8}  against")
    print("-" * 150)
    last = ""
    for row in rows:
        bench = row.bench if row.bench != last else ""
        last = row.bench
        ratio = f"{row.ratio:7.2f}×" if row.ratio is not None else f"{'':>8}"
        value = f"{row.value:10.1f}" if row.value < 100_000 else f"{row.value:10.0f}"
        print(f"{bench:<15} {row.case[:74]:<74} {value} {row.unit:<7} {ratio}  {row.baseline}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer rounds and smaller sizes (a smoke run)")
    parser.add_argument("--only", help="comma-separated benchmark names")
    parser.add_argument("--memory-orders", type=int, default=10_000)
    parser.add_argument("--flow-sales", type=int, default=100)
    parser.add_argument(
        "--soak-count", type=int, default=0, help="also run the soak with this many declarations"
    )
    parser.add_argument("--log", help="write every script's full output here")
    args = parser.parse_args()
    rows: list[Row] = []
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="cbec-bench-") as folder:
        json_path = Path(folder) / "rows.jsonl"
        log = Path(args.log).open("w", encoding="utf-8") if args.log else None  # noqa: SIM115
        try:
            for name, extra, parse, limit in plan(args, json_path):
                command = [sys.executable, str(BENCH_DIR / f"{name}.py"), *extra]
                print(f"running {name} {' '.join(extra)} ...", flush=True)
                started = time.monotonic()
                json_path.write_text("", encoding="utf-8")
                try:
                    done = subprocess.run(command, capture_output=True, text=True, timeout=limit, cwd=ROOT)
                    output, code = done.stdout + done.stderr, done.returncode
                except subprocess.TimeoutExpired as exc:
                    partial = [
                        p.decode() if isinstance(p, bytes) else p for p in (exc.stdout, exc.stderr) if p
                    ]
                    output, code = "".join(partial) + f"\n(timed out after {limit} s)", -1
                if log is not None:
                    log.write(f"===== {' '.join(command)}  (exit {code})\n{output}\n")
                    log.flush()
                found = parse(output) if parse else [Row(**json.loads(line)) for line in json_path.read_text(encoding="utf-8").splitlines() if line]  # fmt: skip
                print(
                    f"  {name}: exit {code}, {len(found)} rows, {time.monotonic() - started:.0f} s",
                    flush=True,
                )
                if code != 0 or not found:
                    failures.append(f"{name} (exit {code}, {len(found)} rows)")
                rows += found
        finally:
            if log is not None:
                log.close()
    print_rows(rows)
    print("\nratio: the case's figure divided by the baseline named in the last column, both measured in the")
    print("same run of the same script (time ratios: above 1 is slower; rate ratios (/s, decl/s): above 1 is")
    print("faster; memory ratios: above 1 grew).")
    if failures:
        sys.exit("failed or empty: " + ", ".join(failures))


if __name__ == "__main__":
    main()
