"""The real app in headless Chromium: 数据浏览 shows the demo; 数据上传 takes a long-layout CSV
through the real upload widget and reports on screen; the CLI confirms what was stored."""
from __future__ import annotations

import re

import pytest

from .conftest import choose_file, expect, login, run_cli, wait_app

HEADER = "年份,期间,单位,指标,计量单位,口径,目标值,数值"
GOOD_NAME = "清河县10月.csv"
GOOD_CSV = f"{HEADER}\n2026,10,清河县,固定资产投资,亿元,累计,,130.5\n"
BAD_NAME = "清河县10月_有错.csv"
BAD_CSV = (f"{HEADER}\n"
           "2026,10,清河县,一般公共预算收入,万元,累计,,85000\n"
           "2026,10,清河县,税收收入,万元,累计,,四万五\n")  # file row 3: text in 数值


def no_exception(page) -> None:
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


def grid_text(frame) -> str:
    """Text of a st.dataframe: glide-data-grid keeps an accessible <table> beside its canvas."""
    cells = frame.locator("table td")
    expect(cells.first).to_be_attached()
    return "\n".join(frame.locator("table tr").all_inner_texts())


def metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=re.compile(f"^{label}$")))
    expect(box).to_have_count(1)
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def cli_values(db, **filters) -> list[dict]:
    args = ["--db", str(db), "browse"] + [a for k, v in filters.items() for a in (f"--{k}", str(v))]
    code, doc = run_cli(*args)
    assert code == 0, doc
    return doc


def open_upload(page, app_url: str) -> None:
    login(page, app_url, "analyst", "analyst123")
    page.goto(app_url + "/upload")  # by address (the cookie logs the new session in): a link click
    expect(page).to_have_url(re.compile(r"/upload$"))  # during the login's cookie rerun can be lost
    expect(page.locator("h1", has_text="数据上传").first).to_be_visible()
    wait_app(page)


def upload(page, name: str, text: str) -> None:
    # the widget PUTs the file to the server; its chip says "Cancel upload of …" until that is
    # done, then "Remove …"
    choose_file(page, name, text.encode("utf-8"))
    expect(page.locator('[data-testid="stFileChip"]')).to_contain_text(name)
    page.get_by_role("button", name="校验并入库").click()
    expect(page.locator("h3", has_text=f"校验报告：{name}").first).to_be_visible()
    wait_app(page)


def shoot_report(page, path) -> None:
    """Streamlit scrolls inside its main block, so a "full page" shot is the viewport: put the
    report heading at the top so the status, counts and problem table are in the picture."""
    page.locator("h3", has_text="校验报告").first.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(path), full_page=True)


def test_browse_shows_demo(page, app_url, shots_dir):
    login(page, app_url, "analyst", "analyst123")
    expect(page).to_have_title(re.compile("目标督查分析"))
    expect(page.locator("h1", has_text="目标任务完成情况").first).to_be_visible()  # 总览 is the landing page
    page.goto(app_url.rstrip("/") + "/browse")  # by address: a link click during the cookie rerun can be lost
    wait_app(page)
    expect(page.locator("h1", has_text="数据浏览").first).to_be_visible()
    expect(page.locator('[data-testid="stCaptionContainer"]', has_text="个数值").first).to_be_visible()
    grid = page.locator('[data-testid="stDataFrame"]')
    expect(grid).to_have_count(1)
    expect(grid.locator("canvas").first).to_be_visible()
    text = grid_text(grid)
    for word in ("单位", "指标", "数值", "计量单位", "来源文件", "清河县", "亿元"):
        assert word in text, f"{word!r} missing from the 数据浏览 table:\n{text[:1000]}"
    no_exception(page)
    page.screenshot(path=str(shots_dir / "browse.png"), full_page=True)


def test_upload_good_file_is_stored(page, app_url, e2e_db, shots_dir):
    assert not [r for r in cli_values(e2e_db, year=2026, period=10, unit="清河县")], "period 10 exists before upload"
    open_upload(page, app_url)
    upload(page, GOOD_NAME, GOOD_CSV)

    expect(page.locator('[data-testid="stAlertContentSuccess"]')).to_be_visible()
    assert metric(page, "读取行数") == "1"
    assert metric(page, "入库行数") == "1"
    assert metric(page, "拒绝行数") == "0"
    assert re.fullmatch(r"#\d+", metric(page, "上传批次"))
    no_exception(page)
    shoot_report(page, shots_dir / "upload_report.png")

    rows = cli_values(e2e_db, year=2026, period=10, unit="清河县")
    stored = [r for r in rows if r["indicator"] == "固定资产投资" and r["measure"] == "ytd"]
    assert len(stored) == 1, rows
    assert stored[0]["value"] == pytest.approx(130.5)
    assert stored[0]["unit_of_measure"] == "亿元"
    assert stored[0]["file_name"] == GOOD_NAME
    assert f"#{stored[0]['upload_id']}" == metric(page, "上传批次")


def test_upload_bad_file_is_refused(page, app_url, e2e_db, shots_dir):
    before = cli_values(e2e_db, year=2026, period=10, unit="清河县")
    open_upload(page, app_url)
    upload(page, BAD_NAME, BAD_CSV)

    expect(page.locator('[data-testid="stAlertContentError"]', has_text="已拒绝")).to_be_visible()
    assert metric(page, "读取行数") == "2"
    assert metric(page, "入库行数") == "0"
    assert metric(page, "拒绝行数") == "1"
    assert metric(page, "上传批次") == "—"
    problems = page.locator('[data-testid="stDataFrame"]').filter(has=page.locator("th", has_text="原因"))
    expect(problems).to_have_count(1)
    text = grid_text(problems)
    headers = [h.strip() for h in problems.locator("table th").all_inner_texts()]
    assert headers == ["级别", "文件", "行", "列", "原因"], headers
    assert BAD_NAME in text and "四万五" in text, text
    row = problems.locator("table tr", has_text="四万五")
    expect(row).to_have_count(1)
    cells = [c.strip() for c in row.locator("td").all_inner_texts()]
    assert "3" in cells and "数值" in cells and BAD_NAME in cells, cells
    no_exception(page)
    shoot_report(page, shots_dir / "upload_rejected.png")

    after = cli_values(e2e_db, year=2026, period=10, unit="清河县")
    assert after == before, "a refused file changed the stored values"
    assert not [r for r in after if r["file_name"] == BAD_NAME]
