"""Identity numbers: 身份证 (``rule.identity.id_number``) and enterprise codes (``rule.identity.*``).

* ``buyerIdNumber`` / ``payerIdNumber`` with ID type 1 must be an 18-character 居民身份证号码: 17 digits and
  a check character (digit or X), a real birth date, the ISO 7064 MOD 11-2 check (python-stdnum
  ``cn.ric``). A region code unknown to stdnum's table is only a warning: the table lags behind new
  administrative divisions, and customs checks identities against the police register anyway.
* Enterprise codes (ebp/ebc/pay/logistics/agent/operator/area/assure/cop codes) are 10-character 海关注册
  编码 or 18-character 统一社会信用代码. An 18-character code must pass ``stdnum.cn.uscc`` (charset and
  check character); a 10-character one is checked for shape only (digits and capital letters); any other
  length is a warning, because platforms without customs registration use e-port-issued ids.

Messages never repeat a full identity number: the path says which field, the text says what is wrong.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from stdnum import numdb
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum
from stdnum.exceptions import ValidationError as StdnumError

from ._base import ERROR, WARNING, FieldCheck, Issue, Issues
from .context import RuleContext

__all__ = ["CHECKS", "check_enterprise_code", "check_id_number"]

_RIC_SHAPE = re.compile(r"[0-9]{17}[0-9Xx]")
_CUSTOMS_CODE = re.compile(r"[0-9A-Z]{10}")
_ID = "rule.identity.id_number"


@functools.lru_cache(maxsize=8192)  # the stdnum table search costs ~25 µs, and a few thousand codes exist
def _region_known(code: str) -> bool:
    # stdnum's own get_birth_place also requires the county code to have existed in the birth year,
    # but the code is where the number was issued, often years after birth (涿州市 130681 dates from 1994
    # and is in the numbers of people born earlier); so only ask whether the code was ever assigned.
    return any("county" in props for _, props in numdb.get("cn/loc").info(code))


def check_id_number(value: str, today: date) -> Iterator[Issue]:
    """Findings for one 居民身份证号码 (the caller has checked that the ID type is 1 身份证)."""
    if len(value) != 18:
        yield _ID, f"a 身份证 number has 18 characters, got {len(value)}", ERROR
        return
    if not _RIC_SHAPE.fullmatch(value):
        yield _ID, "a 身份证 number is 17 digits and a check character (digit or X)", ERROR
        return
    number = value.upper()
    expected = ric.calc_check_digit(number)
    if number[-1] != expected:
        yield _ID, f"check character is {number[-1]}, but the first 17 digits give {expected}", ERROR
        return
    try:
        # What stdnum's get_birth_date does, without its second clean-up pass over the number (~20 µs).
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        yield _ID, "characters 7–14 are not a real birth date (YYYYMMDD)", ERROR
        return
    if born > today:
        yield _ID, "the birth date (characters 7–14) lies in the future", ERROR
        return
    if value[-1] == "x":
        yield _ID, "write the check character X in upper case", WARNING
    if not _region_known(number[:6]):
        yield (
            "rule.identity.id_region",
            f"region code {number[:6]} is not in python-stdnum's table of administrative divisions "
            "(new or retired code?)",
            WARNING,
        )


def check_enterprise_code(value: str) -> Iterator[Issue]:
    """Findings for a 海关注册编码 (10) or 统一社会信用代码 (18)."""
    if len(value) == 18:
        try:
            uscc.validate(value)
        except StdnumError as exc:
            if isinstance(exc, InvalidChecksum):
                expected = uscc.calc_check_digit(value)
                reason = f"check character is {value[-1]}, the first 17 characters give {expected}"
            else:
                reason = "characters 1–8 must be digits, the rest digits or capitals other than I, O, S, V, Z"
            yield "rule.identity.uscc", f"not a valid 18-character 统一社会信用代码: {reason}", ERROR
        return
    if len(value) == 10:
        if not _CUSTOMS_CODE.fullmatch(value):
            yield (
                "rule.identity.customs_code",
                "a 10-character 海关注册编码 has digits and capital letters only",
                ERROR,
            )
        return
    yield (
        "rule.identity.enterprise_code",
        f"{len(value)} characters: neither a 10-character 海关注册编码 nor an 18-character 统一社会信用代码",
        WARNING,
    )


def _buyer_id(value: str, entity: Any, ctx: RuleContext) -> Issues:
    if getattr(entity, "buyer_id_type", None) == "1":
        return tuple(check_id_number(value, ctx.now.date()))
    return ()


def _payer_id(value: str, entity: Any, ctx: RuleContext) -> Issues:
    if getattr(entity, "payer_id_type", None) == "1":
        return tuple(check_id_number(value, ctx.now.date()))
    return ()


# A message names the same few enterprises again and again, and stdnum's USCC check costs ~20 µs.
@functools.lru_cache(maxsize=4096)
def _enterprise_issues(value: str) -> tuple[Issue, ...]:
    return tuple(check_enterprise_code(value))


def _enterprise(value: str, entity: Any, ctx: RuleContext) -> Issues:
    return _enterprise_issues(value)


CHECKS: Mapping[str, tuple[FieldCheck, ...]] = {
    "buyerIdNumber": (_buyer_id,),
    "payerIdNumber": (_payer_id,),
    **dict.fromkeys(
        (
            "ebpCode",
            "ebcCode",
            "payCode",
            "logisticsCode",
            "agentCode",
            "operatorCode",
            "areaCode",
            "assureCode",
            "copCode",
        ),
        (_enterprise,),
    ),
}
