"""Rank Monte Carlo on plain arrays: zero variance is deterministic, probabilities sum to 1,
common random numbers make 'no change' exactly zero, improvements help monotonically."""
from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings as hsettings, strategies as hs

from analytics import scoring, simulation
from analytics.scoring import Column, Rule, Settings
from analytics.simulation import Scenario, SimInput, Simulation

METHODS = ["proportional", "pass_fail", "linear_band", "rank", "efficacy", "relative", "threshold_then_rank"]


def make_input(mean, scale, methods=None, groups=None, fixed=None, home=0):
    mean, scale = np.asarray(mean, float), np.asarray(scale, float)
    N, K = mean.shape
    methods = methods or [METHODS[k % len(METHODS)] for k in range(K)]
    groups = groups or [np.arange(N)]
    cols = [Column(Rule(f"I{k}", m, 10.0, dict(scoring.METHODS[m].params)),
                   "rate" if m in ("relative", "threshold_then_rank") else "cumulative",
                   np.full(N, 100.0 if m not in ("relative", "threshold_then_rank") else 8.0),
                   np.full(N, 90.0), groups) for k, m in enumerate(methods)]
    return SimInput(mean, scale, np.arange(K) % 3, cols, np.zeros(N) if fixed is None else np.asarray(fixed, float),
                    np.zeros(N, bool), Settings(), home, [f"C{i}" for i in range(N)], [f"县{i}" for i in range(N)],
                    [f"I{k}" for k in range(K)], [f"指标{k}" for k in range(K)])


def test_zero_variance_matches_the_deterministic_ranking():
    rng = np.random.default_rng(1)
    mean = rng.uniform(85, 115, (6, 7))
    inp = make_input(mean, np.zeros_like(mean))
    sim = Simulation(inp, draws=200)
    res = sim.base()
    det_scores = np.array([scoring.score_column(c, mean[:, k], Settings())[0] for k, c in enumerate(inp.columns)]).T
    det_total = scoring.totals(det_scores.sum(1) * sim.factor, np.array(
        [scoring.score_column(c, mean[:, k], Settings())[1] for k, c in enumerate(inp.columns)]).T.sum(1),
        inp.fixed, inp.veto, Settings())
    det_rank = scoring.rank_in_groups(det_total, inp.groups)
    summary = simulation.summarise(sim, res)
    for i, r in enumerate(det_rank):
        row = summary.iloc[i]
        assert row[f"p_rank_{int(r)}"] == 1.0
        assert {row[f"p_rank_{q}"] for q in range(1, 7)} <= {0.0, 1.0}
        assert row.expected_score == pytest.approx(det_total[i])


@given(hs.integers(2, 8), hs.integers(1, 6), hs.floats(0, 1), hs.integers(0, 10_000))
@hsettings(max_examples=25, deadline=None)
def test_probabilities_sum_to_one_across_ranks(n, k, rho, seed):
    rng = np.random.default_rng(seed)
    inp = make_input(rng.uniform(80, 120, (n, k)), rng.uniform(0, 5, (n, k)))
    sim = Simulation(inp, draws=300, seed=seed, rho=rho)
    summary = simulation.summarise(sim, sim.base())
    ranks = summary[[f"p_rank_{q}" for q in range(1, n + 1)]].to_numpy()
    assert ranks.sum(1) == pytest.approx(np.ones(n))
    # competition ranking: per draw, exactly one unit... at least one unit holds rank 1
    assert ranks[:, 0].sum() >= 1 - 1e-12


def test_crn_scenario_without_change_gives_exactly_zero_difference():
    rng = np.random.default_rng(2)
    inp = make_input(rng.uniform(90, 110, (5, 7)), rng.uniform(1, 4, (5, 7)))
    sim = Simulation(inp, draws=2000)
    base = simulation.report(sim, None, with_leverage=False)
    same = simulation.report(sim, Scenario({"I0": float(inp.mean[0, 0])}), with_leverage=False)
    assert same["p_top2"] - same["baseline"]["p_top2"] == 0.0
    assert same["p_first"] == base["p_first"] and same["expected_score"] == base["expected_score"]
    assert sim.probabilities({}) == (base["p_first"], base["p_top2"])
    # a second Simulation with the same seed draws the same numbers
    assert np.array_equal(Simulation(inp, draws=2000).z, sim.z)


def test_rescoring_route_equals_a_full_run():
    rng = np.random.default_rng(3)
    inp = make_input(rng.uniform(90, 110, (6, 7)), rng.uniform(1, 4, (6, 7)))
    sim = Simulation(inp, draws=1000)
    for k in range(7):
        fast = sim.probabilities({k: 2.5})
        mean = inp.mean.copy()
        mean[0, k] += 2.5
        r = sim.run(mean)["rank"][:, 0]
        assert fast == pytest.approx(((r == 1).mean(), (r <= 2).mean()))


def test_large_improvement_raises_p_top2_monotonically():
    rng = np.random.default_rng(4)
    mean = rng.uniform(95, 105, (6, 6))
    mean[0] -= 6  # we start behind
    inp = make_input(mean, np.full_like(mean, 3.0), methods=["proportional", "linear_band"] * 3)
    sim = Simulation(inp, draws=3000)
    ps = [simulation.report(sim, Scenario({f"I{k}": float(mean[0, k] + d) for k in range(6)}),
                            with_leverage=False)["p_top2"] for d in (0, 2, 4, 6, 8, 12)]
    assert ps == sorted(ps) and ps[-1] > ps[0] + 0.3


def test_leverage_and_what_it_takes():
    rng = np.random.default_rng(5)
    mean = rng.uniform(97, 103, (5, 4))
    mean[0] = 96
    inp = make_input(mean, np.full_like(mean, 2.0), methods=["proportional"] * 4)
    sim = Simulation(inp, draws=2000)
    lev = sim.leverage()
    assert len(lev) == 4 and (lev.d_top2_1pp >= 0).all()
    w = sim.what_it_takes(lev=lev)
    p = sim.probabilities({inp.indicator_ids.index(c["indicator_id"]): c["add_pp"] for c in w["changes"]})[1]
    if w["reachable"]:
        assert p > 0.9 and w["p_top2"] == p
    else:
        assert "没有任何组合" in w["text"]


def test_what_it_takes_says_plainly_when_nothing_reaches():
    mean = np.array([[50.0], [100.0], [100.0], [100.0]])
    inp = make_input(mean, np.zeros_like(mean), methods=["proportional"])
    w = Simulation(inp, draws=100).what_it_takes()
    assert not w["reachable"] and w["p_top2"] == 0.0 and "最高可达 0.0%" in w["text"]


def test_demo_simulation_and_cli(demo_db, capsys):
    from analytics.__main__ import run
    assert run(["--db", str(demo_db), "simulate", "--draws", "2000", "--scenario",
                json.dumps({"completion": {"I06": 90}, "rho": 0.3})]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["unit"] == "清河县" and doc["rho"] == 0.3 and 0 <= doc["p_first"] <= doc["p_top2"] <= 1
    assert sum(doc["rank_distribution"].values()) == pytest.approx(1)
    assert doc["leverage"] and "what_it_takes" in doc and "baseline" in doc
    direct = simulation.simulate(2026, 9, 2000, scenario={"completion": {"I06": 90}, "rho": 0.3}, path=demo_db)
    assert direct["p_top2"] == doc["p_top2"] and direct["p_first"] == doc["p_first"]
    assert run(["--db", str(demo_db), "simulate", "--scenario", '{"bogus": 1}']) == 2


def test_fallback_distribution_without_the_projection_module(demo_db, monkeypatch):
    from analytics import projection

    def broken(*a, **k):
        raise RuntimeError("projection unavailable")

    monkeypatch.setattr(projection, "project", broken)
    table = scoring.load_table(2026, 9, "city", "projected", path=demo_db)
    inp = simulation.sim_input(table, demo_db)
    assert inp.source == "fallback"
    assert np.isfinite(inp.mean[inp.home, [c.rule.points > 0 for c in inp.columns]]).all()
    doc = simulation.report(Simulation(inp, draws=500), with_leverage=False)
    assert 0 <= doc["p_first"] <= doc["p_top2"] <= 1
