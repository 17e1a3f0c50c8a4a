"""定期通报 (analytics/bulletin.py): the Word and Excel files carry the analytics functions'
numbers, the summary counts are right, formula-like text is neutralised in Excel and literal
in Word, Chinese fonts are set, the tables-only fallback works, the CLI writes both formats,
and the docx renders through LibreOffice as a real bulletin (skipped where soffice is missing)."""
from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

docx = pytest.importorskip("docx")
from docx.oxml.ns import qn  # noqa: E402
from openpyxl import load_workbook  # noqa: E402

from analytics import bulletin, progress  # noqa: E402
from analytics.__main__ import run  # noqa: E402
from analytics.ingest import IngestOptions, ingest_bytes  # noqa: E402
from tests.conftest import ADMIN  # noqa: E402

YEAR, PERIOD = 2026, 9
FORMULA = "=1+2"
DRAWS = 300


@pytest.fixture(scope="module")
def bdb(demo_template, tmp_path_factory) -> Path:
    """The demo database plus an indicator named "=1+2" (created by ingest, far behind)."""
    path = tmp_path_factory.mktemp("bulletin") / "demo.duckdb"
    shutil.copy(demo_template, path)
    data = ("年份,期间,单位,指标,计量单位,口径,目标值,数值\n"
            f"{YEAR},,清河县,\"{FORMULA}\",万元,ytd,100,\n"
            f"{YEAR},{PERIOD},清河县,\"{FORMULA}\",万元,ytd,,10\n").encode()
    report = ingest_bytes(data, "公式.csv", ADMIN, IngestOptions(create_missing=True), path=path)
    assert report.status == "stored", report.message
    return path


@pytest.fixture(scope="module")
def built(bdb):
    """One bulletin (charts not rendered: the renderer is tested on its own)."""
    b = bulletin.collect(YEAR, PERIOD, bdb, draws=DRAWS)
    doc_bytes, rendered = bulletin.to_docx(b, render=False)
    return {"b": b, "docx": doc_bytes, "xlsx": bulletin.to_xlsx(b), "notices": bulletin.notices_docx(b),
            "rendered": rendered}


@pytest.fixture(scope="module")
def ours(bdb):
    table = progress.gap_table(YEAR, PERIOD, bdb)
    return table[table.is_home.astype(bool)]


def docx_tables(content: bytes) -> list[list[list[str]]]:
    d = docx.Document(io.BytesIO(content))
    return [[[c.text for c in row.cells] for row in t.rows] for t in d.tables]


def docx_text(content: bytes) -> str:
    d = docx.Document(io.BytesIO(content))
    return "\n".join(p.text for p in d.paragraphs)


def sheet_rows(content: bytes, title: str) -> tuple[list, list[list]]:
    wb = load_workbook(io.BytesIO(content))
    ws = wb[title[:31]]
    rows = [list(r) for r in ws.iter_rows(min_row=2, values_only=True)]
    header, data = rows[0], []
    for r in rows[1:]:  # the table ends at the first empty row (a note may follow)
        if all(v is None for v in r):
            break
        data.append(r)
    return header, data


def find_table(tables, first_header_cells: list[str]):
    for t in tables:
        if t[0][:len(first_header_cells)] == first_header_cells:
            yield t


# ------------------------------------------------------------------ numbers

def test_summary_counts_match_progress_summary(built, ours):
    b = built["b"]
    counts = progress.summary(ours)
    assert b.counts == counts
    s = b.summary
    assert f"纳入考核的目标任务共{counts['targets']}项" in s
    for code in ("done", "ahead", "on_track", "behind", "far_behind", "missing"):
        assert f"{progress.STATUS[code]}{counts[code]}项" in s
    # hand check: the demo's 33 targets + the "=1+2" one (10 of 100 at 1-9月 → 严重滞后)
    assert counts["targets"] == 34 and counts["far_behind"] == 2
    assert "全年时间进度已过75.00%" in s
    # arrears by unit of measure: 万元 = the new indicator's 100 × 75% − 10 = 65
    owing = ours[ours.arrears > 0].groupby("unit_of_measure").arrears.sum()
    for uom, v in owing.items():
        assert f"{v:,.2f}{uom}" in s
    assert b.arrears_by_uom["万元"] == pytest.approx(65.0)
    assert built["b"].summary in docx_text(built["docx"])


def test_summary_states_projected_rank_and_p_top2(built, bdb):
    from analytics import simulation
    city = built["b"].city
    assert city is not None
    doc = simulation.simulate(YEAR, PERIOD, DRAWS, path=bdb)
    assert city["p_top2"] == pytest.approx(doc["p_top2"])
    proj = simulation.standing(YEAR, PERIOD, "city", True, bdb).units
    rank = int(proj[proj.is_home.astype(bool)]["rank"].iloc[0])
    assert city["projected_rank"] == rank
    assert f"排名第{rank}位" in built["b"].summary
    assert f"保二（前两名）概率{bulletin.prob_text(doc['p_top2'])}" in built["b"].summary


def test_arrears_table_in_docx_equals_gap_table(built, ours):
    behind = ours[ours.status_code.isin(["behind", "far_behind"])]
    tables = docx_tables(built["docx"])
    arrears = next(find_table(tables, ["序号", "指标", "完成率（%）", "时间进度（%）", "差距（百分点）", "欠账"]))
    rows = arrears[1:]
    assert len(rows) == len(behind)
    by_name = behind.set_index("indicator")
    for row in rows:
        r = by_name.loc[row[1]]
        assert row[2] == bulletin.fmt_cell(r.completion, "pct")
        assert row[3] == bulletin.fmt_cell(r.time_progress, "pct")
        assert row[4] == bulletin.fmt_cell(r.gap_pp, "pp")
        assert row[6] == r.status
        if r.kind == "cumulative":
            assert row[5] == f"{r.arrears:,.2f}{r.unit_of_measure}"
    # the worst first (严重滞后 before 欠进度)
    statuses = [r[6] for r in rows]
    assert statuses == sorted(statuses, key=lambda s: 0 if s == "严重滞后" else 1)
    assert any(r[1] == FORMULA and r[2] == "10.00" for r in rows)  # literal in Word


def test_arrears_sheet_holds_unrounded_numbers_with_formats(built, ours):
    header, data = sheet_rows(built["xlsx"], "欠账目标")
    assert header[:8] == ["指标", "计量单位", "全年目标（按计量单位）", "1-N月累计/实际（按计量单位）", "完成率（%）",
                          "时间进度（%）", "差距（百分点）", "欠账（按计量单位）"]
    behind = ours[ours.status_code.isin(["behind", "far_behind"])].set_index("indicator")
    assert len(data) == len(behind)
    for row in data:
        name = row[0][1:] if row[0].startswith("'") else row[0]
        r = behind.loc[name]
        for j, key in ((2, "target"), (3, "ytd"), (4, "completion"), (5, "time_progress"), (6, "gap_pp"), (7, "arrears")):
            expected = r[key]
            if pd.isna(expected):
                assert row[j] is None
            else:
                assert row[j] == pytest.approx(float(expected), rel=1e-12)
    wb = load_workbook(io.BytesIO(built["xlsx"]))
    ws = wb["欠账目标"]
    assert ws.freeze_panes == "B3"
    assert ws.cell(3, 5).number_format == "#,##0.00"
    assert ws.cell(3, 7).number_format.startswith("+0.00")


def test_status_colours_match_the_app(built):
    from ui.text import STATUS_COLORS, STATUS_TEXT_COLORS
    assert bulletin.STATUS_COLORS == STATUS_COLORS
    assert bulletin.STATUS_TEXT_COLORS == STATUS_TEXT_COLORS
    wb = load_workbook(io.BytesIO(built["xlsx"]))
    ws = wb["欠账目标"]
    header = [c.value for c in ws[2]]
    col = header.index("状态") + 1
    for r in range(3, ws.max_row + 1):
        cell = ws.cell(r, col)
        if cell.value in ("严重滞后", "欠进度"):
            code = "far_behind" if cell.value == "严重滞后" else "behind"
            assert cell.fill.fgColor.rgb.endswith(STATUS_COLORS[code].lstrip("#").upper())


def test_warnings_scores_and_risks_equal_analytics(built, ours, bdb):
    from analytics import scoring, simulation
    b = built["b"]
    warn = progress.warnings(ours)
    assert list(b.section("warnings").frame.indicator) == list(warn.indicator)
    _, data = sheet_rows(built["xlsx"], "早报告、早预警")
    assert [r[0].lstrip("'") for r in data] == list(warn.indicator)

    units = simulation.standing(YEAR, PERIOD, "county", False, bdb).units
    header, data = sheet_rows(built["xlsx"], "乡镇、县直部门考核得分与排名")
    assert header[:5] == ["组别", "单位", "得分（分）", "名次", "参评数"]
    got = {r[1]: (r[2], r[3]) for r in data}
    assert len(got) == len(units)
    for u in units.itertuples():
        assert got[u.name][0] == pytest.approx(u.total)
        assert got[u.name][1] == int(u.rank)
    tables = docx_tables(built["docx"])
    scores = next(find_table(tables, ["序号", "组别", "单位", "得分（分）", "名次"]))
    first = units.sort_values(["peer_group", "rank"]).iloc[0]
    assert scores[1][2] == first["name"] and scores[1][3] == f"{first.total:,.2f}"

    county = simulation.standing(YEAR, PERIOD, "county", False, bdb)
    city = simulation.standing(YEAR, PERIOD, "city", False, bdb)
    cons = scoring.consequences(county, city)
    risks = b.section("risks").frame
    assert list(risks.consequence[:len(cons)]) == list(cons.consequence)
    assert list(risks.reason[:len(cons)]) == list(cons.reason)


def test_quality_section_lists_open_flags_of_the_period(built, bdb):
    from analytics import quality
    flags = quality.check(YEAR, PERIOD, bdb)
    open_ = flags[(flags.period == PERIOD) & ~flags.verified.fillna(False).astype(bool)]
    sec = built["b"].section("quality")
    assert sec.missing is None
    assert sorted(sec.frame.flag_key) == sorted(open_.flag_key)


# ------------------------------------------------------------------ formula text, fonts, layout

def test_formula_text_neutralised_in_xlsx_literal_in_docx(built):
    wb = load_workbook(io.BytesIO(built["xlsx"]))
    values = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert f"'{FORMULA}" in values
    assert not any(v.startswith(("=", "+", "@")) for v in values)
    assert not any(v.startswith("-") for v in values)
    cells = [c for t in docx_tables(built["docx"]) for row in t for c in row]
    assert FORMULA in cells and f"'{FORMULA}" not in cells
    notice_cells = [c for t in docx_tables(built["notices"]) for row in t for c in row]
    assert FORMULA in notice_cells


def test_chinese_fonts_set_with_east_asia_and_no_theme(built):
    d = docx.Document(io.BytesIO(built["docx"]))
    for name, font in (("Normal", "仿宋"), ("Heading 1", "黑体"), ("Heading 2", "黑体"), ("通报表格", "宋体"),
                       ("通报标题", "宋体")):
        rfonts = d.styles[name].element.rPr.rFonts
        assert rfonts.get(qn("w:eastAsia")) == font, name
        assert rfonts.get(qn("w:ascii")) == font
        for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            assert rfonts.get(qn(attr)) is None, (name, attr)
    section = d.sections[0]
    assert round(section.page_width.mm) == 210 and round(section.page_height.mm) == 297
    assert round(section.top_margin.mm) == 37 and round(section.left_margin.mm) == 28
    footer_xml = section.footer._element.xml
    assert "PAGE" in footer_xml and "fldChar" in footer_xml
    text = docx_text(built["docx"])
    assert "关于2026年1-9月目标任务完成情况的通报" in text
    assert re.search(r"（\d{4}年\d{1,2}月\d{1,2}日）", text)


def test_notices_one_page_per_office(built):
    b = built["b"]
    d = docx.Document(io.BytesIO(built["notices"]))
    offices = b.behind.owner_office.fillna("（未指定责任单位）")
    assert len(d.tables) == offices.nunique()
    body = d.element.body.xml
    assert body.count('w:type="page"') == offices.nunique() - 1
    text = docx_text(built["notices"])
    for office in offices.unique():
        assert f"{office}：" in text
    for t, office in zip(d.tables, dict.fromkeys(offices)):
        names = [row.cells[1].text for row in t.rows[1:]]
        assert sorted(names) == sorted(b.behind[offices == office].indicator)


# ------------------------------------------------------------------ charts and fallback

def test_tables_only_when_renderer_fails(built, monkeypatch):
    b = built["b"]
    assert b.charts, "the demo has charts to render"

    def broken(*a, **k):
        raise bulletin.ChartRenderError("未找到 Chromium")
    monkeypatch.setattr(bulletin, "render_images", broken)
    content, rendered = bulletin.to_docx(b)
    assert rendered is False
    d = docx.Document(io.BytesIO(content))
    assert not d.inline_shapes
    assert "未能生成图表" in docx_text(content) and "仅含表格" in docx_text(content)
    assert len(d.tables) == len(docx_tables(built["docx"]))


def test_missing_module_degrades_to_no_data(bdb, monkeypatch):
    real = bulletin._module

    def no_sim(name):
        if name in ("simulation", "quality"):
            raise ModuleNotFoundError(f"No module named 'analytics.{name}'")
        return real(name)
    monkeypatch.setattr(bulletin, "_module", no_sim)
    b = bulletin.collect(YEAR, PERIOD, bdb, sections=["arrears", "scores", "quality", "city"], charts=False)
    assert b.city is None and "全市排名预测（暂无此项数据）" in b.summary
    assert b.section("scores").missing and b.section("quality").missing and b.section("city").missing
    content, _ = bulletin.to_docx(b, render=False)
    assert docx_text(content).count(bulletin.NO_DATA) >= 3
    _, data = sheet_rows(bulletin.to_xlsx(b), "欠账目标")
    assert data  # the sections that have data are still there


@pytest.mark.slow
def test_charts_rendered_in_one_batch(built):
    if shutil.which("chromium") is None and shutil.which("chromium-browser") is None:
        pytest.skip("no Chromium for kaleido")
    pngs = bulletin.render_images([c[1] for c in built["b"].charts], timeout=180)
    assert len(pngs) == len(built["b"].charts) and all(p.startswith(b"\x89PNG") for p in pngs)


# ------------------------------------------------------------------ CLI

def test_cli_writes_docx_xlsx_and_notices(bdb, tmp_path, capsys):
    import json
    out = tmp_path / "通报.docx"
    notices = tmp_path / "预警通知单.docx"
    code = run(["--db", str(bdb), "bulletin", "--year", str(YEAR), "--period", str(PERIOD), "--out", str(out),
                "--notices", str(notices), "--no-charts", "--draws", str(DRAWS)])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["title"] == "关于2026年1-9月目标任务完成情况的通报" and doc["charts_rendered"] is False
    assert docx.Document(str(out)).tables and docx.Document(str(notices)).tables
    xlsx = tmp_path / "通报.xlsx"
    assert run(["--db", str(bdb), "bulletin", "--year", str(YEAR), "--period", str(PERIOD), "--out", str(xlsx),
                "--no-charts", "--draws", str(DRAWS)]) == 0
    capsys.readouterr()
    wb = load_workbook(str(xlsx))
    assert "概况" in wb.sheetnames and "欠账目标" in wb.sheetnames
    assert run(["--db", str(bdb), "bulletin", "--year", str(YEAR), "--period", str(PERIOD),
                "--out", str(tmp_path / "x.pdf")]) == 2


# ------------------------------------------------------------------ rendered through LibreOffice

def render_pages(docx_path: Path, outdir: Path, pages: list[int], dpi: int = 70) -> list[Path]:
    """docx → PDF (LibreOffice, 宋体/仿宋/黑体 aliased to Noto CJK) → PNG of the given pages."""
    if shutil.which("soffice") is None and shutil.which("libreoffice") is None:
        pytest.skip("LibreOffice (soffice) not installed: apt-get install libreoffice-writer-nogui")
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm not installed: apt-get install poppler-utils")
    pdf = bulletin.docx_to_pdf(docx_path, outdir)
    out = []
    for p in pages:
        prefix = outdir / f"page{p}"
        subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", str(p), "-l", str(p), "-singlefile", str(pdf),
                        str(prefix)], check=True, timeout=60)
        out.append(prefix.with_suffix(".png"))
    return out


@pytest.mark.slow
def test_docx_renders_to_pdf_pages(built, tmp_path):
    path = tmp_path / "bulletin.docx"
    path.write_bytes(built["docx"])
    pngs = render_pages(path, tmp_path, [1, 2])
    assert all(p.exists() and p.stat().st_size > 10_000 for p in pngs)
    pdf = tmp_path / "bulletin.pdf"
    info = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    if info:  # the aliases took: serif body, sans headings, both Simplified Chinese
        assert "NotoSerifCJK" in info.replace(" ", "") and "NotoSansCJK" in info.replace(" ", "")
