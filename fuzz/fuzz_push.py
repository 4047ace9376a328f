"""atheris harness for the receipt receiver: handle(), the WSGI app, handle_document() and decode_push(); documents are pushed genuinely (AES + platform digest) to reach the readers.

Run it through the runner, which seeds it from the corpus: ``python fuzz/run.py --target push --seconds 600``
(see fuzz/README.md). Any exception that is not a CbecError is a crash.
"""

from __future__ import annotations

import sys

import atheris  # type: ignore[import-untyped]

with atheris.instrument_imports(include=["cbec_declare"]):
    import targets


def test_one_input(data: bytes) -> None:
    targets.run_target("push", data)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
