from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from propfee.core.errors import InvalidValue
from propfee.core.money import (
    D,
    decimal_str,
    excel_float_text,
    format_money,
    hundredths_str,
    parse_area,
    parse_decimal,
    parse_money,
    round_fen,
)


@pytest.mark.parametrize(
    ("value", "fen"),
    [
        ("1,234.5", 123450),
        ("¥1234.50", 123450),
        ("￥1,234.50", 123450),
        ("１２３４.５０", 123450),
        ("1234.50元", 123450),
        (" 12 ", 1200),
        (".5", 50),
        ("1.230", 123),
        (Decimal("12.3"), 1230),
        (12, 1200),
        (89.37, 8937),
        (0.1 + 0.2, 30),  # Excel shows 0.3; so do we
        (223.43, 22343),
        (1e6, 100000000),
    ],
)
def test_parse_money_accepts(value, fen):
    assert parse_money(value) == fen


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1.234", "超过 2 位小数"),
        (Decimal("0.001"), "超过 2 位小数"),
        ("", "为空"),
        ("abc", "不是数字"),
        ("1,23", "用逗号作小数点"),
        ("1,2345", "不是数字"),
        ("1,5", "用逗号作小数点"),
        ("NaN", "不是有限的数字"),
        (float("nan"), "不是数字"),
        (float("inf"), "不是数字"),
        (Decimal("Infinity"), "不是有限的数字"),
        ("-5", "不能是负数"),
        ("0", "必须大于零"),
        (True, "不是数字"),
        (None, "不是数字"),
        ("1e3", "不是数字"),
    ],
)
def test_parse_money_refuses(value, message):
    with pytest.raises(InvalidValue, match=message):
        parse_money(value)


def test_negative_and_zero_when_allowed():
    assert parse_money("-50.00", allow_negative=True) == -5000
    assert parse_money("(12.50)", allow_negative=True) == -1250
    assert parse_money("−3", allow_negative=True) == -300  # a typographic minus
    assert parse_money("0", allow_zero=True) == 0
    assert parse_money("-0.00", allow_zero=True, allow_negative=True) == 0


def test_format():
    assert format_money(123450) == "¥1,234.50"
    assert format_money(-2000) == "-¥20.00"
    assert format_money(5) == "¥0.05"
    assert format_money(0) == "¥0.00"
    assert decimal_str(123450) == "1234.50"
    assert decimal_str(-5) == "-0.05"
    assert decimal_str(0) == "0.00"


@pytest.mark.parametrize(
    ("amount", "fen"),
    [("223.425", 22343), ("223.424999", 22342), ("0.005", 1), ("-0.005", -1), ("150", 15000)],
)
def test_round_half_up(amount, fen):
    assert round_fen(Decimal(amount)) == fen


def test_the_rounding_of_a_bill_line():
    # 89.37 m2 at 2.50 a month is 223.425, billed 223.43
    assert round_fen(Decimal("89.37") * Decimal("2.50")) == 22343


def test_D_refuses_floats():
    assert D("2.50") == Decimal("2.50")
    with pytest.raises(TypeError):
        D(2.5)  # type: ignore[arg-type]


def test_excel_float_text():
    assert excel_float_text(18909711443.0) == "18909711443"
    assert excel_float_text(89.37) == "89.37"
    assert excel_float_text(1e20) == "100000000000000000000"


def test_areas():
    assert parse_area("89.37㎡") == 8937
    assert parse_area("120 平方米") == 12000
    assert parse_area(89.37) == 8937
    assert hundredths_str(8937) == "89.37"
    assert hundredths_str(9000) == "90"
    assert hundredths_str(7120) == "71.2"
    for bad in ("0", "-1", "89.375", "abc"):
        with pytest.raises(InvalidValue):
            parse_area(bad)


fen_values = st.integers(min_value=-(10**13), max_value=10**13)


@given(fen_values)
def test_round_trip_through_the_formatter(fen):
    assert parse_money(format_money(fen), allow_negative=True, allow_zero=True) == fen
    assert parse_money(decimal_str(fen), allow_negative=True, allow_zero=True) == fen


@given(fen_values)
def test_round_trip_through_an_excel_float(fen):
    as_float = float(decimal_str(fen))  # what a spreadsheet cell holds
    assert parse_money(as_float, allow_negative=True, allow_zero=True) == fen


@given(fen_values)
def test_round_trip_through_full_width_text(fen):
    text = decimal_str(fen).translate(str.maketrans("0123456789.-", "０１２３４５６７８９．－"))
    assert parse_money(text, allow_negative=True, allow_zero=True) == fen


@given(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=4, min_value=-(10**9), max_value=10**9
    )
)
def test_more_than_two_places_is_refused_unless_exact(value):
    exact = value == value.quantize(Decimal("0.01"))
    try:
        parse_decimal(value, places=2, allow_negative=True)
    except InvalidValue:
        assert not exact
    else:
        assert exact
