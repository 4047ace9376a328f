#!/usr/bin/env bash
# Run the whole test suite from a fresh clone: venv, install, lint, type-check, tests.
# System packages (softhsm2, opensc, xmlsec1, ...) are installed by .ci/run or by you; see README.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q -U pip
.venv/bin/python -m pip install -q -e '.[dev]'
.venv/bin/ruff check src tests benchmarks examples
.venv/bin/ruff format --check src tests benchmarks examples
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
