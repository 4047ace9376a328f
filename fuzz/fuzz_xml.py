"""atheris harness for cbec_declare._xml.parse_untrusted.

Run it through the runner, which seeds it from the corpus: ``python fuzz/run.py --target xml --seconds 600``
(see fuzz/README.md). Any exception that is not a CbecError is a crash.
"""

from __future__ import annotations

import sys

import atheris  # type: ignore[import-untyped]

with atheris.instrument_imports(include=["cbec_declare"]):
    import targets


def test_one_input(data: bytes) -> None:
    targets.run_target("xml", data)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
