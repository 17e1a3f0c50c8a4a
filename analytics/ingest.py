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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import duckdb
import pandas as pd

from . import bulk, db, locks, mappings, quality, validate
from .errors import Actor, AnalyticsError, DatabaseLocked, DuplicateUpload, IngestError, PermissionDenied, Problem
from .layouts import RECORD_COLUMNS, TOTAL_NAMES, Shape, analyse, apply_mapping, ledger, records
from .parse import clean_text, conversion_factor, infer_kind, infer_level, parse_measure, parse_number
from .readers import Table, read_table, refuse_uncached, upload_name
from .roles import require

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
    notes: list[str] = field(default_factory=list)
    mapping_signature: str | None = None
    mapping_applied: bool = False
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


def _match_reference(header: list[str]) -> tuple[str, dict[str, int]] | None:
    names = {_norm_header(h): i for i, h in enumerate(header)}
    for layout, columns in REFERENCE.items():
        if all(c in names for c in REQUIRED[layout]):
            return layout, {c: names[c] for c in columns if c in names}
    return None


def detect_reference(table: Table) -> tuple[str, int, dict[str, int]] | None:
    """(layout, header row index, column map) when the file is a reference table."""
    for i, (_, cells) in enumerate(table.rows[:5]):
        ref = _match_reference(cells)
        if ref:
            return ref[0], i, ref[1]
    return None


# ---------------------------------------------------------------- reference data

def _reference_names(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, str], dict[str, dict], pd.DataFrame]:
    unit_rows = con.execute("SELECT unit_id, name, level, is_home FROM units").df()
    units: dict[str, str] = {}
    for r in unit_rows.itertuples():
        units[clean_text(r.name)] = r.unit_id
        units[clean_text(r.unit_id)] = r.unit_id
    indicators: dict[str, dict] = {}
    for rec in con.execute("SELECT indicator_id, name, kind, unit_of_measure FROM indicators").df().to_dict("records"):
        indicators[clean_text(rec["name"])] = rec
        indicators[clean_text(rec["indicator_id"])] = rec
    return units, indicators, unit_rows


def _default_unit(title: str, unit_rows: pd.DataFrame) -> str | None:
    """The unit a table without a unit column is about: the most specific unit named in its
    title ("青川市清河县主要经济指标…" → 清河县), else our own county."""
    order = {"township": 0, "department": 0, "county": 1, "city": 2}
    named = [(order.get(r.level, 3), -len(r.name), r.unit_id) for r in unit_rows.itertuples() if r.name in title]
    if named:
        return min(named)[2]
    home = unit_rows[unit_rows.is_home.astype(bool)]
    return str(home.unit_id.iloc[0]) if len(home) else None


def _frame(table: Table, header_index: int, columns: dict[str, int]) -> pd.DataFrame:
    """Data rows below the header as text columns named by field, plus `row`; rows with no
    text at all are skipped (not counted as read)."""
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
    """Collects problems; a row with an error is rejected."""

    def __init__(self, file: str, labels: dict[str, str] | None = None):
        self.file, self.items, self.rejected = file, [], set()
        self.label = labels or {}

    def add(self, rows, column, reason: str, severity: str = "error") -> None:
        """``column``: a field name (its header label is looked up), a header label, or a
        Series of labels aligned with ``rows``."""
        columns = column if isinstance(column, pd.Series) else None
        for i, r in enumerate(rows):
            label = columns.iloc[i] if columns is not None else self.label.get(column, column)
            self.items.append(Problem(self.file, int(r), label, reason, severity))
            if severity == "error":
                self.rejected.add(int(r))

    def add_grouped(self, frame: pd.DataFrame, mask: pd.Series, reasons: pd.Series) -> None:
        for reason, grp in frame[mask].groupby(reasons[mask]):
            self.add(grp.row, grp.column, reason)


# ---------------------------------------------------------------- cell records → observations, targets

_RECS_COLUMNS = ", ".join(f"{c}::{'INTEGER' if c in ('row', 'cell') else 'VARCHAR'} AS {c}" for c in RECORD_COLUMNS)
_CREATE_RECS = "CREATE OR REPLACE TEMP TABLE _recs AS SELECT " + _RECS_COLUMNS + " FROM _recs_frame"


def _load_records(con, recs: pd.DataFrame) -> None:
    con.register("_recs_frame", recs)
    con.execute(_CREATE_RECS)
    con.unregister("_recs_frame")


def _check_records(con, shape: Shape, opts: IngestOptions, report: IngestReport,
                   row_errors: list[tuple[int, str, str]] = (), keys: dict | None = None
                   ) -> tuple[validate.Checked, dict]:
    """On the temp table ``_recs``: names → ids (unknown names refuse the file unless
    create_missing), then every check of :mod:`analytics.validate`. Returns the result and
    the library entries to create. ``keys``: :func:`validate.distinct_keys`, when known."""
    units, indicators, unit_rows = _reference_names(con)
    keys = keys or validate.distinct_keys(con)
    if keys["no_unit"]:  # no unit column: about one unit
        default = _default_unit(shape.context.title, unit_rows)
        if default is None:
            raise IngestError("表中没有单位列，标题中也没有可识别的单位名称", report.file)
        _set_unit(con, default)
        keys["unit"] = [default]
    city = unit_rows[unit_rows.level == "city"].unit_id
    home = unit_rows[unit_rows.is_home.astype(bool)].unit_id
    for name, which in TOTAL_NAMES.items():  # table totals: 全市 → the city, 全县 → our county
        ids = city if which == "city" else home
        if len(ids):
            units.setdefault(name, str(ids.iloc[0]))
    key_label = {c.role: c.label for c in shape.columns if c.role in
                 ("indicator", "unit", "uom", "year", "period", "measure")}
    created = {"units": [], "indicators": []}
    raw_of: dict[str, list[str]] = {}
    for fld, label, lookup in (("unit", "单位", units), ("indicator", "指标", indicators)):
        raws = keys[fld]
        unknown = sorted({clean_text(v) for v in raws} - set(lookup) - {""})
        by_clean: dict[str, list[str]] = {}
        for v in raws:
            by_clean.setdefault(clean_text(v), []).append(v)
        raw_of.update({name: by_clean[name] for name in unknown})
        if unknown and not opts.create_missing:
            first = db.one(con, _FIRST_OF[fld], [[v for name in unknown for v in raw_of[name]]])
            raise IngestError(f"未知{label}名称 {len(unknown)} 个：{_listed(unknown)}"
                              f"。请先在{label}库中添加，或勾选/使用 --create-missing 自动创建",
                              report.file, first[0] if first else None, key_label.get(fld, first[1] if first else None))
        created["units" if fld == "unit" else "indicators"] = unknown
    for name in created["units"]:
        units[name] = f"U-{hashlib.sha1(name.encode()).hexdigest()[:8]}"
    new_indicators = []
    for name in created["indicators"]:
        measure, kind, uom, parent = db.one(con, _FIRST_OF["new_indicator"], [raw_of[name]])
        volume = (parse_measure(measure) or "ytd") == "ytd"
        rec = {"indicator_id": f"X-{hashlib.sha1(name.encode()).hexdigest()[:8]}", "name": name,
               "kind": infer_kind(name, uom if volume else ""), "unit_of_measure": (uom or None) if volume else None,
               "parent_id": indicators.get(clean_text(parent), {}).get("indicator_id") if parent else None}
        indicators[name] = rec
        new_indicators.append(rec)
    validate.build_lookups(con, units, indicators, keys)
    checked = validate.check(con, report.file, key_label, opts.year, opts.period, row_errors, opts.accept_partial,
                             keys["rows"])
    new_refs = {"units": [(units[n], n, infer_level(n)) for n in created["units"]], "indicators": new_indicators}
    return checked, new_refs


def _set_unit(con, unit: str) -> None:
    """Every record of ``_recs`` is about ``unit`` (the bulk path's ``_recs`` is a view: it
    becomes a table)."""
    con.execute("CREATE OR REPLACE TEMP TABLE _recs_unit AS SELECT * REPLACE (?::VARCHAR AS unit) FROM _recs", [unit])
    is_view = db.one(con, "SELECT count(*) FROM duckdb_views() WHERE view_name = '_recs' AND temporary")[0]
    con.execute("DROP VIEW _recs" if is_view else "DROP TABLE _recs")
    con.execute("ALTER TABLE _recs_unit RENAME TO _recs")


def _listed(names: list[str], limit: int = 20, width: int = 30) -> str:
    """Names for a message: the first ``limit``, each cut at ``width`` characters."""
    shown = [n if len(n) <= width else f"{n[:width]}…（共 {len(n):,} 个字符）" for n in names[:limit]]
    return "、".join(shown) + (" 等" if len(names) > limit else "")


_FIRST_OF = {  # the first record naming one of the given raw names (a list parameter)
    "unit": "SELECT row, header FROM _recs WHERE unit IN (SELECT unnest(?)) ORDER BY row LIMIT 1",
    "indicator": "SELECT row, header FROM _recs WHERE indicator IN (SELECT unnest(?)) ORDER BY row LIMIT 1",
    "new_indicator": """SELECT measure, kind, uom, parent FROM _recs WHERE indicator IN (SELECT unnest(?))
                        ORDER BY kind = 'target', row LIMIT 1""",
}


# ---------------------------------------------------------------- reference layouts

_BOOL = {"1": True, "0": False, "true": True, "false": False, "是": True, "否": False, "": False,
         "y": True, "n": False, "yes": True, "no": False}


def _prepare_reference(layout: str, table: Table, header_index: int, cols: dict[str, int]
                       ) -> tuple[pd.DataFrame, _Problems]:
    header = table.rows[header_index][1]
    probs = _Problems(table.file, {fld: clean_text(header[i]) for fld, i in cols.items()})
    return _typed(layout, _frame(table, header_index, cols), probs), probs


def _typed(layout: str, frame: pd.DataFrame, probs: _Problems) -> pd.DataFrame:
    """Text columns → the types REFERENCE declares for ``layout``; problems per cell."""
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
    return out


def _prepare_ledger(con, table: Table, shape: Shape, opts: IngestOptions, report: IngestReport
                    ) -> tuple[dict[str, pd.DataFrame], _Problems, dict]:
    """Key-project ledger → projects + project_progress (amounts in 万元)."""
    text, found = ledger(table, shape)
    probs = _Problems(table.file, {f: c.label for f, c in found.items()})
    for fld in ("name", "plan_investment", "completed"):
        if fld not in found:
            raise IngestError(f"重点项目台账缺少「{ {'name': '项目名称', 'plan_investment': '年度计划投资', 'completed': '1-N月完成投资'}[fld]}」列",
                              table.file, table.rows[shape.header_rows[0]][0])
    period = found["completed"].period or shape.context.period
    year = found["completed"].year or shape.context.year
    for name, stated, given in (("期间", period, opts.period), ("年份", year, opts.year)):
        if stated is not None and given is not None and stated != given:
            raise IngestError(f"文件写明的{name}（{stated}）与指定的 {given} 不一致：不覆盖，拒绝", table.file,
                              table.rows[shape.header_rows[0]][0], found["completed"].label)
    period, year = period or opts.period, year or opts.year
    if period is None or year is None:
        raise IngestError("台账未写明年份或期间（如「1-9月完成投资」），请指定年份和期间", table.file)
    units, _, _ = _reference_names(con)
    unknown = sorted(set(text.get("unit", pd.Series(dtype=str))) - set(units) - {""})
    if unknown and not opts.create_missing:
        raise IngestError(f"未知单位名称 {len(unknown)} 个：{_listed(unknown)}。请先在单位库中添加，或使用 --create-missing",
                          table.file, int(text.row.iloc[0]), found["unit"].label)
    units.update({n: f"U-{hashlib.sha1(n.encode()).hexdigest()[:8]}" for n in unknown})
    for fld in ("plan_investment", "completed"):  # amounts → 万元
        factor = conversion_factor(found[fld].uom or shape.context.uom or "万元", "万元")
        if factor is None:
            raise IngestError(f"「{found[fld].label}」的计量单位无法换算为万元", table.file, None, found[fld].label)
        text[fld] = text[fld].map(lambda t, f=factor: t if parse_number(t).value is None else repr(parse_number(t).value * f))
    ids = text.project_id if "project_id" in text else text.name.map(
        lambda n: f"P-{hashlib.sha1(f'{year}:{n}'.encode()).hexdigest()[:8]}")
    text = text.assign(project_id=ids, year=str(year), period=str(period),
                       unit_id=text.get("unit", pd.Series("", index=text.index)).map(lambda n: units.get(n, "")))
    started = text.get("started", pd.Series("", index=text.index))
    text["started"] = started
    projects = _typed("projects", text, probs)
    progress = _typed("project_progress", text, probs)
    new_refs = {"units": [(units[n], n, infer_level(n)) for n in unknown], "indicators": []}
    report.created = {"units": unknown} if unknown else {}
    return {"projects": projects, "project_progress": progress}, probs, new_refs


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

def _store(con, report: IngestReport, actor: Actor, checked: validate.Checked | None,
           refs: dict[str, pd.DataFrame], new_refs: dict | None) -> None:
    """One transaction: the upload row, library entries created, the values (from the
    checked records' temp tables) or reference rows, the audit entry, the version bump."""
    detail = {"file": report.file, "sha256": report.sha256, "layout": report.layout}
    with db.transaction(con, actor, "upload", detail) as d:
        # Period locking (analytics/locks.py): checked inside the write transaction, before
        # anything is stored, so a locked period refuses the whole file (IngestError → rollback).
        locks.refuse_locked(con, report.file, locks.upload_periods(con, checked is not None, refs))
        upload_id = db.one(con, "SELECT nextval('upload_seq')")[0]
        report.upload_id = d["upload_id"] = upload_id
        for uid, name, level in (new_refs or {}).get("units", []):
            con.execute("INSERT INTO units(unit_id, name, level) VALUES (?, ?, ?)", [uid, name, level])
        for rec in (new_refs or {}).get("indicators", []):
            con.execute("""INSERT INTO indicators(indicator_id, name, unit_of_measure, kind, direction, points,
                           parent_id, needs_review) VALUES (?, ?, ?, ?, 1, 0, ?, true)""",
                        [rec["indicator_id"], rec["name"], rec["unit_of_measure"], rec["kind"], rec.get("parent_id")])
        stored = 0
        if checked is not None:
            validate.store(con, upload_id)
            stored = checked.storable_rows
        for ref_layout, ref in refs.items():
            con.register("_ref", ref.assign(upload_id=upload_id))
            con.execute(_REFERENCE_SQL[ref_layout])
            con.unregister("_ref")
            stored = max(stored, len(ref))
        report.rows_stored = stored
        report.status = "partial" if report.rows_rejected else "stored"
        d.update(rows_stored=stored, rows_rejected=report.rows_rejected, status=report.status)
        con.execute("""INSERT INTO uploads VALUES (?, ?, ?, ?, ?, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?)""",
                    [upload_id, report.file, report.sha256, report.layout, actor.username, report.rows_read,
                     stored, report.rows_rejected, report.status, report.message,
                     json.dumps(report.to_dict(), ensure_ascii=False, default=str)])


Progress = Callable[[str, float], None]
_HASHING = ThreadPoolExecutor(thread_name_prefix="sha256")  # hashlib lets go of the GIL: hashed while decoded
HEAD_ROWS = 400  # a CSV is first parsed this far: enough for the header, the layout and the bulk path's checks


def _shape(table: Table, mapping: dict | None, path) -> tuple[Shape, str, dict | None]:
    """Analyse the table; apply the given mapping, else the one saved for this shape."""
    shape = analyse(table)
    sig = mappings.signature(shape)
    if mapping is not None:
        try:
            mappings.validate(mapping)
        except AnalyticsError as e:
            raise IngestError(str(e), table.file) from None
    used = mapping if mapping is not None else mappings.saved(sig, path)
    return apply_mapping(shape, used, table.file), sig, used


def preview(data: bytes, file: str, options: IngestOptions | None = None,
            mapping: dict | None = None, path: str | os.PathLike | None = None, limit: int = 20) -> dict:
    """What ingest would do, without storing: encoding, sheets, layout, header, what each
    column is taken to be, year/period/unit from captions, and the first records."""
    opts = options or IngestOptions()
    file, bad_name = upload_name(file)
    if bad_name:
        raise IngestError(bad_name, file)
    table = read_table(data, file, opts.sheet, head=HEAD_ROWS)
    out = {"file": file, "encoding": table.encoding, "sheet": table.sheet, "sheets": table.sheets}
    reference = detect_reference(table)
    if reference:
        return {**out, "layout": reference[0], "columns": [], "signature": None, "mapping": None, "records": []}
    shape, sig, used = _shape(table, mapping, path)
    recs = records(table, shape)[0] if shape.layout != "project_ledger" else ledger(table, shape)[0]
    return {**out, **shape.to_dict(), "signature": sig, "mapping": used, "records": recs.head(limit)}


def ingest_bytes(data: bytes, file: str, actor: Actor, options: IngestOptions | None = None,
                 path: str | os.PathLike | None = None, mapping: dict | None = None,
                 on_progress: Progress | None = None) -> IngestReport:
    """Validate and store one uploaded file. Never raises for a bad file: the report says
    refused (exit 2) with every problem's file, row, column and reason; the database is
    untouched unless the report says stored/partial. ``mapping`` overrides the column
    roles (else the mapping saved for this table shape is used)."""
    require(actor, "upload")
    opts = options or IngestOptions()
    step = on_progress or (lambda stage, fraction: None)
    file, bad_name = upload_name(file)  # the last path component; control characters refused
    digest = _HASHING.submit(lambda: hashlib.sha256(data).hexdigest())
    report = IngestReport(file=file, sha256="")  # the digest is set before any use and on every way out
    try:
        if bad_name:
            raise IngestError(bad_name, file)
        step("解码与读取", 0.05)
        table = read_table(data, file, opts.sheet, head=HEAD_ROWS)
        report.encoding, report.sheet = table.encoding, table.sheet
        step("识别表头与格式", 0.3)
        reference = detect_reference(table)
        shape = None
        if not reference:
            shape, report.mapping_signature, used = _shape(table, mapping, path)
            report.mapping_applied = used is not None
        refuse_uncached(table, [c.label for c in shape.columns] if shape else table.rows[reference[1]][1])
        report.layout = reference[0] if reference else shape.layout
        if not table.complete and report.layout != "long":  # only the long layout has a bulk path
            table = read_table(data, file, opts.sheet)
        with db.connect(path) as con:
            report.sha256 = digest.result()
            dup = db.one(con, "SELECT upload_id FROM uploads WHERE sha256 = ? AND status <> 'withdrawn'",
                         [report.sha256])
            if dup:
                raise DuplicateUpload(file, report.sha256, dup[0])
            step("校验", 0.45)
            checked = new_refs = None
            refs: dict[str, pd.DataFrame] = {}
            if shape is not None and shape.layout == "project_ledger":
                refs, probs, new_refs = _prepare_ledger(con, table, shape, opts, report)
                report.rows_read = len(refs["projects"])
            elif shape is not None:
                row_errors: list = []
                keys = None
                if not table.complete:
                    keys = bulk.load(con, table.text.encode("utf-8") if report.encoding != "UTF-8" else data,
                                     shape, table.rows[shape.header_rows[-1]][0], table.delimiter, len(shape.columns))
                    if keys is None:
                        table = read_table(data, file, opts.sheet)
                if keys is None:
                    recs, rows_read, row_errors = records(table, shape)
                    if recs.empty:
                        raise IngestError("表中没有数据行", file)
                    _load_records(con, recs)
                report.rows_read = keys["rows"] if keys else rows_read
                checked, new_refs = _check_records(con, shape, opts, report, row_errors, keys)
                report.created = {k: [r[1] if isinstance(r, tuple) else r["name"] for r in v]
                                  for k, v in new_refs.items() if v}
                report.notes = shape.context.notes
            else:
                layout, header_index, cols = reference
                refs[layout], probs = _prepare_reference(layout, table, header_index, cols)
                _check_ids(con, layout, refs[layout], probs)
                report.rows_read = len(refs[layout])
            if checked is not None:
                report.problems, report.rows_rejected = checked.problems, checked.rejected
                report.rows_empty, storable = checked.empty_rows, checked.storable_rows
            else:
                report.problems, report.rows_rejected = probs.items, len(probs.rejected)
                refs = {k: v[~v.row.isin(probs.rejected)] for k, v in refs.items()}
                storable = sum(len(v) for v in refs.values())
            if report.rows_rejected and not opts.accept_partial:
                report.status = "refused"
                report.message = (f"{report.rows_rejected:,} 行未通过校验，整个文件未入库；"
                                  "请修正后重传，或选择只存合格行")
                return report
            if not storable:
                report.status = "refused"
                report.message = "文件中没有可入库的数值"
                return report
            report.message = (f"{storable:,} 行全部入库" if not report.rows_rejected
                              else f"{storable:,} 行入库，{report.rows_rejected:,} 行被拒绝（只存合格行）")
            step("写入数据库（单一事务）", 0.8)
            _store(con, report, actor, checked, refs, new_refs)
            quality.after_upload(con, report, actor)  # data-quality flags stored with the upload; never raises
            step("完成", 1.0)
            return report
    except DuplicateUpload as e:
        report.status, report.upload_id, report.message = "duplicate", e.upload_id, str(e)
        return report
    except IngestError as e:
        report.status, report.problems, report.message = "refused", e.problems, str(e)
        return report
    except (DatabaseLocked, PermissionDenied):
        raise
    except Exception as e:  # noqa: BLE001 — a hostile file must never end in a traceback
        report.status, report.upload_id, report.rows_stored = "refused", None, 0
        report.message = (f"无法处理该文件，未存储任何数据（{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}）。"
                          "请检查文件内容，或另存为模板格式后再上传")
        report.problems = [Problem(file, None, None, report.message)]
        return report
    finally:
        report.sha256 = digest.result()


def withdraw_upload(upload_id: int, actor: Actor, reason: str = "",
                    path: str | os.PathLike | None = None) -> dict:
    """Withdraw an upload: its revisions stop being current and the previous ones return.
    Nothing is deleted; the withdrawal is audited. Library uploads (units, indicators)
    cannot be withdrawn (they edit the library in place)."""
    require(actor, "withdraw")
    with db.connect(path) as con:
        row = db.one(con, "SELECT file_name, status, layout FROM uploads WHERE upload_id = ?", [upload_id])
        if row is None:
            raise AnalyticsError(f"没有上传批次 #{upload_id}")
        file, status, layout = row
        if status == "withdrawn":
            raise AnalyticsError(f"上传批次 #{upload_id}（{file}）已撤回")
        if layout in ("units", "indicators"):
            raise AnalyticsError(f"上传批次 #{upload_id}（{file}）修改的是{'单位库' if layout == 'units' else '指标库'}，"
                                 "不能撤回；请上传更正后的文件")
        detail = {"upload_id": upload_id, "file": file, "before": status, "after": "withdrawn", "reason": reason}
        with db.transaction(con, actor, "withdraw", detail):
            con.execute("UPDATE uploads SET status = 'withdrawn' WHERE upload_id = ?", [upload_id])
    return detail


def ingest_path(file_path: str | os.PathLike, actor: Actor, options: IngestOptions | None = None,
                path: str | os.PathLike | None = None, mapping: dict | None = None) -> IngestReport:
    p = Path(file_path)
    return ingest_bytes(p.read_bytes(), p.name, actor, options, path, mapping)


TEMPLATES: dict[str, tuple[str, list[str]]] = {
    "long": ("长表模板.csv", [
        ",".join(LONG_HEADER),
        "2026,,清河县,固定资产投资,亿元,ytd,152,",
        "2026,9,清河县,固定资产投资,亿元,ytd,,101.36",
        "2026,9,清河县,固定资产投资,%,growth_pct,,-2.1"]),
    "indicator_rows": ("指标行表模板.csv", [
        "清河县主要经济指标完成情况（2026年1-9月）,,,,,",
        "单位：亿元、%,,,,,",
        "指标名称,全年目标,1-9月,,完成全年目标%,备注",
        ",,累计完成,同比增长%,,",
        "固定资产投资,152.0,101.36,-2.1,66.68,增速目标6.5%",
        "  其中：工业投资,60.0,41.95,12.4,69.92,",
        "一般公共预算收入（万元）,\"98,000\",\"71,264\",3.3,72.72,",
        "注：“—”表示无此项目标或数据暂缺。,,,,,"]),
    "month_columns": ("月份列表模板.csv", [
        "指标,单位,年份,1-2月,1-3月,1-4月,1-5月,1-6月,1-7月,1-8月,1-9月,1-10月,1-11月,1-12月",
        "固定资产投资,亿元,2025,14.2,25.9,37.5,49.8,70.3,81.0,92.6,104.1,117.9,131.0,148.3",
        "固定资产投资,亿元,2026,15.1,26.0,38.8,50.2,68.9,79.4,90.1,101.36,,,"]),
    "unit_rows": ("县区对比表模板.csv", [
        "青川市各县（市、区）主要指标对比（2026年1-9月）,,,,,,",
        "县（市、区）,固定资产投资,,,一般公共预算收入,,",
        ",总量(亿元),增速(%),位次,总量(万元),增速(%),位次",
        "清河县,101.36,-2.1,6,71264,3.3,4",
        "龙泉县,118.4,4.4,2,80315,5.1,2"]),
    "project_ledger": ("重点项目台账模板.csv", [
        "序号,项目名称,项目类别,责任单位,分管领导,年度计划投资(万元),1-9月完成投资(万元),形象进度,计划开工时间,是否开工",
        "1,示例项目,省重点,县发改局,王副县长,\"32,000\",\"25,600\",主体封顶,2026-03,是"]),
}


def template(layout: str) -> tuple[str, bytes]:
    """(file name, bytes) of the downloadable template for a layout: UTF-8 with BOM, so Excel
    and WPS open it with the Chinese intact."""
    name, lines = TEMPLATES[layout]
    return name, ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")
