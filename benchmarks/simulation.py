"""simulation_vs_rng: one base simulation (10,000 draws × 20 counties × 100 indicators, drawn,
scored and ranked) ÷ the time numpy takes just to draw the same random numbers, same run
(goal ≤ 2). leverage_vs_simulation: leverage for all 100 indicators (+1 pp and reaching 100%,
rescoring only what changes) ÷ one base simulation (goal ≤ 2).

    python benchmarks/simulation.py [--draws 10000] [--counties 20] [--indicators 100] [--repeat 3]
"""
from __future__ import annotations

import argparse

import numpy as np

from common import best_of, figure

from analytics import scoring
from analytics.scoring import Column, Rule, Settings
from analytics.simulation import DEFAULT_SEED, SimInput, Simulation

MIX = ["proportional"] * 4 + ["pass_fail"] * 2 + ["linear_band", "rank", "efficacy", "relative"]


def make_input(n: int, k: int) -> SimInput:
    rng = np.random.default_rng(7)
    groups = [np.arange(0, n // 2), np.arange(n // 2, n)]
    cols = []
    for j in range(k):
        m = MIX[j % len(MIX)]
        kind = "rate" if m == "relative" else "cumulative"
        cols.append(Column(Rule(f"B{j}", m, 1.0, dict(scoring.METHODS[m].params)), kind,
                           np.full(n, 8.0 if kind == "rate" else 100.0), np.full(n, 90.0), groups))
    mean = rng.uniform(90, 110, (n, k))
    return SimInput(mean, rng.uniform(1, 4, (n, k)), np.arange(k) % 8, cols, np.zeros(n), np.zeros(n, bool),
                    Settings(), 0, [f"U{i}" for i in range(n)], [f"县{i}" for i in range(n)],
                    [f"B{j}" for j in range(k)], [f"指标{j}" for j in range(k)])


def run(draws: int = 10_000, counties: int = 20, indicators: int = 100, repeat: int = 3) -> list[dict]:
    inp = make_input(counties, indicators)

    def rng_only():
        rng = np.random.default_rng(DEFAULT_SEED)
        rng.standard_normal((int(inp.family.max()) + 1, draws))
        rng.standard_normal((indicators, counties, draws))

    holder = {}

    def simulate():
        sim = Simulation(inp, draws)
        sim.base()
        holder["sim"] = sim

    t_rng = best_of(rng_only, repeat)
    t_sim = best_of(simulate, repeat)
    t_lev = best_of(lambda: holder["sim"].leverage(), repeat)
    label = f"{draws:,} draws × {counties} counties × {indicators} indicators"
    return [figure("simulation_vs_rng", t_sim, "s", f"numpy draws only ({label})", t_rng),
            figure("leverage_vs_simulation", t_lev, "s", f"one base simulation ({label})", t_sim)]


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=10_000)
    ap.add_argument("--counties", type=int, default=20)
    ap.add_argument("--indicators", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    run(a.draws, a.counties, a.indicators, a.repeat)
