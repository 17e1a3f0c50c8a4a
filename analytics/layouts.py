"""Table shapes bureaus publish → one list of cell records.

A table is read as: caption rows (title, "单位：万元", "（2025年1-9月）"), a header of one
or two rows (a merged "1-9月" above 累计完成 / 同比增长%), data rows, notes rows ("注：…").
Every column gets a *role*: a key (indicator, unit, unit of measure, year, period,
measure) or a cell holding a value or a target, with whatever the header states about it
(measure, period, year, unit of measure, indicator). Each data row × value/target column
then gives one record — the same records for every layout:

- long: one row per unit × indicator × period (the template);
- indicator_rows: indicators as rows with 全年目标 / 1-N月累计 / 同比% / 完成率 columns;
- month_columns: months as columns (1-2月, 1-3月 … cumulative), years in a column or header;
- unit_rows: counties as rows, one column group per indicator (总量 / 增速 / 位次).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

import pandas as pd

from .errors import IngestError
from .parse import clean_text, parse_period
from .readers import Table

_UOM = r"(万亿元|亿元|万元|元|亿美元|万美元|美元|万人|人|万亩|亩|个|家|户|件|起|项|%|‰|吨|万吨|千瓦时|吨标准煤|微克/立方米)"
_PARENS = re.compile(r"[（(]\s*" + _UOM + r"\s*[)）]")
_CAPTION_UOM = re.compile(r"(?:单位|计量单位)\s*[:：]\s*" + _UOM)
_PERIOD_IN_TEXT = re.compile(r"(?:(\d{4})\s*年)?\s*(1\s*[-—–~至]\s*\d{1,2}\s*月|\d{1,2}\s*月|一季度|上半年|前三季度|全年)")
_SUB_PREFIX = re.compile(r"^(其中\s*[:：]?|#+|＃+|[-·•]\s*)")
_NOTE_PREFIX = ("注", "说明", "备注", "资料来源", "数据来源", "来源")
TOTAL_NAMES = {"全市": "city", "全市合计": "city", "合计": "city", "总计": "city", "全县": "home", "全县合计": "home"}

KEY_SYNONYMS: dict[str, tuple[str, ...]] = {
    "indicator": ("指标", "指标名称", "项目", "主要指标", "indicator"),
    "unit": ("单位名称", "责任单位", "县(市、区)", "县(市,区)", "县市区", "县区", "地区", "乡镇", "乡镇(街道)",
             "部门", "unit"),
    "uom": ("计量单位", "unit_of_measure"),
    "year": ("年份", "年度", "year"),
    "period": ("期间", "月份", "报告期", "period"),
    "measure": ("口径", "measure"),
    "remark": ("备注", "说明"),
    "project": ("项目名称",),
    "ignore": ("序号", "编号", "排序"),
}
TARGET_WORDS = ("全年目标", "年度目标", "年度任务", "年度计划投资", "年初预算数", "目标值", "目标任务", "目标", "计划投资",
                "target")
VALUE_WORDS = ("数值", "完成值", "value")
MEASURE_WORDS = (  # order matters: the first word found in a label decides
    ("完成全年目标", "published_completion_pct"), ("占年度目标", "published_completion_pct"),
    ("完成率", "published_completion_pct"), ("位次", "published_rank"), ("排名", "published_rank"),
    ("同比增长", "growth_pct"), ("增速", "growth_pct"), ("增长", "growth_pct"), ("增幅", "growth_pct"),
    ("当月", "month"), ("本月", "month"), ("累计", "ytd"), ("完成投资", "ytd"), ("完成", "ytd"),
    ("总量", "ytd"), ("绝对值", "ytd"), ("总额", "ytd"),
)
UOM_VALUES = set(_UOM.strip("()").split("|"))


@dataclass
class Column:
    """What a header says about one column."""

    index: int
    label: str
    role: str  # indicator | unit | uom | year | period | measure | remark | ignore | value | target
    measure: str | None = None
    period: int | None = None
    year: int | None = None
    uom: str | None = None
    indicator: str | None = None


@dataclass
class Context:
    """What the caption rows and the file name say about the whole table."""

    title: str = ""
    year: int | None = None
    period: int | None = None
    uom: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Shape:
    layout: str
    header_rows: list[int]  # indices into table.rows
    columns: list[Column]
    context: Context

    @property
    def body_start(self) -> int:
        return self.header_rows[-1] + 1

    def to_dict(self) -> dict:
        return {"layout": self.layout, "header_rows": self.header_rows,
                "columns": [asdict(c) for c in self.columns], "context": asdict(self.context)}


def _norm(text: str) -> str:
    return clean_text(text).replace(" ", "").lower()


def _filled(cell: str) -> bool:
    """Has visible text: the cheap test for plain ASCII, NFKC cleaning only for the rest
    (a cell of zero-width or full-width spaces is empty)."""
    return bool(cell) and not cell.isspace() and (cell.isascii() or bool(clean_text(cell)))


def _nonempty(cells: list[str]) -> list[str]:
    return [c for c in cells if _filled(c)]


def _numeric(text: str) -> bool:
    t = _norm(text).replace(",", "").lstrip("约").rstrip("%")
    return bool(re.fullmatch(r"[+-]?\d+(\.\d+)?", t))


def context_from(texts: list[str], file_name: str) -> Context:
    """Year, period and default unit of measure stated in captions (else the file name)."""
    ctx = Context(title=next((t for t in texts if t), ""))
    joined = " ".join(clean_text(t) for t in texts)
    m = _PERIOD_IN_TEXT.search(joined)
    if m:
        ctx.year = int(m.group(1)) if m.group(1) else None
        ctx.period = parse_period(m.group(2))
    if ctx.year is None:
        years = set(re.findall(r"(20\d{2})\s*年", joined))
        ctx.year = int(years.pop()) if len(years) == 1 else None
    m = _CAPTION_UOM.search(joined)
    if m:
        ctx.uom = m.group(1)
    stem = re.sub(r"\.\w+$", "", file_name)
    if ctx.year is None:
        years = set(re.findall(r"(?<!\d)(20\d{2})(?!\d)", stem))
        ctx.year = int(years.pop()) if len(years) == 1 else None
    if ctx.period is None:
        m = re.search(r"(?<!\d)1[-—_]((?:1[0-2])|[1-9])(?!\d)", stem) or re.search(r"(前三季度|上半年|一季度)", stem)
        if m:
            ctx.period = parse_period(m.group(1)) if m.group(1)[0] in "前上一" else int(m.group(1))
    return ctx


def _header_rows(table: Table) -> list[int]:
    """Index of the header row (first row with ≥2 non-empty, mostly non-numeric cells), plus
    the row below when it is a sub-header (its first cell empty, its cells all text)."""
    rows = table.rows
    for i, (_, cells) in enumerate(rows[:30]):
        filled = _nonempty(cells)
        if len(filled) >= 2 and sum(map(_numeric, filled)) <= len(filled) // 3:
            if i + 1 < len(rows):
                below = rows[i + 1][1]
                below_filled = _nonempty(below)
                if below_filled and not clean_text(below[0] if below else "") \
                        and not any(map(_numeric, below_filled)):
                    return [i, i + 1]
            return [i]
    raise IngestError("未找到表头行（前 30 行中没有至少两个文字单元格的行）", table.file,
                      rows[0][0] if rows else None)


def _labels(table: Table, header_rows: list[int]) -> list[tuple[str, str]]:
    """(top, sub) label per column; a merged top cell (blank to its right) spans the columns
    whose sub-header is filled."""
    top = [clean_text(c) for c in table.rows[header_rows[0]][1]]
    sub = [clean_text(c) for c in table.rows[header_rows[1]][1]] if len(header_rows) > 1 else []
    width = max(len(top), len(sub))
    top += [""] * (width - len(top))
    sub += [""] * (width - len(sub))
    out, carry = [], ""
    for t, s in zip(top, sub):
        if t:
            carry = t
        elif s and carry:
            t = carry
        else:
            carry = ""
        out.append((t, s))
    return out


def _uom_in(text: str) -> str | None:
    m = _PARENS.search(text)
    return m.group(1) if m else None


def _measure_in(text: str) -> str | None:
    n = _norm(text)
    for word, measure in MEASURE_WORDS:
        if word in n:
            return measure
    if n.endswith("%") and "目标" not in n:
        return "growth_pct"
    return None


def classify(top: str, sub: str, index: int) -> Column:
    """The role of one column from its (top, sub) header labels."""
    label = " ".join(dict.fromkeys(x for x in (top, sub) if x)) or f"第{index + 1}列"
    nt, ns = _norm(top), _norm(sub)
    full = nt + ns
    bare = _PARENS.sub("", full)
    uom = _uom_in(sub) or _uom_in(top)
    for role, names in KEY_SYNONYMS.items():
        if bare in names or (not ns and _PARENS.sub("", nt) in names):
            return Column(index, label, role, uom=uom)
    if bare in ("单位",):
        return Column(index, label, "unit_or_uom")
    period_text = _PERIOD_IN_TEXT.search(clean_text(top) + " " + clean_text(sub))
    period = parse_period(period_text.group(2)) if period_text else None
    year = int(period_text.group(1)) if period_text and period_text.group(1) else None
    if _measure_in(bare) == "published_completion_pct":  # "完成全年目标%": 全年 is not a period here
        explicit = period if period_text and period_text.group(2) != "全年" else None
        return Column(index, label, "value", measure="published_completion_pct", period=explicit, year=year)
    if any(w in bare for w in TARGET_WORDS):
        return Column(index, label, "target", period=None, year=year, uom=uom,
                      measure="growth_pct" if ("增" in bare and "%" in full) else None)
    if bare in VALUE_WORDS:
        return Column(index, label, "value", uom=uom)
    measure = _measure_in(ns) or _measure_in(nt if period is None or ns == "" else "")
    if period is not None and (measure or not ns):
        return Column(index, label, "value", measure=measure or "ytd", period=period, year=year, uom=uom)
    sub_measure = _measure_in(ns)
    if ns and nt and period is None and (sub_measure or _PARENS.sub("", ns) in ("数值", "绝对值", "值")):
        # a column group: indicator name on top (even "地区生产总值增速"), measure below (总量 / 增速 / 位次 / 数值);
        # a bare 数值 takes the indicator's own measure
        return Column(index, label, "value", measure=sub_measure, uom=uom, indicator=_PARENS.sub("", top).strip())
    if measure:
        return Column(index, label, "value", measure=measure, period=period, year=year, uom=uom)
    return Column(index, label, "ignore")


def analyse(table: Table, unit_names: set[str] | None = None) -> Shape:
    """Find the header, classify the columns and name the layout."""
    header_rows = _header_rows(table)
    caption = [" ".join(_nonempty(cells)) for _, cells in table.rows[:header_rows[0]]]
    ctx = context_from(caption, table.file)
    columns = [classify(t, s, i) for i, (t, s) in enumerate(_labels(table, header_rows))]
    body = table.rows[header_rows[-1] + 1:]
    for col in columns:
        if col.role == "unit_or_uom":  # '单位' holds either the responsible unit or 亿元/万元/%
            cells = {clean_text(c[col.index]) for _, c in body[:200] if col.index < len(c)} - {""}
            col.role = "uom" if cells and cells <= UOM_VALUES else "unit"
    _refuse_duplicate_columns(table, header_rows, columns)
    roles = {c.role for c in columns}
    values = [c for c in columns if c.role in ("value", "target")]
    if "project" in roles:
        return Shape("project_ledger", header_rows, columns, ctx)
    if "indicator" in roles and "unit" in roles:
        layout = "long"
    elif "indicator" in roles and sum(c.period is not None for c in values) >= 3 \
            and len({c.period for c in values if c.period}) >= 3:
        layout = "month_columns"
    elif "indicator" in roles:
        layout = "indicator_rows"
    elif "unit" in roles and any(c.indicator for c in values):
        layout = "unit_rows"
    else:
        raise IngestError("无法识别表格格式：需要「指标」列（长表/指标行表/月份列表）或「单位」列加按指标分组的列"
                          "（县区对比表）。可下载模板，或在上传页调整列映射", table.file, table.rows[header_rows[0]][0])
    if not values:
        raise IngestError("表头中没有数值列（如「数值」「1-9月累计」「全年目标」）", table.file, table.rows[header_rows[0]][0])
    return Shape(layout, header_rows, columns, ctx)


_KEY_ROLES = {"indicator": "指标", "unit": "单位", "uom": "计量单位", "year": "年份", "period": "期间", "measure": "口径",
              "project": "项目名称"}


def _refuse_duplicate_columns(table: Table, header_rows: list[int], columns: list[Column]) -> None:
    """Two columns with the same header (two 数值), or two columns both taken as the unit, the
    year…: which one holds the data is a guess (the records would use the last one), so the
    file is refused naming both."""
    seen: dict[tuple, Column] = {}
    for col in columns:
        if col.role in _KEY_ROLES:
            key: tuple = (col.role,)
        elif col.role in ("value", "target"):
            key = (col.role, col.label)
        else:
            continue
        first = seen.setdefault(key, col)
        if first is not col:
            what = (f"表头「{col.label}」出现了两次" if first.label == col.label
                    else f"「{first.label}」和「{col.label}」两列都是{_KEY_ROLES[col.role]}列")
            raise IngestError(f"{what}（第 {first.index + 1}、{col.index + 1} 列），无法确定用哪一列；"
                              "请删除或改名重复的列后再上传", table.file, table.rows[header_rows[0]][0], col.label)


def apply_mapping(shape: Shape, mapping: dict | None, file: str = "") -> Shape:
    """Overrides saved by an analyst: {"columns": {label: {role, measure, period, year, uom, indicator}},
    "year": Y, "period": M, "uom": U}. Unknown labels are an error (the table changed shape)."""
    if not mapping:
        return shape
    by_label = {c.label: c for c in shape.columns}
    for label, spec in (mapping.get("columns") or {}).items():
        if label not in by_label:
            raise IngestError(f"映射中的列「{label}」在文件中不存在（表格格式可能已改变），请重新确认映射", file)
        col = by_label[label]
        for key, value in spec.items():
            if key in ("role", "measure", "period", "year", "uom", "indicator"):
                setattr(col, key, value)
    for key in ("year", "period", "uom"):
        if mapping.get(key) is not None:
            setattr(shape.context, key, mapping[key])
    return shape


def _is_note(cells: list[str]) -> bool:
    filled = _nonempty(cells)
    return len(filled) == 1 and clean_text(filled[0]).startswith(_NOTE_PREFIX) and clean_text(cells[0]) != ""


def body(table: Table, shape: Shape) -> list[tuple[int, list[str]]]:
    """Data rows below the header; a cell merged down several data rows (a category
    spanning its projects) is given to each of those rows."""
    rows = table.rows[shape.body_start:]
    if not rows or not table.merged:
        return rows
    first = rows[0][0]
    at = {r: i for i, (r, _) in enumerate(rows)}
    rows = [(r, list(cells)) for r, cells in rows]
    for r1, c1, r2, c2 in table.merged:
        if r1 < first or r2 == r1 or r1 not in at:
            continue
        top = rows[at[r1]][1]
        value = top[c1 - 1] if c1 - 1 < len(top) else ""
        for r in range(r1 + 1, r2 + 1):
            if r in at:
                cells = rows[at[r]][1]
                cells.extend([""] * (c1 - len(cells)))
                cells[c1 - 1] = value
    return rows


RECORD_COLUMNS = ["row", "header", "cell", "kind", "year", "period", "unit", "indicator", "parent", "uom",
                  "measure", "text"]


def records(table: Table, shape: Shape) -> tuple[pd.DataFrame, int, list[tuple[int, str, str]]]:
    """One record per data row × value/target column; returns (records, data rows read).

    Fields are text as found (names, unit of measure, cell text); parsing and validation
    happen later, once, for every layout. ``kind`` is 'value' or 'target'."""
    cols = shape.columns
    key = {c.role: c for c in cols if c.role in ("indicator", "unit", "uom", "year", "period", "measure", "remark")}
    cells_cols = [c for c in cols if c.role in ("value", "target")]
    ctx = shape.context
    out: list[tuple] = []
    parent = ""
    rows_read = 0
    row_errors: list[tuple[int, str, str]] = []  # a row with more filled cells than the header
    width = len(cols)

    def cell(cells, col):
        return cells[col.index] if col is not None and col.index < len(cells) else ""

    for rownum, cells in body(table, shape):
        if not _nonempty(cells):
            continue
        if _is_note(cells):
            ctx.notes.append(clean_text(_nonempty(cells)[0]))
            continue
        rows_read += 1
        extra = [c for c in cells[width:] if clean_text(c)]
        if extra:
            row_errors.append((rownum, f"第{width + 1}列起", f"该行比表头多出 {len(extra)} 个单元格（「{clean_text(extra[0])[:20]}」…），"
                               "可能是数字中未加引号的千分位逗号（如 1,234.5）；不截断，整行拒绝"))
        raw_name = cell(cells, key.get("indicator"))
        name = clean_text(raw_name)
        row_parent = ""
        if "indicator" in key:
            sub = _SUB_PREFIX.match(name)
            indented = raw_name[:1] in (" ", "\u3000", "\t") and parent
            if sub or indented:
                name = clean_text(name[sub.end():] if sub else name)
                row_parent = parent
            else:
                parent = _PARENS.sub("", name).strip()
        row_uom = _uom_in(name) or clean_text(cell(cells, key.get("uom"))) or None
        name = _PARENS.sub("", name).strip()
        unit = clean_text(cell(cells, key.get("unit")))
        year = clean_text(cell(cells, key.get("year")))
        period = clean_text(cell(cells, key.get("period")))
        measure = clean_text(cell(cells, key.get("measure")))
        for col in cells_cols:
            text = cell(cells, col)
            out.append((rownum, col.label, col.index, col.role,
                        str(col.year) if col.year else year or (str(ctx.year) if ctx.year else ""),
                        str(col.period) if col.period else period or (str(ctx.period) if ctx.period and col.role == "value" else ""),
                        unit, col.indicator or name, row_parent, row_uom or col.uom or ctx.uom or "",
                        col.measure or measure, text))
        remark = clean_text(cell(cells, key.get("remark")))
        for m in re.finditer(r"(增速|增长|增幅)目标\s*(?:为)?\s*([+-]?\d+(?:\.\d+)?)\s*%", remark):
            out.append((rownum, key["remark"].label, key["remark"].index, "target",
                        year or (str(ctx.year) if ctx.year else ""), "", unit, name, row_parent, "%",
                        "growth_pct", m.group(2)))
    frame = pd.DataFrame(out, columns=RECORD_COLUMNS)
    return frame, rows_read, row_errors


LEDGER_FIELDS = (  # project ledger column → header words (first match wins)
    ("project_id", ("项目编号", "项目代码")), ("name", ("项目名称",)), ("category", ("项目类别", "类别", "项目级别")),
    ("unit", ("责任单位", "牵头单位", "实施单位")), ("leader", ("分管领导", "责任领导", "包抓领导")),
    ("plan_investment", ("年度计划投资", "计划投资", "年度投资计划")), ("completed", ("完成投资", "累计完成")),
    ("milestone", ("形象进度", "进展情况")), ("plan_start", ("计划开工",)), ("started", ("是否开工", "开工情况")),
)


def ledger(table: Table, shape: Shape) -> tuple[pd.DataFrame, dict[str, Column]]:
    """Key-project ledger (one row per project) → text frame with the ledger fields, plus the
    column each field came from (its label, period and unit of measure)."""
    found: dict[str, Column] = {}
    for col in shape.columns:
        n = _norm(col.label)
        for fld, words in LEDGER_FIELDS:
            if fld not in found and any(w in n for w in words):
                found[fld] = col
                break
    out = []
    for rownum, cells in body(table, shape):
        if not _nonempty(cells) or _is_note(cells):
            continue
        out.append({"row": rownum, **{f: clean_text(cells[c.index]) if c.index < len(cells) else ""
                                      for f, c in found.items()}})
    return pd.DataFrame(out), found
