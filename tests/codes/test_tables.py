"""Code tables and error-code tables (messages.md §4.1, §7)."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

import cbec_declare.codes as codes
from cbec_declare.codes import (
    ANNUAL_LIMIT_CNY,
    APP_STATUSES,
    APP_TYPES,
    BUSINESS_ERROR_CODES,
    BUSINESS_ERROR_RANGES,
    CURRENCY_CNY,
    DXP_ERROR_CODES,
    ID_TYPES,
    SINGLE_TRANSACTION_LIMIT_CNY,
    SUBSCRIBE_STATUSES,
    TAX_BILL_STATUSES,
    TRADE_MODES,
    TRAF_MODES,
    AppStatus,
    AppType,
    IdType,
    SubscribeStatus,
    TaxBillStatus,
    TradeMode,
    describe_business_error,
    describe_dxp_code,
)


@pytest.mark.parametrize(
    ("table", "enum"),
    [
        (APP_TYPES, AppType),
        (APP_STATUSES, AppStatus),
        (ID_TYPES, IdType),
        (TRADE_MODES, TradeMode),
        (TAX_BILL_STATUSES, TaxBillStatus),
        (SUBSCRIBE_STATUSES, SubscribeStatus),
    ],
)
def test_tables_agree_with_the_enumerations(table: codes.CodeTable, enum: type) -> None:
    assert table.codes == {member.value for member in enum}
    assert table.authoritative
    for code in table.codes:
        entry = table.get(code)
        assert entry is not None
        assert entry.code == code
        assert entry.zh
        assert entry.en


def test_traf_mode_table_is_secondary() -> None:
    assert not TRAF_MODES.authoritative
    assert len(TRAF_MODES.codes) == 17
    air = TRAF_MODES.get("5")
    assert air is not None
    assert air.zh == "航空运输"
    assert all(entry.source == "CODE" for entry in TRAF_MODES.entries.values())
    assert "Q" not in TRAF_MODES
    assert TRAF_MODES.get("Q") is None


def test_tables_are_read_only() -> None:
    with pytest.raises(TypeError):
        APP_TYPES.entries["4"] = APP_TYPES.entries["1"]  # type: ignore[index]  # read-only on purpose


def test_fixed_values_and_limits() -> None:
    assert CURRENCY_CNY == "142"
    assert (Decimal(5000), Decimal(26000)) == (SINGLE_TRANSACTION_LIMIT_CNY, ANNUAL_LIMIT_CNY)


def zh(entry: codes.ErrorCode | None) -> str:
    assert entry is not None
    return entry.zh


def test_dxp_codes() -> None:
    assert set(DXP_ERROR_CODES) == {
        "0001", "0002", "0999", "1001", "1002", "1003", "1004", "1999",
        "2001", "2002", "2999", "3001", "3002", "3003", "3999",
    }  # fmt: skip
    assert zh(describe_dxp_code("1004")) == "签名与数据不符"
    assert zh(describe_dxp_code("4321")) == "用户可扩展错误"
    assert describe_dxp_code("0003") is None
    assert describe_dxp_code("abcd") is None


def test_business_codes() -> None:
    for code, entry in BUSINESS_ERROR_CODES.items():
        assert int(code) < 0
        assert entry.code == code
        # Every transcribed code lies in the range of its family.
        assert any(int(code) in span and span.family == entry.family for span in BUSINESS_ERROR_RANGES), code
    assert zh(describe_business_error("-621029")) == "验签失败"
    assert zh(describe_business_error("-504001")) == "运单处理异常"
    refund = describe_business_error("-625013")
    assert refund is not None
    assert refund.family == "退货申请单"
    assert describe_business_error("-999999") is None
    assert describe_business_error("x") is None


def test_ranges_do_not_overlap() -> None:
    spans = sorted(BUSINESS_ERROR_RANGES, key=lambda s: s.low)
    for a, b in itertools.pairwise(spans):
        assert a.high < b.low


def test_public_names() -> None:
    assert sorted(codes.__all__) == sorted(set(codes.__all__))
    for name in codes.__all__:
        assert hasattr(codes, name), name
    for name in ("ReceiptStatus", "StatusInfo", "describe_status", "TRAF_MODES", "DXP_ERROR_CODES"):
        assert name in codes.__all__
