"""Cell-level parsing: numbers as bureaus print them, periods, measures, units of measure.

Nothing is guessed: a cell either parses to a number, is an explicit "no value"
placeholder ("-", "—", blank → ``None``, never 0), or is an error with a reason.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

NO_VALUE = frozenset({"", "-", "--", "—", "——", "–", "/", "－", "…", "...", "无"})  # NFKC turns … into ...
# Zero-width characters are deleted (invisible: "清\u200b河县" is 清河县, not "清 河县"); no-break
# and ideographic spaces are spaces.
_ZERO_WIDTH = {**dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None),
               **dict.fromkeys(map(ord, "\u00a0\u3000"), " ")}
# ASCII digits only (re.ASCII): full-width digits are ASCII after NFKC, but Arabic-Indic or
# Devanagari digits would otherwise pass \d and float() and be read as a number.
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$", re.ASCII)
_PLAIN = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$", re.ASCII)


def clean_text(cell: object) -> str:
    """NFKC (full-width digits and signs to ASCII), zero-width and no-break spaces removed,
    runs of spaces collapsed, ends stripped."""
    if cell is None:
        return ""
    text = unicodedata.normalize("NFKC", str(cell)).translate(_ZERO_WIDTH)
    return " ".join(text.split())


@dataclass(frozen=True)
class Number:
    value: float | None  # None: an explicit "no value"
    approx: bool = False
    error: str | None = None


def parse_number(cell: object) -> Number:
    """'1,234.5' → 1234.5; '约3.4' → 3.4 approx; '-' / '—' / '' → no value; '12%' → 12.

    Text, NaN and infinities are errors (the row is rejected, never stored as 0)."""
    text = clean_text(cell).replace(" ", "")
    if text in NO_VALUE:
        return Number(None)
    approx = False
    for prefix in ("约", "大约", "近", "~", "≈"):
        if text.startswith(prefix):
            approx, text = True, text[len(prefix):]
            break
    if text.endswith("%"):
        text = text[:-1]
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    if not _PLAIN.match(text):
        return Number(None, approx, f"「{_quoted(cell)}」不是数字")
    value = float(text)
    if not math.isfinite(value):
        return Number(None, approx, f"「{_quoted(cell)}」不是有限数值")
    return Number(value, approx)


def _quoted(cell: object, width: int = 40) -> str:
    """A cell's text as quoted in a message: a huge cell is cut, with its length."""
    text = clean_text(cell)
    return text if len(text) <= width else f"{text[:width]}…（共 {len(text):,} 个字符）"


_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9, "十": 10, "十一": 11, "十二": 12}
_NAMED_PERIODS = {"一季度": 3, "第一季度": 3, "上半年": 6, "二季度": 6, "前三季度": 9, "三季度": 9,
                  "全年": 12, "四季度": 12}


def parse_period(cell: object) -> int | None:
    """The month a reported value closes: '9', '1-9月', '1—9月', '9月', '前三季度' → 9;
    '1-2月' → 2. Returns None when the text names no period."""
    text = clean_text(cell).replace(" ", "")
    if not text:
        return None
    for name, month in _NAMED_PERIODS.items():
        if text.endswith(name):
            return month
    m = re.fullmatch(r"(?:\d{4}年)?(?:1[-—–~至到]|一[-—–~至到])?(\d{1,2}|[一二两三四五六七八九十]+)月?(?:份)?(?:累计)?", text)
    if not m:
        return None
    token = m.group(1)
    month = int(token) if token.isdigit() else _CN_DIGITS.get(token)
    return month if month and 1 <= month <= 12 else None


def parse_year(cell: object) -> int | None:
    m = re.fullmatch(r"(\d{4})(?:年|年度)?", clean_text(cell).replace(" ", ""))
    return int(m.group(1)) if m and 1990 <= int(m.group(1)) <= 2100 else None


MEASURES = {
    "ytd": "1-N月累计", "month": "当月", "growth_pct": "同比增长%", "level": "水平值",
    "done": "是否完成", "published_completion_pct": "完成率（公布）", "published_rank": "位次（公布）",
}
_MEASURE_SYNONYMS = {
    "累计": "ytd", "累计完成": "ytd", "1-n月累计": "ytd", "本期累计": "ytd", "完成值": "ytd",
    "当月": "month", "本月": "month", "同比增长%": "growth_pct", "同比增长": "growth_pct",
    "增长%": "growth_pct", "增速": "growth_pct", "增长": "growth_pct", "同比%": "growth_pct",
    "水平": "level", "水平值": "level", "数值": "level", "是否完成": "done", "完成情况": "done",
    "完成率": "published_completion_pct", "完成率%": "published_completion_pct",
    "占年度目标%": "published_completion_pct", "完成全年目标%": "published_completion_pct",
    "位次": "published_rank", "排名": "published_rank",
}


def parse_measure(cell: object) -> str | None:
    text = clean_text(cell).replace(" ", "").lower()
    if text in MEASURES:
        return text
    return _MEASURE_SYNONYMS.get(text)


# Units of measure that differ only by a scale: value in `unit` × factor = value in base.
_SCALES = {
    "元": ("元", 1.0), "万元": ("元", 1e4), "亿元": ("元", 1e8), "万亿元": ("元", 1e12),
    "美元": ("美元", 1.0), "万美元": ("美元", 1e4), "亿美元": ("美元", 1e8),
    "人": ("人", 1.0), "万人": ("人", 1e4), "亩": ("亩", 1.0), "万亩": ("亩", 1e4),
    "个": ("个", 1.0), "家": ("家", 1.0), "户": ("户", 1.0), "件": ("件", 1.0), "起": ("起", 1.0),
}


def conversion_factor(from_unit: str, to_unit: str) -> float | None:
    """Factor turning a value in ``from_unit`` into ``to_unit`` ('万元' → '亿元' = 0.0001);
    1 when they are equal or one is blank; None when they are not convertible."""
    a, b = clean_text(from_unit), clean_text(to_unit)
    if not a or not b or a == b:
        return 1.0
    sa, sb = _SCALES.get(a), _SCALES.get(b)
    if sa and sb and sa[0] == sb[0]:
        return sa[1] / sb[1]
    return None


def infer_kind(name: str, unit_of_measure: str) -> str:
    """Kind of an indicator created from an upload: '%'/增长/增速 → rate, else cumulative."""
    text = clean_text(name) + clean_text(unit_of_measure)
    return "rate" if any(k in text for k in ("%", "增长", "增速")) else "cumulative"


def infer_level(name: str) -> str:
    """Level of a unit created from an upload, from its name's ending."""
    n = clean_text(name)
    if n.endswith(("镇", "乡", "街道", "街道办")):
        return "township"
    if n.endswith(("县", "区", "市")) and not n.startswith("县"):
        return "county"
    return "department"


_CELL_UNIT = re.compile(r"^(.*?\d)\s*(万亿元|亿元|万元|元|亿美元|万美元|美元|万人|人|万亩|亩|个|家|户|件|起|项|%)$")


def split_unit(cell: object) -> tuple[str, str | None]:
    """'1万亿元' → ('1', '万亿元'); '85%' → ('85', '%'); '3.5' → ('3.5', None): a unit written
    in the cell. A '%' is a unit too, so "85%" in an amount column (亿元) is refused as a unit
    mismatch, never stored as 85 亿元; growth and completion columns take it as it is."""
    text = clean_text(cell).replace(" ", "")
    m = _CELL_UNIT.match(text)
    return (m.group(1), m.group(2)) if m else (text, None)
