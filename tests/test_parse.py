"""Cell-level parsing (analytics.parse): tables of cases with hand-written expectations.

Each row is one cell text as bureaus print it and what it must become. "No value" is
``Number(None)`` without an error — never 0; anything that is not a number is an error
with a reason, never a guess.
"""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.parse import (Number, conversion_factor, infer_kind, parse_measure, parse_number,
                             parse_period, parse_year)


# ------------------------------------------------------------------ parse_number

@pytest.mark.parametrize("cell, value, approx", [
    ("101.36", 101.36, False),
    ("0", 0.0, False),                       # zero is a value, not "no value"
    ("1,234.5", 1234.5, False),              # thousands separator
    ("12,345,678", 12345678.0, False),
    ("-1,234.5", -1234.5, False),            # negative with separators
    ("-2.1", -2.1, False),                   # negative growth
    ("+3", 3.0, False),
    (".5", 0.5, False),
    ("5.", 5.0, False),
    ("1e3", 1000.0, False),
    ("12%", 12.0, False),                    # a percent sign is dropped: the measure says it is a %
    ("12.5%", 12.5, False),
    ("  42  ", 42.0, False),                 # surrounding blanks
    ("\u200b42\u00a0", 42.0, False),         # zero-width and no-break spaces
    ("约3.4", 3.4, True),                    # approximate
    ("大约3.4", 3.4, True),
    ("近5", 5.0, True),
    ("≈2", 2.0, True),
    ("约1,234.5", 1234.5, True),
    ("１２３．４", 123.4, False),             # full-width digits and point
    ("１，２３４．５", 1234.5, False),         # full-width comma
    ("－１．５", -1.5, False),                # full-width minus
    ("１２％", 12.0, False),                  # full-width percent
    (3.5, 3.5, False),                       # a number from an XLSX cell
    (7, 7.0, False),
], ids=lambda v: repr(v) if isinstance(v, str) else None)
def test_parse_number_values(cell, value, approx):
    n = parse_number(cell)
    assert n == Number(value, approx, None)


@pytest.mark.parametrize("cell", ["", " ", "-", "--", "—", "——", "–", "－", "/", "无", None,
                                  "…"])
def test_parse_number_no_value_is_none_never_zero(cell):
    n = parse_number(cell)
    assert n.value is None and n.error is None and n.approx is False


@pytest.mark.parametrize("cell", [
    "abc", "1,23", "12,34,567", "1.234,5", "(5)", "5亿元", "nan", "NaN", "inf", "-inf", "Infinity",
    "1e400", "--5", "1.2.3", "约-", "12 %%",
])
def test_parse_number_errors_name_the_cell(cell):
    n = parse_number(cell)
    assert n.value is None
    assert n.error is not None and cell.replace(" ", "") in n.error.replace(" ", "")


@pytest.mark.parametrize("cell", ["1e400", "-1e400"])
def test_parse_number_overflow_is_not_finite_error(cell):
    assert "有限" in parse_number(cell).error


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_thousands_formatting_round_trips(x):
    """f"{x:,.2f}" is how bureaus print amounts; parsing it gives the 2-decimal value back."""
    n = parse_number(f"{x:,.2f}")
    assert n.error is None and n.approx is False
    assert n.value == round(x, 2)


@settings(max_examples=100, deadline=None)
@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False))
def test_approx_prefix_keeps_the_number(x):
    plain, approx = parse_number(f"{x:,.2f}"), parse_number(f"约{x:,.2f}")
    assert approx.value == plain.value and approx.approx is True


# ------------------------------------------------------------------ parse_period

@pytest.mark.parametrize("cell, month", [
    ("9", 9), ("09", 9), ("9月", 9), ("9月份", 9), ("1-9月", 9), ("1—9月", 9), ("1–9月", 9),
    ("1～9月", 9), ("1~9月", 9), ("1至9月", 9), ("1－9月", 9), ("1-9月累计", 9), ("2026年1-9月", 9),
    ("前三季度", 9), ("2026年前三季度", 9), ("１-９月", 9), ("九月", 9), ("一至九月", 9),
    ("1-2月", 2),       # 1-2月 reports arrive as period 2
    ("1月", 1), ("1", 1), ("12", 12), ("1-12月", 12), ("十月", 10), ("十一月", 11), ("十二月", 12),
    ("一季度", 3), ("第一季度", 3), ("上半年", 6), ("全年", 12),
    ("", None), ("  ", None), ("0", None), ("13", None), ("1-13月", None), ("2-9月", None),
    ("九月底", None), ("abc", None), ("2026-09", None),
])
def test_parse_period(cell, month):
    assert parse_period(cell) == month


# ------------------------------------------------------------------ parse_year

@pytest.mark.parametrize("cell, year", [
    ("2026", 2026), ("2026年", 2026), ("2026年度", 2026), ("２０２６", 2026), (" 2026 ", 2026), (2026, 2026),
    ("1990", 1990), ("2100", 2100),
    ("1989", None), ("2101", None), ("26", None), ("2026.5", None), ("二〇二六", None), ("", None), ("abcd", None),
])
def test_parse_year(cell, year):
    assert parse_year(cell) == year


# ------------------------------------------------------------------ parse_measure

@pytest.mark.parametrize("cell, measure", [
    ("ytd", "ytd"), ("YTD", "ytd"), (" ytd ", "ytd"), ("累计", "ytd"), ("累计完成", "ytd"), ("1-N月累计", "ytd"),
    ("本期累计", "ytd"),
    ("month", "month"), ("当月", "month"), ("本月", "month"),
    ("growth_pct", "growth_pct"), ("同比增长%", "growth_pct"), ("同比增长％", "growth_pct"), ("同比增长", "growth_pct"),
    ("增速", "growth_pct"), ("增长%", "growth_pct"),
    ("level", "level"), ("水平值", "level"),
    ("done", "done"), ("是否完成", "done"),
    ("完成率", "published_completion_pct"), ("占年度目标%", "published_completion_pct"),
    ("位次", "published_rank"), ("排名", "published_rank"),
    ("", None), ("累计值x", None), ("foo", None),
])
def test_parse_measure(cell, measure):
    assert parse_measure(cell) == measure


# ------------------------------------------------------------------ conversion_factor

@pytest.mark.parametrize("from_unit, to_unit, factor", [
    ("万元", "亿元", 1e-4),     # 12345 万元 = 1.2345 亿元
    ("亿元", "万元", 1e4),
    ("元", "万元", 1e-4),
    ("万亿元", "亿元", 1e4),    # 1 万亿元 = 10000 亿元
    ("亿元", "亿元", 1.0),
    ("万元 ", "万元", 1.0),     # blanks do not matter
    ("", "亿元", 1.0),          # the file states no unit: the indicator's own is assumed
    ("亿元", "", 1.0),
    ("万人", "人", 1e4),
    ("万亩", "亩", 1e4),
    ("万美元", "亿美元", 1e-4),
    ("亩", "亿元", None),       # different quantities
    ("万美元", "亿元", None),   # different currencies
    ("%", "亿元", None),
    ("吨", "万吨", None),       # not in the scale table: refused, not guessed
])
def test_conversion_factor(from_unit, to_unit, factor):
    got = conversion_factor(from_unit, to_unit)
    if factor is None:
        assert got is None
    else:
        assert math.isclose(got, factor, rel_tol=1e-15)


def test_conversion_applied_to_a_value():
    assert math.isclose(12345 * conversion_factor("万元", "亿元"), 1.2345, rel_tol=1e-12)
    assert math.isclose(1.5 * conversion_factor("亿元", "万元"), 15000.0, rel_tol=1e-12)


# ------------------------------------------------------------------ infer_kind

@pytest.mark.parametrize("name, uom, kind", [
    ("研发投入强度", "%", "rate"),
    ("研发投入强度", "％", "rate"),          # full-width percent
    ("新兴产业增速", "", "rate"),
    ("社会消费品零售总额增长", "亿元", "rate"),
    ("外贸进出口同比增长", "", "rate"),
    ("光伏装机容量", "万千瓦", "cumulative"),
    ("招商引资到位资金", "亿元", "cumulative"),
    ("新增城镇就业", "人", "cumulative"),
    ("", "", "cumulative"),
])
def test_infer_kind(name, uom, kind):
    assert infer_kind(name, uom) == kind
