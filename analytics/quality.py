"""Data-quality checks (统计局: no 漏报、瞒报、冒报、虚报) — every figure a leader sees is one
the checks have looked at.

The rules are data: :data:`RULES` declares each one (id, Chinese name, family, severity,
thresholds with defaults and Chinese help). :func:`check` runs them all on one year of the
database — vectorised over every unit × indicator × period with pandas/numpy on frames read
by parameterised DuckDB queries — and returns one row per flag: rule, severity, unit,
indicator, period, the numbers that triggered it, a plain-Chinese explanation and its
origin (file, row, upload, revision). Thresholds are changed by passing :class:`Settings`.

Flags are stored (:func:`store_flags`) after every successful upload (:func:`after_upload`,
called by ``ingest.ingest_bytes``) and on demand, in ``quality_runs``/``quality_flags``. A
flag's identity (``flag_key``) is rule|unit|indicator|year|period|measure, so the
"已核实" marks of ``flag_reviews`` (:func:`verify_flag`) survive re-runs.

Formulas (the help text of each rule states them too):

- increment ``d(m) = ytd(m) − ytd(m′)`` (m′ the previous reported month of the same year);
  relative increment ``r(m) = d(m) / ytd(m′)``; seasonal expectation ``E(m)`` = median of
  ``r`` at the same month in the series' own past years; ``L = ln(r / E)``; robust z =
  ``(L − median L_hist) / (1.4826 · MAD L_hist)`` over all months of the past years.
- share of the year: ``completion(m) = ytd(m) / target``; expected ``= median_y share_y(m) ×
  median_y (year-end ytd_y / target_y)`` over past years.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa

from . import db, worker
from .errors import Actor, AnalyticsError
from .roles import require

PathLike = str | os.PathLike | None

SEVERITIES = ("high", "medium", "low")
FAMILIES = ("漏报", "累计关系", "冒报/虚报", "瞒报", "公布值核对", "修订")
COUNT_UNITS = frozenset({"个", "人", "项", "起", "家", "次", "户", "件", "所"})
QUARTER_ENDS = (3, 6, 9, 12)


# ------------------------------------------------------------------ declared rules

@dataclass(frozen=True)
class Threshold:
    """One configurable number of a rule: its name, default and what it means."""

    name: str
    default: float
    help: str


@dataclass(frozen=True)
class Rule:
    """One check: id (English, stable: part of the flag key), Chinese name, family,
    default severity (high | medium | low), help text with the formula, thresholds."""

    id: str
    name: str
    family: str
    severity: str
    help: str
    thresholds: tuple[Threshold, ...] = ()


RULES: list[Rule] = [
    Rule("missing_target", "有目标无数值", "漏报", "high",
         "单位对该指标有年度目标，本期其他单位已报送该指标，而该单位没有任何数值（“-”、空白不算数值）。"),
    Rule("missing_dropout", "上期已报本期未报", "漏报", "medium",
         "单位上一报送期有数值、本期没有（该指标本期有其他单位报送）；有年度目标的情形归入“有目标无数值”。"),
    Rule("dropped_rows", "入库时被拒绝的行", "漏报", "high",
         "部分入库（只存合格行）的上传中被拒绝的行：这些数值未进入数据库，须补报。读取自上传时保存的校验报告。"),
    Rule("cum_decrease", "累计值下降", "累计关系", "high",
         "累计型指标 1-m月累计 < 上一报送期累计（累计数只增不减）。",
         (Threshold("tolerance", 0.0, "允许的下降幅度（占上期累计的比例），0 表示任何下降都预警"),)),
    Rule("month_identity", "上月累计+本月≠本月累计", "累计关系", "high",
         "同时报送当月值和累计值时：|上月累计 + 本月 − 本月累计| 超过容差（仅比较相邻两个月）。",
         (Threshold("abs_tolerance", 0.011, "绝对容差（指标计量单位），覆盖两位小数的舍入"),
          Threshold("rel_tolerance", 0.001, "相对容差（占本月累计的比例）"))),
    Rule("subrow_exceeds_parent", "其中项大于总项", "累计关系", "high",
         "“其中”子指标的数值大于其上级指标（同一单位、期间、口径）。子项之间可以重叠，故只比较单个子项与总项。",
         (Threshold("tolerance", 0.0, "允许超出的比例"),)),
    Rule("increment_outlier", "当月增量异常", "冒报/虚报", "medium",
         "当月增量相对上期累计的比例 r，与本序列往年同月的中位数 E 相比：L = ln(r/E)，"
         "稳健 z = (L − 往年中位数)/(1.4826 × MAD)。z ≥ 阈值为异常偏高（季末、年末为严重），"
         "z ≤ −阈值为异常偏低（可能瞒报）。无往年数据时与本年此前各月增量的中位数比较。",
         (Threshold("z", 4.0, "稳健 z 分数阈值（绝对值）"),
          Threshold("min_scale", 0.08, "MAD 尺度下限（对数），防止过于平稳的序列误报"),
          Threshold("min_resolutions", 20.0, "预期增量至少为数值精度（最小位）的倍数，否则不判断（如小计数）"),
          Threshold("fallback_ratio", 4.0, "无往年数据时：增量 ÷ 本年此前增量中位数 的阈值"))),
    Rule("share_above_history", "进度占比远高于历史同期", "冒报/虚报", "medium",
         "完成率（累计÷年度目标）与历史同期应有进度之比：应有进度 = 往年同月累计占全年比例的中位数 × "
         "往年全年完成率的中位数。比值 ≥ 阈值且高出至少若干百分点时预警。",
         (Threshold("ratio", 1.6, "完成率 ÷ 历史同期应有进度 的阈值"),
          Threshold("min_gap", 0.10, "完成率至少高出应有进度（比例，0.10 = 10 个百分点）"))),
    Rule("completion_implausible", "完成率高得不合理", "冒报/虚报", "high",
         "累计型：1-m月累计超过年度目标的若干倍；比率型（增速、达标率等）：实际值超过目标若干个百分点。",
         (Threshold("max_completion", 1.5, "累计型完成率上限（1.5 = 150%）"),
          Threshold("max_excess_pp", 10.0, "比率型实际值高出目标的百分点上限"))),
    Rule("growth_inconsistent", "增速与总量变化不符", "冒报/虚报", "medium",
         "报送的同比增速与由累计值算出的增速（本年累计 ÷ 上年同期累计 − 1）相差超过容差。"
         "可比价口径的增速与现价总量会有差异，请结合口径核实。",
         (Threshold("tolerance_pp", 1.0, "容差（百分点）"),)),
    Rule("round_number", "数值凑整", "冒报/虚报", "low",
         "数值只有 1–2 位有效数字（如 100、71000），且是序列精度的 1000 倍以上的整倍数，而该序列平时有 4 位以上有效数字。",
         (Threshold("max_sig", 2.0, "有效数字不超过此位数视为凑整"),
          Threshold("typical_sig", 4.0, "序列平时有效数字的中位数至少为此位数才判断"),
          Threshold("min_zeros", 3.0, "数值须是序列精度（最小位）的 10^此数 倍，偶然凑整的可能才足够小"))),
    Rule("repeated_value", "数值重复", "冒报/虚报", "medium",
         "累计值与同期另一单位的数值完全相同（至少 5 位有效数字），或与本单位上年同期完全相同（至少 4 位）。",
         (Threshold("min_sig", 4.0, "与上年同期相同：至少有此位有效数字才判断（避免偶然相同）"),
          Threshold("min_sig_units", 5.0, "与同期其他单位相同：至少有此位有效数字才判断"),
          Threshold("max_chance", 0.05, "与其他单位相同：同组偶然撞值的期望次数（单位对数 × 精度 ÷ 数值跨度）须低于此值才判断"))),
    Rule("equals_target", "数值恰好等于目标", "冒报/虚报", "medium",
         "数值与同口径年度目标完全相同（目标至少为数值精度的若干倍，偶然相同的可能很小时才判断）。",
         (Threshold("min_resolutions", 100.0, "目标 ÷ 数值精度 的下限"),)),
    Rule("revision_down", "数值被下调修订", "瞒报", "medium",
         "同一单位、指标、期间、口径的最新修订值低于上一版本。"),
    Rule("stuck_value", "数值连续不变", "瞒报", "medium",
         "同一数值连续报送若干期（累计值不增长，或水平值完全不变）。累计型只在往年同期通常有增长时判断；"
         "百分比达到 100 不算。",
         (Threshold("periods", 3.0, "连续相同的报送期数"),
          Threshold("min_share", 0.02, "累计型：往年同期应有增长占全年的比例下限"))),
    Rule("against_peers", "与同组单位走势相反", "瞒报", "medium",
         "累计同比增速的本期变化（本期增速 − 上期增速），在同一分组（peer_group）同一指标中的稳健 z 分数 ≤ −阈值："
         "同组走势平稳或上行，该单位明显下行。",
         (Threshold("z", 4.0, "稳健 z 分数阈值"),
          Threshold("min_peers", 5.0, "同组有数值的单位数下限"),
          Threshold("min_scale_pp", 1.0, "MAD 尺度下限（百分点）"))),
    Rule("published_mismatch", "公布完成率与计算值不符", "公布值核对", "medium",
         "表中公布的完成率与 累计 ÷ 年度目标 × 100 的差超过容差（以计算值为准）。",
         (Threshold("tolerance_pp", 0.05, "容差（百分点）"),)),
    Rule("revision_up", "数值被上调修订", "修订", "low",
         "同一数值的最新修订值高于上一版本（列出上传人、时间，供核实；考核前集中上调尤须留意）。"),
]
RULE_BY_ID = {r.id: r for r in RULES}


@dataclass(frozen=True)
class Settings:
    """Threshold overrides ``{"rule_id.threshold": value}`` and rules switched off."""

    overrides: tuple[tuple[str, float], ...] = ()
    disabled: frozenset[str] = frozenset()

    @classmethod
    def of(cls, overrides: dict[str, float] | None = None, disabled=()) -> "Settings":
        for key in overrides or {}:
            rule, _, name = key.partition(".")
            if rule not in RULE_BY_ID or name not in {t.name for t in RULE_BY_ID[rule].thresholds}:
                raise AnalyticsError(f"未知的检查阈值：{key}")
        return cls(tuple(sorted((overrides or {}).items())), frozenset(disabled))

    def get(self, rule_id: str, name: str) -> float:
        for key, value in self.overrides:
            if key == f"{rule_id}.{name}":
                return float(value)
        return next(t.default for t in RULE_BY_ID[rule_id].thresholds if t.name == name)

    def enabled(self, rule_id: str) -> bool:
        return rule_id not in self.disabled


DEFAULT_SETTINGS = Settings()

FLAG_COLUMNS = ["flag_key", "rule", "rule_name", "family", "severity", "year", "period", "unit_id", "unit",
                "indicator_id", "indicator", "measure", "value", "numbers", "explanation", "file", "row",
                "upload_id", "revision", "verified", "verified_by", "verified_at", "comment"]
KEYS = ["unit_id", "indicator_id", "period", "measure"]
OPEN_COLUMNS = ["unit_id", "indicator_id", "period", "rule", "severity"]


def flag_key(rule: str, unit_id, indicator_id, year, period, measure, extra: str = "") -> str:
    """Stable identity of a flag: rule|unit|indicator|year|period|measure[|extra]."""
    parts = [rule, unit_id or "-", indicator_id or "-", str(year), "-" if period is None or pd.isna(period)
             else str(int(period)), measure or "-"]
    return "|".join(parts + ([extra] if extra else []))


# ------------------------------------------------------------------ numbers for people

def _n(v, uom: str | None = "") -> str:
    """12345.678 → '12,345.68 亿元'; None → '—'."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    text = f"{v:,.2f}"
    uom = uom or ""
    return f"{text}{uom}" if uom in ("%", "") else f"{text} {uom}"


def _pm(p) -> str:
    p = int(p)
    return "1月" if p == 1 else f"1-{p}月"


# ------------------------------------------------------------------ vectorised helpers

def _decimals(v: np.ndarray, max_dec: int = 6) -> np.ndarray:
    """Decimal places a value needs: 101.36 → 2, 100 → 0."""
    v = np.asarray(v, dtype=float)
    out = np.full(v.shape, max_dec, dtype=float)
    done = ~np.isfinite(v)
    for d in range(max_dec + 1):
        ok = ~done & (np.abs(np.round(v, d) - v) <= 1e-9 * np.maximum(1.0, np.abs(v)))
        out[ok] = d
        done |= ok
    return out


def _sig(v: np.ndarray, max_sig: int = 12) -> np.ndarray:
    """Significant digits: 101.36 → 5, 100 → 1, 71000 → 2, 0 → 0."""
    v = np.asarray(v, dtype=float)
    out = np.full(v.shape, float(max_sig))
    a = np.abs(v)
    zero = ~(a > 0) | ~np.isfinite(a)
    out[zero] = 0
    e = np.floor(np.log10(np.where(zero, 1.0, a)))
    done = zero.copy()
    for k in range(1, max_sig + 1):
        step = 10.0 ** (e - k + 1)
        ok = ~done & (np.abs(np.round(a / step) * step - a) <= 1e-9 * a)
        out[ok] = k
        done |= ok
    return out


def _robust(values: pd.Series, by: list[pd.Series] | pd.Series) -> tuple[pd.Series, pd.Series]:
    """Group median and 1.4826 × MAD of ``values``, aligned back to its index."""
    center = values.groupby(by).transform("median")
    mad = (values - center).abs().groupby(by).transform("median") * 1.4826
    return center, mad


# ------------------------------------------------------------------ loading one year

@dataclass
class _Data:
    year: int
    period: int
    cur: pd.DataFrame          # current values of `year`, with origin and revision number
    hist: pd.DataFrame         # current values of earlier years
    revs: pd.DataFrame         # every non-withdrawn revision of `year` values (for changes)
    targets: pd.DataFrame      # current targets, all years ≤ year
    indicators: pd.DataFrame
    units: pd.DataFrame
    partial: pd.DataFrame      # partial uploads touching `year`: upload_id, file_name, report, period


_SQL_REVS = """
SELECT o.year, o.period, o.unit_id, o.indicator_id, o.measure, o.value, o.upload_id, o.source_row AS row,
       up.file_name AS file, up.uploaded_by, up.uploaded_at,
       row_number() OVER w AS revision, count(*) OVER (PARTITION BY o.period, o.unit_id, o.indicator_id, o.measure)
           AS revisions,
       lag(o.value) OVER w AS prev_value, lag(o.upload_id) OVER w AS prev_upload_id
FROM observations o JOIN uploads up USING (upload_id)
WHERE up.status <> 'withdrawn' AND o.year = ?
WINDOW w AS (PARTITION BY o.period, o.unit_id, o.indicator_id, o.measure ORDER BY o.upload_id)"""
_SQL_HIST = """SELECT year, period, unit_id, indicator_id, measure, value FROM current_observations
               WHERE year < ? AND year >= ? - 5"""
_SQL_TARGETS = "SELECT year, unit_id, indicator_id, measure, target FROM current_targets WHERE year <= ? AND year >= ? - 5"
_SQL_IND = "SELECT indicator_id, name AS indicator, kind, unit_of_measure, parent_id FROM indicators"
_SQL_UNITS = "SELECT unit_id, name AS unit, level, peer_group FROM units"
_SQL_PARTIAL = """
SELECT up.upload_id, up.file_name, up.report,
       (SELECT max(o.period) FROM observations o WHERE o.upload_id = up.upload_id AND o.year = $year) AS period
FROM uploads up WHERE up.status = 'partial'
  AND (EXISTS (SELECT 1 FROM observations o WHERE o.upload_id = up.upload_id AND o.year = $year)
       OR EXISTS (SELECT 1 FROM targets t WHERE t.upload_id = up.upload_id AND t.year = $year))"""


def _read(con, year: int) -> dict[str, pa.Table]:
    """What the checks of ``year`` read, as Arrow tables: handed as they are to a worker process
    (analytics/worker.py), or made frames here by :func:`_data`."""
    return {"revs": db.arrow_table(con, _SQL_REVS, [year]), "hist": db.arrow_table(con, _SQL_HIST, [year, year]),
            "targets": db.arrow_table(con, _SQL_TARGETS, [year, year]), "indicators": db.arrow_table(con, _SQL_IND),
            "units": db.arrow_table(con, _SQL_UNITS), "partial": db.arrow_table(con, _SQL_PARTIAL, {"year": year})}


def _data(tables: dict[str, pa.Table], year: int, period: int | None) -> _Data:
    # by way of Arrow: text as pandas' text type, even for no row (.df() then gives Python objects, and
    # concatenated with an empty history this year's values became Python strings: ~200 MB more)
    f = {name: table.to_pandas() for name, table in tables.items()}
    revs = f["revs"]
    revs["prev_upload_id"] = revs.prev_upload_id.astype("Int32")  # (Arrow gives float64 with NaN)
    latest = revs.revision == revs.revisions
    # every value's latest revision: without revisions that is every row, shared (not copied)
    cur = (revs if latest.all() else revs[latest]).drop(columns=["prev_value", "prev_upload_id"]).reset_index(drop=True)
    if period is None:
        period = int(cur.period.max()) if len(cur) else 12
    return _Data(year, int(period), cur, f["hist"], revs, f["targets"], f["indicators"], f["units"], f["partial"])


def _load(con, year: int, period: int | None) -> _Data:
    return _data(_read(con, year), year, period)


# ------------------------------------------------------------------ the rules
# Each returns a frame with KEYS + value + numbers (dict) + explanation (+ optional severity,
# extra, origin columns); :func:`check` adds rule, names, origin and the key.

def _with_meta(frame: pd.DataFrame, d: _Data) -> pd.DataFrame:
    return frame.merge(d.indicators, on="indicator_id", how="left").merge(d.units, on="unit_id", how="left")


def _cumulative(d: _Data) -> pd.DataFrame:
    """ytd of cumulative indicators, all years, with previous reported value of the same year
    (computed once per run; callers get a copy)."""
    if getattr(d, "_cum", None) is None:
        d._cum = _cumulative_frame(d)
    return d._cum.copy()


def _cumulative_frame(d: _Data) -> pd.DataFrame:
    kinds = d.indicators.set_index("indicator_id").kind
    frames = [d.hist.assign(current=False), d.cur[["year", "period", "unit_id", "indicator_id", "measure", "value"]]
              .assign(current=True)]
    obs = pd.concat(frames, ignore_index=True)
    obs = obs[(obs.measure == "ytd") & (obs.indicator_id.map(kinds) == "cumulative")]
    obs = obs.sort_values(["unit_id", "indicator_id", "year", "period"]).reset_index(drop=True)
    g = obs.groupby(["unit_id", "indicator_id", "year"], sort=False)
    obs["prev_period"] = g.period.shift(1)
    obs["prev_value"] = g.value.shift(1)
    obs["inc"] = obs.value - obs.prev_value
    return obs


def _resolution(obs: pd.DataFrame) -> pd.Series:
    """Per (unit, indicator): 10^-(decimal places the series uses), aligned to ``obs``."""
    dec = pd.Series(_decimals(obs.value.to_numpy()), index=obs.index)
    return 10.0 ** -dec.groupby([obs.unit_id, obs.indicator_id]).transform("max")


def r_cum_decrease(d: _Data, s: Settings) -> pd.DataFrame:
    obs = _cumulative(d)
    tol = s.get("cum_decrease", "tolerance")
    f = obs[obs.current & (obs.value < obs.prev_value * (1 - tol) - 1e-9)].copy()
    f["numbers"] = [{"ytd": v, "prev_period": int(pp), "prev_ytd": pv, "change": v - pv}
                    for v, pp, pv in zip(f.value, f.prev_period, f.prev_value)]
    f = _with_meta(f, d)
    f["explanation"] = [f"{_pm(p)}累计 {_n(v, u)} 低于{_pm(pp)}累计 {_n(pv, u)}（少 {_n(pv - v, u)}）：累计数不应下降，"
                        "请核实是否漏报或错报" for p, v, pp, pv, u in
                        zip(f.period, f.value, f.prev_period, f.prev_value, f.unit_of_measure)]
    return f


def r_month_identity(d: _Data, s: Settings) -> pd.DataFrame:
    cur = d.cur
    ytd = cur[cur.measure == "ytd"][["unit_id", "indicator_id", "period", "value"]]
    month = cur[cur.measure == "month"][["unit_id", "indicator_id", "period", "value"]].rename(columns={"value": "month"})
    prev = ytd.assign(period=ytd.period + 1).rename(columns={"value": "prev_ytd"})
    m = month.merge(ytd, on=["unit_id", "indicator_id", "period"]).merge(prev, on=["unit_id", "indicator_id", "period"])
    m = m.rename(columns={"value": "ytd"})
    m["diff"] = m.prev_ytd + m.month - m.ytd
    tol = np.maximum(s.get("month_identity", "abs_tolerance"), s.get("month_identity", "rel_tolerance") * m.ytd.abs())
    f = m[(m["diff"].abs() > tol) & (m.period <= d.period)].copy()
    f["measure"] = "month"
    f["value"] = f.month
    f["numbers"] = [{"month": mo, "prev_ytd": p, "ytd": y, "difference": df} for mo, p, y, df in
                    zip(f.month, f.prev_ytd, f.ytd, f["diff"])]
    f = _with_meta(f, d)
    f["explanation"] = [f"{_pm(p - 1)}累计 {_n(pv, u)} + {p}月当月 {_n(mo, u)} = {_n(pv + mo, u)}，"
                        f"而{_pm(p)}累计为 {_n(y, u)}，相差 {_n(df, u)}" for p, pv, mo, y, df, u in
                        zip(f.period, f.prev_ytd, f.month, f.ytd, f["diff"], f.unit_of_measure)]
    return f


def r_subrow_exceeds_parent(d: _Data, s: Settings) -> pd.DataFrame:
    parents = d.indicators.dropna(subset=["parent_id"])
    parents = parents[parents.parent_id != ""][["indicator_id", "parent_id"]]
    vals = d.cur[d.cur.measure.isin(["ytd", "month"])][["unit_id", "indicator_id", "period", "measure", "value"]]
    m = vals.merge(parents, on="indicator_id").merge(
        vals.rename(columns={"indicator_id": "parent_id", "value": "parent_value"}),
        on=["unit_id", "parent_id", "period", "measure"])
    tol = s.get("subrow_exceeds_parent", "tolerance")
    f = m[m.value > m.parent_value * (1 + tol) + 1e-9].copy()
    names = d.indicators.set_index("indicator_id").indicator
    f["numbers"] = [{"value": v, "parent_indicator_id": pi, "parent_value": pv} for v, pi, pv in
                    zip(f.value, f.parent_id, f.parent_value)]
    f = _with_meta(f.rename(columns={"parent_id": "parent_indicator"}), d)
    f["explanation"] = [f"其中项「{i}」{_pm(p)} {_n(v, u)} 大于其总项「{names.get(pi, pi)}」{_n(pv, u)}"
                        for i, p, v, pi, pv, u in zip(f.indicator, f.period, f.value, f.parent_indicator, f.parent_value,
                                                      f.unit_of_measure)]
    return f


def r_increment_outlier(d: _Data, s: Settings) -> pd.DataFrame:
    k, floor = s.get("increment_outlier", "z"), s.get("increment_outlier", "min_scale")
    nres, fb = s.get("increment_outlier", "min_resolutions"), s.get("increment_outlier", "fallback_ratio")
    obs = _cumulative(d)
    obs["res"] = _resolution(obs)
    ok = (obs.prev_value > 0) & obs.inc.notna() & (obs.inc >= 0)
    obs["rel"] = (obs.inc / obs.prev_value).where(ok)
    hist = obs[~obs.current & obs.rel.notna()]
    e = hist.groupby(["unit_id", "indicator_id", "period"]).rel.median().rename("expected")
    obs = obs.join(e, on=["unit_id", "indicator_id", "period"])
    obs["L"] = np.log(np.maximum(obs.rel, 0.01 * obs.expected) / obs.expected).where(obs.expected > 0)
    h = obs[~obs.current & obs.L.notna()]
    center = h.groupby(["unit_id", "indicator_id"]).L.median().rename("center")
    mad = ((h.L - h.join(center, on=["unit_id", "indicator_id"]).center).abs()
           .groupby([h.unit_id, h.indicator_id]).median() * 1.4826).rename("scale")
    obs = obs.join(center, on=["unit_id", "indicator_id"]).join(mad, on=["unit_id", "indicator_id"])
    obs["scale"] = np.maximum(obs.scale, floor)
    obs["z"] = (obs.L - obs.center) / obs.scale
    cur = obs[obs.current & (obs.period <= d.period)].copy()
    cur["expected_inc"] = cur.expected * cur.prev_value
    eligible = cur.expected_inc >= nres * cur.res
    seasonal = cur[eligible & cur.z.notna() & (cur.z.abs() >= k)].copy()
    # no history: this year's increments before this month
    nohist = cur[cur.expected.isna() & cur.rel.notna()].copy()
    if len(nohist):  # median of the series' earlier increments this year (≥ 3), month by month
        wide = nohist.pivot_table(index=["unit_id", "indicator_id"], columns="period", values="inc")
        wide = wide.reindex(columns=range(1, 13))
        arr = wide.to_numpy()
        usual = np.full(arr.shape, np.nan)
        with np.errstate(all="ignore"):
            for j in range(arr.shape[1]):
                enough = np.sum(~np.isnan(arr[:, :j]), axis=1) >= 3
                if enough.any():
                    usual[enough, j] = np.nanmedian(arr[enough, :j], axis=1)
        usual = pd.DataFrame(usual, index=wide.index, columns=wide.columns).stack().rename("usual")
        nohist = nohist.join(usual, on=["unit_id", "indicator_id", "period"])
        nohist["ratio"] = nohist.inc / nohist.usual
        nohist = nohist[(nohist.usual >= nres * nohist.res) & (nohist.ratio >= fb)]
    f = pd.concat([seasonal.assign(method="seasonal"), nohist.assign(method="this_year")], ignore_index=True)
    if f.empty:
        return f
    up = (f.method == "this_year") | (f.z > 0)
    late = f.period.isin(QUARTER_ENDS) | (f.period >= 11)
    f["severity"] = np.where(up & late, "high", "medium")
    f["numbers"] = [{"increment": i, "prev_ytd": pv, "ytd": v, "expected_increment": ei if m == "seasonal" else u,
                     "z": z if m == "seasonal" else None, "ratio": None if m == "seasonal" else r, "method": m}
                    for i, pv, v, ei, z, u, r, m in zip(f.inc, f.prev_value, f.value, f.expected_inc, f.z,
                                                        f.get("usual", pd.Series(np.nan, index=f.index)),
                                                        f.get("ratio", pd.Series(np.nan, index=f.index)), f.method)]
    f = _with_meta(f, d)
    text = []
    for p, pp, i, ei, z, m, uu, u in zip(f.period, f.prev_period, f.inc, f.expected_inc, f.z, f.method,
                                          f.get("usual", pd.Series(np.nan, index=f.index)), f.unit_of_measure):
        span = f"{int(pp) + 1}-{int(p)}月" if p - pp > 1 else f"{int(p)}月"
        when = "（季末/年末）" if (p in QUARTER_ENDS or p >= 11) else ""
        if m == "seasonal":
            hi = z > 0
            text.append(f"{span}增量 {_n(i, u)}{when}，按往年同月规律应约 {_n(ei, u)}；稳健 z = {z:.1f}，"
                        f"{'异常偏高，请核实是否冒报' if hi else '异常偏低，请核实是否瞒报或漏统'}")
        else:
            text.append(f"{span}增量 {_n(i, u)}{when}，是本年此前月度增量中位数 {_n(uu, u)} 的 {i / uu:.1f} 倍"
                        "（无往年数据，按本年比较），请核实是否冒报")
    f["explanation"] = text
    return f


def _shares(d: _Data) -> pd.DataFrame:
    """Current ytd with completion and the history-based expected completion."""
    obs = _cumulative(d)
    tg = d.targets[d.targets.measure == "ytd"][["year", "unit_id", "indicator_id", "target"]]
    obs = obs.merge(tg, on=["year", "unit_id", "indicator_id"], how="left")
    dec = obs[obs.period == 12][["unit_id", "indicator_id", "year", "value", "target"]].rename(columns={"value": "annual"})
    hist = obs[~obs.current].merge(dec[["unit_id", "indicator_id", "year", "annual"]],
                                   on=["unit_id", "indicator_id", "year"])
    hist = hist[hist.annual > 0]
    share = (hist.value / hist.annual).groupby([hist.unit_id, hist.indicator_id, hist.period]).median().rename("hist_share")
    dec = dec[(dec.year < d.year) & (dec.target > 0) & (dec.annual > 0)]
    compl = (dec.annual / dec.target).groupby([dec.unit_id, dec.indicator_id]).median().rename("hist_completion")
    cur = obs[obs.current & (obs.period <= d.period)]
    cur = cur.join(share, on=["unit_id", "indicator_id", "period"]).join(compl, on=["unit_id", "indicator_id"])
    cur["completion"] = cur.value / cur.target.where(cur.target > 0)
    cur["expected"] = cur.hist_share * cur.hist_completion
    return cur


def r_share_above_history(d: _Data, s: Settings) -> pd.DataFrame:
    ratio, gap = s.get("share_above_history", "ratio"), s.get("share_above_history", "min_gap")
    cur = _shares(d)
    f = cur[(cur.expected > 0) & (cur.completion >= ratio * cur.expected) & (cur.completion - cur.expected >= gap)
            & ~cur.indicator_id.map(d.indicators.set_index("indicator_id").unit_of_measure).isin(COUNT_UNITS)].copy()
    f["numbers"] = [{"ytd": v, "target": t, "completion_pct": c * 100, "expected_pct": e * 100,
                     "historical_share_pct": hs * 100, "ratio": c / e}
                    for v, t, c, e, hs in zip(f.value, f.target, f.completion, f.expected, f.hist_share)]
    f = _with_meta(f, d)
    f["explanation"] = [f"{_pm(p)}完成率 {c * 100:.2f}%（{_n(v, u)} ÷ 目标 {_n(t, u)}），而按往年同期进度应约 "
                        f"{e * 100:.2f}%，是其 {c / e:.1f} 倍，请核实是否冒报或提前计入"
                        for p, c, v, t, e, u in zip(f.period, f.completion, f.value, f.target, f.expected,
                                                    f.unit_of_measure)]
    return f


def r_completion_implausible(d: _Data, s: Settings) -> pd.DataFrame:
    top, excess = s.get("completion_implausible", "max_completion"), s.get("completion_implausible", "max_excess_pp")
    cur = d.cur[d.cur.period <= d.period]
    tg = d.targets[d.targets.year == d.year][["unit_id", "indicator_id", "measure", "target"]]
    m = _with_meta(cur.merge(tg, on=["unit_id", "indicator_id", "measure"]), d)
    cum = m[(m.kind == "cumulative") & (m.measure == "ytd") & (m.target > 0) & (m.value >= top * m.target)].copy()
    cum["numbers"] = [{"value": v, "target": t, "completion_pct": v / t * 100} for v, t in zip(cum.value, cum.target)]
    cum["explanation"] = [f"{_pm(p)}累计 {_n(v, u)} 已达年度目标 {_n(t, u)} 的 {v / t * 100:.1f}%，"
                          f"超过合理上限 {top * 100:.0f}%，请核实" for p, v, t, u in
                          zip(cum.period, cum.value, cum.target, cum.unit_of_measure)]
    rate = m[(m.kind == "rate") & (m.value - m.target >= excess)].copy()
    rate["numbers"] = [{"value": v, "target": t, "excess_pp": v - t} for v, t in zip(rate.value, rate.target)]
    rate["explanation"] = [f"{_pm(p)}实际 {v:.2f}% 高出目标 {t:.2f}% 共 {v - t:.2f} 个百分点（上限 {excess:g}），请核实"
                           for p, v, t in zip(rate.period, rate.value, rate.target)]
    return pd.concat([cum, rate], ignore_index=True)


def r_growth_inconsistent(d: _Data, s: Settings) -> pd.DataFrame:
    tol = s.get("growth_inconsistent", "tolerance_pp")
    cur = d.cur[d.cur.period <= d.period]
    g = cur[cur.measure == "growth_pct"][["unit_id", "indicator_id", "period", "value"]]
    y = cur[cur.measure == "ytd"][["unit_id", "indicator_id", "period", "value"]].rename(columns={"value": "ytd"})
    ly = d.hist[(d.hist.year == d.year - 1) & (d.hist.measure == "ytd")][["unit_id", "indicator_id", "period", "value"]]
    m = g.merge(y, on=["unit_id", "indicator_id", "period"]).merge(
        ly.rename(columns={"value": "last_year"}), on=["unit_id", "indicator_id", "period"])
    m = m[m.last_year > 0]
    m["computed"] = (m.ytd / m.last_year - 1) * 100
    f = m[(m.value - m.computed).abs() > tol].copy()
    f["measure"] = "growth_pct"
    f["numbers"] = [{"growth_pct": v, "ytd": a, "last_year_ytd": b, "computed_growth_pct": c, "difference_pp": v - c}
                    for v, a, b, c in zip(f.value, f.ytd, f.last_year, f.computed)]
    f = _with_meta(f, d)
    f["explanation"] = [f"报送增速 {v:.2f}%，而 {_n(a, u)} ÷ 上年同期 {_n(b, u)} − 1 = {c:.2f}%，"
                        f"相差 {v - c:+.2f} 个百分点" for v, a, b, c, u in
                        zip(f.value, f.ytd, f.last_year, f.computed, f.unit_of_measure)]
    return f


def _volume(d: _Data, measures=("ytd", "level")) -> pd.DataFrame:
    """Current values of measurable series (not counts, not milestones/veto), with metadata."""
    m = _with_meta(d.cur[d.cur.period <= d.period], d)
    return m[m.measure.isin(measures) & m.kind.isin(["cumulative", "rate", "ceiling"])
             & ~m.unit_of_measure.isin(COUNT_UNITS)].copy()


def r_round_number(d: _Data, s: Settings) -> pd.DataFrame:
    mx, typ = s.get("round_number", "max_sig"), s.get("round_number", "typical_sig")
    m = _volume(d, ("ytd",))
    m = m[m.unit_of_measure != "%"]
    allv = pd.concat([d.hist[d.hist.measure == "ytd"], d.cur[d.cur.measure == "ytd"]])
    allv = allv.assign(sig=_sig(allv.value.to_numpy()))
    typical = allv.groupby(["unit_id", "indicator_id"]).sig.median().rename("typical_sig")
    dec = pd.Series(_decimals(allv.value.to_numpy()), index=allv.index)
    res = (10.0 ** -dec.groupby([allv.unit_id, allv.indicator_id]).max()).rename("res")
    m = m.join(typical, on=["unit_id", "indicator_id"]).join(res, on=["unit_id", "indicator_id"])
    m["sig"] = _sig(m.value.to_numpy())
    step = m.res * 10.0 ** s.get("round_number", "min_zeros")
    multiple = np.abs(np.round(m.value / step) * step - m.value) <= 1e-9 * np.maximum(1, m.value.abs())
    f = m[(m.value.abs() >= 10) & (m.sig <= mx) & (m.typical_sig >= typ) & multiple].copy()
    f["numbers"] = [{"value": v, "significant_digits": int(g), "typical_significant_digits": t}
                    for v, g, t in zip(f.value, f.sig, f.typical_sig)]
    f["explanation"] = [f"{_pm(p)}数值 {_n(v, u)} 只有 {int(g)} 位有效数字，而该序列通常有 {t:.0f} 位，疑似凑整估报"
                        for p, v, g, t, u in zip(f.period, f.value, f.sig, f.typical_sig, f.unit_of_measure)]
    return f


def r_repeated_value(d: _Data, s: Settings) -> pd.DataFrame:
    need, need_units = s.get("repeated_value", "min_sig"), s.get("repeated_value", "min_sig_units")
    m = _volume(d, ("ytd",))
    m = m[(m.kind == "cumulative") & (_sig(m.value.to_numpy()) >= need)]
    mu = m[_sig(m.value.to_numpy()) >= need_units]
    # only where a chance match is unlikely: pairs × precision ÷ spread of the group's values
    g = mu.groupby(["indicator_id", "period"]).value
    n, spread = g.transform("count"), g.transform("max") - g.transform("min")
    res = 10.0 ** -pd.Series(_decimals(mu.value.to_numpy()), index=mu.index).groupby(
        [mu.indicator_id, mu.period]).transform("max")
    mu = mu[n * (n - 1) / 2 * res < s.get("repeated_value", "max_chance") * spread]
    same = mu.merge(mu[["unit_id", "indicator_id", "period", "value", "unit"]].rename(
        columns={"unit_id": "other_id", "unit": "other"}), on=["indicator_id", "period", "value"])
    same = same[same.unit_id != same.other_id]
    same = same.groupby(["unit_id", "indicator_id", "period"], as_index=False).agg(others=("other", list))
    ly = d.hist[(d.hist.year == d.year - 1) & (d.hist.measure == "ytd")][["unit_id", "indicator_id", "period", "value"]]
    last = m.merge(ly, on=["unit_id", "indicator_id", "period", "value"])[["unit_id", "indicator_id", "period"]]
    f = m.merge(same, on=["unit_id", "indicator_id", "period"], how="left").merge(
        last.assign(last_year=True), on=["unit_id", "indicator_id", "period"], how="left")
    f["last_year"] = f.last_year.fillna(False).astype(bool)
    f = f[f.others.notna() | f.last_year].copy()
    f["numbers"] = [{"value": v, "same_as_units": o if isinstance(o, list) else [], "same_as_last_year": bool(ly)}
                    for v, o, ly in zip(f.value, f.others, f.last_year)]
    f["explanation"] = [f"{_pm(p)}数值 {_n(v, u)} 与" + "、".join(
        ([f"同期{'、'.join(o[:3])}{'等' if len(o) > 3 else ''}的数值"] if isinstance(o, list) else [])
        + (["本单位上年同期"] if ly else [])) + "完全相同，疑似照抄或估报"
        for p, v, o, ly, u in zip(f.period, f.value, f.others, f.last_year, f.unit_of_measure)]
    return f


def r_equals_target(d: _Data, s: Settings) -> pd.DataFrame:
    nres = s.get("equals_target", "min_resolutions")
    m = _volume(d, ("ytd", "level", "growth_pct"))
    tg = d.targets[d.targets.year == d.year][["unit_id", "indicator_id", "measure", "target"]]
    m = m.merge(tg, on=["unit_id", "indicator_id", "measure"])
    series = pd.concat([d.hist, d.cur])
    series = series.assign(dec=_decimals(series.value.to_numpy()))
    res = (10.0 ** -series.groupby(["unit_id", "indicator_id", "measure"]).dec.max()).rename("res")
    m = m.join(res, on=["unit_id", "indicator_id", "measure"])
    f = m[(np.abs(m.value - m.target) <= 1e-9 * np.maximum(1, m.target.abs()))
          & (m.target.abs() >= nres * m.res)].copy()
    f["numbers"] = [{"value": v, "target": t} for v, t in zip(f.value, f.target)]
    f["explanation"] = [f"{_pm(p)}数值 {_n(v, u)} 与年度目标 {_n(t, u)} 分毫不差，请核实是否按目标填报"
                        for p, v, t, u in zip(f.period, f.value, f.target, f.unit_of_measure)]
    return f


def _revision_changes(d: _Data) -> pd.DataFrame:
    r = d.revs[d.revs.prev_value.notna() & (d.revs.value != d.revs.prev_value)]
    return r


def r_revision_down(d: _Data, s: Settings, up: bool = False) -> pd.DataFrame:
    r = d.revs[(d.revs.revision == d.revs.revisions) & d.revs.prev_value.notna() & (d.revs.period <= d.period)]
    r = r[(r.value > r.prev_value) if up else (r.value < r.prev_value)].copy()
    prev = d.revs[["period", "unit_id", "indicator_id", "measure", "upload_id", "file", "uploaded_by", "uploaded_at"]] \
        .rename(columns={"upload_id": "prev_upload_id", "file": "prev_file", "uploaded_by": "prev_by",
                         "uploaded_at": "prev_at"})
    r = r.merge(prev, on=["period", "unit_id", "indicator_id", "measure", "prev_upload_id"], how="left")
    r["numbers"] = [{"value": v, "previous_value": pv, "change": v - pv, "uploaded_by": by,
                     "uploaded_at": pd.Timestamp(at).isoformat(), "previous_upload_id": int(pu),
                     "previous_file": pf} for v, pv, by, at, pu, pf in
                    zip(r.value, r.prev_value, r.uploaded_by, r.uploaded_at, r.prev_upload_id, r.prev_file)]
    r = _with_meta(r, d)
    word = "上调" if up else "下调"
    r["explanation"] = [f"{_pm(p)}数值由 {_n(pv, u)}（上传 #{int(pu)} {pf}）{word}为 {_n(v, u)}"
                        f"（{'+' if up else '−'}{_n(abs(v - pv), u)}），{by} 于 {pd.Timestamp(at):%Y-%m-%d %H:%M} 上传"
                        + ("" if up else "；下调修订须说明原因，警惕瞒报")
                        for p, pv, pu, pf, v, by, at, u in zip(r.period, r.prev_value, r.prev_upload_id, r.prev_file,
                                                               r.value, r.uploaded_by, r.uploaded_at,
                                                               r.unit_of_measure)]
    return r


def r_revision_up(d: _Data, s: Settings) -> pd.DataFrame:
    return r_revision_down(d, s, up=True)


def r_stuck_value(d: _Data, s: Settings) -> pd.DataFrame:
    k, min_share = int(s.get("stuck_value", "periods")), s.get("stuck_value", "min_share")
    m = _with_meta(d.cur[d.cur.measure.isin(["ytd", "level"])], d)
    m = m[m.kind.isin(["cumulative", "rate", "ceiling"]) & ~m.unit_of_measure.isin(COUNT_UNITS)]
    m = m.sort_values(["unit_id", "indicator_id", "measure", "period"]).reset_index(drop=True)
    g = m.groupby(["unit_id", "indicator_id", "measure"], sort=False)
    same = pd.Series(True, index=m.index)
    for lag in range(1, k):
        same &= g.value.shift(lag) == m.value
    m["first_period"] = g.period.shift(k - 1)
    m = m[same & (m.period <= d.period)]
    m = m[~((m.unit_of_measure == "%") & (m.value >= 100))]
    # cumulative: only where past years normally grow over the same months
    cum = m.kind == "cumulative"
    if cum.any():
        hist = d.hist[d.hist.measure == "ytd"]
        annual = hist[hist.period == 12][["unit_id", "indicator_id", "year", "value"]].rename(columns={"value": "annual"})
        h = hist.merge(annual, on=["unit_id", "indicator_id", "year"])
        h = h[h.annual > 0].assign(share=lambda x: x.value / x.annual)
        hs = h.groupby(["unit_id", "indicator_id", "period"]).share.median()
        key_to = pd.MultiIndex.from_arrays([m.unit_id, m.indicator_id, m.period])
        key_from = pd.MultiIndex.from_arrays([m.unit_id, m.indicator_id, m.first_period.fillna(0).astype(int)])
        growth = hs.reindex(key_to).to_numpy() - hs.reindex(key_from).to_numpy()
        m["hist_growth"] = growth
        m = m[~cum | (m.hist_growth >= min_share)]
    f = m.copy()
    f["numbers"] = [{"value": v, "periods": k, "from_period": int(fp)} for v, fp in zip(f.value, f.first_period)]
    f["explanation"] = [f"{_pm(fp)}至{_pm(p)}连续 {k} 期数值均为 {_n(v, u)}"
                        + ("，累计未增长而往年同期有增长" if kd == "cumulative" else "，完全不变")
                        + "，请核实是否未如实更新（瞒报）"
                        for fp, p, v, u, kd in zip(f.first_period, f.period, f.value, f.unit_of_measure, f.kind)]
    return f


def r_against_peers(d: _Data, s: Settings) -> pd.DataFrame:
    k, npeers = s.get("against_peers", "z"), s.get("against_peers", "min_peers")
    floor = s.get("against_peers", "min_scale_pp")
    cur = d.cur[d.cur.measure == "ytd"][["unit_id", "indicator_id", "period", "value"]]
    ly = d.hist[(d.hist.year == d.year - 1) & (d.hist.measure == "ytd")][["unit_id", "indicator_id", "period", "value"]]
    m = cur.merge(ly.rename(columns={"value": "last_year"}), on=["unit_id", "indicator_id", "period"])
    m = _with_meta(m[m.last_year > 0], d)
    m = m[(m.kind == "cumulative") & m.peer_group.notna() & (m.peer_group != "") & ~m.unit_of_measure.isin(COUNT_UNITS)]
    m = m.sort_values(["unit_id", "indicator_id", "period"]).reset_index(drop=True)
    m["growth"] = (m.value / m.last_year - 1) * 100
    g = m.groupby(["unit_id", "indicator_id"], sort=False)
    m["prev_growth"] = g.growth.shift(1)
    m["prev_period"] = g.period.shift(1)
    m["change"] = m.growth - m.prev_growth
    m = m[m.change.notna()]
    by = [m.indicator_id, m.peer_group, m.period]
    m["peers"] = m.change.groupby(by).transform("count")
    center, mad = _robust(m.change, by)
    pooled = (m.change - center).abs().groupby([m.indicator_id, m.peer_group]).transform("median") * 1.4826
    m["peer_change"], m["scale"] = center, np.maximum(np.maximum(mad, pooled), floor)
    m["z"] = (m.change - m.peer_change) / m.scale
    f = m[(m.period <= d.period) & (m.peers >= npeers) & (m.z <= -k) & (m.change < 0)].copy()
    f["measure"] = "ytd"
    f["numbers"] = [{"growth_pct": gr, "prev_growth_pct": pg, "change_pp": c, "peer_median_change_pp": pc, "z": z,
                     "peers": int(n)} for gr, pg, c, pc, z, n in
                    zip(f.growth, f.prev_growth, f.change, f.peer_change, f.z, f.peers)]
    f["explanation"] = [f"累计同比增速由{_pm(pp)}的 {pg:.2f}% 变为{_pm(p)}的 {gr:.2f}%（{c:+.2f} 个百分点），"
                        f"而同组（{grp}）{int(n)} 个单位的中位变化为 {pc:+.2f} 个百分点；稳健 z = {z:.1f}，"
                        "走势与同组相反，请核实是否瞒报或漏统"
                        for pp, pg, p, gr, c, grp, n, pc, z in zip(f.prev_period, f.prev_growth, f.period, f.growth,
                                                                   f.change, f.peer_group, f.peers, f.peer_change, f.z)]
    return f


def r_published_mismatch(d: _Data, s: Settings) -> pd.DataFrame:
    tol = s.get("published_mismatch", "tolerance_pp")
    cur = d.cur[d.cur.period <= d.period]
    pub = cur[cur.measure == "published_completion_pct"][["unit_id", "indicator_id", "period", "measure", "value"]]
    y = cur[cur.measure == "ytd"][["unit_id", "indicator_id", "period", "value"]].rename(columns={"value": "ytd"})
    tg = d.targets[(d.targets.year == d.year) & (d.targets.measure == "ytd")][["unit_id", "indicator_id", "target"]]
    m = pub.merge(y, on=["unit_id", "indicator_id", "period"]).merge(tg, on=["unit_id", "indicator_id"])
    m = m[m.target > 0]
    m["computed"] = m.ytd / m.target * 100
    f = _with_meta(m[(m.value - m.computed).abs() > tol].copy(), d)
    f["numbers"] = [{"published_pct": v, "computed_pct": c, "ytd": a, "target": t, "difference_pp": v - c}
                    for v, c, a, t in zip(f.value, f.computed, f.ytd, f.target)]
    f["explanation"] = [f"表中公布完成率 {v:.2f}%，按 {_n(a, u)} ÷ {_n(t, u)} 计算为 {c:.2f}%，相差 {v - c:+.2f} 个百分点"
                        "（以计算值为准）" for v, a, t, c, u in zip(f.value, f.ytd, f.target, f.computed,
                                                              f.unit_of_measure)]
    return f


def _reported(d: _Data) -> pd.DataFrame:
    """(indicator_id, period) pairs of `year` where at least one unit reported a value."""
    return d.cur[["indicator_id", "period"]].drop_duplicates()


def r_missing_target(d: _Data, s: Settings) -> pd.DataFrame:
    tg = d.targets[d.targets.year == d.year][["unit_id", "indicator_id"]].drop_duplicates()
    rep = _reported(d)
    rep = rep[rep.period <= d.period]
    want = tg.merge(rep, on="indicator_id")
    have = d.cur[["unit_id", "indicator_id", "period"]].drop_duplicates().assign(has=True)
    f = want.merge(have, on=["unit_id", "indicator_id", "period"], how="left")
    f = _with_meta(f[f.has.isna()].drop(columns="has"), d)
    f["measure"] = None
    f["value"] = np.nan
    others = d.cur.groupby(["indicator_id", "period"]).unit_id.nunique().rename("reporting_units")
    f = f.join(others, on=["indicator_id", "period"])
    f["numbers"] = [{"reporting_units": int(n)} for n in f.reporting_units]
    f["explanation"] = [f"有{d.year}年度目标，但{_pm(p)}没有任何数值（同期已有 {int(n)} 个单位报送该指标），疑似漏报"
                        for p, n in zip(f.period, f.reporting_units)]
    return f


def r_missing_dropout(d: _Data, s: Settings) -> pd.DataFrame:
    rep = _reported(d).sort_values(["indicator_id", "period"])
    rep["prev_period"] = rep.groupby("indicator_id").period.shift(1)
    have = d.cur[["unit_id", "indicator_id", "period"]].drop_duplicates()
    prev = have.rename(columns={"period": "prev_period"}).merge(rep.dropna(subset=["prev_period"]),
                                                                on=["indicator_id", "prev_period"])
    f = prev.merge(have.assign(has=True), on=["unit_id", "indicator_id", "period"], how="left")
    f = f[f.has.isna() & (f.period <= d.period)].drop(columns="has")
    tg = d.targets[d.targets.year == d.year][["unit_id", "indicator_id"]].drop_duplicates().assign(t=True)
    f = f.merge(tg, on=["unit_id", "indicator_id"], how="left")
    f = _with_meta(f[f.t.isna()].drop(columns="t"), d)
    f["measure"] = None
    f["value"] = np.nan
    f["numbers"] = [{"last_reported_period": int(pp)} for pp in f.prev_period]
    f["explanation"] = [f"{_pm(pp)}有数值，{_pm(p)}未报送，疑似漏报" for pp, p in zip(f.prev_period, f.period)]
    return f


def r_dropped_rows(d: _Data, s: Settings) -> pd.DataFrame:
    rows = []
    for upload_id, file, report, period in d.partial.itertuples(index=False):
        try:
            problems = json.loads(report or "{}").get("problems", [])
        except ValueError:
            continue
        for p in problems:
            if p.get("severity", "error") != "error" or p.get("row") is None:
                continue
            rows.append({"unit_id": None, "indicator_id": None, "measure": None, "value": np.nan,
                         "period": None if period is None or pd.isna(period) else int(period),
                         "file": p.get("file") or file, "row": int(p["row"]), "upload_id": int(upload_id),
                         "revision": None, "extra": f"{upload_id}:{p['row']}:{p.get('column') or ''}",
                         "numbers": {"row": int(p["row"]), "column": p.get("column"), "reason": p.get("reason")},
                         "explanation": f"{p.get('file') or file} 第{p['row']}行「{p.get('column') or ''}」"
                                        f"入库时被拒绝：{p.get('reason')}；该数值未入库，须更正后补报"})
    return pd.DataFrame(rows)


CHECKS: dict[str, Callable[[_Data, Settings], pd.DataFrame]] = {
    "missing_target": r_missing_target, "missing_dropout": r_missing_dropout, "dropped_rows": r_dropped_rows,
    "cum_decrease": r_cum_decrease, "month_identity": r_month_identity,
    "subrow_exceeds_parent": r_subrow_exceeds_parent, "increment_outlier": r_increment_outlier,
    "share_above_history": r_share_above_history, "completion_implausible": r_completion_implausible,
    "growth_inconsistent": r_growth_inconsistent, "round_number": r_round_number,
    "repeated_value": r_repeated_value, "equals_target": r_equals_target, "revision_down": r_revision_down,
    "stuck_value": r_stuck_value, "against_peers": r_against_peers, "published_mismatch": r_published_mismatch,
    "revision_up": r_revision_up,
}
assert set(CHECKS) == set(RULE_BY_ID)


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in FLAG_COLUMNS})


def _assemble(d: _Data, found: dict[str, pd.DataFrame]) -> pd.DataFrame:
    origin = d.cur[["unit_id", "indicator_id", "period", "measure", "file", "row", "upload_id", "revision"]]
    parts = []
    for rule_id, f in found.items():
        if f is None or f.empty:
            continue
        rule = RULE_BY_ID[rule_id]
        f = f.reset_index(drop=True)
        cols = ["unit_id", "indicator_id", "period", "measure", "value", "numbers", "explanation"]
        out = pd.DataFrame({c: f[c] if c in f else None for c in cols})
        out["severity"] = f["severity"] if "severity" in f else rule.severity
        out["extra"] = f["extra"] if "extra" in f else ""
        if "file" in f:
            out[["file", "row", "upload_id", "revision"]] = f[["file", "row", "upload_id", "revision"]]
        else:
            out = out.merge(origin, on=["unit_id", "indicator_id", "period", "measure"], how="left")
        out["rule"] = rule_id
        parts.append(out)
    if not parts:
        return _empty()
    flags = pd.concat(parts, ignore_index=True)
    flags["year"] = d.year
    rules = pd.DataFrame([(r.id, r.name, r.family) for r in RULES], columns=["rule", "rule_name", "family"])
    flags = flags.merge(rules, on="rule", how="left")
    flags = flags.merge(d.units[["unit_id", "unit"]], on="unit_id", how="left").merge(
        d.indicators[["indicator_id", "indicator"]], on="indicator_id", how="left")
    flags["period"] = flags.period.astype("Int64")
    flags["flag_key"] = [flag_key(r, u, i, d.year, p, m, x) for r, u, i, p, m, x in
                         zip(flags.rule, flags.unit_id, flags.indicator_id, flags.period, flags.measure, flags.extra)]
    flags = flags.drop_duplicates("flag_key")
    for c in ("row", "upload_id", "revision"):
        flags[c] = pd.to_numeric(flags[c], errors="coerce").astype("Int64")
    flags["value"] = pd.to_numeric(flags.value, errors="coerce").astype(float)
    flags["verified"], flags["verified_by"], flags["verified_at"], flags["comment"] = False, None, pd.NaT, None
    order = {s: i for i, s in enumerate(SEVERITIES)}
    flags = flags.assign(_s=flags.severity.map(order), _r=flags.rule.map({r.id: i for i, r in enumerate(RULES)}))
    flags = flags.sort_values(["_s", "_r", "period", "unit_id", "indicator_id"], na_position="last")
    return flags[FLAG_COLUMNS].reset_index(drop=True)


def compute(con, year: int, period: int | None = None, settings: Settings = DEFAULT_SETTINGS) -> pd.DataFrame:
    """Run every enabled rule on an open connection: flags of ``year`` for periods ≤
    ``period`` (default: the latest period of the year); reviews not joined."""
    return _run(_load(con, int(year), period), settings)


def _run(d: _Data, settings: Settings) -> pd.DataFrame:
    return _assemble(d, {rid: fn(d, settings) for rid, fn in CHECKS.items() if settings.enabled(rid)})


def flags_from_tables(tables: dict[str, pa.Table], year: int, period: int | None, overrides: dict,
                      disabled: list) -> pd.DataFrame:
    """:func:`compute` on what :func:`_read` read, ``numbers`` as JSON text — the worker's task
    (analytics/worker.py: the app server checks in a child process)."""
    return _numbers_as_json(_run(_data(tables, year, period), Settings.of(overrides, disabled)))


def _computed(con, year: int, period: int | None, settings: Settings) -> pd.DataFrame | Path:
    """The flags of ``year`` (``numbers`` as JSON text) — or, computed by a worker process (the
    app server's choice for big data: :func:`worker.wanted`), the file holding them; computed
    here also when the worker fails (logged)."""
    tables = _read(con, int(year))
    arguments = {"year": int(year), "period": period, "overrides": dict(settings.overrides),
                 "disabled": sorted(settings.disabled)}
    return worker.compute("quality", tables, arguments, tables["revs"].num_rows,
                          lambda: flags_from_tables(tables, **arguments))


def _verified(con) -> pd.DataFrame:
    """The flags whose latest review is 已核实: flag_key, comment, verified_by, verified_at."""
    return con.execute("""SELECT flag_key, comment, username AS verified_by, reviewed_at AS verified_at
                          FROM flag_reviews
                          QUALIFY row_number() OVER (PARTITION BY flag_key ORDER BY reviewed_at DESC) = 1
                            AND status = 'verified'""").df()


def _join_reviews(con, flags: pd.DataFrame) -> pd.DataFrame:
    if flags.empty:
        return flags
    reviews = _verified(con)
    flags = flags.drop(columns=["verified_by", "verified_at", "comment"]).merge(reviews, on="flag_key", how="left")
    flags["verified"] = flags.verified_by.notna()
    return flags[[c for c in FLAG_COLUMNS if c in flags]]


def _kept(con, year: int, period: int | None, settings: Settings, columns: list[str] | None = None) -> pd.DataFrame:
    """The flags without reviews, computed once per data version and kept (db.cached_frame)."""
    key = json.dumps([int(year), period, list(settings.overrides), sorted(settings.disabled)])
    return db.cached_frame(con, "quality", key, lambda: _computed(con, year, period, settings), columns)


def check(year: int, period: int | None = None, path: PathLike = None,
          settings: Settings = DEFAULT_SETTINGS, numbers: bool = True) -> pd.DataFrame:
    """The flags of ``year`` for periods ≤ ``period`` (default latest), each with its
    verification status (已核实 by whom, when, comment). Columns: :data:`FLAG_COLUMNS`;
    ``numbers=False`` leaves out ``numbers`` (a dict per flag: at 300 units × 300 indicators
    170,000 of them, most of the frame's ~145 MB and ~0.5 s to parse) — for a list of flags,
    whose explanations state the numbers."""
    with db.connect(path) as con:
        if not numbers:
            return _join_reviews(con, _kept(con, year, period, settings, [c for c in FLAG_COLUMNS if c != "numbers"]))
        return _join_reviews(con, _numbers_from_json(_kept(con, year, period, settings)))


def _numbers_as_json(flags: pd.DataFrame) -> pd.DataFrame:
    return flags.assign(numbers=[json.dumps(n, ensure_ascii=False, default=str) for n in flags.numbers])


def _numbers_from_json(flags: pd.DataFrame) -> pd.DataFrame:
    return flags.assign(numbers=json.loads("[" + ",".join(flags.numbers) + "]"))  # one parse, not one per flag


def open_flags(year: int, period: int, path: PathLike = None) -> pd.DataFrame:
    """Unverified flags of exactly ``period`` — for the marker next to a figure on the gap and
    projection pages. Columns: unit_id, indicator_id, period, rule, severity. Reads five
    columns of the kept flags, not every flag's numbers and text."""
    with db.connect(path) as con:
        flags = _kept(con, year, period, DEFAULT_SETTINGS, ["flag_key", *OPEN_COLUMNS])
        verified = _verified(con).flag_key
    flags = flags[(flags.period == period) & flags.unit_id.notna() & ~flags.flag_key.isin(verified)]
    return flags[OPEN_COLUMNS].reset_index(drop=True)


def records(flags: pd.DataFrame) -> list[dict]:
    """JSON-ready flags (English snake_case fields, numbers unrounded, NaN → null)."""
    out = []
    for rec in flags.astype(object).where(flags.notna(), None).to_dict("records"):
        row = {}
        for k, v in rec.items():
            if isinstance(v, float) and not math.isfinite(v):
                v = None
            elif isinstance(v, pd.Timestamp):
                v = v.isoformat()
            elif hasattr(v, "item"):
                v = v.item()
            row[k] = v
        row["numbers"] = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                          for k, v in (row["numbers"] or {}).items()}
        row["verified"] = bool(row["verified"])
        out.append(row)
    return out


def summary(flags: pd.DataFrame) -> pd.DataFrame:
    """Counts per rule and severity: family, rule, rule_name, high, medium, low, total, verified."""
    if flags.empty:
        return pd.DataFrame(columns=["family", "rule", "rule_name", *SEVERITIES, "total", "verified"])
    t = flags.pivot_table(index=["family", "rule", "rule_name"], columns="severity", values="flag_key",
                          aggfunc="count", fill_value=0)
    for s in SEVERITIES:
        if s not in t:
            t[s] = 0
    t = t[list(SEVERITIES)]
    t["total"] = t.sum(axis=1)
    t["verified"] = flags.groupby(["family", "rule", "rule_name"]).verified.sum().reindex(t.index).astype(int)
    order = {r.id: i for i, r in enumerate(RULES)}
    return t.reset_index().sort_values("rule", key=lambda r: r.map(order)).reset_index(drop=True)


# ------------------------------------------------------------------ series, revisions (for the page)

def series(year: int, unit_id: str, indicator_id: str, measure: str | None, path: PathLike = None) -> dict:
    """One series for the flag's chart: this year's and last year's current values by period,
    the target of the same measure, and every revision of this year's values."""
    with db.connect(path) as con:
        if measure is None:
            row = db.one(con, """SELECT measure FROM current_observations WHERE unit_id = ? AND indicator_id = ?
                                 AND year BETWEEN ? - 1 AND ? GROUP BY measure
                                 ORDER BY measure <> 'ytd', measure <> 'level', count(*) DESC LIMIT 1""",
                         [unit_id, indicator_id, year, year])
            measure = row[0] if row else "ytd"
        values = con.execute("""SELECT year, period, value FROM current_observations WHERE unit_id = ?
                                AND indicator_id = ? AND measure = ? AND year BETWEEN ? - 1 AND ? ORDER BY year, period""",
                             [unit_id, indicator_id, measure, year, year]).df()
        target = db.one(con, """SELECT target FROM current_targets WHERE year = ? AND unit_id = ? AND indicator_id = ?
                                AND measure = ?""", [year, unit_id, indicator_id, measure])
        revs = con.execute("""SELECT o.period, o.value, o.upload_id, up.file_name AS file, o.source_row AS row,
                                     up.uploaded_by, up.uploaded_at, up.status
                              FROM observations o JOIN uploads up USING (upload_id)
                              WHERE o.year = ? AND o.unit_id = ? AND o.indicator_id = ? AND o.measure = ?
                              ORDER BY o.period, o.upload_id""", [year, unit_id, indicator_id, measure]).df()
        meta = db.one(con, """SELECT i.name, i.unit_of_measure, u.name FROM indicators i, units u
                              WHERE i.indicator_id = ? AND u.unit_id = ?""", [indicator_id, unit_id])
    revs["revision"] = revs.groupby("period").cumcount() + 1
    counts = revs.groupby("period").period.transform("count")
    revs = revs[counts > 1].reset_index(drop=True)  # only values that were revised
    uom = "%" if measure in ("growth_pct", "published_completion_pct") else (meta[1] if meta else "")
    return {"measure": measure, "values": values, "target": target[0] if target else None, "revisions": revs,
            "indicator": meta[0] if meta else indicator_id, "unit": meta[2] if meta else unit_id,
            "unit_of_measure": uom}


def revisions(year: int, path: PathLike = None) -> pd.DataFrame:
    """Every change between successive revisions of the same value in ``year``: key, old and
    new value, the uploads, who uploaded the new one and when."""
    with db.connect(path) as con:
        d = con.execute(_SQL_REVS, [year]).df()
    d = d[d.prev_value.notna() & (d.value != d.prev_value)].sort_values(
        ["period", "unit_id", "indicator_id", "measure", "upload_id"])
    return d[["year", "period", "unit_id", "indicator_id", "measure", "prev_value", "value", "prev_upload_id",
              "upload_id", "file", "row", "uploaded_by", "uploaded_at"]].reset_index(drop=True)


# ------------------------------------------------------------------ storing and verifying

_INSERT_FLAGS = """INSERT INTO quality_flags SELECT ?, flag_key, rule, severity, year, period, unit_id, indicator_id,
                   measure, value, numbers, explanation, file, "row", upload_id, revision FROM _qflags"""


def _write_flags(con, flags: pd.DataFrame, year: int, upload_id: int | None, actor: Actor,
                 settings: Settings) -> int:
    run_id = db.one(con, "SELECT nextval('quality_run_seq')")[0]
    con.execute("INSERT INTO quality_runs VALUES (?, ?, ?, now()::TIMESTAMP, ?, ?, ?)",
                [run_id, year, upload_id, actor.username, len(flags),
                 json.dumps({"overrides": dict(settings.overrides), "disabled": sorted(settings.disabled)})])
    if len(flags):  # (numbers: JSON text)
        frame = flags[["flag_key", "rule", "severity", "year", "period", "unit_id", "indicator_id", "measure", "value",
                       "numbers", "explanation", "file", "row", "upload_id", "revision"]]
        con.register("_qflags", frame)
        try:
            con.execute(_INSERT_FLAGS, [run_id])
        finally:
            con.unregister("_qflags")
    return run_id


def store_flags(year: int, actor: Actor, path: PathLike = None, settings: Settings = DEFAULT_SETTINGS) -> dict:
    """Run the checks on demand and store the flags (one audited transaction)."""
    require(actor, "verify_flag")
    with db.connect(path) as con:
        flags = db.take_frame(_computed(con, year, 12, settings))
        with db.transaction(con, actor, "quality_check", {"year": year, "flags": len(flags)}) as detail:
            detail["run_id"] = _write_flags(con, flags, year, None, actor, settings)
    return detail


AFTER_UPLOAD_MAX_ROWS = 200_000  # above this the checks run on demand (page/CLI compute them live anyway)


def after_upload(con, report, actor: Actor) -> None:
    """Called by ``ingest.ingest_bytes`` right after a successful store: run the checks on
    every year the upload touched and store the flags with the upload (derived data, written
    in its own short transaction; the upload's audit entry covers it). Never raises: a
    failure is added to the upload report's notes instead — the upload stands."""
    try:
        if not report.upload_id:
            return
        if report.rows_stored > AFTER_UPLOAD_MAX_ROWS:
            report.notes.append(f"数据质量检查：文件较大（{report.rows_stored:,} 行），入库时不自动检查，"
                                "请在“数据质量”页或用命令 check 查看（随时按当前数据计算）")
            return
        years = [r[0] for r in con.execute(
            """SELECT DISTINCT year FROM observations WHERE upload_id = $u
               UNION SELECT DISTINCT year FROM targets WHERE upload_id = $u ORDER BY 1""",
            {"u": report.upload_id}).fetchall()]
        if not years:
            return
        results = [(y, db.take_frame(_computed(con, y, 12, DEFAULT_SETTINGS))) for y in years]
        total = 0
        with db.transaction(con, actor, "quality_after_upload", audit=False):
            for y, flags in results:
                _write_flags(con, flags, y, report.upload_id, actor, DEFAULT_SETTINGS)
                total += len(flags)
        report.notes = [*report.notes, f"数据质量检查：{'、'.join(map(str, years))}年共 {total:,} 条预警（见“数据质量”页）"]
    except Exception as e:  # noqa: BLE001 — the checks must never fail an upload
        report.notes = [*report.notes, f"数据质量检查未能运行（{type(e).__name__}: {str(e)[:200]}），"
                                       "数据已入库；请在“数据质量”页重新检查"]


def verify_flag(flag_key: str, comment: str, actor: Actor, path: PathLike = None) -> dict:
    """Mark a flag 已核实 with a comment: stored in ``flag_reviews`` (kept across re-runs by the
    flag key) and audited. Analysts and admins only."""
    require(actor, "verify_flag")
    comment = (comment or "").strip()
    if not comment:
        raise AnalyticsError("请填写核实说明（例如：已与报送单位核对，数值属实）")
    parts = flag_key.split("|")
    if len(parts) < 6 or parts[0] not in RULE_BY_ID:
        raise AnalyticsError(f"无效的预警编号：{flag_key}")
    detail = {"flag_key": flag_key, "rule": parts[0], "comment": comment}
    with db.connect(path) as con:
        with db.transaction(con, actor, "verify_flag", detail):
            con.execute("INSERT INTO flag_reviews VALUES (?, 'verified', ?, ?, now()::TIMESTAMP)",
                        [flag_key, comment, actor.username])
    return detail
