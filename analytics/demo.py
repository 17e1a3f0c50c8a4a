"""Deterministic fictional demo data (青川市 and its county 清河县) for 目标督查分析.

Everything here is invented: city, counties, townships, people and numbers. The files
mirror what a county target office (目标办) and statistics bureau receive in a year:
the unit register, the indicator library with scoring rules, the city's 目标任务分解表
(targets), the monthly bureau tables (observations, long layout), a revision upload,
honours/deductions, and the key-project ledger. ``build_demo`` writes them; the demo
DB, tests, page tests and benchmarks all use it. Output depends only on ``seed``:
numpy ``default_rng``, fixed iteration order, explicit number formatting.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DEMO_YEAR = 2026
DEMO_PERIOD = 9
HISTORY_YEARS = (2023, 2024, 2025)
DEMO_SEED = 20261127
HOME_UNIT = "C01"  # 清河县
YEARS = HISTORY_YEARS + (DEMO_YEAR,)
LONG_HEADER = ["年份", "期间", "单位", "指标", "计量单位", "口径", "目标值", "数值"]
DEMO_FILES = (
    "units.csv", "indicators.csv", "owners.csv",
    *[f"targets_{y}.csv" for y in YEARS], *[f"observations_{y}.csv" for y in YEARS],
    "observations_2026_rev.csv", "adjustments_2026.csv", "projects_2026.csv",
    "project_progress_2026.csv",
)

# --- units: mirrors the city's county list and our county's 乡镇/县直部门 register ----
COUNTIES = [("C01", "清河县", "一类"), ("C02", "云岫县", "一类"), ("C03", "桐溪县", "一类"),
            ("C04", "鹤鸣县", "一类"), ("C05", "枫岭县", "一类"), ("C06", "望川县", "一类"),
            ("C07", "霁山县", "二类"), ("C08", "柏溪县", "二类"), ("C09", "汀兰县", "二类"),
            ("C10", "麓原县", "二类")]
TOWNSHIPS = ("柳岸镇 石桥镇 杏花乡 白沙镇 青石镇 槐荫乡 龙潭镇 双河镇 梅岭乡 芦花镇 "
             "金鸡镇 凤栖乡 苇塘镇 松坡乡 清源镇").split()
DEPARTMENTS = ("县发改局 县财政局 县工信局 县商务局 县住建局 县交通运输局 县农业农村局 "
               "县自然资源局 县生态环境局 县应急管理局 县教育局 县卫健委 县人社局 县民政局 "
               "县公安局 县市场监管局 县统计局 县税务局 县文旅局 县水利局 县林业局 县城管局 "
               "县经开区管委会 县投资促进中心 县信访局").split()
# Designed 2026 performance (actual growth above/below the target path, as a fraction).
# 一类: C02 clearly strong, C01 good (2nd), C05/C06 weak.
COUNTY_PERF = {"C01": 0.035, "C02": 0.09, "C03": 0.0, "C04": -0.02, "C05": -0.05,
               "C06": -0.08, "C07": 0.04, "C08": -0.01, "C09": 0.01, "C10": -0.04}
COUNTY_SIZE = {"C01": 1.0, "C02": 1.25, "C03": 0.95, "C04": 0.85, "C05": 0.8, "C06": 0.7,
               "C07": 0.6, "C08": 0.55, "C09": 0.5, "C10": 0.45}
TOWNSHIP_PERF = (0.12, 0.02, 0.55, -0.06, 0.2, -0.3, 0.05, -0.12, 0.0, -0.18, 0.08, -0.04,
                 0.3, -0.22, 0.15)  # spread: completed … seriously behind
DEPT_PERF = tuple(float(np.linspace(-0.3, 0.45, 25)[(7 * i) % 25]) for i in range(25))

# --- indicators: mirrors the city's 目标考核指标体系 (points sum to 100) ------------------
# (id, name, uom, kind, measure, category, points, method, key, difficult, scope, parent,
#  curve, base, tg, profile, flags)   flags: g = growth_pct rows, 2 = two targets
#  (volume + growth), q = quarterly, r = ramps up over the year, i = integer counts.
# base: 2022 annual volume for 清河县 (cumulative) / level; tg: target growth (fraction,
# or pp for growth-rate indicators).
_C, _CT, _CTD, _CD = "county", "county;township", "county;township;department", "county;department"
INDICATORS = [
    ("I01", "地区生产总值增速", "%", "rate", "growth_pct", "经济发展", 6, "relative", 1, 0, _C, "", "linear", 0, 6.5, "", "q"),
    ("I02", "规上工业增加值增速", "%", "rate", "growth_pct", "重点产业", 6, "threshold_then_rank", 1, 1, _C, "", "linear", 0, 8.0, "", ""),
    ("I03", "固定资产投资", "亿元", "cumulative", "ytd", "重点项目", 7, "proportional", 1, 1, _CTD, "", "seasonal", 140, 0.065, "back", "g2"),
    ("I03a", "工业投资", "亿元", "cumulative", "ytd", "重点产业", 0, "proportional", 1, 0, _CT, "I03", "seasonal", 55, 0.10, "back", "g"),
    ("I03b", "重点项目投资", "亿元", "cumulative", "ytd", "重点项目", 0, "proportional", 1, 0, _C, "I03", "seasonal", 80, 0.08, "back", "g"),
    ("I04", "一般公共预算收入", "万元", "cumulative", "ytd", "经济发展", 6, "linear_band", 0, 1, _CTD, "", "seasonal", 92000, 0.05, "rev", "g2"),
    ("I04a", "税收收入", "万元", "cumulative", "ytd", "经济发展", 0, "linear_band", 0, 0, _CD, "I04", "seasonal", 62000, 0.05, "rev", "g"),
    ("I05", "社会消费品零售总额", "亿元", "cumulative", "ytd", "经济发展", 5, "proportional", 0, 0, _CD, "", "linear", 66, 0.06, "flat", "g2"),
    ("I06", "招商引资到位资金", "亿元", "cumulative", "ytd", "重点活动", 5, "rank", 1, 0, _CTD, "", "linear", 110, 0.08, "flat", ""),
    ("I07", "外贸进出口总额", "万美元", "cumulative", "ytd", "经济发展", 3, "efficacy", 0, 0, _CD, "", "linear", 42000, 0.07, "flat", "g"),
    ("I08", "实际利用外资", "万美元", "cumulative", "ytd", "经济发展", 3, "pass_fail", 0, 1, _CD, "", "linear", 3200, 0.05, "flat", ""),
    ("I09", "省重点项目完成投资", "亿元", "cumulative", "ytd", "重点项目", 5, "proportional", 1, 0, _CD, "", "plan:6=60;12=120", 30, 0.10, "proj", ""),
    ("I10", "市重点项目完成投资", "亿元", "cumulative", "ytd", "重点项目", 4, "proportional", 1, 0, _C, "", "plan:6=50;12=100", 22, 0.08, "proj", ""),
    ("I11", "新增规上工业企业", "个", "cumulative", "ytd", "重点产业", 3, "pass_fail", 1, 0, _CTD, "", "linear", 14, 0.0, "flat", "i"),
    ("I12", "规上工业总产值", "亿元", "cumulative", "ytd", "重点产业", 3, "static_dynamic", 1, 0, _CD, "", "linear", 260, 0.08, "flat", "g"),
    ("I13", "战略性新兴产业产值", "亿元", "cumulative", "ytd", "重点产业", 3, "efficacy", 1, 1, _C, "", "linear", 70, 0.12, "flat", ""),
    ("I14", "城镇居民人均可支配收入增速", "%", "rate", "growth_pct", "社会事业", 3, "relative", 0, 0, _C, "", "linear", 0, 6.0, "", ""),
    ("I15", "农村居民人均可支配收入增速", "%", "rate", "growth_pct", "社会事业", 3, "relative", 0, 0, _C, "", "linear", 0, 7.0, "", ""),
    ("I16", "城镇新增就业", "人", "cumulative", "ytd", "社会事业", 3, "pass_fail", 0, 0, _CTD, "", "linear", 4200, 0.02, "flat", "i"),
    ("I17", "单位GDP能耗", "千克标准煤/万元", "ceiling", "level", "生态环境", 3, "pass_fail", 0, 1, _CD, "", "linear", 480, -0.03, "", ""),
    ("I18", "PM2.5平均浓度", "微克/立方米", "ceiling", "level", "生态环境", 3, "linear_band", 0, 1, _CTD, "", "linear", 38, -0.03, "", ""),
    ("I19", "地表水考核断面达标率", "%", "rate", "level", "生态环境", 2, "pass_fail", 0, 0, _C, "", "linear", 90, 0, "", ""),
    ("I20", "安全生产事故死亡人数", "人", "ceiling", "ytd", "平安稳定", 3, "pass_fail", 0, 0, _CTD, "", "linear", 4, 0, "", "i"),
    ("I21", "重大安全事故", "起", "veto", "level", "平安稳定", 0, "pass_fail", 0, 0, _CTD, "", "linear", 0, 0, "", "i"),
    ("I22", "信访积案化解率", "%", "rate", "level", "平安稳定", 3, "rank", 0, 1, _CTD, "", "linear", 90, 0, "", "r"),
    ("I23", "粮食播种面积", "万亩", "cumulative", "ytd", "经济发展", 3, "pass_fail", 0, 0, _CTD, "", "seasonal", 52, 0.0, "grain", ""),
    ("I24", "高标准农田建设", "项", "milestone", "done", "重点项目", 2, "pass_fail", 0, 0, _CTD, "", "linear", 0, 0, "", "i"),
    ("I25", "造林绿化面积", "万亩", "cumulative", "ytd", "生态环境", 2, "proportional", 0, 0, _CD, "", "seasonal", 1.8, 0.0, "forest", ""),
    ("I26", "义务教育巩固率", "%", "rate", "level", "社会事业", 2, "threshold_then_rank", 0, 0, _CD, "", "linear", 98.5, 0, "", ""),
    ("I27", "旅游接待人次", "万人次", "cumulative", "ytd", "重点活动", 2, "rank", 1, 0, _CD, "", "seasonal", 480, 0.10, "tour", ""),
    ("I28", "基层党组织建设达标率", "%", "rate", "level", "党的建设", 2, "efficacy", 0, 0, _CTD, "", "linear", 95, 0, "", ""),
    ("I29", "党风廉政建设责任制落实", "项", "milestone", "done", "党的建设", 3, "pass_fail", 0, 0, _CTD, "", "linear", 0, 0, "", "i"),
    ("I30", "意识形态工作责任制落实", "项", "milestone", "done", "党的建设", 2, "pass_fail", 0, 0, _CTD, "", "linear", 0, 0, "", "i"),
]
# Which county departments carry a target on an indicator ("all" = every department).
DEPT_TARGETS = {"I03": ("D01",), "I04": ("D02",), "I04a": ("D18",), "I05": ("D04",),
                "I06": "all", "I07": ("D04",), "I08": ("D24",), "I09": ("D23", "D01"),
                "I11": ("D03",), "I12": ("D03",), "I16": ("D13",), "I17": ("D01",),
                "I18": ("D09",), "I20": ("D10",), "I21": "all", "I22": "all",
                "I23": ("D07",), "I24": ("D07",), "I25": ("D21",), "I26": ("D11",),
                "I27": ("D19",), "I28": "all", "I29": "all", "I30": "all"}
# Monthly weights (Jan..Dec): the share-of-annual curve of cumulative indicators.
PROFILES = {
    "flat": [0.8, 0.7, 1.0, 1.0, 1.0, 1.05, 1.0, 1.0, 1.05, 1.05, 1.1, 1.25],
    "back": [0.4, 0.5, 0.8, 0.9, 1.0, 1.3, 0.9, 0.95, 1.1, 1.1, 1.2, 1.85],
    "rev": [0.9, 0.6, 0.8, 0.9, 0.85, 1.0, 0.85, 0.8, 0.95, 0.95, 1.1, 1.7],
    "proj": [0.3, 0.4, 0.8, 1.0, 1.1, 1.4, 1.0, 1.0, 1.2, 1.1, 1.1, 1.5],
    "grain": [0, 0, 0.5, 2.5, 1.5, 0.5, 0.3, 0.05, 0.05, 1.5, 2.5, 0.7],
    "forest": [0.5, 1.5, 3.0, 2.5, 1.0, 0.3, 0.2, 0.2, 0.3, 0.8, 1.5, 1.0],
    "tour": [1.5, 1.8, 0.8, 1.0, 1.3, 0.9, 1.2, 1.3, 0.8, 1.5, 0.7, 0.6],
}

# --- deliberate problems in the 2026 files (what quality checks must find) --------------
DEMO_FAULTS = [
    {"kind": "missing_report", "unit_id": "T11", "indicator_id": "I04", "period": 9,
     "note": "金鸡镇 has a 2026 target on 一般公共预算收入 but no value (ytd nor growth) at 1-9月"},
    {"kind": "missing_report", "unit_id": "C08", "indicator_id": "I06", "period": 9,
     "note": "柏溪县 reported no 招商引资到位资金 at 1-9月"},
    {"kind": "cumulative_decrease", "unit_id": "T07", "indicator_id": "I03", "period": 8,
     "note": "龙潭镇 固定资产投资 1-8月 ytd is 4% below 1-7月"},
    {"kind": "quarter_end_spike", "unit_id": "T09", "indicator_id": "I06", "period": 9,
     "note": "梅岭乡 招商引资到位资金: the September increment is 5x the median of months 3-8"},
    {"kind": "equals_target", "unit_id": "T03", "indicator_id": "I06", "period": 9,
     "note": "杏花乡 招商引资到位资金 1-9月 ytd exactly equals its annual target"},
]
# Revision upload (observations_2026_rev.csv): ytd re-stated for an earlier month.
DEMO_REVISIONS = [
    {"unit_id": "C01", "indicator_id": "I06", "period": 8, "direction": "up"},
    {"unit_id": "C03", "indicator_id": "I13", "period": 7, "direction": "up"},
    {"unit_id": "T02", "indicator_id": "I06", "period": 6, "direction": "up"},
    {"unit_id": "D23", "indicator_id": "I09", "period": 8, "direction": "up"},
    {"unit_id": "C06", "indicator_id": "I10", "period": 5, "direction": "down"},
]
DEMO_NO_TARGET = {"year": 2026, "unit_id": "T14", "indicator_id": "I11"}  # values, no target
MISSING = {(DEMO_YEAR, f["period"], f["unit_id"], f["indicator_id"])
           for f in DEMO_FAULTS if f["kind"] == "missing_report"}


@dataclass(frozen=True)
class DemoCounts:
    """Sizes of the demo world."""
    counties: int = len(COUNTIES)
    townships: int = len(TOWNSHIPS)
    departments: int = len(DEPARTMENTS)
    indicators: int = len(INDICATORS)
    city_assessed: int = sum(1 for r in INDICATORS if not r[11])
    projects: int = 12
    years: tuple = YEARS


DEMO_COUNTS = DemoCounts()


def fmt(x: float | None, nd: int = 2) -> str:
    """Fixed-point text, never scientific, never '-0.00'; None → ''."""
    if x is None:
        return ""
    v = round(float(x), nd)
    return format(0.0 if v == 0 else v, f".{nd}f")


def _write(path: Path, header: list[str], rows: list[list]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return path


def _units() -> list[tuple]:
    """(unit_id, name, level, parent_id, peer_group, is_home, perf, size)."""
    out = [("QC", "青川市", "city", "", "", 0, 0.0, 0.0)]
    out += [(u, n, "county", "QC", g, int(u == HOME_UNIT), COUNTY_PERF[u], COUNTY_SIZE[u])
            for u, n, g in COUNTIES]
    out += [(f"T{i + 1:02d}", n, "township", HOME_UNIT, "乡镇", 0, TOWNSHIP_PERF[i], 0.0)
            for i, n in enumerate(TOWNSHIPS)]
    out += [(f"D{i + 1:02d}", n, "department", HOME_UNIT, "县直部门", 0, DEPT_PERF[i], 0.0)
            for i, n in enumerate(DEPARTMENTS)]
    return out


def _assigned(unit: tuple, ind: tuple) -> bool:
    uid, level = unit[0], unit[2]
    if level not in ind[10].split(";"):
        return False
    if level == "department":
        d = DEPT_TARGETS.get(ind[0], ())
        return d == "all" or uid in d
    return True


def _cumshare(rng, profile: str, sd: float = 0.08) -> np.ndarray:
    w = np.asarray(PROFILES[profile]) * np.exp(rng.normal(0, sd, 12))
    return np.cumsum(w) / w.sum()


def _plan_end(curve: str) -> float:
    """Year-end requirement as a fraction of the target: 'plan:6=60;12=120' → 1.2."""
    if not curve.startswith("plan:"):
        return 1.0
    pts = dict(p.split("=") for p in curve[5:].split(";"))
    return float(pts.get("12", 100)) / 100


def _periods(year: int) -> range:
    return range(2, (DEMO_PERIOD if year == DEMO_YEAR else 12) + 1)


def _simulate(rng, units, ind) -> tuple[dict, dict]:
    """Series for one indicator: targets {(year, uid, measure): value},
    values {(uid, measure): {year: array of 12 (index m-1)}} (ytd arrays for 2022..2026)."""
    iid, _, _, kind, measure, *_ = ind
    curve, base, tg, profile, flags = ind[12], ind[13], ind[14], ind[15], ind[16]
    integer = "i" in flags
    nd = 0 if integer else 2
    targets, values = {}, {}
    for u in units:
        uid, level, perf26 = u[0], u[2], u[6]
        if not _assigned(u, ind):
            continue
        lead = level == "department" and DEPT_TARGETS.get(iid) != "all"
        size = {"county": u[7], "township": rng.uniform(0.03, 0.12),
                "department": rng.uniform(0.85, 1.0) if lead else rng.uniform(0.01, 0.05)}[level]
        noise_sd = 0.025 if level == "county" else 0.05
        perf = {y: (0.4 * perf26 + rng.normal(0, 0.015)) if y < DEMO_YEAR else perf26
                for y in YEARS}
        series: dict[int, np.ndarray] = {}
        if kind == "cumulative" or (kind == "ceiling" and measure == "ytd"):
            if kind == "ceiling":  # deaths: Poisson counts against a maximum
                for y in YEARS:
                    t = max(1, round(base * size)) if level != "township" else 1
                    targets[(y, uid, "ytd")] = float(t)
                    lam = t * 0.85 * max(0.2, 1 - perf[y]) / 12
                    series[y] = np.cumsum(rng.poisson(lam, 12)).astype(float)
            else:
                end = _plan_end(curve)
                a = base * size * np.exp(rng.normal(0, 0.1))
                series[2022] = np.round(a * _cumshare(rng, profile), nd)
                for y in YEARS:
                    t = a * (1 + tg) * (1 + rng.normal(0, 0.01)) / end
                    t = max(1.0, round(t)) if integer else round(t, 2)
                    targets[(y, uid, "ytd")] = t
                    if "2" in flags and level == "county":
                        targets[(y, uid, "growth_pct")] = round(tg * 100, 1)
                    a = t * end * (1 + perf[y] + rng.normal(0, noise_sd))
                    series[y] = np.round(a * _cumshare(rng, profile), nd)
            values[(uid, "ytd")] = series
        elif kind == "rate" and measure == "growth_pct":
            adj = round(rng.normal(0, 0.3), 1)
            for y in YEARS:
                tgt = round(tg + adj, 1)
                targets[(y, uid, "growth_pct")] = tgt
                r = tgt + perf[y] * 25 + rng.normal(0, 0.4)
                m = np.arange(1, 13)
                series[y] = np.round(r + rng.normal(0, 0.6, 12) * (12 - m) / 10, 1)
            values[(uid, "growth_pct")] = series
        elif measure == "level" and kind in ("rate", "ceiling"):
            lvl = base * (np.exp(rng.normal(0, 0.08)) if kind == "ceiling" else 1.0)
            for y in YEARS:
                m = np.arange(1, 13)
                if kind == "ceiling":  # lower is better; target = last year's level − 3 %
                    t = round(lvl * (1 + tg), 2)
                    lvl = t * (1 - perf[y] * 0.35 + rng.normal(0, 0.02))
                    f = 1 + (0.35 if iid == "I18" else 0.0) * np.cos(2 * np.pi * (m - 1) / 12)
                    monthly = lvl * f / f.mean() * (1 + rng.normal(0, 0.02, 12))
                    series[y] = np.round(np.cumsum(monthly) / m, 2)  # running average
                else:
                    t = base
                    top = min(100.0, t + perf[y] * (40 if "r" in flags else 15)
                              + rng.normal(0, 0.8))
                    ramp = (0.5 + 0.5 * m / 12) if "r" in flags else 1.0
                    series[y] = np.round(np.minimum(100, top * ramp + rng.normal(0, 0.2, 12)), 2)
                targets[(y, uid, "level")] = t
            values[(uid, "level")] = series
        elif kind == "milestone":
            for y in YEARS:
                targets[(y, uid, "done")] = 1.0
                due = int(np.clip(round(9 - perf[y] * 10 + rng.normal(0, 1.5)), 3, 14))
                series[y] = (np.arange(1, 13) >= due).astype(float)
            values[(uid, "done")] = series
        else:  # veto: count of major accidents, target 0
            for y in YEARS:
                targets[(y, uid, "level")] = 0.0
                series[y] = np.zeros(12)
            values[(uid, "level")] = series
    return targets, values


def _apply_faults(values: dict, targets: dict) -> None:
    """Inject DEMO_FAULTS (b)–(d) into the 2026 ytd arrays; (a) is applied on writing."""
    for f in DEMO_FAULTS:
        s = values[f["indicator_id"]][(f["unit_id"], "ytd")][DEMO_YEAR]
        p = f["period"] - 1  # array index of the period
        if f["kind"] == "cumulative_decrease":
            s[p] = round(s[p - 1] * 0.96, 2)
        elif f["kind"] == "quarter_end_spike":
            usual = float(np.median(np.diff(s[1:p])))
            s[p] = round(s[p - 1] + 5 * usual, 2)
        elif f["kind"] == "equals_target":
            t = targets[f["indicator_id"]][(DEMO_YEAR, f["unit_id"], "ytd")]
            s[:p] = np.minimum(s[:p], t)
            s[p] = t


def build_demo(out_dir: Path, seed: int = DEMO_SEED) -> list[Path]:
    """Write the demo files into out_dir; return the paths in the order they must be ingested."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    units = _units()
    name = {u[0]: u[1] for u in units}
    targets, values = {}, {}
    for ind in INDICATORS:
        targets[ind[0]], values[ind[0]] = _simulate(rng, units, ind)
    _apply_faults(values, targets)
    del targets["I11"][(DEMO_YEAR, DEMO_NO_TARGET["unit_id"], "ytd")]
    paths = [_write(out_dir / "units.csv", ["unit_id", "name", "level", "parent_id",
                                            "peer_group", "is_home"],
                    [list(u[:6]) for u in units])]
    paths.append(_write(out_dir / "indicators.csv",
                        ["indicator_id", "name", "unit_of_measure", "kind", "direction",
                         "category", "points", "scoring_method", "is_key", "is_difficult",
                         "scope", "parent_id", "curve"],
                        [[r[0], r[1], r[2], r[3], -1 if r[3] == "ceiling" else 1, r[5], r[6],
                          r[7], r[8], r[9], r[10], r[11], r[12]] for r in INDICATORS]))
    paths.append(_write(out_dir / "owners.csv", ["indicator_id", "unit_id", "owner_leader",
                                                 "owner_staff", "owner_office", "valid_from"],
                        _owners(name)))

    def uom(ind, measure):
        return "%" if measure == "growth_pct" else ind[2]

    for y in YEARS:
        rows = [[y, "", name[uid], ind[1], uom(ind, ms), ms, fmt(t, 0 if "i" in ind[16] else 2), ""]
                for ind in INDICATORS for (yy, uid, ms), t in targets[ind[0]].items() if yy == y]
        paths.append(_write(out_dir / f"targets_{y}.csv", LONG_HEADER, rows))
    for y in YEARS:
        rows = []
        for m in _periods(y):
            for u in units:
                for ind in INDICATORS:
                    if ("q" in ind[16] and m % 3) or (y, m, u[0], ind[0]) in MISSING:
                        continue
                    nd = 0 if "i" in ind[16] else (1 if ind[4] == "growth_pct" else 2)
                    for (uid, ms), s in values[ind[0]].items():
                        if uid != u[0]:
                            continue
                        rows.append([y, m, u[1], ind[1], uom(ind, ms), ms, "", fmt(s[y][m - 1], nd)])
                        if "g" in ind[16] and ms == "ytd" and s[y - 1][m - 1] > 0:
                            g = (round(s[y][m - 1], 2) / round(s[y - 1][m - 1], 2) - 1) * 100
                            rows.append([y, m, u[1], ind[1], "%", "growth_pct", "", fmt(g)])
        paths.append(_write(out_dir / f"observations_{y}.csv", LONG_HEADER, rows))
    ind_by = {r[0]: r for r in INDICATORS}
    rev = []
    for r in DEMO_REVISIONS:
        s = values[r["indicator_id"]][(r["unit_id"], "ytd")][DEMO_YEAR]
        p = r["period"] - 1
        v = s[p] + 0.4 * (s[p + 1] - s[p]) if r["direction"] == "up" else s[p] - 0.4 * (s[p] - s[p - 1])
        ind = ind_by[r["indicator_id"]]
        rev.append([DEMO_YEAR, r["period"], name[r["unit_id"]], ind[1], ind[2], "ytd", "", fmt(v)])
    paths.append(_write(out_dir / "observations_2026_rev.csv", LONG_HEADER, rev))
    paths.append(_write(out_dir / "adjustments_2026.csv", ["year", "unit_id", "kind", "level",
                        "item", "points", "reason", "charged_to"], ADJUSTMENTS))
    projects, progress = _projects(rng)
    paths.append(_write(out_dir / "projects_2026.csv", ["project_id", "name", "category",
                        "unit_id", "leader", "plan_investment", "year", "plan_start"], projects))
    paths.append(_write(out_dir / "project_progress_2026.csv", ["project_id", "year", "period",
                        "completed", "milestone", "started"], progress))
    return paths


# --- owners: 分管领导 / 经办人员 / 办事机构 of 清河县's indicators, with a mid-year change ----
LEADERS = {"经济发展": "刘常务副县长", "重点项目": "王副县长", "重点产业": "陈副县长",
           "重点活动": "王副县长", "社会事业": "赵副县长", "生态环境": "孙副县长",
           "平安稳定": "周副县长", "党的建设": "吴副书记"}
OFFICES = {"经济发展": "D01", "重点项目": "D01", "重点产业": "D03", "重点活动": "D24",
           "社会事业": "D13", "生态环境": "D09", "平安稳定": "D10", "党的建设": "D14"}
STAFF = "张明 李娜 王磊 刘洋 陈静 杨帆 赵倩 黄强 周婷 吴昊 徐丽 孙鹏 马骁 朱琳 胡斌".split()
OWNER_CHANGES = [("I03", "陈副县长", "郑凯", "2026-07-01"), ("I06", "王副县长", "何悦", "2026-07-01")]


def _owners(name: dict) -> list[list]:
    rows = []
    for i, r in enumerate(INDICATORS):
        d = DEPT_TARGETS.get(r[0])
        office = d[0] if d and d != "all" else OFFICES[r[5]]
        rows.append([r[0], HOME_UNIT, LEADERS[r[5]], STAFF[i % len(STAFF)], name[office], "2023-01-01"])
        for iid, leader, staff, since in OWNER_CHANGES:
            if iid == r[0]:
                rows.append([iid, HOME_UNIT, leader, staff, name[office], since])
    return rows


# --- adjustments: 加分 (honours), 减分, 约谈, city deductions charged to a department ------
# points are positive magnitudes; the kind gives the sign (honour adds, the others subtract).
ADJUSTMENTS = [
    [2026, "C01", "honour", "provincial", "招商引资到位资金", "1.0", "全省招商引资工作先进县", ""],
    [2026, "C01", "honour", "city", "招商引资到位资金", "0.5", "全市招商引资考核优秀", ""],
    [2026, "C02", "honour", "national", "规上工业增加值增速", "2.0", "全国工业强县示范（虚构）", ""],
    [2026, "C03", "honour", "provincial", "城镇新增就业", "1.0", "全省就业工作先进县", ""],
    [2026, "C04", "honour", "city", "基层党组织建设达标率", "0.5", "全市基层党建示范县", ""],
    [2026, "C01", "deduction", "", "安全生产事故死亡人数", "0.5", "发生一起较大生产安全事故", ""],
    [2026, "C05", "deduction", "", "信访积案化解率", "1.0", "越级上访批次超标", ""],
    [2026, "C01", "interview", "", "固定资产投资", "0.5", "5月因投资进度滞后被市政府约谈（月度）", ""],
    [2026, "C06", "interview", "", "一般公共预算收入", "1.0", "一季度收入进度滞后约谈（季度）", ""],
    [2026, "C01", "city_deduction", "", "安全生产事故死亡人数", "0.3", "市安委会通报扣分", "D10"],
    [2026, "C01", "city_deduction", "", "信访积案化解率", "0.2", "信访积案化解不力", "D25"],
    [2026, "C01", "city_deduction", "", "外贸进出口总额", "0.1", "数据报送迟报", "D04"],
]

# --- key-project ledger (mirrors key_projects_ledger sample): 万元, cumulative -----------
PROJECTS = [("P01", "清河经开区标准化厂房四期", "省重点", "D23", "王副县长", 32000, "2025-11"),
            ("P02", "国道改线清河段二期", "省重点", "D06", "王副县长", 45000, "2026-02"),
            ("P03", "清河抽水蓄能前期工程", "省重点", "D20", "孙副县长", 28000, "2026-04"),
            ("P04", "新能源电池材料产业园", "省重点", "D03", "陈副县长", 60000, "2026-03"),
            ("P05", "县城污水处理厂提标扩建", "市重点", "D05", "李副县长", 18500, "2026-03"),
            ("P06", "县人民医院综合楼", "市重点", "D12", "赵副县长", 21000, "2025-12"),
            ("P07", "柳岸冷链物流中心", "市重点", "T01", "陈副县长", 12000, "2026-05"),
            ("P08", "城南片区老旧小区改造", "市重点", "D05", "李副县长", 9800, "2026-04"),
            ("P09", "杏花农旅融合示范园", "县重点", "T03", "赵副县长", 6000, "2026-06"),
            ("P10", "县职教中心实训楼", "县重点", "D11", "赵副县长", 7500, "2026-03"),
            ("P11", "智慧城管平台", "县重点", "D22", "李副县长", 3200, "2026-05"),
            ("P12", "石桥农产品加工园道路", "县重点", "T02", "王副县长", 4500, "2026-10")]
STAGES = [(0.15, "开工建设"), (0.4, "基础施工"), (0.7, "主体施工"), (0.9, "设备安装"),
          (9.9, "主体完工")]


def _projects(rng) -> tuple[list, list]:
    projects, progress = [], []
    for pid, pname, cat, uid, leader, plan, start in PROJECTS:
        projects.append([pid, pname, cat, uid, leader, fmt(plan), DEMO_YEAR, start])
        s_year, s_month = map(int, start.split("-"))
        first = 1 if s_year < DEMO_YEAR else s_month
        share = _cumshare(rng, "proj", 0.15)
        pace = plan * rng.uniform(0.8, 1.25)
        for m in range(2, DEMO_PERIOD + 1):
            if m < first:
                progress.append([pid, DEMO_YEAR, m, "", "前期手续办理", 0])
                continue
            done = pace * (share[m - 1] - (share[first - 2] if first > 1 else 0))
            stage = next(t for lim, t in STAGES if done / plan < lim)
            progress.append([pid, DEMO_YEAR, m, fmt(done), stage, 1])
    return projects, progress


# --- benchmark data ------------------------------------------------------------------
def generate_reference(out_dir: Path, n_units: int, n_indicators: int) -> list[Path]:
    """Write units.csv/indicators.csv matching generate_long_csv (测试县NNNN, 测试指标NNN)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    units = [["QC", "青川市", "city", "", "", 0]] + [
        [f"U{i:05d}", f"测试县{i:05d}", "county", "QC", "一类" if i % 2 else "二类", int(i == 1)]
        for i in range(1, n_units + 1)]
    pts = fmt(100 / max(n_indicators, 1))
    inds = [[f"B{j:04d}", f"测试指标{j:04d}", "亿元", "cumulative", 1, "经济发展", pts,
             "proportional", 0, 0, "county", "", "linear"] for j in range(1, n_indicators + 1)]
    return [_write(out_dir / "units.csv", ["unit_id", "name", "level", "parent_id",
                                           "peer_group", "is_home"], units),
            _write(out_dir / "indicators.csv", ["indicator_id", "name", "unit_of_measure",
                   "kind", "direction", "category", "points", "scoring_method", "is_key",
                   "is_difficult", "scope", "parent_id", "curve"], inds)]


def generate_long_csv(path: Path, n_units: int, n_indicators: int, n_months: int,
                      year: int = 2026, encoding="utf-8", seed=1,
                      with_targets: bool = False) -> int:
    """Write a big synthetic long-layout observations CSV (periods 2..n_months+1, at most
    11 months; ytd rows), optionally preceded by one target row per unit × indicator.
    Names match generate_reference. Returns the number of data rows written."""
    import pandas as pd

    n_months = min(n_months, 11)
    rng = np.random.default_rng(seed)
    annual = np.round(rng.uniform(10, 500, (n_units, n_indicators)), 2)
    w = rng.uniform(0.6, 1.4, (n_units, n_indicators, 12))
    share = np.cumsum(w, axis=2) / w.sum(axis=2, keepdims=True)
    periods = np.arange(2, n_months + 2)
    ytd = np.round(annual[:, :, None] * share[:, :, periods - 1], 2)
    uname = np.array([f"测试县{i:05d}" for i in range(1, n_units + 1)], dtype=object)
    iname = np.array([f"测试指标{j:04d}" for j in range(1, n_indicators + 1)], dtype=object)
    uu, ii, pp = np.meshgrid(np.arange(n_units), np.arange(n_indicators), periods, indexing="ij")
    frames = []
    if with_targets:
        tu, ti = np.meshgrid(np.arange(n_units), np.arange(n_indicators), indexing="ij")
        frames.append(pd.DataFrame({"年份": year, "期间": "", "单位": uname[tu.ravel()],
                                    "指标": iname[ti.ravel()], "计量单位": "亿元", "口径": "ytd",
                                    "目标值": [fmt(x) for x in annual.ravel() * 1.05], "数值": ""}))
    frames.append(pd.DataFrame({"年份": year, "期间": pp.ravel().astype(str),
                                "单位": uname[uu.ravel()], "指标": iname[ii.ravel()],
                                "计量单位": "亿元", "口径": "ytd", "目标值": "",
                                "数值": np.char.mod("%.2f", ytd.ravel())}))
    df = pd.concat(frames, ignore_index=True)
    df.to_csv(path, index=False, encoding=encoding, lineterminator="\n")
    return len(df)
