"""Event times: ``rule.dates.*`` (all warnings).

The models already guarantee that every date is real and in the spec format (a bad one never becomes a
model: the parser reports it). What remains are plausibility checks customs does not document as
rejections, hence warnings: an ``appTime`` (报送时间), ``payTime`` or ``logisticsTime`` later than now by
more than :attr:`RuleOptions.clock_skew`, a payment made after it was reported, a 签收 after its report.
Times are naive Beijing time, as customs writes them; ``RuleContext.now`` is Beijing time too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ._base import WARNING, FieldCheck, Issues
from .context import RuleContext

__all__ = ["CHECKS"]


def _stamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


def _future(value: datetime, ctx: RuleContext, what: str) -> Issues:
    if value > ctx.now + ctx.options.clock_skew:
        return (
            (
                "rule.dates.future",
                f"{what} {_stamp(value)} is later than now ({_stamp(ctx.now)} Beijing time) "
                f"by more than {ctx.options.clock_skew}",
                WARNING,
            ),
        )
    return ()


def _app_time(value: datetime, entity: Any, ctx: RuleContext) -> Issues:
    return _future(value, ctx, "报送时间")


def _reported_after(value: datetime, entity: Any, ctx: RuleContext, what: str, code: str, why: str) -> Issues:
    """The future-time check, and a warning when the event lies after the document's 报送时间."""
    found = _future(value, ctx, what)
    reported = getattr(entity, "app_time", None)
    if isinstance(reported, datetime) and value > reported:
        late = f"{what} {_stamp(value)} is after the 报送时间 {_stamp(reported)}: {why}"
        return (*found, (code, late, WARNING))
    return found


def _pay_time(value: datetime, entity: Any, ctx: RuleContext) -> Issues:
    return _reported_after(
        value, entity, ctx, "支付时间", "rule.dates.pay_after_app", "a payment is reported after it is made"
    )


def _logistics_time(value: datetime, entity: Any, ctx: RuleContext) -> Issues:
    return _reported_after(
        value,
        entity,
        ctx,
        "物流状态时间",
        "rule.dates.event_after_app",
        "a status is reported after it happens",
    )


CHECKS: Mapping[str, tuple[FieldCheck, ...]] = {
    "appTime": (_app_time,),
    "payTime": (_pay_time,),
    "logisticsTime": (_logistics_time,),
}
