"""projection_vs_autoets: time to project 2,000 series (fit incl. the backtests behind the
intervals, forecast with 80 % intervals and P(meet)) by our default method (combo) ÷ the time
of statsforecast's AutoETS (season_length=12, level=[80]) on the monthly increments of the
same series, same run (goal ≤ 0.05). projection_mase_vs_autoets: in the demo backtest
(cumulative series, years with history, months --months), our combo's MASE ÷ AutoETS's MASE,
both against the same seasonal naive on the same cells (goal ≤ 1).

statsforecast needs pandas < 3 and the project pins pandas 3, so the baseline runs in its own
virtualenv, created by this script on first use (``python -m venv /tmp/sf-venv`` then ``pip
install statsforecast``; override with --venv). Data goes there and back as Parquet files in a
temporary folder; the baseline's time is measured inside that process (fit + forecast only,
imports and file reading excluded; best of --repeat, after one warm-up run that compiles).
statsforecast is not a project requirement.

    python benchmarks/projection.py [--series 2000] [--months 3-11] [--repeat 3] [--venv /tmp/sf-venv]
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from common import best_of, figure

from analytics import projection as pj
from analytics import seed
from analytics.demo import PROFILES

BASELINE = r'''
import json, sys, time
import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import AutoETS

work = sys.argv[1]
jobs = json.load(open(f"{work}/jobs.json"))
out = {}
for job in jobs:
    df = pd.read_parquet(f"{work}/{job['name']}.parquet")
    df["ds"] = pd.to_datetime(df["ds"])
    sf = StatsForecast(models=[AutoETS(season_length=12)], freq="MS", n_jobs=1)
    small = df[df.unique_id.isin(df.unique_id.unique()[:20])]
    sf.forecast(df=small, h=job["h"], level=[80])  # warm-up (numba/compiled paths)
    times, fc = [], None
    for _ in range(job["repeat"]):
        t0 = time.perf_counter()
        if job.get("h_by_id"):
            parts = []
            for h, g in df.groupby(df.unique_id.map(job["h_by_id"])):
                parts.append(sf.forecast(df=g, h=int(h), level=[80]))
            fc = pd.concat(parts)
        else:
            fc = sf.forecast(df=df, h=job["h"], level=[80])
        times.append(time.perf_counter() - t0)
    fc = fc.reset_index() if "unique_id" not in fc.columns else fc
    fc.to_parquet(f"{work}/{job['name']}_fc.parquet")
    out[job["name"]] = min(times)
json.dump(out, open(f"{work}/times.json", "w"))
'''


def ensure_venv(venv: Path) -> Path:
    py = venv / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    if subprocess.run([str(py), "-c", "import statsforecast"], capture_output=True).returncode:
        subprocess.run([str(py), "-m", "pip", "install", "-q", "statsforecast", "pyarrow"], check=True)
    return py


def synthetic_panel(n_series: int, seed: int = 7) -> pj.Panel:
    """n_series cumulative series (50 units × n/50 indicators), 2023–2025 complete, 2026 to 1-9月."""
    rng = np.random.default_rng(seed)
    n_units = 50
    n_ind = -(-n_series // n_units)
    profiles = list(PROFILES.values())
    rows, values, targets = [], [], []
    for j in range(n_ind):
        prof = np.asarray(profiles[j % len(profiles)], float) + 0.05
        for u in range(n_units):
            if len(rows) == n_series:
                break
            a = rng.uniform(10, 500)
            ys, ts = [], []
            for _ in range(4):
                t = a * 1.06
                a = t * (1 + rng.normal(0.01, 0.04))
                w = prof * np.exp(rng.normal(0, 0.08, 12))
                ys.append(np.round(a * np.cumsum(w) / w.sum(), 2))
                ts.append(round(t, 2))
            ys[-1][9:] = np.nan
            ys = np.array(ys)
            ys[:, 0] = np.nan  # 1-2月 reported as period 2
            rows.append({"unit_id": f"U{u:03d}", "unit": f"U{u:03d}", "indicator_id": f"B{j:03d}",
                         "indicator": f"B{j:03d}", "unit_of_measure": "亿元", "kind": "cumulative", "measure": "ytd",
                         "direction": 1, "category": "经济发展", "is_key": False, "is_difficult": False,
                         "curve": "linear", "level": "county", "peer_group": "一类" if u % 2 else "二类",
                         "owner_leader": "", "family": "cumulative", "curve_end": 1.0, "series_class": "cumulative"})
            values.append(ys)
            targets.append(ts)
    return pj.Panel(pd.DataFrame(rows), np.array([2023, 2024, 2025, 2026]), np.array(values), np.array(targets))


def increments(ytd_years: np.ndarray) -> np.ndarray:
    """Monthly increments from the (years × 12) ytd rows, 1-2月 split evenly, gaps interpolated."""
    v = pj._interpolate(ytd_years.copy())
    v[:, 0] = v[:, 1] / 2
    inc = np.diff(np.concatenate([np.zeros((v.shape[0], 1)), v], axis=1), axis=1)
    return inc.ravel()


def long_frame(ids: list[str], series: list[np.ndarray]) -> pd.DataFrame:
    frames = []
    for uid, y in zip(ids, series):
        y = y[~np.isnan(y)]
        frames.append(pd.DataFrame({"unique_id": uid, "ds": pd.date_range("2015-01-01", periods=len(y), freq="MS"),
                                    "y": y}))
    return pd.concat(frames, ignore_index=True)


def run(n_series: int = 2000, months=range(3, 12), repeat: int = 3, venv: Path = Path("/tmp/sf-venv")) -> list[dict]:
    py = ensure_venv(venv)
    work = Path(tempfile.mkdtemp(prefix="bench_projection_"))
    try:
        # 1. speed: the same 2,000 series, projected at 1-9月
        panel = synthetic_panel(n_series)
        ours = best_of(lambda: pj.project_panel(panel, 2026, 9, "combo"), repeat)
        ids = [f"s{s}" for s in range(len(panel.keys))]
        speed = long_frame(ids, [np.concatenate([increments(panel.values[s, :3]), increments(panel.values[s, 3:])[:9]])
                                 for s in range(len(ids))])
        speed.to_parquet(work / "speed.parquet")
        jobs = [{"name": "speed", "h": 3, "repeat": repeat}]

        # 2. accuracy: the demo backtest cells of the cumulative family
        db_path = work / "demo.duckdb"
        seed.load_demo(db_path)
        demo = pj.load_panel(db_path)
        detail = pj.backtest_panel(demo, ["combo"], months, detail=True)
        detail = detail[detail.family.isin(["cumulative", "count"])]
        index = {(u, i): s for s, (u, i, m) in enumerate(zip(demo.keys.unit_id, demo.keys.indicator_id,
                                                               demo.keys.measure)) if m == "ytd"}
        acc_ids, acc_series, h_by_id = [], [], {}
        for r in detail.itertuples():
            s, y = index[(r.unit_id, r.indicator_id)], int(np.searchsorted(demo.years, r.year))
            past = increments(demo.values[s, :y])
            now = increments(demo.values[s, y:y + 1])[: r.month]
            uid = f"{r.unit_id}|{r.indicator_id}|{r.year}|{r.month}"
            acc_ids.append(uid)
            acc_series.append(np.concatenate([past, now]))
            h_by_id[uid] = 12 - r.month
        long_frame(acc_ids, acc_series).to_parquet(work / "accuracy.parquet")
        jobs.append({"name": "accuracy", "h": 1, "repeat": 1, "h_by_id": h_by_id})
        (work / "jobs.json").write_text(json.dumps(jobs))
        (work / "baseline.py").write_text(BASELINE)
        subprocess.run([str(py), str(work / "baseline.py"), str(work)], check=True)
        times = json.loads((work / "times.json").read_text())

        fc = pd.read_parquet(work / "accuracy_fc.parquet")
        rest = fc.groupby("unique_id").AutoETS.sum()
        detail = detail.assign(uid=acc_ids)
        ytd = np.array([demo.values[index[(u, i)], int(np.searchsorted(demo.years, y)), m - 1]
                        for u, i, y, m in zip(detail.unit_id, detail.indicator_id, detail.year, detail.month)])
        actual = np.array([demo.values[index[(u, i)], int(np.searchsorted(demo.years, y)), 11]
                           for u, i, y in zip(detail.unit_id, detail.indicator_id, detail.year)])
        target = np.array([demo.targets[index[(u, i)], int(np.searchsorted(demo.years, y))]
                           for u, i, y in zip(detail.unit_id, detail.indicator_id, detail.year)])
        ets = ytd + rest.reindex(detail.uid).to_numpy()
        denom = np.where(np.abs(target) > 0, np.abs(target), np.abs(actual))
        ets_err = np.abs(ets - actual) / denom
        ok = ~np.isnan(ets_err)
        mase_ours = detail.err[ok].mean() / detail.naive_err[ok].mean()
        mase_ets = ets_err[ok].mean() / detail.naive_err[ok].mean()
        amounts = ok & (detail.family == "cumulative").to_numpy()
        by_month = {int(m): {"ours": round(float(g.err.mean() / g.naive_err.mean()), 3),
                             "autoets": round(float(ets_err[amounts][(detail.month[amounts] == m).to_numpy()].mean()
                                                    / g.naive_err.mean()), 3)}
                    for m, g in detail[amounts].groupby("month")}
        print(json.dumps({"note": "MASE by month, cumulative amounts only", "by_month": by_month}, ensure_ascii=False),
              file=sys.stderr)
        return [figure("projection_vs_autoets", ours, "s",
                       f"statsforecast AutoETS, {len(ids):,} series, h=3, level 80", times["speed"]),
                figure("projection_mase_vs_autoets", mase_ours, "MASE",
                       f"AutoETS MASE, demo backtest, {int(ok.sum()):,} cumulative series-years × months", mase_ets)]
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--series", type=int, default=2000)
    ap.add_argument("--months", default="3-11")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--venv", type=Path, default=Path("/tmp/sf-venv"))
    a = ap.parse_args()
    lo, _, hi = a.months.partition("-")
    run(a.series, range(int(lo), int(hi) + 1) if hi else [int(x) for x in a.months.split(",")], a.repeat, a.venv)
