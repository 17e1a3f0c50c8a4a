"""Long-layout ingest (analytics.ingest) against real DuckDB files.

Every case asserts the rows read back from the database — year, period, unit, indicator,
measure, value, approx flag, upload id and source row — never just "no exception".
Refusals assert the problem's file/row/column/reason and that ``content()`` is unchanged.

The library used (tests/conftest.py ``small_db``): units QC 青川市, C01 清河县, C02 龙泉县,
T01 城关镇; indicators I01 固定资产投资 (亿元, cumulative), I02 地区生产总值增速 (%, rate),
I03 一般公共预算收入 (万元, cumulative), I04 安全生产事故死亡人数 (人, ceiling).
"""
from __future__ import annotations

import io
import json

import duckdb
import pytest
from conftest import content

from analytics import browse, db
from analytics.errors import PermissionDenied
from analytics.ingest import IngestOptions, IngestReport, ingest_bytes

HEADER = "年份,期间,单位,指标,计量单位,口径,目标值,数值"


def csv(*rows: str, header: str = HEADER, newline: str = "\n", bom: bool = False) -> bytes:
    text = newline.join([header, *rows]) + newline
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def xlsx(*rows: list) -> bytes:
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER.split(","))
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def observations(path, upload_id: int | None = None) -> list[tuple]:
    """(year, period, unit_id, indicator_id, measure, value, approx, upload_id, source_row)."""
    with db.connect(path) as con:
        return con.execute(
            """SELECT year, period, unit_id, indicator_id, measure, value, approx, upload_id, source_row
               FROM observations WHERE $u IS NULL OR upload_id = $u
               ORDER BY upload_id, source_row, measure""", {"u": upload_id}).fetchall()


def targets(path, upload_id: int | None = None) -> list[tuple]:
    """(year, unit_id, indicator_id, measure, target, upload_id, source_row)."""
    with db.connect(path) as con:
        return con.execute(
            """SELECT year, unit_id, indicator_id, measure, target, upload_id, source_row
               FROM targets WHERE $u IS NULL OR upload_id = $u ORDER BY upload_id, source_row""",
            {"u": upload_id}).fetchall()


def errors(report: IngestReport) -> list[tuple]:
    return [(p.file, p.row, p.column) for p in report.problems if p.severity == "error"]


def ingest(data: bytes, path, actor, name: str = "t.csv", **options) -> IngestReport:
    return ingest_bytes(data, name, actor, IngestOptions(**options), path=path)


A = pytest.approx  # converted values (× 0.0001) are compared to 12 significant digits

# ------------------------------------------------------------------ layout variants
# id, file name, bytes, options, expected observations (without upload_id), expected targets
# (without upload_id). Each expected number is written from the cell text by hand.
LONG_CASES = [
    ("utf8", "a.csv", csv("2026,9,清河县,固定资产投资,亿元,ytd,,101.36"), {},
     [(2026, 9, "C01", "I01", "ytd", 101.36, False, 2)], []),
    ("utf8_bom", "a.csv", csv("2026,9,清河县,固定资产投资,亿元,ytd,,101.36", bom=True), {},
     [(2026, 9, "C01", "I01", "ytd", 101.36, False, 2)], []),
    ("xlsx", "a.xlsx", xlsx([2026, "1-9月", "龙泉县", "固定资产投资", "亿元", "ytd", None, 1234.5],
                            [2026, 9, "龙泉县", "地区生产总值增速", "%", None, None, -2.1],
                            [2026, None, "龙泉县", "固定资产投资", "亿元", "ytd", 152, None]), {},
     [(2026, 9, "C02", "I01", "ytd", 1234.5, False, 2), (2026, 9, "C02", "I02", "growth_pct", -2.1, False, 3)],
     [(2026, "C02", "I01", "ytd", 152.0, 4)]),
    ("crlf", "a.csv", csv("2026,9,清河县,固定资产投资,亿元,ytd,,101.36",
                          "2026,9,龙泉县,固定资产投资,亿元,ytd,,88", newline="\r\n"), {},
     [(2026, 9, "C01", "I01", "ytd", 101.36, False, 2), (2026, 9, "C02", "I01", "ytd", 88.0, False, 3)], []),
    ("placeholders_are_no_value", "a.csv",
     csv("2026,9,清河县,固定资产投资,亿元,ytd,,-", "2026,9,龙泉县,固定资产投资,亿元,ytd,,—",
         "2026,9,城关镇,固定资产投资,亿元,ytd,,", "2026,9,清河县,一般公共预算收入,万元,ytd,,0"), {},
     [(2026, 9, "C01", "I03", "ytd", 0.0, False, 5)], []),   # an explicit 0 is a value; "-" is not
    ("thousands_separators", "a.csv",
     csv('2026,9,清河县,固定资产投资,亿元,ytd,,"1,234.5"', '2026,9,清河县,一般公共预算收入,万元,ytd,,"12,345,678"'), {},
     [(2026, 9, "C01", "I01", "ytd", 1234.5, False, 2), (2026, 9, "C01", "I03", "ytd", 12345678.0, False, 3)], []),
    ("negative_values", "a.csv",
     csv("2026,9,清河县,地区生产总值增速,%,growth_pct,,-2.1", "2026,9,龙泉县,地区生产总值增速,%,growth_pct,,-0.5",
         "2026,,清河县,地区生产总值增速,%,growth_pct,-1,"), {},   # a negative *rate* target is allowed
     [(2026, 9, "C01", "I02", "growth_pct", -2.1, False, 2), (2026, 9, "C02", "I02", "growth_pct", -0.5, False, 3)],
     [(2026, "C01", "I02", "growth_pct", -1.0, 4)]),
    ("approx", "a.csv", csv("2026,9,清河县,地区生产总值增速,%,growth_pct,,约3.4", "2026,9,龙泉县,固定资产投资,亿元,ytd,,大约50"), {},
     [(2026, 9, "C01", "I02", "growth_pct", 3.4, True, 2), (2026, 9, "C02", "I01", "ytd", 50.0, True, 3)], []),
    ("full_width_digits", "a.csv", csv("２０２６,９,清河县,固定资产投资,亿元,ytd,,１２３．４",
                                       '2026,1－9月,龙泉县,固定资产投资,亿元,ytd,,"１，２３４．５"'), {},
     [(2026, 9, "C01", "I01", "ytd", 123.4, False, 2), (2026, 9, "C02", "I01", "ytd", 1234.5, False, 3)], []),
    ("period_texts", "a.csv",
     csv("2026,1-9月,清河县,固定资产投资,亿元,ytd,,100", "2026,前三季度,龙泉县,固定资产投资,亿元,ytd,,90",
         "2026,1-2月,城关镇,固定资产投资,亿元,ytd,,3", "2026,上半年,清河县,一般公共预算收入,万元,ytd,,5000",
         "2026年,9月,城关镇,地区生产总值增速,%,growth_pct,,6"), {},
     [(2026, 9, "C01", "I01", "ytd", 100.0, False, 2), (2026, 9, "C02", "I01", "ytd", 90.0, False, 3),
      (2026, 2, "T01", "I01", "ytd", 3.0, False, 4), (2026, 6, "C01", "I03", "ytd", 5000.0, False, 5),
      (2026, 9, "T01", "I02", "growth_pct", 6.0, False, 6)], []),
    ("unit_conversion", "a.csv",
     csv("2026,9,清河县,固定资产投资,万元,ytd,,12345",         # 12345 万元 = 1.2345 亿元
         "2026,9,清河县,一般公共预算收入,亿元,ytd,,1.5",      # 1.5 亿元 = 15000 万元
         "2026,,清河县,固定资产投资,万元,ytd,1520000,",        # target 1520000 万元 = 152 亿元
         "2026,9,清河县,安全生产事故死亡人数,人,level,,3",
         "2026,9,清河县,地区生产总值增速,亿元,growth_pct,,6.5"), {},   # a % stays a %, whatever the uom says
     [(2026, 9, "C01", "I01", "ytd", A(1.2345, rel=1e-12), False, 2),
      (2026, 9, "C01", "I03", "ytd", A(15000.0, rel=1e-12), False, 3),
      (2026, 9, "C01", "I04", "level", 3.0, False, 5), (2026, 9, "C01", "I02", "growth_pct", 6.5, False, 6)],
     [(2026, "C01", "I01", "ytd", A(152.0, rel=1e-12), 4)]),
    ("measure_default_per_kind", "a.csv",
     csv("2026,9,清河县,固定资产投资,亿元,,,100", "2026,9,清河县,地区生产总值增速,%,,,6.1",
         "2026,9,清河县,安全生产事故死亡人数,人,,,2", "2026,,清河县,固定资产投资,亿元,,152,"), {},
     [(2026, 9, "C01", "I01", "ytd", 100.0, False, 2), (2026, 9, "C01", "I02", "growth_pct", 6.1, False, 3),
      (2026, 9, "C01", "I04", "level", 2.0, False, 4)],
     [(2026, "C01", "I01", "ytd", 152.0, 5)]),
    ("measure_synonyms", "a.csv",
     csv("2026,9,清河县,固定资产投资,亿元,累计,,100", "2026,9,清河县,固定资产投资,%,同比增长%,,8.5",
         "2026,9,清河县,固定资产投资,亿元,当月,,12"), {},
     [(2026, 9, "C01", "I01", "ytd", 100.0, False, 2), (2026, 9, "C01", "I01", "growth_pct", 8.5, False, 3),
      (2026, 9, "C01", "I01", "month", 12.0, False, 4)], []),
    ("names_by_id_and_with_invisible_spaces", "a.csv",
     csv("2026,9,C01,I01,亿元,ytd,,7", "2026,9,\u200b龙泉县\u00a0,固定资产投资 ,亿元,ytd,,8"), {},
     [(2026, 9, "C01", "I01", "ytd", 7.0, False, 2), (2026, 9, "C02", "I01", "ytd", 8.0, False, 3)], []),
    ("year_and_period_from_options", "a.csv",
     csv(",,清河县,固定资产投资,亿元,ytd,,100", "2026,9,龙泉县,固定资产投资,亿元,ytd,,90"), {"year": 2026, "period": 9},
     [(2026, 9, "C01", "I01", "ytd", 100.0, False, 2), (2026, 9, "C02", "I01", "ytd", 90.0, False, 3)], []),
    ("caption_above_header", "a.csv",
     "2026年1-9月主要指标完成情况\n".encode() + csv("2026,9,清河县,固定资产投资,亿元,ytd,,101.36"), {},
     [(2026, 9, "C01", "I01", "ytd", 101.36, False, 3)], []),
    ("blank_lines_skipped", "a.csv",
     csv("2026,9,清河县,固定资产投资,亿元,ytd,,1", ",,,,,,,", "", "2026,9,龙泉县,固定资产投资,亿元,ytd,,2"), {},
     [(2026, 9, "C01", "I01", "ytd", 1.0, False, 2), (2026, 9, "C02", "I01", "ytd", 2.0, False, 5)], []),
]


@pytest.mark.parametrize("name, data, options, expected_obs, expected_tgt",
                         [c[1:] for c in LONG_CASES], ids=[c[0] for c in LONG_CASES])
def test_long_layout_stores_exact_rows(small_db, analyst, name, data, options, expected_obs, expected_tgt):
    report = ingest(data, small_db, analyst, name, **options)
    assert report.status == "stored", [str(p) for p in report.problems]
    assert report.exit_code == 0 and report.upload_id is not None and report.layout == "long"
    uid = report.upload_id
    assert observations(small_db) == [(*r[:7], uid, r[7]) for r in expected_obs]
    assert targets(small_db) == [(*r[:5], uid, r[5]) for r in expected_tgt]
    assert report.rows_stored == len({r[-1] for r in expected_obs} | {r[-1] for r in expected_tgt})
    assert errors(report) == []


def test_placeholders_are_reported_not_stored(small_db, analyst):
    data = csv("2026,9,清河县,固定资产投资,亿元,ytd,,-", "2026,9,龙泉县,固定资产投资,亿元,ytd,,—",
               "2026,9,城关镇,固定资产投资,亿元,ytd,,", "2026,9,清河县,一般公共预算收入,万元,ytd,,5")
    report = ingest(data, small_db, analyst)
    assert (report.status, report.rows_read, report.rows_stored, report.rows_rejected, report.rows_empty) == \
           ("stored", 4, 1, 0, 3)
    with db.connect(small_db) as con:
        assert db.one(con, "SELECT count(*) FROM observations WHERE unit_id IN ('C02', 'T01')")[0] == 0
    info = [p for p in report.problems if p.severity == "info"]
    assert info and all("不按 0 计" in p.reason for p in info)   # reported, never silently dropped


def test_browse_shows_the_stored_value_with_its_upload(small_db, analyst):
    report = ingest(csv("2026,9,清河县,固定资产投资,万元,ytd,,1013600", "2026,,清河县,固定资产投资,亿元,ytd,152,"),
                    small_db, analyst, "月报.csv")
    rows = browse.browse(2026, 9, "C01", "I01", path=small_db)
    assert len(rows) == 1
    r = rows.iloc[0]
    assert (r.unit, r.indicator, r.measure, r.unit_of_measure, r.file_name, r.uploaded_by, int(r.upload_id),
            int(r.source_row), int(r.revisions)) == ("清河县", "固定资产投资", "ytd", "亿元", "月报.csv", "ana",
                                                     report.upload_id, 2, 1)
    assert r.value == pytest.approx(101.36, rel=1e-12) and r.target == 152.0


# ------------------------------------------------------------------ validation rules
# id, body rows, options, (row, column) of the one error, words the reason must contain
RULES = [
    ("unknown_unit", ["2026,9,清河县,固定资产投资,亿元,ytd,,1", "2026,9,东山县,固定资产投资,亿元,ytd,,5"], {},
     (3, "单位"), ["东山县"]),
    ("unknown_indicator", ["2026,9,清河县,不存在的指标,亿元,ytd,,5"], {}, (2, "指标"), ["不存在的指标"]),
    ("duplicate_key_in_file", ["2026,9,清河县,固定资产投资,亿元,ytd,,5", "2026,1-9月,清河县,固定资产投资,亿元,,,6"], {},
     (3, "数值"), ["第 3 行"]),
    ("duplicate_target_in_file", ["2026,,清河县,固定资产投资,亿元,ytd,152,", "2026,,清河县,固定资产投资,亿元,ytd,150,"], {},
     (3, "目标值"), ["第 3 行"]),
    ("text_in_number", ["2026,9,清河县,固定资产投资,亿元,ytd,,12亿"], {}, (2, "数值"), ["12亿"]),
    ("text_in_target", ["2026,,清河县,固定资产投资,亿元,ytd,待定,"], {}, (2, "目标值"), ["待定"]),
    ("negative_volume_target", ["2026,,清河县,固定资产投资,亿元,ytd,-5,"], {}, (2, "目标值"), ["负"]),
    ("unconvertible_unit_of_measure", ["2026,9,清河县,固定资产投资,亩,ytd,,3"], {}, (2, "计量单位"), ["亩", "亿元"]),
    ("period_contradicts_option", ["2026,8,清河县,固定资产投资,亿元,ytd,,3"], {"period": 9}, (2, "期间"), ["8", "9"]),
    ("year_contradicts_option", ["2025,9,清河县,固定资产投资,亿元,ytd,,3"], {"year": 2026}, (2, "年份"), ["2025", "2026"]),
    ("nan", ["2026,9,清河县,固定资产投资,亿元,ytd,,nan"], {}, (2, "数值"), ["nan"]),
    ("inf", ["2026,9,清河县,固定资产投资,亿元,ytd,,inf"], {}, (2, "数值"), ["inf"]),
    ("overflow", ["2026,9,清河县,固定资产投资,亿元,ytd,,1e400"], {}, (2, "数值"), ["1e400"]),
    ("missing_year", [",9,清河县,固定资产投资,亿元,ytd,,3"], {}, (2, "年份"), ["年份"]),
    ("bad_year", ["26,9,清河县,固定资产投资,亿元,ytd,,3"], {}, (2, "年份"), ["年份"]),
    ("missing_period_for_value", ["2026,,清河县,固定资产投资,亿元,ytd,,3"], {}, (2, "期间"), ["期间"]),
    ("bad_period", ["2026,13月,清河县,固定资产投资,亿元,ytd,,3"], {}, (2, "期间"), ["期间"]),
    ("unknown_measure", ["2026,9,清河县,固定资产投资,亿元,累计值x,,3"], {}, (2, "口径"), ["口径"]),
    ("missing_unit_name", ["2026,9,,固定资产投资,亿元,ytd,,3"], {}, (2, "单位"), ["单位"]),
]


def _rule(case):
    return pytest.param(*case[1:], id=case[0])


@pytest.mark.parametrize("rows, options, where, words", [_rule(c) for c in RULES])
def test_validation_rule_refuses_the_file(small_db, analyst, rows, options, where, words):
    before = content(small_db)
    good = "2026,9,龙泉县,地区生产总值增速,%,growth_pct,,6.2"   # a good row: the whole file is still refused
    report = ingest(csv(good, *rows), small_db, analyst, "bad.csv", **options)
    row, column = where
    assert (report.status, report.exit_code, report.rows_stored, report.upload_id) == ("refused", 2, 0, None)
    assert sorted(set(errors(report))) == [("bad.csv", row + 1, column)]     # +1: the good row comes first
    reason = next(p.reason for p in report.problems if p.severity == "error")
    assert all(w in reason for w in words), reason
    assert content(small_db) == before


def test_unconvertible_unit_of_measure_refuses_the_file(small_db, analyst):
    before = content(small_db)
    report = ingest(csv("2026,9,清河县,固定资产投资,亩,ytd,,3"), small_db, analyst, "bad.csv")
    assert (report.status, [p.row for p in report.problems if p.severity == "error"]) == ("refused", [2])
    assert content(small_db) == before


@pytest.mark.parametrize("row, options", [("2026,8,清河县,固定资产投资,亿元,ytd,,3", {"period": 9}),
                                          ("26,9,清河县,固定资产投资,亿元,ytd,,3", {}),
                                          ("2026,9,清河县,固定资产投资,亿元,累计值x,,3", {})],
                         ids=["period_clash", "bad_year", "bad_measure"])
def test_one_bad_row_is_reported_once(small_db, analyst, row, options):
    report = ingest(csv(row), small_db, analyst, "bad.csv", **options)
    assert report.status == "refused" and len(errors(report)) == 1, [str(p) for p in report.problems]


def test_row_with_more_cells_than_header_is_not_silently_truncated(small_db, analyst):
    before = content(small_db)
    report = ingest(csv("2026,9,清河县,固定资产投资,亿元,ytd,,1,234.5"), small_db, analyst, "extra.csv")
    assert report.status == "refused" and [p.row for p in report.problems if p.severity == "error"] == [2]
    assert content(small_db) == before


def test_unknown_names_listed_and_nothing_created(small_db, analyst):
    before = content(small_db)
    report = ingest(csv("2026,9,东山县,固定资产投资,亿元,ytd,,1", "2026,9,西山县,固定资产投资,亿元,ytd,,2"),
                    small_db, analyst, "u.csv")
    assert report.status == "refused"
    assert "东山县" in report.message and "西山县" in report.message and "--create-missing" in report.message
    assert content(small_db) == before


def test_viewer_may_not_upload(small_db, viewer):
    before = content(small_db)
    with pytest.raises(PermissionDenied):
        ingest(csv("2026,9,清河县,固定资产投资,亿元,ytd,,1"), small_db, viewer)
    assert content(small_db) == before


# ------------------------------------------------------------------ --create-missing

def test_create_missing_adds_units_and_indicators_for_review(small_db, analyst):
    data = csv("2026,9,新城镇,光伏装机容量,万千瓦,,,12", "2026,9,新城镇,研发投入增速,,,,3.5",
               "2026,9,清河县,研发投入强度,%,,,2.4", "2026,9,清河县,固定资产投资,亿元,ytd,,100")
    report = ingest(data, small_db, analyst, "new.csv", create_missing=True)
    assert report.status == "stored" and report.rows_stored == 4
    assert report.created == {"units": ["新城镇"], "indicators": ["光伏装机容量", "研发投入增速", "研发投入强度"]}
    with db.connect(small_db) as con:
        unit = con.execute("SELECT unit_id, level FROM units WHERE name = '新城镇'").fetchall()
        inds = dict((r[0], r[1:]) for r in con.execute(
            """SELECT name, indicator_id, kind, points, needs_review FROM indicators
               WHERE name IN ('光伏装机容量', '研发投入增速', '研发投入强度')""").fetchall())
        flagged = {r[0] for r in con.execute("SELECT name FROM indicators WHERE needs_review").fetchall()}
    assert len(unit) == 1 and unit[0][1] == "township"
    new_u = unit[0][0]
    assert {k: v[1:] for k, v in inds.items()} == {"光伏装机容量": ("cumulative", 0.0, True),
                                                  "研发投入增速": ("rate", 0.0, True),
                                                  "研发投入强度": ("rate", 0.0, True)}
    assert flagged == set(inds)            # the library's own indicators are not flagged
    uid = report.upload_id
    assert observations(small_db) == [
        (2026, 9, new_u, inds["光伏装机容量"][0], "ytd", 12.0, False, uid, 2),
        (2026, 9, new_u, inds["研发投入增速"][0], "growth_pct", 3.5, False, uid, 3),
        (2026, 9, "C01", inds["研发投入强度"][0], "growth_pct", 2.4, False, uid, 4),
        (2026, 9, "C01", "I01", "ytd", 100.0, False, uid, 5)]


# ------------------------------------------------------------------ --accept-partial

def test_accept_partial_stores_good_rows(small_db, analyst):
    data = csv("2026,9,清河县,固定资产投资,亿元,ytd,,100", "2026,9,龙泉县,固定资产投资,亿元,ytd,,abc",
               "2026,9,城关镇,固定资产投资,亿元,ytd,,7.5")
    report = ingest(data, small_db, analyst, "p.csv", accept_partial=True)
    assert (report.status, report.exit_code, report.rows_read, report.rows_stored, report.rows_rejected) == \
           ("partial", 1, 3, 2, 1)
    assert errors(report) == [("p.csv", 3, "数值")]
    uid = report.upload_id
    assert observations(small_db) == [(2026, 9, "C01", "I01", "ytd", 100.0, False, uid, 2),
                                      (2026, 9, "T01", "I01", "ytd", 7.5, False, uid, 4)]
    with db.connect(small_db) as con:
        assert con.execute("SELECT status, rows_read, rows_stored, rows_rejected, uploaded_by FROM uploads "
                           "WHERE upload_id = ?", [uid]).fetchall() == [("partial", 3, 2, 1, "ana")]


def test_accept_partial_with_no_good_row_is_refused(small_db, analyst):
    before = content(small_db)
    report = ingest(csv("2026,9,清河县,固定资产投资,亿元,ytd,,abc"), small_db, analyst, accept_partial=True)
    assert (report.status, report.exit_code, report.upload_id) == ("refused", 2, None)
    assert content(small_db) == before


# ------------------------------------------------------------------ same file twice, revisions

def test_same_file_twice_is_a_duplicate(small_db, analyst):
    data = csv("2026,9,清河县,固定资产投资,亿元,ytd,,100")
    first = ingest(data, small_db, analyst, "a.csv")
    before = content(small_db)
    again = ingest(data, small_db, analyst, "renamed.csv")      # same bytes, other name: still the same file
    assert (again.status, again.exit_code, again.upload_id) == ("duplicate", 4, first.upload_id)
    assert str(first.upload_id) in again.message
    assert content(small_db) == before


def test_refused_file_is_not_remembered_as_duplicate(small_db, analyst):
    data = csv("2026,9,清河县,固定资产投资,亿元,ytd,,100")
    assert ingest(data, small_db, analyst, year=2025).status == "refused"    # file says 2026
    assert ingest(data, small_db, analyst).status == "stored"


def test_revision_keeps_history_and_browse_shows_latest(small_db, analyst):
    first = ingest(csv("2026,9,清河县,固定资产投资,亿元,ytd,,100.5", "2026,9,龙泉县,固定资产投资,亿元,ytd,,80"),
                   small_db, analyst, "first.csv")
    second = ingest(csv("2026,9,清河县,固定资产投资,亿元,ytd,,101.36"), small_db, analyst, "second.csv")
    assert first.status == second.status == "stored" and second.upload_id > first.upload_id
    rows = browse.browse(2026, 9, path=small_db).set_index("unit_id")
    assert (rows.loc["C01", "value"], int(rows.loc["C01", "revisions"]), int(rows.loc["C01", "upload_id"]),
            rows.loc["C01", "file_name"]) == (101.36, 2, second.upload_id, "second.csv")
    assert (rows.loc["C02", "value"], int(rows.loc["C02", "revisions"]), int(rows.loc["C02", "upload_id"])) == \
           (80.0, 1, first.upload_id)
    assert observations(small_db) == [(2026, 9, "C01", "I01", "ytd", 100.5, False, first.upload_id, 2),
                                      (2026, 9, "C02", "I01", "ytd", 80.0, False, first.upload_id, 3),
                                      (2026, 9, "C01", "I01", "ytd", 101.36, False, second.upload_id, 2)]


# ------------------------------------------------------------------ cumulative going down

def test_cumulative_lower_than_stored_previous_period_is_stored_with_warning(small_db, analyst):
    ingest(csv("2026,8,清河县,固定资产投资,亿元,ytd,,100"), small_db, analyst, "aug.csv")
    report = ingest(csv("2026,9,清河县,固定资产投资,亿元,ytd,,90", "2026,9,龙泉县,固定资产投资,亿元,ytd,,50"),
                    small_db, analyst, "sep.csv")
    assert report.status == "stored" and report.exit_code == 0 and report.rows_stored == 2
    warnings = [p for p in report.problems if p.severity == "warning"]
    assert [(p.file, p.row, p.column) for p in warnings] == [("sep.csv", 2, "数值")]
    assert all(s in warnings[0].reason for s in ("1-9月", "1-8月", "90.00", "100.00")), warnings[0].reason
    assert (2026, 9, "C01", "I01", "ytd", 90.0, False, report.upload_id, 2) in observations(small_db)


def test_cumulative_lower_within_one_file(small_db, analyst):
    report = ingest(csv("2026,7,清河县,一般公共预算收入,万元,ytd,,\"8,000\"",
                        "2026,8,清河县,一般公共预算收入,万元,ytd,,\"7,500\"",
                        "2026,9,清河县,一般公共预算收入,万元,ytd,,\"9,000\""), small_db, analyst, "q.csv")
    assert report.status == "stored"
    warnings = [p for p in report.problems if p.severity == "warning"]
    assert [(p.row, p.column) for p in warnings] == [(3, "数值")]
    assert all(s in warnings[0].reason for s in ("1-8月", "1-7月", "7,500.00", "8,000.00"))


def test_growth_rates_may_go_down(small_db, analyst):
    report = ingest(csv("2026,8,清河县,地区生产总值增速,%,growth_pct,,7", "2026,9,清河县,地区生产总值增速,%,growth_pct,,6"),
                    small_db, analyst)
    assert report.status == "stored" and [p for p in report.problems if p.severity == "warning"] == []


# ------------------------------------------------------------------ audit

def test_every_stored_upload_has_one_audit_entry(small_db, analyst, admin):
    a = ingest(csv("2026,9,清河县,固定资产投资,亿元,ytd,,100"), small_db, analyst, "a.csv")
    b = ingest(csv("2026,9,龙泉县,固定资产投资,亿元,ytd,,1", "2026,9,龙泉县,一般公共预算收入,万元,ytd,,x"),
               small_db, admin, "b.csv", accept_partial=True)
    refused = ingest(csv("2026,9,清河县,固定资产投资,亿元,ytd,,x"), small_db, analyst, "c.csv")
    dup = ingest(csv("2026,9,清河县,固定资产投资,亿元,ytd,,100"), small_db, analyst, "a2.csv")
    assert (a.status, b.status, refused.status, dup.status) == ("stored", "partial", "refused", "duplicate")
    with db.connect(small_db) as con:
        log = con.execute("SELECT username, action, detail FROM audit_log ORDER BY audit_id").fetchall()
        uploads = con.execute("SELECT upload_id, uploaded_by FROM uploads ORDER BY upload_id").fetchall()
    entries = {}
    for user, action, detail in log:
        if action == "upload":
            d = json.loads(detail)
            entries.setdefault(d["upload_id"], []).append((user, d["file"]))
    assert {u for u, _ in uploads} == set(entries)                  # one entry per stored upload …
    assert all(len(v) == 1 for v in entries.values())               # … exactly one
    assert entries[a.upload_id] == [("ana", "a.csv")] and entries[b.upload_id] == [("adm", "b.csv")]
    assert dict(uploads)[a.upload_id] == "ana" and dict(uploads)[b.upload_id] == "adm"
    assert not any(f in ("c.csv", "a2.csv") for v in entries.values() for _, f in v)


# ------------------------------------------------------------------ atomicity

def test_failing_on_the_last_row_changes_nothing(small_db, analyst):
    ingest(csv("2026,8,清河县,固定资产投资,亿元,ytd,,50"), small_db, analyst, "before.csv")
    before, version = content(small_db), db.data_version(small_db)
    good = [f"2026,{m},{u},固定资产投资,亿元,ytd,,{m * 10 + i}" for m in range(9, 13)
            for i, u in enumerate(("清河县", "龙泉县", "城关镇"))]
    report = ingest(csv(*good, "2026,12,清河县,一般公共预算收入,万元,ytd,,十二"), small_db, analyst, "last.csv")
    assert report.status == "refused" and report.rows_read == 13
    assert errors(report) == [("last.csv", 14, "数值")]
    assert content(small_db) == before and db.data_version(small_db) == version


@pytest.mark.parametrize("error", [duckdb.IOException("forced failure: disk full"), RuntimeError("forced failure")],
                         ids=["duckdb_error", "other_error"])
def test_failure_inside_the_store_transaction_rolls_back(small_db, analyst, monkeypatch, error):
    """The report is serialised into `uploads` as the last write of _store, after the new
    unit, the new indicator, the observations and the targets were inserted: failing there
    must leave every table as it was."""
    before, version = content(small_db), db.data_version(small_db)
    data = csv("2026,9,新城镇,光伏装机容量,万千瓦,,,12", "2026,9,清河县,固定资产投资,亿元,ytd,,100",
               "2026,,清河县,固定资产投资,亿元,ytd,152,")
    calls = []

    def boom(self):
        calls.append(self.file)
        raise error

    monkeypatch.setattr(IngestReport, "to_dict", boom)
    try:
        report = ingest(data, small_db, analyst, "boom.csv", create_missing=True)
    except type(error) as e:      # an unexpected error may propagate …
        assert e is error
    else:                         # … or be reported as a refusal; either way nothing is stored
        assert (report.status, report.exit_code) == ("refused", 2)
        assert "forced failure" in report.message
    assert calls == ["boom.csv"]                # the failure did happen inside _store
    monkeypatch.undo()
    assert content(small_db) == before and db.data_version(small_db) == version
    again = ingest(data, small_db, analyst, "boom.csv", create_missing=True)   # not remembered as stored
    assert again.status == "stored" and again.rows_stored == 3


def test_report_after_rollback_claims_nothing_stored(small_db, analyst, monkeypatch):
    def boom(self):
        raise duckdb.IOException("forced failure: disk full")

    monkeypatch.setattr(IngestReport, "to_dict", boom)
    report = ingest(csv("2026,9,清河县,固定资产投资,亿元,ytd,,100"), small_db, analyst, "boom.csv")
    assert (report.status, report.upload_id, report.rows_stored) == ("refused", None, 0)


def _big_file(bad_key: bool, encoding: str = "utf-8", newline: str = "\n") -> bytes:
    """504 distinct rows (more than the head the bulk path needs), with blank, "-" and text cells,
    a blank row, and, with ``bad_key``, a row whose only cell is blank but whose period is wrong.
    Also names padded with spaces, a number too large, a unit of measure that does not convert,
    a cumulative value going down, and after them (rows[i] stays on line i + 2) a repeated row
    and an approximate number."""
    rows = [f"{y},{p},{u},{i},{uom},ytd,,{y - 2000 + p}" for y in range(2020, 2027) for p in range(1, 13)
            for u in ("清河县", "龙泉县", "城关镇") for i, uom in (("固定资产投资", "亿元"), ("一般公共预算收入", "万元"))]
    rows[5] = rows[5].rsplit(",", 1)[0] + ","  # a blank cell
    rows[6] = rows[6].rsplit(",", 1)[0] + ",-"
    rows[7] = rows[7].rsplit(",", 1)[0] + ",x"  # not a number: rejected
    rows[8] = rows[8].replace(",ytd,,", ",ytd,5,")  # a target too
    rows[9] = ",,,,,,,"
    if bad_key:
        rows[10] = "2020,13,城关镇,固定资产投资,亿元,ytd,,"
    rows[11] = rows[11].replace("城关镇", " 城关镇\u3000")  # trimmed: the same unit (line 13)
    rows[12] = rows[12].rsplit(",", 1)[0] + ",1e20"  # too large (line 14)
    rows[13] = rows[13].replace(",万元,", ",人,")  # 人 is no 万元 (line 15)
    rows[30] = rows[30].rsplit(",", 1)[0] + ",1"  # below the month before: a warning (line 32)
    extra = [rows[40], "2026,12,清河县,固定资产投资,亿元,month,,约3.4"]  # a repeated row (line 506)
    # with bad_key, also an empty line and quotes: the line numbers are then counted another way
    last = "2026,12,龙泉县,一般公共预算收入,万元,month,,"
    extra += ["", last + '"1,234"'] if bad_key else [last + "1234"]
    return (HEADER + newline + newline.join(rows + extra) + newline).encode(encoding)


@pytest.mark.parametrize("encoding, newline", [("utf-8", "\n"), ("gbk", "\n"), ("utf-8", "\r\n")],
                         ids=["utf8", "gbk", "crlf"])
@pytest.mark.parametrize("bad_key", [False, True])
def test_bulk_and_general_paths_report_and_store_the_same(small_template, tmp_path, analyst, monkeypatch, bad_key,
                                                          encoding, newline):
    """The bulk path (pyarrow + a view of the cells) and the general path give the same report
    and the same stored rows; blank cells are counted, and checked when their row's keys fail."""
    from analytics import bulk
    from conftest import copy_db
    load, loaded = bulk.load, []
    monkeypatch.setattr(bulk, "load", lambda *a: loaded.append(load(*a)) or loaded[-1])
    results = []
    for name, min_rows in (("bulk", 1), ("general", 10**9)):
        monkeypatch.setattr(bulk, "MIN_ROWS", min_rows)
        path = copy_db(small_template, tmp_path / f"{name}.duckdb")
        report = ingest(_big_file(bad_key, encoding, newline), path, analyst, accept_partial=True)
        results.append((report.status, report.rows_read, report.rows_stored, report.rows_rejected,
                        report.rows_empty, [(p.row, p.column, p.reason, p.severity) for p in report.problems],
                        observations(path), targets(path)))
    assert loaded[0] is not None and loaded[1] is None  # the bulk path took the file, then stepped aside
    assert results[0] == results[1]
    status, read, stored, rejected, empty, problems, obs, _ = results[0]
    assert (status, read, stored, rejected, empty) == ("partial", 506, 500 - bad_key, 4 + bad_key, 2 + bad_key)
    assert (9, "数值", "「x」不是数字", "error") in problems  # rows[i] is on line i + 2
    assert ((12, "期间", "期间无法识别（应为 1-12 的月份或「1-9月」等）", "error") in problems) == bad_key
    blank = "第 7、8、12 行" if bad_key else "第 7、8 行"
    assert (7, "数值", f"{2 + bad_key} 个单元格无数值（“-”、“—”或空白；{blank}），未入库，不按 0 计", "info") in problems
    assert [p[:2] for p in problems if p[3] == "error"] == [(9, "数值"), *[(12, "期间")] * bad_key, (14, "数值"),
                                                            (15, "计量单位"), (506, "数值")]
    assert (506, "数值", "与第 42 行重复（同一单位、指标、口径、期间）", "error") in problems
    assert (32, "数值", "1-6月累计 1.00 低于 1-5月累计 25.00（已入库，请核实是否漏报或修订）", "warning") in problems
    by_row = {o[8]: o[:7] for o in obs}  # source row → (year, period, unit, indicator, measure, value, approx)
    assert by_row[13] == (2020, 2, "T01", "I03", "ytd", 22.0, False)  # the padded name
    assert (by_row[507], by_row[508 + bad_key]) == ((2026, 12, "C01", "I01", "month", 3.4, True),
                                                    (2026, 12, "C02", "I03", "month", 1234.0, False))


def test_bulk_read_takes_a_row_longer_than_a_block():
    """pyarrow reads in blocks: a row longer than one is read again in bigger blocks, not refused."""
    import pyarrow as pa

    from analytics import bulk
    data = b"1,2\n3," + b"4" * 64 + b"\n"
    table = bulk._read(data, 0, ["c0", "c1"], ",", {"c0": pa.string(), "c1": pa.string()}, 16)
    assert table.column("c1").to_pylist() == ["2", "4" * 64]


def test_next_years_target_is_taken_its_values_are_not(small_db, analyst):
    """Targets are set ahead; a value of a year that has not begun is a typo (2099 for 2026)."""
    from datetime import date
    nxt = date.today().year + 1
    ok = ingest_bytes(f"{HEADER}\n{nxt},,清河县,固定资产投资,亿元,ytd,120,\n".encode(), "明年目标.csv", analyst,
                      path=small_db)
    assert ok.status == "stored" and ok.rows_stored == 1
    before = content(small_db)
    bad = ingest_bytes(f"{HEADER}\n{nxt},9,清河县,固定资产投资,亿元,ytd,,80\n".encode(), "明年实际.csv", analyst,
                       path=small_db)
    assert bad.status == "refused" and content(small_db) == before
    (p,) = bad.errors
    assert (p.file, p.row, p.column) == ("明年实际.csv", 2, "年份")
    assert p.reason == f"实际值的年份 {nxt} 年尚未到来（今年是 {nxt - 1} 年）：只有目标值可以提前录入，请核对年份"
