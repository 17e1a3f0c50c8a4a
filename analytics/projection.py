"""Year-end projection with honest uncertainty (DESIGN.md "Year-end projection"; the
review meeting's second question: 按当前趋势，年底能完成多少？完成目标的把握有多大？).

One public call, :func:`project` (per unit × indicator × measure: projected year-end value,
80 % interval, P(target met), the monthly pace still needed), and :func:`backtest` (how well
each method would have done in past years). Everything is vectorised over series with
numpy: one method call projects every series at once (thousands of series per second).

Series
------
* cumulative family — measure ``ytd`` of ``cumulative`` indicators and of ``ceiling``
  counts (e.g. 安全生产事故死亡人数): the year-end value is ytd(12).
* rate family — measure ``growth_pct`` (cumulative growth %, 1-N月累计同比) and ``level``
  (ratios, running averages) of ``rate``/``ceiling`` indicators: the year-end value is
  the December level, projected from the trajectory of the level itself, never as a sum.
  ``growth_pct`` rows of cumulative indicators are projected only where they carry a target
  (the "完成 152 亿元，增长 6.5%" double targets).
* ``milestone`` and ``veto`` indicators are not projected.

Methods (one contract, :class:`Method`: ``fit(history) -> self``, ``forecast(current) ->
Forecast(mean, lo, hi)``; bare methods leave lo/hi NaN, :class:`Calibrated` adds them)
-----------------------------------------------------------------------------------
* ``share`` — the statistician's hand method. Cumulative: year-end = ytd(m) ÷ s(m), with
  s(m) the average share of the annual total reached by month m in past years. Rates: year-end
  = g(m) + d(m), d(m) the average change from month m to December in past years. s and d come
  from the same unit's history (≥ 2 past years), else the peer group's (same indicator, same
  ``peer_group``), else the city's (all units of the indicator), else — no history at all —
  the linear curve m/12 (rates: no change), stated in ``basis``/``history_note``.
* ``trend`` — damped-trend exponential smoothing (Holt, ETS(A,Ad,N)) written in numpy, with
  fixed α=0.15 (per month of seasonal weight), β=0.1, φ=0.8. Cumulative: on the de-seasonalised monthly increments
  z = Δytd ÷ Δs (each increment read as an estimate of the annual total, s the same
  seasonal curve as ``share``); the remaining months add level × their seasonal weight.
  Rates: on the level series g(k) itself, extrapolated to December with the damped slope.
* ``combo`` (default) — the mean of ``share`` and ``trend``.

Intervals and P(target met)
---------------------------
Each method is re-run as if at month m in every past year that itself has history, and its
error against that year's actual December value is recorded: e = (actual − projected) ÷ c,
with c = max(|projected|, 0.25 × |target|) for the cumulative family (a relative error) and
c = 1 (percentage points / the unit) for rates. Errors are pooled per indicator × measure ×
month across units and years (n errors); the model is e ~ Normal(bias, sd), sd made
non-increasing in m (errors shrink as the year goes on); ``err_sd`` below is the predictive sd
(sd × √(1 + 1/n) × t/z, i.e. widened for a small pool). Then

    low, high = projected + c × (bias ∓ t(0.9; n−1) × sd × √(1 + 1/n))   (80 % prediction interval)
    P(meet)   = P(projected + c × e ≥ required), e ~ N(bias, err_sd)   (≤ for ceiling, direction −1)

with ``required`` = target × curve(12) (e.g. 120 % for a "plan:…;12=120" curve). Fallbacks,
each stated in ``history_note``: fewer than 8 errors in the pool → the family's pool for that
month, sd × 1.5; no backtest at all (under two years of history) → a fixed sd of
:data:`FALLBACK_SD` per remaining month, × 2. A cumulative year-end can't be below ytd, so
``low`` is clipped at ytd. At m = 12 the projection is the actual and the band has width 0.

For the rank simulation (issue 8)
---------------------------------
:func:`project` also returns ``scale`` (c), ``err_bias``, ``err_sd`` and ``err_n``: draw a
year-end value as ``projected + scale × (err_bias + err_sd × z)`` with z ~ N(0, 1) (for a
cumulative series clip at ``ytd``). :func:`error_samples` gives the raw pooled errors (in the
same units of c) per indicator × measure × method × month, to resample instead of assuming
normality.

Backtest
--------
:func:`backtest`: for each family, method and month m: MASE = mean |projected − actual| ÷
mean |naive − actual| over the same series and years (each error divided by the series'
target so big units don't dominate), where naive = last year's year-end × this year's ytd(m) ÷
last year's ytd(m) (seasonal naive) for the cumulative family and the current level carried
to December for rates; and the share of actuals inside the 80 % interval (coverage), counted
where the interval came from at least one earlier backtest year (strictly causal: as if at
month m of year y with only the years before y).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from typing import Iterable, Mapping, Protocol

import numpy as np
import pandas as pd

from . import db

PathLike = str | os.PathLike | None

Z80 = 1.2815515655446004  # standard normal 90 % quantile: 80 % two-sided
MIN_OWN_YEARS = 2  # own seasonal history needed before it is used instead of the peer group's
MIN_POOL = 8  # backtest errors needed in an indicator × month pool
THIN_POOL_WIDEN = 1.5
NO_BACKTEST_WIDEN = 2.0
FALLBACK_SD = {"cumulative": 0.04, "rate": 0.5}  # per remaining month, before widening
COUNT_MAX = 50  # integer-valued ytd series with a median year-end below this are 'count' series
MIN_SHARE = 0.05  # a cumulative share below this can't be divided by (e.g. grain before March)
ALPHA, BETA, PHI = 0.15, 0.1, 0.8
METHODS = ("share", "trend", "combo")
SOURCES = {0: "本单位历史", 1: "同组单位历史", 2: "全市同指标历史", 3: "线性进度（无历史）"}
SOURCE_CODES = {0: "own", 1: "peer", 2: "city", 3: "linear"}


# --- data -----------------------------------------------------------------------------
@dataclass
class Panel:
    """All projectable series: ``keys`` (one row per series) and arrays over years × months.

    values[s, y, k] is the value at the end of month k+1 (NaN = not reported);
    targets[s, y] the annual target of the same measure."""
    keys: pd.DataFrame
    years: np.ndarray
    values: np.ndarray
    targets: np.ndarray

    @property
    def cumulative(self) -> np.ndarray:
        return (self.keys["family"] == "cumulative").to_numpy()

    def subset(self, mask: np.ndarray) -> "Panel":
        return Panel(self.keys[mask].reset_index(drop=True), self.years, self.values[mask], self.targets[mask])


def _curve_end(curve: str | None) -> float:
    """Year-end requirement as a fraction of the target: 'plan:6=60;12=120' → 1.2, else 1."""
    if not curve or not str(curve).startswith("plan:"):
        return 1.0
    pts = dict(p.split("=") for p in str(curve)[5:].split(";") if "=" in p)
    return float(pts.get("12", 100)) / 100


def load_panel(path: PathLike = None) -> Panel:
    """Read every projectable series (current values, latest revision) into a :class:`Panel`."""
    with db.connect(path) as con:
        obs = con.execute("""
            SELECT o.year, o.period, o.unit_id, o.indicator_id, o.measure, o.value
            FROM current_observations o JOIN indicators i USING (indicator_id)
            WHERE (o.measure = 'ytd' AND i.kind IN ('cumulative', 'ceiling'))
               OR (o.measure = 'growth_pct' AND i.kind IN ('cumulative', 'rate'))
               OR (o.measure = 'level' AND i.kind IN ('rate', 'ceiling'))""").df()
        tgt = con.execute("SELECT year, unit_id, indicator_id, measure, target FROM current_targets").df()
        units = con.execute("SELECT unit_id, name AS unit, level, peer_group FROM units").df()
        inds = con.execute("""SELECT indicator_id, name AS indicator, unit_of_measure, kind, direction, category,
                                     is_key, is_difficult, curve FROM indicators""").df()
        owners = con.execute("""SELECT indicator_id, owner_leader FROM indicator_owners
                                QUALIFY row_number() OVER (PARTITION BY indicator_id ORDER BY valid_from DESC) = 1""").df()
    keys = pd.concat([obs[["unit_id", "indicator_id", "measure"]],
                      tgt[["unit_id", "indicator_id", "measure"]]]).drop_duplicates()
    keys = keys.merge(inds, on="indicator_id").merge(units, on="unit_id")
    keys = keys[((keys.measure == "ytd") & keys.kind.isin(["cumulative", "ceiling"]))
                | ((keys.measure == "growth_pct") & keys.kind.isin(["cumulative", "rate"]))
                | ((keys.measure == "level") & keys.kind.isin(["rate", "ceiling"]))]
    keys = keys.merge(owners, on="indicator_id", how="left")
    keys = keys.sort_values(["indicator_id", "unit_id", "measure"]).reset_index(drop=True)
    keys["family"] = np.where(keys.measure == "ytd", "cumulative", "rate")
    keys["unit_of_measure"] = np.where(keys.measure == "growth_pct", "%", keys.unit_of_measure.astype(object))
    keys["curve_end"] = [_curve_end(c) if m == "ytd" else 1.0 for c, m in zip(keys.curve, keys.measure)]
    keys["peer_group"] = keys.peer_group.fillna("")
    years = np.array(sorted(set(obs.year.astype(int)) | set(tgt.year.astype(int))), dtype=int)
    s_index = pd.Series(np.arange(len(keys)), index=pd.MultiIndex.from_frame(keys[["unit_id", "indicator_id", "measure"]]))
    y_index = {y: i for i, y in enumerate(years)}
    values = np.full((len(keys), len(years), 12), np.nan)
    targets = np.full((len(keys), len(years)), np.nan)
    if len(keys):
        s = s_index.reindex(pd.MultiIndex.from_frame(obs[["unit_id", "indicator_id", "measure"]])).to_numpy()
        ok = ~np.isnan(s) & obs.period.between(1, 12).to_numpy()
        values[s[ok].astype(int), obs.year[ok].map(y_index).to_numpy(), obs.period[ok].to_numpy() - 1] = obs.value[ok]
        s = s_index.reindex(pd.MultiIndex.from_frame(tgt[["unit_id", "indicator_id", "measure"]])).to_numpy()
        ok = ~np.isnan(s)
        targets[s[ok].astype(int), tgt.year[ok].map(y_index).to_numpy()] = tgt.target[ok]
    # reporting class: small integer counts behave unlike money amounts (see backtest)
    with np.errstate(invalid="ignore"):
        ends = np.nanmedian(np.where(np.isnan(values[:, :, 11]), np.nan, values[:, :, 11]), axis=1) \
            if len(keys) else np.zeros(0)
        whole = np.all(np.isnan(values) | (values == np.round(values)), axis=(1, 2))
    keys["series_class"] = np.where(keys.measure == "growth_pct", "growth", np.where(
        keys.measure == "level", "level", np.where(whole & (np.nan_to_num(ends) < COUNT_MAX), "count", "cumulative")))
    return Panel(keys, years, values, targets)


def _interpolate(v: np.ndarray) -> np.ndarray:
    """Fill gaps inside each row (last axis = months) linearly; leave the ends alone. Vectorised."""
    x = np.array(v, dtype=float).reshape(-1, v.shape[-1])
    n = x.shape[1]
    idx = np.arange(n)
    valid = ~np.isnan(x)
    prev = np.maximum.accumulate(np.where(valid, idx, -1), axis=1)
    nxt = np.minimum.accumulate(np.where(valid, idx, n)[:, ::-1], axis=1)[:, ::-1]
    inside = ~valid & (prev >= 0) & (nxt < n)
    r = np.arange(len(x))[:, None]
    pv, nv = x[r, np.clip(prev, 0, n - 1)], x[r, np.clip(nxt, 0, n - 1)]
    w = (idx - prev) / np.where(nxt > prev, nxt - prev, 1)
    return np.where(inside, pv + w * (nv - pv), x).reshape(v.shape)


# --- the method contract ----------------------------------------------------------------
@dataclass
class History:
    """Past complete years of every series (months gap-filled) and how series pool."""
    values: np.ndarray  # (S, H, 12)
    targets: np.ndarray  # (S, H)
    cumulative: np.ndarray  # (S,) bool
    peer: np.ndarray  # (S,) int code of (indicator, measure, peer group), -1 none
    city: np.ndarray  # (S,) int code of (indicator, measure)
    family: np.ndarray  # (S,) 0 cumulative / 1 rate

    def head(self, h: int) -> "History":
        return replace(self, values=self.values[:, :h], targets=self.targets[:, :h])


@dataclass
class Current:
    """This year up to month m: values (S, 12) NaN after each series' last report."""
    values: np.ndarray
    target: np.ndarray  # (S,)
    required: np.ndarray  # (S,) target × curve(12)
    last_year: np.ndarray  # (S, 12) previous year, gap-filled (NaN if none)

    @property
    def m(self) -> np.ndarray:
        """Last reported month per series (1-based), 0 when nothing was reported."""
        seen = ~np.isnan(self.values)
        return np.where(seen.any(axis=1), 12 - np.argmax(seen[:, ::-1], axis=1), 0)

    @property
    def ytd(self) -> np.ndarray:
        m = self.m
        return np.where(m > 0, self.values[np.arange(len(m)), np.maximum(m, 1) - 1], np.nan)


@dataclass
class Forecast:
    """Year-end forecasts: ``mean`` and the 80 % band ``lo``/``hi`` (NaN from bare methods);
    ``info`` carries method-specific arrays (basis, error model)."""
    mean: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    info: dict = field(default_factory=dict)


class Method(Protocol):
    name: str

    def fit(self, history: History) -> "Method": ...

    def forecast(self, current: Current) -> Forecast: ...


def _nan(n: int) -> np.ndarray:
    return np.full(n, np.nan)


def _pooled_mean(x: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per series, the mean of x (S, H, 12) over all series sharing its code, and the count."""
    valid = ~np.isnan(x)
    ok = codes >= 0
    n_codes = int(codes.max()) + 1 if ok.any() else 1
    sums = np.zeros((n_codes, x.shape[-1]))
    counts = np.zeros((n_codes, x.shape[-1]))
    np.add.at(sums, codes[ok], np.where(valid, x, 0).sum(axis=1)[ok])
    np.add.at(counts, codes[ok], valid.sum(axis=1)[ok])
    c = np.where(ok[:, None], counts[np.maximum(codes, 0)], 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(c > 0, sums[np.maximum(codes, 0)] / c, np.nan), c


def seasonal_basis(history: History) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The historical curve per series and month, with its source code (0 own, 1 peer,
    2 city, 3 none) and the number of series-years behind it.

    Cumulative: s(k) = mean of ytd_y(k) ÷ ytd_y(12). Rates: d(k) = mean of g_y(12) − g_y(k)."""
    v = history.values
    S = v.shape[0]
    if v.shape[1] == 0:
        return np.full((S, 12), np.nan), np.full(S, 3), np.zeros(S)
    end = v[:, :, 11:12]
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(end > 0, v / end, np.nan)
    x = np.where(history.cumulative[:, None, None], shares, end - v)
    own_n = (~np.isnan(x)).sum(axis=1)
    with np.errstate(invalid="ignore"):
        own = np.where(own_n > 0, np.nansum(x, axis=1) / np.maximum(own_n, 1), np.nan)
    peer, peer_n = _pooled_mean(x, history.peer)
    city, city_n = _pooled_mean(x, history.city)
    # one source per series (judged at December, the month every year must have)
    src = np.where(own_n[:, 11] >= MIN_OWN_YEARS, 0, np.where(peer_n[:, 11] >= 2, 1, np.where(city_n[:, 11] >= 1, 2, 3)))
    curve = np.choose(src[:, None] * np.ones((1, 12), int), [own, peer, city, np.full_like(own, np.nan)])
    n = np.choose(src, [own_n[:, 11], peer_n[:, 11], city_n[:, 11], np.zeros(S)])
    # fill months the source lacks (e.g. quarterly rates) by interpolation; the no-history curve
    linear = np.where(history.cumulative[:, None], np.arange(1, 13) / 12, 0.0)
    curve[:, 11] = np.where(history.cumulative, 1.0, 0.0)
    curve = _interpolate(curve)
    curve = np.where(np.isnan(curve) | (src[:, None] == 3), linear, curve)
    return curve, src, n


class Share:
    """Cumulative: ytd(m) ÷ s(m); rates: g(m) + d(m) (see the module docstring)."""
    name = "share"

    def fit(self, history: History) -> "Share":
        self.curve, self.source, self.n_years = seasonal_basis(history)
        self.last_end = np.full(len(self.source), np.nan)
        if history.values.shape[1]:
            ends = history.values[:, :, 11]
            has = ~np.isnan(ends)
            idx = np.where(has.any(axis=1), has.shape[1] - 1 - np.argmax(has[:, ::-1], axis=1), 0)
            self.last_end = ends[np.arange(len(idx)), idx]
        self.cumulative = history.cumulative
        return self

    def forecast(self, current: Current) -> Forecast:
        m, ytd = current.m, current.ytd
        s = self.curve[np.arange(len(m)), np.maximum(m, 1) - 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            cum = np.where(s >= MIN_SHARE, ytd / s, np.nan)
        # share too small to divide by: last year's total (or the target) — stated in the note
        tiny = self.cumulative & (s < MIN_SHARE) & (m > 0)
        cum = np.where(tiny, np.fmax(np.where(np.isnan(self.last_end), current.target, self.last_end), ytd), cum)
        mean = np.where(self.cumulative, np.fmax(cum, ytd), ytd + s)
        mean = np.where(m == 12, ytd, mean)
        return Forecast(mean, _nan(len(m)), _nan(len(m)),
                        {"source": self.source, "n_years": self.n_years, "share": s, "tiny_share": tiny,
                         "curve": self.curve})


class Trend:
    """Damped Holt (ETS(A,Ad,N)) in numpy. Cumulative: on z = Δytd ÷ Δs (de-seasonalised
    increments, each an estimate of the annual total); rates: on the level series."""
    name = "trend"

    def __init__(self, alpha: float = ALPHA, beta: float = BETA, phi: float = PHI):
        self.alpha, self.beta, self.phi = alpha, beta, phi

    def fit(self, history: History) -> "Trend":
        self.curve, self.source, self.n_years = seasonal_basis(history)
        self.cumulative = history.cumulative
        self._share = Share().fit(history)
        return self

    def forecast(self, current: Current) -> Forecast:
        v, m = current.values, current.m
        S = len(m)
        a, b_, phi = self.alpha, self.beta, self.phi
        cum = self.cumulative
        level, slope = _nan(S), np.zeros(S)
        if cum.any():  # cumulative: start from last year's total (the prior annual level), if known
            prior = self._share.last_end
            level = np.where(cum & (prior > 0), prior, np.nan)
        last_y, last_s = np.zeros(S), np.zeros(S)
        # rates start from their first value; cumulative from zero at the start of the year
        for k in range(12):
            obs = ~np.isnan(v[:, k]) & (k + 1 <= m)
            if cum.any():
                ds = self.curve[:, k] - last_s
                z = np.where(ds > 0, (v[:, k] - last_y) / np.where(ds > 0, ds, 1), np.nan)
                use_c = cum & obs & (ds >= 0.02)
            else:
                use_c = np.zeros(S, bool)
                z = _nan(S)
            x = np.where(cum, z, v[:, k])
            use = np.where(cum, use_c, obs)
            first = use & np.isnan(level)
            upd = use & ~first
            prev = level
            # a step spanning several months of seasonal weight counts as that many updates
            a_k = np.where(cum, 1 - (1 - a) ** np.clip(np.where(np.isnan(ds_all := (self.curve[:, k] - last_s)), 0, ds_all) * 12, 0, 12), a)
            new_level = np.where(upd, a_k * x + (1 - a_k) * (prev + phi * slope), prev)
            slope = np.where(upd, b_ * (new_level - prev) + (1 - b_) * phi * slope, slope)
            level = np.where(first, x, new_level)
            last_y = np.where(cum & use, v[:, k], last_y)
            last_s = np.where(cum & use, self.curve[:, k], last_s)
        ytd = current.ytd
        mean = _nan(S)
        months = np.arange(1, 13)
        ahead = np.clip(months[None, :] - m[:, None], 0, None)  # months after m
        damp = np.where(ahead > 0, (phi * (1 - phi ** ahead)) / (1 - phi), 0.0)  # φ+…+φ^h
        path = level[:, None] + damp * slope[:, None]
        weights = np.diff(np.concatenate([np.zeros((S, 1)), self.curve], axis=1), axis=1)
        # cumulative: ytd + the remaining months' share of the (trended) annual level
        rem_c = np.nansum(np.where(ahead > 0, path * weights, 0.0), axis=1)
        mean_c = ytd + np.maximum(rem_c, 0.0)
        mean_r = np.where(m > 0, path[:, 11], np.nan)
        mean = np.where(cum, mean_c, mean_r)
        # no level (e.g. nothing to learn from yet): fall back to the share method
        fallback = np.isnan(level) | np.isnan(mean)
        if fallback.any():
            mean = np.where(fallback, self._share.forecast(current).mean, mean)
        mean = np.where(m == 12, ytd, mean)
        return Forecast(mean, _nan(S), _nan(S), {"source": self.source, "n_years": self.n_years})


class Combo:
    """The mean of several methods (default: share and trend)."""
    name = "combo"

    def __init__(self, *methods: Method):
        self.methods = methods or (Share(), Trend())

    def fit(self, history: History) -> "Combo":
        self.methods = tuple(mt.fit(history) for mt in self.methods)
        return self

    def forecast(self, current: Current) -> Forecast:
        parts = [mt.forecast(current) for mt in self.methods]
        return Forecast(np.mean([p.mean for p in parts], axis=0), _nan(len(parts[0].mean)),
                        _nan(len(parts[0].mean)), dict(parts[0].info))


def make_method(name: str) -> Method:
    try:
        return {"share": Share, "trend": Trend, "combo": Combo}[name]()
    except KeyError:
        raise ValueError(f"未知的预测方法「{name}」（可选：{'、'.join(METHODS)}）") from None


def error_scale(mean: np.ndarray, target: np.ndarray, cumulative: np.ndarray) -> np.ndarray:
    """c: errors are (actual − projected) ÷ c — relative for cumulative, in the unit for rates."""
    t = np.where(np.isnan(target), 0.0, np.abs(target))
    return np.where(cumulative, np.fmax(np.fmax(np.abs(mean), 0.25 * t), 1e-9), 1.0)


def _current(history: History, year_values: np.ndarray, targets: np.ndarray, curve_end: np.ndarray,
             m: int | None) -> Current:
    v = year_values.copy()
    if m is not None:
        v[:, m:] = np.nan
    last = history.values[:, -1] if history.values.shape[1] else np.full_like(v, np.nan)
    return Current(v, targets, targets * curve_end, last)


class Calibrated:
    """Wraps a method with intervals from its own backtest errors (see the module docstring).

    ``fit(history)`` re-runs the method as if at each month 2…11 of every history year that
    has an earlier year, pooling (actual − projected) ÷ c per pool code × month."""

    def __init__(self, method: Method, pool: np.ndarray, curve_end: np.ndarray):
        self.method, self.pool, self.curve_end = method, pool, curve_end
        self.name = method.name

    def backtest_errors(self, history: History) -> np.ndarray:
        """errors[s, j, k]: year j of the history, as if at month k+1 (NaN where undefined)."""
        S, H = history.values.shape[:2]
        errors = np.full((S, H, 12), np.nan)
        for j in range(1, H):
            inner = type(self.method)() if not isinstance(self.method, Combo) else Combo()
            inner.fit(history.head(j))
            actual = history.values[:, j, 11]
            for k in range(1, 11):  # as if at month 2…11
                cur = _current(history.head(j), history.values[:, j], history.targets[:, j], self.curve_end, k + 1)
                mean = inner.forecast(cur).mean
                c = error_scale(mean, cur.target, history.cumulative)
                errors[:, j, k] = np.where(cur.m == k + 1, (actual - mean) / c, np.nan)
        return errors

    def fit(self, history: History) -> "Calibrated":
        self.method.fit(history)
        self.cumulative = history.cumulative
        err = self.backtest_errors(history)
        self.errors = err
        self.stats = _error_stats(err, self.pool)
        self.family_stats = _error_stats(err, history.family, 2)
        return self

    def forecast(self, current: Current) -> Forecast:
        fc = self.method.forecast(current)
        m = current.m
        mean, ytd = fc.mean, current.ytd
        k = np.clip(m - 1, 0, 11)
        mu, sd, n = (x[self.pool, k] for x in self.stats)
        fam = np.where(self.cumulative, 0, 1)
        fmu, fsd, fn = (x[fam, k] for x in self.family_stats)
        thin = (n < MIN_POOL) & (fn >= MIN_POOL)
        none = (n < MIN_POOL) & (fn < MIN_POOL)
        mu = np.where(thin, fmu, np.where(none, 0.0, mu))
        fallback = np.where(self.cumulative, FALLBACK_SD["cumulative"], FALLBACK_SD["rate"]) * (12 - m)
        sd = np.where(thin, fsd * THIN_POOL_WIDEN, np.where(none, fallback * NO_BACKTEST_WIDEN, sd))
        widen = np.where(fc.info.get("source", np.zeros(len(m))) == 3, NO_BACKTEST_WIDEN, 1.0)
        sd = sd * widen
        mu = np.where(m == 12, 0.0, mu)
        sd = np.where(m == 12, 0.0, sd)
        # a new error from a pool of n: Student t with n − 1 df and the sd's own uncertainty (√(1 + 1/n))
        n_used = np.where(thin, fn, np.where(none, np.inf, n))
        sd = sd * np.sqrt(1 + 1 / np.maximum(n_used, 1)) * t_factor(n_used - 1)
        c = error_scale(mean, current.target, self.cumulative)
        lo = mean + c * (mu - Z80 * sd)
        hi = mean + c * (mu + Z80 * sd)
        lo = np.where(self.cumulative, np.fmax(lo, ytd), lo)
        hi = np.where(self.cumulative, np.fmax(hi, ytd), hi)
        info = dict(fc.info, scale=c, bias=mu, sd=sd, n=np.where(thin, fn, np.where(none, 0, n)),
                    pool="indicator")
        info["pool"] = np.where(thin, "family", np.where(none, "none", "indicator"))
        return Forecast(mean, lo, hi, info)


def t_factor(df: np.ndarray) -> np.ndarray:
    """t(0.9; df) ÷ z(0.9) by the Cornish–Fisher expansion (exact to < 0.5 % for df ≥ 3); 1 for df = ∞."""
    z = Z80
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.maximum(np.asarray(df, dtype=float), 2.0)
        t = z + (z ** 3 + z) / (4 * v) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * v ** 2) \
            + (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * v ** 3)
    return np.where(np.isinf(df), 1.0, t / z)


def _error_stats(err: np.ndarray, codes: np.ndarray, n_codes: int | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per code × month: (bias, sd, n) of the errors; sd non-increasing in the month."""
    n_codes = n_codes or (int(codes.max()) + 1 if len(codes) else 1)
    valid = ~np.isnan(err)
    s1, s2, n = (np.zeros((n_codes, 12)) for _ in range(3))
    np.add.at(s1, codes, np.where(valid, err, 0).sum(axis=1))
    np.add.at(s2, codes, np.where(valid, err ** 2, 0).sum(axis=1))
    np.add.at(n, codes, valid.sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = np.where(n > 0, s1 / n, 0.0)
        var = np.where(n > 1, (s2 - n * mu ** 2) / (n - 1), np.nan)
    sd = np.sqrt(np.clip(var, 0, None))
    # errors shrink as the year goes on: sd(m) ≥ sd(m+1) (reverse running max over months 2…11)
    sd_f = np.where(np.isnan(sd), 0.0, sd)
    sd_mono = np.maximum.accumulate(sd_f[:, ::-1], axis=1)[:, ::-1]
    sd = np.where(np.isnan(sd), np.nan, sd_mono)
    return mu, sd, n


def _history(panel: Panel, y: int) -> History:
    """History for year index y: the complete years before it, gap-filled."""
    keys = panel.keys
    peer_key = keys.indicator_id + "|" + keys.measure + "|" + keys.peer_group
    peer = pd.factorize(peer_key)[0]
    peer = np.where(keys.peer_group.to_numpy() == "", -1, peer)
    city = pd.factorize(keys.indicator_id + "|" + keys.measure)[0]
    return History(_interpolate(panel.values[:, :y]), panel.targets[:, :y], panel.cumulative, peer, city,
                   np.where(panel.cumulative, 0, 1))


def _last_end(history: History) -> np.ndarray:
    """Last history year's December value per series (NaN if none)."""
    if not history.values.shape[1]:
        return np.full(history.values.shape[0], np.nan)
    return history.values[:, -1, 11]


def _pool(panel: Panel) -> np.ndarray:
    return pd.factorize(panel.keys.indicator_id + "|" + panel.keys.measure)[0]


def _growth_links(panel: Panel) -> tuple[np.ndarray, np.ndarray]:
    """Growth rows of cumulative indicators and the ytd row of the same unit × indicator."""
    k = panel.keys
    ytd_index = pd.Series(np.arange(len(k)), index=k.unit_id + "|" + k.indicator_id)[k.measure.to_numpy() == "ytd"]
    g = np.flatnonzero(((k.measure == "growth_pct") & (k.kind == "cumulative")).to_numpy())
    src = ytd_index.reindex((k.unit_id + "|" + k.indicator_id).to_numpy()[g]).to_numpy()
    ok = ~np.isnan(src)
    return g[ok], src[ok].astype(int)


def _derive_growth(panel: Panel, fc: Forecast, last_end: np.ndarray, cur: Current) -> Forecast:
    """Growth % of a cumulative indicator follows from its projected ytd: (ytd(12) ÷ last year's
    ytd(12) − 1) × 100, band and error model carried through (basis says so)."""
    g, y = _growth_links(panel)
    base = last_end[y]
    ok = (base > 0) & (cur.m[g] < 12)  # a reported December growth is the actual
    g, y, base = g[ok], y[ok], base[ok]
    mean, lo, hi = fc.mean.copy(), fc.lo.copy(), fc.hi.copy()
    info = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in fc.info.items()}
    mean[g] = (fc.mean[y] / base - 1) * 100
    lo[g] = (fc.lo[y] / base - 1) * 100
    hi[g] = (fc.hi[y] / base - 1) * 100
    if "scale" in info:
        info["scale"][g] = info["scale"][y] / base * 100
        for key in ("bias", "sd", "n"):
            info[key][g] = info[key][y]
        info["pool"][g] = info["pool"][y]
    info["derived"] = np.zeros(len(mean), bool)
    info["derived"][g] = True
    # where this year's ytd is later than the growth row (or vice versa) keep the row's own month
    return Forecast(mean, lo, hi, info)


# --- scenarios ------------------------------------------------------------------------
@dataclass(frozen=True)
class Scenario:
    """"If the remaining months …": ``growth_pct`` — each remaining month adds the same month of
    last year × (1 + x/100) (cumulative; without last year, the current average pace × (1 + x/100));
    ``pace`` — each remaining month adds this amount (unit of measure per month); ``level`` —
    the December value of a rate series. A scenario's result is deterministic: low = high and
    P(meet) is 1 or 0."""
    growth_pct: float | None = None
    pace: float | None = None
    level: float | None = None

    def describe(self) -> str:
        if self.pace is not None:
            return f"剩余月份每月完成 {self.pace:g}"
        if self.growth_pct is not None:
            return f"剩余月份同比增长 {self.growth_pct:g}%"
        if self.level is not None:
            return f"年末达到 {self.level:g}"
        return ""


def _apply_scenario(out: pd.DataFrame, current: Current, scenario, keys: pd.DataFrame) -> pd.DataFrame:
    if scenario is None:
        return out
    if isinstance(scenario, Scenario):
        chosen = [scenario] * len(out)
    else:
        chosen = [scenario.get((u, i)) or scenario.get((u, i, ms)) for u, i, ms in
                  zip(keys.unit_id, keys.indicator_id, keys.measure)]
    m, ytd = current.m, current.ytd
    cum = (keys.family == "cumulative").to_numpy()
    last = current.last_year
    out = out.copy()
    for s, sc in enumerate(chosen):
        if sc is None or m[s] == 0 or m[s] == 12:
            continue
        value = np.nan
        if cum[s] and sc.pace is not None:
            value = ytd[s] + sc.pace * (12 - m[s])
        elif cum[s] and sc.growth_pct is not None:
            rest = last[s, 11] - last[s, m[s] - 1] if not np.isnan(last[s, 11]) and not np.isnan(last[s, m[s] - 1]) \
                else ytd[s] / m[s] * (12 - m[s])
            value = ytd[s] + rest * (1 + sc.growth_pct / 100)
        elif not cum[s] and sc.level is not None:
            value = sc.level
        if np.isnan(value):
            continue
        out.loc[s, ["projected", "low", "high"]] = value
        out.loc[s, "method"] = "scenario"
        out.loc[s, "basis"] = "情景：" + sc.describe()
        out.loc[s, ["err_bias", "err_sd"]] = 0.0
    return out


# --- public API -----------------------------------------------------------------------
_erf = np.vectorize(math.erf, otypes=[float])


def normal_cdf(x: np.ndarray) -> np.ndarray:
    """Φ(x), vectorised (NaN passes through)."""
    x = np.asarray(x, dtype=float)
    return np.where(np.isnan(x), np.nan, 0.5 * (1 + _erf(np.nan_to_num(x) / math.sqrt(2))))


def _p_meet(mean, c, mu, sd, required, direction, ytd, cumulative) -> np.ndarray:
    """P(year-end ≥ required) (≤ for direction −1) under year-end = mean + c × e, e ~ N(mu, sd)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        below = normal_cdf(np.where(sd > 0, ((required - mean) / c - mu) / np.where(sd > 0, sd, 1), 0.0))
    below = np.where(sd > 0, below, (mean < required).astype(float))  # a settled value: a step
    p = np.where(direction < 0, below, 1 - below)
    if (direction < 0).any():  # ceiling with sd 0: meeting means not above
        p = np.where((direction < 0) & ~(sd > 0), (mean <= required).astype(float), p)
    # a cumulative ytd already past the requirement: done (or, for a ceiling count, breached)
    p = np.where(cumulative & (direction > 0) & (ytd >= required), 1.0, p)
    p = np.where(cumulative & (direction < 0) & (ytd > required), 0.0, p)
    return np.where(np.isnan(required) | np.isnan(mean), np.nan, p)


def _resolve(keys: pd.DataFrame, col_id: str, col_name: str, ref: str | None) -> str | None:
    if ref in (None, ""):
        return None
    hit = keys.loc[(keys[col_id] == ref) | (keys[col_name] == ref), col_id]
    if hit.empty:
        raise LookupError(f"没有可预测的{'单位' if col_id == 'unit_id' else '指标'}「{ref}」")
    return str(hit.iloc[0])


def project_panel(panel: Panel, year: int, period: int, method: str = "combo", scenario=None,
                  include_all: bool = False) -> pd.DataFrame:
    """:func:`project` on an already loaded panel (the page caches the panel by data version)."""
    if year not in set(panel.years):
        return _empty()
    y = int(np.searchsorted(panel.years, year))
    keys = panel.keys
    # rows: series with a target this year or values this year (growth rows of cumulative indicators
    # only with a target: the double targets)
    has_target = ~np.isnan(panel.targets[:, y])
    has_values = ~np.isnan(panel.values[:, y, :period]).all(axis=1)
    primary = ~((keys.kind == "cumulative") & (keys.measure == "growth_pct")).to_numpy()
    rows = has_target | (has_values & primary) if not include_all else has_target | has_values
    history = _history(panel, y)
    cal = Calibrated(make_method(method), _pool(panel), keys.curve_end.to_numpy()).fit(history)
    cur = _current(history, panel.values[:, y], panel.targets[:, y], keys.curve_end.to_numpy(), period)
    fc = _derive_growth(panel, cal.forecast(cur), _last_end(history), cur)
    m, ytd = cur.m, cur.ytd
    direction = keys.direction.to_numpy()
    cum = panel.cumulative
    info = fc.info
    src = info["source"]
    out = keys[["unit_id", "unit", "indicator_id", "indicator", "unit_of_measure", "kind", "measure"]].copy()
    out["period"] = m
    out["ytd"] = ytd
    out["target"] = cur.target
    out["required"] = cur.required
    out["projected"] = fc.mean
    out["low"] = fc.lo
    out["high"] = fc.hi
    remaining = 12 - m
    with np.errstate(invalid="ignore", divide="ignore"):
        out["required_pace"] = np.where(cum & (remaining > 0), (cur.required - ytd) / np.where(remaining > 0, remaining, 1), np.nan)
        out["current_pace"] = np.where(cum & (m > 0), ytd / np.maximum(m, 1), np.nan)
        out["completion"] = np.where(cum, ytd / cur.target * 100, np.nan)
        out["projected_completion"] = np.where(cum, fc.mean / cur.target * 100, np.nan)
    out["method"] = method
    basis = np.where(cum, "累计份额：", "至年末平均变动：") + pd.Series([SOURCES[int(s)] for s in src]).to_numpy()
    basis = np.where(info["derived"], "由累计值预测推算（上年全年为基数）", basis)
    out["basis"] = basis
    out["share_source"] = [SOURCE_CODES[int(s)] for s in src]
    out["scale"] = info["scale"]
    out["err_bias"] = info["bias"]
    out["err_sd"] = info["sd"]
    out["err_n"] = info["n"].astype(int)
    out["history_note"] = _notes(m, period, src, info, cum, info.get("n_years"))
    for col in ("category", "is_key", "is_difficult", "owner_leader", "direction", "level", "peer_group"):
        out[col] = keys[col].to_numpy()
    out["p_meet"] = _p_meet(fc.mean, info["scale"], info["bias"], info["sd"], cur.required, direction, ytd, cum)
    out = _apply_scenario(out, cur, scenario, keys)
    if scenario is not None:
        sc = (out.method == "scenario").to_numpy()
        p = np.where(direction < 0, out.projected <= cur.required, out.projected >= cur.required).astype(float)
        out["p_meet"] = np.where(sc & ~np.isnan(cur.required), p, out.p_meet)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["projected_completion"] = np.where(cum, out.projected / cur.target * 100, np.nan)
    out = out[rows & (m > 0) | rows & has_target].reset_index(drop=True)
    return out


def _notes(m, period, src, info, cum, n_years) -> list[str]:
    notes = []
    n_hist = n_years if n_years is not None else np.zeros(len(m))
    for s in range(len(m)):
        parts = []
        if m[s] == 0:
            notes.append("本年未报送，无法预测")
            continue
        if m[s] < period:
            parts.append(f"最新数据为1-{m[s]}月（1-{period}月未报送）")
        if src[s] == 0:
            parts.append(f"依据本单位{int(n_hist[s])}年历史")
        elif src[s] in (1, 2):
            parts.append(f"本单位历史不足{MIN_OWN_YEARS}年，采用{SOURCES[int(src[s])]}（{int(n_hist[s])}个单位年）")
        else:
            parts.append(f"无历史数据，按线性进度推算，区间放宽{NO_BACKTEST_WIDEN:g}倍")
        pool = info["pool"][s]
        if m[s] < 12:
            if pool == "family":
                parts.append(f"该指标回测误差样本不足{MIN_POOL}个，采用同类指标误差并放宽{THIN_POOL_WIDEN:g}倍")
            elif pool == "none":
                parts.append(f"无回测误差（历史不足两年），区间按每剩余月±{FALLBACK_SD['cumulative' if cum[s] else 'rate']:g}"
                             f"{'（相对）' if cum[s] else ''}估计并放宽{NO_BACKTEST_WIDEN:g}倍")
            else:
                parts.append(f"区间来自{int(info['n'][s])}个回测误差")
        if "tiny_share" in info and info["tiny_share"][s]:
            parts.append("截至本月累计份额过小，按上年全年值推算")
        notes.append("；".join(parts))
    return notes


COLUMNS = ["unit_id", "unit", "indicator_id", "indicator", "unit_of_measure", "kind", "measure", "period", "ytd",
           "target", "required", "projected", "low", "high", "p_meet", "required_pace", "current_pace", "completion",
           "projected_completion", "method", "basis", "share_source", "history_note", "scale", "err_bias", "err_sd",
           "err_n", "category", "is_key", "is_difficult", "owner_leader", "direction", "level", "peer_group"]


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=COLUMNS)


def project(year: int, period: int, path: PathLike = None, method: str = "combo", unit: str | None = None,
            indicator: str | None = None, scenario: Scenario | Mapping | None = None,
            panel: Panel | None = None) -> pd.DataFrame:
    """Projected year-end value, 80 % band and P(target met) for every series at ``period``.

    One row per unit × indicator × measure (see :data:`COLUMNS`): ``projected``/``low``/``high``
    in the indicator's unit (growth in %), ``p_meet`` a fraction 0–1, ``required_pace`` =
    (target × curve(12) − ytd) ÷ (12 − m) and ``current_pace`` = ytd ÷ m per month (cumulative
    only; DESIGN.md "月均需完成"), ``period`` = the month the projection starts from (the latest
    reported ≤ ``period``), ``basis``/``share_source`` = where the seasonal curve came from,
    ``history_note`` = what was short and which fallback applied. ``unit``/``indicator``: id or
    name. ``scenario``: a :class:`Scenario` for all series, or {(unit_id, indicator_id): Scenario}.
    """
    panel = panel if panel is not None else load_panel(path)
    out = project_panel(panel, year, period, method, scenario)
    u = _resolve(panel.keys, "unit_id", "unit", unit)
    i = _resolve(panel.keys, "indicator_id", "indicator", indicator)
    if u:
        out = out[out.unit_id == u]
    if i:
        out = out[out.indicator_id == i]
    return out.reset_index(drop=True)[COLUMNS]


def _naive(history: History, cur: Current) -> np.ndarray:
    """Seasonal naive: last year's year-end × ytd(m) ÷ last year's ytd(m); rates: g(m) carried."""
    m, ytd = cur.m, cur.ytd
    last = cur.last_year
    idx = np.arange(len(m))
    with np.errstate(invalid="ignore", divide="ignore"):
        lm = last[idx, np.maximum(m, 1) - 1]
        cum = np.where(lm > 0, last[:, 11] * ytd / lm, np.nan)
    return np.where(history.cumulative, cum, ytd)


def backtest_panel(panel: Panel, methods: Iterable[str] = METHODS, months: Iterable[int] = range(3, 12),
                   detail: bool = False) -> pd.DataFrame:
    """:func:`backtest` on a loaded panel; ``detail`` returns one row per series × year × month."""
    months = list(months)
    pool = _pool(panel)
    curve_end = panel.keys.curve_end.to_numpy()
    cum = panel.cumulative
    rows = []
    for y in range(1, len(panel.years)):
        if np.isnan(panel.values[:, y, 11]).all():
            continue  # the year is not complete
        history = _history(panel, y)
        actual = panel.values[:, y, 11]
        target = panel.targets[:, y]
        growth = (panel.keys.measure == "growth_pct").to_numpy()
        denom = np.where(growth, 1.0, np.where(np.abs(target) > 0, np.abs(target), np.abs(actual)))
        last_end = _last_end(history)
        fitted = {name: Calibrated(make_method(name), pool, curve_end).fit(history) for name in methods}
        for m in months:
            cur = _current(history, panel.values[:, y], target, curve_end, m)
            naive = _naive(history, cur)
            ok = (cur.m == m) & ~np.isnan(actual) & ~np.isnan(naive) & (denom > 0)
            for name, cal in fitted.items():
                fc = _derive_growth(panel, cal.forecast(cur), last_end, cur)
                calibrated = fc.info["pool"] != "none"
                rows.append(pd.DataFrame({
                    "year": panel.years[y], "month": m, "method": name, "family": panel.keys.series_class,
                    "indicator_id": panel.keys.indicator_id, "unit_id": panel.keys.unit_id,
                    "measure": panel.keys.measure,
                    "err": np.abs(fc.mean - actual) / denom, "naive_err": np.abs(naive - actual) / denom,
                    "inside": (actual >= fc.lo) & (actual <= fc.hi), "calibrated": calibrated,
                    "width": (fc.hi - fc.lo) / denom})[ok])
    if not rows:
        return pd.DataFrame(columns=["family", "method", "month", "n", "mase", "mae", "naive_mae", "n_interval",
                                     "coverage", "width"])
    d = pd.concat(rows, ignore_index=True)
    if detail:
        return d

    def summarise(g: pd.DataFrame) -> pd.Series:
        c = g[g.calibrated]
        return pd.Series({"n": len(g), "mase": g.err.mean() / g.naive_err.mean() if g.naive_err.mean() > 0 else np.nan,
                          "mae": g.err.mean() * 100, "naive_mae": g.naive_err.mean() * 100,
                          "n_interval": len(c), "coverage": c.inside.mean() if len(c) else np.nan,
                          "width": c.width.mean() * 100 if len(c) else np.nan})

    parts = []
    for (fam, name, m), g in d.groupby(["family", "method", "month"], sort=False):
        parts.append({"family": fam, "method": name, "month": m, **summarise(g).to_dict()})
    for (name, m), g in d.groupby(["method", "month"], sort=False):
        parts.append({"family": "all", "method": name, "month": m, **summarise(g).to_dict()})
    out = pd.DataFrame(parts)
    order = {"cumulative": 0, "count": 1, "growth": 2, "level": 3, "all": 4}
    out = out.sort_values(["family", "method", "month"], key=lambda s: s.map(order) if s.name == "family" else s)
    out["n"] = out.n.astype(int)
    out["n_interval"] = out.n_interval.astype(int)
    return out.reset_index(drop=True)


def backtest(path: PathLike = None, methods: Iterable[str] = METHODS, months: Iterable[int] = range(3, 12),
             panel: Panel | None = None) -> pd.DataFrame:
    """Backtest table: per family (cumulative amounts / count = small integer counts / growth
    (pp) / level (% of target) / all), method and month m: ``n`` series-years,
    ``mase`` (vs the seasonal naive, see the module docstring), ``mae``/``naive_mae`` (mean
    absolute error, % of target for cumulative, pp/unit for rates), ``coverage`` of the 80 %
    interval (fraction 0–1, over ``n_interval`` series-years with a calibrated interval) and
    its mean ``width`` (same units as mae)."""
    panel = panel if panel is not None else load_panel(path)
    return backtest_panel(panel, methods, months)


def error_samples(year: int, path: PathLike = None, method: str = "combo", panel: Panel | None = None
                  ) -> pd.DataFrame:
    """The backtest errors behind the intervals of ``year``: one row per unit × indicator ×
    measure × past year × month, ``error`` = (actual − projected) ÷ scale (see the module
    docstring). Pools are indicator × measure × month; resample them for Monte Carlo draws."""
    panel = panel if panel is not None else load_panel(path)
    if year not in set(panel.years):
        return pd.DataFrame(columns=["indicator_id", "measure", "unit_id", "year", "month", "method", "error"])
    y = int(np.searchsorted(panel.years, year))
    cal = Calibrated(make_method(method), _pool(panel), panel.keys.curve_end.to_numpy())
    err = cal.backtest_errors(_history(panel, y))
    s, j, k = np.nonzero(~np.isnan(err))
    return pd.DataFrame({"indicator_id": panel.keys.indicator_id.to_numpy()[s],
                         "measure": panel.keys.measure.to_numpy()[s], "unit_id": panel.keys.unit_id.to_numpy()[s],
                         "year": panel.years[j], "month": k + 1, "method": method, "error": err[s, j, k]})


def history(unit_id: str, indicator_id: str, measure: str | None = None, path: PathLike = None,
            panel: Panel | None = None) -> pd.DataFrame:
    """Every year's monthly values of one series (for the chart's faint previous-year lines)."""
    panel = panel if panel is not None else load_panel(path)
    k = panel.keys
    sel = np.flatnonzero(((k.unit_id == unit_id) & (k.indicator_id == indicator_id)
                          & ((k.measure == measure) if measure else True)).to_numpy())
    rows = []
    for s in sel:
        for y, year in enumerate(panel.years):
            for p in range(12):
                if not np.isnan(panel.values[s, y, p]):
                    rows.append((int(year), p + 1, k.measure[s], float(panel.values[s, y, p])))
    return pd.DataFrame(rows, columns=["year", "period", "measure", "value"])
