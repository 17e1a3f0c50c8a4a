"""Hand-worked scores for every method, caps, honours, veto, ×10 and the 85-and-last rule."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics import scoring
from analytics.scoring import Column, Rule, RulesError, Settings, parse_rules, score_column

S = Settings()
NAN = np.nan


def col(method, points, kind="cumulative", target=(100.0, 100.0, 100.0), prev=None, groups=None, **params):
    p = {**scoring.METHODS[method].params, **params}
    t = np.array(target, float)
    return Column(Rule("X", method, points, p), kind, t, np.array(prev if prev is not None else [NAN] * len(t), float),
                  groups or [np.arange(len(t))])


def sc(c, completions):
    s, b = score_column(c, np.array(completions, float), S)
    return np.round(s, 6).tolist(), np.round(b, 6).tolist()


@pytest.mark.parametrize("method,points,kind,target,comp,params,expected", [
    # proportional: 8.5 × 97.2% = 8.262; capped at 100%; 未报送 → 0
    ("proportional", 8.5, "cumulative", (100, 100, 100), (97.2, 112.0, NAN), {}, [8.262, 8.5, 0.0]),
    ("proportional", 10, "cumulative", (100, 100, 100), (97.2, 112.0, 50), {"cap": 1.1}, [9.72, 11.0, 5.0]),
    # pass_fail: met at exactly 100%
    ("pass_fail", 3, "cumulative", (100, 100, 100), (100.0, 99.99, 130), {}, [3.0, 0.0, 3.0]),
    ("pass_fail", 4, "cumulative", (100, 100, 100), (100.0, 80, 130), {"partial": 0.5}, [4.0, 2.0, 4.0]),
    # linear_band: 6 + 0.1 × (93.06−100) = 5.306; rate gap in pp of the rate: target 7, actual 6 → 6 − 0.1 = 5.9
    ("linear_band", 6, "cumulative", (100, 100, 100), (93.06, 130, 20), {}, [5.306, 6.0, 0.0]),
    ("linear_band", 6, "rate", (7, 7, 7), (600 / 7, 100, 800 / 7), {"per_pp": 0.1}, [5.9, 6.0, 6.0]),
    # rank: 1st 100%, −5% per place; ties share the better place (1, 2, 2, 4)
    ("rank", 5, "cumulative", (100,) * 4, (110, 100, 100, 90), {}, [5.0, 4.75, 4.75, 4.25]),
    # efficacy: 0.6×3 + 1.2×(x−min)/(max−min)
    ("efficacy", 3, "cumulative", (100,) * 3, (90, 95, 100), {}, [1.8, 2.4, 3.0]),
    # relative (rate): city mean of 8, 6, 7 = 7; 0.8×6 + 1×(8−7) = 5.8; 4.8 − 1 = 3.8; 4.8
    ("relative", 6, "rate", (5, 5, 5), (160, 120, 140), {}, [5.8, 3.8, 4.8]),
    # threshold_then_rank: threshold 8 on the rate; 9 → 3 + 3×1 = 6; 8.5 → 3 + 3×0.9 = 5.7; 7.9 → 0
    ("threshold_then_rank", 6, "rate", (8, 8, 8), (112.5, 106.25, 98.75), {"threshold": 8.0}, [6.0, 5.7, 0.0]),
])
def test_methods_hand_worked(method, points, kind, target, comp, params, expected):
    s, _ = sc(col(method, points, kind, target, **params), comp)
    assert s == pytest.approx(expected, abs=1e-6)


def test_static_dynamic_40_60():
    # static 0.4×3×min(c,1); dynamic 0.6×3×efficacy(growth): growth 10%, 5%, 0% → 1, 0.8, 0.6
    c = col("static_dynamic", 3, target=(110, 105, 100), prev=(100, 100, 100))
    s, _ = sc(c, (100, 100, 100))
    assert s == pytest.approx([1.2 + 1.8, 1.2 + 1.8 * 0.8, 1.2 + 1.8 * 0.6])


def test_rank_beyond_20th_scores_zero_and_missing_is_unranked():
    n = 23
    c = col("rank", 10, target=(100,) * n)
    comp = list(np.arange(200, 200 - n, -1.0))
    comp[-1] = NAN  # 未报送: unranked, 0, takes no place
    s, _ = sc(c, comp)
    assert s[0] == 10 and s[19] == pytest.approx(0.5) and s[20] == 0 and s[21] == 0 and s[22] == 0
    rk = scoring.group_rank(np.array(comp), np.arange(n))
    assert np.isnan(rk[-1]) and rk[-2] == 22


def test_missing_target_is_not_scored_as_zero():
    s, _ = sc(col("proportional", 5, target=(100, NAN, 100)), (90, 90, 90))
    assert s[0] == 4.5 and np.isnan(s[1])
    f = scoring.scale_factor(np.array([5.0, 5.0]), np.array([[True, True], [True, False]]))
    assert f.tolist() == [10.0, 20.0]


def test_over_completion_bonus_capped_per_item_and_total():
    _, b = sc(col("proportional", 5), (104, 130, 99))
    assert b == pytest.approx([0.2, 0.5, 0.0])  # 4 pp × 0.05; 30 pp capped at 0.5
    t = scoring.totals(np.array([90.0]), np.array([4.2]), np.array([0.0]), np.array([False]), S)
    assert t[0] == 93.0  # bonus total cap 3


def test_ceiling_completion_and_pass_fail():
    c = scoring.completion("ceiling", np.array([3.0, 4.0, 5.0]), np.array([4.0, 4.0, 4.0]))
    assert c.tolist() == [125.0, 100.0, 75.0]
    s, _ = sc(col("pass_fail", 3, "ceiling", (4, 4, 4)), c)
    assert s == [3.0, 3.0, 0.0]


def test_veto_zero_or_cap():
    base, bonus, fixed, veto = np.array([95.0, 95.0]), np.zeros(2), np.zeros(2), np.array([True, False])
    assert scoring.totals(base, bonus, fixed, veto, Settings(veto_mode="zero")).tolist() == [0.0, 95.0]
    assert scoring.totals(base, bonus, fixed, veto, Settings(veto_mode="cap", veto_cap=60)).tolist() == [60.0, 95.0]


def _table(units, adjustments, groups=None):
    u = pd.DataFrame({"unit_id": units, "name": units, "level": "department",
                      "peer_group": groups or ["县直部门"] * len(units), "is_home": False})
    return scoring.ScoreTable(2026, 12, "county", "current", u, pd.DataFrame(columns=["indicator_id", "name", "kind"]),
                              np.zeros((len(units), 0)), np.zeros((len(units), 0)), np.zeros((len(units), 0)),
                              np.zeros((len(units), 0)), pd.DataFrame(adjustments, columns=[
                                  "unit_id", "kind", "level", "item", "points", "reason", "charged_to"]),
                              scoring.RuleSet(S, {}))


def test_honours_highest_level_only_capped_and_times_ten_charge():
    adj = [("C01", "honour", "provincial", "招商", 1.0, "", None), ("C01", "honour", "city", "招商", 0.5, "", None),
           ("C01", "honour", "national", "工业", 2.0, "", None), ("C01", "honour", "city", "就业", 0.5, "", None),
           ("C01", "city_deduction", None, "安全", 0.3, "", "D10"), ("C01", "interview", None, "投资", 0.5, "", None),
           ("C01", "deduction", None, "安全", 0.5, "", None)]
    a = scoring.adjustment_totals(_table(["C01", "D10"], adj)).set_index("unit_id")
    assert a.honours["C01"] == 3.0  # 1 + 2 + 0.5 = 3.5 → cap 3; the city honour for 招商 not counted
    assert a.deduction_total["C01"] == pytest.approx(1.3)
    assert a.charges["D10"] == pytest.approx(3.0)  # 0.3 × 10
    assert "0.3×10" in a.adjust_text["D10"]


def _scored(totals_, groups=None):
    t = _table([f"D{i}" for i in range(len(totals_))], [], groups)
    u = t.units.copy()
    u["total"] = totals_
    u["rank"] = scoring.rank_in_groups(np.array(totals_, float), [np.flatnonzero(u.peer_group == g)
                                                                  for g in dict.fromkeys(u.peer_group)])
    u["group_size"] = len(totals_)
    u["charges"] = 0.0
    u["adjust_text"] = ""
    return scoring.Scored(t, pd.DataFrame(), u)


@pytest.mark.parametrize("totals_,expected", [
    ([90, 88, 84.99], {"D2"}),          # last and < 85
    ([90, 88, 85.0], set()),            # exactly 85 is not below 85
    ([90, 80, 80], {"D1", "D2"}),       # tied last: both rank 2, both last
    ([84, 84, 84], {"D0", "D1", "D2"}),  # all tied: all last
    ([70, 95, 90], {"D0"}),
])
def test_rectification_85_and_last(totals_, expected):
    c = scoring.consequences(_scored(totals_))
    assert set(c[c.consequence == "整改承诺"].unit_id) == expected


def test_a_group_of_one_has_no_last():
    assert not scoring.is_last(np.array([1.0]), [np.array([0])]).any()


@pytest.mark.parametrize("doc,message", [
    ({"rules": {"I01": {"method": "magic", "points": 3}}}, "规则 I01：未知计分方法 'magic'"),
    ({"rules": {"I02": {"method": "proportional"}}}, "规则 I02：缺少 points"),
    ({"rules": {"I03": {"method": "proportional", "points": 3, "cap": -1}}}, "规则 I03：cap 不能为负数"),
    ({"rules": {"I04": {"method": "rank", "points": 3, "cap": 1}}}, "规则 I04：方法 rank 没有参数 cap"),
    ({"settings": {"bonus_cap_total": -2}}, "settings：bonus_cap_total 不能为负数"),
    ({"settings": {"veto_mode": "half"}}, "veto_mode 应为 zero 或 cap"),
    ({"rules": {"I05": {"method": "proportional", "points": -3}}}, "规则 I05：points 不能为负数"),
])
def test_rules_validation_names_the_rule(doc, message):
    with pytest.raises(RulesError, match=message.replace("(", r"\(")):
        parse_rules(doc)


def test_shipped_rules_are_valid_and_sum_to_100(tmp_path):
    doc = scoring.check_rules(scoring.DEFAULT_RULES)
    assert doc["ok"] and doc["points"] == 100
    assert set(doc["methods"]) == set(scoring.METHODS)
    bad = tmp_path / "bad.toml"
    bad.write_text("[rules.I01]\nmethod = 'x'\npoints = 1\n", encoding="utf-8")
    with pytest.raises(RulesError, match="规则 I01"):
        scoring.load_rules(bad)


def test_demo_city_standing_and_arithmetic(demo_db):
    from analytics import simulation
    s = simulation.standing(2026, 9, "city", False, demo_db)
    u = s.units.set_index("unit_id")
    assert u.loc["C02", "rank"] == 1 and u.loc["C01", "rank"] == 2  # 清河县 2nd in 一类
    row = s.detail[(s.detail.unit_id == "C01") & (s.detail.indicator_id == "I03")].iloc[0]
    assert row.arithmetic == f"7 × {row.completion:.2f}% = {row.score:.2f}"
    assert u.loc["C01", "honours"] == 1.0  # provincial 1.0, the city 0.5 for the same item not counted


def test_cli_score_and_rules_check(demo_db, capsys):
    import json
    from analytics.__main__ import run
    assert run(["--db", str(demo_db), "score", "--year", "2026", "--period", "9", "--level", "county"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {"整改承诺", "×10 转扣"} <= {c["consequence"] for c in doc["consequences"]}
    charge = next(c for c in doc["consequences"] if c["unit_id"] == "D10" and c["consequence"] == "×10 转扣")
    assert "0.3×10 = 3.00" in charge["reason"]
    assert run(["rules", "check", str(scoring.DEFAULT_RULES)]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
