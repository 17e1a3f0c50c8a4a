"""Validation of cell records in DuckDB — the same checks for every layout, vectorised.

Input: a temp table or view ``_recs`` (one row per file cell holding a value or a target; text as
found: row, header, cell, kind, year, period, unit, indicator, parent, uom, measure, text).
Names, periods and measures have few distinct values: those are parsed once each in
Python (the same parsers as everywhere) and joined back; plain numbers are cast in SQL and
only the rest ("约3.4", "1,234", "1万亿元", "—") go through the Python parser.
Output: temp table ``_w`` (typed records) and ``_rej`` (rejected rows), and the problems.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import duckdb

from .errors import Problem
from .parse import (MEASURES, clean_text, conversion_factor, parse_measure, parse_number, parse_period, parse_year,
                    split_unit)

UNSCALED = ("growth_pct", "published_completion_pct", "published_rank", "done")
MAX_LISTED = 2000
PUBLISHED_TOLERANCE_PP = 0.05

KEY_FIELDS = ("year", "period", "measure", "unit", "indicator", "uom")
# one scan of _recs: each key field's distinct texts, whether no record names a unit, the file rows
_DISTINCT_KEYS = ("SELECT " + ", ".join(f"list(DISTINCT {c})" for c in KEY_FIELDS) +
                  ", bool_and(trim(unit) = ''), count(DISTINCT row) FROM _recs")


@dataclass
class Checked:
    problems: list[Problem] = field(default_factory=list)
    rejected: int = 0
    storable_rows: int = 0
    empty_rows: int = 0


_SCHEMAS = {
    "_years": "raw VARCHAR, val INTEGER", "_periods": "raw VARCHAR, val INTEGER", "_measures": "raw VARCHAR, val VARCHAR",
    "_units": "raw VARCHAR, unit_id VARCHAR, unit_no INTEGER",
    "_inds": "raw VARCHAR, indicator_id VARCHAR, kind VARCHAR, ind_uom VARCHAR, ind_no INTEGER",
    "_nums": "raw VARCHAR, value DOUBLE, approx BOOLEAN, error VARCHAR, cell_uom VARCHAR",
    "_factors": "pair INTEGER, uom VARCHAR, ind_uom VARCHAR, factor DOUBLE",
}
_CREATE = {name: "CREATE OR REPLACE TEMP TABLE " + name + "(" + cols + ")" for name, cols in _SCHEMAS.items()}
# one list parameter a column, unnested side by side
_FILL = {name: "INSERT INTO " + name + " SELECT " + ", ".join(f"unnest(?::{c.split()[1]}[])" for c in cols.split(", "))
         for name, cols in _SCHEMAS.items()}


def _table(con: duckdb.DuckDBPyConnection, name: str, rows: list[tuple]) -> None:
    """Materialise a small Python-made lookup as a typed temp table (name is one of ours)."""
    con.execute(_CREATE[name])
    if rows:
        con.execute(_FILL[name], [list(column) for column in zip(*rows)])


def distinct_keys(con) -> dict:
    """The distinct texts of each key field of ``_recs`` (year, period, measure, unit,
    indicator, uom), ``no_unit`` (no record names a unit) and ``rows`` (file rows), in one scan."""
    *lists, no_unit, rows = con.execute(_DISTINCT_KEYS).fetchone()
    return {**dict(zip(KEY_FIELDS, lists)), "no_unit": no_unit, "rows": rows}


def build_lookups(con, units: dict[str, str], indicators: dict[str, dict], keys: dict) -> None:
    """Parse each distinct year, period, measure and name (``keys``: :func:`distinct_keys`)
    once; numbers that are not plain; the conversion factor of each unit of measure pair."""
    _table(con, "_years", [(v, parse_year(v)) for v in keys["year"]])
    _table(con, "_periods", [(v, parse_period(v)) for v in keys["period"]])
    _table(con, "_measures", [(v, parse_measure(v)) for v in keys["measure"]])
    # each unit and indicator also gets a number (the same for every name of it): the checks
    # that group the records by unit and indicator group these numbers (cheaper than the ids)
    ids = {v: units.get(clean_text(v)) for v in keys["unit"]}
    numbers = {i: n for n, i in enumerate(set(ids.values()) - {None})}
    _table(con, "_units", [(v, i, numbers.get(i)) for v, i in ids.items()])
    recs = {v: indicators.get(clean_text(v)) for v in keys["indicator"]}
    numbers = {i: n for n, i in enumerate({rec["indicator_id"] for rec in recs.values() if rec})}
    _table(con, "_inds", [(v, None, None, None, None) if rec is None else
                          (v, rec["indicator_id"], rec["kind"], rec["unit_of_measure"] or "", numbers[rec["indicator_id"]])
                          for v, rec in recs.items()])
    # the pattern is tried once per distinct text; '' is left out: in _nums it would read as it
    # reads without (no value, no error, no unit), and it is half the cells of a long file
    odd = [r[0] for r in con.execute(
        "SELECT text FROM (SELECT DISTINCT text FROM _recs WHERE text <> '') WHERE NOT coalesce(" + _PLAIN_SQL +
        ", false)").fetchall()]
    nums = []
    for text in odd:
        number_text, cell_uom = split_unit(text)
        p = parse_number(number_text)
        nums.append((text, p.value, p.approx, p.error, cell_uom))
    _table(con, "_nums", nums)
    pairs = con.execute(_UOM_PAIRS, {"uoms": keys["uom"]}).fetchall()
    _table(con, "_factors", [(k, u, iu, conversion_factor(u or "", iu or "")) for k, (u, iu) in enumerate(pairs)])


# a plain number, cast in SQL: the pattern of parse._PLAIN (TRY_CAST alone also takes "1_000", "0x10"…)
_PLAIN_SQL = (r"(regexp_full_match(text, '\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*')"
              " AND isfinite(TRY_CAST(text AS DOUBLE)))")
# every text that is not a plain number has its row in _nums (build_lookups): the rest cast safely
_NUMBER = "CASE WHEN n.raw IS NULL THEN TRY_CAST(r.text AS DOUBLE) ELSE n.value END"
MAX_MAGNITUDE = 1e15  # in the indicator's own unit: above any county figure (1e15 亿元), far below overflow
_MEASURE = """CASE WHEN r.measure = '' THEN CASE i.kind WHEN 'cumulative' THEN 'ytd' WHEN 'rate' THEN 'growth_pct'
              WHEN 'ceiling' THEN 'level' WHEN 'milestone' THEN 'done' WHEN 'veto' THEN 'done' END ELSE m.val END"""
_UNSCALED = "('growth_pct', 'published_completion_pct', 'published_rank', 'done')"
# every (unit of measure, indicator's unit) pair a cell can have: the records' units of
# measure and those written in cells × the indicators' units (a few each: no scan of the cells;
# a pair no cell has is harmless, and a blank cell's factor is never used)
_UOM_PAIRS = """
SELECT u.uom, i.ind_uom
FROM (SELECT unnest($uoms::VARCHAR[]) AS uom UNION SELECT cell_uom FROM _nums WHERE cell_uom IS NOT NULL) u,
     (SELECT coalesce(ind_uom, '') AS ind_uom FROM _inds UNION SELECT '') i"""

# A blank cell (text only spaces) has no value, no error, nothing to convert: the only checks it
# can fail are those of its row's key texts (year, period, measure, unit, indicator), each a
# function of one lookup row. When no key text fails, blank cells are left out of _w (the empty
# cells and rows are counted from _recs); otherwise every cell goes in, as always.
_KEY_PROBLEMS = """
SELECT EXISTS (SELECT 1 FROM _years WHERE (trim(raw) <> '' AND val IS NULL) OR val <> $year
                                          OR (coalesce(val, $year) IS NULL AND trim(raw) = ''))
    OR EXISTS (SELECT 1 FROM _periods WHERE (trim(raw) <> '' AND val IS NULL) OR val <> $period)
    OR EXISTS (SELECT 1 FROM _measures WHERE trim(raw) <> '' AND val IS NULL)
    OR EXISTS (SELECT 1 FROM _units WHERE trim(raw) = '') OR EXISTS (SELECT 1 FROM _inds WHERE trim(raw) = '')"""


def _with_text(lookup: str) -> str:
    """A lookup with ``has_text`` (its key text is not blank): worked out once per distinct
    text, where trimming each record's texts again would cost a trim per record."""
    return f"(SELECT *, trim(raw) <> '' AS has_text FROM {lookup})"


# kind and measure take a few values, all ours: as ENUMs they take a byte each in _w (a VARCHAR
# costs far more to copy and to compare), and read as text everywhere
_KIND = "ENUM('value', 'target')"
_MEASURE_TYPE = "ENUM(" + ", ".join(f"'{m}'" for m in MEASURES) + ")"

# a blank cell (only spaces): most are '', which CASE tells without a trim
_BLANK = "CASE WHEN text = '' THEN true ELSE trim(text) = '' END"


def _typed(key_problems: bool, convert: bool) -> str:
    """One pass: typed records, with the row-level facts the checks need kept as flags. A column
    copied into _w costs more than a join that gives it back: the columns only the key checks
    read are left out when they cannot fail, the units of measure are kept as their pair in
    _factors (``pair``). Without ``convert`` (every factor in _factors is 1) no join is needed
    to convert: the factor is 1 throughout, and no pair can fail."""
    keys = ("y.val AS year_file, p.val AS period_file, y.has_text AS has_year_text, "
            "m.has_text AS has_measure_text, NOT u.has_text AS no_unit, NOT i.has_text AS no_indicator,"
            if key_problems else "")
    factor = f"CASE WHEN t.measure IN {_UNSCALED} THEN 1.0 ELSE f.factor END" if convert else "1.0::DOUBLE"
    return f"""
CREATE OR REPLACE TEMP TABLE _w AS
SELECT t.* EXCLUDE (uom, ind_uom), {"f.pair" if convert else "NULL::INTEGER AS pair"}, {factor} AS factor,
       t.raw_value * {factor} AS value
FROM (SELECT r.row, r.header, r.kind::{_KIND} AS kind, {keys}
             coalesce(y.val, $year) AS year, coalesce(p.val, CASE WHEN r.kind = 'value' THEN $period END) AS period,
             p.has_text AS has_period_text, u.unit_id, i.indicator_id, u.unit_no, i.ind_no,
             i.kind = 'cumulative' AS cumulative,
             coalesce(i.ind_uom, '') AS ind_uom, ({_MEASURE})::{_MEASURE_TYPE} AS measure, {_NUMBER} AS raw_value,
             coalesce(n.approx, false) AS approx, n.error, coalesce(n.cell_uom, r.uom) AS uom, r.blank
      FROM (SELECT *, {_BLANK} AS blank FROM _recs) r
      LEFT JOIN {_with_text("_years")} y ON y.raw = r.year LEFT JOIN {_with_text("_periods")} p ON p.raw = r.period
      LEFT JOIN {_with_text("_measures")} m ON m.raw = r.measure LEFT JOIN {_with_text("_units")} u ON u.raw = r.unit
      LEFT JOIN {_with_text("_inds")} i ON i.raw = r.indicator LEFT JOIN _nums n ON n.raw = r.text
      WHERE {"true" if key_problems else "NOT r.blank"}) t
{"LEFT JOIN _factors f ON f.uom IS NOT DISTINCT FROM t.uom AND f.ind_uom = t.ind_uom" if convert else ""}
"""


_TYPED = {(k, c): _typed(k, c) for k in (True, False) for c in (True, False)}
# whether a cell's value may need converting: a pair of units of measure whose factor is not 1
_CONVERT = "SELECT count(*) = 0 OR bool_or(factor IS DISTINCT FROM 1) FROM _factors"

# Per-cell checks in one scan: each yields (label, reason) when it fails. The key checks can fail
# only when _KEY_PROBLEMS finds a key text that fails (each is a function of one lookup row).
_KEY_CHECKS = [
    ("coalesce($l_year, header)", "has_year_text AND year_file IS NULL", "'年份无法识别'"),
    ("coalesce($l_year, header)", "year_file IS NOT NULL AND $year IS NOT NULL AND year_file <> $year",
     "'文件写明的年份（' || year_file || '）与指定的 ' || $year || ' 不一致：不覆盖，拒绝'"),
    ("coalesce($l_year, header)", "year IS NULL AND NOT has_year_text", "'缺少年份（文件未写明，可用 --year 指定）'"),
    ("coalesce($l_period, header)", "has_period_text AND period_file IS NULL",
     "'期间无法识别（应为 1-12 的月份或「1-9月」等）'"),
    ("coalesce($l_period, header)", "period_file IS NOT NULL AND $period IS NOT NULL AND period_file <> $period",
     "'文件写明的期间（' || period_file || '）与指定的 ' || $period || ' 不一致：不覆盖，拒绝'"),
    ("coalesce($l_unit, header)", "no_unit", "'缺少单位名称'"),
    ("coalesce($l_indicator, header)", "no_indicator", "'缺少指标名称'"),
    ("coalesce($l_measure, header)", "has_measure_text AND measure IS NULL",
     "'口径无法识别（应为 ytd/month/growth_pct/level/done 或「累计」「同比增长%」等）'"),
]
_VALUE_CHECKS = [
    ("coalesce($l_period, header)", "kind = 'value' AND raw_value IS NOT NULL AND period IS NULL AND NOT has_period_text",
     "'有数值但缺少期间（文件未写明，可用 --period 指定）'"),
    ("header", "error IS NOT NULL", "error"),
    ("coalesce($l_uom, header)", "factor IS NULL AND indicator_id IS NOT NULL AND raw_value IS NOT NULL",
     "'计量单位「' || uom || '」与指标库中的「' || ind_uom || '」不一致且无法换算'"),
    ("header", "kind = 'target' AND value < 0 AND measure IN ('ytd', 'month')", "'目标值为负数'"),
    ("coalesce($l_year, header)", "kind = 'value' AND raw_value IS NOT NULL AND year > $this_year",
     "'实际值的年份 ' || year || ' 年尚未到来（今年是 ' || $this_year || ' 年）：只有目标值可以提前录入，请核对年份'"),
    ("header", f"raw_value IS NOT NULL AND factor IS NOT NULL AND NOT coalesce(abs(value) < {MAX_MAGNITUDE:.0e}, false)",
     "'数值 ' || raw_value || CASE WHEN factor <> 1 THEN '（换算后 ' || value || '）' ELSE '' END || "
     f"' 超出合理范围（绝对值应小于 {MAX_MAGNITUDE:.0e}），请核对是否多写了位数或单位'"),
]


def _cell_checks(checks: list[tuple[str, str, str]]) -> str:
    """The cells failing any of ``checks``; a cell's units of measure come back from _factors."""
    return ("SELECT row, c.label, c.reason FROM (SELECT row, unnest(list_filter([" +
            ", ".join(f"CASE WHEN {cond} THEN {{'label': {label}, 'reason': {reason}}} END" for label, cond, reason in checks) +
            "], lambda x: x IS NOT NULL)) AS c "
            "FROM _w LEFT JOIN (SELECT pair, uom, ind_uom FROM _factors) USING (pair) WHERE " +
            " OR ".join(f"coalesce({cond}, false)" for _, cond, _ in checks) + ")")  # most rows fail none: no list


_ROW_ERRORS = "SELECT row, header, reason FROM _row_errors"
# duplicates: keys hashed and counted first, the window only over the few keys seen twice (v is
# not materialised: scanning _w twice is cheaper than copying its columns); units and indicators
# by their numbers
_DUPLICATES = """
WITH v AS NOT MATERIALIZED (SELECT row, header, kind, year, CASE WHEN kind = 'value' THEN period END AS per, unit_no,
                                   ind_no, measure, hash(kind, year, per, unit_no, ind_no, measure) AS h
                            FROM _w WHERE value IS NOT NULL AND unit_no IS NOT NULL AND ind_no IS NOT NULL)
SELECT row, header, '与第 ' || first || ' 行重复（同一单位、指标、口径' || CASE WHEN kind = 'value' THEN '、期间' ELSE '' END || '）'
FROM (SELECT row, header, kind, min(row) OVER w AS first, row_number() OVER (w ORDER BY row, header) AS n
      FROM v WHERE h IN (SELECT h FROM v GROUP BY h HAVING count(*) > 1)
      WINDOW w AS (PARTITION BY kind, year, per, unit_no, ind_no, measure))
WHERE n > 1"""


def _problems(checks: list[str]) -> str:
    """A row-level key problem (year, period, unit…) is reported once per row, not once per cell."""
    return ("CREATE OR REPLACE TEMP TABLE _errors AS SELECT DISTINCT * FROM (" +
            " UNION ALL ".join(f"({c})" for c in checks) + ") t(row, header, reason)")


# by whether a key text fails (_KEY_PROBLEMS): without, the key checks are left out
_PROBLEMS = {key_problems: _problems([_ROW_ERRORS, _DUPLICATES,
                                       _cell_checks((_KEY_CHECKS if key_problems else []) + _VALUE_CHECKS)])
             for key_problems in (True, False)}
_PARAMS = {sql: set(re.findall(r"\$(\w+)", sql)) for sql in _PROBLEMS.values()}  # DuckDB refuses unused ones

# cells without a value: those with text in _w ("-", "—"), the blank ones counted from _recs, in
# the columns ($shown) with a cell of text: a column blank throughout (目标值 in a values-only
# file) is not listed. A list parameter filters _recs before its records are made from the rows.
_EMPTY = """WITH cells AS (SELECT header, row FROM _w WHERE NOT blank AND raw_value IS NULL AND error IS NULL
                          UNION ALL
                          SELECT header, row FROM _recs WHERE list_contains($shown, header) AND """ + _BLANK + """)
            SELECT header, count(*) AS n, min(row, 10) AS rows, min(row) AS first FROM cells
            GROUP BY header ORDER BY first, header"""

# in one scan: file rows with a value to store; file rows with a value or an error. Each counts
# the rows set in a bitmap of the row numbers (from _w's statistics), far cheaper than a hash set
_ROW_COUNTS = """
SELECT bit_count(bitstring_agg(row) FILTER (WHERE value IS NOT NULL AND row NOT IN (SELECT row FROM _rej))),
       bit_count(bitstring_agg(row) FILTER (WHERE raw_value IS NOT NULL OR error IS NOT NULL)) FROM _w"""

# Cumulative values that go down from one period to the next (stored values of other periods
# taken in). A sequence (year × unit × indicator) whose values rise with the period and meets no
# stored value cannot warn: one aggregate finds the others, and only they go through the window
# (over every sequence, it would cost more than all the other checks). Each sequence's values
# are pivoted by month (1–12); it rises when each month's value is at least those before it.
_BY_MONTH = ", ".join(f"max(value) FILTER (WHERE period = {m}) AS v{m}" for m in range(1, 13))
_RISES = " AND ".join(f"coalesce(v{m} >= greatest({', '.join(f'v{k}' for k in range(1, m))}), true)"
                      for m in range(2, 13))
_CUMULATIVE = f"""
WITH file AS NOT MATERIALIZED (SELECT year, period, unit_id, indicator_id, unit_no, ind_no, value, row, header FROM _w
              WHERE kind = 'value' AND measure = 'ytd' AND cumulative AND value IS NOT NULL
                AND row NOT IN (SELECT row FROM _rej)),
seqs AS (SELECT year, unit_no, ind_no, unit_id, indicator_id, {_RISES} AND months AS rises
         FROM (SELECT year, unit_no, ind_no, any_value(unit_id) AS unit_id, any_value(indicator_id) AS indicator_id,
                      {_BY_MONTH}, bool_and(coalesce(period BETWEEN 1 AND 12, false)) AS months
               FROM file GROUP BY year, unit_no, ind_no)),
stored AS (SELECT c.year, c.period, c.unit_id, c.indicator_id, s.unit_no, s.ind_no, c.value, NULL::INTEGER AS row,
                  NULL AS header
           FROM current_observations c JOIN seqs s USING (year, unit_id, indicator_id)
           WHERE c.measure = 'ytd' AND NOT EXISTS (SELECT 1 FROM file f WHERE f.year = c.year AND f.period = c.period
                 AND f.unit_id = c.unit_id AND f.indicator_id = c.indicator_id)),
seq AS (SELECT *, lag(value) OVER w AS prev_value, lag(period) OVER w AS prev_period,
               lead(value) OVER w AS next_value, lead(period) OVER w AS next_period, lead(row) OVER w AS next_row
        FROM (SELECT f.* FROM file f SEMI JOIN (SELECT year, unit_no, ind_no FROM seqs WHERE NOT rises
                                                UNION SELECT year, unit_no, ind_no FROM stored) k
                ON f.year IS NOT DISTINCT FROM k.year AND f.unit_no IS NOT DISTINCT FROM k.unit_no
                   AND f.ind_no IS NOT DISTINCT FROM k.ind_no
              UNION ALL SELECT * FROM stored)
        WINDOW w AS (PARTITION BY year, unit_no, ind_no ORDER BY period))
SELECT row, header, period, value, prev_period, prev_value, next_period, next_value, next_row FROM seq
WHERE row IS NOT NULL AND (value < prev_value OR (next_row IS NULL AND value > next_value)) ORDER BY row, header
"""

_NEGATIVE = """SELECT row, header, period, value FROM _w
WHERE kind = 'value' AND measure = 'ytd' AND cumulative AND value < 0
  AND row NOT IN (SELECT row FROM _rej) ORDER BY row, header"""

_PUBLISHED = """
SELECT p.row, p.header, p.value AS published, y.value AS ytd, t.value AS target
FROM _w p
JOIN _w y ON y.kind = 'value' AND y.measure = 'ytd' AND y.year = p.year AND y.period = p.period
         AND y.unit_id = p.unit_id AND y.indicator_id = p.indicator_id
JOIN _w t ON t.kind = 'target' AND t.measure = 'ytd' AND t.year = p.year
         AND t.unit_id = p.unit_id AND t.indicator_id = p.indicator_id
WHERE p.kind = 'value' AND p.measure = 'published_completion_pct' AND p.value IS NOT NULL AND t.value > 0
  AND abs(p.value - y.value / t.value * 100) > $tol
  AND p.row NOT IN (SELECT row FROM _rej) ORDER BY p.row, p.header
"""


def check(con: duckdb.DuckDBPyConnection, file: str, labels: dict[str, str], year: int | None,
          period: int | None, row_errors: list[tuple[int, str, str]] = (), partial: bool = True,
          file_rows: int | None = None, this_year: int | None = None) -> Checked:
    """Run every check on ``_recs`` (after :func:`build_lookups`); fill ``_w`` and ``_rej``.
    ``row_errors`` (row, header, reason) are problems the layout reader found in whole rows.
    Without ``partial`` (store the good rows) a file with errors stops at the errors.
    ``file_rows``: the file rows in ``_recs`` when known (:func:`distinct_keys`). ``this_year``
    (default: today's): values of later years are refused — only targets are set ahead."""
    con.execute("CREATE OR REPLACE TEMP TABLE _row_errors(row INTEGER, header VARCHAR, reason VARCHAR)")
    if row_errors:
        con.executemany("INSERT INTO _row_errors VALUES (?, ?, ?)", list(row_errors))
    key_problems = con.execute(_KEY_PROBLEMS, {"year": year, "period": period}).fetchone()[0]
    con.execute(_TYPED[key_problems, con.execute(_CONVERT).fetchone()[0]], {"year": year, "period": period})
    params = {"year": year, "period": period, "this_year": this_year or date.today().year,
              **{f"l_{k}": labels.get(k) for k in ("year", "period", "unit", "indicator", "measure", "uom")}}
    problems = _PROBLEMS[key_problems]
    con.execute(problems, {k: v for k, v in params.items() if k in _PARAMS[problems]})
    con.execute("CREATE OR REPLACE TEMP TABLE _rej AS SELECT DISTINCT row FROM _errors")
    out = Checked()
    errors = con.execute("SELECT row, header, reason FROM _errors ORDER BY row, header, reason LIMIT ?",
                         [MAX_LISTED]).fetchall()
    out.problems = [Problem(file, int(r), c, reason) for r, c, reason in errors]
    total = con.execute("SELECT count(*) FROM _errors").fetchall()[0][0]
    if total > MAX_LISTED:
        out.problems.append(Problem(file, None, None, f"共 {total:,} 个错误，仅列出前 {MAX_LISTED:,} 个"))
    out.rejected = con.execute("SELECT count(*) FROM _rej").fetchall()[0][0]
    if out.rejected and not partial:  # the file is refused: the errors are the whole report
        return out
    shown = [h for (h,) in con.execute("SELECT DISTINCT header FROM _w WHERE NOT blank").fetchall()]
    for header, n, rows, first in con.execute(_EMPTY, {"shown": shown}).fetchall():
        listed = "、".join(map(str, rows)) + (" 等" if n > len(rows) else "")
        out.problems.append(Problem(file, int(first), header,
                                    f"{n:,} 个单元格无数值（“-”、“—”或空白；第 {listed} 行），未入库，不按 0 计", "info"))
    for row, header, p, v in con.execute(_NEGATIVE).fetchall()[:MAX_LISTED]:
        out.problems.append(Problem(file, int(row), header, f"1-{p}月累计为负数（{v:,.2f}）：累计类指标（收入、投资等）"
                                    "一般不小于 0；已入库，请核实是否录错符号（利润等可为负的指标请核对指标类型）", "warning"))
    for row, header, p, v, pp, pv, np_, nv, _ in con.execute(_CUMULATIVE).fetchall()[:MAX_LISTED]:
        text = (f"1-{p}月累计 {v:,.2f} 低于 1-{pp}月累计 {pv:,.2f}" if pv is not None and v < pv
                else f"1-{p}月累计 {v:,.2f} 高于已入库的 1-{np_}月累计 {nv:,.2f}")
        out.problems.append(Problem(file, int(row), header, text + "（已入库，请核实是否漏报或修订）", "warning"))
    published = con.execute("SELECT count(*) FROM _measures WHERE val = 'published_completion_pct'").fetchone()[0]
    for row, header, pub, ytd, target in (con.execute(_PUBLISHED, {"tol": PUBLISHED_TOLERANCE_PP}).fetchall()
                                          if published else ()):
        out.problems.append(Problem(file, int(row), header, f"公布的完成率 {pub:.2f}% 与计算值 {ytd / target * 100:.2f}%"
                                    f"（{ytd:,.2f} ÷ {target:,.2f}）不一致；以计算值为准，公布值仅存档", "warning"))
    if file_rows is None:
        file_rows = con.execute("SELECT count(DISTINCT row) FROM _recs").fetchone()[0]
    stored, filled = con.execute(_ROW_COUNTS).fetchone()  # None: no such row
    # an empty row: every cell without a value and without an error
    out.storable_rows, out.empty_rows = stored or 0, file_rows - (filled or 0)
    return out


def store(con: duckdb.DuckDBPyConnection, upload_id: int) -> None:
    """Insert the checked records not rejected (:attr:`Checked.storable_rows` file rows)."""
    con.execute("""INSERT INTO observations SELECT year, period, unit_id, indicator_id, measure, value, approx, ?, row
                   FROM _w WHERE kind = 'value' AND value IS NOT NULL AND row NOT IN (SELECT row FROM _rej)""",
                [upload_id])
    con.execute("""INSERT INTO targets SELECT year, unit_id, indicator_id, measure, value, ?, row
                   FROM _w WHERE kind = 'target' AND value IS NOT NULL AND row NOT IN (SELECT row FROM _rej)""",
                [upload_id])
