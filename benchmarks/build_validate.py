"""Build and validate speed per message, as ratios against validating the same bytes with xmlschema.

Run: ``python benchmarks/build_validate.py [--rounds 7] [--ops 200]``.

Messages: a realistic CEB311 with one order of 10 items, and the CEB621 inventory of that order (unsigned: the
inventory's XSD requires a signature, so both validators see the same single "Signature missing" error and
the comparison stays fair). Cases, all in the same run:

* build: model → canonical bytes (:func:`cbec_declare.messages.build`);
* validate XSD: parse + lxml ``XMLSchema`` with the project's schema (:func:`cbec_declare.validation.validate`
  with ``rules=False``) and with rules;
* baseline: ``xmlschema`` validating the same bytes against the same schema file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import xmlschema

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import measure, print_table

from cbec_declare.messages import build
from cbec_declare.models import CEB311Message, CEB621Message
from cbec_declare.testing.factories import DocumentFactory
from cbec_declare.validation import validate
from cbec_declare.validation.schemas import schema_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--ops", type=int, default=200)
    args = parser.parse_args()

    factory = DocumentFactory(seed=42)
    order = factory.order(items=10)
    transfer = factory.company.base_transfer
    ceb311 = CEB311Message(orders=[order], base_transfer=transfer)
    ceb621 = CEB621Message(inventories=[factory.inventory_for(order)], base_transfer=transfer)
    xs = xmlschema.XMLSchema(str(schema_path("2018-113")))

    messages = (("CEB311 (1 order, 10 items)", ceb311), ("CEB621 (1 inventory, 10 items)", ceb621))
    for label, message in messages:
        data = build(message)
        cases = {
            "build (model → canonical bytes)": lambda m=message: build(m),
            "validate: parse + lxml XSD": lambda d=data: validate(d, rules=False),
            "validate: parse + lxml XSD + business rules": lambda d=data: validate(d),
            "build + validate (XSD + rules)": lambda m=message: validate(build(m)),
            "baseline: xmlschema is_valid (same bytes)": lambda d=data: xs.is_valid(d.decode("utf-8")),
        }
        t = measure(cases, rounds=args.rounds, ops=args.ops)
        base_name = "baseline: xmlschema is_valid (same bytes)"
        base = t[base_name]
        print_table(
            f"{label}: {len(data)} bytes; ratio against xmlschema on the same bytes",
            [(name, seconds, "xmlschema", base) for name, seconds in t.items()],
        )


if __name__ == "__main__":
    main()
