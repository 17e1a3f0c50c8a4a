"""Year-end projection (analytics/projection.py): exactness on synthetic series with a known
seasonal share, the m = 12 identity, widening bands, monotone P(meet), rates, missing months,
the method contract with a tiny stand-in method, the backtest on the demo, and the three
routes (function, CLI JSON, page) giving the same numbers."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from analytics import projection as pj
from analytics.__main__ import records

PROFILE = np.cumsum([0.4, 0.5, 0.8, 0.9, 1.0, 1.3, 0.9, 0.95, 1.1, 1.1, 1.2, 1.85])
PROFILE = PROFILE / PROFILE[-1]  # a back-loaded, constant share of the annual total by month
YEARS = np.array([2022, 2023, 2024, 2025, 2026])


def synthetic_panel(series: list[dict]) -> pj.Panel:
    """A Panel built in memory: each dict gives unit_id, measure, kind, values (years × 12), targets."""
    keys = pd.DataFrame([{
        "unit_id": s["unit_id"], "unit": s["unit_id"], "indicator_id": s.get("indicator_id", "X1"),
        "indicator": s.get("indicator_id", "X1"),
        "unit_of_measure": "%" if s.get("measure") == "growth_pct" else "亿元", "kind": s.get("kind", "cumulative"),
        "measure": s.get("measure", "ytd"), "direction": s.get("direction", 1), "category": "经济发展",
        "is_key": False, "is_difficult": False, "curve": "linear", "level": "county", "peer_group": "一类",
        "owner_leader": "某副县长"} for s in series])
    keys["family"] = np.where(keys.measure == "ytd", "cumulative", "rate")
    keys["curve_end"] = 1.0
    keys["series_class"] = np.where(keys.measure == "ytd", "cumulative", "growth")
    values = np.array([s["values"] for s in series], dtype=float)
    targets = np.array([s["targets"] for s in series], dtype=float)
    return pj.Panel(keys, YEARS, values, targets)


def cumulative_series(unit_id: str, annual: list[float], targets: list[float] | None = None) -> dict:
    return {"unit_id": unit_id, "values": [a * PROFILE for a in annual],
            "targets": targets or [a * 1.02 for a in annual]}


@pytest.fixture(scope="module")
def demo_panel(demo_template) -> pj.Panel:
    return pj.load_panel(demo_template)


@pytest.mark.parametrize("m", range(2, 12))
def test_share_method_is_exact_for_a_constant_seasonal_share(m):
    others = [cumulative_series(u, [30 + i, 31 + i, 33 + i, 36 + i, 40 + i]) for i, u in enumerate("CDE")]
    panel = synthetic_panel([cumulative_series("A", [100, 108, 115, 125, 137]),
                             cumulative_series("B", [50, 52, 55, 57, 61]), *others])
    out = pj.project(2026, m, method="share", panel=panel).iloc[:2]
    assert out.projected.to_numpy() == pytest.approx([137, 61])
    assert (out.err_n == 5 * 3).all() and (out.err_sd.abs() < 1e-9).all()
    assert (out.share_source == "own").all() and out.basis.str.contains("本单位历史").all()
    # the backtest errors are zero too, so the band collapses onto the exact value
    assert out.low.to_numpy() == pytest.approx([137, 61]) and out.high.to_numpy() == pytest.approx([137, 61])


def test_at_month_12_the_projection_is_the_actual(demo_panel):
    for method in pj.METHODS:
        out = pj.project(2025, 12, method=method, panel=demo_panel)
        assert len(out) > 400
        np.testing.assert_allclose(out.projected, out.ytd)
        np.testing.assert_allclose(out.low, out.ytd)
        np.testing.assert_allclose(out.high, out.ytd)
        met = np.where(out.direction < 0, out.ytd <= out.required, out.ytd >= out.required)
        has = out.required.notna()
        assert (out.p_meet[has] == met[has].astype(float)).all()


def test_intervals_widen_with_fewer_months(demo_panel):
    frames = {m: pj.project(2026, m, panel=demo_panel).set_index(["unit_id", "indicator_id", "measure"])
              for m in (3, 6, 9)}
    common = frames[3].index.intersection(frames[6].index).intersection(frames[9].index)
    sd = pd.DataFrame({m: f.loc[common, "err_sd"] for m, f in frames.items()})
    assert (sd[3] >= sd[6] - 1e-12).all() and (sd[6] >= sd[9] - 1e-12).all()
    width = {m: (f.loc[("C01", "I03", "ytd"), "high"] - f.loc[("C01", "I03", "ytd"), "low"])
             / f.loc[("C01", "I03", "ytd"), "projected"] for m, f in frames.items()}
    assert width[3] > width[6] > width[9] > 0


def test_p_meet_is_monotone_in_the_target(demo_panel):
    y = int(np.searchsorted(demo_panel.years, 2026))
    ps = []
    for factor in (0.7, 0.85, 1.0, 1.15, 1.3):
        panel = pj.Panel(demo_panel.keys, demo_panel.years, demo_panel.values, demo_panel.targets.copy())
        panel.targets[:, y] = demo_panel.targets[:, y] * factor
        out = pj.project(2026, 9, panel=panel).set_index(["unit_id", "indicator_id", "measure"])
        ps.append(out.p_meet)
    p = pd.concat(ps, axis=1).dropna()
    up = (p.reset_index().merge(demo_panel.keys[["unit_id", "indicator_id", "measure", "direction"]])
          .set_index(["unit_id", "indicator_id", "measure"]))
    higher_is_better = up[up.direction > 0].drop(columns="direction").to_numpy()
    ceiling = up[up.direction < 0].drop(columns="direction").to_numpy()
    assert len(higher_is_better) > 300 and len(ceiling) > 30
    assert (np.diff(higher_is_better, axis=1) <= 1e-12).all()  # a higher target is never likelier met
    assert (np.diff(ceiling, axis=1) >= -1e-12).all()  # a higher ceiling is never less likely kept
    assert ((higher_is_better >= 0) & (higher_is_better <= 1)).all()


def test_rate_indicators_project_the_level_not_a_sum():
    # cumulative growth % settling from a noisy start to the same December path each year:
    # g(m) = r_y + 2 × (12 − m)/12, so g(12) − g(m) is the same every year (the "share" of a rate)
    months = np.arange(1, 13)
    rates = [5.0, 6.0, 5.5, 7.0, 6.2]
    series = {"unit_id": "A", "indicator_id": "G1", "kind": "rate", "measure": "growth_pct",
              "values": [r + 2 * (12 - months) / 12 for r in rates], "targets": [6.5] * 5}
    panel = synthetic_panel([series])
    out = pj.project(2026, 8, method="share", panel=panel)
    assert out.projected.iloc[0] == pytest.approx(6.2)  # not 8 months summed, not ytd × 12/8
    assert out.unit_of_measure.iloc[0] == "%"
    assert out.p_meet.iloc[0] < 0.5 and np.isnan(out.required_pace.iloc[0])
    # a ceiling level: lower is better, so P(meet) is the chance of staying at or below target
    ceiling = dict(series, unit_id="B", indicator_id="L1", kind="ceiling", measure="level", direction=-1,
                   values=[np.full(12, 40.0 - y) for y in range(5)], targets=[40.0] * 5)
    out = pj.project(2026, 8, method="share", panel=synthetic_panel([ceiling]))
    assert out.projected.iloc[0] == pytest.approx(36.0) and out.p_meet.iloc[0] > 0.5


def test_rate_indicators_on_the_demo(demo_panel):
    out = pj.project(2026, 9, panel=demo_panel)
    gdp = out[(out.unit_id == "C01") & (out.indicator_id == "I01")].iloc[0]  # quarterly growth %
    assert gdp.measure == "growth_pct" and gdp.period == 9 and 0 < gdp.projected < 20
    fai = out[(out.unit_id == "C01") & (out.indicator_id == "I03")].set_index("measure")
    # the growth target of a cumulative indicator follows from its projected ytd
    assert fai.loc["growth_pct", "basis"].startswith("由累计值预测推算")
    pm25 = out[(out.unit_id == "C01") & (out.indicator_id == "I18")].iloc[0]
    assert pm25.kind == "ceiling" and pm25.direction == -1 and pm25.measure == "level"


def test_missing_months_are_handled(demo_panel):
    out = pj.project(2026, 9, panel=demo_panel).set_index(["unit_id", "indicator_id", "measure"])
    late = out.loc[("T11", "I04", "ytd")]  # 金鸡镇 reported nothing for 1-9月
    assert late.period == 8 and "1-8月" in late.history_note and late.projected > late.ytd
    # a gap inside a past year and inside this year: interpolated history, projection from the last month
    values = [a * PROFILE for a in [100, 108, 115, 125, 137]]
    values[2][4:7] = np.nan
    values[4][5] = np.nan
    panel = synthetic_panel([{"unit_id": "A", "values": values, "targets": [110] * 5}])
    row = pj.project(2026, 9, method="share", panel=panel).iloc[0]
    assert row.projected == pytest.approx(137) and row.period == 9


def test_too_little_history_says_so_and_widens():
    one_year = synthetic_panel([{"unit_id": "A", "values": [np.full(12, np.nan)] * 4 + [137 * PROFILE],
                                 "targets": [np.nan] * 4 + [140]}])
    row = pj.project(2026, 6, method="share", panel=one_year).iloc[0]
    assert row.share_source == "linear" and "无历史数据" in row.history_note and "放宽" in row.history_note
    assert row.projected == pytest.approx(137 * PROFILE[5] * 2)  # linear share 6/12
    assert row.high - row.low > 0.5 * row.projected  # a wide, stated band


class LastYear:
    """A tiny honest stand-in method: the seasonal naive (last year's total × ytd ÷ last year's ytd)."""
    name = "last_year"

    def fit(self, history):
        self.history = history
        return self

    def forecast(self, current):
        mean = pj._naive(self.history, current)
        return pj.Forecast(mean, np.full_like(mean, np.nan), np.full_like(mean, np.nan))


def test_method_contract_with_a_stand_in():
    panel = synthetic_panel([cumulative_series("A", [100, 110, 121, 133.1, 146.41]),
                             cumulative_series("B", [80, 80, 80, 80, 80])])
    history = pj._history(panel, 4)
    cur = pj._current(history, panel.values[:, 4], panel.targets[:, 4], np.ones(2), 6)
    naive = LastYear().fit(history).forecast(cur)
    assert naive.mean == pytest.approx([146.41, 80])
    combo = pj.Combo(pj.Share(), LastYear()).fit(history).forecast(cur)
    share = pj.Share().fit(history).forecast(cur)
    assert combo.mean == pytest.approx((share.mean + naive.mean) / 2)
    cal = pj.Calibrated(LastYear(), np.array([0, 0]), np.ones(2)).fit(history).forecast(cur)
    assert cal.mean == pytest.approx(naive.mean) and (cal.lo <= cal.mean).all() and (cal.hi >= cal.mean).all()


def test_scenario_recomputes(demo_panel):
    base = pj.project(2026, 9, panel=demo_panel, unit="C01", indicator="I03")
    row = base[base.measure == "ytd"].iloc[0]
    sc = pj.Scenario(pace=row.required_pace)
    out = pj.project(2026, 9, panel=demo_panel, unit="C01", indicator="I03",
                     scenario={("C01", "I03", "ytd"): sc}).set_index("measure")
    assert out.loc["ytd", "projected"] == pytest.approx(row.required) and out.loc["ytd", "p_meet"] == 1.0
    assert out.loc["ytd", "method"] == "scenario" and out.loc["growth_pct", "method"] == "combo"
    slower = pj.project(2026, 9, panel=demo_panel, unit="清河县", indicator="固定资产投资",
                        scenario=pj.Scenario(pace=row.required_pace * 0.5)).set_index("measure")
    assert slower.loc["ytd", "p_meet"] == 0.0


def test_backtest_on_the_demo(demo_panel):
    bt = pj.backtest(panel=demo_panel).set_index(["family", "method", "month"])
    combo = bt.xs("combo", level="method")
    # the bar, on amounts (the cumulative class) and over every series
    for m in range(6, 12):
        assert combo.loc[("cumulative", m), "mase"] < 1
    for m in range(3, 12):
        assert 0.70 <= combo.loc[("all", m), "coverage"] <= 0.90
        assert 0.70 <= combo.loc[("cumulative", m), "coverage"] <= 0.90
    # errors shrink as the year goes on
    assert combo.loc[("cumulative", 11), "mae"] < combo.loc[("cumulative", 6), "mae"] < combo.loc[("cumulative", 3), "mae"]


def test_error_samples_feed_the_intervals(demo_panel):
    e = pj.error_samples(2026, method="combo", panel=demo_panel)
    pool = e[(e.indicator_id == "I03") & (e.measure == "ytd") & (e.month == 9)]
    row = pj.project(2026, 9, panel=demo_panel, unit="C01", indicator="I03").set_index("measure").loc["ytd"]
    assert len(pool) == row.err_n
    assert row.err_bias == pytest.approx(pool.error.mean())


def test_cli_json_equals_the_function(demo_db):
    proc = subprocess.run([sys.executable, "-m", "analytics", "--db", str(demo_db), "project", "--year", "2026",
                           "--period", "9", "--unit", "清河县"], capture_output=True, text=True, check=True)
    doc = json.loads(proc.stdout)
    expected = records(pj.project(2026, 9, demo_db, unit="C01"))
    assert len(doc) == len(expected) > 20
    for got, want in zip(doc, expected):
        for k in ("indicator_id", "measure", "projected", "low", "high", "p_meet", "required_pace"):
            assert got[k] == pytest.approx(want[k], nan_ok=True) if isinstance(want[k], float) else got[k] == want[k]
    assert all(0 <= r["p_meet"] <= 1 for r in doc if r["p_meet"] is not None)
    proc = subprocess.run([sys.executable, "-m", "analytics", "--db", str(demo_db), "backtest", "--method", "combo",
                           "--months", "6,9"], capture_output=True, text=True, check=True)
    bt = json.loads(proc.stdout)
    assert {(r["method"], r["month"]) for r in bt} == {("combo", 6), ("combo", 9)}


def test_page_shows_the_function_numbers(demo_db, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from analytics import auth
    monkeypatch.setattr(auth, "BCRYPT_ROUNDS", 4)
    monkeypatch.setenv("TARGETS_SECRETS_DIR", str(tmp_path / "secrets"))
    auth.seed_demo_users(demo_db)
    at = AppTest.from_file("../pages/projection.py", default_timeout=90)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = "leader"
    at.session_state["year"], at.session_state["period"], at.session_state["unit"] = 2026, 9, "C01"
    at.run()
    assert not at.exception, at.exception
    expected = pj.project(2026, 9, demo_db, unit="C01")
    row = expected[(expected.measure == "ytd") & expected.target.notna()].iloc[0]  # the page's default
    assert f"完成全年目标的概率约 {row.p_meet * 100:.0f}%" in " ".join(m.value for m in at.markdown)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["预计年末"] == f"{row.projected:,.2f} {row.unit_of_measure}"
    assert metrics["80%区间"] == f"{row.low:,.2f} ～ {row.high:,.2f}"
    shown = at.dataframe[0].value
    want = expected[expected.target.notna()].sort_values(["p_meet", "projected_completion"], na_position="last")
    assert list(shown.indicator) == list(want.indicator)
    np.testing.assert_allclose(shown.p_meet, want.p_meet * 100)
    np.testing.assert_allclose(shown.projected, want.projected)
    # scenario: the fragment recomputes
    at.number_input(key="proj_sc_value_growth_pct").set_value(20.0).run()
    assert not at.exception
    assert any("剩余月份同比增长 20%" in m.value for m in at.markdown)
