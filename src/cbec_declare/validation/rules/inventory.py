"""What each trade mode requires of an inventory: ``rule.inventory.bonded_*`` / ``direct_required``.

messages.md §4.1: 保税进口 (1210) fills 账册编号 emsNo, 区内企业代码/名称 areaCode/areaName and, per item,
账册备案料号 itemRecordNo ("保税模式必填"); 直购进口 (9610) fills 运输工具编号 trafNo, 航班航次号
voyageNo and 提运单号 billNo ("直购进口必填，保税进口免填"). The XSD makes all of them optional, so
only these rules catch a missing one before customs does. For 1210 the 起运国 is "填写代码142";
that is a warning, since customs is not documented to reject on it.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...models import CEB621Message, Inventory, InventoryHead, InventoryItem
from ..report import Finding
from ._base import WARNING, documents, field_finding, item_path, part_path
from .context import RuleContext

__all__ = ["trade_mode_requirements"]

_BONDED_HEAD = ("ems_no", "area_code", "area_name")
_DIRECT_HEAD = ("traf_no", "voyage_no", "bill_no")


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def trade_mode_requirements(message: CEB621Message, ctx: RuleContext) -> Iterator[Finding]:
    """Fields 1210 and 9610 inventories must carry."""
    for inventory, path in documents(message):
        head: InventoryHead = inventory.head
        head_path = part_path(path, Inventory, "head")
        if head.trade_mode == "1210":
            for attr in _BONDED_HEAD:
                if _missing(getattr(head, attr)):
                    yield field_finding(
                        "rule.inventory.bonded_required",
                        "保税进口 (tradeMode 1210) requires this field (保税模式必填)",
                        head_path,
                        InventoryHead,
                        attr,
                    )
            for index, item in enumerate(inventory.items):
                if _missing(item.item_record_no):
                    yield field_finding(
                        "rule.inventory.bonded_required",
                        "保税进口 (tradeMode 1210) requires the 账册备案料号 of every item (保税模式必填)",
                        item_path(path, Inventory, "items", index),
                        InventoryItem,
                        "item_record_no",
                    )
            if head.country != "142":
                yield field_finding(
                    "rule.inventory.bonded_country",
                    f'保税进口 fills 起运国 with 142 ("保税进口填写代码142"), got {head.country!r}',
                    head_path,
                    InventoryHead,
                    "country",
                    WARNING,
                )
        elif head.trade_mode == "9610":
            for attr in _DIRECT_HEAD:
                if _missing(getattr(head, attr)):
                    yield field_finding(
                        "rule.inventory.direct_required",
                        "直购进口 (tradeMode 9610) requires this field (直购进口必填)",
                        head_path,
                        InventoryHead,
                        attr,
                    )
