"""定期通报: the periodic bulletin an office sends out as is — a Word document, an Excel
workbook and the per-department early-warning notices (预警通知单).

:func:`produce` is the one call: for a year and period it collects the numbers
(:func:`collect` → :class:`Bulletin`) and writes them (:func:`to_docx`, :func:`to_xlsx`,
:func:`notices_docx`). Every number comes from the analytics functions the pages use:

- counts, arrears, behind-schedule targets, key items, warnings — ``progress.gap_table``,
  ``progress.summary``, ``progress.warnings`` on our own county's rows (``is_home``);
- township and department scores and ranks — ``simulation.standing(…, "county")``;
- consequence-rule risks — ``scoring.consequences`` (+ P(整改承诺) from ``simulation.county_risk``);
- projected city rank and P(top 2) — ``simulation.standing(…, "city", projected=True)`` and
  ``simulation.simulate`` (fixed seed, the same draws as the 保二争一 page);
- open data-quality flags — ``quality.check`` (unverified flags of the period).

A module or function that is missing or fails leaves its section saying “（暂无此项数据）”
with the reason; nothing is made up. Charts are plotly figures exported with kaleido in
one batch, in a child process with a timeout; without a renderer the document is still
produced, with tables only, and says so.

Word: A4 with the margins of official documents (GB/T 9704: 37/35/28/26 mm), 仿宋 body,
黑体 headings, 宋体 tables and title — ``w:eastAsia`` set and theme fonts removed so Word/WPS
use them — and the page number (a PAGE field) centred in the footer as “— 1 —”. An office's
own reference .docx can be the template (its styles and page set-up are kept).
Excel: one sheet per table, units in the headers, a frozen header, number formats, status
colours as in the app; every text cell neutralised against formula injection
(``exports.safe_frame``).
"""
from __future__ import annotations

import copy
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from . import exports, progress

PathLike = str | os.PathLike | None

# Status colours of the app (ui/text.py STATUS_COLORS / STATUS_TEXT_COLORS; a test keeps them equal).
STATUS_COLORS = {"done": "#1b5e20", "ahead": "#2e7d32", "on_track": "#66bb6a", "behind": "#ef8f00",
                 "far_behind": "#c62828", "missing": "#9e9e9e", "excluded": "#cfd8dc"}
STATUS_TEXT_COLORS = {"done": "#ffffff", "ahead": "#ffffff", "on_track": "#0b3d0b", "behind": "#1a1a1a",
                      "far_behind": "#ffffff", "missing": "#1a1a1a", "excluded": "#37474f"}

NO_DATA = "（暂无此项数据）"
KEY_CATEGORIES = ("重点产业", "重点项目", "重点活动")
BEHIND = ("behind", "far_behind")
SECTIONS = {
    "arrears": "欠账目标",
    "key": "重点产业、重点项目、重点活动",
    "city": "全市同组排名预测（保二争一）",
    "scores": "乡镇、县直部门考核得分与排名",
    "warnings": "早报告、早预警",
    "quality": "待核实的数据质量问题",
    "risks": "考核后果风险",
}
CHART_TIMEOUT = 120.0  # seconds for the whole batch (first Chromium start included)
BODY_FONT, HEADING_FONT, TABLE_FONT, TITLE_FONT = "仿宋", "黑体", "宋体", "宋体"
CHART_FONT = "Noto Sans CJK SC, Microsoft YaHei, SimHei, sans-serif"


def period_label(period: int | None) -> str:
    """9 → '1-9月'; 2 → '1-2月'; 1 → '1月' (as ui.text.period_label)."""
    if not period:
        return "全年"
    return "1月" if period == 1 else f"1-{period}月"


def title_of(year: int, period: int) -> str:
    return f"关于{year}年{period_label(period)}目标任务完成情况的通报"


def cn_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


# ------------------------------------------------------------------ the collected bulletin

@dataclass
class Column:
    """One column of a table: source field, header (with its unit), format.

    fmt: text | pct (a percentage number, 2 dp) | pp (signed, 2 dp) | num (2 dp, thousands) |
    int | prob (a fraction shown as %) | status (the status word, coloured by ``status_code``)."""

    key: str
    header: str
    fmt: str = "text"
    width: float = 1.0          # relative width in the Word table
    docx: bool = True           # shown in the Word table (the workbook has every column)


@dataclass
class Section:
    key: str
    title: str
    columns: list[Column]
    frame: pd.DataFrame = field(default_factory=pd.DataFrame)
    intro: str = ""
    note: str = ""
    missing: str | None = None   # why the data is unavailable (the section then says NO_DATA)


@dataclass
class Bulletin:
    year: int
    period: int
    unit_id: str | None
    unit_name: str
    issuer: str
    issued: date
    title: str
    summary: str
    counts: dict
    arrears_by_uom: dict
    city: dict | None
    sections: list[Section]
    charts: list[tuple[str, str]]     # (caption, plotly figure JSON)
    behind: pd.DataFrame              # our behind-schedule targets (for the 预警通知单)
    notes: list[str] = field(default_factory=list)

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)


@dataclass
class Output:
    bulletin: Bulletin
    docx: bytes
    xlsx: bytes
    notices: bytes
    charts_rendered: bool


def _fmt(value, fmt: str) -> str:
    """A cell as the Word table shows it (— for no value; numbers rounded for display only)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "—"
    if fmt == "text" or fmt == "status":
        return str(value)
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if np.isnan(v):
        return "—"
    if fmt == "pct":
        return f"{v:,.2f}"
    if fmt == "pp":
        return f"{v:+.2f}"
    if fmt == "num":
        return f"{v:,.2f}"
    if fmt == "int":
        return f"{int(round(v))}"
    if fmt == "prob":
        return ">99.9" if 0.999 < v < 1 else "<0.1" if 0 < v < 0.001 else f"{v * 100:.1f}"
    return str(value)


def fmt_cell(value, fmt: str) -> str:
    """Public: how a value appears in the Word tables (tests compare against it)."""
    return _fmt(value, fmt)


def _amount_text(v, uom) -> str:
    return "—" if pd.isna(v) else f"{v:,.2f}{uom or ''}"


GAP_COLUMNS = {
    "indicator": Column("indicator", "指标", width=2.2),
    "category": Column("category", "类别", width=1.3),
    "unit_of_measure": Column("unit_of_measure", "计量单位", width=1.0, docx=False),
    "target": Column("target", "全年目标（按计量单位）", "num", docx=False),
    "ytd": Column("ytd", "1-N月累计/实际（按计量单位）", "num", docx=False),
    "completion": Column("completion", "完成率（%）", "pct", 1.2),
    "time_progress": Column("time_progress", "时间进度（%）", "pct", 1.2),
    "gap_pp": Column("gap_pp", "差距（百分点）", "pp", 1.05),
    "arrears": Column("arrears", "欠账（按计量单位）", "num", docx=False),
    "arrears_text": Column("arrears_text", "欠账", width=1.3),
    "required_pace": Column("required_pace", "剩余月均需完成（按计量单位）", "num", docx=False),
    "status": Column("status", "状态", "status", 1.3),
    "conditions": Column("conditions", "未达条件", docx=False),
    "yoy_pct": Column("yoy_pct", "同比（%）", "pp", 1.15),
    "owner_leader": Column("owner_leader", "分管领导", width=1.2),
    "owner_office": Column("owner_office", "责任单位", width=1.3),
    "reason": Column("reason", "预警原因", width=2.6),
}


def _gap_cols(*keys: str, docx_override: dict | None = None) -> list[Column]:
    out = []
    for k in keys:
        c = copy.copy(GAP_COLUMNS[k])
        if docx_override and k in docx_override:
            c.docx = docx_override[k]
        out.append(c)
    return out


def _guard(section: Section, fn) -> Section:
    """Fill a section from ``fn()`` → frame; a missing module/function or an error → NO_DATA
    with the reason (never made-up numbers)."""
    try:
        section.frame = fn()
    except Exception as e:  # noqa: BLE001 — any failure degrades to a stated gap
        section.missing = f"{type(e).__name__}: {e}"[:300]
        section.frame = pd.DataFrame(columns=[c.key for c in section.columns])
    return section


def _module(name: str):
    import importlib
    return importlib.import_module(f"analytics.{name}")


def _home(table: pd.DataFrame, path: PathLike) -> tuple[str | None, str, str | None]:
    home = table[table.is_home.astype(bool)] if "is_home" in table else table.iloc[0:0]
    if home.empty:
        from . import db
        units = db.query("SELECT unit_id, name, peer_group FROM units WHERE is_home", None, path)
        if units.empty:
            return None, "本县", None
        return str(units.unit_id.iloc[0]), str(units.name.iloc[0]), units.peer_group.iloc[0]
    return str(home.unit_id.iloc[0]), str(home.unit.iloc[0]), home.peer_group.iloc[0]


def _order(frame: pd.DataFrame) -> pd.DataFrame:
    order = {c: i for i, c in enumerate(progress.STATUS_ORDER)}
    return frame.assign(_o=frame.status_code.map(order)).sort_values(["_o", "gap_pp"]).drop(columns="_o")


def collect(year: int, period: int, path: PathLike = None, sections: Iterable[str] | None = None,
            charts: bool = True, issuer: str | None = None, issued: date | None = None,
            draws: int | None = None, seed: int | None = None) -> Bulletin:
    """Everything the bulletin says, as data (no document yet). ``sections``: keys of
    :data:`SECTIONS` to include (default all); ``draws``/``seed`` for the rank simulation
    (default: the simulation module's, as on the 保二争一 page)."""
    wanted = list(SECTIONS) if sections is None else [s for s in SECTIONS if s in set(sections)]
    unknown = set(sections or []) - set(SECTIONS)
    if unknown:
        raise ValueError(f"未知的通报栏目：{'、'.join(sorted(unknown))}")
    table = progress.gap_table(year, period, path)
    unit_id, unit_name, peer_group = _home(table, path)
    ours = table[table.unit_id == unit_id].copy() if unit_id else table.iloc[0:0].copy()
    ours["arrears_text"] = [_amount_text(a if k == "cumulative" else np.nan, u)
                            for a, k, u in zip(ours.arrears, ours.kind, ours.unit_of_measure)]
    counts = progress.summary(ours) if len(ours) else {"targets": 0, **{c: 0 for c in progress.STATUS if c != "excluded"},
                                                       "excluded": 0}
    owing = ours[(ours.arrears > 0) & ours.arrears.notna()]
    arrears_by_uom = {str(u): float(v) for u, v in owing.groupby("unit_of_measure", sort=False).arrears.sum().items()}
    behind = _order(ours[ours.status_code.isin(BEHIND)])
    notes: list[str] = []
    cache: dict = {}

    def standing(level: str, projected: bool):
        """simulation.standing, computed once per level/basis for the whole bulletin."""
        if (level, projected) not in cache:
            cache[level, projected] = _module("simulation").standing(year, period, level, projected, path)
        return cache[level, projected]

    # projected city rank and P(top 2)
    city = None
    city_reason = None
    if unit_id:  # the summary sentence states it whenever it is available
        try:
            sim_mod = _module("simulation")
            kw = {}
            if draws is not None:
                kw["draws"] = draws
            if seed is not None:
                kw["seed"] = seed
            doc = sim_mod.simulate(year, period, path=path, **kw)
            projected = standing("city", True)
            current = standing("city", False)
            pu = projected.units.set_index("unit_id")
            cu = current.units.set_index("unit_id")
            peers = pd.DataFrame(doc["peers"])
            peers["current_total"] = peers.unit_id.map(cu.total)
            peers["current_rank"] = peers.unit_id.map(cu["rank"])
            peers["projected_total"] = peers.unit_id.map(pu.total)
            peers["projected_rank"] = peers.unit_id.map(pu["rank"])
            me = pu.loc[unit_id] if unit_id in pu.index else None
            city = {"p_top2": float(doc["p_top2"]), "p_first": float(doc["p_first"]),
                    "expected_rank": float(doc["expected_rank"]), "draws": int(doc["draws"]), "seed": doc["seed"],
                    "projected_rank": None if me is None or pd.isna(me["rank"]) else int(me["rank"]),
                    "group": None if me is None else str(me.peer_group), "group_size": len(peers),
                    "peers": peers.sort_values("expected_rank").reset_index(drop=True)}
        except Exception as e:  # noqa: BLE001
            city_reason = f"{type(e).__name__}: {e}"[:300]
            notes.append(f"全市排名预测未能计算：{city_reason}")

    summary = summary_text(year, period, unit_name, counts, arrears_by_uom, city)
    out: list[Section] = []
    for key in wanted:
        title = SECTIONS[key]
        if key == "arrears":
            s = Section(key, title, _gap_cols("indicator", "unit_of_measure", "target", "ytd", "completion",
                                              "time_progress", "gap_pp", "arrears", "arrears_text", "required_pace",
                                              "status", "conditions", "owner_leader", "owner_office"),
                        intro=f"截至{period_label(period)}，以下{len(behind)}项目标任务进度落后于时间进度"
                              "（含严重滞后），按差距从大到小排列。欠账 = 全年目标 × 时间进度 − 累计完成（累计类）。")
            out.append(_guard(s, lambda: behind))
        elif key == "key":
            s = Section(key, title, _gap_cols("indicator", "category", "unit_of_measure", "target", "ytd",
                                              "completion", "time_progress", "gap_pp", "status", "yoy_pct",
                                              "owner_office"))

            def key_rows():
                k = ours[ours.category.isin(KEY_CATEGORIES)]
                return k.sort_values(["category", "gap_pp"]) if len(k) else ours[ours.is_key.astype(bool)]
            out.append(_guard(s, key_rows))
        elif key == "city":
            s = Section(key, title, [
                Column("unit", "单位", width=1.4), Column("current_total", "现状得分（分）", "num"),
                Column("current_rank", "现状名次", "int", 0.8), Column("projected_total", "预计年末得分（分）", "num"),
                Column("projected_rank", "预计年末名次", "int", 0.9), Column("expected_rank", "期望名次", "num", 0.8),
                Column("p_first", "P(第一)（%）", "prob", 0.9), Column("p_top2", "P(前二)（%）", "prob", 0.9)])
            if city is None:
                s.missing = city_reason or "本县未设定"
                s.frame = pd.DataFrame(columns=[c.key for c in s.columns])
            else:
                s.frame = city["peers"]
                s.note = (f"概率来自 {city['draws']:,} 次蒙特卡洛模拟（固定随机种子 {city['seed']}），"
                          "现状得分按 1-N月累计对比按时间折算的目标计分，预计年末得分按年末预测值计分。")
            out.append(s)
        elif key == "scores":
            s = Section(key, title, [Column("peer_group", "组别", width=0.9), Column("name", "单位", width=1.4),
                                     Column("total", "得分（分）", "num", 0.9), Column("rank", "名次", "int", 0.7),
                                     Column("group_size", "参评数", "int", 0.7),
                                     Column("total_text", "计算过程", docx=False)])

            def scores():
                u = standing("county", False).units
                return u.sort_values(["peer_group", "rank"]).reset_index(drop=True)
            s.note = "得分按 1-N月累计对比按时间折算的目标计分（百分制，含超额、荣誉加分与扣减），同组竞争排名（1、2、2、4）。"
            out.append(_guard(s, scores))
        elif key == "warnings":
            s = Section(key, title, _gap_cols("indicator", "reason", "completion", "time_progress", "gap_pp",
                                              "unit_of_measure", "arrears", "status", "owner_leader",
                                              "owner_office"))
            s.intro = "预警规则：" + "；".join(progress.WARNING_RULES.values()) + "。"
            out.append(_guard(s, lambda: progress.warnings(ours).drop(columns="rules")))
        elif key == "quality":
            s = Section(key, title, [Column("severity_text", "级别", width=0.6), Column("rule_name", "规则", width=1.3),
                                     Column("unit", "单位", width=1.0), Column("indicator", "指标", width=1.4),
                                     Column("explanation", "说明", width=3.6), Column("file", "来源文件", docx=False),
                                     Column("row", "文件行号", "int", docx=False)])

            def flags():
                q = _module("quality")
                f = q.check(year, period, path)
                f = f[(f.period == period) & ~f.verified.fillna(False).astype(bool)].copy()
                sev = {"high": "高", "medium": "中", "low": "低"}
                f["severity_text"] = f.severity.map(lambda x: sev.get(x, x))
                order = {"high": 0, "medium": 1, "low": 2}
                return f.assign(_o=f.severity.map(order)).sort_values(["_o", "rule", "unit"]).drop(columns="_o")
            s.note = "本期尚未核实的预警；核实后请在“数据质量”页标记“已核实”。"
            out.append(_guard(s, flags))
        elif key == "risks":
            s = Section(key, title, [Column("unit", "单位", width=1.2), Column("consequence", "后果", width=0.9),
                                     Column("reason", "依据", width=4.0),
                                     Column("p_rectify", "年末整改承诺概率（%）", "prob", 1.0)])

            def risks():
                sim_mod, sc = _module("simulation"), _module("scoring")
                r = sc.consequences(standing("county", False), standing("city", False))
                try:
                    risk = sim_mod.county_risk(sc.load_table(year, period, "county", "projected", path=path), path=path)
                    r["p_rectify"] = r.unit_id.map(risk.set_index("unit_id").p_rectify)
                    extra = risk[(risk.p_rectify >= 0.1) & ~risk.unit_id.isin(r[r.consequence == "整改承诺"].unit_id)]
                    if len(extra):
                        r = pd.concat([r, pd.DataFrame({
                            "unit_id": extra.unit_id, "unit": extra.unit, "consequence": "整改承诺风险",
                            "reason": [f"预计年末得分 {e:.2f}，末位概率 {p:.1%}" for e, p in zip(extra.expected_score,
                                                                                     extra.p_last)],
                            "p_rectify": extra.p_rectify})], ignore_index=True)
                except Exception as e:  # noqa: BLE001
                    notes.append(f"年末整改承诺概率未能计算：{type(e).__name__}: {e}"[:300])
                    r["p_rectify"] = np.nan
                return r
            s.note = ("整改承诺：年终得分 < 85 且末位；×10 转扣：市扣县的分按 10 倍扣责任部门；"
                      "停职反省：本县在全市该指标末位时的牵头部门。")
            out.append(_guard(s, risks))

    figs: list[tuple[str, str]] = []
    if charts:
        cum = ours[(ours.kind == "cumulative") & ours.completion.notna()]
        if len(cum):
            figs.append((f"图1  {unit_name}累计类指标完成率与时间进度（%）",
                         gap_figure(cum, f"{unit_name}累计类指标完成率与时间进度（%）").to_json()))
        if city is not None:
            me = city["peers"][city["peers"].unit_id == unit_id]
            dist = {int(c[7:]): float(me[c].iloc[0]) for c in me.columns if c.startswith("p_rank_")} if len(me) else {}
            if dist:
                figs.append((f"图{len(figs) + 1}  {unit_name}年末全市排名概率分布（%）",
                             rank_figure(dist, f"{unit_name}年末在全市{city['group'] or ''}中的名次概率（%）").to_json()))
    return Bulletin(year, period, unit_id, unit_name, issuer or f"{unit_name}目标管理办公室", issued or date.today(),
                    title_of(year, period), summary, counts, arrears_by_uom, city, out, figs, behind, notes)


def prob_text(p: float) -> str:
    """A probability in words-friendly percent: never rounds a near-certainty to 100% or a
    small chance to 0%."""
    if p >= 1:
        return "100%"
    if p <= 0:
        return "0%"
    if p > 0.999:
        return "超过99.9%"
    if p < 0.001:
        return "不足0.1%"
    return f"{p * 100:.1f}%"


def summary_text(year: int, period: int, unit_name: str, counts: dict, arrears_by_uom: dict,
                 city: dict | None) -> str:
    """The summary paragraph, generated from the numbers."""
    tp = period / 12 * 100
    parts = [f"截至{year}年{period}月底（{period_label(period)}），全年时间进度已过{tp:.2f}%（线性口径，{period}÷12）。"]
    parts.append(f"{unit_name}纳入考核的目标任务共{counts['targets']}项，其中已完成{counts['done']}项、"
                 f"超进度{counts['ahead']}项、达进度{counts['on_track']}项、欠进度{counts['behind']}项、"
                 f"严重滞后{counts['far_behind']}项、未报送{counts['missing']}项"
                 + (f"；另有{counts['excluded']}项未设目标或目标为 0，不纳入" if counts.get("excluded") else "") + "。")
    if arrears_by_uom:
        parts.append("累计类目标欠账合计（按计量单位分列）：" + "、".join(
            f"{v:,.2f}{u}" for u, v in arrears_by_uom.items()) + "。")
    else:
        parts.append("累计类目标无欠账。")
    if city is None:
        parts.append(f"全市排名预测{NO_DATA}。")
    else:
        group = f"{city['group']}" if city.get("group") else ""
        rank = f"第{city['projected_rank']}位" if city.get("projected_rank") else "暂无名次"
        parts.append(f"按年末预测值计分，{unit_name}预计在全市{group}{city['group_size']}个县（区）中排名{rank}；"
                     f"经{city['draws']:,}次模拟，保二（前两名）概率{prob_text(city['p_top2'])}，"
                     f"争一概率{prob_text(city['p_first'])}，期望名次{city['expected_rank']:.2f}。")
    return "".join(parts)


# ------------------------------------------------------------------ charts

def _chart_layout(fig, title: str, height: int):
    fig.update_layout(title=dict(text=title, font=dict(size=20)), height=height, width=900, font=dict(
        family=CHART_FONT, size=15), margin=dict(l=10, r=40, t=60, b=50), plot_bgcolor="white",
        paper_bgcolor="white")
    return fig


def gap_figure(table: pd.DataFrame, title: str):
    """Completion % per indicator, bars coloured by status with the word, and the time
    progress as a black tick (as the app's gap chart)."""
    import plotly.graph_objects as go
    t = table.dropna(subset=["completion"]).sort_values("gap_pp")
    fig = go.Figure()
    fig.add_bar(y=t.indicator, x=t.completion, orientation="h", name="完成率",
                marker_color=[STATUS_COLORS.get(c, "#9e9e9e") for c in t.status_code],
                text=[f"{c:,.1f}%  {s}" for c, s in zip(t.completion, t.status)], textposition="outside")
    fig.add_scatter(y=t.indicator, x=t.time_progress, mode="markers", name="时间进度",
                    marker=dict(symbol="line-ns", size=20, line=dict(width=4, color="#111")))
    xmax = max(110.0, float(t.completion.max() if len(t) else 100) * 1.2)
    fig.update_xaxes(title="完成率 / 时间进度（%）", range=[0, xmax], gridcolor="#e5e5e5", ticksuffix="%")
    fig.update_yaxes(autorange="reversed", tickmode="array", tickvals=list(t.indicator), ticktext=list(t.indicator))
    return _chart_layout(fig, title, max(360, 34 * len(t) + 140)).update_layout(
        legend=dict(orientation="h", y=-0.12 if len(t) > 8 else -0.25))


def rank_figure(dist: dict[int, float], title: str):
    """P(rank = q) for our county, in percent."""
    import plotly.graph_objects as go
    qs = sorted(dist)
    fig = go.Figure()
    fig.add_bar(x=[f"第{q}名" for q in qs], y=[dist[q] * 100 for q in qs],
                marker_color=["#2e7d32" if q <= 2 else "#9e9e9e" for q in qs],
                text=[f"{dist[q] * 100:.1f}%" for q in qs], textposition="outside")
    fig.update_yaxes(title="概率（%）", range=[0, 110], gridcolor="#e5e5e5")
    fig.update_xaxes(title="名次（绿色为前两名）")
    return _chart_layout(fig, title, 380).update_layout(showlegend=False)


class ChartRenderError(RuntimeError):
    """No chart renderer (kaleido/Chromium) or it failed/timed out."""


_RENDER_SCRIPT = r"""
import json, sys
import plotly.io as pio
spec = json.load(sys.stdin)
figs = [pio.from_json(s, skip_invalid=True) for s in spec["figs"]]
pio.write_images(figs, spec["paths"], format="png", scale=2)
"""


def render_images(figures: list[str], timeout: float = CHART_TIMEOUT) -> list[bytes]:
    """PNG bytes of plotly figures (JSON), exported with kaleido in ONE batch in a child
    process (a hung browser is killed at ``timeout``). Raises :class:`ChartRenderError`."""
    if not figures:
        return []
    import importlib.util
    if importlib.util.find_spec("kaleido") is None:
        raise ChartRenderError("未安装 kaleido")
    with tempfile.TemporaryDirectory(prefix="bulletin_charts_") as tmp:
        paths = [str(Path(tmp) / f"chart{i}.png") for i in range(len(figures))]
        proc = subprocess.Popen([sys.executable, "-c", _RENDER_SCRIPT], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        try:
            _, err = proc.communicate(json.dumps({"figs": figures, "paths": paths}).encode(), timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.communicate()
            raise ChartRenderError(f"图表渲染超时（{timeout:.0f} 秒）") from None
        if proc.returncode != 0:
            last = err.decode(errors="replace").strip().splitlines()[-1:] or [f"退出码 {proc.returncode}"]
            raise ChartRenderError(f"图表渲染失败：{last[0][:200]}")
        try:
            return [Path(p).read_bytes() for p in paths]
        except OSError as e:
            raise ChartRenderError(f"图表渲染失败：{e}") from None


# ------------------------------------------------------------------ Word

def _docx():
    import docx  # python-docx
    return docx


def set_font(target, name: str, size: float | None = None, bold: bool | None = None,
             color: str | None = None) -> None:
    """Font of a style or run for Word/WPS: ascii/hAnsi/eastAsia all ``name``, theme font
    attributes removed (they override the explicit names)."""
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor
    target.font.name = name
    element = target.element if hasattr(target, "element") and not hasattr(target, "_r") else target._element
    rfonts = element.get_or_add_rPr().get_or_add_rFonts()
    rfonts.set(qn("w:eastAsia"), name)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    if size:
        target.font.size = Pt(size)
    if bold is not None:
        target.font.bold = bold
    if color:
        target.font.color.rgb = RGBColor.from_string(color.lstrip("#").upper())


def _style(doc, name: str, base: str = "Normal"):
    from docx.enum.style import WD_STYLE_TYPE
    try:
        return doc.styles[name]
    except KeyError:
        s = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        s.base_style = doc.styles[base]
        return s


def _setup(doc, own_template: bool) -> None:
    """Page set-up and styles. With an office's template its page and styles are kept; the
    fonts of the styles we use still get eastAsia set (so Chinese never falls back)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.shared import Mm, Pt
    if not own_template:
        for section in doc.sections:
            section.page_width, section.page_height = Mm(210), Mm(297)
            section.top_margin, section.bottom_margin = Mm(37), Mm(35)
            section.left_margin, section.right_margin = Mm(28), Mm(26)
            section.header_distance, section.footer_distance = Mm(15), Mm(22)
    normal = doc.styles["Normal"]
    set_font(normal, BODY_FONT, None if own_template else 16)
    if not own_template:
        pf = normal.paragraph_format
        pf.line_spacing_rule, pf.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(28)
        pf.space_before = pf.space_after = Pt(0)
    for name, font in (("Heading 1", HEADING_FONT), ("Heading 2", HEADING_FONT)):
        h = _style(doc, name)
        set_font(h, font, None if own_template else 16, bold=False, color="#000000")
        if not own_template:
            h.paragraph_format.space_before, h.paragraph_format.space_after = Pt(6), Pt(3)
            h.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
            h.paragraph_format.line_spacing = Pt(28)
            h.paragraph_format.keep_with_next = True
    t = _style(doc, "通报表格")
    set_font(t, TABLE_FONT, 10.5)
    t.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    t.paragraph_format.first_line_indent = Pt(0)
    t.paragraph_format.space_before = t.paragraph_format.space_after = Pt(1)
    c = _style(doc, "通报图注")
    set_font(c, TABLE_FONT, 10.5)
    c.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    c.paragraph_format.first_line_indent = Pt(0)
    c.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    c.paragraph_format.space_after = Pt(8)
    ti = _style(doc, "通报标题")
    set_font(ti, TITLE_FONT, 22, bold=True, color="#000000")
    ti.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    ti.paragraph_format.first_line_indent = Pt(0)
    ti.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    ti.paragraph_format.line_spacing = Pt(36)
    ti.paragraph_format.space_after = Pt(6)
    _page_number_footer(doc)


def _field(paragraph, instr: str, cached: str = "1") -> None:
    """A complex field (PAGE, NUMPAGES) in ``paragraph``."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def run_with(child):
        r = paragraph.add_run()
        set_font(r, TABLE_FONT, 14)
        r._r.append(child)
        return r
    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    run_with(begin)
    text = OxmlElement("w:instrText")
    text.set(qn("xml:space"), "preserve")
    text.text = f" {instr} "
    run_with(text)
    sep = OxmlElement("w:fldChar")
    sep.set(qn("w:fldCharType"), "separate")
    run_with(sep)
    r = paragraph.add_run(cached)
    set_font(r, TABLE_FONT, 14)
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run_with(end)


def _page_number_footer(doc) -> None:
    """“— 1 —” centred in every section's footer (a PAGE field)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt
    for section in doc.sections:
        footer = section.footer
        footer.is_linked_to_previous = False
        p = footer.paragraphs[0] if footer.paragraphs else footer.add_paragraph()
        for r in list(p.runs):
            r._r.getparent().remove(r._r)
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.paragraph_format.first_line_indent = Pt(0)
        set_font(p.add_run("— "), TABLE_FONT, 14)
        _field(p, "PAGE")
        set_font(p.add_run(" —"), TABLE_FONT, 14)


def _new_document(template: PathLike | bytes | None):
    docx = _docx()
    if template is None:
        doc = docx.Document()
    else:
        doc = docx.Document(io.BytesIO(template) if isinstance(template, bytes) else str(template))
        body = doc.element.body
        for child in list(body):  # keep the page set-up (sectPr), drop the template's content
            if not child.tag.endswith("}sectPr"):
                body.remove(child)
    _setup(doc, template is not None)
    return doc


def _para(doc, text: str = "", style: str | None = None, indent: bool = True, align=None, bold=False,
          font: str | None = None, size: float | None = None, color: str | None = None):
    from docx.shared import Pt
    p = doc.add_paragraph(style=style)
    if text:
        r = p.add_run(text)
        if font or size or bold or color:
            set_font(r, font or BODY_FONT, size, bold or None, color)
    if indent and style is None:
        p.paragraph_format.first_line_indent = Pt(32)
    elif not indent:
        p.paragraph_format.first_line_indent = Pt(0)
    if align is not None:
        p.alignment = align
    return p


_ORDER = {
    "tblPr": ["tblStyle", "tblpPr", "tblOverlap", "bidiVisual", "tblStyleRowBandSize", "tblStyleColBandSize", "tblW",
              "jc", "tblCellSpacing", "tblInd", "tblBorders", "shd", "tblLayout", "tblCellMar", "tblLook"],
    "trPr": ["cnfStyle", "divId", "gridBefore", "gridAfter", "wBefore", "wAfter", "cantSplit", "trHeight",
             "tblHeader", "tblCellSpacing", "jc", "hidden"],
    "tcPr": ["cnfStyle", "tcW", "gridSpan", "hMerge", "vMerge", "tcBorders", "shd", "noWrap", "tcMar",
             "textDirection", "tcFitText", "vAlign", "hideMark"],
    "pPr": ["pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl", "numPr",
            "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens", "kinsoku", "wordWrap",
            "overflowPunct", "topLinePunct", "autoSpaceDE", "autoSpaceDN", "bidi", "adjustRightInd", "snapToGrid",
            "spacing", "ind", "contextualSpacing", "mirrorIndents", "suppressOverlap", "jc"],
}


def _put(parent, child) -> None:
    """Insert ``child`` into a w:*Pr element at its schema position, replacing one of the same
    tag (Word refuses out-of-order children)."""
    from docx.oxml.ns import qn
    local = lambda el: el.tag.rsplit("}", 1)[-1]  # noqa: E731
    seq = _ORDER[local(parent)]
    name = local(child)
    for old in parent.findall(qn(f"w:{name}")):
        parent.remove(old)
    after = seq[seq.index(name) + 1:]
    for existing in parent:
        if local(existing) in after:
            existing.addprevious(child)
            return
    parent.append(child)


def _shade(cell, hex_color: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    tc_pr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), hex_color.lstrip("#").upper())
    _put(tc_pr, shd)


def _borders(table) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        e = OxmlElement(f"w:{edge}")
        e.set(qn("w:val"), "single")
        e.set(qn("w:sz"), "8" if edge in ("top", "bottom") else "4")
        e.set(qn("w:space"), "0")
        e.set(qn("w:color"), "000000")
        borders.append(e)
    _put(tbl_pr, borders)


def _fixed_layout(table, width_mm: float) -> None:
    """Fixed layout and a stated table width, so LibreOffice/WPS keep the column widths."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    tbl_pr = table._tbl.tblPr
    tbl_w = OxmlElement("w:tblW")
    tbl_w.set(qn("w:w"), str(int(width_mm / 25.4 * 1440)))
    tbl_w.set(qn("w:type"), "dxa")
    _put(tbl_pr, tbl_w)
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    _put(tbl_pr, layout)


def _repeat_header(row) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    tr_pr = row._tr.get_or_add_trPr()
    h = OxmlElement("w:tblHeader")
    h.set(qn("w:val"), "true")
    _put(tr_pr, h)
    _put(tr_pr, OxmlElement("w:cantSplit"))


def add_table(doc, frame: pd.DataFrame, columns: list[Column], width_mm: float = 156, numbered: bool = True):
    """A bordered table: header row repeated on every page, numbers right-aligned, the
    status cell coloured as in the app (with the word)."""
    from docx.enum.table import WD_TABLE_ALIGNMENT, WD_CELL_VERTICAL_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm
    cols = [c for c in columns if c.docx]
    if numbered:
        cols = [Column("_seq", "序号", "int", 0.55), *cols]
        frame = frame.assign(_seq=range(1, len(frame) + 1))
    table = doc.add_table(rows=1, cols=len(cols))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _borders(table)
    total = sum(c.width for c in cols)
    widths = [Mm(width_mm * c.width / total) for c in cols]
    for col, w in zip(table.columns, widths):
        col.width = w
    _fixed_layout(table, width_mm)
    style_id = doc.styles["通报表格"].style_id
    header = table.rows[0]
    _repeat_header(header)
    for cell, c, w in zip(header.cells, cols, widths):
        cell.width = w
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        p = cell.paragraphs[0]
        p._p.style = style_id  # direct: the style setter scans every style per call
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        set_font(p.add_run(c.header), HEADING_FONT, 10.5)
        _shade(cell, "#D9D9D9")
    codes = frame["status_code"].tolist() if "status_code" in frame else [None] * len(frame)
    for (_, rec), code in zip(frame.iterrows(), codes):
        row = table.add_row()
        from docx.oxml import OxmlElement
        _put(row._tr.get_or_add_trPr(), OxmlElement("w:cantSplit"))
        for cell, c, w in zip(row.cells, cols, widths):
            cell.width = w
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            p = cell.paragraphs[0]
            p._p.style = style_id  # direct: the style setter scans every style per call
            value = rec.get(c.key)
            run = p.add_run(_fmt(value, c.fmt))
            if c.fmt in ("pct", "pp", "num", "int", "prob"):
                p.alignment = WD_ALIGN_PARAGRAPH.RIGHT if c.key != "_seq" else WD_ALIGN_PARAGRAPH.CENTER
            elif c.fmt == "status":
                p.alignment = WD_ALIGN_PARAGRAPH.CENTER
                if code in STATUS_COLORS:
                    _shade(cell, STATUS_COLORS[code])
                    set_font(run, TABLE_FONT, 10.5, bold=True, color=STATUS_TEXT_COLORS[code])
    return table


CN_NUM = "一二三四五六七八九十"


def to_docx(b: Bulletin, template: PathLike | bytes | None = None, render: bool = True,
            timeout: float = CHART_TIMEOUT) -> tuple[bytes, bool]:
    """The Word bulletin → (bytes, charts rendered?). Without a renderer: tables only, and
    the document says so."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt
    doc = _new_document(template)
    # 版头: issuer in red, a red rule
    head = _para(doc, b.issuer, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, font=TITLE_FONT,
                 size=26, color="#C00000")
    head.paragraph_format.line_spacing = Pt(40)
    head.paragraph_format.space_before = Pt(6)
    rule = _para(doc, indent=False)
    p_pr = rule._p.get_or_add_pPr()
    bdr = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "18"), ("w:space", "1"), ("w:color", "C00000")):
        bottom.set(qn(k), v)
    bdr.append(bottom)
    _put(p_pr, bdr)
    rule.paragraph_format.line_spacing = Pt(10)
    _para(doc, "", indent=False)
    doc.add_paragraph(b.title, style="通报标题")
    _para(doc, f"（{cn_date(b.issued)}）", indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    _para(doc, "", indent=False)
    _para(doc, "各乡镇、县直各部门：", indent=False)
    _para(doc, f"现将{b.year}年{period_label(b.period)}全县目标任务完成情况通报如下。")

    n = 0

    def heading(text: str):
        nonlocal n
        doc.add_paragraph(f"{CN_NUM[n]}、{text}", style="Heading 1")
        n += 1

    heading("总体情况")
    _para(doc, b.summary)

    images: list[bytes] = []
    render_note = None
    if b.charts:
        if render:
            try:
                images = render_images([c[1] for c in b.charts], timeout)
            except ChartRenderError as e:
                render_note = f"（本通报未能生成图表：{e}。以下仅含表格。）"
            except Exception as e:  # noqa: BLE001
                render_note = f"（本通报未能生成图表：{type(e).__name__}: {e}。以下仅含表格。）"
        else:
            render_note = "（本通报未生成图表，以下仅含表格。）"
    if images:
        for (caption, _), png in zip(b.charts, images):
            pic = doc.add_paragraph(style="通报图注")
            pic.paragraph_format.keep_with_next = True
            pic.add_run().add_picture(io.BytesIO(png), width=Mm(150))
            doc.add_paragraph(caption, style="通报图注")
    elif render_note:
        _para(doc, render_note)

    for s in b.sections:
        heading(s.title)
        if s.missing is not None:
            _para(doc, f"{NO_DATA}（{s.missing}）")
            continue
        if s.intro:
            _para(doc, s.intro)
        if s.frame.empty:
            _para(doc, "本期无此类事项。")
        else:
            add_table(doc, s.frame, s.columns)
        if s.note:
            _para(doc, "注：" + s.note, style="通报图注").alignment = WD_ALIGN_PARAGRAPH.LEFT
    if b.notes:
        heading("说明")
        for note in b.notes:
            _para(doc, note)
    _para(doc, "", indent=False)
    for text in (b.issuer, cn_date(b.issued)):
        p = _para(doc, text, indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
        p.paragraph_format.right_indent = Pt(32)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue(), bool(images)


def notices_docx(b: Bulletin, template: PathLike | bytes | None = None, deadline_days: int = 5) -> bytes:
    """预警通知单: one page per responsible department (办事机构) with its behind-schedule targets."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
    from docx.shared import Pt
    doc = _new_document(template)
    cols = _gap_cols("indicator", "completion", "time_progress", "gap_pp", "arrears_text", "status",
                     "owner_leader")
    cols.append(Column("conditions", "未达条件", width=1.2))
    frame = b.behind.assign(owner_office=b.behind.owner_office.fillna("（未指定责任单位）")) if len(b.behind) \
        else b.behind
    offices = list(dict.fromkeys(frame.owner_office)) if len(frame) else []
    if not offices:
        doc.add_paragraph("目标任务预警通知单", style="通报标题")
        _para(doc, f"{b.year}年{period_label(b.period)}没有进度滞后的目标任务，无需发出预警通知单。")
    for i, office in enumerate(offices, 1):
        rows = frame[frame.owner_office == office]
        if i > 1:
            doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        doc.add_paragraph("目标任务预警通知单", style="通报标题")
        _para(doc, f"编号：{b.year}{b.period:02d}-{i:02d}", indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
        _para(doc, f"{office}：", indent=False)
        _para(doc, f"经对{b.year}年{period_label(b.period)}目标任务完成情况分析，你单位牵头负责的以下{len(rows)}项"
                   "目标任务进度滞后于时间进度，现予预警。请对照差距和欠账，认真分析原因，制定赶超措施，"
                   f"于收到本通知单后{deadline_days}个工作日内将整改措施书面报送{b.issuer}。")
        add_table(doc, rows, cols)
        _para(doc, "", indent=False)
        for text in (b.issuer, cn_date(b.issued)):
            p = _para(doc, text, indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
            p.paragraph_format.right_indent = Pt(32)
        _para(doc, "", indent=False)
        _para(doc, "签收人：__________　　签收日期：__________", indent=False)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


# ------------------------------------------------------------------ Excel

XLSX_FORMATS = {"pct": "#,##0.00", "pp": "+0.00;-0.00;0.00", "num": "#,##0.00", "int": "0", "prob": "0.0%"}


def _sheet_name(title: str, used: set[str]) -> str:
    name = "".join(ch for ch in title if ch not in "[]:*?/\\")[:31] or "表"
    base, k = name, 2
    while name in used:
        name = f"{base[:28]}_{k}"
        k += 1
    used.add(name)
    return name


def to_xlsx(b: Bulletin) -> bytes:
    """One sheet per table (plus 概况): title row, header row (frozen) with units, number
    formats, status colours; every text cell neutralised (exports.safe_frame)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    wb = Workbook()
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    head_fill = PatternFill("solid", fgColor="D9D9D9")
    font = Font(name="宋体", size=11)
    bold = Font(name="黑体", size=11, bold=True)
    used: set[str] = set()

    ws = wb.active
    ws.title = _sheet_name("概况", used)
    ws["A1"] = exports.neutralise(b.title)
    ws["A1"].font = Font(name="宋体", size=16, bold=True)
    ws["A2"] = exports.neutralise(f"{b.issuer}　{cn_date(b.issued)}")
    ws["A3"] = exports.neutralise(b.summary)
    ws["A3"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells("A3:F3")
    ws.row_dimensions[3].height = 130
    ws.append([])
    ws.append(["状态", "目标数（项）"])
    for c in ws[5]:
        c.font, c.fill, c.border = bold, head_fill, border
    for code in ("done", "ahead", "on_track", "behind", "far_behind", "missing"):
        ws.append([progress.STATUS[code], b.counts.get(code, 0)])
        cell = ws.cell(ws.max_row, 1)
        cell.fill = PatternFill("solid", fgColor=STATUS_COLORS[code].lstrip("#").upper())
        cell.font = Font(name="宋体", size=11, bold=True, color=STATUS_TEXT_COLORS[code].lstrip("#").upper())
    ws.append(["合计", b.counts.get("targets", 0)])
    ws.append([])
    ws.append(["计量单位", "欠账合计"])
    for c in ws[ws.max_row]:
        c.font, c.fill, c.border = bold, head_fill, border
    for u, v in b.arrears_by_uom.items():
        ws.append([exports.neutralise(u), v])
        ws.cell(ws.max_row, 2).number_format = XLSX_FORMATS["num"]
    if b.city:
        ws.append([])
        ws.append(["预计全市名次", b.city.get("projected_rank")])
        ws.append(["P(前二)", b.city["p_top2"]])
        ws.cell(ws.max_row, 2).number_format = XLSX_FORMATS["prob"]
        ws.append(["P(第一)", b.city["p_first"]])
        ws.cell(ws.max_row, 2).number_format = XLSX_FORMATS["prob"]
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 16
    ws.freeze_panes = "A2"

    for s in b.sections:
        ws = wb.create_sheet(_sheet_name(s.title, used))
        ws["A1"] = exports.neutralise(f"{s.title}（{b.year}年{period_label(b.period)}）")
        ws["A1"].font = Font(name="宋体", size=14, bold=True)
        cols = s.columns
        if s.missing is not None:
            ws["A2"] = exports.neutralise(f"{NO_DATA}（{s.missing}）")
            continue
        data = s.frame.reindex(columns=[c.key for c in cols])
        safe = exports.safe_frame(data)
        headers = [exports.neutralise(c.header) for c in cols]
        for j, h in enumerate(headers, 1):
            cell = ws.cell(2, j, h)
            cell.font, cell.fill, cell.border = bold, head_fill, border
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        codes = s.frame["status_code"].tolist() if "status_code" in s.frame else [None] * len(s.frame)
        for i, (row, code) in enumerate(zip(safe.itertuples(index=False), codes), 3):
            for j, (c, v) in enumerate(zip(cols, row), 1):
                if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
                    v = None
                elif hasattr(v, "item"):
                    v = v.item()
                if c.fmt in XLSX_FORMATS and v is not None and not isinstance(v, str):
                    v = float(v) if c.fmt != "int" else int(v)
                cell = ws.cell(i, j, v)
                cell.font, cell.border = font, border
                if c.fmt in XLSX_FORMATS:
                    cell.number_format = XLSX_FORMATS[c.fmt]
                if c.fmt == "status" and code in STATUS_COLORS:
                    cell.fill = PatternFill("solid", fgColor=STATUS_COLORS[code].lstrip("#").upper())
                    cell.font = Font(name="宋体", size=11, bold=True,
                                     color=STATUS_TEXT_COLORS[code].lstrip("#").upper())
                    cell.alignment = Alignment(horizontal="center")
        for j, c in enumerate(cols, 1):
            longest = max([len(str(c.header))] + [len(str(v)) for v in safe.iloc[:, j - 1].head(200)])
            ws.column_dimensions[get_column_letter(j)].width = min(60, max(8, longest * 1.6 if c.fmt == "text"
                                                                           else 14))
        ws.row_dimensions[2].height = 32
        ws.freeze_panes = "B3"
        if len(safe):
            ws.auto_filter.ref = f"A2:{get_column_letter(len(cols))}{len(safe) + 2}"
        if s.note:
            ws.cell(len(safe) + 4, 1, exports.neutralise("注：" + s.note))
    if b.notes:
        ws = wb.create_sheet(_sheet_name("说明", used))
        ws["A1"] = "说明"
        for i, note in enumerate(b.notes, 2):
            ws.cell(i, 1, exports.neutralise(note))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ------------------------------------------------------------------ the one call

def produce(year: int, period: int, path: PathLike = None, *, sections: Iterable[str] | None = None,
            template: PathLike | bytes | None = None, charts: bool = True, issuer: str | None = None,
            issued: date | None = None, draws: int | None = None, timeout: float = CHART_TIMEOUT) -> Output:
    """The bulletin of ``year`` / ``period``: Word document, Excel workbook and the
    per-department 预警通知单 (see the module docstring)."""
    b = collect(year, period, path, sections, charts, issuer, issued, draws)
    doc, rendered = to_docx(b, template, charts, timeout)
    return Output(b, doc, to_xlsx(b), notices_docx(b, template), rendered)


# ------------------------------------------------------------------ PDF preview (LibreOffice)

FONTCONFIG_ALIASES = {"宋体": "Noto Serif CJK SC", "SimSun": "Noto Serif CJK SC", "仿宋": "Noto Serif CJK SC",
                      "FangSong": "Noto Serif CJK SC", "仿宋_GB2312": "Noto Serif CJK SC", "楷体": "Noto Serif CJK SC",
                      "黑体": "Noto Sans CJK SC", "SimHei": "Noto Sans CJK SC"}


def fontconfig_file(directory: PathLike) -> Path:
    """A fontconfig file aliasing the Windows Chinese font names to Noto CJK SC (for
    LibreOffice on Linux: ``FONTCONFIG_FILE``)."""
    aliases = "".join(f'<alias binding="same"><family>{k}</family><prefer><family>{v}</family></prefer></alias>'
                      for k, v in FONTCONFIG_ALIASES.items())
    path = Path(directory) / "fonts-bulletin.conf"
    path.write_text('<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
                    '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>' + aliases + "</fontconfig>",
                    encoding="utf-8")
    return path


def docx_to_pdf(docx_path: PathLike, outdir: PathLike, timeout: float = 120) -> Path:
    """Convert with LibreOffice headless (fonts aliased); raises FileNotFoundError without soffice."""
    import shutil
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise FileNotFoundError("soffice")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "FONTCONFIG_FILE": str(fontconfig_file(outdir)),
           "HOME": str(outdir)}  # a private LibreOffice profile
    subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", str(outdir), str(docx_path)],
                   check=True, env=env, timeout=timeout, capture_output=True)
    pdf = outdir / (Path(docx_path).stem + ".pdf")
    if not pdf.exists():
        raise RuntimeError("LibreOffice 未生成 PDF")
    return pdf
