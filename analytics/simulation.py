"""保二争一: Monte Carlo of the city ranking, leverage per indicator, scenarios, "what it takes".

Model (per draw d, unit n, indicator k, in completion percent):
    c[d,n,k] = mean[n,k] + scale[n,k] · ( √ρ · z_family(k)[d] + √(1−ρ) · z[d,n,k] )
a **common city-wide shock** per indicator family (category: the whole city's economy
moves together) plus a unit-specific shock; ρ (default 0.5, settings.default_correlation)
is the correlation between two units' shocks on the same family. ``mean`` is the
year-end projection, ``scale`` its standard deviation: from ``analytics.projection``
when present, sd = (high − low)/(2 × 1.2816) of its 80% interval; else the fallback
below (the share method). Every draw is scored with the same vectorised functions as
the deterministic scores (``scoring.score_column``) and ranked within the peer group.
Fixed seed and **common random numbers**: every scenario and every leverage reuses the
same z, so a difference between two runs is the change, not noise.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import db
from .scoring import (Column, ScoreTable, Settings, completion, has_bonus, rank_in_groups, scale_factor,
                      score_column, totals, veto_breached)

DEFAULT_DRAWS = 10_000
DEFAULT_SEED = 20261127
Z80 = 1.2815515655446004  # standard normal 90% quantile: an 80% interval is mean ± 1.2816 sd
P_MILESTONE_DONE = 0.8    # fallback: an open milestone is done by December with this probability
MILESTONE_SD = 10.0       # completion-pp sd used to express that probability
TARGET_P = 0.9            # "what it takes": lift P(top 2) above this
MAX_STEP_PP = 10.0        # feasible improvement per indicator: at most +10 pp of completion
STEPS = (1.0, 2.0, 3.0, 5.0, 7.5, 10.0)


@dataclass
class SimInput:
    """The plain-array interface of the simulation (testable without the database).

    mean, scale: (N, K) year-end completion percent and its sd (0 = certain); family: (K,)
    int; columns: the K scoring columns; fixed: (N,) honours − deductions; veto: (N,) bool;
    home: index of our unit."""

    mean: np.ndarray
    scale: np.ndarray
    family: np.ndarray
    columns: list[Column]
    fixed: np.ndarray
    veto: np.ndarray
    settings: Settings
    home: int = 0
    unit_ids: list[str] = field(default_factory=list)
    unit_names: list[str] = field(default_factory=list)
    indicator_ids: list[str] = field(default_factory=list)
    indicator_names: list[str] = field(default_factory=list)
    source: str = "arrays"

    @property
    def groups(self) -> list[np.ndarray]:
        return self.columns[0].groups

    @property
    def points(self) -> np.ndarray:
        return np.array([c.rule.points for c in self.columns])


class Simulation:
    """The draws of one input (kept: scenarios and leverage reuse them)."""

    def __init__(self, inp: SimInput, draws: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED,
                 rho: float | None = None):
        self.inp, self.draws, self.seed = inp, draws, seed
        self.rho = inp.settings.default_correlation if rho is None else float(rho)
        if not 0 <= self.rho <= 1:
            raise ValueError("相关系数 ρ 应在 0 到 1 之间")
        N, K = inp.mean.shape
        rng = np.random.default_rng(seed)
        n_fam = int(inp.family.max()) + 1 if K else 0
        self.common = rng.standard_normal((n_fam, draws))  # city-wide shock per family
        # unit shocks, stored (K, N, D): draws innermost, so per-unit scalars broadcast along
        # long contiguous rows; completion() returns the (D, N) transposed view
        self.z = rng.standard_normal((K, N, draws))
        self._a, self._b = math.sqrt(1 - self.rho), math.sqrt(self.rho)
        self.factor = scale_factor(inp.points, ~np.isnan(np.array([c.target for c in inp.columns]).T))
        self._nan_target = [bool(np.isnan(c.target).any()) for c in inp.columns]
        self.home_group = next(g for g in inp.groups if inp.home in g) if inp.groups else np.array([inp.home])
        self._base = None

    # -- one full run ------------------------------------------------------------------------
    def completion(self, k: int, mean: np.ndarray | None = None) -> np.ndarray:
        """c = mean + scale·(√ρ·common + √(1−ρ)·z) for indicator k: (D, N)."""
        m = self.inp.mean if mean is None else mean
        sc = self.inp.scale[:, k, None]
        c = self.z[k] * (sc * self._a)
        c += (sc * self._b) * self.common[self.inp.family[k]]
        c += m[:, k, None]
        return c.T

    def run(self, mean: np.ndarray | None = None, fixed: np.ndarray | None = None, keep: bool = False) -> dict:
        """Score and rank every draw. Returns totals (D, N), ranks (D, N) and, with keep,
        the per-column scores needed for leverage."""
        inp, st = self.inp, self.inp.settings
        m = inp.mean if mean is None else mean
        D, N = self.draws, len(inp.fixed)
        raw = np.zeros((D, N), order="F")  # the layout of completion()'s views
        bsum = np.zeros((D, N), order="F")
        veto = np.broadcast_to(inp.veto, (D, N)).copy()
        S = [] if keep else None
        Bh = [] if keep else None
        for k, col in enumerate(inp.columns):
            c = self.completion(k, m)
            s, b = score_column(col, c, st)
            if col.rule.method == "veto":
                veto |= veto_breached(col, c)
            np.add(raw, np.nan_to_num(s) if self._nan_target[k] else s, out=raw)
            if has_bonus(col):
                bsum += b
            if keep:
                S.append(s)
                Bh.append(b[:, inp.home].copy())
        fx = inp.fixed if fixed is None else fixed
        total = totals(raw * self.factor, bsum, fx, veto, st)
        rank = rank_in_groups(total, inp.groups)
        out = {"total": total, "rank": rank, "raw": raw, "bsum": bsum, "veto": veto, "fixed": fx, "mean": m}
        if keep:
            out["S"], out["Bh"] = S, Bh
        return out

    def base(self) -> dict:
        if self._base is None:
            self._base = self.run(keep=True)
        return self._base

    # -- rescoring only what changes (leverage, what it takes) ----------------------------------
    def _home_rank_after(self, changes: dict[int, float]) -> np.ndarray:
        """Our rank per draw after shifting our completion on indicators k by Δ pp (same z)."""
        b, inp, st = self.base(), self.inp, self.inp.settings
        h, g = inp.home, self.home_group
        raw = b["raw"][:, g].copy()
        bh = b["bsum"][:, inp.home].copy()
        veto = b["veto"][:, g]
        for k, delta in changes.items():
            col = inp.columns[k]
            if col.rule.method in ("rank", "efficacy", "static_dynamic", "threshold_then_rank", "relative"):
                c = self.completion(k)
                c[:, h] += delta
                s, bb = score_column(col, c, st)
                raw += np.nan_to_num(s[:, g]) - np.nan_to_num(b["S"][k][:, g])
                bh += bb[:, h] - b["Bh"][k]
            else:  # own-score methods: only our column changes
                one = Column(col.rule, col.kind, col.target[h:h + 1], col.prev[h:h + 1], [np.array([0])])
                c = self.completion(k)[:, h:h + 1] + delta
                s, bb = score_column(one, c, st)
                hp = int(np.flatnonzero(g == h)[0])
                raw[:, hp] += np.nan_to_num(s[:, 0]) - np.nan_to_num(b["S"][k][:, h])
                bh += bb[:, 0] - b["Bh"][k]
        bsum = b["bsum"][:, g].copy()
        hp = int(np.flatnonzero(g == h)[0])
        bsum[:, hp] = bh
        total = totals(raw * self.factor[g], bsum, b["fixed"][g], veto, st)
        mine = total[:, hp]
        return 1 + (total > mine[:, None]).sum(1)

    def probabilities(self, changes: dict[int, float]) -> tuple[float, float]:
        r = self._home_rank_after(changes)
        return float((r == 1).mean()), float((r <= 2).mean())

    def leverage(self) -> pd.DataFrame:
        """ΔP(top 2) and ΔP(1st) for +1 pp of our completion on each indicator, and for
        reaching 100% (the projection's mean raised to 100%), with the same random numbers."""
        inp = self.inp
        r0 = self.base()["rank"][:, inp.home]
        p1, p2 = float((r0 == 1).mean()), float((r0 <= 2).mean())
        rows = []
        for k, col in enumerate(inp.columns):
            if col.rule.points <= 0 or np.isnan(col.target[inp.home]):
                continue
            f1, f2 = self.probabilities({k: 1.0})
            mean = inp.mean[inp.home, k]
            to100 = max(0.0, 100.0 - mean)
            g1, g2 = self.probabilities({k: to100}) if to100 > 0 else (p1, p2)
            rows.append({"indicator_id": inp.indicator_ids[k], "indicator": inp.indicator_names[k],
                         "method": col.rule.method, "points": col.rule.points, "projected_completion": mean,
                         "d_top2_1pp": f2 - p2, "d_first_1pp": f1 - p1,
                         "to_100_pp": to100, "d_top2_to100": g2 - p2, "d_first_to100": g1 - p1})
        df = pd.DataFrame(rows, columns=["indicator_id", "indicator", "method", "points", "projected_completion",
                                         "d_top2_1pp", "d_first_1pp", "to_100_pp", "d_top2_to100", "d_first_to100"])
        return df.sort_values(["d_top2_1pp", "d_top2_to100", "d_first_1pp"], ascending=False, ignore_index=True)

    def what_it_takes(self, target: float = TARGET_P, lev: pd.DataFrame | None = None,
                      max_step: float = MAX_STEP_PP) -> dict:
        """The smallest set of improvements (fewest indicators, then least total pp, each at
        most ``max_step`` pp of completion) lifting P(top 2) above ``target``; else a plain
        statement and the best reachable P(top 2) (every candidate at +max_step)."""
        inp = self.inp
        _, p0 = self.probabilities({})
        if p0 >= target:
            return {"reachable": True, "p_top2": p0, "changes": [], "text": f"现状已达 P(前二) = {p0:.1%} ≥ {target:.0%}"}
        lev = self.leverage() if lev is None else lev
        kid = {i: k for k, i in enumerate(inp.indicator_ids)}
        steps = [s for s in STEPS if s <= max_step]
        cands = [kid[i] for i in lev.indicator_id]
        best = None
        for n in (1, 2, 3):
            pool = cands if n == 1 else cands[:[0, 0, 8, 6][n]]
            for combo in itertools.combinations(pool, n):
                for deltas in itertools.product(steps, repeat=n):
                    total_pp = sum(deltas)
                    if best and total_pp >= best[0]:
                        continue
                    p = self.probabilities(dict(zip(combo, deltas)))[1]
                    if p > target:
                        best = (total_pp, combo, deltas, p)
            if best:
                changes = [{"indicator_id": inp.indicator_ids[k], "indicator": inp.indicator_names[k], "add_pp": d}
                           for k, d in zip(best[1], best[2])]
                text = "、".join(f"{c['indicator']} +{c['add_pp']:g}个百分点" for c in changes)
                return {"reachable": True, "p_top2": best[3], "changes": changes,
                        "text": f"最少需要：{text}，P(前二) 可达 {best[3]:.1%}"}
        p_all = self.probabilities({k: max_step for k in cands})[1]
        return {"reachable": False, "p_top2": p_all, "changes": [],
                "text": f"在每项最多提高 {max_step:g} 个百分点的范围内，没有任何组合能使 P(前二) 超过 {target:.0%}；"
                        f"全部指标各提高 {max_step:g} 个百分点时最高可达 {p_all:.1%}"}


def summarise(sim: Simulation, result: dict) -> pd.DataFrame:
    """Per unit of our group: P(1st), P(top 2), P(each rank), expected rank, expected score
    with its 80% interval."""
    inp, g = sim.inp, sim.home_group
    total, rank = result["total"][:, g], result["rank"][:, g]
    n = len(g)
    rows = []
    for j, i in enumerate(g):
        r = rank[:, j]
        row = {"unit_id": inp.unit_ids[i], "unit": inp.unit_names[i], "is_home": bool(i == inp.home),
               "p_first": float((r == 1).mean()), "p_top2": float((r <= 2).mean()),
               "expected_rank": float(r.mean()), "expected_score": float(total[:, j].mean()),
               "score_p10": float(np.quantile(total[:, j], 0.1)), "score_p90": float(np.quantile(total[:, j], 0.9))}
        row.update({f"p_rank_{q}": float((r == q).mean()) for q in range(1, n + 1)})
        rows.append(row)
    return pd.DataFrame(rows)


def margins(sim: Simulation, result: dict) -> dict:
    """Our score minus the best other (margin to 1st) and minus the 2nd-best other
    (margin to 3rd: positive means we are in the top 2), median and 80% interval."""
    g, h = sim.home_group, sim.inp.home
    total = result["total"]
    others = np.sort(total[:, [i for i in g if i != h]], axis=1)[:, ::-1]
    mine = total[:, h]
    out = {}
    for name, col in (("margin_to_first", 0), ("margin_to_third", 1)):
        if others.shape[1] > col:
            d = mine - others[:, col]
            out[name] = {"median": float(np.median(d)), "p10": float(np.quantile(d, 0.1)),
                         "p90": float(np.quantile(d, 0.9))}
    return out


# --- inputs from the database ---------------------------------------------------------------
def _fallback(table: ScoreTable, path=None) -> pd.DataFrame:
    """Year-end distribution when analytics.projection is absent (the share method):
    cumulative: projected = latest ytd ÷ mean historical share of the year reached by that
    month (this unit, else the indicator's average), sd from the spread of those shares
    (at least 2%); levels and rates: the latest value, sd the pooled spread of
    (December − month m) in past years; milestones done stay done, open ones are done with
    probability 0.8; veto items stay as they are."""
    year, period = table.year, table.period
    ids = list(table.indicators.indicator_id)
    units = list(table.units.unit_id)
    cur = db.query(f"""
        SELECT unit_id, indicator_id, measure, period, value FROM current_observations
        WHERE year = ? AND period <= ? AND indicator_id IN ({','.join('?' * len(ids))})
        QUALIFY row_number() OVER (PARTITION BY unit_id, indicator_id, measure ORDER BY period DESC) = 1""",
                   [year, period, *ids], path)
    hist = db.query(f"""
        SELECT a.year, a.unit_id, a.indicator_id, a.measure, a.period, a.value, e.value AS year_end
        FROM current_observations a JOIN current_observations e
          ON e.year = a.year AND e.unit_id = a.unit_id AND e.indicator_id = a.indicator_id
         AND e.measure = a.measure AND e.period = 12
        WHERE a.year < ? AND a.period <= 12 AND a.indicator_id IN ({','.join('?' * len(ids))})""",
                    [year, *ids], path)
    cur = cur[cur.unit_id.isin(units)]
    hist["share"] = hist.value / hist.year_end.where(hist.year_end != 0)
    hist["diff"] = hist.year_end - hist.value
    by_unit = hist.groupby(["unit_id", "indicator_id", "measure", "period"]).share.agg(["mean", "std"])
    by_ind = hist.groupby(["indicator_id", "measure", "period"]).share.agg(["mean", "std"])
    diff_sd = hist.groupby(["indicator_id", "measure", "period"])["diff"].std()
    kinds = dict(zip(table.indicators.indicator_id, table.indicators.kind))
    rows = []
    for r in cur.itertuples(index=False):
        kind = kinds[r.indicator_id]
        proj, sd = r.value, 0.0
        if r.measure == "ytd" and r.period < 12:
            key = (r.unit_id, r.indicator_id, r.measure, r.period)
            m, s = by_unit.loc[key] if key in by_unit.index else (np.nan, np.nan)
            if not (m > 0):
                m, s = by_ind.loc[(r.indicator_id, r.measure, r.period)] if (r.indicator_id, r.measure, r.period) in by_ind.index else (r.period / 12, 0.05)
            proj = r.value / m if m > 0 else r.value * 12 / r.period
            sd = abs(proj) * max(0.02, (s if s == s else 0.05) / m if m > 0 else 0.05)
        elif r.measure in ("level", "growth_pct") and kind != "veto" and r.period < 12:
            s = diff_sd.get((r.indicator_id, r.measure, r.period), np.nan)
            sd = max(0.1, float(s) if s == s else 0.5)
        rows.append({"unit_id": r.unit_id, "indicator_id": r.indicator_id, "measure": r.measure,
                     "ytd": r.value, "projected": proj, "low": proj - Z80 * sd, "high": proj + Z80 * sd})
    return pd.DataFrame(rows, columns=["unit_id", "indicator_id", "measure", "ytd", "projected", "low", "high"])


def year_end_distribution(table: ScoreTable, path=None) -> tuple[pd.DataFrame, str]:
    """(unit_id, indicator_id, measure, mean, sd) of the year-end value, and its source.

    From ``analytics.projection`` when it is available: mean = projected + scale × err_bias,
    sd = scale × err_sd (its error model); without those columns mean = projected and
    sd = (high − low)/(2 × 1.2816). Keys it does not project (milestones, veto items) and
    the whole table when it is absent or fails come from :func:`_fallback`."""
    fb = _fallback(table, path)
    fb = fb.assign(mean=fb.projected, sd=(fb.high - fb.low) / (2 * Z80))
    source = "fallback"
    try:
        from . import projection  # issue 7
        frame = projection.project(table.year, table.period, path, method="combo")
        if {"unit_id", "indicator_id", "measure", "projected", "low", "high"} <= set(frame.columns) and len(frame):
            f = frame.copy()
            if {"scale", "err_bias", "err_sd"} <= set(f.columns):
                f["mean"] = f.projected + f.scale * f.err_bias.fillna(0)
                f["sd"] = (f.scale * f.err_sd).where(f.err_sd.notna(), (f.high - f.low) / (2 * Z80))
            else:
                f["mean"], f["sd"] = f.projected, (f.high - f.low) / (2 * Z80)
            f = f[["unit_id", "indicator_id", "measure", "mean", "sd"]].dropna(subset=["mean"])
            keys = set(zip(f.unit_id, f.indicator_id, f.measure))
            rest = fb[[k not in keys for k in zip(fb.unit_id, fb.indicator_id, fb.measure)]]
            fb = pd.concat([f, rest[["unit_id", "indicator_id", "measure", "mean", "sd"]]], ignore_index=True)
            source = "projection"
    except Exception:  # noqa: BLE001 — absent or failing: the documented fallback
        pass
    return fb[["unit_id", "indicator_id", "measure", "mean", "sd"]], source


def sim_input(table: ScoreTable, path=None) -> SimInput:
    """Year-end completion mean and sd per unit × indicator, from the projection (sd =
    (high − low)/(2 × 1.2816)) or the fallback; targets are the annual targets."""
    from .scoring import adjustment_totals
    dist, source = year_end_distribution(table, path)
    N, K = table.value.shape
    uidx = {u: i for i, u in enumerate(table.units.unit_id)}
    kidx = {(r.indicator_id, r.measure): k for k, r in enumerate(table.indicators.itertuples())}
    proj = np.full((N, K), np.nan)
    sd = np.zeros((N, K))
    for r in dist.itertuples(index=False):
        k = kidx.get((r.indicator_id, r.measure))
        if k is None or r.unit_id not in uidx:
            continue
        proj[uidx[r.unit_id], k] = r.mean
        sd[uidx[r.unit_id], k] = max(0.0, r.sd) if r.sd == r.sd else 0.0
    t = table.annual_target
    mean = np.full((N, K), np.nan)
    scale = np.zeros((N, K))
    for k, kind in enumerate(table.indicators.kind):
        mean[:, k] = completion(kind, proj[:, k], t[:, k])
        with np.errstate(divide="ignore", invalid="ignore"):
            scale[:, k] = np.where(t[:, k] > 0, 100 * sd[:, k] / np.abs(t[:, k]), 0.0)
        if kind == "milestone":
            done = proj[:, k] >= 1
            mean[:, k] = np.where(done, 100.0, np.where(np.isnan(proj[:, k]), np.nan,
                                                         100 + MILESTONE_SD * 0.8416212335729143))
            scale[:, k] = np.where(done, 0.0, MILESTONE_SD)
    scale = np.nan_to_num(scale)
    cats = list(dict.fromkeys(table.indicators.category.fillna("其他")))
    family = np.array([cats.index(c) for c in table.indicators.category.fillna("其他")], dtype=int)
    projected = ScoreTable(**{**table.__dict__, "basis": "projected", "target": t})
    cols = projected.columns()
    adj = adjustment_totals(table)
    fixed = (adj.honours - adj.deduction_total).to_numpy()
    home = np.flatnonzero(table.units.is_home.to_numpy())
    return SimInput(mean, scale, family, cols, fixed, np.zeros(N, bool), table.ruleset.settings,
                    int(home[0]) if len(home) else 0, list(table.units.unit_id), list(table.units.name),
                    list(table.indicators.indicator_id), list(table.indicators.name), source)


# --- scenarios ------------------------------------------------------------------------------
@dataclass
class Scenario:
    """Overrides for our county: projected completion per indicator (percent), honours won
    (points added, highest-level rule already applied by the user), deductions avoided
    (points no longer deducted)."""

    completion: dict[str, float] = field(default_factory=dict)
    honours: float = 0.0
    deductions_avoided: float = 0.0

    @classmethod
    def from_dict(cls, d: dict | None) -> "Scenario":
        d = d or {}
        unknown = set(d) - {"completion", "honours", "deductions_avoided", "rho"}
        if unknown:
            raise ValueError(f"情景中未知的键：{sorted(unknown)}（可用 completion、honours、deductions_avoided、rho）")
        return cls({str(k): float(v) for k, v in (d.get("completion") or {}).items()},
                   float(d.get("honours", 0)), float(d.get("deductions_avoided", 0)))

    def apply(self, inp: SimInput) -> tuple[np.ndarray, np.ndarray]:
        mean, fixed = inp.mean.copy(), inp.fixed.copy()
        for iid, c in self.completion.items():
            if iid not in inp.indicator_ids:
                raise ValueError(f"情景中的指标 {iid} 不在考核指标中")
            mean[inp.home, inp.indicator_ids.index(iid)] = c
        fixed[inp.home] += self.honours + self.deductions_avoided
        return mean, fixed


def report(sim: Simulation, scenario: Scenario | None = None, with_leverage: bool = True,
           with_what_it_takes: bool = True) -> dict:
    """The simulate JSON: our p_first/p_top2 (fractions), every peer's rank distribution,
    margins, leverage and what it takes (under the scenario, if any)."""
    inp = sim.inp
    base = sim.base()
    res = base if scenario is None else sim.run(*scenario.apply(inp))
    peers = summarise(sim, res)
    me = peers[peers.is_home].iloc[0]
    n = len(sim.home_group)
    doc = {"unit": inp.unit_names[inp.home], "unit_id": inp.unit_ids[inp.home], "draws": sim.draws, "seed": sim.seed,
           "rho": sim.rho, "distribution": inp.source, "p_first": me.p_first, "p_top2": me.p_top2,
           "expected_rank": me.expected_rank, "expected_score": me.expected_score,
           "score_interval_80": [me.score_p10, me.score_p90],
           "rank_distribution": {str(q): me[f"p_rank_{q}"] for q in range(1, n + 1)},
           **margins(sim, res), "peers": peers.to_dict("records")}
    if scenario is not None:
        b = summarise(sim, base)
        bm = b[b.is_home].iloc[0]
        doc["baseline"] = {"p_first": bm.p_first, "p_top2": bm.p_top2}
    if with_leverage:
        lev = sim.leverage()
        doc["leverage"] = lev.to_dict("records")
        if with_what_it_takes:
            doc["what_it_takes"] = sim.what_it_takes(lev=lev)
    return doc


def county_risk(table: ScoreTable, draws: int = 2000, seed: int = DEFAULT_SEED, path=None) -> pd.DataFrame:
    """Projected consequence risk inside the county: P(year-end score < rectify_below and
    last in its group → 整改承诺) per township / department, from the same simulation."""
    inp = sim_input(table, path)
    sim = Simulation(inp, draws, seed)
    res = sim.base()
    from .scoring import is_last
    last = is_last(res["rank"], inp.groups)
    low = res["total"] < inp.settings.rectify_below
    return pd.DataFrame({"unit_id": inp.unit_ids, "unit": inp.unit_names,
                         "group": table.units.peer_group.to_list(),
                         "expected_score": res["total"].mean(0), "p_last": last.mean(0),
                         "p_rectify": (last & low).mean(0)}).sort_values("p_rectify", ascending=False,
                                                                          ignore_index=True)


# --- façade for the CLI and the page ----------------------------------------------------------
def projected_scores(table: ScoreTable, path=None):
    """Deterministic year-end standing: every unit scored at its projected completion."""
    from .scoring import score
    inp = sim_input(table, path)
    return score(ScoreTable(**{**table.__dict__, "basis": "projected", "target": table.annual_target}),
                 completion_override=inp.mean)


def standing(year: int, period: int, level: str = "city", projected: bool = False, path=None):
    """`score`: the Scored result (units with totals and ranks, detail with arithmetic)."""
    from .scoring import load_table, score
    table = load_table(year, period, level, "projected" if projected else "current", path=path)
    return projected_scores(table, path) if projected else score(table)


def simulate(year: int, period: int, draws: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED,
             scenario: dict | None = None, rho: float | None = None, path=None) -> dict:
    """`simulate`: the report of :func:`report` for the city ranking."""
    from .scoring import load_table
    scenario = dict(scenario or {})
    rho = scenario.pop("rho", rho)
    inp = sim_input(load_table(year, period, "city", "projected", path=path), path)
    sim = Simulation(inp, draws, seed, rho)
    return report(sim, Scenario.from_dict(scenario) if scenario else None)
