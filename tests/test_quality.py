"""Data-quality checks (analytics/quality.py): each rule just below / at / above its
threshold; the fault-injection benchmark (≥ 200 faults of 14 kinds injected into clean
generated data by a seeded injector kept here — rerun with ``QUALITY_SEEDS=1,2,3``) with
recall ≥ 95 % per kind and false alarms ≤ 5 % on the clean data; the demo's deliberate
problems through the function, the CLI and the page; verification rights and audit."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ADMIN, ROOT
from streamlit.testing.v1 import AppTest

from analytics import db, demo, quality
from analytics.__main__ import run as cli_run
from analytics.errors import AnalyticsError, PermissionDenied
from analytics.ingest import ingest_path

# ====================================================================== a tiny database by SQL

UNITS = [("QC", "青川市", "city", None, None)] + \
    [(f"C{i:02d}", f"县{i:02d}", "county", "QC", "一类") for i in range(1, 8)]
INDICATORS = [  # id, name, uom, kind, parent
    ("A", "固定资产投资", "亿元", "cumulative", None),
    ("A1", "工业投资", "亿元", "cumulative", "A"),
    ("R", "达标率", "%", "rate", None),
]
YEAR = 2026


def make_db(path: Path, obs: list[tuple], targets: list[tuple] = ()) -> Path:
    """obs: (year, period, unit, indicator, measure, value[, upload_id]); targets: (year, unit,
    indicator, measure, target). Written straight into the tables (upload #1, or the given id)."""
    with db.connect(path) as con:
        con.executemany("INSERT INTO units(unit_id, name, level, parent_id, peer_group) VALUES (?, ?, ?, ?, ?)", UNITS)
        con.executemany("""INSERT INTO indicators(indicator_id, name, unit_of_measure, kind, parent_id)
                           VALUES (?, ?, ?, ?, ?)""", INDICATORS)
        ids = sorted({o[6] if len(o) > 6 else 1 for o in obs} | {1})
        for uid in ids:
            con.execute("INSERT INTO uploads VALUES (?, ?, 'x', 'long', ?, ?::TIMESTAMP, 0, 0, 0, 'stored', '', NULL)",
                        [uid, f"file{uid}.csv", f"user{uid}", f"2026-10-{uid:02d} 09:00"])
        con.executemany("INSERT INTO observations VALUES (?, ?, ?, ?, ?, ?, false, ?, ?)",
                        [(*o[:6], o[6] if len(o) > 6 else 1, 100 + i) for i, o in enumerate(obs)])
        if targets:
            con.executemany("INSERT INTO targets VALUES (?, ?, ?, ?, ?, 1, NULL)", list(targets))
    return path


def series(unit: str, ind: str, values: dict[int, float], year: int = YEAR, measure: str = "ytd") -> list[tuple]:
    return [(year, p, unit, ind, measure, float(v)) for p, v in values.items()]


def flags_of(path, rule: str, settings=quality.DEFAULT_SETTINGS, period=None) -> pd.DataFrame:
    f = quality.check(YEAR, period, path, settings)
    return f[f.rule == rule]


def S(**kw) -> quality.Settings:
    return quality.Settings.of({k.replace("__", "."): v for k, v in kw.items()})


# a smooth cumulative path with 3 past years: monthly increments 10 (Jan–Feb together 20)
SMOOTH = {p: 10.0 * p for p in range(2, 13)}


def history(unit="C01", ind="A", base=SMOOTH, years=(2023, 2024, 2025), noise=0.0, seed=0) -> list[tuple]:
    rng = np.random.default_rng(seed)
    out = []
    for y in years:
        inc = np.diff([0.0] + [base[p] for p in sorted(base)]) * (1 + rng.normal(0, noise, len(base)))
        out += series(unit, ind, dict(zip(sorted(base), np.round(np.cumsum(inc), 2))), y)
    return out


# ---------------------------------------------------------------------- 漏报

def test_missing_target_and_dropout(tmp_path):
    obs = series("C01", "A", {2: 1, 3: 2}) + series("C02", "A", {2: 1}) + series("C03", "A", {2: 1})
    path = make_db(tmp_path / "m.duckdb", obs, [(YEAR, "C02", "A", "ytd", 10)])
    f = quality.check(YEAR, 3, path)
    got = {(r.rule, r.unit_id, r.period) for r in f.itertuples() if r.rule.startswith("missing")}
    # C02 has a target → 有目标无数值; C03 has none → 上期已报本期未报; C01 reported
    assert got == {("missing_target", "C02", 3), ("missing_dropout", "C03", 3)}


def test_dropped_rows_from_a_partial_upload(small_db, analyst):
    text = ("年份,期间,单位,指标,计量单位,口径,目标值,数值\n2026,9,清河县,固定资产投资,亿元,ytd,,100\n"
            "2026,9,龙泉县,固定资产投资,亿元,ytd,,abc\n")
    from analytics.ingest import IngestOptions, ingest_bytes
    report = ingest_bytes(text.encode(), "部分.csv", analyst, IngestOptions(accept_partial=True), small_db)
    assert report.status == "partial"
    f = flags_of(small_db, "dropped_rows")
    assert len(f) == 1
    r = f.iloc[0]
    assert (r.file, r.row, r.upload_id, r.period) == ("部分.csv", 3, report.upload_id, 9)
    assert "第3行" in r.explanation and "被拒绝" in r.explanation


# ---------------------------------------------------------------------- cumulative identity

@pytest.mark.parametrize("v9, flagged", [(90.0 - 0.01, True), (90.0, False), (90.01, False)])
def test_cum_decrease_at_threshold(tmp_path, v9, flagged):
    path = make_db(tmp_path / "d.duckdb", series("C01", "A", {7: 80, 8: 90, 9: v9}))
    assert (len(flags_of(path, "cum_decrease")) == 1) is flagged


@pytest.mark.parametrize("tol, flagged", [(0.099, True), (0.1, False), (0.11, False)])
def test_cum_decrease_tolerance(tmp_path, tol, flagged):
    path = make_db(tmp_path / "d.duckdb", series("C01", "A", {8: 100, 9: 90}))
    f = flags_of(path, "cum_decrease", S(cum_decrease__tolerance=tol))
    assert (len(f) == 1) is flagged


@pytest.mark.parametrize("month, flagged", [(1.0 + 0.0109, False), (1.0 + 0.0112, True), (1.0 - 0.02, True)])
def test_month_identity_at_threshold(tmp_path, month, flagged):
    # absolute tolerance 0.011 (rel. 0.1 % of 6 = 0.006 is smaller)
    obs = series("C01", "A", {8: 5, 9: 6}) + series("C01", "A", {9: month}, measure="month")
    path = make_db(tmp_path / "mi.duckdb", obs)
    f = flags_of(path, "month_identity")
    assert (len(f) == 1) is flagged
    if flagged:
        assert f.iloc[0].numbers["difference"] == pytest.approx(5 + month - 6)


@pytest.mark.parametrize("child, flagged", [(49.99, False), (50.0, False), (50.01, True)])
def test_subrow_exceeds_parent_at_threshold(tmp_path, child, flagged):
    path = make_db(tmp_path / "s.duckdb", series("C01", "A", {9: 50}) + series("C01", "A1", {9: child}))
    f = flags_of(path, "subrow_exceeds_parent")
    assert (len(f) == 1) is flagged
    if flagged:
        assert f.iloc[0].indicator_id == "A1" and "工业投资" in f.iloc[0].explanation


# ---------------------------------------------------------------------- 冒报/虚报

def _spiky(tmp_path, extra: float) -> Path:
    obs = history(noise=0.05)
    cur = {p: 10.0 * p for p in range(2, 10)}
    cur[9] += extra
    return make_db(tmp_path / "z.duckdb", obs + series("C01", "A", cur))


def test_increment_outlier_threshold_on_z(tmp_path):
    path = _spiky(tmp_path, 25.0)
    f = flags_of(path, "increment_outlier")
    f = f[f.period == 9]
    assert len(f) == 1 and f.iloc[0].severity == "high"      # September is a quarter end
    z = f.iloc[0].numbers["z"]
    assert z >= 4
    below, at, above = (len(flags_of(path, "increment_outlier", S(increment_outlier__z=k), 9).query("period == 9"))
                        for k in (z - 1e-6, z, z + 1e-6))
    assert (below, at, above) == (1, 1, 0)


def test_increment_outlier_low_means_concealment(tmp_path):
    obs = history(noise=0.05)
    cur = {p: 10.0 * p for p in range(2, 10)}
    cur[9] = cur[8] + 1.0
    f = flags_of(make_db(tmp_path / "low.duckdb", obs + series("C01", "A", cur)), "increment_outlier")
    assert f.period.tolist() == [9] and f.iloc[0].numbers["z"] < -4 and "瞒报" in f.iloc[0].explanation


def test_increment_outlier_without_history_uses_this_year(tmp_path):
    cur = {2: 20.01, 3: 30.01, 4: 40.01, 5: 50.01, 6: 60.01, 7: 100.01}
    path = make_db(tmp_path / "nh.duckdb", series("C01", "A", cur))
    f = flags_of(path, "increment_outlier")
    assert f.period.tolist() == [7] and f.iloc[0].numbers["ratio"] == pytest.approx(4.0)
    assert flags_of(path, "increment_outlier", S(increment_outlier__fallback_ratio=4.0001)).empty


@pytest.mark.parametrize("ratio, flagged", [(1.99, True), (2.0, True), (2.01, False)])
def test_share_above_history_at_threshold(tmp_path, ratio, flagged):
    # history: completion 100 %, share at 1-6月 = 60/120 = 50 %; now 1-6月 = 120 of target 120 → 100 %, ratio 2.0
    obs = history() + series("C01", "A", {p: 20.0 * p for p in range(2, 7)})
    targets = [(y, "C01", "A", "ytd", 120.0) for y in (2023, 2024, 2025, YEAR)]
    path = make_db(tmp_path / "sh.duckdb", obs, targets)
    f = flags_of(path, "share_above_history", S(share_above_history__ratio=ratio)).query("period == 6")
    assert (len(f) == 1) is flagged


@pytest.mark.parametrize("value, flagged", [(149.99, False), (150.0, True), (150.01, True)])
def test_completion_implausible_at_threshold(tmp_path, value, flagged):
    path = make_db(tmp_path / "c.duckdb", series("C01", "A", {9: value}), [(YEAR, "C01", "A", "ytd", 100)])
    assert (len(flags_of(path, "completion_implausible")) == 1) is flagged


@pytest.mark.parametrize("value, flagged", [(99.99, False), (100.0, True), (100.5, True)])
def test_completion_implausible_rate_at_threshold(tmp_path, value, flagged):
    path = make_db(tmp_path / "r.duckdb", series("C01", "R", {9: value}, measure="level"),
                   [(YEAR, "C01", "R", "level", 90)])
    assert (len(flags_of(path, "completion_implausible")) == 1) is flagged


@pytest.mark.parametrize("growth, flagged", [(10.99, False), (11.0, False), (11.01, True)])
def test_growth_inconsistent_at_threshold(tmp_path, growth, flagged):
    obs = series("C01", "A", {9: 100}, 2025) + series("C01", "A", {9: 110}) + \
        series("C01", "A", {9: growth - 1.0 + 1.0}, measure="growth_pct")  # computed 10 %, tolerance 1 pp
    f = flags_of(make_db(tmp_path / "g.duckdb", obs), "growth_inconsistent")
    assert (len(f) == 1) is flagged


@pytest.mark.parametrize("value, flagged", [(1234.56, False), (1200.0, True), (1230.0, False)])
def test_round_number(tmp_path, value, flagged):
    hist = series("C01", "A", {p: 123.45 * p + 0.01 for p in range(2, 13)}, 2025)
    path = make_db(tmp_path / "rn.duckdb", hist + series("C01", "A", {8: 1111.11, 9: value}))
    f = flags_of(path, "round_number").query("period == 9")
    assert (len(f) == 1) is flagged
    # max_sig: 1200 has 2 significant digits — at the threshold 2 flagged, below it (1) not
    assert flags_of(path, "round_number", S(round_number__max_sig=1)).query("period == 9").empty


def test_repeated_value_other_unit_and_last_year(tmp_path):
    obs = (series("C01", "A", {9: 123.45}) + series("C02", "A", {9: 123.45}) + series("C03", "A", {9: 456.78})
           + series("C04", "A", {9: 77.77}, 2025) + series("C04", "A", {9: 77.77}) + series("C05", "A", {9: 12.5})
           + series("C06", "A", {9: 12.5}))
    f = flags_of(make_db(tmp_path / "rv.duckdb", obs), "repeated_value")
    # 12.5 has 3 significant digits (< 4): a chance match, not flagged
    assert sorted(f.unit_id) == ["C01", "C02", "C04"]
    assert f.set_index("unit_id").loc["C04"].numbers["same_as_last_year"] is True


@pytest.mark.parametrize("value, flagged", [(99.99, False), (100.0, True), (100.01, False)])
def test_equals_target(tmp_path, value, flagged):
    path = make_db(tmp_path / "et.duckdb", series("C01", "A", {8: 90.5, 9: value}), [(YEAR, "C01", "A", "ytd", 100)])
    assert (len(flags_of(path, "equals_target")) == 1) is flagged
    # the target must be ≥ min_resolutions × the series' precision (0.01): 100 / 0.01 = 10 000
    assert flags_of(path, "equals_target", S(equals_target__min_resolutions=10000.01)).empty


# ---------------------------------------------------------------------- 瞒报 and revisions

def test_revisions_down_and_up_with_who_and_when(tmp_path):
    obs = series("C01", "A", {8: 80, 9: 90}) + [(YEAR, 8, "C01", "A", "ytd", 79.99, 2),
                                                  (YEAR, 9, "C01", "A", "ytd", 90.01, 2)]
    path = make_db(tmp_path / "rev.duckdb", obs)
    down, up = flags_of(path, "revision_down"), flags_of(path, "revision_up")
    assert down.period.tolist() == [8] and up.period.tolist() == [9]
    d = down.iloc[0]
    assert (d.upload_id, d.revision, d.file) == (2, 2, "file2.csv")
    assert d.numbers["previous_value"] == 80 and d.numbers["uploaded_by"] == "user2"
    assert "user2" in d.explanation and "2026-10-02" in d.explanation
    changes = quality.revisions(YEAR, path)
    assert changes[["period", "prev_value", "value", "uploaded_by"]].values.tolist() == \
        [[8, 80.0, 79.99, "user2"], [9, 90.0, 90.01, "user2"]]


@pytest.mark.parametrize("k, flagged", [(2, True), (3, True), (4, False)])
def test_stuck_value_periods(tmp_path, k, flagged):
    obs = series("C01", "R", {6: 91.2, 7: 93.5, 8: 93.5, 9: 93.5}, measure="level")
    f = flags_of(make_db(tmp_path / "st.duckdb", obs), "stuck_value", S(stuck_value__periods=k)).query("period == 9")
    assert (len(f) == 1) is flagged


def test_stuck_value_ignores_a_full_100_percent_and_seasonal_pauses(tmp_path):
    obs = series("C01", "R", {7: 100, 8: 100, 9: 100}, measure="level")
    # cumulative that never grows in Jul–Sep in past years: a pause is normal
    flat = {p: (10.0 * min(p, 6) + 10.0 * max(0, p - 9)) for p in range(2, 13)}
    obs += history("C02", "A", flat) + series("C02", "A", {p: flat[p] for p in range(2, 10)})
    obs += history("C03", "A") + series("C03", "A", {6: 60, 7: 60, 8: 60, 9: 60})
    f = flags_of(make_db(tmp_path / "st2.duckdb", obs), "stuck_value")
    assert sorted(set(f.unit_id)) == ["C03"]


def test_against_peers(tmp_path):
    obs = []
    for i in range(1, 8):
        u = f"C{i:02d}"
        obs += series(u, "A", {8: 100 + i, 9: 112 + i}, 2025)
        obs += series(u, "A", {8: 110 + i, 9: (123.2 + i * 1.01) if u != "C07" else 118})
    path = make_db(tmp_path / "ap.duckdb", obs)
    f = flags_of(path, "against_peers")
    assert f.unit_id.tolist() == ["C07"]
    z = f.iloc[0].numbers["z"]
    assert len(flags_of(path, "against_peers", S(against_peers__z=-z))) == 1
    assert flags_of(path, "against_peers", S(against_peers__z=-z + 1e-6)).empty
    assert flags_of(path, "against_peers", S(against_peers__min_peers=8)).empty


@pytest.mark.parametrize("published, flagged", [(50.05, False), (50.0501, True), (49.9, True)])
def test_published_mismatch_at_threshold(tmp_path, published, flagged):
    obs = series("C01", "A", {9: 50}) + series("C01", "A", {9: published}, measure="published_completion_pct")
    path = make_db(tmp_path / "p.duckdb", obs, [(YEAR, "C01", "A", "ytd", 100)])
    assert (len(flags_of(path, "published_mismatch")) == 1) is flagged


def test_settings_reject_unknown_threshold_and_can_disable_a_rule(tmp_path):
    with pytest.raises(AnalyticsError):
        quality.Settings.of({"cum_decrease.nope": 1})
    path = make_db(tmp_path / "x.duckdb", series("C01", "A", {8: 100, 9: 90}))
    assert flags_of(path, "cum_decrease", quality.Settings.of(disabled={"cum_decrease"})).empty


def test_rules_are_declared_with_chinese_help():
    assert [r.id for r in quality.RULES] == list(quality.CHECKS)
    for r in quality.RULES:
        assert r.name and r.help and r.family in quality.FAMILIES and r.severity in quality.SEVERITIES
        for t in r.thresholds:
            assert t.help and isinstance(t.default, float)


def test_flag_keys_are_stable_across_runs(tmp_path):
    path = make_db(tmp_path / "k.duckdb", series("C01", "A", {8: 100, 9: 90}))
    a, b = quality.check(YEAR, None, path), quality.check(YEAR, None, path)
    assert a.flag_key.tolist() == b.flag_key.tolist() == ["cum_decrease|C01|A|2026|9|ytd"]



def test_kept_result_equals_a_fresh_run_and_any_write_invalidates_it(tmp_path, monkeypatch):
    """check() keeps its result beside the database by data version: the second call reads it
    back (compute not called) and equals a fresh computation; after a write (here: a new value
    that turns the decrease into an upward revision) the next call recomputes and sees the new data."""
    path = make_db(tmp_path / "k.duckdb", series("C01", "A", {8: 100, 9: 90}))
    with db.connect(path) as con:
        fresh = quality._join_reviews(con, quality.compute(con, YEAR, None))
    first = quality.check(YEAR, None, path)
    calls = []
    real = quality._run  # the rules' run, in compute() and in the kept result's computation
    monkeypatch.setattr(quality, "_run", lambda *a, **k: calls.append(a) or real(*a, **k))
    again = quality.check(YEAR, None, path)
    assert calls == []  # read back, not recomputed
    for got in (first, again):
        pd.testing.assert_frame_equal(got, fresh, check_dtype=False)
    assert again.numbers.iloc[0] == fresh.numbers.iloc[0] and isinstance(again.numbers.iloc[0], dict)
    assert quality.check(YEAR, None, path, quality.Settings.of(disabled=["cum_decrease"])).empty  # settings are part of the key
    with db.connect(path) as con:  # a corrected value, written straight into the tables (no version bump)
        con.execute("INSERT INTO uploads VALUES (2, 'fix.csv', 'x', 'long', 'u', now()::TIMESTAMP, 0, 0, 0, 'stored', '', NULL)")
        con.execute("INSERT INTO observations VALUES (2026, 9, 'C01', 'A', 'ytd', 100, false, 2, 2)")
    assert quality.check(YEAR, None, path).rule.tolist() == ["revision_up"]  # the decrease is gone
    assert len(calls) == 2  # other settings, then after the write


def test_flags_without_numbers_are_the_same_flags(tmp_path):
    # the 数据质量 page's list: every column but the numbers (parsed per flag), read back the same
    path = make_db(tmp_path / "n.duckdb", series("C01", "A", {8: 100, 9: 90}) + series("C02", "A", {8: 50, 9: 40}))
    quality.check(YEAR, None, path)  # computed and kept: both below read it back
    full = quality.check(YEAR, None, path)
    lean = quality.check(YEAR, None, path, numbers=False)
    assert list(lean.columns) == [c for c in quality.FLAG_COLUMNS if c != "numbers"] and len(lean) == 2
    pd.testing.assert_frame_equal(lean, full.drop(columns="numbers"))


# ====================================================================== the demo's deliberate problems

EXPECTED_DEMO = {  # DEMO_FAULTS / DEMO_REVISIONS → the rule that must report it
    "missing_report": "missing_target", "cumulative_decrease": "cum_decrease",
    "quarter_end_spike": "increment_outlier", "equals_target": "equals_target",
}


def demo_expectations() -> list[tuple[str, str, str, int]]:
    out = [(EXPECTED_DEMO[f["kind"]], f["unit_id"], f["indicator_id"], f["period"]) for f in demo.DEMO_FAULTS]
    out += [("revision_down" if r["direction"] == "down" else "revision_up", r["unit_id"], r["indicator_id"],
             r["period"]) for r in demo.DEMO_REVISIONS]
    return out


def test_demo_problems_all_flagged(demo_db):
    flags = quality.check(demo.DEMO_YEAR, demo.DEMO_PERIOD, demo_db)
    got = set(zip(flags.rule, flags.unit_id, flags.indicator_id, flags.period))
    missing = [e for e in demo_expectations() if e not in got]
    assert not missing
    spike = flags[(flags.rule == "increment_outlier") & (flags.unit_id == "T09")].iloc[0]
    assert spike.severity == "high" and spike.file == "observations_2026.csv" and spike.row > 1
    assert not flags.explanation.isna().any()


def test_flags_are_stored_with_every_upload(demo_db):
    with db.connect(demo_db) as con:
        runs = con.execute("SELECT year, upload_id, flags FROM quality_runs ORDER BY run_id").fetchall()
        rev_upload = db.one(con, "SELECT upload_id FROM uploads WHERE file_name = 'observations_2026_rev.csv'")[0]
        stored = con.execute("""SELECT rule, unit_id, indicator_id, period FROM quality_flags
                                JOIN quality_runs USING (run_id) WHERE quality_runs.upload_id = ?""",
                             [rev_upload]).fetchall()
    assert (2026, rev_upload) in {(y, u) for y, u, _ in runs}
    assert ("revision_down", "C06", "I10", 5) in stored


def test_cli_json_equals_the_function(demo_db, capsys):
    assert cli_run(["--db", str(demo_db), "check", "--year", "2026", "--period", "9"]) == 0
    doc = json.loads(capsys.readouterr().out)
    expected = json.loads(json.dumps(quality.records(quality.check(2026, 9, demo_db)), ensure_ascii=False,
                                     default=str))
    assert doc == expected
    assert {"flag_key", "rule", "severity", "unit", "indicator", "period", "numbers", "explanation", "file",
            "row", "upload_id", "revision", "verified"} <= set(doc[0])
    assert cli_run(["--db", str(demo_db), "--format", "table", "check", "--year", "2026"]) == 0
    assert "cum_decrease" in capsys.readouterr().out


# ====================================================================== verification

def test_verify_flag_roles_and_audit(demo_db, viewer, analyst):
    flags = quality.check(2026, 9, demo_db)
    key = flags[(flags.rule == "equals_target") & (flags.unit_id == "T03")].flag_key.iloc[0]
    with db.connect(demo_db) as con:
        before = db.one(con, "SELECT count(*) FROM audit_log")[0]
    with pytest.raises(PermissionDenied):
        quality.verify_flag(key, "看过了", viewer, demo_db)
    with pytest.raises(AnalyticsError):
        quality.verify_flag(key, "  ", analyst, demo_db)
    quality.verify_flag(key, "已与杏花乡核对，属实", analyst, demo_db)
    with db.connect(demo_db) as con:
        log = con.execute("SELECT username, action, detail FROM audit_log WHERE audit_id > (SELECT max(audit_id) - ? "
                          "FROM audit_log) ORDER BY audit_id", [1]).fetchall()
        assert db.one(con, "SELECT count(*) FROM audit_log")[0] == before + 1
    assert log[-1][:2] == ("ana", "verify_flag") and json.loads(log[-1][2])["flag_key"] == key
    again = quality.check(2026, 9, demo_db).set_index("flag_key").loc[key]
    assert bool(again.verified) and again.verified_by == "ana" and again.comment == "已与杏花乡核对，属实"
    opened = quality.open_flags(2026, 9, demo_db)
    assert not ((opened.unit_id == "T03") & (opened.rule == "equals_target")).any()
    assert ((opened.unit_id == "T09") & (opened.rule == "increment_outlier")).any()
    assert list(opened.columns) == ["unit_id", "indicator_id", "period", "rule", "severity"]


def test_a_failing_check_never_fails_the_upload(small_db, analyst, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("检查出错")
    monkeypatch.setattr(quality, "_run", boom)  # the rules, however they are reached
    from analytics.ingest import ingest_bytes
    report = ingest_bytes("年份,期间,单位,指标,计量单位,口径,目标值,数值\n2026,9,清河县,固定资产投资,亿元,ytd,,100\n"
                          .encode(), "a.csv", analyst, path=small_db)
    assert report.status == "stored" and any("数据质量检查未能运行" in n for n in report.notes)


# ====================================================================== the page

@pytest.fixture
def page_db(app_db):
    return app_db


def quality_page(username: str) -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = username
    at.run()
    at.switch_page("pages/quality.py").run()
    assert not at.exception, at.exception
    return at


def test_page_shows_every_demo_problem(page_db):
    at = quality_page("leader")
    assert [t.value for t in at.title] == ["数据质量"]
    table = next(d.value for d in at.dataframe if "flag_key" in getattr(d.value, "columns", []) or
                 "规则" in getattr(d.value, "columns", []))
    cols = table.columns
    shown = set(zip(table["规则"], table["单位"], table["指标"], table["期间"]))
    flags = quality.check(2026, 9, page_db)
    names = dict(zip(flags.rule, flags.rule_name))
    units = dict(zip(flags.unit_id, flags.unit))
    inds = dict(zip(flags.indicator_id, flags.indicator))
    for rule, u, i, p in demo_expectations():
        assert (names[rule], units[u], inds[i], f"1-{p}月") in shown, (rule, u, i, p)
    assert "状态" in cols
    # a leader cannot verify
    assert not [b for b in at.button if b.label == "标记为已核实"]


def test_analyst_verifies_on_the_page(page_db):
    at = quality_page("analyst")
    flags = quality.check(2026, 9, page_db)
    key = flags[flags.rule == "cum_decrease"].flag_key.iloc[0]
    at.session_state["quality_flag"] = key
    at.run()
    assert not at.exception
    assert at.get("plotly_chart")
    at.text_area(key="quality_comment").input("已与龙潭镇核对：8月数据口径调整")
    next(b for b in at.button if b.label == "标记为已核实").click().run()
    assert not at.exception
    again = quality.check(2026, 9, page_db).set_index("flag_key").loc[key]
    assert bool(again.verified) and again.verified_by == "analyst"
    table = next(d.value for d in at.dataframe if "状态" in getattr(d.value, "columns", []))
    assert (table["状态"].astype(str).str.contains("已核实")).any()


# ====================================================================== fault injection

@pytest.fixture(scope="module")
def clean_db(tmp_path_factory) -> Path:
    """The demo world generated with its deliberate faults switched off, ingested without the
    revision file, then made internally consistent (a generated 其中 sub-row never exceeds its
    parent) and given the extra measures some tables print: 当月 and 公布完成率 for the
    counties' cumulative indicators, exactly consistent with their ytd."""
    mp = pytest.MonkeyPatch()
    mp.setattr(demo, "DEMO_FAULTS", [])
    mp.setattr(demo, "MISSING", set())
    work = tmp_path_factory.mktemp("clean")
    try:
        files = demo.build_demo(work / "files")
    finally:
        mp.undo()
    path = work / "clean.duckdb"
    for f in files:
        if f.name != "observations_2026_rev.csv":
            assert ingest_path(f, ADMIN, path=path).status == "stored", f
    with db.connect(path) as con:
        con.execute("""UPDATE observations o SET value = round(least(o.value, p.value * 0.95), 2)
                       FROM indicators i, observations p
                       WHERE i.indicator_id = o.indicator_id AND i.parent_id IS NOT NULL AND i.parent_id <> ''
                         AND p.indicator_id = i.parent_id AND p.unit_id = o.unit_id AND p.year = o.year
                         AND p.period = o.period AND p.measure = o.measure AND o.measure = 'ytd'""")
        con.execute("""UPDATE observations g SET value = round((c.value / l.value - 1) * 100, 2)
                       FROM observations c, observations l, indicators i
                       WHERE g.measure = 'growth_pct' AND i.indicator_id = g.indicator_id AND i.parent_id <> ''
                         AND c.measure = 'ytd' AND c.year = g.year AND c.period = g.period AND c.unit_id = g.unit_id
                         AND c.indicator_id = g.indicator_id AND l.measure = 'ytd' AND l.year = g.year - 1
                         AND l.period = g.period AND l.unit_id = g.unit_id AND l.indicator_id = g.indicator_id""")
        con.execute("""INSERT INTO uploads VALUES (900, 'extra_measures.csv', 'x', 'long', 'system', now()::TIMESTAMP,
                       0, 0, 0, 'stored', '', NULL)""")
        con.execute("""INSERT INTO observations
            SELECT c.year, c.period, c.unit_id, c.indicator_id, 'month', round(c.value - p.value, 2), false, 900, NULL
            FROM current_observations c JOIN current_observations p ON p.year = c.year AND p.period = c.period - 1
                 AND p.unit_id = c.unit_id AND p.indicator_id = c.indicator_id AND p.measure = 'ytd'
            JOIN indicators i ON i.indicator_id = c.indicator_id JOIN units u ON u.unit_id = c.unit_id
            WHERE c.year = 2026 AND c.measure = 'ytd' AND i.kind = 'cumulative' AND u.level = 'county'""")
        con.execute("""INSERT INTO observations
            SELECT c.year, c.period, c.unit_id, c.indicator_id, 'published_completion_pct',
                   round(c.value / t.target * 100, 2), false, 900, NULL
            FROM current_observations c JOIN current_targets t ON t.year = c.year AND t.unit_id = c.unit_id
                 AND t.indicator_id = c.indicator_id AND t.measure = 'ytd'
            JOIN indicators i ON i.indicator_id = c.indicator_id JOIN units u ON u.unit_id = c.unit_id
            WHERE c.year = 2026 AND c.measure = 'ytd' AND i.kind = 'cumulative' AND u.level = 'county' AND t.target > 0""")
    return path


# fault kind → the rules whose flag at the faulty cell counts as detecting it
FAULT_RULES = {
    "missing": {"missing_target"},
    "dropped": {"dropped_rows"},
    "decrease": {"cum_decrease"},
    "spike": {"increment_outlier", "share_above_history", "completion_implausible"},
    "conceal": {"increment_outlier", "against_peers", "stuck_value"},
    "equals_target": {"equals_target"},
    "round": {"round_number"},
    "repeated": {"repeated_value"},
    "stuck": {"stuck_value"},
    "revision_down": {"revision_down"},
    "growth_fake": {"growth_inconsistent"},
    "subrow": {"subrow_exceeds_parent"},
    "month_identity": {"month_identity"},
    "published": {"published_mismatch"},
}
PER_KIND = 20
COUNTS = ("个", "人", "项", "起")


class Injector:
    """Seeded fault injector: plans faults on the clean 2026 data (each series used once),
    writes them into a copy of the database, and lists them as (kind, unit, indicator,
    period). ``pools`` keeps, per kind, every cell the kind could have been injected at — the
    population its false-alarm rate is measured on."""

    def __init__(self, path: Path, seed: int):
        self.path, self.rng = path, np.random.default_rng(seed)
        with db.connect(path) as con:
            self.cur = con.execute("SELECT * FROM current_observations WHERE year = 2026").df()
            self.ly = con.execute("SELECT * FROM current_observations WHERE year = 2025 AND measure = 'ytd'").df()
            self.tg = con.execute("SELECT * FROM current_targets WHERE year = 2026").df()
            self.ind = con.execute("SELECT indicator_id, kind, unit_of_measure, parent_id FROM indicators").df()
        kinds = self.ind.set_index("indicator_id")
        ytd = self.cur[self.cur.measure == "ytd"]
        ytd = ytd[ytd.indicator_id.map(kinds.kind).eq("cumulative") & ~ytd.indicator_id.map(kinds.unit_of_measure)
                  .isin(COUNTS)]
        self.ytd = ytd.pivot_table(index=["unit_id", "indicator_id"], columns="period", values="value")
        self.lyw = self.ly.pivot_table(index=["unit_id", "indicator_id"], columns="period", values="value")
        self.children = set(self.ind[self.ind.parent_id.fillna("") != ""].indicator_id)
        self.used: set = set()
        self.faults: list[dict] = []
        self.pools: dict[str, set] = {}
        self.sql: list[tuple[str, list]] = []

    # -- helpers
    def _take(self, kind: str, cells: list[tuple], n: int = PER_KIND) -> list[tuple]:
        self.pools[kind] = {c[:3] for c in cells}
        free = [c for c in cells if (c[0], c[1]) not in self.used]
        picks = []
        for i in self.rng.permutation(len(free)):
            c = free[i]
            if (c[0], c[1]) in self.used:
                continue
            self.used.add((c[0], c[1]))
            picks.append(c)
            if len(picks) == n:
                break
        for c in picks:
            self.faults.append({"kind": kind, "unit_id": c[0], "indicator_id": c[1], "period": int(c[2])})
        return picks

    def _set(self, unit, ind, period, measure, value):
        self.sql.append(("UPDATE observations SET value = ? WHERE year = 2026 AND unit_id = ? AND indicator_id = ? "
                         "AND period = ? AND measure = ?", [float(value), unit, ind, int(period), measure]))

    def _ytd_path(self, unit, ind, values: dict[int, float]):
        """New ytd values from the fault on; growth rows are re-stated consistently (a fabricated
        figure comes with its fabricated growth rate)."""
        for p, v in values.items():
            self._set(unit, ind, p, "ytd", round(v, 2))
            if (unit, ind) in self.lyw.index and not np.isnan(self.lyw.loc[(unit, ind)].get(p, np.nan)):
                self._set(unit, ind, p, "growth_pct", round((round(v, 2) / self.lyw.loc[(unit, ind)][p] - 1) * 100, 2))

    def _series(self, with_history=True):
        idx = self.ytd.index
        if with_history:
            idx = idx.intersection(self.lyw.index)
        return [(u, i) for u, i in idx if i not in self.children]

    def _hist_share(self, u, i, p):
        row = self.lyw.loc[(u, i)]
        return (row.get(p, np.nan) - row.get(p - 1, np.nan)) / row.get(12, np.nan)

    # -- the kinds
    def plan(self) -> list[dict]:
        rng = self.rng
        # 其中 sub-rows first: each uses its parent series too
        parent = self.ind.set_index("indicator_id").parent_id
        pv = self.cur[self.cur.measure == "ytd"].set_index(["unit_id", "indicator_id", "period"]).value
        cells = [(u, i, p) for (u, i, p) in pv.index if i in self.children and (u, parent[i], p) in pv.index
                 and pv[(u, parent[i], p)] > 1 and (u, parent[i]) not in self.used]
        for u, i, p in self._take("subrow", cells):
            self.used.add((u, parent[i]))
            self._set(u, i, p, "ytd", round(pv[(u, parent[i], p)] * rng.uniform(1.05, 1.3), 2))
        # missing: any indicator with a target
        have = self.cur[["unit_id", "indicator_id", "period"]].drop_duplicates()
        tgt = self.tg[["unit_id", "indicator_id"]].drop_duplicates()
        cells = [tuple(r) for r in have.merge(tgt).itertuples(index=False)]
        for u, i, p in self._take("missing", cells):
            self.sql.append(("DELETE FROM observations WHERE year = 2026 AND unit_id = ? AND indicator_id = ? "
                             "AND period = ?", [u, i, p]))
        # cumulative ytd series with last year's values: one cell each
        smooth = self._series()
        cells = [(u, i, p) for u, i in smooth for p in range(3, 10)
                 if self.ytd.loc[(u, i)][p - 1] > 0.5 and self.ytd.loc[(u, i)][p] > self.ytd.loc[(u, i)][p - 1]]
        for u, i, p in self._take("decrease", cells):
            prev = self.ytd.loc[(u, i)][p - 1]
            self._ytd_path(u, i, {p: prev * rng.uniform(0.9, 0.99)})
        # spikes and concealment: months that normally carry ≥ 4 % of the year, with an increment of
        # ≥ 50× the reporting precision (0.01) — a change of a few last digits is not detectable
        big = [(u, i, p) for u, i in smooth for p in range(3, 10)
               if self._hist_share(u, i, p) >= 0.04 and self.ytd.loc[(u, i)][p - 1] >= 1.0
               and self.ytd.loc[(u, i)][p] - self.ytd.loc[(u, i)][p - 1] >= 0.5]
        for u, i, p in self._take("spike", big):
            row = self.ytd.loc[(u, i)]
            usual = float(np.median(np.diff(row[[q for q in range(2, 10)]].to_numpy())))
            extra = rng.uniform(3, 6) * max(usual, 0.05 * row[p])
            self._ytd_path(u, i, {q: row[q] + extra for q in range(p, 10)})
        conceal = [c for c in big if c[2] >= 4 and self._hist_share(*c) >= 0.05]
        for u, i, p in self._take("conceal", conceal):
            row = self.ytd.loc[(u, i)]
            cut = (row[p] - row[p - 1]) * (1 - rng.uniform(0.0, 0.3))
            self._ytd_path(u, i, {q: row[q] - cut for q in range(p, 10)})
        stuck = [(u, i, p) for u, i in smooth for p in range(5, 10)
                 if self._hist_share(u, i, p) + self._hist_share(u, i, p - 1) >= 0.06]
        for u, i, p in self._take("stuck", stuck):
            row = self.ytd.loc[(u, i)]
            self._ytd_path(u, i, {p - 1: row[p - 2], p: row[p - 2]})
        rounds = [(u, i, p) for u, i in smooth for p in range(3, 10) if self.ytd.loc[(u, i)][p] >= 100
                  and demo_sig(self.ytd.loc[(u, i)][p]) >= 4]
        for u, i, p in self._take("round", rounds):
            v = self.ytd.loc[(u, i)][p]
            e = 10 ** (int(np.floor(np.log10(v))) - 1)
            self._ytd_path(u, i, {p: round(v / e) * e})
        rep = [(u, i, p) for u, i in smooth for p in range(3, 10) if demo_sig(self.lyw.loc[(u, i)].get(p, 0)) >= 4
               and abs(self.lyw.loc[(u, i)][p] / self.ytd.loc[(u, i)][p] - 1) < 0.3]
        for u, i, p in self._take("repeated", rep):
            self._ytd_path(u, i, {p: self.lyw.loc[(u, i)][p]})
        eq = []
        t = self.tg[self.tg.measure == "ytd"].set_index(["unit_id", "indicator_id"]).target
        for u, i in self._series(False):
            if (u, i) not in t.index or t[(u, i)] < 10:
                continue
            row = self.ytd.loc[(u, i)]
            for p in range(3, 10):
                if row[p - 1] < t[(u, i)] and (p == 9 or row[p + 1] >= t[(u, i)]) and row[p] > 0.7 * t[(u, i)]:
                    eq.append((u, i, p))
        for u, i, p in self._take("equals_target", eq):
            self._ytd_path(u, i, {p: t[(u, i)]})
        cells = [(u, i, p) for u, i in self._series(False) for p in range(2, 10) if self.ytd.loc[(u, i)][p] > 1]
        picks = self._take("revision_down", cells)
        self.sql.append(("INSERT INTO uploads VALUES (901, 'revision.csv', 'y', 'long', 'ana', now()::TIMESTAMP, "
                         "0, 0, 0, 'stored', '', NULL)", []))
        for u, i, p in picks:
            self.sql.append(("INSERT INTO observations VALUES (2026, ?, ?, ?, 'ytd', ?, false, 901, 2)",
                             [p, u, i, round(self.ytd.loc[(u, i)][p] * rng.uniform(0.85, 0.98), 2)]))
        g = self.cur[self.cur.measure == "growth_pct"]
        g = g[g.indicator_id.map(self.ind.set_index("indicator_id").kind).eq("cumulative")]
        cells = [(r.unit_id, r.indicator_id, r.period) for r in g.itertuples() if r.period >= 2]
        for u, i, p in self._take("growth_fake", cells):
            v = g[(g.unit_id == u) & (g.indicator_id == i) & (g.period == p)].value.iloc[0]
            self._set(u, i, p, "growth_pct", round(v + rng.choice([-1, 1]) * rng.uniform(1.5, 6), 2))
        mo = self.cur[self.cur.measure == "month"]
        cells = [(r.unit_id, r.indicator_id, r.period) for r in mo.itertuples() if r.value >= 1]
        for u, i, p in self._take("month_identity", cells):
            v = mo[(mo.unit_id == u) & (mo.indicator_id == i) & (mo.period == p)].value.iloc[0]
            self._set(u, i, p, "month", round(v * rng.choice([rng.uniform(0.7, 0.95), rng.uniform(1.05, 1.3)]), 2))
        pub = self.cur[self.cur.measure == "published_completion_pct"]
        cells = [(r.unit_id, r.indicator_id, r.period) for r in pub.itertuples()]
        for u, i, p in self._take("published", cells):
            v = pub[(pub.unit_id == u) & (pub.indicator_id == i) & (pub.period == p)].value.iloc[0]
            self._set(u, i, p, "published_completion_pct", round(v + rng.choice([-1, 1]) * rng.uniform(0.5, 5), 2))
        # rows dropped at ingest: partial uploads whose reports list rejected rows
        for k in range(3):
            uid = 910 + k
            rows = sorted(rng.choice(np.arange(2, 500), 6, replace=False).tolist())
            report = {"problems": [{"file": f"partial{k}.csv", "row": r, "column": "数值", "reason": "数值无法识别",
                                    "severity": "error"} for r in rows]}
            self.sql.append(("INSERT INTO uploads VALUES (?, ?, 'z', 'long', 'ana', now()::TIMESTAMP, 0, 0, 6, "
                             "'partial', '', ?)", [uid, f"partial{k}.csv", json.dumps(report, ensure_ascii=False)]))
            c = self.cur.iloc[int(rng.integers(len(self.cur)))]
            self.sql.append(("INSERT INTO observations VALUES (2026, ?, ?, ?, ?, ?, false, ?, 2)",
                             [int(c.period), c.unit_id, c.indicator_id, c.measure, float(c.value), uid]))
            for r in rows:
                self.faults.append({"kind": "dropped", "unit_id": None, "indicator_id": None, "period": None,
                                    "upload_id": uid, "row": r})
        return self.faults

    def write(self, target: Path) -> Path:
        shutil.copy(self.path, target)
        with db.connect(target) as con:
            for sql, params in self.sql:
                con.execute(sql, params)
        return target


def demo_sig(v) -> int:
    return int(quality._sig(np.array([float(v)]))[0]) if v and np.isfinite(v) else 0


def detected(fault: dict, flags: pd.DataFrame) -> bool:
    rules = FAULT_RULES[fault["kind"]]
    f = flags[flags.rule.isin(rules)]
    if fault["kind"] == "dropped":
        return bool(((f.upload_id == fault["upload_id"]) & (f.row == fault["row"])).any())
    return bool(((f.unit_id == fault["unit_id"]) & (f.indicator_id == fault["indicator_id"])
                 & (f.period == fault["period"])).any())


SEEDS = [int(s) for s in os.environ.get("QUALITY_SEEDS", "20260901").split(",")]


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_fault_injection_recall_and_false_alarms(clean_db, tmp_path, seed):
    clean = quality.check(2026, 9, clean_db)
    inj = Injector(clean_db, seed)
    faults = inj.plan()
    assert len(faults) >= 200
    flags = quality.check(2026, 9, inj.write(tmp_path / "faulty.duckdb"))
    cells = clean[["unit_id", "indicator_id", "period"]].dropna()
    lines = [f"fault injection, seed {seed}: {len(faults)} faults injected; clean data: "
             f"{len(clean)} flags on {len(inj.cur[['unit_id', 'indicator_id', 'period']].drop_duplicates()):,} cells",
             f"{'kind':<16}{'injected':>9}{'found':>7}{'recall':>9}{'pool':>8}{'clean flags':>13}{'false alarm':>13}"]
    table = {}
    for kind, rules in FAULT_RULES.items():
        mine = [f for f in faults if f["kind"] == kind]
        found = sum(detected(f, flags) for f in mine)
        pool = inj.pools.get(kind, set())
        hit = clean[clean.rule.isin(rules)]
        hit = {(u, i, int(p)) for u, i, p in zip(hit.unit_id, hit.indicator_id, hit.period) if pd.notna(p)}
        fa = len(hit & pool) / len(pool) if pool else (0.0 if not clean.rule.isin(rules).any() else 1.0)
        table[kind] = (len(mine), found, found / len(mine), fa)
        lines.append(f"{kind:<16}{len(mine):>9}{found:>7}{found / len(mine):>9.1%}{len(pool):>8}"
                     f"{len(hit & pool) if pool else int(clean.rule.isin(rules).sum()):>13}{fa:>13.2%}")
    any_cell = cells.drop_duplicates()
    total_cells = len(inj.cur[["unit_id", "indicator_id", "period"]].drop_duplicates())
    lines.append(f"clean cells with any flag: {len(any_cell)} of {total_cells:,} = {len(any_cell) / total_cells:.2%}")
    text = "\n".join(lines)
    print("\n" + text)
    out = ROOT / "test-output"
    out.mkdir(exist_ok=True)
    (out / "quality_recall.txt").write_text(text + "\n", encoding="utf-8")
    missed = [f for f in faults if not detected(f, flags)]
    for kind, (n, found, recall, fa) in table.items():
        assert recall >= 0.95, (kind, [m for m in missed if m["kind"] == kind])
        assert fa <= 0.05, kind
    assert len(any_cell) / total_cells <= 0.05
