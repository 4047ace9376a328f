"""An ERP-style integration: hand the pipeline your sales, follow them to their customs status.

Run it against the embedded sandbox (no configuration needed):

    python examples/erp_integration.py

or against your deployment:

    python examples/erp_integration.py --config cbec.toml   (and run `cbec-declare worker --config cbec.toml`)

What an ERP does with the library: convert its own records into the models (here: a stand-in ERP table), submit
them (idempotent: running it twice declares nothing twice), and write every status change back (here: a dict).
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal

from cbec_declare import Order, OrderHead, OrderItem, StatusChange, load_config
from cbec_declare.testing.harness import start_harness

# --- a stand-in for the ERP's own tables -------------------------------------------------------------
ERP_SALES = [
    {"no": "ERP-10001", "buyer": ("王小明", "13905710001", "330106198507161214"),
     "address": "浙江省杭州市西湖区文三路100号", "lines": [("婴幼儿配方奶粉", "900g/罐 3段", "122", 2, "238.00", "554")]},
    {"no": "ERP-10002", "buyer": ("李华", "13800138000", "110105199003070076"),
     "address": "北京市朝阳区建国路88号", "lines": [("保湿面霜", "50ml/瓶", "142", 1, "315.00", "116"),
                                                   ("维生素C咀嚼片", "60片/瓶", "142", 3, "89.50", "502")]},
]  # fmt: skip
ERP_STATUS: dict[str, str] = {}


def to_order(sale: dict, company_code: str, company_name: str) -> Order:  # type: ignore[type-arg]
    """One ERP sale → the CEB311 model (the same model also yields the 杭州版 IMPORTORDER)."""
    items = [
        OrderItem(gnum=n, item_name=name, gmodel=model, unit=unit, qty=qty, price=Decimal(price),
                  total_price=Decimal(price) * qty, country=country)
        for n, (name, model, unit, qty, price, country) in enumerate(sale["lines"], 1)
    ]  # fmt: skip
    goods = sum((i.total_price for i in items), Decimal(0))
    tax = (goods * Decimal("0.091")).quantize(Decimal("0.01"))
    name, phone, id_number = sale["buyer"]
    head = OrderHead(
        app_time="20261128100000", order_no=sale["no"], ebp_code=company_code, ebp_name=company_name,
        ebc_code=company_code, ebc_name=company_name, goods_value=goods, freight=0, discount=0,
        tax_total=tax, actual_paid=goods + tax, buyer_reg_no=sale["no"], buyer_name=name,
        buyer_telephone=phone, buyer_id_number=id_number, consignee=name, consignee_telephone=phone,
        consignee_address=sale["address"],
        guid="6F1C2A48-93B1-4C55-9D0E-" + sale["no"].replace("-", "").rjust(12, "0"),  # stable: idempotent
    )  # fmt: skip
    return Order(head=head, items=items)


def write_back(change: StatusChange) -> None:
    """The ERP learns every change: here a dict; in real life an UPDATE or a message to a queue."""
    if change.order_no:
        ERP_STATUS[change.order_no] = (
            f"{change.new.value} {change.customs_status or ''} {change.reason}".strip()
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="your cbec.toml; default: the embedded sandbox")
    args = parser.parse_args()
    if args.config:
        pipeline = load_config(args.config).pipeline()
        pipeline.on_status(write_back)
        code, name = pipeline.base_transfer.cop_code, pipeline.base_transfer.cop_name
        results = pipeline.submit(to_order(s, code, name) for s in ERP_SALES)
        print(f"queued {sum(r.created for r in results)} new orders; `cbec-declare worker` sends them")
        return 0
    with start_harness() as harness:  # a sandbox and a pipeline wired to it
        harness.pipeline.on_status(write_back)
        code, name = harness.company.ebc_code, harness.company.ebc_name
        harness.submit(to_order(s, code, name) for s in ERP_SALES)
        if not harness.drain(timeout=120):
            print("not everything reached a final state in time", file=sys.stderr)
            return 1
    for order_no, status in sorted(ERP_STATUS.items()):
        print(f"{order_no}: {status}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
