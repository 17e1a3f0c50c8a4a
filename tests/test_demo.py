"""Tests for analytics.demo: determinism, integrity, deliberate faults, peer ranking."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics import demo


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    d = tmp_path_factory.mktemp("demo")
    return d, demo.build_demo(d)


def _read(d, name):
    return pd.read_csv(d / name, dtype=str, keep_default_na=False, encoding="utf-8")


@pytest.fixture(scope="module")
def frames(built):
    d, _ = built
    units, inds = _read(d, "units.csv"), _read(d, "indicators.csv")
    uid = dict(zip(units.name, units.unit_id))
    iid = dict(zip(inds.name, inds.indicator_id))

    def load(name):
        f = _read(d, name)
        f["unit_id"], f["indicator_id"] = f["单位"].map(uid), f["指标"].map(iid)
        return f

    obs = pd.concat([load(f"observations_{y}.csv") for y in demo.YEARS], ignore_index=True)
    tgt = pd.concat([load(f"targets_{y}.csv") for y in demo.YEARS], ignore_index=True)
    for f in (obs, tgt):
        f["year"] = f["年份"].astype(int)
    obs["period"] = obs["期间"].astype(int)
    obs["value"] = obs["数值"].astype(float)
    tgt["target"] = tgt["目标值"].astype(float)
    return units, inds, obs, tgt, load("observations_2026_rev.csv")


def _ytd(obs, year, unit, ind):
    s = obs[(obs.year == year) & (obs.unit_id == unit) & (obs.indicator_id == ind) & (obs["口径"] == "ytd")]
    return s.set_index("period")["value"]


def test_order_and_size(built):
    d, paths = built
    assert [p.name for p in paths] == list(demo.DEMO_FILES)
    assert sum(p.stat().st_size for p in paths) < 4_000_000
    assert not (d / "units.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert b"\r\n" not in (d / "observations_2026.csv").read_bytes()
    assert b"e+" not in b"".join(p.read_bytes() for p in paths)


def test_deterministic(built, tmp_path):
    d, paths = built
    again = demo.build_demo(tmp_path / "a")
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in paths]
    other = demo.build_demo(tmp_path / "b", seed=7)
    assert (tmp_path / "b" / "observations_2026.csv").read_bytes() != (d / "observations_2026.csv").read_bytes()
    assert (tmp_path / "b" / "units.csv").read_bytes() == (d / "units.csv").read_bytes()
    assert len(other) == len(paths)


def test_reference_integrity(built, frames):
    d, _ = built
    units, inds, obs, tgt, rev = frames
    for f in (obs, tgt, rev):
        assert f.unit_id.notna().all() and f.indicator_id.notna().all()
    assert (units.level.value_counts().to_dict()
            == {"city": 1, "county": 10, "township": 15, "department": 25})
    assert units[units.is_home == "1"].unit_id.tolist() == [demo.HOME_UNIT]
    assert set(inds.parent_id) - {""} <= set(inds.indicator_id)
    assert 95 <= inds.points.astype(float).sum() <= 105
    owners = _read(d, "owners.csv")
    assert set(owners.indicator_id) <= set(inds.indicator_id)
    assert (owners.valid_from == "2026-07-01").any()
    assert set(owners.owner_office) <= set(units.name)
    adj = _read(d, "adjustments_2026.csv")
    cd = adj[adj.kind == "city_deduction"]
    assert len(cd) and cd.charged_to.str.startswith("D").all() and set(cd.charged_to) <= set(units.unit_id)
    prog = _read(d, "project_progress_2026.csv")
    assert set(prog.project_id) == set(_read(d, "projects_2026.csv").project_id)
    assert (prog.completed == "").any() and set(prog.period.astype(int)) == set(range(2, 10))


def test_periods(frames):
    _, _, obs, tgt, _ = frames
    assert (tgt["期间"] == "").all() and (tgt["数值"] == "").all() and (obs["目标值"] == "").all()
    for y in demo.YEARS:
        last = 9 if y == 2026 else 12
        assert set(obs[obs.year == y].period) == set(range(2, last + 1))
    assert set(obs[obs.indicator_id == "I01"].period) == {3, 6, 9, 12}
    # two targets on one indicator; the deliberate no-target case
    c01 = tgt[(tgt.year == 2026) & (tgt.unit_id == "C01") & (tgt.indicator_id == "I03")]
    assert set(c01["口径"]) == {"ytd", "growth_pct"}
    nt = demo.DEMO_NO_TARGET
    assert tgt[(tgt.year == 2026) & (tgt.unit_id == nt["unit_id"]) & (tgt.indicator_id == nt["indicator_id"])].empty
    assert len(tgt[(tgt.year == 2025) & (tgt.unit_id == nt["unit_id"]) & (tgt.indicator_id == nt["indicator_id"])]) == 1
    assert not _ytd(obs, 2026, nt["unit_id"], nt["indicator_id"]).empty


def _decreases(obs, cum_ids):
    s = obs[obs.indicator_id.isin(cum_ids) & (obs["口径"] == "ytd")].sort_values(
        ["year", "unit_id", "indicator_id", "period"])
    prev = s.groupby(["year", "unit_id", "indicator_id"]).value.shift()
    return s[s.value < prev]


def test_cumulative_monotone_except_fault(frames):
    _, inds, obs, _, rev = frames
    cum = set(inds[inds.kind == "cumulative"].indicator_id) | {"I20"}
    expected = [(2026, f["unit_id"], f["indicator_id"], f["period"])
                for f in demo.DEMO_FAULTS if f["kind"] == "cumulative_decrease"]
    assert len(expected) == 1
    found = _decreases(obs, cum)
    assert list(zip(found.year, found.unit_id, found.indicator_id, found.period)) == expected
    # after applying the revision upload (latest revision wins) nothing new goes down
    rev = rev.assign(year=rev["年份"].astype(int), period=rev["期间"].astype(int),
                     value=rev["数值"].astype(float))
    key = ["year", "period", "unit_id", "indicator_id", "口径"]
    merged = pd.concat([obs, rev]).drop_duplicates(key, keep="last")
    found = _decreases(merged, cum)
    assert list(zip(found.year, found.unit_id, found.indicator_id, found.period)) == expected


def test_revisions(frames):
    _, _, obs, _, rev = frames
    assert len(rev) == len(demo.DEMO_REVISIONS)
    for r, spec in zip(rev.itertuples(), demo.DEMO_REVISIONS):
        old = _ytd(obs, 2026, spec["unit_id"], spec["indicator_id"])[spec["period"]]
        new = float(r.数值)
        assert (new > old) if spec["direction"] == "up" else (new < old)
    assert [s["direction"] for s in demo.DEMO_REVISIONS].count("down") == 1


def test_faults_present(frames):
    _, _, obs, tgt, _ = frames
    kinds = {f["kind"] for f in demo.DEMO_FAULTS}
    assert kinds == {"missing_report", "cumulative_decrease", "quarter_end_spike", "equals_target"}
    names = dict(zip(frames[0].unit_id, frames[0].name))
    for f in demo.DEMO_FAULTS:
        u, i, p = f["unit_id"], f["indicator_id"], f["period"]
        assert f["note"].startswith(names[u])
        s = _ytd(obs, 2026, u, i)
        if f["kind"] == "missing_report":
            assert p not in s.index and p - 1 in s.index
            assert not obs[(obs.year == 2026) & (obs.period == p) & (obs.unit_id == u) & (obs.indicator_id == i)].shape[0]
            assert not tgt[(tgt.year == 2026) & (tgt.unit_id == u) & (tgt.indicator_id == i)].empty
        elif f["kind"] == "cumulative_decrease":
            assert s[p] < s[p - 1] and s[p + 1] >= s[p - 1]
        elif f["kind"] == "quarter_end_spike":
            inc = s.diff()
            assert inc[p] > 3 * inc.loc[3:p - 1].median() > 0
        elif f["kind"] == "equals_target":
            t = tgt[(tgt.year == 2026) & (tgt.unit_id == u) & (tgt.indicator_id == i) & (tgt["口径"] == "ytd")]
            assert t["目标值"].iloc[0] == obs[(obs.year == 2026) & (obs.period == p) & (obs.unit_id == u)
                                            & (obs.indicator_id == i)]["数值"].iloc[0]
    counties = {f["unit_id"][0] for f in demo.DEMO_FAULTS if f["kind"] == "missing_report"}
    assert counties == {"C", "T"}


def test_growth_consistent_with_ytd(frames):
    _, _, obs, _, _ = frames
    key = ["unit_id", "indicator_id", "period"]
    ytd = obs[obs["口径"] == "ytd"]
    g = obs[(obs["口径"] == "growth_pct") & obs.indicator_id.isin(["I03", "I03a", "I03b", "I04", "I04a", "I05", "I07", "I12"])]
    assert len(g) > 1000
    for y in demo.YEARS[1:]:
        cur = ytd[ytd.year == y].set_index(key).value
        prev = ytd[ytd.year == y - 1].set_index(key).value
        gy = g[g.year == y].set_index(key).value
        calc = (cur.reindex(gy.index) / prev.reindex(gy.index) - 1) * 100
        assert np.allclose(calc, gy, atol=0.0051)
    # one row by hand: 清河县 固定资产投资 1-9月 2026 vs 1-9月 2025
    c, p = _ytd(obs, 2026, "C01", "I03")[9], _ytd(obs, 2025, "C01", "I03")[9]
    row = g[(g.year == 2026) & (g.unit_id == "C01") & (g.indicator_id == "I03") & (g.period == 9)]
    assert row["数值"].iloc[0] == format(round((c / p - 1) * 100, 2), ".2f")


def _completion(obs, tgt, inds, period=9, year=2026):
    cum = inds[(inds.kind == "cumulative") & (inds.parent_id == "") & (inds.points.astype(float) > 0)].indicator_id
    t = tgt[(tgt.year == year) & (tgt["口径"] == "ytd") & tgt.indicator_id.isin(cum)]
    v = obs[(obs.year == year) & (obs.period == period) & (obs["口径"] == "ytd")]
    m = t.merge(v[["unit_id", "indicator_id", "value"]], on=["unit_id", "indicator_id"])
    return m.assign(completion=m.value / m.target)


def test_home_county_second_or_third(frames):
    units, inds, obs, tgt, _ = frames
    group = units[(units.level == "county") & (units.peer_group == units.set_index("unit_id").peer_group["C01"])]
    assert len(group) == 6
    comp = _completion(obs, tgt, inds)
    mean = comp[comp.unit_id.isin(group.unit_id)].groupby("unit_id").completion.mean()
    rank = mean.rank(ascending=False, method="min")
    assert rank["C01"] in (2, 3)
    assert mean.max() - mean.min() > 0.08  # one clearly strong, some weak


def test_township_status_spread(frames):
    units, inds, obs, tgt, _ = frames
    comp = _completion(obs, tgt, inds)
    inner = comp[comp.unit_id.isin(units[units.level.isin(["township", "department"])].unit_id)]
    gap = (inner.completion - 9 / 12) * 100
    buckets = np.select([inner.completion >= 1, gap >= 5, gap >= 0, gap > -10],
                        ["done", "ahead", "on_track", "behind"], "far_behind")
    assert set(buckets) == {"done", "ahead", "on_track", "behind", "far_behind"}


def test_benchmark_generators(tmp_path):
    refs = demo.generate_reference(tmp_path, 7, 5)
    n = demo.generate_long_csv(tmp_path / "big.csv", 7, 5, 8, encoding="gbk", with_targets=True)
    assert n == 7 * 5 * 8 + 7 * 5
    df = pd.read_csv(tmp_path / "big.csv", dtype=str, keep_default_na=False, encoding="gbk")
    assert list(df.columns) == demo.LONG_HEADER and len(df) == n
    units, inds = (pd.read_csv(p, dtype=str) for p in refs)
    assert set(df["单位"]) <= set(units.name) and set(df["指标"]) <= set(inds.name)
    v = df[df["数值"] != ""]
    assert set(v["期间"].astype(int)) == set(range(2, 10))
    assert (v.sort_values(["单位", "指标", "期间"]).groupby(["单位", "指标"])["数值"]
            .apply(lambda s: s.astype(float).is_monotonic_increasing).all())
    demo.generate_long_csv(tmp_path / "big2.csv", 7, 5, 8, encoding="gbk", with_targets=True)
    assert (tmp_path / "big.csv").read_bytes() == (tmp_path / "big2.csv").read_bytes()
