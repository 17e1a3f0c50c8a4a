"""analytics.progress — 算清时间帐、任务帐 through the real path: every value goes in through
ingest (the long layout an analyst uploads) into a small DuckDB file, and comes out of
``progress.gap_table``. Expected numbers are computed BY HAND in the comments (never taken
from the code under test), rounded only at the end.

The three worked examples of issue 6, every indicator kind, every status edge, the time
bases (linear, plan curve, seasonal with its fall-backs), two conditions, ranking, gap_change,
owners by validity date, hypothesis properties, and the CLI contract (gap/owners/warnings).
"""
from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics import db, progress, quality
from analytics.ingest import ingest_bytes
from tests.conftest import ADMIN, ANALYST, ROOT, SMALL_INDICATORS, SMALL_UNITS

HEADER = "年份,期间,单位,指标,计量单位,口径,目标值,数值"

# More peers (ranking needs five counties of one group) and more indicator kinds than small_db has.
MORE_UNITS = """unit_id,name,level,parent_id,peer_group,is_home
C03,石门县,county,QC,一类,0
C04,白水县,county,QC,一类,0
C05,青峰县,county,QC,一类,0
"""
MORE_INDICATORS = """indicator_id,name,unit_of_measure,kind,direction,category,points,scoring_method,is_key,is_difficult,scope,parent_id,curve
I05,重大项目开工,,milestone,1,重点项目,3,pass_fail,1,0,county,,linear
I06,重大安全事故,,veto,-1,平安稳定,0,pass_fail,0,0,county,,linear
I07,省重点项目完成投资,亿元,cumulative,1,重点项目,5,proportional,1,0,county,,plan:6=60;12=120
I08,社会消费品零售总额,亿元,cumulative,1,经济发展,5,proportional,0,0,county,,seasonal
"""


@pytest.fixture(autouse=True)
def _fast_quality(request, monkeypatch):
    """The data-quality scan that runs after every upload (analytics.quality, ~2 s per small
    upload) stores flags only and never changes a value: skipped here to keep the suite fast,
    except for the worked examples, which run the whole upload path."""
    if not request.node.name.startswith("test_worked_example"):
        monkeypatch.setattr(quality, "after_upload", lambda *a, **k: None)


def ingest(path: Path, *rows: str, name: str = "values.csv"):
    """Store long-layout rows (header added); the report must be 'stored'."""
    report = ingest_bytes((HEADER + "\n" + "\n".join(rows) + "\n").encode(), name, ANALYST, path=path)
    assert report.status == "stored", (report.message, [p.reason for p in report.problems])
    return report


def reference(path: Path, text: str, name: str) -> None:
    report = ingest_bytes(text.encode(), name, ADMIN, path=path)
    assert report.status == "stored", (report.message, [p.reason for p in report.problems])


def one(table: pd.DataFrame, unit_id: str, indicator_id: str) -> pd.Series:
    rows = table[(table.unit_id == unit_id) & (table.indicator_id == indicator_id)]
    assert len(rows) == 1, f"{unit_id}/{indicator_id}: {len(rows)} rows"
    return rows.iloc[0]


@pytest.fixture
def big_db(small_db) -> Path:
    """small_db plus three more 一类 counties and milestone/veto/plan-curve/seasonal indicators."""
    reference(small_db, MORE_UNITS, "units_more.csv")
    reference(small_db, MORE_INDICATORS, "indicators_more.csv")
    return small_db


# ---------------------------------------------------------------- the three worked examples

def test_worked_example_1_10_wan_yuan_into_yi_yuan(small_db):
    # 1,005,136 万元 = 100.5136 亿元 (1 亿 = 10,000 万), stored into the 亿元 indicator I01.
    ingest(small_db, "2026,,清河县,固定资产投资,亿元,ytd,80,",
           "2026,10,清河县,固定资产投资,万元,ytd,,1005136")
    r = one(progress.gap_table(2026, 10, small_db), "C01", "I01")
    assert r.ytd == pytest.approx(100.5136, abs=1e-9)
    assert r.unit_of_measure == "亿元"
    # completion = 100.5136 / 80 = 1.25642 → 125.642 % → 125.64
    assert r.completion == pytest.approx(125.642, abs=1e-9)
    assert round(r.completion, 2) == 125.64
    # time progress = 10/12 = 83.3333… % → 83.33
    assert r.time_progress == pytest.approx(1000 / 12, abs=1e-9)
    assert round(r.time_progress, 2) == 83.33
    # gap = 125.642 − 83.33333 = 42.30867 → +42.31
    assert r.gap_pp == pytest.approx(125.642 - 1000 / 12, abs=1e-9)
    assert round(r.gap_pp, 2) == 42.31
    # completion ≥ 100 % → 已完成 (before the gap bands); no arrears, nothing left to do
    assert (r.status, r.status_code) == ("已完成", "done")
    assert r.arrears == 0  # max(0, 80 × 0.8333 − 100.5136) = max(0, −33.85) = 0
    assert r.required_pace == 0  # max(0, 80 − 100.5136) / 2 = 0


def test_worked_example_1_2_key_projects_published_rate_flagged(small_db):
    # The published table printed 21.85 % beside 2.74 of 10.66 亿元: stored as
    # published_completion_pct (archived), never used; the ingest report warns.
    report = ingest(small_db, "2026,,清河县,固定资产投资,亿元,ytd,10.66,",
                    "2026,2,清河县,固定资产投资,亿元,ytd,,2.74",
                    "2026,2,清河县,固定资产投资,%,published_completion_pct,,21.85")
    warned = [p.reason for p in report.problems if p.severity == "warning"]
    assert any("21.85" in w and "25.70" in w for w in warned), warned
    with db.connect(small_db) as con:
        published = con.execute("""SELECT value FROM current_observations WHERE measure = 'published_completion_pct'
                                   AND unit_id = 'C01' AND indicator_id = 'I01' AND period = 2""").fetchall()
    assert published == [(21.85,)]
    r = one(progress.gap_table(2026, 2, small_db), "C01", "I01")
    # completion = 2.74 / 10.66 = 0.2570356… → 25.70 % (not the published 21.85 %)
    assert r.completion == pytest.approx(2.74 / 10.66 * 100, abs=1e-9)
    assert round(r.completion, 2) == 25.70
    # time progress = 2/12 = 16.6667 % (1-2月 reports as period 2)
    assert round(r.time_progress, 2) == 16.67
    # gap = 25.70356 − 16.66667 = 9.03690 → +9.04; rounding first would give 25.70 − 16.67 = 9.03
    assert round(r.gap_pp, 2) == 9.04
    assert round(r.gap_pp, 2) != round(round(r.completion, 2) - round(r.time_progress, 2), 2)
    # arrears = max(0, 10.66 × 2/12 − 2.74) = max(0, 1.7767 − 2.74) = 0
    assert r.arrears == 0
    # required pace = (10.66 − 2.74) / (12 − 2) = 7.92 / 10 = 0.792 亿元/月
    assert r.required_pace == pytest.approx(0.792, abs=1e-9)
    # avg pace = 2.74 / 2 = 1.37 per month; acceleration = 0.792 / 1.37 = 0.5781
    assert r.avg_pace == pytest.approx(1.37, abs=1e-9)
    assert r.acceleration == pytest.approx(0.792 / 1.37, abs=1e-9)
    assert r.status_code == "ahead"  # +9.04 ≥ +5


def test_worked_example_1_6_behind_with_arrears(small_db):
    ingest(small_db, "2026,,清河县,固定资产投资,亿元,ytd,589,", "2026,6,清河县,固定资产投资,亿元,ytd,,219.22")
    r = one(progress.gap_table(2026, 6, small_db), "C01", "I01")
    # completion = 219.22 / 589 = 0.372190… → 37.22 %
    assert round(r.completion, 2) == 37.22
    # linear time progress 6/12 = 50 %; gap = 37.219 − 50 = −12.781 → −12.78
    assert r.time_progress == pytest.approx(50.0)
    assert round(r.gap_pp, 2) == -12.78
    # arrears = 589 × 0.5 − 219.22 = 294.5 − 219.22 = 75.28 亿元
    assert r.arrears == pytest.approx(75.28, abs=1e-9)
    # required pace = (589 − 219.22) / 6 = 369.78 / 6 = 61.63 亿元/月
    assert r.required_pace == pytest.approx(61.63, abs=1e-9)
    # −12.78 ≤ −10 → 严重滞后
    assert (r.status, r.status_code) == ("严重滞后", "far_behind")


# ---------------------------------------------------------------- status edges (cumulative, linear m = 6 → 50 %)

@pytest.mark.parametrize("ytd, gap, code", [
    ("55", 5.00, "ahead"),        # 55 − 50 = +5.00 exactly on the threshold → 超进度
    ("54.999", 4.999, "ahead"),   # +4.999 displays +5.00 → 超进度 (status follows the displayed gap)
    ("54.99", 4.99, "on_track"),  # +4.99 → 达进度
    ("50", 0.00, "on_track"),     # 0 → 达进度
    ("49.999", -0.001, "on_track"),  # −0.001 displays −0.00 = 0 → 达进度, not 欠进度
    ("49.99", -0.01, "behind"),   # −0.01 → 欠进度
    ("40", -10.00, "far_behind"),  # −10.00 exactly → 严重滞后
    ("40.006", -9.994, "behind"),  # −9.994 displays −9.99 → 欠进度
])
def test_status_edges_follow_the_displayed_gap(small_db, ytd, gap, code):
    ingest(small_db, "2026,,清河县,固定资产投资,亿元,ytd,100,", f"2026,6,清河县,固定资产投资,亿元,ytd,,{ytd}")
    r = one(progress.gap_table(2026, 6, small_db), "C01", "I01")
    assert r.gap_pp == pytest.approx(gap, abs=1e-9)
    assert r.status_code == code
    assert r.status == progress.STATUS[code]


@pytest.mark.parametrize("target, ytd, code", [
    ("100", "40.005", "far_behind"),   # 40.005 − 50 = −9.995 → −10.00 → 严重滞后
    ("100", "54.995", "ahead"),        # 54.995 − 50 = +4.995 → +5.00 → 超进度
])
def test_status_half_cent_gap_rounds_half_up(small_db, target, ytd, code):
    ingest(small_db, f"2026,,清河县,固定资产投资,亿元,ytd,{target},", f"2026,6,清河县,固定资产投资,亿元,ytd,,{ytd}")
    r = one(progress.gap_table(2026, 6, small_db), "C01", "I01")
    assert r.status_code == code


def test_same_exact_gap_same_status_whatever_the_scale(small_db):
    # +4.995 pp both ways (54.995/100 and 549.95/1000 at 1-6月): one status for one displayed number.
    ingest(small_db, "2026,,清河县,固定资产投资,亿元,ytd,100,", "2026,6,清河县,固定资产投资,亿元,ytd,,54.995",
           "2026,,龙泉县,固定资产投资,亿元,ytd,1000,", "2026,6,龙泉县,固定资产投资,亿元,ytd,,549.95")
    t = progress.gap_table(2026, 6, small_db)
    a, b = one(t, "C01", "I01"), one(t, "C02", "I01")
    # the pages show progress.round2 (half away from zero on the decimal value): the status agrees with it
    assert a.status_code == b.status_code
    for r in (a, b):
        shown = float(progress.round2(r.gap_pp))
        assert r.status_code == ("ahead" if shown >= 5 else "on_track"), (r.gap_pp, shown, r.status_code)


def test_bands_are_configurable(small_db):
    ingest(small_db, "2026,,清河县,固定资产投资,亿元,ytd,100,", "2026,6,清河县,固定资产投资,亿元,ytd,,53")
    # +3 pp: 达进度 with the default +5 band, 超进度 with a +3 band
    assert one(progress.gap_table(2026, 6, small_db), "C01", "I01").status_code == "on_track"
    t = progress.gap_table(2026, 6, small_db, bands=progress.Bands(ahead_pp=3.0))
    assert one(t, "C01", "I01").status_code == "ahead"


def test_status_from_gap_vectorised_edges():
    gap = np.array([5.0, 4.999, 0.0, -0.004, -9.994, -10.0, 1.0, 0.5, -0.6, -1.0])
    rate = np.array([False] * 6 + [True] * 4)
    assert list(progress.status_from_gap(gap, rate, progress.Bands())) == [
        "ahead", "ahead", "on_track", "on_track", "behind", "far_behind",
        "ahead", "on_track", "behind", "far_behind"]


# ---------------------------------------------------------------- missing, no target, zero target, negative ytd

def test_missing_value_is_not_zero(small_db):
    ingest(small_db, "2026,,清河县,固定资产投资,亿元,ytd,100,", "2026,,龙泉县,固定资产投资,亿元,ytd,100,",
           "2026,6,龙泉县,固定资产投资,亿元,ytd,,50")
    t = progress.gap_table(2026, 6, small_db)
    r = one(t, "C01", "I01")
    assert (r.status, r.status_code) == ("未报送", "missing")
    assert math.isnan(r.ytd) and math.isnan(r.completion) and math.isnan(r.gap_pp)  # not 0 %, not −50 pp
    assert "未报送" in r.note
    assert pd.isna(r["rank"])  # unranked, not last
    assert one(t, "C02", "I01")["rank"] == 1
    s = progress.summary(t[t.unit_id == "C01"])
    assert s["missing"] == 1 and s["targets"] == 1


def test_no_target_dash_is_excluded_with_reason(small_db):
    report = ingest(small_db, "2026,,清河县,固定资产投资,亿元,ytd,-,", "2026,6,清河县,固定资产投资,亿元,ytd,,50")
    assert any("不按 0 计" in p.reason for p in report.problems)
    r = one(progress.gap_table(2026, 6, small_db), "C01", "I01")
    assert r.status_code == "excluded"
    assert "未设目标" in r.note
    assert math.isnan(r.completion)  # never 0 %
    s = progress.summary(progress.gap_table(2026, 6, small_db))
    assert s["excluded"] == 1 and s["targets"] == 0


def test_zero_target_is_excluded_with_reason(small_db):
    ingest(small_db, "2026,,清河县,固定资产投资,亿元,ytd,0,", "2026,6,清河县,固定资产投资,亿元,ytd,,5")
    r = one(progress.gap_table(2026, 6, small_db), "C01", "I01")
    assert r.status_code == "excluded"
    assert "目标为 0" in r.note
    assert math.isnan(r.completion)


def test_zero_target_has_no_infinite_gap(small_db):
    ingest(small_db, "2026,,清河县,固定资产投资,亿元,ytd,0,", "2026,6,清河县,固定资产投资,亿元,ytd,,5")
    r = one(progress.gap_table(2026, 6, small_db), "C01", "I01")
    assert math.isnan(r.gap_pp)


def test_negative_ytd(small_db):
    # a net figure can be negative: −5 of 100 at 1-6月
    ingest(small_db, "2026,,清河县,固定资产投资,亿元,ytd,100,", "2026,6,清河县,固定资产投资,亿元,ytd,,-5")
    r = one(progress.gap_table(2026, 6, small_db), "C01", "I01")
    assert r.completion == pytest.approx(-5.0)      # −5 / 100
    assert r.gap_pp == pytest.approx(-55.0)          # −5 − 50
    assert r.arrears == pytest.approx(55.0)          # 100 × 0.5 − (−5)
    assert r.required_pace == pytest.approx(17.5)    # (100 + 5) / 6
    assert r.avg_pace == pytest.approx(-5 / 6)
    assert math.isnan(r.acceleration)                # no meaningful ratio to a negative pace
    assert r.status_code == "far_behind"


# ---------------------------------------------------------------- other kinds

@pytest.mark.parametrize("actual, gap, code", [
    ("7.9", -0.6, "behind"),      # 7.9 − 8.5 = −0.6 pp → 欠进度 (−1 < −0.6 < 0)
    ("9.5", 1.0, "ahead"),        # +1.0 → 超进度 (rate band ±1 pp)
    ("8.5", 0.0, "on_track"),
    ("7.5", -1.0, "far_behind"),  # −1.0 exactly → 严重滞后
])
def test_rate_indicator_compares_levels(small_db, actual, gap, code):
    ingest(small_db, "2026,,清河县,地区生产总值增速,%,growth_pct,8.5,", f"2026,6,清河县,地区生产总值增速,%,growth_pct,,{actual}")
    r = one(progress.gap_table(2026, 6, small_db), "C01", "I02")
    assert r.gap_pp == pytest.approx(gap, abs=1e-9)  # level vs level, not 7.9 / 8.5 = 92.9 %
    assert math.isnan(r.completion) and math.isnan(r.time_progress)
    assert r.status_code == code


def test_ceiling_level_and_cumulative_allowance(small_db):
    # level ceiling (C01): 4 of at most 10 at 1-6月 → headroom (10 − 4) / 10 = +60 % → 超进度
    # level ceiling (C02): 12 > 10 → (10 − 12) / 10 = −20 % → 严重滞后
    # cumulative allowance (T01, measure ytd): 12 deaths against a yearly allowance of 10 → used up → 严重滞后
    ingest(small_db, "2026,,清河县,安全生产事故死亡人数,人,level,10,", "2026,6,清河县,安全生产事故死亡人数,人,level,,4",
           "2026,,龙泉县,安全生产事故死亡人数,人,level,10,", "2026,6,龙泉县,安全生产事故死亡人数,人,level,,12",
           "2026,,城关镇,安全生产事故死亡人数,人,ytd,10,", "2026,6,城关镇,安全生产事故死亡人数,人,ytd,,12")
    t = progress.gap_table(2026, 6, small_db)
    a, b, c = one(t, "C01", "I04"), one(t, "C02", "I04"), one(t, "T01", "I04")
    assert a.gap_pp == pytest.approx(60.0) and a.status_code == "ahead"
    assert b.gap_pp == pytest.approx(-20.0) and b.status_code == "far_behind"
    assert c.measure == "ytd" and c.status_code == "far_behind"
    # lower is better in the ranking: 4 ranks above 12
    assert a["rank"] == 1 and b["rank"] == 2


def test_ceiling_cumulative_allowance_not_yet_exceeded_and_year_end(small_db):
    # 3 of an allowance of 10 at 1-6月: headroom (10 − 3)/10 = 70 % → 超进度; at 1-12月 still under → 已完成
    ingest(small_db, "2026,,清河县,安全生产事故死亡人数,人,ytd,10,", "2026,6,清河县,安全生产事故死亡人数,人,ytd,,3",
           "2026,12,清河县,安全生产事故死亡人数,人,ytd,,9")
    assert one(progress.gap_table(2026, 6, small_db), "C01", "I04").status_code == "ahead"
    assert one(progress.gap_table(2026, 12, small_db), "C01", "I04").status_code == "done"


def test_milestone_and_veto_are_status_only(big_db):
    ingest(big_db, "2026,6,清河县,重大项目开工,,done,,1", "2026,6,龙泉县,重大项目开工,,done,,0",
           "2026,12,石门县,重大项目开工,,done,,0",
           "2026,6,清河县,重大安全事故,,done,,0", "2026,6,龙泉县,重大安全事故,,done,,1")
    t6 = progress.gap_table(2026, 6, big_db)
    assert one(t6, "C01", "I05").status_code == "done"      # done
    assert one(t6, "C02", "I05").status_code == "behind"    # not yet done, months left
    assert one(t6, "C01", "I06").status_code == "on_track"  # no breach
    assert one(t6, "C02", "I06").status_code == "far_behind"  # a veto breach
    for r in (one(t6, "C01", "I05"), one(t6, "C02", "I06")):
        assert math.isnan(r.completion) and math.isnan(r.arrears)  # status only, no numbers invented
    assert one(progress.gap_table(2026, 12, big_db), "C03", "I05").status_code == "far_behind"  # year over, not done


# ---------------------------------------------------------------- time bases

def test_plan_curve(big_db):
    # plan:6=60;12=120 → at 1-8月 time progress = 60 + (120 − 60) × (8 − 6)/(12 − 6) = 80 %
    ingest(big_db, "2026,,清河县,省重点项目完成投资,亿元,ytd,100,", "2026,8,清河县,省重点项目完成投资,亿元,ytd,,100",
           "2026,,龙泉县,省重点项目完成投资,亿元,ytd,100,", "2026,8,龙泉县,省重点项目完成投资,亿元,ytd,,121")
    t = progress.gap_table(2026, 8, big_db)
    a, b = one(t, "C01", "I07"), one(t, "C02", "I07")
    assert a.time_progress == pytest.approx(80.0)
    assert "计划曲线" in a.basis and "6=60;12=120" in a.basis
    # 100 of 100 = 100 %: gap +20 → 超进度, NOT 已完成 (the year-end requirement is 120 %)
    assert a.gap_pp == pytest.approx(20.0) and a.status_code == "ahead"
    # arrears = max(0, 100 × 0.8 − 100) = 0; required pace = (100 × 1.2 − 100) / (12 − 8) = 5 亿元/月
    assert a.arrears == 0 and a.required_pace == pytest.approx(5.0)
    # 121 ≥ 120 % → 已完成
    assert b.status_code == "done"
    assert b.required_pace == 0
    # the plan curve's own helpers
    points = progress.parse_plan("plan:6=60;12=120")
    assert points == {6: 60.0, 12: 120.0}
    assert progress.plan_progress(points, 8) == pytest.approx(80.0)
    assert progress.plan_progress(points, 3) == pytest.approx(30.0)  # (0,0)…(6,60)
    assert progress.plan_progress(points, 12) == pytest.approx(120.0)
    assert progress.parse_plan("linear") is None and progress.parse_plan(None) is None
    # basis override: linear gives 8/12 = 66.67 %
    lin = one(progress.gap_table(2026, 8, big_db, basis="linear"), "C01", "I07")
    assert lin.time_progress == pytest.approx(800 / 12)


def test_seasonal_basis_fallbacks(big_db):
    # I08 (seasonal). History 2025: C01 reached 30 of 100 by 1-6月 (30 %); C02 reached 40 of 100 (40 %).
    # 2026 rows: C01 own history → 30 %; C03 (一类, no history) → its group's mean (30 + 40)/2 = 35 %;
    # T01 (乡镇 group, no history) → all units' mean = 35 %; I03 (no history anywhere) → linear 50 %.
    reference(big_db, MORE_UNITS.replace("C05,青峰县,county,QC,一类,0", "C05,青峰县,county,QC,二类,0"), "u2.csv")
    ingest(big_db, "2025,6,清河县,社会消费品零售总额,亿元,ytd,,30", "2025,12,清河县,社会消费品零售总额,亿元,ytd,,100",
           "2025,6,龙泉县,社会消费品零售总额,亿元,ytd,,40", "2025,12,龙泉县,社会消费品零售总额,亿元,ytd,,100",
           "2024,6,白水县,社会消费品零售总额,亿元,ytd,,20", "2024,12,白水县,社会消费品零售总额,亿元,ytd,,100",
           name="history.csv")
    # C04 (一类) 2024: 20 % — the group mean is over units' averages: (30 + 40 + 20)/3 = 30 %
    rows = [f"2026,,{u},社会消费品零售总额,亿元,ytd,100," for u in ("清河县", "石门县", "城关镇", "青峰县")]
    rows += [f"2026,6,{u},社会消费品零售总额,亿元,ytd,,40" for u in ("清河县", "石门县", "城关镇", "青峰县")]
    rows += ["2026,,清河县,一般公共预算收入,万元,ytd,100,", "2026,6,清河县,一般公共预算收入,万元,ytd,,40"]
    ingest(big_db, *rows)
    t = progress.gap_table(2026, 6, big_db)
    own, peer, city, other_group = (one(t, u, "I08") for u in ("C01", "C03", "T01", "C05"))
    assert own.time_progress == pytest.approx(30.0) and own.basis == "季节性（本单位往年）"
    assert peer.time_progress == pytest.approx(30.0) and peer.basis == "季节性（同组往年）"
    assert city.time_progress == pytest.approx(30.0) and city.basis == "季节性（全部单位往年）"
    assert other_group.basis == "季节性（全部单位往年）"  # 二类 has no history
    # gap on the seasonal line: 40 − 30 = +10 → 超进度 (linear would say 40 − 50 = −10 → 严重滞后)
    assert own.gap_pp == pytest.approx(10.0) and own.status_code == "ahead"
    lin = one(progress.gap_table(2026, 6, big_db, basis="linear"), "C01", "I08")
    assert lin.status_code == "far_behind" and lin.basis == "线性"
    # seasonal forced on an indicator without any history → linear, and says so
    forced = one(progress.gap_table(2026, 6, big_db, basis="seasonal"), "C01", "I03")
    assert forced.time_progress == pytest.approx(50.0) and "线性" in forced.basis and "无往年数据" in forced.basis
    # at 1-12月 the seasonal basis is 100 %
    ingest(big_db, "2026,12,清河县,社会消费品零售总额,亿元,ytd,,95")
    assert one(progress.gap_table(2026, 12, big_db), "C01", "I08").time_progress == pytest.approx(100.0)


def test_seasonal_own_history_is_the_average_over_years(big_db):
    # 2023: 20 of 80 (25 %); 2024: 35 of 100 (35 %); 2025: 60 of 200 (30 %) → mean 30 %
    ingest(big_db, *[f"{y},{m},清河县,社会消费品零售总额,亿元,ytd,,{v}" for y, m, v in
                     ((2023, 6, 20), (2023, 12, 80), (2024, 6, 35), (2024, 12, 100), (2025, 6, 60), (2025, 12, 200))],
           "2026,,清河县,社会消费品零售总额,亿元,ytd,100,", "2026,6,清河县,社会消费品零售总额,亿元,ytd,,31")
    r = one(progress.gap_table(2026, 6, big_db), "C01", "I08")
    assert r.time_progress == pytest.approx(30.0)
    assert r.gap_pp == pytest.approx(1.0)  # 31 − 30
    # arrears: max(0, 100 × 0.30 − 31) = 0
    assert r.arrears == 0


# ---------------------------------------------------------------- two conditions, ranking, gap change, owners

def test_two_conditions_growth_below_target_is_behind(small_db):
    # volume: 60 of 100 at 1-6月 → +10 pp (超进度 by volume); growth 6.0 % against a 6.5 % target → −0.5 pp
    ingest(small_db, "2026,,清河县,固定资产投资,亿元,ytd,100,", "2026,,清河县,固定资产投资,%,growth_pct,6.5,",
           "2026,6,清河县,固定资产投资,亿元,ytd,,60", "2026,6,清河县,固定资产投资,%,growth_pct,,6.0",
           "2026,,龙泉县,固定资产投资,亿元,ytd,100,", "2026,,龙泉县,固定资产投资,%,growth_pct,6.5,",
           "2026,6,龙泉县,固定资产投资,亿元,ytd,,60", "2026,6,龙泉县,固定资产投资,%,growth_pct,,7.0")
    t = progress.gap_table(2026, 6, small_db)
    a, b = one(t, "C01", "I01"), one(t, "C02", "I01")
    assert a.gap_pp == pytest.approx(10.0)
    assert a.status_code in ("behind", "far_behind")
    assert "增速" in a.conditions
    assert b.status_code == "ahead" and b.conditions == ""  # both conditions met


def test_competition_ranking_with_an_unranked_missing_unit(big_db):
    # completions 60, 50, 50, 40 % and one county without a value → 1, 2, 2, 4, unranked
    rows = [f"2026,,{u},固定资产投资,亿元,ytd,100," for u in ("清河县", "龙泉县", "石门县", "白水县", "青峰县")]
    rows += [f"2026,9,{u},固定资产投资,亿元,ytd,,{v}" for u, v in
             (("清河县", 60), ("龙泉县", 50), ("石门县", 50), ("白水县", 40))]
    ingest(big_db, *rows)
    t = progress.gap_table(2026, 9, big_db)
    ranks = {u: one(t, u, "I01")["rank"] for u in ("C01", "C02", "C03", "C04", "C05")}
    assert [ranks[u] for u in ("C01", "C02", "C03", "C04")] == [1, 2, 2, 4]
    assert pd.isna(ranks["C05"])
    assert one(t, "C01", "I01").rank_of == 4  # four ranked units
    assert one(t, "C05", "I01").status_code == "missing"


def test_gap_change_against_the_previous_reported_period(small_db):
    # 1-3月 24 of 120 → 20 − 25 = −5; 1-4月, 1-5月 not reported; 1-6月 66 → 55 − 50 = +5; change = +10
    ingest(small_db, "2026,,清河县,固定资产投资,亿元,ytd,120,", "2026,3,清河县,固定资产投资,亿元,ytd,,24",
           "2026,6,清河县,固定资产投资,亿元,ytd,,66")
    r = one(progress.gap_table(2026, 6, small_db), "C01", "I01")
    assert r.gap_pp == pytest.approx(5.0)
    assert r.prev_period == 3
    assert r.gap_change == pytest.approx(10.0)
    assert math.isnan(one(progress.gap_table(2026, 3, small_db), "C01", "I01").gap_change)  # first period
    hist = progress.gap_history(2026, 6, "C01", "I01", small_db)
    assert list(hist.period) == [3, 6]
    assert list(np.round(hist.gap_pp, 6)) == [-5.0, 5.0]


def test_owners_by_validity_date(small_db):
    reference(small_db, "indicator_id,unit_id,owner_leader,owner_staff,owner_office,valid_from\n"
                        "I01,C01,张副县长,小王,县发改局,2026-01-01\n"
                        "I01,C01,李副县长,小赵,县投促中心,2026-07-01\n", "owners.csv")
    ingest(small_db, "2026,,清河县,固定资产投资,亿元,ytd,100,", "2026,6,清河县,固定资产投资,亿元,ytd,,40",
           "2026,9,清河县,固定资产投资,亿元,ytd,,60")
    june = one(progress.gap_table(2026, 6, small_db), "C01", "I01")
    sept = one(progress.gap_table(2026, 9, small_db), "C01", "I01")
    assert (june.owner_leader, june.owner_staff, june.owner_office) == ("张副县长", "小王", "县发改局")
    assert (sept.owner_leader, sept.owner_staff, sept.owner_office) == ("李副县长", "小赵", "县投促中心")
    # the owner view at 1-6月 charges the 1-6月 owner
    ov = progress.owners_view(progress.gap_table(2026, 6, small_db).query("unit_id == 'C01'"))
    assert list(ov.owner) == ["张副县长"] and ov.behind.iloc[0] == 1  # 40 − 50 = −10 → 严重滞后


# ---------------------------------------------------------------- hypothesis properties (through the DB path)

@pytest.fixture(scope="module")
def template_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("progress_tpl") / "tpl.duckdb"
    for name, text in (("units.csv", SMALL_UNITS), ("indicators.csv", SMALL_INDICATORS)):
        reference(path, text, name)
    return path


def _fresh(template: Path) -> tuple[Path, Path]:
    work = Path(tempfile.mkdtemp(prefix="prop_"))
    path = work / "p.duckdb"
    shutil.copy(template, path)
    return work, path


amount = st.decimals(min_value="0.01", max_value="100000", places=2).map(str)
value = st.decimals(min_value="0", max_value="200000", places=2).map(str)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(period=st.integers(1, 12), pairs=st.lists(st.tuples(amount, value), min_size=1, max_size=8),
       basis=st.sampled_from(["linear", "plan", None]))
def test_property_gap_is_completion_minus_time_and_arrears_nonnegative(template_db, period, pairs, basis):
    work, path = _fresh(template_db)
    try:
        cells = [(u, i) for u in ("清河县", "龙泉县", "城关镇", "青川市") for i in ("固定资产投资", "一般公共预算收入")]
        rows = []
        for (unit, ind), (target, ytd) in zip(cells, pairs):
            uom = "亿元" if ind == "固定资产投资" else "万元"
            rows += [f"2026,,{unit},{ind},{uom},ytd,{target},", f"2026,{period},{unit},{ind},{uom},ytd,,{ytd}"]
        ingest(path, *rows)
        t = progress.gap_table(2026, period, path, basis=basis)
        assert len(t) == len(pairs)
        assert (t.status_code != "missing").all()
        np.testing.assert_allclose(t.gap_pp, t.completion - t.time_progress, rtol=0, atol=1e-9)
        assert (t.arrears >= 0).all()
        assert ((t.required_pace >= 0) | t.required_pace.isna()).all()
        if period == 12:
            assert t.required_pace.isna().all()  # undefined at m = 12
            assert (t.time_progress == 100).all()
    finally:
        shutil.rmtree(work, ignore_errors=True)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=st.lists(st.lists(st.decimals(min_value="0.01", max_value="50", places=2), min_size=11, max_size=11),
                        min_size=1, max_size=3),
       with_own=st.booleans())
def test_property_seasonal_basis_at_month_12_is_100(template_db, history, with_own):
    work, path = _fresh(template_db)
    try:
        rows = []
        unit = "清河县" if with_own else "龙泉县"  # C01's own history, or only its peer's
        for k, increments in enumerate(history):
            ytd = np.cumsum([float(x) for x in increments])  # months 2…12, non-decreasing
            rows += [f"{2025 - k},{m},{unit},固定资产投资,亿元,ytd,,{v:.2f}" for m, v in zip(range(2, 13), ytd)]
        ingest(path, *rows, name="history.csv")
        ingest(path, "2026,,清河县,固定资产投资,亿元,ytd,100,", "2026,12,清河县,固定资产投资,亿元,ytd,,90",
               "2026,6,清河县,固定资产投资,亿元,ytd,,40")
        r12 = one(progress.gap_table(2026, 12, path, basis="seasonal"), "C01", "I01")
        assert r12.time_progress == 100.0
        assert r12.basis.startswith("季节性")
        r6 = one(progress.gap_table(2026, 6, path, basis="seasonal"), "C01", "I01")
        assert 0 <= r6.time_progress <= 100 + 1e-9
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------- summary / owners / warnings on their own

def test_summary_owners_warnings_consistent(demo_db):
    t = progress.gap_table(2026, 9, demo_db)
    ours = t[t.unit_id == "C01"]
    s = progress.summary(ours)
    assert s["targets"] == sum(s[c] for c in ("done", "ahead", "on_track", "behind", "far_behind", "missing"))
    assert s["targets"] + s["excluded"] == len(ours)
    ov = progress.owners_view(ours)
    assert ov.targets.sum() == s["targets"]
    assert ov.behind.sum() == s["behind"] + s["far_behind"]
    w = progress.warnings(ours)
    assert set(w.status_code) <= {"far_behind", "behind", "missing", "on_track", "ahead", "done"}
    assert (w.rules.map(len) > 0).all() and w.reason.str.len().gt(0).all()
    # every 严重滞后 target is warned about
    assert set(ours[ours.status_code == "far_behind"].indicator_id) <= set(w.indicator_id)


# ---------------------------------------------------------------- CLI contract: JSON equals the function

CONTRACT = ["unit", "indicator", "unit_of_measure", "target", "ytd", "completion", "time_progress", "gap_pp",
            "arrears", "required_pace", "avg_pace", "acceleration", "status", "status_code", "gap_change"]


def cli(path: Path, *args: str):
    proc = subprocess.run([sys.executable, "-m", "analytics", "--db", str(path), *args], cwd=ROOT,
                          capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)


def same(a, b) -> bool:
    """JSON value vs frame value: None ↔ NaN/NA; floats exactly (JSON keeps every digit)."""
    if b is None or (not isinstance(b, str) and pd.isna(b)):
        return a is None
    if isinstance(b, (float, np.floating)):
        # DuckDB's avg() of the seasonal shares is not bit-reproducible between runs (parallel
        # summation order): equal to 1e-9, far below the 2 decimals shown
        return isinstance(a, (int, float)) and math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-9)
    if isinstance(b, (np.integer, np.bool_)):
        return a == b.item()
    return a == b


def assert_rows_equal(doc: list[dict], frame: pd.DataFrame, fields: list[str]) -> None:
    assert len(doc) == len(frame)
    for i, (row, (_, ref)) in enumerate(zip(doc, frame.iterrows())):
        for f in fields:
            assert f in row, f"row {i}: field {f} missing from the CLI output"
            assert same(row[f], ref[f]), (i, f, row[f], ref[f])


def test_cli_gap_equals_the_function(demo_db):
    doc = cli(demo_db, "gap", "--year", "2026", "--period", "9", "--unit", "清河县")
    ref = progress.gap_table(2026, 9, demo_db, units=["C01"])
    assert_rows_equal(doc, ref, CONTRACT)
    assert {r["status_code"] for r in doc} <= {"done", "ahead", "on_track", "behind", "far_behind", "missing", "excluded"}
    # percentages in percent and unrounded: some completion carries more than 2 decimals
    assert any(r["completion"] is not None and round(r["completion"], 2) != r["completion"] for r in doc)
    assert all(r["status"] == progress.STATUS[r["status_code"]] for r in doc)


def test_cli_gap_basis_and_all_units(demo_db):
    doc = cli(demo_db, "gap", "--year", "2026", "--period", "9", "--basis", "linear")
    ref = progress.gap_table(2026, 9, demo_db, basis="linear")
    assert_rows_equal(doc, ref, CONTRACT)


def test_cli_owners_equals_the_function(demo_db):
    doc = cli(demo_db, "owners", "--year", "2026", "--period", "9", "--unit", "C01")
    ref = progress.owners_view(progress.gap_table(2026, 9, demo_db, units=["C01"]), "owner_leader")
    assert_rows_equal(doc, ref, list(ref.columns))
    doc = cli(demo_db, "owners", "--year", "2026", "--period", "9", "--by", "owner_office")
    ref = progress.owners_view(progress.gap_table(2026, 9, demo_db), "owner_office")
    assert_rows_equal(doc, ref, list(ref.columns))


def test_cli_warnings_equals_the_function(demo_db):
    doc = cli(demo_db, "warnings", "--year", "2026", "--period", "9")
    ref = progress.warnings(progress.gap_table(2026, 9, demo_db))
    assert doc, "the demo data has warnings"
    assert_rows_equal(doc, ref, [*CONTRACT, "reason", "owner_leader", "owner_office"])


def test_cli_defaults_to_the_latest_period(demo_db):
    doc = cli(demo_db, "gap", "--unit", "清河县")
    assert_rows_equal(doc, progress.gap_table(2026, 9, demo_db, units=["C01"]), CONTRACT)


def test_warnings_rules_by_hand():
    """Six made-up rows, each rule worked out by hand: 严重滞后 always; the others only for
    重点/难点 targets; 不纳入 never."""
    rows = pd.DataFrame([
        # status, key, difficult, conditions, gap_change, acceleration, gap_pp
        ("far_behind", False, False, None, -2.0, 2.0, -15.0),    # 严重滞后 only: not key, so no 差距扩大/加速
        ("behind", True, False, None, -1.0, 1.5, -6.0),          # key: 欠进度 + 差距扩大 + 需加速 (1.5 counts)
        ("behind", False, True, "增速未达目标", 0.5, 1.49, -3.0),  # difficult: 欠进度 + 增速; gap narrowing, 1.49 < 1.5
        ("missing", True, False, None, None, None, None),        # key, not reported
        ("on_track", False, False, None, -3.0, 3.0, 1.0),        # not key: nothing
        ("excluded", True, False, None, None, None, None),       # 不纳入: never warned
    ], columns=["status_code", "is_key", "is_difficult", "conditions", "gap_change", "acceleration", "gap_pp"])
    rows["indicator"] = [f"指标{i}" for i in range(len(rows))]
    w = progress.warnings(rows).set_index("indicator")
    assert w.rules.to_dict() == {"指标0": ["far_behind"], "指标1": ["behind_key", "worsening", "acceleration"],
                                 "指标2": ["behind_key", "growth"], "指标3": ["missing"]}
    assert w.reason.to_dict() == {"指标0": "严重滞后", "指标1": "重点/难点欠进度；差距扩大；需加速 50% 以上",
                                  "指标2": "重点/难点欠进度；增速低于目标", "指标3": "未报送"}
    assert list(w.index) == ["指标0", "指标1", "指标2", "指标3"]  # 严重滞后 first, then by gap; 未报送 after 欠进度
    assert w.key.to_dict() == {"指标0": False, "指标1": True, "指标2": True, "指标3": True}


def test_gap_ranked_orders_by_the_gap_and_counts_open_flags(demo_db, analyst):
    table = progress.gap_table(2026, 9, demo_db)
    ranked = progress.gap_ranked(2026, 9, demo_db)
    assert len(ranked) == len(table) and list(ranked.columns) == [*table.columns, "open_flags"]
    gaps = ranked.gap_pp.to_numpy()
    known = ~np.isnan(gaps)
    assert known[:known.sum()].all()                # rows without a gap come last
    assert (np.diff(gaps[known]) >= 0).all()        # the largest arrears (most negative gap) first
    flagged = ranked.set_index(["unit_id", "indicator_id"]).open_flags
    opened = quality.open_flags(2026, 9, demo_db)
    assert flagged.sum() == len(opened) > 0
    # verifying one open flag takes exactly one off its row's count (a verification moves the data version)
    flags = quality.check(2026, 9, demo_db)
    one = flags[(flags.period == 9) & flags.unit_id.notna() & ~flags.verified].iloc[0]
    before = flagged.loc[(one.unit_id, one.indicator_id)]
    quality.verify_flag(one.flag_key, "已核对", analyst, demo_db)
    after = progress.gap_ranked(2026, 9, demo_db).set_index(["unit_id", "indicator_id"]).open_flags
    assert after.loc[(one.unit_id, one.indicator_id)] == before - 1
    assert after.sum() == flagged.sum() - 1


def test_first_rows_are_the_first_matching_rows_in_order():
    rows = pd.DataFrame({"indicator": list("ABCDEFG"), "kind": ["rate", "cumulative", "cumulative", "ceiling",
                                                                  "cumulative", "cumulative", "rate"]},
                        index=[10, 11, 12, 13, 14, 15, 16])
    first = progress.first_rows(rows, rows.kind == "cumulative", 3)
    assert list(first.indicator) == ["B", "C", "E"] and list(first.index) == [11, 12, 14]
    assert list(progress.first_rows(rows, rows.kind == "cumulative", 40).indicator) == ["B", "C", "E", "F"]
    assert progress.first_rows(rows, rows.kind == "level", 5).empty
