"""File shapes × encodings (issue 4, "Done means" 1): one parametrised row per shape and
encoding, each asserting the decoded Chinese cells (``readers.read_table``) AND the exact
rows read back from the database — (year, period, unit_id, indicator_id, measure, value,
approx) for observations, (year, unit_id, indicator_id, measure, target) for targets, the
project and progress rows for ledgers. Expected numbers are computed by hand in the
comments ("5,600 万元 into the 亿元 indicator I01 → 0.56").

Library (tests/conftest.py ``SMALL_*``): units QC 青川市 (city), C01 清河县 (home county),
C02 龙泉县, T01 城关镇; indicators I01 固定资产投资 亿元 cumulative, I02 地区生产总值增速 %
rate, I03 一般公共预算收入 万元 cumulative, I04 安全生产事故死亡人数 人 ceiling.
Names created by ``create_missing`` are written ``new:<name>`` and resolved by name.

Also: the four samples of ../shared/samples/ into the demo database, a published
completion % that disagrees with value ÷ target, and XLSX sheet choice / hidden sheets /
empty first sheet / formulas with and without cached values.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from conftest import content

from analytics import db
from analytics.ingest import IngestOptions, ingest_bytes, ingest_path
from analytics.readers import read_table, sheet_list

SAMPLES = Path("/work/shared/samples")
if not SAMPLES.exists():  # the repo's sibling checkout
    SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"

CREATE = IngestOptions(create_missing=True)


# ---------------------------------------------------------------- fixtures and read-back helpers


def _ids(path) -> dict[str, str]:
    with db.connect(path) as con:
        rows = con.execute("SELECT name, unit_id FROM units UNION ALL SELECT name, indicator_id FROM indicators").fetchall()
    return dict(rows)


def resolve(expected: list[tuple], path) -> list[tuple]:
    """Replace ``new:<name>`` by the id the database gave that created unit/indicator."""
    ids = _ids(path)
    out = []
    for row in expected:
        fixed = []
        for v in row:
            if isinstance(v, str) and v.startswith("new:"):
                assert v[4:] in ids, f"{v[4:]} was not created"
                v = ids[v[4:]]
            fixed.append(v)
        out.append(tuple(fixed))
    return sorted(out, key=repr)


def observations(path, upload_id: int) -> list[tuple]:
    """(year, period, unit_id, indicator_id, measure, value, approx) of one upload, value
    rounded to 6 decimals (unit conversions multiply by 0.0001)."""
    with db.connect(path) as con:
        rows = con.execute("""SELECT year, period, unit_id, indicator_id, measure, round(value, 6), approx
                              FROM observations WHERE upload_id = ?""", [upload_id]).fetchall()
    return sorted(rows, key=repr)


def targets(path, upload_id: int) -> list[tuple]:
    """(year, unit_id, indicator_id, measure, target) of one upload."""
    with db.connect(path) as con:
        rows = con.execute("""SELECT year, unit_id, indicator_id, measure, round(target, 6)
                              FROM targets WHERE upload_id = ?""", [upload_id]).fetchall()
    return sorted(rows, key=repr)


def projects(path, upload_id: int) -> list[tuple]:
    """(name, category, unit_id, leader, plan_investment, year, plan_start, period, completed,
    milestone, started) of one ledger upload, in file order."""
    with db.connect(path) as con:
        return con.execute("""
            SELECT p.name, p.category, p.unit_id, p.leader, p.plan_investment, p.year, p.plan_start,
                   g.period, g.completed, g.milestone, g.started
            FROM projects p JOIN project_progress g ON g.project_id = p.project_id AND g.year = p.year
                 AND g.upload_id = p.upload_id
            WHERE p.upload_id = ? ORDER BY p.plan_start, p.name""", [upload_id]).fetchall()


def parent_of(path, name: str) -> str | None:
    with db.connect(path) as con:
        row = db.one(con, "SELECT parent_id FROM indicators WHERE name = ?", [name])
    assert row is not None, f"indicator {name} missing"
    return row[0]


# ---------------------------------------------------------------- file builders

LONG_HEADER = ["年份", "期间", "单位", "指标", "计量单位", "口径", "目标值", "数值"]
LONG_ROWS = [
    ["2025", "9", "清河县", "固定资产投资", "亿元", "ytd", "152", "101.36"],
    ["2025", "9", "龙泉县", "固定资产投资", "万元", "ytd", "", "5,600"],        # 5,600 万元 → 0.56 亿元
    ["2024", "12", "龙泉县", "固定资产投资", "亿元", "ytd", "", "1万亿元"],      # 1万亿元 in 亿元 → 10000
    ["2025", "9", "清河县", "地区生产总值增速", "%", "growth_pct", "6.5", "约5.8"],  # approx
    ["2025", "9", "城关镇", "一般公共预算收入", "万元", "ytd", "", "—"],          # no value, not 0
    ["2025", "9", "城关镇", "安全生产事故死亡人数", "人", "level", "", "0"],       # a real zero
]
LONG_OBS = [
    (2025, 9, "C01", "I01", "ytd", 101.36, False),
    (2025, 9, "C02", "I01", "ytd", 0.56, False),
    (2024, 12, "C02", "I01", "ytd", 10000.0, False),
    (2025, 9, "C01", "I02", "growth_pct", 5.8, True),
    (2025, 9, "T01", "I04", "level", 0.0, False),
]
LONG_TGT = [(2025, "C01", "I01", "ytd", 152.0), (2025, "C01", "I02", "growth_pct", 6.5)]
# GB18030 only: a name with 𠀀 (U+20000, four bytes in GB18030, not in GBK)
RARE_ROW = ["2025", "9", "𠀀溪乡", "一般公共预算收入", "万元", "ytd", "", "1,234.5"]
RARE_OBS = (2025, 9, "new:𠀀溪乡", "I03", "ytd", 1234.5, False)


def delimited(rows: list[list[str]], delimiter: str = ",", newline: str = "\n") -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator=newline).writerows(rows)
    return buf.getvalue()


def long_file(encoding: str, delimiter: str = ",", newline: str = "\n", rare: bool = False) -> bytes:
    text = delimited([LONG_HEADER, *LONG_ROWS, *([RARE_ROW] if rare else [])], delimiter, newline)
    if encoding == "utf-16-le-nobom":
        return text.encode("utf-16-le")
    return text.encode(encoding)  # utf-8-sig and utf-16 write their byte-order mark


INDICATOR_ROWS = "\r\n".join([
    "青川市清河县主要经济指标完成情况（2025年1-9月）,,,,,",
    "单位：亿元,,,,,",
    "指标名称,全年目标,1-9月,,完成全年目标%,备注",
    ",,累计完成,同比增长%,,",
    "地区生产总值增速,—,—,5.8,—,增速目标6.5%",
    '固定资产投资,"1,520.0","1,013.6",-2.1,66.68,',       # 1013.6 ÷ 1520 = 66.684 % → agrees
    "  其中：工业投资,600,约95,12.4,,",                    # child of 固定资产投资, approx
    '一般公共预算收入（万元）,"98,000","71,264",3.3,72.72,',  # row unit 万元 ≠ caption 亿元
    '  #税收收入（万元）,"66,000","45,517",1.2,68.97,',     # child of 一般公共预算收入
    "注：“—”表示无此项目标或数据暂缺。,,,,,",
]) + "\r\n"
INDICATOR_OBS = [
    (2025, 9, "C01", "I02", "growth_pct", 5.8, False),
    (2025, 9, "C01", "I01", "ytd", 1013.6, False),
    (2025, 9, "C01", "I01", "growth_pct", -2.1, False),
    (2025, 9, "C01", "I01", "published_completion_pct", 66.68, False),
    (2025, 9, "C01", "new:工业投资", "ytd", 95.0, True),
    (2025, 9, "C01", "new:工业投资", "growth_pct", 12.4, False),
    (2025, 9, "C01", "I03", "ytd", 71264.0, False),                 # its child's 45517 NOT added
    (2025, 9, "C01", "I03", "growth_pct", 3.3, False),
    (2025, 9, "C01", "I03", "published_completion_pct", 72.72, False),
    (2025, 9, "C01", "new:税收收入", "ytd", 45517.0, False),
    (2025, 9, "C01", "new:税收收入", "growth_pct", 1.2, False),
    (2025, 9, "C01", "new:税收收入", "published_completion_pct", 68.97, False),
]
INDICATOR_TGT = [
    (2025, "C01", "I02", "growth_pct", 6.5),   # from the remark "增速目标6.5%"
    (2025, "C01", "I01", "ytd", 1520.0),
    (2025, "C01", "new:工业投资", "ytd", 600.0),
    (2025, "C01", "I03", "ytd", 98000.0),
    (2025, "C01", "new:税收收入", "ytd", 66000.0),
]

MONTHS = [f"1-{m}月" for m in range(2, 13)]
MONTH_COLUMNS = "\r\n".join([
    ",".join(["指标", "单位", "年份", *MONTHS]),
    "固定资产投资,亿元,2024,14.2,25.9,37.5,49.8,70.3,81.0,92.6,104.1,117.9,131.0,148.3",
    "固定资产投资,亿元,2025,15.1,26.0,38.8,50.2,68.9,79.4,90.1,101.36,,,",
    "一般公共预算收入,亿元,2025,0.81,1.2,,,,,,,,,",   # 亿元 → the indicator's 万元: ×10000
]) + "\r\n"
MONTH_OBS = (
    [(2024, m, "C01", "I01", "ytd", v, False) for m, v in zip(range(2, 13), (
        14.2, 25.9, 37.5, 49.8, 70.3, 81.0, 92.6, 104.1, 117.9, 131.0, 148.3))]
    + [(2025, m, "C01", "I01", "ytd", v, False) for m, v in zip(range(2, 10), (
        15.1, 26.0, 38.8, 50.2, 68.9, 79.4, 90.1, 101.36))]
    + [(2025, 2, "C01", "I03", "ytd", 8100.0, False), (2025, 3, "C01", "I03", "ytd", 12000.0, False)]
)


def unit_rows_xlsx() -> bytes:
    """Counties as rows, one merged column group per indicator (总量/增速/位次), a 全市 row
    and a note row — as openpyxl writes it (numbers as numbers)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "1-9月县区对比"
    ws.append(["青川市各县（市、区）主要指标对比（2025年1-9月）"])
    ws.append(["县（市、区）", "固定资产投资", None, None, "一般公共预算收入", None, None])
    ws.append([None, "总量(万元)", "增速(%)", "位次", "总量(万元)", "增速(%)", "位次"])
    ws.append(["清河县", 1013600, -2.1, 2, 71264, 3.3, 1])
    ws.append(["龙泉县", 5600, 4.4, 1, 80315, 5.1, 2])
    ws.append(["全市", 1019200, 1.0, None, 151579, 4.2, None])
    ws.append(["注：位次按增速排列。"])
    for rng in ("A1:G1", "A2:A3", "B2:D2", "E2:G2"):
        ws.merge_cells(rng)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


UNIT_ROWS_OBS = [
    (2025, 9, "C01", "I01", "ytd", 101.36, False),      # 1,013,600 万元 → 101.36 亿元
    (2025, 9, "C01", "I01", "growth_pct", -2.1, False),
    (2025, 9, "C01", "I01", "published_rank", 2.0, False),
    (2025, 9, "C01", "I03", "ytd", 71264.0, False),
    (2025, 9, "C01", "I03", "growth_pct", 3.3, False),
    (2025, 9, "C01", "I03", "published_rank", 1.0, False),
    (2025, 9, "C02", "I01", "ytd", 0.56, False),         # 5,600 万元 → 0.56 亿元
    (2025, 9, "C02", "I01", "growth_pct", 4.4, False),
    (2025, 9, "C02", "I01", "published_rank", 1.0, False),
    (2025, 9, "C02", "I03", "ytd", 80315.0, False),
    (2025, 9, "C02", "I03", "growth_pct", 5.1, False),
    (2025, 9, "C02", "I03", "published_rank", 2.0, False),
    (2025, 9, "QC", "I01", "ytd", 101.92, False),        # 全市 → the city unit
    (2025, 9, "QC", "I01", "growth_pct", 1.0, False),
    (2025, 9, "QC", "I03", "ytd", 151579.0, False),
    (2025, 9, "QC", "I03", "growth_pct", 4.2, False),
]

LEDGER = "\r\n".join([
    "序号,项目名称,项目类别,责任单位,分管领导,年度计划投资(万元),1-9月完成投资(万元),形象进度,计划开工时间,是否开工",
    '1,城关镇老旧小区改造,县重点,城关镇,张副县长,"12,000","8,400",主体施工,2025-03,是',
    '2,龙泉物流园,市重点,龙泉县,李副县长,"5,600",-,前期手续办理,2025-10,否',
]) + "\r\n"
LEDGER_ROWS = [
    ("城关镇老旧小区改造", "县重点", "T01", "张副县长", 12000.0, 2025, "2025-03", 9, 8400.0, "主体施工", True),
    ("龙泉物流园", "市重点", "C02", "李副县长", 5600.0, 2025, "2025-10", 9, None, "前期手续办理", False),  # "-" → NULL
]

LONG_DECODED = [(1, LONG_HEADER), (3, LONG_ROWS[1]), (5, LONG_ROWS[3])]

# id, file name, bytes, options, encoding, decoded rows (row number, cells), observations, targets
CASES = [
    ("long-utf8", "long.csv", long_file("utf-8"), None, "UTF-8", LONG_DECODED, LONG_OBS, LONG_TGT),
    ("long-utf8-bom", "long.csv", long_file("utf-8-sig"), None, "UTF-8 (BOM)", LONG_DECODED, LONG_OBS, LONG_TGT),
    ("long-utf16-bom", "long.csv", long_file("utf-16"), None, "UTF-16", LONG_DECODED, LONG_OBS, LONG_TGT),
    ("long-utf16le-nobom", "long.csv", long_file("utf-16-le-nobom"), None, "UTF-16", LONG_DECODED, LONG_OBS, LONG_TGT),
    ("long-gbk", "long.csv", long_file("gbk"), None, "GBK", LONG_DECODED, LONG_OBS, LONG_TGT),
    ("long-gb18030-4byte", "long.csv", long_file("gb18030", rare=True), CREATE, "GB18030",
     LONG_DECODED + [(8, RARE_ROW)], LONG_OBS + [RARE_OBS], LONG_TGT),
    ("long-tab", "long.txt", long_file("utf-8", "\t"), None, "UTF-8", LONG_DECODED, LONG_OBS, LONG_TGT),
    ("long-semicolon", "long.csv", long_file("utf-8", ";"), None, "UTF-8", LONG_DECODED, LONG_OBS, LONG_TGT),
    ("long-crlf-gbk", "long.csv", long_file("gbk", newline="\r\n"), None, "GBK", LONG_DECODED, LONG_OBS, LONG_TGT),
    ("indicator-rows-gbk-two-row-header", "主要指标.csv", INDICATOR_ROWS.encode("gbk"), CREATE, "GBK",
     [(1, ["青川市清河县主要经济指标完成情况（2025年1-9月）", "", "", "", "", ""]),
      (3, ["指标名称", "全年目标", "1-9月", "", "完成全年目标%", "备注"]),
      (4, ["", "", "累计完成", "同比增长%", "", ""]),
      (7, ["  其中：工业投资", "600", "约95", "12.4", "", ""]),
      (9, ["  #税收收入（万元）", "66,000", "45,517", "1.2", "68.97", ""])],
     INDICATOR_OBS, INDICATOR_TGT),
    ("month-columns-utf8", "月度.csv", MONTH_COLUMNS.encode("utf-8"), None, "UTF-8",
     [(1, ["指标", "单位", "年份", *MONTHS]),
      (3, ["固定资产投资", "亿元", "2025", "15.1", "26.0", "38.8", "50.2", "68.9", "79.4", "90.1", "101.36", "", "", ""])],
     MONTH_OBS, []),
    ("unit-rows-xlsx-merged", "县区对比.xlsx", unit_rows_xlsx(), None, "xlsx",
     [(2, ["县（市、区）", "固定资产投资", "", "", "一般公共预算收入", "", ""]),
      (3, ["", "总量(万元)", "增速(%)", "位次", "总量(万元)", "增速(%)", "位次"]),
      (5, ["龙泉县", "5600", "4.4", "1", "80315", "5.1", "2"]),
      (6, ["全市", "1019200", "1", "", "151579", "4.2", ""])],
     UNIT_ROWS_OBS, []),
]


@pytest.mark.parametrize("name, data, options, encoding, decoded, expected_obs, expected_tgt",
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_shape_and_encoding(small_db, analyst, name, data, options, encoding, decoded, expected_obs, expected_tgt):
    table = read_table(data, name)
    assert table.encoding == encoding
    rows = dict(table.rows)
    for number, cells in decoded:
        assert rows[number][:len(cells)] == cells
        assert all(c == "" for c in rows[number][len(cells):])

    report = ingest_bytes(data, name, analyst, options, path=small_db)
    assert report.status == "stored", (report.message, [str(p) for p in report.problems])
    assert report.encoding == encoding
    assert observations(small_db, report.upload_id) == resolve(expected_obs, small_db)
    assert targets(small_db, report.upload_id) == resolve(expected_tgt, small_db)


def test_layout_names(small_db, analyst):
    """The layout each shape is recognised as (the report and the upload page show it)."""
    expected = {"long-utf8": "long", "indicator-rows-gbk-two-row-header": "indicator_rows",
                "month-columns-utf8": "month_columns", "unit-rows-xlsx-merged": "unit_rows"}
    for case in CASES:
        if case[0] in expected:
            report = ingest_bytes(case[2], case[1], analyst, case[3], path=small_db)
            assert (case[0], report.layout) == (case[0], expected[case[0]])


def test_indicator_rows_sub_rows_are_children_and_notes_kept(small_db, analyst):
    report = ingest_bytes(INDICATOR_ROWS.encode("gbk"), "主要指标.csv", analyst, CREATE, path=small_db)
    assert report.status == "stored", report.message
    assert parent_of(small_db, "工业投资") == "I01"
    assert parent_of(small_db, "税收收入") == "I03"
    assert "注:“—”表示无此项目标或数据暂缺。" in report.notes  # kept, NFKC-cleaned (full-width colon → ":")
    assert sorted(report.created["indicators"]) == ["工业投资", "税收收入"]


def test_unit_rows_xlsx_merged_ranges_and_note(small_db, analyst):
    table = read_table(unit_rows_xlsx(), "县区对比.xlsx")
    assert table.sheet == "1-9月县区对比"
    assert sorted(table.merged) == [(1, 1, 1, 7), (2, 1, 3, 1), (2, 2, 2, 4), (2, 5, 2, 7)]
    assert dict(table.rows)[7][0] == "注：位次按增速排列。"
    report = ingest_bytes(unit_rows_xlsx(), "县区对比.xlsx", analyst, path=small_db)
    assert "注:位次按增速排列。" in report.notes


def test_unit_rows_group_named_with_growth_word(small_db, analyst):
    data = "\n".join(["县（市、区）,地区生产总值增速,,固定资产投资,", ",数值,位次,总量,位次",
                      "清河县,5.8,3,101.36,6", "龙泉县,,,88.7,2", ""]).encode("utf-8")
    report = ingest_bytes(data, "对比_2025_1-9.csv", analyst, path=small_db)
    assert report.status == "stored", (report.message, [str(p) for p in report.errors])
    assert observations(small_db, report.upload_id) == sorted([
        (2025, 9, "C01", "I02", "growth_pct", 5.8, False), (2025, 9, "C01", "I02", "published_rank", 3.0, False),
        (2025, 9, "C01", "I01", "ytd", 101.36, False), (2025, 9, "C01", "I01", "published_rank", 6.0, False),
        (2025, 9, "C02", "I01", "ytd", 88.7, False), (2025, 9, "C02", "I01", "published_rank", 2.0, False)], key=repr)


def test_project_ledger_utf8_bom(small_db, analyst):
    data = LEDGER.encode("utf-8-sig")
    table = read_table(data, "重点项目台账_2025_1-9.csv")
    assert table.encoding == "UTF-8 (BOM)"
    assert dict(table.rows)[1][:2] == ["序号", "项目名称"]  # the BOM is not part of the first cell
    assert dict(table.rows)[3] == ["2", "龙泉物流园", "市重点", "龙泉县", "李副县长", "5,600", "-", "前期手续办理",
                                   "2025-10", "否"]
    report = ingest_bytes(data, "重点项目台账_2025_1-9.csv", analyst, path=small_db)
    assert (report.status, report.layout) == ("stored", "project_ledger"), report.message
    assert projects(small_db, report.upload_id) == LEDGER_ROWS


def test_published_completion_that_disagrees_is_stored_and_reported(small_db, analyst):
    """2.74 of 10.66 is 25.70 %; the bureau printed 21.85 %: stored as published, warned."""
    data = "\n".join(["清河县主要指标完成情况（2025年1-9月）,,,", "单位：亿元,,,",
                      "指标名称,全年目标,1-9月累计,完成率%", "固定资产投资,10.66,2.74,21.85", ""]).encode("gbk")
    report = ingest_bytes(data, "完成率.csv", analyst, path=small_db)
    assert report.status == "stored", report.message
    assert observations(small_db, report.upload_id) == sorted([
        (2025, 9, "C01", "I01", "ytd", 2.74, False),
        (2025, 9, "C01", "I01", "published_completion_pct", 21.85, False)], key=repr)
    assert targets(small_db, report.upload_id) == [(2025, "C01", "I01", "ytd", 10.66)]
    warnings = [p for p in report.problems if p.severity == "warning"]
    assert len(warnings) == 1
    assert (warnings[0].row, warnings[0].column) == (4, "完成率%")
    assert "21.85" in warnings[0].reason and "25.70" in warnings[0].reason


# ---------------------------------------------------------------- the shared samples

def _sample(name: str) -> Path:
    path = SAMPLES / name
    if not path.exists():
        pytest.skip(f"sample {path} not present")
    return path


def test_sample_gbk_bulletin(demo_db, analyst):
    path = _sample("county_bulletin_2025_1-9_gbk.csv")
    table = read_table(path.read_bytes(), path.name)
    assert table.encoding == "GBK"
    rows = dict(table.rows)
    assert rows[1][0] == "青川市清河县主要经济指标完成情况（2025年1-9月）"
    assert rows[3][:3] == ["指标名称", "全年目标", "1-9月"] and rows[4][2:4] == ["累计完成", "同比增长%"]
    assert rows[12][0] == "  #税收收入（万元）" and rows[13][2] == "约95"

    report = ingest_path(path, analyst, CREATE, path=demo_db)
    assert (report.status, report.layout, report.encoding) == ("stored", "indicator_rows", "GBK"), report.message
    obs = observations(demo_db, report.upload_id)
    tgt = targets(demo_db, report.upload_id)
    for row in resolve([
        (2025, 9, "C01", "I03", "ytd", 101.36, False),            # 固定资产投资
        (2025, 9, "C01", "I03", "growth_pct", -2.1, False),
        (2025, 9, "C01", "I03", "published_completion_pct", 66.68, False),
        (2025, 9, "C01", "I03a", "ytd", 41.95, False),            # 其中：工业投资
        (2025, 9, "C01", "I04", "ytd", 71264.0, False),           # 一般公共预算收入（万元）
        (2025, 9, "C01", "I04a", "ytd", 45517.0, False),          # #税收收入 — a child, kept apart
        (2025, 9, "C01", "I06", "ytd", 95.0, True),               # 约95
        (2025, 9, "C01", "new:地区生产总值", "growth_pct", 5.8, False),
    ], demo_db):
        assert row in obs
    assert [r for r in obs if r[3] == "I04" and r[4] == "ytd"] == [(2025, 9, "C01", "I04", "ytd", 71264.0, False)]
    assert not [r for r in obs if r[5] is None]
    assert parent_of(demo_db, "税收收入") == "I04"
    for row in resolve([
        (2025, "C01", "new:地区生产总值", "growth_pct", 6.5),     # "增速目标6.5%" in the remark
        (2025, "C01", "new:规模以上工业增加值", "growth_pct", 8.0),
        (2025, "C01", "I03", "ytd", 152.0),
        (2025, "C01", "I04", "ytd", 98000.0),
        (2025, "C01", "I06", "ytd", 120.0),
    ], demo_db):
        assert row in tgt
    assert len(obs) == 22 and len(tgt) == 10
    assert any(n.startswith("注:1.“—”表示无此项目标") for n in report.notes), report.notes


def test_sample_city_county_xlsx(demo_db, analyst):
    path = _sample("city_county_comparison_2025_1-9.xlsx")
    table = read_table(path.read_bytes(), path.name)
    assert table.sheet == "1-9月县区对比"
    rows = dict(table.rows)
    assert rows[2][:2] == ["县（市、区）", "地区生产总值"] and rows[3][1:4] == ["总量(亿元)", "增速(%)", "位次"]
    assert rows[10][0] == "全市"

    report = ingest_path(path, analyst, CREATE, path=demo_db)
    assert (report.status, report.layout) == ("stored", "unit_rows"), report.message
    obs = observations(demo_db, report.upload_id)
    for row in resolve([
        (2025, 9, "C01", "I03", "ytd", 101.36, False),
        (2025, 9, "C01", "I03", "growth_pct", -2.1, False),
        (2025, 9, "C01", "I03", "published_rank", 6.0, False),
        (2025, 9, "C01", "I04", "ytd", 71264.0, False),
        (2025, 9, "QC", "I03", "ytd", 599.49, False),              # 全市 → the city unit
        (2025, 9, "QC", "I04", "ytd", 411828.0, False),
        (2025, 9, "QC", "new:地区生产总值", "ytd", 742.87, False),
        (2025, 9, "new:白石县", "I04", "ytd", 80315.0, False),
    ], demo_db):
        assert row in obs
    assert not [r for r in obs if r[2] == "QC" and r[4] == "published_rank"]  # no rank printed for 全市
    assert len(obs) == 6 * 9 + 6
    assert sorted(report.created["units"]) == sorted(["白石县", "柳溪区", "松岭县", "石门县", "东坪县"])


def test_sample_monthly_wide(demo_db, analyst):
    path = _sample("monthly_wide_2024_2025.csv")
    assert read_table(path.read_bytes(), path.name).rows[0][1][:4] == ["指标", "单位", "年份", "1-2月"]
    report = ingest_path(path, analyst, CREATE, path=demo_db)
    assert (report.status, report.layout) == ("stored", "month_columns"), report.message
    obs = observations(demo_db, report.upload_id)
    assert (2024, 12, "C01", "I03", "ytd", 148.3, False) in obs
    assert (2024, 2, "C01", "I03", "ytd", 14.2, False) in obs      # 1-2月 combined → period 2
    assert (2025, 9, "C01", "I03", "ytd", 101.36, False) in obs
    assert (2025, 9, "C01", "I05", "ytd", 52.66, False) in obs
    assert not [r for r in obs if r[0] == 2025 and r[1] > 9]        # empty later months: nothing
    assert not [r for r in obs if r[1] == 1]
    assert len(obs) == 2 * 11 + 2 * 8


def test_sample_key_project_ledger(demo_db, analyst):
    path = _sample("key_projects_ledger_2025_1-9.csv")
    table = read_table(path.read_bytes(), path.name)
    assert table.encoding == "UTF-8 (BOM)"
    assert dict(table.rows)[4][1:4] == ["柳岸农旅融合示范园", "县重点", "县农业农村局"]
    report = ingest_path(path, analyst, CREATE, path=demo_db)
    assert (report.status, report.layout) == ("stored", "project_ledger"), report.message
    with db.connect(demo_db) as con:
        rows = con.execute("""
            SELECT p.name, p.unit_id, p.plan_investment, g.year, g.period, g.completed, g.started
            FROM projects p JOIN project_progress g ON g.project_id = p.project_id AND g.upload_id = p.upload_id
            WHERE p.upload_id = ? ORDER BY g.completed NULLS LAST""", [report.upload_id]).fetchall()
    assert sorted(rows, key=repr) == sorted([
        ("清河经开区标准化厂房三期", "D23", 32000.0, 2025, 9, 25600.0, True),
        ("县城污水处理厂扩建", "D05", 18500.0, 2025, 9, 9120.0, True),
        ("柳岸农旅融合示范园", "D07", 6000.0, 2025, 9, None, False),      # "-": nothing done, not 0
        ("国道改线清河段", "D06", 45000.0, 2025, 9, 31980.0, True),
    ], key=repr)


# ---------------------------------------------------------------- XLSX specifics

def _xlsx(sheets: list[tuple[str, str, list[list]]]) -> bytes:
    """[(title, state, rows)] → workbook bytes."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, state, rows in sheets:
        ws = wb.create_sheet(title)
        ws.sheet_state = state
        for r in rows:
            ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


DATA_ROWS = [LONG_HEADER, [2025, 9, "清河县", "固定资产投资", "亿元", "ytd", None, 101.36]]
OLD_ROWS = [LONG_HEADER, [2025, 8, "清河县", "固定资产投资", "亿元", "ytd", None, 90.5]]


def test_sheet_list_shows_hidden_sheets():
    data = _xlsx([("说明", "visible", []), ("数据", "visible", DATA_ROWS), ("旧数据", "hidden", OLD_ROWS),
                  ("内部", "veryHidden", OLD_ROWS)])
    assert [(s["name"], s["state"]) for s in sheet_list(data, "a.xlsx")] == [
        ("说明", "visible"), ("数据", "visible"), ("旧数据", "hidden"), ("内部", "veryHidden")]
    assert read_table(data, "a.xlsx").sheets == ["说明", "数据", "旧数据", "内部"]


def test_empty_first_visible_sheet_is_not_read_the_data_sheet_is(small_db, analyst):
    data = _xlsx([("说明", "visible", []), ("数据", "visible", DATA_ROWS), ("旧数据", "hidden", OLD_ROWS)])
    report = ingest_bytes(data, "a.xlsx", analyst, path=small_db)
    assert (report.status, report.sheet) == ("stored", "数据"), report.message
    assert observations(small_db, report.upload_id) == [(2025, 9, "C01", "I01", "ytd", 101.36, False)]


def test_chosen_sheet_is_read_even_when_hidden(small_db, analyst):
    data = _xlsx([("数据", "visible", DATA_ROWS), ("旧数据", "hidden", OLD_ROWS)])
    report = ingest_bytes(data, "a.xlsx", analyst, IngestOptions(sheet="旧数据"), path=small_db)
    assert (report.status, report.sheet) == ("stored", "旧数据"), report.message
    assert observations(small_db, report.upload_id) == [(2025, 8, "C01", "I01", "ytd", 90.5, False)]


@pytest.mark.parametrize("sheets, sheet, words", [
    ([("说明", "visible", []), ("数据", "visible", DATA_ROWS)], "说明", ["说明", "空"]),
    ([("数据", "visible", DATA_ROWS)], "不存在", ["不存在", "数据"]),
    ([("空白", "visible", []), ("旧数据", "hidden", OLD_ROWS)], None, ["旧数据", "隐藏"]),
], ids=["chosen-empty", "chosen-missing", "only-hidden-has-data"])
def test_sheet_problems_refused_with_names(small_db, analyst, sheets, sheet, words):
    before = content(small_db)
    report = ingest_bytes(_xlsx(sheets), "a.xlsx", analyst, IngestOptions(sheet=sheet), path=small_db)
    assert report.status == "refused"
    for w in words:
        assert w in report.message
    assert content(small_db) == before


def _formula_workbook() -> bytes:
    """Row 3's 数值 is ``=H2+1``: openpyxl writes the formula with no cached value."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "数据"
    ws.append(LONG_HEADER)
    ws.append([2025, 9, "清河县", "固定资产投资", "亿元", "ytd", None, 100])
    ws.append([2025, 9, "龙泉县", "固定资产投资", "亿元", "ytd", None, "=H2+1"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _with_cached_value(data: bytes, cell: str, value: str) -> bytes:
    """The same workbook with ``<v>value</v>`` added to the formula cell, as Excel saves it."""
    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = body.decode()
                new = re.sub(rf'(<c r="{cell}"[^>]*>\s*<f>[^<]*</f>)\s*(<v\s*/>|<v></v>)?', rf"\1<v>{value}</v>", text)
                assert new != text
                body = new.encode()
            z.writestr(info, body)
    return out.getvalue()


def test_formula_without_cached_value_is_refused_naming_the_cell(small_db, analyst):
    before = content(small_db)
    report = ingest_bytes(_formula_workbook(), "f.xlsx", analyst, path=small_db)
    assert report.status == "refused"
    assert "H3" in report.message and "公式" in report.message and "=H2+1" in report.message
    assert report.problems[0].row == 3
    assert content(small_db) == before


def test_formula_refusal_column_is_the_header_text(small_db, analyst):
    """DESIGN.md: an ingest error's column is the header text, not the letter."""
    report = ingest_bytes(_formula_workbook(), "f.xlsx", analyst, path=small_db)
    assert report.problems[0].column == "数值"


def test_formula_with_cached_value_reads_the_value(small_db, analyst):
    data = _with_cached_value(_formula_workbook(), "H3", "101")
    assert dict(read_table(data, "f.xlsx").rows)[3][7] == "101"
    report = ingest_bytes(data, "f.xlsx", analyst, path=small_db)
    assert report.status == "stored", report.message
    assert observations(small_db, report.upload_id) == [
        (2025, 9, "C01", "I01", "ytd", 100.0, False), (2025, 9, "C02", "I01", "ytd", 101.0, False)]
