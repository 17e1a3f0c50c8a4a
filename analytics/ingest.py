"""Read → decode → find the header → map columns → validate → store, in one transaction.

Layouts understood here: the long layout (one row per unit × indicator × period, the
template analysts download) and the reference tables (units, indicators, owners,
adjustments, key-project ledgers). A refused file changes nothing; a stored file keeps
its upload id on every value, so every revision stays and the latest one is current.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from . import db
from .errors import Actor, DuplicateUpload, IngestError, Problem
from .parse import (clean_text, conversion_factor, infer_kind, infer_level, parse_measure,
                    parse_number, parse_period, parse_year)
from .readers import Table, read_table
from .roles import require

# Long layout: field → accepted header texts (after clean_text, case-insensitive).
LONG_FIELDS: dict[str, tuple[str, ...]] = {
    "year": ("年份", "年度", "year"),
    "period": ("期间", "月份", "报告期", "period"),
    "unit": ("单位", "责任单位", "单位名称", "县(市、区)", "县(市,区)", "乡镇", "部门", "unit"),
    "indicator": ("指标", "指标名称", "项目", "indicator"),
    "unit_of_measure": ("计量单位", "unit_of_measure"),
    "measure": ("口径", "measure"),
    "target": ("目标值", "全年目标", "年度目标", "目标", "target"),
    "value": ("数值", "完成值", "value"),
}
LONG_HEADER = ["年份", "期间", "单位", "指标", "计量单位", "口径", "目标值", "数值"]

# Reference tables: column → type; the first columns listed in REQUIRED must be present.
REFERENCE: dict[str, dict[str, str]] = {
    "units": {"unit_id": "str", "name": "str", "level": "str", "parent_id": "str",
              "peer_group": "str", "is_home": "bool"},
    "indicators": {"indicator_id": "str", "name": "str", "unit_of_measure": "str", "kind": "str",
                   "direction": "int", "category": "str", "points": "float", "scoring_method": "str",
                   "is_key": "bool", "is_difficult": "bool", "scope": "str", "parent_id": "str",
                   "curve": "str"},
    "owners": {"indicator_id": "str", "unit_id": "str", "owner_leader": "str", "owner_staff": "str",
               "owner_office": "str", "valid_from": "date"},
    "adjustments": {"year": "int", "unit_id": "str", "kind": "str", "level": "str", "item": "str",
                    "points": "float", "reason": "str", "charged_to": "str"},
    "projects": {"project_id": "str", "name": "str", "category": "str", "unit_id": "str",
                 "leader": "str", "plan_investment": "float", "year": "int", "plan_start": "str"},
    "project_progress": {"project_id": "str", "year": "int", "period": "int", "completed": "float",
                         "milestone": "str", "started": "bool"},
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "units": ("unit_id", "name", "level"),
    "indicators": ("indicator_id", "name", "kind"),
    "owners": ("indicator_id", "valid_from", "owner_leader"),
    "adjustments": ("year", "unit_id", "kind", "points"),
    "projects": ("project_id", "name", "plan_investment", "year"),
    "project_progress": ("project_id", "year", "period"),
}


def _reference_sql(layout: str) -> str:
    """INSERT for a reference layout, built once from the REFERENCE constant (no file text)."""
    cols = list(REFERENCE[layout])
    names = ", ".join(cols)
    table = {"owners": "indicator_owners"}.get(layout, layout)
    if layout in ("units", "indicators"):  # edits of the library: upsert by id
        updates = ", ".join(f"{c} = excluded.{c}" for c in cols[1:])
        return (f"INSERT INTO {table}({names}) SELECT {names} FROM _ref "
                f"ON CONFLICT ({cols[0]}) DO UPDATE SET {updates}")
    return f"INSERT INTO {table}({names}, upload_id) SELECT {names}, upload_id FROM _ref"


_REFERENCE_SQL = {layout: _reference_sql(layout) for layout in REFERENCE}
KINDS = ("cumulative", "rate", "ceiling", "milestone", "veto")
LEVELS = ("city", "county", "township", "department")
ADJUSTMENT_KINDS = ("honour", "deduction", "interview", "city_deduction")
DEFAULT_MEASURE = {"cumulative": "ytd", "rate": "growth_pct", "ceiling": "level",
                   "milestone": "done", "veto": "done"}
VOLUME_MEASURES = ("ytd", "month")


@dataclass
class IngestOptions:
    year: int | None = None
    period: int | None = None
    sheet: str | None = None
    create_missing: bool = False
    accept_partial: bool = False


@dataclass
class IngestReport:
    """What happened to one file; ``status`` is stored | partial | refused | duplicate."""

    file: str
    sha256: str
    status: str = "refused"
    layout: str = ""
    encoding: str = ""
    sheet: str | None = None
    rows_read: int = 0
    rows_stored: int = 0
    rows_rejected: int = 0
    rows_empty: int = 0
    upload_id: int | None = None
    created: dict = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    message: str = ""

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def exit_code(self) -> int:
        return {"stored": 0, "partial": 1, "refused": 2, "duplicate": 4}[self.status]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["problems"] = [p.to_dict() for p in self.problems]
        d["exit_code"] = self.exit_code
        return d


# ---------------------------------------------------------------- header and layout

def _norm_header(cell: str) -> str:
    return clean_text(cell).replace(" ", "").lower()


def _match_long(header: list[str]) -> dict[str, int] | None:
    cols: dict[str, int] = {}
    for i, h in enumerate(header):
        n = _norm_header(h)
        for fld, names in LONG_FIELDS.items():
            if fld not in cols and n in names:
                cols[fld] = i
                break
    if "indicator" in cols and "unit" in cols and ("value" in cols or "target" in cols):
        return cols
    return None


def _match_reference(header: list[str]) -> tuple[str, dict[str, int]] | None:
    names = {_norm_header(h): i for i, h in enumerate(header)}
    for layout, columns in REFERENCE.items():
        if all(c in names for c in REQUIRED[layout]):
            return layout, {c: names[c] for c in columns if c in names}
    return None


def detect_layout(table: Table) -> tuple[str, int, dict[str, int]]:
    """(layout, index of the header row in table.rows, column map) from the first 30 rows."""
    for i, (_, cells) in enumerate(table.rows[:30]):
        ref = _match_reference(cells)
        if ref:
            return ref[0], i, ref[1]
        cols = _match_long(cells)
        if cols:
            return "long", i, cols
    raise IngestError("未识别出表头：长表需含「单位」「指标」及「数值」或「目标值」列"
                      f"（模板列：{'、'.join(LONG_HEADER)}）", table.file, table.rows[0][0] if table.rows else None)


# ---------------------------------------------------------------- reference data

def _reference_names(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, str], dict[str, dict]]:
    units: dict[str, str] = {}
    for uid, name in con.execute("SELECT unit_id, name FROM units").fetchall():
        units[clean_text(name)] = uid
        units[clean_text(uid)] = uid
    indicators: dict[str, dict] = {}
    for rec in con.execute("SELECT indicator_id, name, kind, unit_of_measure FROM indicators").df().to_dict("records"):
        indicators[clean_text(rec["name"])] = rec
        indicators[clean_text(rec["indicator_id"])] = rec
    return units, indicators


def _frame(table: Table, header_index: int, columns: dict[str, int]) -> pd.DataFrame:
    """Data rows below the header as text columns named by field, plus `row` and an
    `blank` flag for rows with no text at all (skipped, not counted as read)."""
    body = table.rows[header_index + 1:]
    out = {"row": [r for r, _ in body]}
    for fld, idx in columns.items():
        out[fld] = [clean_text(cells[idx]) if idx < len(cells) else "" for _, cells in body]
    frame = pd.DataFrame(out)
    text_cols = [c for c in frame.columns if c != "row"]
    blank = (frame[text_cols] == "").all(axis=1) if text_cols else pd.Series(False, index=frame.index)
    return frame[~blank].reset_index(drop=True)


def _mapped(series: pd.Series, fn) -> pd.Series:
    """Apply a pure parser once per distinct cell text (files repeat names and periods)."""
    uniques = series.unique()
    return series.map(dict(zip(uniques, map(fn, uniques))))


class _Problems:
    """Collects problems row by row; a row with an error is rejected."""

    def __init__(self, file: str, header: list[str], columns: dict[str, int]):
        self.file, self.items, self.rejected = file, [], set()
        self.label = {fld: clean_text(header[i]) if i < len(header) else fld for fld, i in columns.items()}

    def add(self, rows, fld: str | None, reason: str, severity: str = "error") -> None:
        for r in rows:
            self.items.append(Problem(self.file, int(r), self.label.get(fld, fld), reason, severity))
            if severity == "error":
                self.rejected.add(int(r))


# ---------------------------------------------------------------- long layout

def _prepare_long(con, table: Table, header_index: int, cols: dict[str, int], opts: IngestOptions,
                  report: IngestReport) -> tuple[pd.DataFrame, pd.DataFrame, _Problems, dict]:
    header = table.rows[header_index][1]
    frame = _frame(table, header_index, cols)
    probs = _Problems(table.file, header, cols)
    units, indicators = _reference_names(con)
    n = len(frame)
    col = lambda f: frame[f] if f in frame else pd.Series([""] * n, dtype=object)  # noqa: E731

    # year and period: from the row, else from the options; a stated different one is refused
    year = _mapped(col("year"), parse_year)
    bad = (col("year") != "") & year.isna()
    probs.add(frame.row[bad], "year", "年份无法识别")
    if opts.year is not None:
        clash = year.notna() & (year != opts.year)
        probs.add(frame.row[clash], "year", f"文件所述年份与指定的 {opts.year} 年不一致（不覆盖，整行拒绝）")
        year = year.fillna(opts.year)
    probs.add(frame.row[year.isna() & ~bad], "year", "缺少年份（可用 --year 指定）")

    period = _mapped(col("period"), parse_period)
    bad = (col("period") != "") & period.isna()
    probs.add(frame.row[bad], "period", f"期间无法识别（应为 1-12 的月份或「1-9月」等）")
    if opts.period is not None:
        clash = period.notna() & (period != opts.period)
        probs.add(frame.row[clash], "period", f"文件所述期间与指定的 {opts.period} 月不一致（不覆盖，整行拒绝）")
        period = period.fillna(opts.period)

    # names → ids (unknown names refuse the file unless create_missing)
    unit_id = col("unit").map(units)
    ind = col("indicator").map(indicators)
    created = {"units": [], "indicators": []}
    for fld, ids, src, label in (("unit", unit_id, col("unit"), "单位"), ("indicator", ind, col("indicator"), "指标")):
        probs.add(frame.row[src == ""], fld, f"缺少{label}名称")
        unknown = sorted(set(src[ids.isna() & (src != "")]))
        if unknown and not opts.create_missing:
            raise IngestError(f"未知{label}名称 {len(unknown)} 个：{'、'.join(unknown[:20])}"
                              f"{' 等' if len(unknown) > 20 else ''}。请先在{label}库中添加，或使用 --create-missing 自动创建",
                              table.file, int(frame.row[ids.isna() & (src != "")].iloc[0]), probs.label.get(fld))
        created["units" if fld == "unit" else "indicators"] = unknown

    uom = col("unit_of_measure")
    for name in created["units"]:
        units[name] = f"U-{hashlib.sha1(name.encode()).hexdigest()[:8]}"
    for name in created["indicators"]:
        first_uom = uom[col("indicator") == name].iloc[0]
        indicators[name] = {"indicator_id": f"X-{hashlib.sha1(name.encode()).hexdigest()[:8]}", "name": name,
                            "kind": infer_kind(name, first_uom), "unit_of_measure": first_uom}
    unit_id = col("unit").map(units)
    ind = col("indicator").map(indicators)
    kind = ind.map(lambda r: r["kind"] if isinstance(r, dict) else None)
    ind_id = ind.map(lambda r: r["indicator_id"] if isinstance(r, dict) else None)
    ind_uom = ind.map(lambda r: (r["unit_of_measure"] or "") if isinstance(r, dict) else "")

    # measure
    measure = _mapped(col("measure"), parse_measure)
    bad = (col("measure") != "") & measure.isna()
    probs.add(frame.row[bad], "measure", "口径无法识别（应为 ytd/month/growth_pct/level/done 或「累计」「同比增长%」等）")
    measure = measure.where(col("measure") != "", kind.map(DEFAULT_MEASURE))

    # unit of measure → the indicator's (scale only for volumes)
    factor = pd.Series([conversion_factor(a, b) for a, b in zip(uom, ind_uom)], dtype=object)
    pct_measure = measure.isin(["growth_pct", "published_completion_pct", "published_rank", "done"])
    factor = factor.where(~pct_measure, 1.0)
    bad = factor.isna() & ind_id.notna()
    for (u, iu), grp in frame.row[bad].groupby([uom[bad], ind_uom[bad]]):
        probs.add(grp, "unit_of_measure", f"计量单位「{u}」与指标库中的「{iu}」不一致且无法换算")

    # numbers
    values = {}
    for fld in ("target", "value"):
        parsed = _mapped(col(fld), parse_number)
        err = parsed.map(lambda p: p.error)
        for reason, grp in frame.row[err.notna()].groupby(err[err.notna()]):
            probs.add(grp, fld, reason)
        values[fld] = (parsed.map(lambda p: p.value).astype(float) * factor.fillna(1.0).astype(float),
                       parsed.map(lambda p: p.approx).astype(bool))
    target, value = values["target"][0], values["value"][0]
    neg = (target < 0) & measure.isin(VOLUME_MEASURES)
    probs.add(frame.row[neg], "target", "目标值为负数")
    has_value = value.notna()
    probs.add(frame.row[has_value & period.isna() & (col("period") == "")], "period", "有数值但缺少期间（可用 --period 指定）")
    base = pd.DataFrame({"row": frame.row, "year": year, "period": period, "unit_id": unit_id,
                         "indicator_id": ind_id, "measure": measure, "kind": kind})

    # duplicate keys inside the file (the first occurrence is kept, later ones rejected)
    for fld, data, key in (("value", value, ["year", "period", "unit_id", "indicator_id", "measure"]),
                           ("target", target, ["year", "unit_id", "indicator_id", "measure"])):
        sub = base[data.notna()]
        dup = sub.duplicated(key, keep="first")
        first = sub.drop_duplicates(key).set_index(key)["row"]
        for _, r in sub[dup].iterrows():
            probs.add([r.row], fld, f"与第 {int(first.loc[tuple(r[k] for k in key)])} 行重复（同一单位、指标、口径、期间）")

    obs = base[has_value].assign(value=value[has_value], approx=values["value"][1][has_value])
    tgt = base[target.notna()].assign(target=target[target.notna()])
    report.rows_empty = int((~has_value & target.isna()).sum())
    if report.rows_empty:
        empty_rows = frame.row[~has_value & target.isna() & ~frame.row.isin(probs.rejected)]
        if len(empty_rows):
            probs.add(empty_rows, "value", "无数值（“-”或空白，表示未报送/无此项，未入库，不按 0 计）", "info")
    _cumulative_warnings(con, obs[~obs.row.isin(probs.rejected)], probs)
    new_refs = {"units": [(units[n], n, infer_level(n)) for n in created["units"]],
                "indicators": [indicators[n] for n in created["indicators"]]}
    return obs, tgt, probs, new_refs


def _cumulative_warnings(con, obs: pd.DataFrame, probs: _Problems) -> None:
    """A 1-N月累计 below the previous reported period's (in this file or already stored) is
    stored but reported: the bureau published it, and the quality checks must see it."""
    cum = obs[(obs.kind == "cumulative") & (obs.measure == "ytd")]
    if cum.empty:
        return
    keys = cum[["year", "unit_id", "indicator_id"]].drop_duplicates()
    con.register("_keys", keys)
    stored = con.execute("""SELECT c.year, c.period, c.unit_id, c.indicator_id, c.value, NULL::INTEGER AS row
        FROM current_observations c JOIN _keys k USING (year, unit_id, indicator_id)
        WHERE c.measure = 'ytd'""").df()
    con.unregister("_keys")
    both = pd.concat([stored[~stored.set_index(["year", "period", "unit_id", "indicator_id"]).index.isin(
        cum.set_index(["year", "period", "unit_id", "indicator_id"]).index)],
        cum[["year", "period", "unit_id", "indicator_id", "value", "row"]]], ignore_index=True)
    both = both.sort_values(["year", "unit_id", "indicator_id", "period"])
    prev = both.groupby(["year", "unit_id", "indicator_id"])[["value", "period"]].shift(1)
    down = both[(both.value < prev.value) & both.row.notna()]
    for i, r in down.iterrows():
        probs.add([r.row], "value", f"1-{int(r.period)}月累计 {r.value:,.2f} 低于 1-{int(prev.period[i])}月累计 "
                  f"{prev.value[i]:,.2f}（已入库，请核实是否漏报/修订）", "warning")


# ---------------------------------------------------------------- reference layouts

_BOOL = {"1": True, "0": False, "true": True, "false": False, "是": True, "否": False, "": False,
         "y": True, "n": False, "yes": True, "no": False}


def _prepare_reference(layout: str, table: Table, header_index: int, cols: dict[str, int]
                       ) -> tuple[pd.DataFrame, _Problems]:
    header = table.rows[header_index][1]
    frame = _frame(table, header_index, cols)
    probs = _Problems(table.file, header, cols)
    out = pd.DataFrame({"row": frame.row})
    for column, typ in REFERENCE[layout].items():
        raw = frame[column] if column in frame else pd.Series([""] * len(frame), dtype=object)
        if column in REQUIRED[layout]:
            probs.add(frame.row[raw == ""], column, "必填项为空")
        if typ == "str":
            out[column] = raw.where(raw != "", None)
        elif typ == "bool":
            conv = raw.str.lower().map(_BOOL)
            probs.add(frame.row[conv.isna()], column, "应为 1/0 或 是/否")
            out[column] = conv.fillna(False).astype(bool)
        elif typ == "date":
            conv = pd.to_datetime(raw, format="%Y-%m-%d", errors="coerce")
            probs.add(frame.row[conv.isna() & (raw != "")], column, "日期应为 YYYY-MM-DD")
            out[column] = conv.dt.date
        else:
            parsed = _mapped(raw, parse_number)
            err = parsed.map(lambda p: p.error)
            probs.add(frame.row[err.notna()], column, "不是数字")
            num = parsed.map(lambda p: p.value).astype(float)
            if typ == "int":
                probs.add(frame.row[num.notna() & (num != num.round())], column, "应为整数")
                out[column] = num.astype("Int64")
            else:
                out[column] = num
    if layout == "indicators":
        probs.add(frame.row[~out.kind.isin(KINDS)], "kind", f"指标类型应为 {'/'.join(KINDS)}")
        probs.add(frame.row[out.points.fillna(0) < 0], "points", "分值不能为负")
    if layout == "units":
        probs.add(frame.row[~out.level.isin(LEVELS)], "level", f"层级应为 {'/'.join(LEVELS)}")
    if layout == "adjustments":
        probs.add(frame.row[~out.kind.isin(ADJUSTMENT_KINDS)], "kind", f"类型应为 {'/'.join(ADJUSTMENT_KINDS)}")
    return out, probs


def _check_ids(con, layout: str, frame: pd.DataFrame, probs: _Problems) -> None:
    """Foreign keys of the reference tables must name known units/indicators."""
    units = {r[0] for r in con.execute("SELECT unit_id FROM units").fetchall()}
    if layout == "units":
        units |= set(frame.unit_id.dropna())
    indicators = {r[0] for r in con.execute("SELECT indicator_id FROM indicators").fetchall()}
    if layout == "indicators":
        indicators |= set(frame.indicator_id.dropna())
    checks = {"unit_id": units, "parent_id": units if layout == "units" else indicators,
              "charged_to": units, "indicator_id": indicators}
    for column, known in checks.items():
        if column in frame and not (layout in ("units",) and column == "unit_id") \
                and not (layout == "indicators" and column == "indicator_id"):
            bad = frame[column].notna() & ~frame[column].isin(known)
            probs.add(frame.row[bad], column, "引用的编码不存在")


# ---------------------------------------------------------------- store

def _store(con, layout: str, report: IngestReport, actor: Actor, obs=None, tgt=None, ref=None,
           new_refs=None) -> None:
    detail = {"file": report.file, "sha256": report.sha256, "layout": layout}
    with db.transaction(con, actor, "upload", detail) as d:
        upload_id = db.one(con, "SELECT nextval('upload_seq')")[0]
        report.upload_id = d["upload_id"] = upload_id
        if new_refs:
            for uid, name, level in new_refs["units"]:
                con.execute("INSERT INTO units(unit_id, name, level) VALUES (?, ?, ?)", [uid, name, level])
            for rec in new_refs["indicators"]:
                con.execute("""INSERT INTO indicators(indicator_id, name, unit_of_measure, kind, points, needs_review)
                               VALUES (?, ?, ?, ?, 0, true)""",
                            [rec["indicator_id"], rec["name"], rec["unit_of_measure"] or None, rec["kind"]])
        stored = 0
        if obs is not None:
            stored = len(set(obs.row) | set(tgt.row))
        if obs is not None and len(obs):
            con.register("_obs", obs.assign(upload_id=upload_id))
            con.execute("""INSERT INTO observations SELECT year, period, unit_id, indicator_id, measure, value,
                           approx, upload_id, row FROM _obs""")
            con.unregister("_obs")
        if tgt is not None and len(tgt):
            con.register("_tgt", tgt.assign(upload_id=upload_id))
            con.execute("INSERT INTO targets SELECT year, unit_id, indicator_id, measure, target, upload_id, row FROM _tgt")
            con.unregister("_tgt")
        if ref is not None and len(ref):
            columns = list(REFERENCE[layout])
            con.register("_ref", ref.assign(upload_id=upload_id))
            con.execute(_REFERENCE_SQL[layout])
            con.unregister("_ref")
            stored = len(ref)
        report.rows_stored = stored
        report.status = "partial" if report.rows_rejected else "stored"
        d.update(rows_stored=stored, rows_rejected=report.rows_rejected, status=report.status)
        con.execute("""INSERT INTO uploads VALUES (?, ?, ?, ?, ?, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?)""",
                    [upload_id, report.file, report.sha256, layout, actor.username, report.rows_read,
                     stored, report.rows_rejected, report.status, report.message,
                     json.dumps(report.to_dict(), ensure_ascii=False, default=str)])


def ingest_bytes(data: bytes, file: str, actor: Actor, options: IngestOptions | None = None,
                 path: str | os.PathLike | None = None) -> IngestReport:
    """Validate and store one uploaded file. Never raises for a bad file: the report says
    refused (exit 2) with every problem's file, row, column and reason; the database is
    untouched unless the report says stored/partial."""
    require(actor, "upload")
    opts = options or IngestOptions()
    report = IngestReport(file=file, sha256=hashlib.sha256(data).hexdigest())
    try:
        table = read_table(data, file, opts.sheet)
        report.encoding, report.sheet = table.encoding, table.sheet
        layout, header_index, cols = detect_layout(table)
        report.layout = layout
        with db.connect(path) as con:
            dup = db.one(con, "SELECT upload_id FROM uploads WHERE sha256 = ? AND status <> 'withdrawn'",
                         [report.sha256])
            if dup:
                raise DuplicateUpload(file, report.sha256, dup[0])
            obs = tgt = ref = new_refs = None
            if layout == "long":
                obs, tgt, probs, new_refs = _prepare_long(con, table, header_index, cols, opts, report)
                report.created = {k: [r[1] if isinstance(r, tuple) else r["name"] for r in v]
                                  for k, v in new_refs.items() if v}
            else:
                ref, probs = _prepare_reference(layout, table, header_index, cols)
                _check_ids(con, layout, ref, probs)
            report.rows_read = len(_frame(table, header_index, cols))
            report.problems = probs.items
            report.rows_rejected = len(probs.rejected)
            if probs.rejected and not opts.accept_partial:
                report.status = "refused"
                report.message = f"{report.rows_rejected} 行未通过校验，整个文件未入库（可修正后重传，或使用 --accept-partial 只存合格行）"
                return report
            if obs is not None:
                obs = obs[~obs.row.isin(probs.rejected)]
                tgt = tgt[~tgt.row.isin(probs.rejected)]
            if ref is not None:
                ref = ref[~ref.row.isin(probs.rejected)]
            if (obs is None or obs.empty) and (tgt is None or tgt.empty) and (ref is None or ref.empty):
                report.status = "refused"
                report.message = "文件中没有可入库的数据行"
                return report
            report.message = ("全部入库" if not probs.rejected
                              else f"部分入库：{report.rows_rejected} 行被拒绝（--accept-partial）")
            _store(con, layout, report, actor, obs, tgt, ref, new_refs)
            return report
    except DuplicateUpload as e:
        report.status, report.upload_id, report.message = "duplicate", e.upload_id, str(e)
        return report
    except IngestError as e:
        report.status, report.problems, report.message = "refused", e.problems, str(e)
        return report
    except duckdb.Error as e:  # the transaction was rolled back: nothing stored
        report.status = "refused"
        report.message = f"入库失败，未存储任何数据：{type(e).__name__}: {str(e).splitlines()[0]}"
        report.problems = [Problem(file, None, None, report.message)]
        return report


def ingest_path(file_path: str | os.PathLike, actor: Actor, options: IngestOptions | None = None,
                path: str | os.PathLike | None = None) -> IngestReport:
    p = Path(file_path)
    return ingest_bytes(p.read_bytes(), p.name, actor, options, path)


def template_csv() -> bytes:
    """The long-layout template analysts download (UTF-8 with BOM so Excel opens it right)."""
    rows = [",".join(LONG_HEADER),
            "2026,,清河县,固定资产投资,亿元,ytd,152,",
            "2026,9,清河县,固定资产投资,亿元,ytd,,101.36",
            "2026,9,清河县,固定资产投资,%,growth_pct,,-2.1"]
    return ("\n".join(rows) + "\n").encode("utf-8-sig")
