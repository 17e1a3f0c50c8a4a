"""Time-versus-task gap analysis — 算清时间帐、算清任务帐.

For a year and a reporting period m (the month a value closes; 1-2月 = 2), one row per
(unit, indicator) with a target: where it stands against the calendar.

Formulas (percentages in percent, unrounded; amounts in the indicator's unit of measure):

- time_progress(m): linear m/12; seasonal = mean over past years of ytd(m) ÷ ytd(12) for the
  same unit (else its peer group, else all units, else linear); plan = the stated curve
  interpolated from (0, 0) through its points, e.g. ``plan:6=60;12=120`` gives 80% at 1-8月.
- cumulative: completion = ytd ÷ target; gap_pp = completion − time_progress;
  arrears = max(0, target × time_progress − ytd);
  required_pace = max(0, target × curve(12) − ytd) ÷ (12 − m) (undefined at m = 12);
  avg_pace = ytd ÷ m; acceleration = required_pace ÷ avg_pace.
- rate (growth %, ratios): gap_pp = actual − target (level against level, not a share).
- ceiling (lower is better, e.g. accidents, energy per GDP): gap_pp = (target − actual) ÷ target,
  the headroom left under the ceiling (negative: over it); a cumulative allowance already
  exceeded is 严重滞后 whatever the month; at 1-12月 staying under the ceiling is 已完成.
- milestone / veto: status only (done or not; any breach of a veto item is 严重滞后).
- status, in this order: 未报送 (no value — never 0) → 已完成 (the year-end requirement met) →
  by the gap **as displayed** (rounded to 2 decimals): 超进度 ≥ +5, 达进度 0…+5, 欠进度 −10…0,
  严重滞后 ≤ −10 (rates: ±1 pp). A target judged on volume **and** growth is behind when
  either fails, and ``conditions`` says which.
- no target ("-") or a zero target → excluded with the reason, never 0%.
- ranks: competition ranking (1, 2, 2, 4) among units of the same level and peer group;
  units without a value are unranked.
"""
from __future__ import annotations

import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import db, worker

if TYPE_CHECKING:
    import pyarrow as pa

PathLike = str | os.PathLike | None

STATUS = {"done": "已完成", "ahead": "超进度", "on_track": "达进度", "behind": "欠进度",
          "far_behind": "严重滞后", "missing": "未报送", "excluded": "不纳入"}
STATUS_ORDER = ["far_behind", "behind", "missing", "on_track", "ahead", "done", "excluded"]
BASES = {"linear": "线性（m/12）", "seasonal": "季节性（往年同期进度）", "plan": "计划进度曲线"}


@dataclass(frozen=True)
class Bands:
    """Status thresholds (configurable; defaults are what county offices publish)."""

    ahead_pp: float = 5.0
    far_behind_pp: float = -10.0
    rate_ahead_pp: float = 1.0
    rate_far_behind_pp: float = -1.0
    help: dict = field(default_factory=lambda: {
        "ahead_pp": "累计类：完成率高于时间进度该百分点数及以上为“超进度”",
        "far_behind_pp": "累计类：完成率低于时间进度该百分点数及以上为“严重滞后”，其间为“欠进度”",
        "rate_ahead_pp": "速度/比率类：高于目标该百分点数及以上为“超进度”",
        "rate_far_behind_pp": "速度/比率类：低于目标该百分点数及以上为“严重滞后”",
    }, compare=False, hash=False)


def parse_plan(curve: str | None) -> dict[int, float] | None:
    """'plan:6=60;12=120' → {6: 60.0, 12: 120.0}; None for linear/seasonal."""
    if not curve or not curve.startswith("plan:"):
        return None
    points = {}
    for part in curve[5:].split(";"):
        m = re.fullmatch(r"\s*(\d{1,2})\s*=\s*([\d.]+)\s*", part)
        if m:
            points[int(m.group(1))] = float(m.group(2))
    return points or None


def plan_progress(points: dict[int, float], month: float) -> float:
    """Piecewise-linear plan curve through (0, 0) and the stated points (percent)."""
    xs = [0, *sorted(points)]
    ys = [0.0, *(points[k] for k in sorted(points))]
    if month >= xs[-1]:
        return ys[-1] if xs[-1] == 12 else ys[-1] / xs[-1] * month
    return float(np.interp(month, xs, ys))


def round2(values) -> np.ndarray:
    """Round to 2 decimals half away from zero, as a person rounds −9.995 → −10.00 (binary
    floats store it as −9.99499…: a 1e-9 nudge restores the decimal intent). Statuses and
    the pages use this same rounding, so a status never contradicts the number shown."""
    v = np.asarray(values, dtype=float)
    return np.sign(v) * np.floor(np.abs(v) * 100 + 0.5 + 1e-9) / 100


def status_from_gap(gap: np.ndarray, rate: np.ndarray, bands: Bands) -> np.ndarray:
    """Bucket the displayed gap (rounded to 2 decimals by :func:`round2`) into status codes."""
    g = round2(gap)
    ahead = np.where(rate, bands.rate_ahead_pp, bands.ahead_pp)
    far = np.where(rate, bands.rate_far_behind_pp, bands.far_behind_pp)
    return np.select([g >= ahead, g >= 0, g > far], ["ahead", "on_track", "behind"], "far_behind")


_PRIMARY = {"cumulative": ["ytd"], "rate": ["growth_pct", "level"], "ceiling": ["level", "ytd"],
            "milestone": ["done", "level"], "veto": ["level", "done"]}

_BASE_SQL = """
WITH t AS (SELECT unit_id, indicator_id, measure, target FROM current_targets WHERE year = $year),
o AS (SELECT year, period, unit_id, indicator_id, measure, value FROM current_observations
      WHERE year BETWEEN $year - 3 AND $year),
keys AS (SELECT unit_id, indicator_id, measure FROM t
         UNION SELECT DISTINCT unit_id, indicator_id, measure FROM o
         WHERE year = $year AND period <= $period AND measure IN ('ytd', 'growth_pct', 'level', 'done'))
SELECT k.unit_id, k.indicator_id, k.measure, t.target,
       cur.value AS actual, prev.prev_value, prev.prev_period, ly.value AS ly_value
FROM keys k
LEFT JOIN t USING (unit_id, indicator_id, measure)
LEFT JOIN o cur ON cur.year = $year AND cur.period = $period AND cur.unit_id = k.unit_id
     AND cur.indicator_id = k.indicator_id AND cur.measure = k.measure
LEFT JOIN (SELECT unit_id, indicator_id, measure, arg_max(value, period) AS prev_value, max(period) AS prev_period
           FROM o WHERE year = $year AND period < $period GROUP BY ALL) prev
     ON prev.unit_id = k.unit_id AND prev.indicator_id = k.indicator_id AND prev.measure = k.measure
LEFT JOIN o ly ON ly.year = $year - 1 AND ly.period = $period AND ly.unit_id = k.unit_id
     AND ly.indicator_id = k.indicator_id AND ly.measure = k.measure
"""

# Average share of the year-end total reached by month m, over the previous years (≤ 3).
_SHARES_SQL = """
WITH o AS (SELECT year, period, unit_id, indicator_id, value FROM current_observations
           WHERE measure = 'ytd' AND year BETWEEN $year - 3 AND $year - 1),
e AS (SELECT year, unit_id, indicator_id, value AS total FROM o WHERE period = 12 AND value > 0),
s AS (SELECT o.unit_id, o.indicator_id, o.period, o.value / e.total AS share
      FROM o JOIN e USING (year, unit_id, indicator_id))
SELECT s.unit_id, u.peer_group, s.indicator_id, s.period, avg(s.share) * 100 AS share, count(*) AS years
FROM s JOIN units u USING (unit_id) GROUP BY ALL
"""

_META_SQL = """
SELECT u.unit_id, u.name AS unit, u.level, u.peer_group, u.is_home,
       i.indicator_id, i.name AS indicator, i.unit_of_measure, i.kind, i.direction, i.category, i.is_key,
       i.is_difficult, i.curve, i.parent_id, i.points
FROM units u CROSS JOIN indicators i
WHERE (u.unit_id, i.indicator_id) IN (SELECT (unit_id, indicator_id) FROM _pairs)
"""

_OWNERS_SQL = """
SELECT indicator_id, unit_id, arg_max(owner_leader, valid_from) AS owner_leader,
       arg_max(owner_staff, valid_from) AS owner_staff, arg_max(owner_office, valid_from) AS owner_office
FROM indicator_owners o JOIN uploads u USING (upload_id)
WHERE u.status <> 'withdrawn' AND valid_from <= $asof GROUP BY ALL
"""


def _period_end(year: int, period: int) -> str:
    return (pd.Timestamp(year=year, month=period, day=1) + pd.offsets.MonthEnd(0)).date().isoformat()


def _time_progress(frame: pd.DataFrame, shares: pd.DataFrame, months: pd.Series, basis: str | None
                   ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(time progress %, curve(12) %, source text) per row for month ``months``."""
    n = len(frame)
    tp = months.to_numpy(dtype=float) / 12 * 100
    end = np.full(n, 100.0)
    source = ["线性"] * n
    curves = frame.curve.fillna("linear").to_numpy()
    chosen = np.array([basis or ("plan" if str(c).startswith("plan:") else c) for c in curves], dtype=object)
    # plan curves
    for i in np.flatnonzero(chosen == "plan"):
        points = parse_plan(curves[i])
        if points is None or np.isnan(tp[i]):
            continue
        tp[i] = plan_progress(points, months.iat[i])
        end[i] = plan_progress(points, 12)
        source[i] = f"计划曲线（{curves[i][5:]}）"
    # seasonal: own history, else peer group's, else all units', else linear
    seasonal = np.flatnonzero(chosen == "seasonal")
    if len(seasonal) and not shares.empty:
        sub = frame.iloc[seasonal][["unit_id", "peer_group", "indicator_id"]].assign(period=months.iloc[seasonal].to_numpy())
        own = sub.merge(shares[["unit_id", "indicator_id", "period", "share"]], how="left",
                        on=["unit_id", "indicator_id", "period"]).share
        peer_tab = shares.groupby(["peer_group", "indicator_id", "period"], dropna=False).share.mean().rename("peer")
        peer = sub.merge(peer_tab.reset_index(), how="left", on=["peer_group", "indicator_id", "period"]).peer
        city_tab = shares.groupby(["indicator_id", "period"]).share.mean().rename("city")
        city = sub.merge(city_tab.reset_index(), how="left", on=["indicator_id", "period"]).city
        own_v, peer_v, city_v = (np.asarray(x, dtype=float) for x in (own, peer, city))
        value = np.where(~np.isnan(own_v), own_v, np.where(~np.isnan(peer_v), peer_v, city_v))
        label = np.where(~np.isnan(own_v), "季节性（本单位往年）",
                         np.where(~np.isnan(peer_v), "季节性（同组往年）",
                                  np.where(~np.isnan(city_v), "季节性（全部单位往年）", "线性（无往年数据）")))
        found = ~np.isnan(value)
        tp[seasonal[found]] = value[found]
        source = np.asarray(source, dtype=object)
        source[seasonal] = label
        source = list(source)
    # month 12: seasonal shares are 100 by construction; keep exactly 100
    tp = np.where(months.to_numpy(dtype=float) == 12, np.where(chosen == "plan", end, 100.0), tp)
    return tp, end, source


def gap_table(year: int, period: int, path: PathLike = None, units: list[str] | None = None,
              indicators: list[str] | None = None, basis: str | None = None, bands: Bands = Bands(),
              ranked: bool = True) -> pd.DataFrame:
    """One row per (unit, indicator) with a target or a value this year: the time-vs-task gap.

    ``basis`` overrides each indicator's own curve: linear | seasonal | plan. See the module
    docstring for every formula; nothing is rounded here."""
    if basis not in (None, "linear", "seasonal", "plan"):
        raise ValueError(f"未知的时间进度口径：{basis}")
    key = json.dumps([int(year), int(period), units, indicators, basis, [bands.ahead_pp, bands.far_behind_pp, bands.rate_ahead_pp, bands.rate_far_behind_pp], ranked])
    with db.connect(path) as con:
        return db.cached_frame(con, "gap", key, lambda: _gap_table(con, year, period, units, indicators, basis,
                                                                     bands, ranked))


_BANDS = ("ahead_pp", "far_behind_pp", "rate_ahead_pp", "rate_far_behind_pp")


def _gap_table(con, year: int, period: int, units, indicators, basis, bands: Bands, ranked: bool
               ) -> pd.DataFrame | Path:
    """The gap table — or, computed by a worker process (the app server's choice for big data:
    :func:`worker.wanted`), the file holding it; computed here also when the worker fails (logged)."""
    tables = _read(con, year, period)
    arguments = {"year": int(year), "period": int(period), "units": units and [str(u) for u in units],
                 "indicators": indicators and [str(i) for i in indicators], "basis": basis,
                 "bands": {b: float(getattr(bands, b)) for b in _BANDS}, "ranked": bool(ranked)}
    rows = tables["base"].num_rows if ranked or not (units or indicators) else 0  # unranked: only the rows asked for
    return worker.compute("gap", tables, arguments, rows,
                          lambda: _gap_frames({name: con.from_arrow(t).df() for name, t in tables.items()}, **arguments))


def _read(con, year: int, period: int) -> dict[str, "pa.Table"]:
    """What the gap table of ``year``/``period`` reads, as Arrow tables (for a worker process,
    analytics/worker.py; made frames as ``.df()`` makes them)."""
    base = db.arrow_table(con, _BASE_SQL, {"year": year, "period": period})
    con.register("_pairs", base)
    try:
        meta = db.arrow_table(con, _META_SQL)
    finally:
        con.unregister("_pairs")
    return {"base": base, "shares": db.arrow_table(con, _SHARES_SQL, {"year": year}), "meta": meta,
            "owners": db.arrow_table(con, _OWNERS_SQL, {"asof": _period_end(year, period)})}


def gap_from_tables(tables: dict, **arguments) -> pd.DataFrame:
    """The gap table from what :func:`_read` read — the worker's task (analytics/worker.py: the
    app server computes a big gap table in a child process)."""
    import duckdb
    con = duckdb.connect()  # (in memory: converts the tables to frames exactly as .df() does)
    try:
        frames = {name: con.from_arrow(table).df() for name, table in tables.items()}
    finally:
        con.close()
    return _gap_frames(frames, **arguments)


def _gap_frames(f: dict[str, pd.DataFrame], year: int, period: int, units, indicators, basis, bands: dict,
                ranked: bool) -> pd.DataFrame:
    base = f["base"]
    if not ranked:  # ranks need every unit; without them the filters can apply first (faster)
        base = base[(base.unit_id.isin(units) if units else True) & (base.indicator_id.isin(indicators) if indicators else True)]
    frame = _assemble(base, f["meta"], f["owners"])
    if frame.empty:
        return frame
    out = _compute(frame, f["shares"], year, period, basis, Bands(**bands))
    if units:
        out = out[out.unit_id.isin(units)]
    if indicators:
        out = out[out.indicator_id.isin(indicators)]
    return out.reset_index(drop=True)


def gap_ranked(year: int, period: int, path: PathLike = None, basis: str | None = None) -> pd.DataFrame:
    """:func:`gap_table` ordered by the gap (the largest arrears first, rows without a gap
    last; ties in the gap table's order) with ``open_flags``: each row's unverified
    data-quality flags of ``period`` (0 when none) — the 进度差距 table. Kept beside the
    database by data version, as the gap table is (a verification is a write: it moves it)."""
    def compute() -> pd.DataFrame:
        from . import quality  # (only to compute: a server reading kept results never loads the checks)
        # the checks (seconds; in the app server a child process) run while the gap table is computed
        with ThreadPoolExecutor(1, thread_name_prefix="open-flags") as pool:
            flags = pool.submit(quality.open_flags, year, period, path)
            rows = gap_table(year, period, path, basis=basis)
            counts = flags.result().groupby(["unit_id", "indicator_id"]).size().rename("open_flags")
        rows = rows.sort_values("gap_pp", na_position="last", kind="stable").merge(
            counts.reset_index(), how="left", on=["unit_id", "indicator_id"])
        rows["open_flags"] = rows.open_flags.fillna(0).astype("int64")
        return rows

    with db.connect(path) as con:
        return db.cached_frame(con, "gap_ranked", json.dumps([int(year), int(period), basis]), compute)


def _assemble(base: pd.DataFrame, meta: pd.DataFrame, owners: pd.DataFrame) -> pd.DataFrame:
    """One row per (unit, indicator) on its primary measure, with the growth condition beside it."""
    base = base.merge(meta, on=["unit_id", "indicator_id"])
    kind, measure = base.kind.to_numpy(dtype=object), base.measure.to_numpy(dtype=object)
    base["prio"] = np.select([(kind == k) & (measure == m) for k, ms in _PRIMARY.items() for m in ms],
                             [i for ms in _PRIMARY.values() for i in range(len(ms))], 99)
    has_target = base.target.notna()
    # primary: the best-ranked measure that has a target, else one with a value
    base["order"] = np.where(has_target, base.prio, base.prio + 100)
    primary = base[base.prio < 99].sort_values("order").drop_duplicates(["unit_id", "indicator_id"])
    growth = base[(base.kind == "cumulative") & (base.measure == "growth_pct")][
        ["unit_id", "indicator_id", "actual", "target"]].rename(columns={"actual": "growth", "target": "growth_target"})
    frame = primary.merge(growth, how="left", on=["unit_id", "indicator_id"])
    unit_owner = owners[owners.unit_id.notna()]
    any_owner = owners[owners.unit_id.isna()].drop(columns="unit_id")
    frame = frame.merge(unit_owner, how="left", on=["indicator_id", "unit_id"])
    if not any_owner.empty:
        frame = frame.merge(any_owner, how="left", on="indicator_id", suffixes=("", "_all"))
        for c in ("owner_leader", "owner_staff", "owner_office"):
            frame[c] = frame[c].fillna(frame.pop(c + "_all"))
    return frame.drop(columns=["prio", "order"]).reset_index(drop=True)


def _compute(f: pd.DataFrame, shares: pd.DataFrame, year: int, m: int, basis: str | None, bands: Bands) -> pd.DataFrame:
    n = len(f)
    kind = f.kind.to_numpy()
    target = f.target.to_numpy(dtype=float)
    actual = f.actual.to_numpy(dtype=float)
    f["ytd"] = actual
    tp, end, source = _time_progress(f, shares, pd.Series([m] * n), basis)
    prev_m = f.prev_period.fillna(0).astype(int)
    tp_prev, _, _ = _time_progress(f, shares, prev_m.where(prev_m > 0, np.nan), basis)
    f["time_progress"], f["curve_end"], f["basis"] = tp, end, source

    cumulative = kind == "cumulative"
    rate = kind == "rate"
    ceiling = kind == "ceiling"
    cum_ceiling = ceiling & (f.measure.to_numpy() == "ytd")
    level_ceiling = ceiling & ~cum_ceiling
    status_only = np.isin(kind, ["milestone", "veto"])
    with np.errstate(divide="ignore", invalid="ignore"):
        completion = np.where(cumulative, actual / target * 100, np.nan)
        completion = np.where(target == 0, np.nan, completion)

        def gap_of(value, tprog):
            return np.select(
                [cumulative, rate, cum_ceiling, level_ceiling],
                [value / target * 100 - tprog, value - target, (target - value) / np.abs(target) * 100,
                 (target - value) / np.abs(target) * 100], np.nan)

        gap = np.where(target == 0, np.nan, gap_of(actual, tp))  # no share of a zero target
        gap_prev = gap_of(f.prev_value.to_numpy(dtype=float), tp_prev)
        arrears = np.where(cumulative, np.maximum(0.0, target * tp / 100 - actual), np.nan)
        left = 12 - m
        required = np.where(cumulative & (left > 0), np.maximum(0.0, target * end / 100 - actual) / max(left, 1), np.nan)
        avg_pace = np.where(cumulative, actual / m, np.nan)
        accel = np.where(avg_pace > 0, required / avg_pace, np.nan)
        ly = f.ly_value.to_numpy(dtype=float)
        yoy = np.where(cumulative & (ly != 0), (actual / ly - 1) * 100, np.nan)  # 同比 of a volume, not of a rate
    f["completion"], f["gap_pp"], f["arrears"] = completion, gap, arrears
    f["time_progress"] = np.where(cumulative, tp, np.nan)  # a calendar share means nothing for a rate or a ceiling
    f["required_pace"], f["avg_pace"], f["acceleration"] = required, avg_pace, accel
    f["gap_change"] = gap - gap_prev
    f["yoy_pct"] = yoy

    # status, in precedence order
    missing = np.isnan(actual)
    no_target = np.isnan(target)
    zero_target = (target == 0) & (cumulative | cum_ceiling | level_ceiling)
    code = status_from_gap(np.nan_to_num(gap), rate, bands)
    done = np.select(
        [cumulative, rate, cum_ceiling, level_ceiling],
        [round2(completion) >= round2(end), (m == 12) & (round2(gap) >= 0),
         (m == 12) & (actual <= target), (m == 12) & (actual <= target)], False)
    code = np.where(done, "done", code)
    code = np.where(cum_ceiling & (actual > target), "far_behind", code)  # the allowance is already used up
    milestone_done = actual >= np.where(no_target, 1, target)
    veto_breach = actual > np.where(no_target, 0, target)
    code = np.where(status_only & (kind == "milestone"),
                    np.where(milestone_done, "done", np.where(m == 12, "far_behind", "behind")), code)
    code = np.where(status_only & (kind == "veto"), np.where(veto_breach, "far_behind", "on_track"), code)
    # two conditions: volume and growth both required
    growth_gap = f.growth.to_numpy(dtype=float) - f.growth_target.to_numpy(dtype=float)
    growth_fails = cumulative & ~np.isnan(growth_gap) & (round2(growth_gap) < 0)
    volume_fails = np.isin(code, ["behind", "far_behind"])
    conditions = np.where(growth_fails & volume_fails, "进度与增速均未达到",
                          np.where(growth_fails, "增速低于目标", np.where(volume_fails & cumulative, "进度未达到",
                                   np.where(volume_fails, "低于目标", ""))))
    demoted = growth_fails & ~volume_fails
    code = np.where(demoted, np.where(round2(growth_gap) <= bands.rate_far_behind_pp, "far_behind", "behind"), code)
    note = np.full(n, "", dtype=object)
    excluded = no_target | zero_target
    note = np.where(no_target, "未设目标（不计 0%）", np.where(zero_target, "目标为 0，无法计算完成率", note))
    code = np.where(missing, "missing", code)
    code = np.where(excluded & ~status_only, "excluded", code)
    f["status_code"] = code
    f["status"] = pd.Series(code, index=f.index).map(STATUS)
    f["conditions"] = conditions
    f["note"] = np.where(missing & ~excluded, "本期未报送（不按 0 计）", note)
    f["rank"], f["rank_of"] = _ranks(f)
    return f.drop(columns=["actual", "curve", "prev_value", "ly_value"]).sort_values(
        ["unit_id", "indicator_id"]).reset_index(drop=True)


def _ranks(f: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Competition ranking (1, 2, 2, 4) per indicator among units of the same level and peer
    group, on completion (cumulative) or the value's gap to target (others; ceiling reversed).
    Units without a value are unranked."""
    score = f.completion.where(f.kind == "cumulative", f.gap_pp)
    score = score.where(f.ytd.notna())
    keys = [f.indicator_id, f.level, f.peer_group.fillna("")]
    rank = score.groupby(keys).rank(method="min", ascending=False)
    count = score.notna().groupby(keys).transform("sum")
    return rank.astype("Int64"), count.where(rank.notna()).astype("Int64")


def gap_history(year: int, period: int, unit_id: str, indicator_id: str, path: PathLike = None,
                basis: str | None = None) -> pd.DataFrame:
    """督办 tracking: the same series' gap at every reported period up to ``period``."""
    with db.connect(path) as con:
        periods = [r[0] for r in con.execute(
            """SELECT DISTINCT period FROM current_observations WHERE year = ? AND period <= ? AND unit_id = ?
               AND indicator_id = ? ORDER BY period""", [year, period, unit_id, indicator_id]).fetchall()]
    rows = [gap_table(year, p, path, [unit_id], [indicator_id], basis, ranked=False).assign(period=p) for p in periods]
    rows = [r for r in rows if not r.empty]
    cols = ["period", "ytd", "completion", "time_progress", "gap_pp", "arrears", "status", "status_code", "conditions"]
    return pd.concat(rows)[cols].reset_index(drop=True) if rows else pd.DataFrame(columns=cols)


def series_history(unit_id: str, indicator_id: str, year: int, path: PathLike = None, years: int = 3) -> pd.DataFrame:
    """The values of one series this year and the ``years`` before (every measure), for charts."""
    return db.query("""SELECT year, period, measure, value FROM current_observations
                       WHERE unit_id = ? AND indicator_id = ? AND year BETWEEN ? AND ? ORDER BY year, period""",
                    [unit_id, indicator_id, year - years, year], path)


def summary(table: pd.DataFrame) -> dict:
    """Headline counts for the overview: N targets and how many in each status, arrears."""
    counted = table[table.status_code != "excluded"]
    counts = counted.status_code.value_counts()
    return {"targets": int(len(counted)), **{c: int(counts.get(c, 0)) for c in STATUS if c != "excluded"},
            "excluded": int((table.status_code == "excluded").sum())}


def owners_view(table: pd.DataFrame, by: str = "owner_leader") -> pd.DataFrame:
    """责任落实: per owner (分管领导 / 办事机构 / unit) how many targets, how many behind, arrears."""
    if by not in ("owner_leader", "owner_office", "owner_staff", "unit"):
        raise ValueError(by)
    t = table[table.status_code != "excluded"].assign(
        behind=lambda d: d.status_code.isin(["behind", "far_behind"]),
        far=lambda d: d.status_code.eq("far_behind"), missing=lambda d: d.status_code.eq("missing"),
        done=lambda d: d.status_code.isin(["done", "ahead", "on_track"]))
    key = t[by].fillna("（未指定）")
    out = t.groupby(key).agg(targets=("indicator_id", "size"), on_track=("done", "sum"), behind=("behind", "sum"),
                             far_behind=("far", "sum"), missing=("missing", "sum"),
                             worst_gap_pp=("gap_pp", "min")).reset_index().rename(columns={by: "owner"})
    out["behind_share"] = out.behind / out.targets * 100
    return out.sort_values(["behind", "far_behind", "worst_gap_pp"], ascending=[False, False, True]).reset_index(drop=True)


WARNING_RULES = {  # rule → its definition (page caption, bulletin)
    "far_behind": "严重滞后：完成率低于时间进度 10 个百分点及以上（速度类低于目标 1 个百分点及以上）",
    "behind_key": "重点/难点目标欠进度",
    "missing": "本期未报送",
    "growth": "增速低于目标（双条件考核）",
    "worsening": "差距较上期扩大",
    "acceleration": "剩余月份需加速 50% 以上才能完成",
}
WARNING_LABELS = {"far_behind": "严重滞后", "behind_key": "重点/难点欠进度", "missing": "未报送",  # per row
                  "growth": "增速低于目标", "worsening": "差距扩大", "acceleration": "需加速 50% 以上"}


def warnings(table: pd.DataFrame) -> pd.DataFrame:
    """早报告、早预警: key and difficult targets behind the line (and any seriously behind),
    each with the rules that raised it (``rules``: codes of :data:`WARNING_RULES`; ``reason``:
    their short labels), the numbers, the owner and the trend."""
    t = table[table.status_code != "excluded"]
    key = t.is_key.astype(bool) | t.is_difficult.astype(bool)
    status = t.status_code
    hits = pd.DataFrame({  # one column per rule, in the order of WARNING_RULES
        "far_behind": status == "far_behind",
        "behind_key": key & (status == "behind"),
        "missing": key & (status == "missing"),
        "growth": key & t.conditions.fillna("").astype(str).str.contains("增速", regex=False),
        "worsening": key & (t.gap_change < 0) & status.isin(["behind", "far_behind"]),
        "acceleration": key & (t.acceleration >= 1.5),
    }, index=t.index)[list(WARNING_RULES)]
    warned = hits.any(axis=1)
    hits = hits[warned]
    rules = [list(hits.columns[row]) for row in hits.to_numpy()]
    t = t[warned].assign(rules=rules, reason=["；".join(WARNING_LABELS[r] for r in rs) for rs in rules],
                         key=key[warned])
    order = {c: i for i, c in enumerate(STATUS_ORDER)}
    return t.sort_values(by=["status_code", "gap_pp"], key=lambda s: s.map(order) if s.name == "status_code" else s
                         ).reset_index(drop=True)


def first_rows(rows: pd.DataFrame, mask, n: int) -> pd.DataFrame:
    """The first ``n`` rows where ``mask`` holds. ``rows[mask].head(n)`` copies every matching row
    first: on the 进度差距 page at 300 × 300 that was ~50,000 rows of ~40 columns per session, for
    the 40 bars of its chart."""
    return rows.iloc[np.flatnonzero(np.asarray(mask, dtype=bool))[:n]]


def select(rows: pd.DataFrame, categories=None, statuses=None, owners=None, flags=()) -> pd.DataFrame:
    """The filters of the analysis pages: category, status code, 分管领导, and the 重点/难点 flags
    (each empty selection means all)."""
    if categories:
        rows = rows[rows.category.isin(categories)]
    if statuses:
        rows = rows[rows.status_code.isin(statuses)]
    if owners:
        rows = rows[rows.owner_leader.isin(owners)]
    if "重点" in (flags or ()):
        rows = rows[rows.is_key.astype(bool)]
    if "难点" in (flags or ()):
        rows = rows[rows.is_difficult.astype(bool)]
    return rows
