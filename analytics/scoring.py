"""Scoring rules as data (``data/rules.toml``) → scores, ranks and consequences.

保二争一 needs the city's assessment reproduced: each county's total =
Σ indicator scores (百分制) + 超额加分 + 先进荣誉加分 − 平安稳定减分 − 约谈扣分 − 市扣分,
then 一票否决, ranked within its peer group (competition ranking 1, 2, 2, 4; a unit
with no total is unranked). The same rules score our townships and county departments
(their ranks within 乡镇 / 县直部门), with the review meeting's consequence rules:
score < 85 and last → 整改承诺; city deductions charged to the responsible county
department at ×10; a department whose line ranks last in the city → 停职反省.

Every indicator score is computed from its **completion** ``c`` (percent):
cumulative ``c = 100·value/target``; rate ``c = 100·value/target`` (the level itself,
``value = c·target/100``, is what peer methods compare); ceiling (lower is better)
``c = 100·(2 − value/target)`` (at the target 100%, each 1% below it +1 pp);
milestone ``c = 100·done``; veto: breached when ``value > target``. The simulation
draws completions, so the same vectorised functions score one year or 10,000 draws.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import db
from .errors import AnalyticsError

DEFAULT_RULES = db.ROOT / "data" / "rules.toml"
KINDS_WITH_BONUS = ("cumulative",)
PEER_METHODS = ("rank", "efficacy", "static_dynamic", "relative", "threshold_then_rank")


class RulesError(AnalyticsError):
    """The rules file is malformed; the message names the rule and what is wrong."""


def _f(default, help: str):
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    """Assessment-wide settings (the [settings] table of rules.toml)."""

    bonus_per_pp: float = _f(0.05, "超额完成加分：累计类指标完成率每超过100%一个百分点加的分")
    bonus_cap_item: float = _f(0.5, "单项超额加分上限（分）")
    bonus_cap_total: float = _f(3.0, "超额加分合计上限（分）")
    honour_cap_total: float = _f(3.0, "先进荣誉加分合计上限（分）；同一事项获多级荣誉只计最高级别（同级取分值高者）")
    deduction_cap_total: float = _f(10.0, "平安稳定减分、约谈扣分、市扣分（部门含×10转扣）合计上限（分）")
    veto_mode: str = _f("zero", "一票否决：zero＝总分归零；cap＝总分不超过 veto_cap")
    veto_cap: float = _f(60.0, "veto_mode=cap 时一票否决后的总分上限")
    rectify_below: float = _f(85.0, "整改承诺：年终得分低于此分（严格小于，恰为85分不触发）且为末位")
    charge_multiple: float = _f(10.0, "市对县扣分按此倍数转扣到责任县直部门（×10 规则）")
    default_correlation: float = _f(0.5, "模拟：同类指标全市共同冲击所占方差比例 ρ（0＝各县独立，1＝完全同涨同跌）")

    @staticmethod
    def help(name: str) -> str:
        return next(f.metadata["help"] for f in fields(Settings) if f.name == name)


@dataclass(frozen=True)
class Method:
    """A scoring method: its Chinese label, the formula as help text and its parameters."""

    name: str
    label: str
    help: str
    params: dict = field(default_factory=dict)


METHODS: dict[str, Method] = {m.name: m for m in [
    Method("proportional", "按完成比例计分",
           "得分 = 分值 × min(完成率, cap)；cap 默认 100%，超额部分计入超额加分", {"cap": 1.0}),
    Method("pass_fail", "目标完成计分法",
           "完成全年目标（完成率≥100%；下降类指标不高于目标）得全部分值，否则得 partial×分值（默认 0）",
           {"partial": 0.0}),
    Method("linear_band", "区间线性计分",
           "得分 = 分值 + per_pp × 差距（累计类：完成率−100，单位百分点；增速/比率类：实际−目标），"
           "限定在 [floor×分值, cap×分值]", {"per_pp": 0.1, "floor": 0.0, "cap": 1.0}),
    Method("rank", "争先进位计分法",
           "同组排名第1得全部分值，每后一名减 step（默认5%），不低于0；并列按竞争排名（1,2,2,4）"
           "并列者均得较好名次的分；第20名之后（≥21名）得0分；未报送者不参与排名、得0分",
           {"step": 0.05, "places": 20}),
    Method("efficacy", "功效系数法",
           "得分 = 基础分 + (分值 − 基础分) × (x − 同组最低)/(同组最高 − 同组最低)，基础分 = base×分值"
           "（默认60%）；同组仅一家或全部相等时得全部分值；x 为完成率（增速/比率类为实际值）", {"base": 0.6}),
    Method("static_dynamic", "静态动态结合",
           "静态分 = static_weight×分值×min(完成率,100%)；动态分 = (1−static_weight)×分值×增速的功效系数"
           "（同组，基础 base）；增速 = 本期值/上年同期值 − 1", {"static_weight": 0.4, "base": 0.6}),
    Method("relative", "与全市水平比较",
           "与全市平均水平（全市各县简单平均）持平得 base×分值，每高（低）1个百分点加（减）per_pp 分"
           "（即每0.1个百分点0.1分），限定在 [0, 分值]", {"per_pp": 1.0, "base": 0.8}),
    Method("threshold_then_rank", "门槛加排名",
           "达到门槛（threshold，未设则为本单位目标）得 fixed_share×分值；达门槛者再同组排名计其余分值"
           "（第1名全得，每后一名减 step）；未达门槛得0分", {"threshold": None, "fixed_share": 0.5, "step": 0.1}),
    Method("veto", "一票否决",
           "出现即一票否决（值大于目标，如重大安全事故>0）：总分按 veto_mode 归零或封顶；不单独计分", {}),
]}
_NON_NEGATIVE = {"cap", "partial", "per_pp", "floor", "step", "places", "base", "static_weight", "fixed_share"}


@dataclass(frozen=True)
class Rule:
    """One indicator's scoring rule (a [rules.<id>] table)."""

    indicator_id: str
    method: str
    points: float
    params: dict
    bonus: bool = True
    measure: str | None = None
    help: str = ""

    @property
    def text(self) -> str:
        """The rule as shown next to its score."""
        m = METHODS[self.method]
        extra = "；".join(f"{k}={v}" for k, v in self.params.items() if v is not None
                         and v != m.params.get(k))
        return f"{m.label}（{self.points:g}分）：{self.help or m.help}" + (f"（{extra}）" if extra else "")


@dataclass(frozen=True)
class RuleSet:
    settings: Settings
    rules: dict[str, Rule]
    source: str = ""


def _check_number(where: str, key: str, value: Any, *, non_negative: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise RulesError(f"{where}：{key} 应为数值，实为 {value!r}")
    if non_negative and value < 0:
        raise RulesError(f"{where}：{key} 不能为负数（{value}）")
    return float(value)


def parse_rules(doc: dict, source: str = "") -> RuleSet:
    """Validate a parsed rules document: unknown method, missing points, negative caps or
    unknown keys raise :class:`RulesError` naming the rule."""
    unknown = set(doc) - {"settings", "rules"}
    if unknown:
        raise RulesError(f"{source}：未知的节 {sorted(unknown)}（只允许 settings、rules）")
    raw = dict(doc.get("settings", {}))
    known = {f.name: f for f in fields(Settings)}
    kwargs = {}
    for k, v in raw.items():
        if k not in known:
            raise RulesError(f"settings：未知设置 {k}（可选：{', '.join(known)}）")
        if k == "veto_mode":
            if v not in ("zero", "cap"):
                raise RulesError(f"settings：veto_mode 应为 zero 或 cap，实为 {v!r}")
            kwargs[k] = v
        else:
            kwargs[k] = _check_number("settings", k, v)
    settings = Settings(**kwargs)
    if not 0 <= settings.default_correlation <= 1:
        raise RulesError("settings：default_correlation 应在 0 到 1 之间")
    rules = {}
    for iid, body in doc.get("rules", {}).items():
        where = f"规则 {iid}"
        if not isinstance(body, dict):
            raise RulesError(f"{where}：应为一个表（[rules.{iid}]）")
        method = body.get("method")
        if method not in METHODS:
            raise RulesError(f"{where}：未知计分方法 {method!r}（可选：{', '.join(METHODS)}）")
        if "points" not in body:
            raise RulesError(f"{where}：缺少 points（分值）")
        points = _check_number(where, "points", body["points"])
        params = dict(METHODS[method].params)
        for k, v in body.items():
            if k in ("method", "points", "help", "bonus", "measure"):
                continue
            if k not in params:
                raise RulesError(f"{where}：方法 {method} 没有参数 {k}（可选：{', '.join(params) or '无'}）")
            params[k] = _check_number(where, k, v, non_negative=k in _NON_NEGATIVE)
        for k in ("static_weight", "fixed_share", "base", "floor"):
            if k in params and params[k] is not None and params[k] > 1:
                raise RulesError(f"{where}：{k} 应在 0 到 1 之间（{params[k]}）")
        if "floor" in params and params["floor"] > params["cap"]:
            raise RulesError(f"{where}：floor（{params['floor']}）大于 cap（{params['cap']}）")
        rules[iid] = Rule(iid, method, points, params, bool(body.get("bonus", True)),
                          body.get("measure"), str(body.get("help", "")))
    return RuleSet(settings, rules, source)


def load_rules(path: str | Path | None = None) -> RuleSet:
    """Read and validate a rules file (default data/rules.toml)."""
    p = Path(path or DEFAULT_RULES)
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise RulesError(f"{p.name}：TOML 格式错误：{e}") from None
    return parse_rules(doc, p.name)


def check_rules(path: str | Path) -> dict:
    """`rules check FILE`: the validated rules, or a RulesError."""
    rs = load_rules(path)
    return {"file": str(path), "ok": True, "rules": len(rs.rules),
            "points": sum(r.points for r in rs.rules.values()),
            "methods": sorted({r.method for r in rs.rules.values()}),
            "settings": {f.name: getattr(rs.settings, f.name) for f in fields(Settings)}}


# --- vectorised scoring of one indicator column --------------------------------------------
def level_from_completion(kind: str, c, t):
    """The indicator's own value from completion c (percent) and target t."""
    if kind == "ceiling":
        return t * (2 - c / 100)
    return c * t / 100


def completion(kind: str, value, target):
    """Completion in percent (see the module docstring for each kind)."""
    value, target = np.asarray(value, float), np.asarray(target, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "ceiling":
            out = np.where(target > 0, 100 * (2 - value / target), np.where(value <= target, 100.0, 0.0))
        elif kind in ("milestone",):
            out = 100 * value
        elif kind == "veto":
            out = np.where(value <= target, 100.0, 0.0)
        else:
            out = np.where(target != 0, 100 * value / target, np.nan)
    return np.where(np.isnan(value) | np.isnan(target), np.nan, out)


def group_rank(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Competition rank (1, 2, 2, 4; larger x is better) of x[..., idx] within the group;
    NaN (no value) is unranked and occupies no place."""
    xg = x[..., idx]
    valid = ~np.isnan(xg)
    xs = np.where(valid, xg, -np.inf)
    r = 1 + (xs[..., None, :] > xs[..., :, None]).sum(-1)
    return np.where(valid, r, np.nan)


def _efficacy(x, idx, base):
    xg = x[..., idx]
    valid = ~np.isnan(xg)
    lo = np.where(valid, xg, np.inf).min(-1, keepdims=True)
    hi = np.where(valid, xg, -np.inf).max(-1, keepdims=True)
    span = hi - lo
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(span > 0, base + (1 - base) * (xg - lo) / span, 1.0)
    return share, lo, hi


@dataclass
class Column:
    """Everything needed to score one indicator for N units (arrays over units)."""

    rule: Rule
    kind: str
    target: np.ndarray            # (N,) NaN = no target → not scored
    prev: np.ndarray              # (N,) last year's value (static_dynamic growth), NaN if none
    groups: list[np.ndarray]      # index arrays of the peer groups


def score_column(col: Column, c: np.ndarray, settings: Settings) -> tuple[np.ndarray, np.ndarray]:
    """Scores and over-completion bonus of one indicator: c is (..., N) completion percent
    (NaN = 未报送, scores 0). Returns (score, bonus), NaN score where there is no target."""
    r, p, kind, t = col.rule, col.rule.params, col.kind, col.target
    pts = r.points
    anynan = bool(np.isnan(c).any())  # fast path: simulated draws rarely hold NaN
    valid = ~np.isnan(c) if anynan else None
    cz = np.where(valid, c, 0.0) if anynan else c
    m = r.method
    if m == "proportional":
        s = np.minimum(cz, 100 * p["cap"])
        s *= pts / 100
    elif m == "pass_fail":
        s = np.where(cz >= 100, pts, pts * p["partial"])
    elif m == "linear_band":
        gap = cz - 100
        gap *= (t / 100 if kind == "rate" else 1.0) * p["per_pp"]
        gap += pts
        s = np.clip(gap, p["floor"] * pts, p["cap"] * pts, out=gap)
    elif m == "veto":
        s = np.zeros(np.shape(cz))
    else:
        x = level_from_completion(kind, c, t) if kind == "rate" else c
        s = np.zeros(np.broadcast_shapes(c.shape, t.shape))
        if m == "relative":
            lvl = np.where(valid, x, np.nan) if anynan else x
            city = (np.nanmean(lvl, axis=-1, keepdims=True) if anynan else lvl.mean(-1, keepdims=True)) \
                if lvl.shape[-1] else lvl
            s = np.clip(p["base"] * pts + p["per_pp"] * (lvl - city), 0, pts)
        for idx in col.groups:
            if m == "rank":
                rk = group_rank(x, idx)
                share = np.where(rk <= p["places"], np.maximum(0, 1 - p["step"] * (rk - 1)), 0.0)
                s[..., idx] = pts * share
            elif m == "efficacy":
                share, _, _ = _efficacy(x, idx, p["base"])
                s[..., idx] = pts * share
            elif m == "static_dynamic":
                v = level_from_completion(kind, c, t)
                with np.errstate(divide="ignore", invalid="ignore"):
                    g = np.where(col.prev > 0, 100 * (v / col.prev - 1), np.nan)
                dyn, _, _ = _efficacy(g, idx, p["base"])
                w = p["static_weight"]
                stat = np.minimum(cz[..., idx] / 100, 1.0)
                s[..., idx] = pts * (w * stat + (1 - w) * np.where(np.isnan(g[..., idx]), 0, dyn))
            elif m == "threshold_then_rank":
                thr = p["threshold"]
                lvl = x[..., idx]
                if thr is None:
                    ok = cz[..., idx] >= 100
                else:
                    ok = lvl >= thr
                above = np.where(ok & ~np.isnan(lvl), lvl, np.nan)
                rk = group_rank(above, np.arange(len(idx)))
                share = p["fixed_share"] + (1 - p["fixed_share"]) * np.maximum(0, 1 - p["step"] * (rk - 1))
                s[..., idx] = np.where(ok, pts * share, 0.0)
        s = np.where(np.isnan(s), 0.0, s)
    if anynan:
        s = np.where(valid, s, 0.0)
    no_target = np.isnan(t)
    if no_target.any():
        s = np.where(no_target, np.nan, s)
    if has_bonus(col):
        b = cz - 100
        b *= settings.bonus_per_pp
        np.clip(b, 0, settings.bonus_cap_item, out=b)
        if no_target.any():
            b = np.where(no_target, 0.0, b)
    else:
        b = np.zeros(np.shape(s))
    return s, b


def has_bonus(col: Column) -> bool:
    """Over-completion bonus applies: cumulative indicators with points and bonus = true."""
    return col.rule.bonus and col.kind in KINDS_WITH_BONUS and col.rule.points > 0


def veto_breached(col: Column, c: np.ndarray) -> np.ndarray:
    return (c < 100) & ~np.isnan(c) & ~np.isnan(col.target)


def explain(col: Column, c: np.ndarray, i: int, score: float, bonus: float) -> str:
    """The arithmetic behind unit i's score, e.g. "7 × 97.20% = 6.80"."""
    r, p, kind, t = col.rule, col.rule.params, col.kind, col.target
    pts, ci = r.points, c[i]
    if np.isnan(t[i]):
        return "无目标，不计分（总分按已有指标折算为百分制）"
    if np.isnan(ci):
        return "未报送，得 0 分（不参与排名）"
    m = r.method
    b = f"；超额加分 {settings_bonus_text(bonus)}" if bonus > 0 else ""
    if m == "proportional":
        share = min(ci / 100, p["cap"])
        cap = f"min({ci:.2f}%, {p['cap'] * 100:g}%)" if ci / 100 > p["cap"] else f"{ci:.2f}%"
        return f"{pts:g} × {cap} = {score:.2f}" + b
    if m == "pass_fail":
        return (f"完成率 {ci:.2f}% ≥ 100% → {score:.2f}" if ci >= 100
                else f"完成率 {ci:.2f}% < 100% → {score:.2f}") + b
    if m == "linear_band":
        gap = (ci - 100) * (t[i] / 100 if kind == "rate" else 1.0)
        return f"{pts:g} + {p['per_pp']:g} × ({gap:+.2f}) = {pts + p['per_pp'] * gap:.2f} → 限定 [{p['floor'] * pts:g}, {p['cap'] * pts:g}] = {score:.2f}" + b
    if m == "veto":
        return "未触发一票否决" if ci >= 100 else "触发一票否决"
    x = level_from_completion(kind, c, t) if kind == "rate" else c
    unit_word = "%" if kind == "rate" else "%（完成率）"
    if m == "relative":
        city = float(np.nanmean(np.where(np.isnan(c), np.nan, x)))
        return (f"{p['base']:g}×{pts:g} + {p['per_pp']:g} × ({x[i]:.2f} − 全市 {city:.2f}) = "
                f"{p['base'] * pts + p['per_pp'] * (x[i] - city):.2f} → 限定 [0, {pts:g}] = {score:.2f}")
    idx = next(g for g in col.groups if i in g)
    pos = int(np.where(idx == i)[0][0])
    if m == "rank":
        rk = group_rank(x, idx)[pos]
        n = int((~np.isnan(x[idx])).sum())
        return f"第{rk:.0f}名（共{n}家）：{pts:g} × max(0, 1 − {p['step'] * 100:g}% × {rk - 1:.0f}) = {score:.2f}" + b
    if m == "efficacy":
        _, lo, hi = _efficacy(x, idx, p["base"])
        lo, hi = float(lo[0]), float(hi[0])
        return (f"{p['base'] * pts:.2f} + {pts * (1 - p['base']):.2f} × ({x[i]:.2f} − {lo:.2f})/({hi:.2f} − {lo:.2f}) "
                f"= {score:.2f}（x 单位 {unit_word}）" + b)
    if m == "static_dynamic":
        v = level_from_completion(kind, ci, t[i])
        g = 100 * (v / col.prev[i] - 1) if col.prev[i] > 0 else float("nan")
        w = p["static_weight"]
        return (f"静态 {w * pts:.2f} × min({ci:.2f}%, 100%) + 动态 {(1 - w) * pts:.2f} × 增速 {g:.2f}% 的功效系数"
                f" = {score:.2f}" + b)
    if m == "threshold_then_rank":
        thr = p["threshold"]
        ok = ci >= 100 if thr is None else x[i] >= thr
        thr_text = "本单位目标" if thr is None else f"{thr:g}"
        if not ok:
            return f"{x[i]:.2f} 未达门槛 {thr_text} → 0"
        return f"{x[i]:.2f} 达门槛 {thr_text}：{p['fixed_share'] * pts:.2f} + 同组达门槛者排名分 = {score:.2f}" + b
    return f"{score:.2f}"


def settings_bonus_text(bonus: float) -> str:
    return f"+{bonus:.2f}"


# --- tables of units × indicators --------------------------------------------------------
@dataclass
class ScoreTable:
    """The scoring inputs of one level: units (rows) × indicators (columns)."""

    year: int
    period: int
    level: str                    # city (counties) | county (townships + departments)
    basis: str                    # current (ytd vs time-scaled target) | projected (year-end)
    units: pd.DataFrame           # unit_id, name, level, peer_group, is_home
    indicators: pd.DataFrame      # indicator_id, name, kind, category, measure, unit_of_measure
    value: np.ndarray             # (N, K)
    target: np.ndarray            # (N, K) as scored (time-scaled when basis=current)
    annual_target: np.ndarray     # (N, K)
    prev: np.ndarray              # (N, K)
    adjustments: pd.DataFrame
    ruleset: RuleSet
    owners: dict = field(default_factory=dict)  # indicator_id → responsible department unit_id

    @property
    def completion(self) -> np.ndarray:
        out = np.full(self.value.shape, np.nan)
        for k, kind in enumerate(self.indicators.kind):
            out[:, k] = completion(kind, self.value[:, k], self.target[:, k])
        return out

    def columns(self) -> list[Column]:
        groups = [np.flatnonzero(self.units.peer_group.to_numpy() == g)
                  for g in dict.fromkeys(self.units.peer_group)]
        return [Column(self.ruleset.rules[r.indicator_id], r.kind, self.target[:, k], self.prev[:, k], groups)
                for k, r in enumerate(self.indicators.itertuples())]


PRIMARY_MEASURES = {"cumulative": ("ytd",), "rate": ("growth_pct", "level"), "ceiling": ("level", "ytd"),
                    "milestone": ("done",), "veto": ("level",)}
LEVEL_UNITS = {"city": ("county",), "county": ("township", "department")}


def time_progress(period: int) -> float:
    """Linear time progress m/12 (the same basis for every peer, so the ranking is fair)."""
    return period / 12


def load_table(year: int, period: int, level: str = "city", basis: str = "current",
               ruleset: RuleSet | None = None, path=None) -> ScoreTable:
    """Read the units, rules' indicators, values, targets and current adjustments of a level.

    ``basis="current"``: values at ``period`` against time-scaled targets (cumulative and
    ceiling-ytd targets × m/12), missing reports carried as NaN. ``basis="projected"`` reads
    the same and leaves the values to be replaced by year-end projections (simulation).
    The rules are the year's own (saved or rolled over in 考核规则), else ``data/rules.toml``."""
    from .library import rules_file  # library imports scoring: a local import avoids the cycle
    rs = ruleset or load_rules(rules_file(year, path))
    levels = LEVEL_UNITS[level]
    with db.connect(path) as con:
        units = con.execute("""SELECT unit_id, name, level, coalesce(peer_group, level) AS peer_group, is_home
            FROM units WHERE level IN (SELECT unnest(?))
            ORDER BY CASE level WHEN 'county' THEN 0 WHEN 'township' THEN 1 ELSE 2 END, peer_group, unit_id""",
                            [list(levels)]).df()
        inds = con.execute("""SELECT indicator_id, name, kind, category, unit_of_measure, scope FROM indicators
                              ORDER BY indicator_id""").df()
        targets = con.execute("SELECT unit_id, indicator_id, measure, target FROM current_targets WHERE year = ?",
                              [year]).df()
        obs = con.execute("""SELECT unit_id, indicator_id, measure, value FROM current_observations
                             WHERE year = ? AND period = ?""", [year, period]).df()
        prev = con.execute("""SELECT unit_id, indicator_id, measure, value FROM current_observations
                              WHERE year = ? AND period = ?""",
                           [year - 1, 12 if basis == "projected" else period]).df()
        adj = con.execute("""SELECT a.unit_id, a.kind, a.level, a.item, a.points, a.reason, a.charged_to
                             FROM adjustments a JOIN uploads u USING (upload_id)
                             WHERE a.year = ? AND u.status <> 'withdrawn'""", [year]).df()
        owners = con.execute("""SELECT o.indicator_id, u.unit_id FROM indicator_owners o
                                JOIN units u ON u.name = o.owner_office
                                WHERE make_date(?, 12, 31) >= o.valid_from
                                QUALIFY row_number() OVER (PARTITION BY o.indicator_id ORDER BY o.valid_from DESC) = 1""",
                             [year]).df()
    inds = inds[inds.indicator_id.isin(list(rs.rules))]
    scope_ok = inds.scope.fillna("county").map(lambda s: any(lv in s.split(";") for lv in levels))
    inds = inds[scope_ok].reset_index(drop=True)
    measures = []
    for r in inds.itertuples():
        forced = rs.rules[r.indicator_id].measure
        opts = (forced,) if forced else PRIMARY_MEASURES.get(r.kind, ("ytd",))
        have = targets[(targets.indicator_id == r.indicator_id) & targets.unit_id.isin(units.unit_id)]
        counts = have.measure.value_counts()
        measures.append(max(opts, key=lambda m: (counts.get(m, 0), -opts.index(m))))
    inds["measure"] = measures
    uidx = {u: i for i, u in enumerate(units.unit_id)}
    kidx = {(r.indicator_id, r.measure): k for k, r in enumerate(inds.itertuples())}
    N, K = len(units), len(inds)

    def grid(frame, col):
        out = np.full((N, K), np.nan)
        for u, i, m, v in frame[["unit_id", "indicator_id", "measure", col]].itertuples(index=False):
            k = kidx.get((i, m))
            if k is not None and u in uidx:
                out[uidx[u], k] = v
        return out

    annual = grid(targets, "target")
    value = grid(obs, "value")
    scaled = annual.copy()
    if basis == "current":
        for k, r in enumerate(inds.itertuples()):
            if r.kind == "cumulative" or (r.kind == "ceiling" and r.measure == "ytd"):
                scaled[:, k] = annual[:, k] * time_progress(period)
    return ScoreTable(year, period, level, basis, units, inds, value, scaled, annual, grid(prev, "value"),
                      adj[adj.unit_id.isin(units.unit_id) | adj.charged_to.isin(units.unit_id)].reset_index(drop=True),
                      rs, dict(zip(owners.indicator_id, owners.unit_id)))


# --- totals ----------------------------------------------------------------------------------
LEVEL_ORDER = {"national": 3, "provincial": 2, "city": 1}


def adjustment_totals(table: ScoreTable) -> pd.DataFrame:
    """Per unit: honours (highest level per item, capped), deductions, 约谈, city deductions
    and (departments) ×10 charges — with the arithmetic as text."""
    s = table.ruleset.settings
    adj = table.adjustments
    rows = []
    for u in table.units.unit_id:
        mine = adj[adj.unit_id == u]
        hon = mine[mine.kind == "honour"].assign(rank=lambda f: f.level.map(LEVEL_ORDER).fillna(0))
        best = hon.sort_values(["rank", "points"], ascending=False).drop_duplicates("item")
        raw_h = float(best.points.sum())
        honours = min(s.honour_cap_total, raw_h)
        ded = float(mine[mine.kind == "deduction"].points.sum())
        inter = float(mine[mine.kind == "interview"].points.sum())
        cityd = float(mine[mine.kind == "city_deduction"].points.sum())
        charged = adj[(adj.kind == "city_deduction") & (adj.charged_to == u)]
        charge = s.charge_multiple * float(charged.points.sum())
        raw_d = ded + inter + cityd + charge
        text = []
        if len(best):
            text.append("荣誉 " + " + ".join(f"{r.item}({r.level}) {r.points:g}" for r in best.itertuples())
                        + (f"，封顶 {s.honour_cap_total:g}" if raw_h > s.honour_cap_total else "")
                        + (f"（同一事项只计最高级别，未计 {len(hon) - len(best)} 项）" if len(hon) > len(best) else ""))
        if charge:
            text.append("市扣分转扣 " + " + ".join(f"{r.points:g}×{s.charge_multiple:g}" for r in charged.itertuples())
                        + f" = {charge:.2f}")
        rows.append({"unit_id": u, "honours": honours, "deductions": ded, "interviews": inter,
                     "city_deductions": cityd, "charges": charge,
                     "deduction_total": min(s.deduction_cap_total, raw_d), "adjust_text": "；".join(text)})
    return pd.DataFrame(rows)


def totals(base: np.ndarray, bonus: np.ndarray, fixed: np.ndarray, veto: np.ndarray,
           settings: Settings) -> np.ndarray:
    """total = base (百分制) + min(超额加分, 上限) + fixed (荣誉 − 扣减), then 一票否决."""
    t = base + np.minimum(bonus, settings.bonus_cap_total) + fixed
    if settings.veto_mode == "zero":
        return np.where(veto, 0.0, t)
    return np.where(veto, np.minimum(t, settings.veto_cap), t)


def scale_factor(table_points: np.ndarray, has_target: np.ndarray) -> np.ndarray:
    """Σ scores is converted to 百分制: × 100 / Σ points of the indicators the unit has a
    target for (a unit missing a target is shown as such, not scored as zero)."""
    held = (table_points[None, :] * has_target).sum(1)
    with np.errstate(divide="ignore"):
        return np.where(held > 0, 100.0 / held, np.nan)


def rank_in_groups(total: np.ndarray, groups: list[np.ndarray]) -> np.ndarray:
    out = np.full(total.shape, np.nan)
    for idx in groups:
        out[..., idx] = group_rank(total, idx)
    return out


@dataclass
class Scored:
    table: ScoreTable
    detail: pd.DataFrame
    units: pd.DataFrame


def score(table: ScoreTable, completion_override: np.ndarray | None = None) -> Scored:
    """Score every unit of the table deterministically (with the arithmetic of each score)."""
    st = table.ruleset.settings
    C = table.completion if completion_override is None else completion_override
    cols = table.columns()
    N, K = C.shape
    S = np.full((N, K), np.nan)
    B = np.zeros((N, K))
    veto = np.zeros(N, bool)
    rows = []
    for k, col in enumerate(cols):
        S[:, k], B[:, k] = score_column(col, C[:, k], st)
        if col.rule.method == "veto":
            veto |= veto_breached(col, C[:, k])
        for i in range(N):
            rows.append({"unit_id": table.units.unit_id[i], "unit": table.units.name[i],
                         "indicator_id": table.indicators.indicator_id[k], "indicator": table.indicators.name[k],
                         "method": col.rule.method, "points": col.rule.points,
                         "value": table.value[i, k] if completion_override is None
                         else level_from_completion(col.kind, C[i, k], table.target[i, k]),
                         "target": table.target[i, k], "completion": C[i, k], "score": S[i, k], "bonus": B[i, k],
                         "arithmetic": explain(col, C[:, k], i, S[i, k], B[i, k]), "rule": col.rule.text})
    points = np.array([c.rule.points for c in cols])
    has_t = ~np.isnan(table.target)
    factor = scale_factor(points, has_t)
    raw = np.nansum(S, axis=1)
    base = raw * factor
    adj = adjustment_totals(table)
    fixed = (adj.honours - adj.deduction_total).to_numpy()
    total = totals(base, B.sum(1), fixed, veto, st)
    groups = cols[0].groups if cols else []
    rank = rank_in_groups(total, groups)
    units = table.units[["unit_id", "name", "level", "peer_group", "is_home"]].copy()
    units["raw"] = raw
    units["base"] = base
    units["bonus"] = np.minimum(B.sum(1), st.bonus_cap_total)
    units = units.merge(adj, on="unit_id")
    units["veto"] = veto
    units["total"] = total
    units["rank"] = rank
    units["group_size"] = units.groupby("peer_group").unit_id.transform("size")
    missing_t = [", ".join(table.indicators.name[~has_t[i] & (points > 0)]) if table.level == "city" else ""
                 for i in range(N)]
    units["missing_targets"] = missing_t
    units["total_text"] = [
        f"{r:.2f}" + (f" × 100/{100 / f:.0f}" if f and abs(f - 1) > 1e-9 else "")
        + f" + 超额 {b:.2f} + 荣誉 {h:.2f} − 扣减 {d:.2f} = {t:.2f}" + ("（一票否决）" if v else "")
        for r, f, b, h, d, t, v in zip(raw, factor, units.bonus, units.honours, units.deduction_total, total, veto)]
    return Scored(table, pd.DataFrame(rows), units)


# --- consequences inside the county ---------------------------------------------------------
def is_last(rank: np.ndarray, groups: list[np.ndarray]) -> np.ndarray:
    """Last place = the worst rank occupied in the group (every unit tied there is last);
    a group of one has no last place."""
    out = np.zeros(rank.shape, bool)
    for idx in groups:
        rg = rank[..., idx]
        worst = np.nanmax(np.where(np.isnan(rg), -np.inf, rg), axis=-1, keepdims=True)
        out[..., idx] = (rg == worst) & (len(idx) > 1)
    return out


def consequences(county: Scored, city: Scored | None = None) -> pd.DataFrame:
    """The at-risk list with the numbers behind each:
    整改承诺 — total < rectify_below (strictly) and last among townships / departments;
    ×10 转扣 — every city deduction charged to a department at charge_multiple × points;
    停职反省 — a county department whose line is last in the city: the home county's score on
    an indicator ranks last in its peer group (competition ranking, every county tied at the
    bottom is last) and the department is that indicator's responsible office (责任单位)."""
    st = county.table.ruleset.settings
    u = county.units
    groups = [np.flatnonzero(u.peer_group.to_numpy() == g) for g in dict.fromkeys(u.peer_group)]
    last = is_last(u["rank"].to_numpy(), groups)
    out = []
    for i, r in u.iterrows():
        if last[i] and r.total < st.rectify_below:
            out.append({"unit_id": r.unit_id, "unit": r["name"], "consequence": "整改承诺",
                        "reason": f"得分 {r.total:.2f} < {st.rectify_below:g} 且在{r.peer_group}中排名末位"
                                  f"（第{r['rank']:.0f}名/共{r.group_size}家）"})
        if r.charges > 0:
            out.append({"unit_id": r.unit_id, "unit": r["name"], "consequence": "×10 转扣",
                        "reason": r.adjust_text})
    if city is not None:
        d = city.detail
        home = city.units[city.units.is_home]
        if len(home):
            hu, grp = home.unit_id.iloc[0], home.peer_group.iloc[0]
            peers = city.units[city.units.peer_group == grp].unit_id
            names = dict(zip(u.unit_id, u["name"]))
            for iid, frame in d[d.unit_id.isin(peers)].groupby("indicator_id", sort=True):
                f = frame.dropna(subset=["score"])
                if len(f) < 2 or hu not in set(f.unit_id) or f.score.nunique() == 1:
                    continue
                mine = float(f[f.unit_id == hu].score.iloc[0])
                if mine <= f.score.min() and iid in county.table.owners:
                    dept = county.table.owners[iid]
                    if dept in names:
                        out.append({"unit_id": dept, "unit": names[dept], "consequence": "停职反省",
                                    "reason": f"牵头指标「{f.indicator.iloc[0]}」本县得分 {mine:.2f} 在全市{grp}中末位"})
    return pd.DataFrame(out, columns=["unit_id", "unit", "consequence", "reason"])
