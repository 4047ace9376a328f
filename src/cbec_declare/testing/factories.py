"""Factories for realistic, valid, mutually consistent documents (orders, payments, waybills, inventories).

Seeded, so the same seed gives the same documents: for tests, benchmarks, the sandbox and ``cbec-declare
demo``. Every amount adds up the way customs checks it (``acturalPaid = goodsValue + freight + taxTotal -
discount``; ``totalPrice = qty × price``), buyers have 身份证 numbers with a correct check digit, and the
payment, waybill and inventory of an order agree with it.

>>> f = DocumentFactory(seed=7)
>>> order = f.order(items=3)
>>> h = order.head
>>> h.actual_paid == h.goods_value + h.freight + h.tax_total - h.discount
True
>>> f.inventory_for(order).head.order_no == order.head.order_no
True
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import attrs

from ..models import (
    BaseTransfer,
    Inventory,
    InventoryHead,
    InventoryItem,
    LogisticsHead,
    Order,
    OrderHead,
    OrderItem,
    PaymentHead,
)

__all__ = ["Company", "DocumentFactory", "id_card_number"]

CENT = Decimal("0.01")

#: (name, model, unit, legal unit, HS code, price, origin country, unit weight kg)
_CATALOGUE = (
    ("婴幼儿配方奶粉", "900g/罐 3段 牛奶粉", "122", "035", "1901101000", "238.00", "554", "1.1"),
    ("维生素C咀嚼片", "60片/瓶 100mg", "142", "035", "2106909090", "89.50", "502", "0.12"),
    ("保湿面霜", "50ml/瓶 乳液状", "142", "035", "3304990099", "315.00", "116", "0.15"),
    ("无硅油洗发水", "500ml/瓶", "142", "035", "3305100090", "79.90", "304", "0.6"),
    ("鱼油软胶囊", "120粒/瓶 1000mg", "142", "035", "2106909090", "168.00", "502", "0.25"),
    ("电动牙刷", "声波式 充电款", "007", "007", "8509800090", "399.00", "344", "0.45"),
    ("蜂蜜", "500g/瓶 麦卢卡UMF10+", "142", "035", "0409000000", "259.00", "609", "0.7"),
    ("红酒", "750ml/瓶 干红", "142", "095", "2204210000", "188.00", "305", "1.4"),
)
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明")
_CITIES = (
    ("330106", "浙江省杭州市西湖区文三路{n}号"),
    ("110105", "北京市朝阳区建国路{n}号"),
    ("440304", "广东省深圳市福田区深南大道{n}号"),
    ("310115", "上海市浦东新区世纪大道{n}号"),
    ("510107", "四川省成都市武侯区人民南路{n}号"),
)


def id_card_number(district: str, birth: date, sequence: int) -> str:
    """An 18-digit 居民身份证 number with a valid ISO 7064 MOD 11-2 check digit."""
    body = f"{district}{birth:%Y%m%d}{sequence % 1000:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
    return body + check


@attrs.frozen(kw_only=True)
class Company:
    """The enterprises a declaration names (all may be one company)."""

    ebp_code: str = "3301964J31"
    ebp_name: str = "杭州示例跨境电商平台"
    ebc_code: str = "3301964J31"
    ebc_name: str = "杭州示例跨境电商有限公司"
    pay_code: str = "312228034T"
    pay_name: str = "示例支付有限公司"
    logistics_code: str = "3301980101"
    logistics_name: str = "示例国际物流有限公司"
    agent_code: str = "3301964J31"
    agent_name: str = "杭州示例跨境电商有限公司"
    customs_code: str = "2991"
    port_code: str = "2991"
    dxp_id: str = "DXPENT0000458763"

    @property
    def base_transfer(self) -> BaseTransfer:
        return BaseTransfer(cop_code=self.ebc_code, cop_name=self.ebc_name, dxp_id=self.dxp_id)


class DocumentFactory:
    """Seeded generator of consistent documents. Not thread-safe: use one per thread."""

    def __init__(
        self,
        *,
        seed: int = 0,
        company: Company | None = None,
        start: datetime | None = None,
        prefix: str = "HZ",
    ) -> None:
        self.random = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
        self.company = company or Company()
        self.start = start or datetime(2026, 11, 28, 9, 0, 0)
        self.prefix = prefix
        self._seq = 0

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def _buyer(self) -> tuple[str, str, str, str, str]:
        rnd = self.random
        name = rnd.choice(_SURNAMES) + "".join(rnd.choice(_GIVEN) for _ in range(rnd.randint(1, 2)))
        district, address = rnd.choice(_CITIES)
        birth = date(1970, 1, 1) + timedelta(days=rnd.randint(0, 365 * 35))
        id_number = id_card_number(district, birth, rnd.randint(0, 999))
        phone = f"1{rnd.choice('3589')}{rnd.randint(0, 999999999):09d}"
        return name, phone, id_number, address.format(n=rnd.randint(1, 999)), district

    def order(self, *, items: int = 3, order_no: str | None = None) -> Order:
        """One order with ``items`` lines; amounts add up, taxes at the 9.1% cross-border rate."""
        rnd = self.random
        n = self._next()
        name, phone, id_number, address, district = self._buyer()
        lines: list[OrderItem] = []
        goods = Decimal(0)
        for gnum in range(1, items + 1):
            title, spec, unit, _legal, _hs, price, country, _kg = rnd.choice(_CATALOGUE)
            qty = Decimal(rnd.randint(1, 3))
            total = (Decimal(price) * qty).quantize(CENT)
            goods += total
            lines.append(
                OrderItem(
                    gnum=gnum,
                    item_no=f"SKU{gnum:03d}{rnd.randint(0, 9999):04d}",
                    item_name=title,
                    gmodel=spec,
                    bar_code=f"69{rnd.randint(0, 10**11 - 1):011d}",
                    unit=unit,
                    qty=qty,
                    price=Decimal(price),
                    total_price=total,
                    country=country,
                )
            )
        freight = Decimal(rnd.choice(("0", "0", "10.00", "15.00")))
        discount = Decimal(rnd.choice(("0", "0", "0", "5.00")))
        tax = ((goods + freight) * Decimal("0.091")).quantize(CENT, ROUND_HALF_UP)
        app_time = self.start + timedelta(seconds=n)
        c = self.company
        head = OrderHead(
            app_time=app_time,
            order_no=order_no or f"{self.prefix}{app_time:%Y%m%d}{n:08d}",
            ebp_code=c.ebp_code,
            ebp_name=c.ebp_name,
            ebc_code=c.ebc_code,
            ebc_name=c.ebc_name,
            goods_value=goods,
            freight=freight,
            discount=discount,
            tax_total=tax,
            actual_paid=goods + freight + tax - discount,
            buyer_reg_no=f"u{rnd.randint(10**6, 10**7 - 1)}",
            buyer_name=name,
            buyer_telephone=phone,
            buyer_id_number=id_number,
            pay_code=c.pay_code,
            pay_name=c.pay_name,
            pay_transaction_id=f"PAY{app_time:%Y%m%d%H%M%S}{n:06d}",
            consignee=name,
            consignee_telephone=phone,
            consignee_address=address,
            consignee_district=district,
        )
        return Order(head=head, items=tuple(lines))

    def orders(self, count: int, *, items: int = 3) -> Iterator[Order]:
        for _ in range(count):
            yield self.order(items=items)

    def sale(self, *, items: int = 3) -> tuple[Order, PaymentHead, LogisticsHead, Inventory]:
        """One retail sale as customs sees it: the order, its payment, its waybill and its inventory
        (the four documents of 三单对碰), consistent with each other."""
        order = self.order(items=items)
        return order, self.payment_for(order), self.logistics_for(order), self.inventory_for(order)

    def sales(self, count: int, *, items: int = 3) -> list[Order | PaymentHead | LogisticsHead | Inventory]:
        """``count`` sales, flattened: order, payment, waybill, inventory, then the next sale's."""
        return [document for _ in range(count) for document in self.sale(items=items)]

    def payment_for(self, order: Order) -> PaymentHead:
        h = self.company
        o = order.head
        return PaymentHead(
            app_time=o.app_time,
            pay_code=h.pay_code,
            pay_name=h.pay_name,
            pay_transaction_id=o.pay_transaction_id or f"PAY{o.order_no}",
            order_no=o.order_no,
            ebp_code=o.ebp_code,
            ebp_name=o.ebp_name,
            payer_id_number=o.buyer_id_number,
            payer_name=o.buyer_name,
            telephone=o.buyer_telephone,
            amount_paid=o.actual_paid,
            pay_time=o.app_time - timedelta(minutes=1),
        )

    def logistics_no_for(self, order: Order) -> str:
        return f"YT{order.head.order_no[-12:]}"

    def logistics_for(self, order: Order) -> LogisticsHead:
        o = order.head
        c = self.company
        weight = sum((_weight(item) for item in order.items), Decimal(0)) + Decimal("0.2")
        return LogisticsHead(
            app_time=o.app_time,
            logistics_code=c.logistics_code,
            logistics_name=c.logistics_name,
            logistics_no=self.logistics_no_for(order),
            order_no=o.order_no,
            freight=o.freight,
            insured_fee=Decimal(0),
            weight=weight,
            pack_no=1,
            goods_info="; ".join(f"{i.item_name}×{i.qty.normalize():f}" for i in order.items)[:200],
            consignee=o.consignee,
            consignee_address=o.consignee_address,
            consignee_telephone=o.consignee_telephone,
        )

    def inventory_for(self, order: Order, *, cop_no: str | None = None, bonded: bool = False) -> Inventory:
        """The 进口清单 of an order: same buyer, items, prices; direct (9610) or bonded (1210) import."""
        o = order.head
        c = self.company
        items: list[InventoryItem] = []
        net = Decimal(0)
        for item in order.items:
            entry = _catalogue_entry(item.item_name)
            legal_qty = (_weight(item)).quantize(Decimal("0.001")) if entry[3] == "035" else item.qty
            net += _weight(item)
            items.append(
                InventoryItem(
                    gnum=item.gnum,
                    item_record_no=f"REC{item.item_no}"[:30] if bonded else None,
                    item_no=item.item_no,
                    item_name=item.item_name,
                    gcode=entry[4],
                    gname=item.item_name,
                    gmodel=item.gmodel,
                    bar_code=item.bar_code,
                    country=item.country,
                    trade_country=item.country,
                    qty=item.qty,
                    unit=item.unit,
                    qty1=legal_qty,
                    unit1=entry[3],
                    price=item.price,
                    total_price=item.total_price,
                )
            )
        head = InventoryHead(
            app_time=o.app_time,
            order_no=o.order_no,
            ebp_code=o.ebp_code,
            ebp_name=o.ebp_name,
            ebc_code=o.ebc_code,
            ebc_name=o.ebc_name,
            logistics_no=self.logistics_no_for(order),
            logistics_code=c.logistics_code,
            logistics_name=c.logistics_name,
            cop_no=cop_no or f"C{o.order_no[-19:]}",
            assure_code=c.ebc_code,
            ems_no="T2991W000001" if bonded else None,
            decl_time=o.app_time.date(),
            customs_code=c.customs_code,
            port_code=c.port_code,
            buyer_id_number=o.buyer_id_number,
            buyer_name=o.buyer_name,
            buyer_telephone=o.buyer_telephone,
            consignee_address=o.consignee_address,
            agent_code=c.agent_code,
            agent_name=c.agent_name,
            area_code=c.logistics_code if bonded else None,
            area_name=c.logistics_name if bonded else None,
            trade_mode="1210" if bonded else "9610",
            traf_mode="5" if not bonded else "4",
            traf_no=None if bonded else "CA1234",
            voyage_no=None if bonded else "CA1234/20261128",
            bill_no=None if bonded else "999-12345675",
            country="142" if bonded else order.items[0].country,
            freight=o.freight,
            insured_fee=Decimal(0),
            pack_no=1,
            gross_weight=net + Decimal("0.2"),
            net_weight=net,
        )
        return Inventory(head=head, items=tuple(items))


def _catalogue_entry(name: str) -> tuple[str, ...]:
    for entry in _CATALOGUE:
        if entry[0] == name:
            return entry
    return _CATALOGUE[0]


def _weight(item: OrderItem) -> Decimal:
    return Decimal(_catalogue_entry(item.item_name)[7]) * item.qty
