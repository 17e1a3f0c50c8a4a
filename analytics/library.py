"""Managing the year's data: the indicator library (指标库) with owners, targets and their
mid-year changes, adjustments (加减分事项), the scoring rules file, and the year rollover.

Every write checks the caller's role (:func:`roles.require`) and is one
:func:`db.transaction` — one audit entry carrying the before/after values, one data-version
bump. Editors are validated cell by cell: a refused edit raises :class:`LibraryError` whose
``problems`` name the row (1-based, as the editor shows it), the column and the reason, and
nothing is written.

Values added by hand (an owner change, a target change, an adjustment) are stored like an
upload: a row in ``uploads`` (layout ``manual_*``, file name saying who typed it) whose id the
new rows carry — so the current value stays "the latest revision from an upload not
withdrawn", history is kept, and a mistaken entry is withdrawn like any upload.
"""
from __future__ import annotations

import difflib
import hashlib
import io
import json
import math
import os
import re
import tomllib
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import tomlkit

from . import db, exports, scoring
from .errors import Actor, AnalyticsError, Problem
from .ingest import ADJUSTMENT_KINDS, KINDS, IngestOptions, IngestReport, ingest_bytes
from .roles import require

PathLike = str | os.PathLike | None


class LibraryError(AnalyticsError):
    """An edit refused as a whole; ``problems`` lists every bad cell (nothing was written)."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        head = "；".join(map(str, problems[:5])) + (f" 等 {len(problems)} 处" if len(problems) > 5 else "")
        super().__init__(f"未保存：{head}")

    def to_dict(self) -> dict:
        return {"error": "LibraryError", "reason": str(self), "problems": [p.to_dict() for p in self.problems]}


# ---------------------------------------------------------------- shared helpers

INDICATOR_EDITABLE = ("unit_of_measure", "kind", "direction", "category", "points", "is_key", "is_difficult",
                      "curve")
INDICATOR_COLUMNS = ("indicator_id", "name", *INDICATOR_EDITABLE, "scoring_method", "scope", "parent_id",
                     "needs_review")
OWNER_FIELDS = ("owner_leader", "owner_staff", "owner_office")
LABELS = {
    "indicator_id": "指标编码", "name": "指标名称", "unit_of_measure": "计量单位", "kind": "指标类型",
    "direction": "方向", "category": "类别", "points": "分值", "is_key": "重点", "is_difficult": "难点",
    "curve": "进度曲线", "scoring_method": "计分方法", "scope": "考核范围", "parent_id": "上级指标",
    "needs_review": "待完善", "unit_id": "单位编码", "owner_leader": "分管领导", "owner_staff": "经办人员",
    "owner_office": "办事机构", "valid_from": "生效日期", "year": "年份", "kind_adj": "类型", "level": "荣誉级别",
    "item": "事项", "reason": "原因", "charged_to": "转扣部门", "measure": "口径", "target": "目标值",
}
HONOUR_LEVELS = ("national", "provincial", "city")
_PLAN_PART = re.compile(r"\s*(\d{1,2})\s*=\s*([\d.]+)\s*")
_TRUE = {True, 1, "1", "true", "True", "是", "y", "yes"}
_FALSE = {False, 0, "0", "false", "False", "否", "n", "no", "", None}


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT or \
        (isinstance(v, str) and v.strip() == "")


def _text(v) -> str | None:
    if _blank(v):
        return None
    s = str(v).strip()
    if s.startswith("'") and s[1:].startswith(exports.FORMULA_PREFIXES):  # our own export's neutralising
        s = s[1:]
    return s


def _number(v) -> float | None:
    """A finite number, None for blank; raises ValueError otherwise."""
    if _blank(v):
        return None
    if isinstance(v, bool):
        raise ValueError
    x = float(str(v).replace(",", "")) if isinstance(v, str) else float(v)
    if not math.isfinite(x):
        raise ValueError
    return x


def _bool(v) -> bool:
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, str):
        v = v.strip().lower()
    if v in _TRUE:
        return True
    if _blank(v) or v in _FALSE:
        return False
    raise ValueError


def _date(v) -> date:
    if isinstance(v, datetime | pd.Timestamp):
        d = v.date()
    elif isinstance(v, date):
        d = v
    else:
        d = date.fromisoformat(str(v).strip()[:10])
    if not 2000 <= d.year <= 2100:
        raise ValueError
    return d


def _jsonable(v):
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, date | datetime):
        return v.isoformat()
    return v


def _manual_upload(con: duckdb.DuckDBPyConnection, actor: Actor, layout: str, label: str, rows: int,
                   message: str = "") -> int:
    """An uploads row for values typed in by hand (its id is carried by the new rows)."""
    upload_id = db.one(con, "SELECT nextval('upload_seq')")[0]
    sha = hashlib.sha256(f"manual:{layout}:{uuid.uuid4()}".encode()).hexdigest()
    con.execute("INSERT INTO uploads VALUES (?, ?, ?, ?, ?, now()::TIMESTAMP, ?, ?, 0, 'stored', ?, NULL)",
                [upload_id, f"{label}（{actor.name or actor.username} 手工录入）", sha, layout, actor.username,
                 rows, rows, message])
    return upload_id


def check_curve(curve) -> str | None:
    """None if ``curve`` is linear, seasonal or a plan curve analytics.progress.parse_plan
    reads in full ('plan:6=60;12=120': months 1–12, ascending, each once); else the reason."""
    if _blank(curve) or str(curve).strip() in ("linear", "seasonal"):
        return None
    s = str(curve).strip()
    if not s.startswith("plan:"):
        return "进度曲线应为 linear、seasonal 或 plan:月=百分比;…（如 plan:6=60;12=120）"
    parts = s[5:].split(";")
    months = []
    for part in parts:
        m = _PLAN_PART.fullmatch(part)
        if not m:
            return f"计划曲线的「{part.strip() or '空'}」应写作 月=百分比（如 6=60）"
        months.append(int(m.group(1)))
        try:
            float(m.group(2))
        except ValueError:
            return f"计划曲线的「{part.strip()}」百分比不是数字"
    if any(not 1 <= mo <= 12 for mo in months):
        return "计划曲线的月份应在 1–12 之间"
    if months != sorted(set(months)):
        return "计划曲线的月份应递增且不重复"
    from .progress import parse_plan  # the parser the gap analysis uses
    return None if parse_plan(s) else "计划曲线无法解析"


# ---------------------------------------------------------------- indicators

def indicators(path: PathLike = None) -> pd.DataFrame:
    """The indicator library, in id order (needs_review: 待完善, created by --create-missing)."""
    return db.query("SELECT " + ", ".join(INDICATOR_COLUMNS) + " FROM indicators ORDER BY indicator_id",
                    path=path)


def needs_review(path: PathLike = None) -> pd.DataFrame:
    """Indicators flagged 待完善 (created by an upload with --create-missing)."""
    frame = indicators(path)
    return frame[frame.needs_review.astype(bool)].reset_index(drop=True)


def _clean_indicator(rec: dict, row: int, table: str, probs: list[Problem], new: bool) -> dict:
    """Typed values of one edited indicator row; a Problem per bad cell."""
    out = {"indicator_id": _text(rec.get("indicator_id"))}

    def bad(col, reason):
        probs.append(Problem(table, row, LABELS[col], reason))

    if not out["indicator_id"]:
        bad("indicator_id", "必填项为空")
    if new or "name" in rec:
        out["name"] = _text(rec.get("name"))
        if not out["name"]:
            bad("name", "必填项为空")
    for col in INDICATOR_EDITABLE:
        if col not in rec:
            continue
        v = rec[col]
        try:
            if col == "kind":
                out[col] = _text(v)
                if out[col] not in KINDS:
                    bad(col, f"指标类型应为 {'/'.join(KINDS)}，实为「{out[col] or '空'}」")
            elif col == "direction":
                x = _number(v)
                if x not in (1, -1):
                    bad(col, f"方向应为 1（越大越好）或 -1（越小越好），实为「{'空' if x is None else f'{x:g}'}」")
                out[col] = int(x) if x in (1, -1) else None
            elif col == "points":
                x = _number(v)
                if x is None or x < 0:
                    bad(col, "分值应为不小于 0 的数" + ("" if x is None else f"，实为 {x:g}"))
                out[col] = x
            elif col in ("is_key", "is_difficult"):
                out[col] = _bool(v)
            elif col == "curve":
                reason = check_curve(v)
                if reason:
                    bad(col, reason)
                out[col] = _text(v) or "linear"
            else:
                out[col] = _text(v)
        except (ValueError, TypeError):
            bad(col, {"direction": "方向应为 1 或 -1", "points": "分值不是数字"}.get(col, "应为 是/否"))
    if out.get("kind") == "ceiling" and out.get("direction") == 1:
        bad("direction", "下降类（ceiling）指标方向应为 -1（越小越好）")
    return out


def _complete(rec: dict) -> bool:
    """待完善 is cleared once the fields --create-missing cannot infer are filled: category
    and unit of measure (kind, direction and points are always valid once saved)."""
    return bool(rec.get("category")) and bool(rec.get("unit_of_measure"))


def indicator_changes(edited: pd.DataFrame, path: PathLike = None, table: str = "指标库",
                      allow_new: bool = False) -> tuple[list[dict], list[Problem]]:
    """Compare an edited library table with the database: the changes (indicator_id, name,
    before {field: old}, after {field: new}, new) and every bad cell. Nothing is written."""
    current = indicators(path).set_index("indicator_id")
    probs: list[Problem] = []
    changes = []
    names = {}
    for i, rec in enumerate(edited.to_dict("records"), start=1):
        rec = {k: v for k, v in rec.items() if k in INDICATOR_COLUMNS}
        iid = _text(rec.get("indicator_id"))
        is_new = iid not in current.index
        if is_new and not allow_new:
            probs.append(Problem(table, i, LABELS["indicator_id"], f"指标编码「{iid or '空'}」不在指标库中"))
            continue
        if is_new:
            for col, default in (("direction", 1), ("points", 0), ("curve", "linear"), ("is_key", False),
                                 ("is_difficult", False)):
                if _blank(rec.get(col)):
                    rec[col] = default
        clean = _clean_indicator(rec, i, table, probs, is_new)
        if clean.get("name"):
            if clean["name"] in names:
                probs.append(Problem(table, i, LABELS["name"], f"指标名称与第 {names[clean['name']]} 行重复"))
            names[clean["name"]] = i
        if is_new:
            clean.setdefault("kind", None)
            if clean["kind"] is None:
                probs.append(Problem(table, i, LABELS["kind"], "必填项为空"))
            changes.append({"indicator_id": iid, "name": clean.get("name"), "new": True, "before": {},
                            "after": {k: _jsonable(v) for k, v in clean.items() if k != "indicator_id"},
                            "needs_review": False})
            continue
        old = current.loc[iid]
        before, after = {}, {}
        for col, v in clean.items():
            if col == "indicator_id":
                continue
            ov = _jsonable(old[col])
            ov = None if _blank(ov) else ov
            if col in ("is_key", "is_difficult"):
                ov = bool(ov)
            if col == "points" and ov is not None:
                ov = float(ov)
            if v != ov:
                before[col], after[col] = ov, _jsonable(v)
        was_review = bool(old["needs_review"])
        merged = {**{c: _jsonable(old[c]) for c in INDICATOR_EDITABLE}, **{k: v for k, v in clean.items()}}
        clears = was_review and _complete(merged)
        if before or clears:
            if clears:
                before["needs_review"], after["needs_review"] = True, False
            changes.append({"indicator_id": iid, "name": str(old["name"]), "new": False, "before": before,
                            "after": after, "needs_review": was_review and not clears})
    # names stay unique across the whole library once the edits are applied
    final = {str(k): str(n) for k, n in current["name"].items()}
    edited_rows = {}
    for i, rec in enumerate(edited.to_dict("records"), start=1):
        iid, name = _text(rec.get("indicator_id")), _text(rec.get("name"))
        if iid and name:
            final[iid] = name
            edited_rows[iid] = i
    owner_of: dict[str, str] = {}
    for iid, name in final.items():
        if name in owner_of and (iid in edited_rows or owner_of[name] in edited_rows):
            who = iid if iid in edited_rows else owner_of[name]
            other = owner_of[name] if who == iid else iid
            if not any(p.row == edited_rows[who] and p.column == LABELS["name"] for p in probs):
                probs.append(Problem(table, edited_rows[who], LABELS["name"], f"指标名称「{name}」已被指标 {other} 使用"))
        owner_of.setdefault(name, iid)
    return changes, probs


def _apply_indicator_changes(con, changes: list[dict]) -> None:
    for ch in changes:
        if ch["new"]:
            a = ch["after"]
            con.execute("""INSERT INTO indicators(indicator_id, name, unit_of_measure, kind, direction, category, points,
                           is_key, is_difficult, curve, needs_review) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, false)""",
                        [ch["indicator_id"], a.get("name"), a.get("unit_of_measure"), a.get("kind"),
                         a.get("direction", 1), a.get("category"), a.get("points", 0), a.get("is_key", False),
                         a.get("is_difficult", False), a.get("curve") or "linear"])
            continue
        for col, v in ch["after"].items():
            if col not in (*INDICATOR_EDITABLE, "needs_review", "name"):
                raise AnalyticsError(f"不可修改的字段 {col}")
            con.execute(_UPDATE_INDICATOR[col], [v, ch["indicator_id"]])


# one UPDATE per editable column, built from our own constant names (never from input)
_UPDATE_INDICATOR = {c: "UPDATE indicators SET " + c + " = ? WHERE indicator_id = ?"
                     for c in (*INDICATOR_EDITABLE, "needs_review", "name")}


def save_indicators(edited: pd.DataFrame, actor: Actor, path: PathLike = None) -> list[dict]:
    """Validate and save an edited library table (existing indicators only): one audited
    write with each changed indicator's before/after values. Returns the changes ([] when
    nothing changed: nothing written). Raises :class:`LibraryError` listing every bad cell."""
    require(actor, "edit_data")
    changes, probs = indicator_changes(edited, path)
    if probs:
        raise LibraryError(probs)
    if not changes:
        return []
    with db.connect(path) as con:
        with db.transaction(con, actor, "edit_indicators", {"changes": changes}):
            _apply_indicator_changes(con, changes)
    return changes


# ---------------------------------------------------------------- owners (分管领导 / 经办人员 / 办事机构)

_OWNERS = """SELECT o.indicator_id, i.name AS indicator, o.unit_id, un.name AS unit, o.owner_leader, o.owner_staff,
                    o.owner_office, o.valid_from, o.upload_id
             FROM indicator_owners o JOIN uploads up USING (upload_id)
             LEFT JOIN indicators i USING (indicator_id) LEFT JOIN units un ON un.unit_id = o.unit_id
             WHERE up.status <> 'withdrawn'"""


def owner_history(indicator_id: str | None = None, path: PathLike = None) -> pd.DataFrame:
    """Every owner entry not withdrawn, by indicator, unit and valid_from (newest last)."""
    return db.query(_OWNERS + " AND (?::VARCHAR IS NULL OR o.indicator_id = ?) "
                    "ORDER BY o.indicator_id, o.unit_id NULLS FIRST, o.valid_from, o.upload_id",
                    [indicator_id, indicator_id], path)


def owners(path: PathLike = None, asof: date | str | None = None) -> pd.DataFrame:
    """The owners in force on ``asof`` (default today): per (indicator, unit) the entry with
    the latest valid_from ≤ asof — a bulletin for 1-6月 names the owners of that time."""
    day = _date(asof) if asof is not None else date.today()
    return db.query("SELECT * FROM (" + _OWNERS + " AND o.valid_from <= ?) QUALIFY row_number() OVER "
                    "(PARTITION BY indicator_id, unit_id ORDER BY valid_from DESC, upload_id DESC) = 1 "
                    "ORDER BY indicator_id, unit_id NULLS FIRST", [day], path)


def owner_changes(edited: pd.DataFrame, path: PathLike = None, table: str = "责任人",
                  only_changed: bool = True) -> tuple[list[dict], list[Problem]]:
    """Edited owner rows → new owner entries (a change takes effect on its valid_from; the
    previous entry stays in the history). Rows identical to the owners in force are skipped
    when ``only_changed``. Every bad cell is a Problem."""
    current = owners(path, asof=date(2100, 12, 31))
    cur = {(r.indicator_id, None if _blank(r.unit_id) else r.unit_id): r for r in current.itertuples()}
    with db.connect(path) as con:
        known_ind = {r[0] for r in con.execute("SELECT indicator_id FROM indicators").fetchall()}
        known_unit = {r[0] for r in con.execute("SELECT unit_id FROM units").fetchall()}
    probs: list[Problem] = []
    out, seen = [], {}
    for i, rec in enumerate(edited.to_dict("records"), start=1):
        iid, uid = _text(rec.get("indicator_id")), _text(rec.get("unit_id"))
        new = {"indicator_id": iid, "unit_id": uid, **{f: _text(rec.get(f)) for f in OWNER_FIELDS}}
        row_probs = len(probs)
        if not iid:
            probs.append(Problem(table, i, LABELS["indicator_id"], "必填项为空"))
        elif iid not in known_ind:
            probs.append(Problem(table, i, LABELS["indicator_id"], f"指标编码「{iid}」不在指标库中"))
        if uid and uid not in known_unit:
            probs.append(Problem(table, i, LABELS["unit_id"], f"单位编码「{uid}」不存在"))
        if not new["owner_leader"]:
            probs.append(Problem(table, i, LABELS["owner_leader"], "必填项为空"))
        try:
            new["valid_from"] = _date(rec.get("valid_from")) if not _blank(rec.get("valid_from")) else None
            if new["valid_from"] is None:
                probs.append(Problem(table, i, LABELS["valid_from"], "必填项为空（变更自哪一天起生效）"))
        except (ValueError, TypeError):
            new["valid_from"] = None
            probs.append(Problem(table, i, LABELS["valid_from"], "日期应为 YYYY-MM-DD（2000–2100 年）"))
        if len(probs) > row_probs:
            continue
        old = cur.get((iid, uid))
        if old is not None and all(getattr(old, f) == new[f] or (_blank(getattr(old, f)) and new[f] is None)
                                   for f in OWNER_FIELDS):
            if only_changed:
                continue
        if old is not None and new["valid_from"] <= pd.Timestamp(old.valid_from).date():
            probs.append(Problem(table, i, LABELS["valid_from"],
                                 f"生效日期应晚于现任责任人（{old.owner_leader}）的生效日期 "
                                 f"{pd.Timestamp(old.valid_from).date().isoformat()}"))
            continue
        key = (iid, uid, new["valid_from"])
        if key in seen:
            probs.append(Problem(table, i, LABELS["valid_from"], f"与第 {seen[key]} 行重复（同一指标、单位、生效日期）"))
            continue
        seen[key] = i
        before = None if old is None else {**{f: _jsonable(getattr(old, f)) for f in OWNER_FIELDS},
                                           "valid_from": pd.Timestamp(old.valid_from).date().isoformat()}
        out.append({**{k: _jsonable(v) for k, v in new.items()}, "before": before})
    return out, probs


def save_owners(edited: pd.DataFrame, actor: Actor, path: PathLike = None) -> list[dict]:
    """Record owner changes (new entries with their valid_from): one audited write, each
    change with before (the owners in force) and after. Raises :class:`LibraryError`."""
    require(actor, "edit_data")
    changes, probs = owner_changes(edited, path)
    if probs:
        raise LibraryError(probs)
    if not changes:
        return []
    with db.connect(path) as con:
        detail = {"changes": [{"indicator_id": c["indicator_id"], "unit_id": c["unit_id"], "before": c["before"],
                               "after": {k: c[k] for k in (*OWNER_FIELDS, "valid_from")}} for c in changes]}
        with db.transaction(con, actor, "edit_owners", detail) as d:
            d["upload_id"] = _insert_owners(con, actor, changes)
    return changes


def _insert_owners(con, actor: Actor, changes: list[dict]) -> int:
    upload_id = _manual_upload(con, actor, "manual_owners", "责任人变更", len(changes))
    con.executemany("INSERT INTO indicator_owners VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [[c["indicator_id"], c["unit_id"], c["owner_leader"], c["owner_staff"], c["owner_office"],
                      c["valid_from"], upload_id] for c in changes])
    return upload_id


# ---------------------------------------------------------------- XLSX import / export

SHEET_INDICATORS, SHEET_OWNERS, SHEET_HISTORY = "指标库", "责任人", "责任人历史"


def export_library(path: PathLike = None) -> bytes:
    """The library as XLSX (指标库, 责任人 in force today, 责任人历史), Chinese headers, every
    text cell neutralised against formula injection; :func:`import_library` reads it back."""
    ind = indicators(path)
    ind = ind.assign(needs_review=ind.needs_review.map({True: "是", False: "否"}),
                     is_key=ind.is_key.map({True: "是", False: "否"}),
                     is_difficult=ind.is_difficult.map({True: "是", False: "否"}))
    cur = owners(path)[["indicator_id", "indicator", "unit_id", "unit", *OWNER_FIELDS, "valid_from"]]
    hist = owner_history(path=path)[["indicator_id", "indicator", "unit_id", "unit", *OWNER_FIELDS, "valid_from"]]
    label = {**LABELS, "indicator": "指标名称", "unit": "单位名称"}
    return exports.to_xlsx({SHEET_INDICATORS: ind.rename(columns=label), SHEET_OWNERS: cur.rename(columns=label),
                            SHEET_HISTORY: hist.rename(columns=label)})


def _fields(frame: pd.DataFrame) -> pd.DataFrame:
    """Chinese headers (or field names) → field names; unknown columns dropped."""
    back = {v: k for k, v in LABELS.items()} | {k: k for k in LABELS}
    frame = frame.rename(columns=lambda c: back.get(_text(c) or "", None) or f"_{c}")
    return frame[[c for c in frame.columns if not str(c).startswith("_")]]


def read_library_xlsx(data: bytes) -> dict[str, pd.DataFrame]:
    """The 指标库 and 责任人 sheets of a library workbook as text frames (field-named columns)."""
    try:
        book = pd.read_excel(io.BytesIO(data), sheet_name=None, dtype=object, engine="openpyxl")
    except Exception as e:  # noqa: BLE001 — a bad file is a message, never a traceback
        raise AnalyticsError(f"无法读取 XLSX：{type(e).__name__}") from None
    if SHEET_INDICATORS not in book:
        raise AnalyticsError(f"工作簿中没有「{SHEET_INDICATORS}」工作表（可先导出一份作为模板）")
    out = {"indicators": _fields(book[SHEET_INDICATORS])}
    if SHEET_OWNERS in book:
        out["owners"] = _fields(book[SHEET_OWNERS])
    return out


def import_library(data: bytes, actor: Actor, path: PathLike = None, dry_run: bool = False) -> dict:
    """Import a library workbook: indicators updated (or added, with id, name and kind) and
    owner changes recorded, validated like the editors, in one audited write. With
    ``dry_run`` returns what would change without writing. Raises :class:`LibraryError`."""
    require(actor, "edit_data")
    frames = read_library_xlsx(data)
    ind = frames["indicators"].drop(columns=[c for c in ("needs_review",) if c in frames["indicators"]])
    changes, probs = indicator_changes(ind, path, SHEET_INDICATORS, allow_new=True)
    owner_new: list[dict] = []
    if "owners" in frames:
        own = frames["owners"]
        new_ids = {c["indicator_id"] for c in changes if c["new"]}
        if new_ids:  # owners of indicators added by this same file: checked once they exist
            probs += [Problem(SHEET_OWNERS, i, LABELS["indicator_id"], "请先导入该指标，再导入其责任人")
                      for i, iid in enumerate(own.get("indicator_id", []), start=1) if _text(iid) in new_ids]
            own = own[~own.indicator_id.map(_text).isin(new_ids)] if "indicator_id" in own else own
        owner_new, oprobs = owner_changes(own, path, SHEET_OWNERS)
        probs += oprobs
    if probs:
        raise LibraryError(probs)
    summary = {"indicators": changes, "owners": owner_new}
    if dry_run or not (changes or owner_new):
        return summary
    with db.connect(path) as con:
        detail = {"indicators": changes, "owners": [{"indicator_id": c["indicator_id"], "unit_id": c["unit_id"],
                                                    "before": c["before"],
                                                    "after": {k: c[k] for k in (*OWNER_FIELDS, "valid_from")}}
                                                   for c in owner_new]}
        with db.transaction(con, actor, "import_library", detail) as d:
            _apply_indicator_changes(con, changes)
            if owner_new:
                d["upload_id"] = _insert_owners(con, actor, owner_new)
    return summary


# ---------------------------------------------------------------- targets

def import_targets(data: bytes, file: str, actor: Actor, year: int | None = None, path: PathLike = None,
                   create_missing: bool = False) -> IngestReport:
    """The city's 目标任务分解表 (per unit × indicator; a volume and/or a growth target) for
    our county and its peers, through the upload path (one transaction, upload history kept:
    a later file's targets become current, the earlier ones stay as history)."""
    return ingest_bytes(data, file, actor, IngestOptions(year=year, create_missing=create_missing), path)


def targets(year: int, path: PathLike = None) -> pd.DataFrame:
    """The current targets of a year with names and the upload they came from."""
    return db.query("""SELECT t.year, t.unit_id, u.name AS unit, t.indicator_id, i.name AS indicator, t.measure,
                              t.target, i.unit_of_measure, t.upload_id, up.file_name
                       FROM current_targets t JOIN units u USING (unit_id) JOIN indicators i USING (indicator_id)
                       JOIN uploads up ON up.upload_id = t.upload_id
                       WHERE t.year = ? ORDER BY t.indicator_id, u.level, t.unit_id, t.measure""", [year], path)


def change_target(year: int, unit_id: str, indicator_id: str, measure: str, new_target, reason: str,
                  actor: Actor, path: PathLike = None) -> dict:
    """Record a mid-year target change (目标调整): a new revision of the target (the latest
    is current) and a target_changes row with who, when, before/after and the reason."""
    require(actor, "edit_data")
    probs = []
    reason = (reason or "").strip()
    if not reason:
        probs.append(Problem("目标调整", None, LABELS["reason"], "须填写调整原因（如市目标办调整文件文号）"))
    try:
        value = _number(new_target)
        if value is None:
            raise ValueError
    except (ValueError, TypeError):
        value = None
        probs.append(Problem("目标调整", None, LABELS["target"], f"新目标值「{new_target}」不是数字"))
    if value is not None and value < 0 and measure in ("ytd", "month"):
        probs.append(Problem("目标调整", None, LABELS["target"], "总量目标不能为负数"))
    with db.connect(path) as con:
        if not db.one(con, "SELECT 1 FROM units WHERE unit_id = ?", [unit_id]):
            probs.append(Problem("目标调整", None, LABELS["unit_id"], f"单位编码「{unit_id}」不存在"))
        if not db.one(con, "SELECT 1 FROM indicators WHERE indicator_id = ?", [indicator_id]):
            probs.append(Problem("目标调整", None, LABELS["indicator_id"], f"指标编码「{indicator_id}」不在指标库中"))
        from .parse import MEASURES
        if measure not in MEASURES:
            probs.append(Problem("目标调整", None, LABELS["measure"], f"口径应为 {'/'.join(MEASURES)}"))
        if probs:
            raise LibraryError(probs)
        row = db.one(con, """SELECT target FROM current_targets WHERE year = ? AND unit_id = ? AND indicator_id = ?
                             AND measure = ?""", [year, unit_id, indicator_id, measure])
        before = None if row is None else float(row[0])
        if before is not None and before == value:
            raise LibraryError([Problem("目标调整", None, LABELS["target"], f"新目标值与现行目标 {before:g} 相同")])
        detail = {"year": year, "unit_id": unit_id, "indicator_id": indicator_id, "measure": measure,
                  "before": before, "after": value, "reason": reason}
        with db.transaction(con, actor, "change_target", detail) as d:
            upload_id = _manual_upload(con, actor, "manual_targets", "目标调整", 1, reason)
            con.execute("INSERT INTO targets VALUES (?, ?, ?, ?, ?, ?, NULL)",
                        [year, unit_id, indicator_id, measure, value, upload_id])
            con.execute("""INSERT INTO target_changes VALUES (nextval('library_event_seq'), ?, ?, ?, ?, ?, ?, ?, ?,
                           now()::TIMESTAMP, ?)""",
                        [year, unit_id, indicator_id, measure, before, value, reason, actor.username, upload_id])
            d["upload_id"] = upload_id
    return detail


def target_history(year: int, unit: str, indicator: str, path: PathLike = None) -> pd.DataFrame:
    """Every revision of a (unit, indicator)'s targets in a year, oldest first: measure,
    target, before (the previous revision), who and when, the source (file or 目标调整),
    the reason of a mid-year change, and whether it is current (current = the latest
    revision from an upload not withdrawn). ``unit``/``indicator`` by id or name."""
    from .browse import resolve
    uid, iid = resolve("unit", unit, path), resolve("indicator", indicator, path)
    return db.query("""
        WITH h AS (
            SELECT t.measure, t.target, up.uploaded_by AS changed_by, up.uploaded_at AS changed_at, up.file_name,
                   up.status = 'withdrawn' AS withdrawn, t.upload_id, c.reason
            FROM targets t JOIN uploads up USING (upload_id)
            LEFT JOIN target_changes c ON c.upload_id = t.upload_id AND c.unit_id = t.unit_id
                 AND c.indicator_id = t.indicator_id AND c.measure = t.measure
            WHERE t.year = ? AND t.unit_id = ? AND t.indicator_id = ?)
        SELECT measure, lag(target) OVER (PARTITION BY measure, withdrawn ORDER BY upload_id) AS before,
               target, changed_by, changed_at, file_name, reason, withdrawn,
               NOT withdrawn AND upload_id = max(upload_id) FILTER (WHERE NOT withdrawn)
                   OVER (PARTITION BY measure) AS is_current, upload_id
        FROM h ORDER BY measure, upload_id""", [year, uid, iid], path)


# ---------------------------------------------------------------- adjustments (加减分事项)

ADJUSTMENT_FIELDS = ("year", "unit_id", "kind", "level", "item", "points", "reason", "charged_to")


def adjustments(year: int | None = None, path: PathLike = None) -> pd.DataFrame:
    """Honours, deductions, 约谈 and city deductions not withdrawn, with unit names."""
    return db.query("""SELECT a.year, a.unit_id, u.name AS unit, a.kind, a.level, a.item, a.points, a.reason,
                              a.charged_to, c.name AS charged_to_name, a.upload_id, up.file_name, up.uploaded_by
                       FROM adjustments a JOIN uploads up USING (upload_id) LEFT JOIN units u ON u.unit_id = a.unit_id
                       LEFT JOIN units c ON c.unit_id = a.charged_to
                       WHERE up.status <> 'withdrawn' AND (?::INTEGER IS NULL OR a.year = ?)
                       ORDER BY a.year DESC, a.kind, a.unit_id, a.upload_id""", [year, year], path)


def check_adjustment(rec: dict, path: PathLike = None, table: str = "加减分事项", row: int | None = None
                     ) -> tuple[dict, list[Problem]]:
    """Typed adjustment and its problems: kind honour/deduction/interview/city_deduction;
    points a positive number (the kind says bonus or deduction); an honour needs its level
    (national/provincial/city) and item; a city deduction names the county department it is
    charged to (×10 rule) — charged_to must be a department unit."""
    probs: list[Problem] = []
    out = {f: _text(rec.get(f)) for f in ("unit_id", "kind", "level", "item", "reason", "charged_to")}

    def bad(col, reason):
        probs.append(Problem(table, row, LABELS["kind_adj" if col == "kind" else col], reason))

    try:
        out["year"] = int(_number(rec.get("year")))
        if not 2000 <= out["year"] <= 2100:
            raise ValueError
    except (ValueError, TypeError):
        out["year"] = None
        bad("year", "年份应为 2000–2100 的整数")
    try:
        out["points"] = _number(rec.get("points"))
        if out["points"] is None or out["points"] <= 0:
            bad("points", "分值应为正数（加分或减分由类型决定）")
    except (ValueError, TypeError):
        out["points"] = None
        bad("points", "分值不是数字")
    if out["kind"] not in ADJUSTMENT_KINDS:
        bad("kind", f"类型应为 {'/'.join(ADJUSTMENT_KINDS)}")
    with db.connect(path) as con:
        levels = dict(con.execute("SELECT unit_id, level FROM units").fetchall())
    if not out["unit_id"]:
        bad("unit_id", "必填项为空")
    elif out["unit_id"] not in levels:
        bad("unit_id", f"单位编码「{out['unit_id']}」不存在")
    if out["kind"] == "honour":
        if out["level"] not in HONOUR_LEVELS:
            bad("level", "先进荣誉须注明级别：national（国家级）/provincial（省级）/city（市级）")
        if not out["item"]:
            bad("item", "先进荣誉须注明所属事项（同一事项只计最高级别）")
    elif out["level"] is not None and out["level"] not in HONOUR_LEVELS:
        bad("level", "级别应为 national/provincial/city 或留空")
    if out["kind"] == "city_deduction" and not out["charged_to"]:
        bad("charged_to", "市扣分须注明转扣的县直部门（×10 规则）")
    if out["charged_to"]:
        if out["charged_to"] not in levels:
            bad("charged_to", f"单位编码「{out['charged_to']}」不存在")
        elif levels[out["charged_to"]] != "department":
            bad("charged_to", f"转扣单位「{out['charged_to']}」不是县直部门（层级为 {levels[out['charged_to']]}）")
        if out["kind"] != "city_deduction":
            bad("charged_to", "只有市扣分（city_deduction）转扣部门")
    return out, probs


def add_adjustment(rec: dict, actor: Actor, path: PathLike = None) -> dict:
    """Enter one honour / deduction / 约谈 / city deduction: validated, one audited write
    (before: none; after: the entry). Withdraw it like an upload (its upload_id)."""
    require(actor, "edit_data")
    clean, probs = check_adjustment(rec, path)
    if probs:
        raise LibraryError(probs)
    with db.connect(path) as con:
        with db.transaction(con, actor, "add_adjustment", {"before": None, "after": clean}) as d:
            upload_id = _manual_upload(con, actor, "manual_adjustments", "加减分事项", 1, clean.get("reason") or "")
            con.execute("INSERT INTO adjustments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [*(clean[f] for f in ADJUSTMENT_FIELDS), upload_id])
            d["upload_id"] = upload_id
    return {**clean, "upload_id": upload_id}


# ---------------------------------------------------------------- scoring rules (data/rules.toml)

YEAR_LINE = "# 适用年度："


def rules_dir(path: PathLike = None) -> Path:
    """Year rules live beside the database: ``<db dir>/rules/<year>.toml``."""
    return db.db_path(path).parent / "rules"


def rules_file(year: int, path: PathLike = None) -> Path:
    """The rules that apply to ``year``: its own file if one was saved or rolled over, else
    the shipped default ``data/rules.toml``."""
    own = rules_dir(path) / f"{int(year)}.toml"
    return own if own.exists() else scoring.DEFAULT_RULES


def rules_text(year: int, path: PathLike = None) -> str:
    return rules_file(year, path).read_text(encoding="utf-8")


def check_rules_text(text: str, source: str = "rules.toml") -> scoring.RuleSet:
    """Validate rules TOML with the scoring module's own validator (and tomlkit, which must
    round-trip it unchanged so comments and order survive). Raises scoring.RulesError."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise scoring.RulesError(f"{source}：TOML 格式错误：{e}") from None
    try:
        if tomlkit.dumps(tomlkit.parse(text)) != text:
            raise scoring.RulesError(f"{source}：无法无损保留注释和顺序")
    except tomlkit.exceptions.TOMLKitError as e:
        raise scoring.RulesError(f"{source}：TOML 格式错误：{e}") from None
    return scoring.parse_rules(doc, source)


def rules_diff(year: int, new_text: str, path: PathLike = None) -> str:
    """Unified diff from the rules in force for ``year`` to ``new_text`` ('' when equal)."""
    old = rules_text(year, path)
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new_text.splitlines(keepends=True),
                                        f"{year}年规则（现行）", f"{year}年规则（修改后）"))


def _write_rules(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)


def save_rules(year: int, new_text: str, actor: Actor, path: PathLike = None) -> dict:
    """Validate and save the rules for ``year`` as ``<db dir>/rules/<year>.toml`` (the text as
    edited: comments and order kept). One audited write with the before/after text and the
    diff; the file is replaced only if the audit entry commits. Admin only."""
    require(actor, "edit_rules")
    check_rules_text(new_text, f"{year}年规则")
    before = rules_text(year, path)
    diff = rules_diff(year, new_text, path)
    if not diff:
        return {"year": year, "changed": False, "diff": ""}
    target = rules_dir(path) / f"{int(year)}.toml"
    with db.connect(path) as con:
        with db.transaction(con, actor, "edit_rules", {"year": year, "file": target.name, "before": before,
                                                        "after": new_text, "diff": diff}):
            _write_rules(target, new_text)
    return {"year": year, "changed": True, "diff": diff, "file": str(target)}


def set_rule(year: int, indicator_id: str, values: dict, actor: Actor, path: PathLike = None) -> dict:
    """Change one indicator's rule keys (e.g. points, method) through tomlkit, keeping every
    comment and the order of the file; then :func:`save_rules` (validated, audited)."""
    doc = tomlkit.parse(rules_text(year, path))
    rules = doc.setdefault("rules", tomlkit.table(is_super_table=True))
    if indicator_id not in rules:
        rules[indicator_id] = tomlkit.table()
    for k, v in values.items():
        rules[indicator_id][k] = v
    return save_rules(year, tomlkit.dumps(doc), actor, path)


# ---------------------------------------------------------------- year rollover

def year_has_data(con, year: int) -> dict[str, int]:
    counts = {}
    for table, sql in _YEAR_COUNTS.items():
        counts[table] = db.one(con, sql, [year])[0]
    return {k: v for k, v in counts.items() if v}


_YEAR_COUNTS = {
    "targets": "SELECT count(*) FROM targets WHERE year = ?",
    "observations": "SELECT count(*) FROM observations WHERE year = ?",
    "adjustments": "SELECT count(*) FROM adjustments WHERE year = ?",
    "projects": "SELECT count(*) FROM projects WHERE year = ?",
}


def rollover(from_year: int, to_year: int, actor: Actor, path: PathLike = None) -> dict:
    """Start ``to_year`` from ``from_year``: units and indicators carry over (they are not
    year-bound), the owners in force on 31 Dec of ``from_year`` are re-recorded from 1 Jan
    of ``to_year``, and the year's rules file is copied (comments kept). Targets are left to
    import (the city's 目标任务分解表). Refused if ``to_year`` already holds data or rules.
    Admin only (starting a year is an initialisation); one audited write."""
    require(actor, "init")
    from_year, to_year = int(from_year), int(to_year)
    if to_year <= from_year:
        raise AnalyticsError(f"新年度 {to_year} 应晚于 {from_year}")
    target_rules = rules_dir(path) / f"{to_year}.toml"
    if target_rules.exists():
        raise AnalyticsError(f"{to_year} 年已有计分规则文件（{target_rules.name}），不重复结转")
    rules_src = rules_file(from_year, path)
    rules_text_ = rules_src.read_text(encoding="utf-8")
    check_rules_text(rules_text_, rules_src.name)
    with db.connect(path) as con:
        existing = year_has_data(con, to_year)
        if existing:
            raise AnalyticsError(f"{to_year} 年已有数据（" + "、".join(f"{k} {v} 行" for k, v in existing.items())
                                 + "），不能结转")
        start = date(to_year, 1, 1)
        if db.one(con, "SELECT count(*) FROM indicator_owners WHERE valid_from >= ?", [start])[0]:
            raise AnalyticsError(f"已有 {to_year} 年起生效的责任人记录，不能结转")
        units_n = db.one(con, "SELECT count(*) FROM units")[0]
        inds_n = db.one(con, "SELECT count(*) FROM indicators")[0]
    carried = owners(path, asof=date(from_year, 12, 31))
    doc = tomlkit.parse(rules_text_)
    body = "".join(line for line in tomlkit.dumps(doc).splitlines(keepends=True) if not line.startswith(YEAR_LINE))
    new_rules = f"{YEAR_LINE}{to_year}（由 {from_year} 年规则结转，请按当年考核办法修订）\n" + body
    detail = {"from_year": from_year, "to_year": to_year, "before": {"year_data": {}},
              "after": {"units": units_n, "indicators": inds_n, "owners": len(carried),
                        "rules_file": target_rules.name, "rules_from": rules_src.name, "targets": 0}}
    with db.connect(path) as con:
        with db.transaction(con, actor, "rollover", detail) as d:
            if year_has_data(con, to_year):  # re-checked inside the write
                raise AnalyticsError(f"{to_year} 年已有数据，不能结转")
            if len(carried):
                changes = [{"indicator_id": r.indicator_id, "unit_id": None if _blank(r.unit_id) else r.unit_id,
                            **{f: None if _blank(getattr(r, f)) else getattr(r, f) for f in OWNER_FIELDS},
                            "valid_from": start} for r in carried.itertuples()]
                upload_id = _manual_upload(con, actor, "manual_owners", f"{to_year}年度结转责任人", len(changes))
                con.executemany("INSERT INTO indicator_owners VALUES (?, ?, ?, ?, ?, ?, ?)",
                                [[c["indicator_id"], c["unit_id"], c["owner_leader"], c["owner_staff"],
                                  c["owner_office"], c["valid_from"], upload_id] for c in changes])
                d["upload_id"] = upload_id
            _write_rules(target_rules, new_rules)
    return detail["after"] | {"from_year": from_year, "to_year": to_year}


# ---------------------------------------------------------------- reading the audit trail of an edit

def last_audit(action: str, path: PathLike = None) -> dict | None:
    """The latest audit entry of an action, detail parsed (for the pages' confirmation)."""
    row = db.query("SELECT username, logged_at, detail FROM audit_log WHERE action = ? ORDER BY audit_id DESC LIMIT 1",
                   [action], path)
    if row.empty:
        return None
    return {"user": row.username[0], "at": row.logged_at[0], "detail": json.loads(row.detail[0] or "null")}


@dataclass(frozen=True)
class Summary:
    indicators: int
    needs_review: int
    owners: int
    locked_periods: int


def summary(path: PathLike = None) -> Summary:
    """Counts for the library page's header."""
    from .locks import locked_periods
    ind = indicators(path)
    return Summary(len(ind), int(ind.needs_review.astype(bool).sum()), len(owners(path)), len(locked_periods(path)))
