"""The sweep: every page as every role in headless Chromium, one login per role.

For each page a role may use: no exception box, no unexpected error alert, no Streamlit
deprecation notice ("Please replace st."), no text clipped by its box, every chart with a
title, units and a caption beside it; full-page screenshots at 1920×1080 and 1024×768 in
test-output/screenshots/sweep/<role>/<page>-<w>x<h>.png. Pages a role may not use are
neither in its navigation nor reachable by address. The key numbers of six pages equal the
CLI's JSON (``python -m analytics …``) for the same period, and the meeting-mode pages are
checked at projector type size.

Also what the other browser tests don't cover: PageUp in meeting mode, a 保二争一 slider
redrawing the rank chart, and the bulletin (.docx) downloaded and opened.
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from .conftest import TIMEOUT_MS, PlaywrightTimeout, expect, login, run_cli, wait_app
from .test_auth_e2e import nav_links
from .test_overview_e2e import select_first_row
from ui.text import probability

SIZES = [(1920, 1080), (1024, 768)]
SLOW_MS = 180_000  # 保二争一 runs its 10,000-draw simulation on the first visit

ALL = frozenset({"viewer", "analyst", "admin"})
EDIT = frozenset({"analyst", "admin"})
ADMIN = frozenset({"admin"})
USERS = {"viewer": ("leader", "leader123"), "analyst": ("analyst", "analyst123"), "admin": ("admin", "admin123")}

# url_path (as in app.py; the default page lives at "/"), title in the navigation, text of its h1, roles
PAGES = [
    ("overview", "总览", "目标任务完成情况", ALL),
    ("gap", "进度差距", "进度差距", ALL),
    ("owners", "责任落实", "责任落实", ALL),
    ("warnings", "早报告、早预警", "早报告、早预警", ALL),
    ("projection", "年终预测", "年终预测", ALL),
    ("ranking", "保二争一", "保二争一", ALL),
    ("browse", "数据浏览", "数据浏览", ALL),
    ("quality", "数据质量", "数据质量", ALL),
    ("upload", "数据上传", "数据上传", EDIT),
    ("bulletin", "通报导出", "通报导出", EDIT),
    ("library", "指标库与目标", "指标库与目标", EDIT),
    ("adjustments", "加减分事项", "加减分事项", EDIT),
    ("rules", "考核规则", "考核规则", ADMIN),
    ("periods", "报告期锁定", "报告期锁定", ADMIN),
    ("users", "用户管理", "用户管理", ADMIN),
    ("audit", "审计日志", "审计日志", ADMIN),
    ("account", "我的账户", "我的账户", ALL),
]
BY_PATH = {p[0]: p for p in PAGES}
MEETING_PAGES = ["overview", "gap", "owners", "warnings", "projection", "ranking"]  # 督查 + 分析, in pager order

ALLOWED = [pytest.param(role, p[0], id=f"{role}-{p[0]}") for role in USERS for p in PAGES if role in p[3]]
REFUSED = [pytest.param(role, p[0], id=f"{role}-{p[0]}") for role in USERS for p in PAGES if role not in p[3]]


def address(app_url: str, path: str, query: str = "") -> str:
    return f"{app_url}/{'' if path == 'overview' else path}{query}"


# --- what is wrong on a page, measured in the browser ----------------------------------------------
# Clipped text: an element that clips (overflow hidden/clip, or an ellipsis) and whose content is wider
# or taller than its box, plus metric values/labels, buttons and our HTML table cells, which must never
# be wider than their box. Grids (st.dataframe is a canvas), charts, inputs and code blocks scroll or
# draw their own text and are skipped; chart labels are checked separately (Vega's "…" truncation).
PROBE = r"""() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const SKIP = '[data-testid="stDataFrame"], [data-testid="stDataFrameResizable"], [data-testid="stPlotlyChart"],'
             + '[data-testid="stVegaLiteChart"], [data-testid="stCode"], [data-testid="stFileUploaderDropzone"],'
             + 'iframe, canvas, svg, textarea, input:not([role="combobox"]), [role="dialog"]';
  const MUST_FIT = '[data-testid="stMetricValue"], [data-testid="stMetricLabel"], button, input[role="combobox"],'
                 + 'table.plain-table th, table.plain-table td';
  const shown = el => { const r = el.getBoundingClientRect(); const cs = getComputedStyle(el);
                        return r.width > 0 && r.height > 0 && cs.visibility !== 'hidden' && cs.display !== 'none'; };
  const text = el => (el.value || el.innerText || el.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 80);
  const clipped = [];
  for (const el of main.querySelectorAll('*')) {
    // cheap geometry first (one layout for all elements), style and text only for what overflows
    const wide = el.scrollWidth > el.clientWidth + 1, tall = el.scrollHeight > el.clientHeight + 1;
    if (!wide && !tall) continue;
    if (el.closest(SKIP) || !text(el) || !shown(el)) continue;
    const cs = getComputedStyle(el);
    const clipsX = ['hidden', 'clip'].includes(cs.overflowX) || cs.textOverflow === 'ellipsis';
    const clipsY = ['hidden', 'clip'].includes(cs.overflowY) || (cs.webkitLineClamp && cs.webkitLineClamp !== 'none');
    if ((wide && (clipsX || el.matches(MUST_FIT))) || (tall && clipsY && el.clientHeight > 0)) {
      // report the innermost clipping box only (its clipping parents say the same thing again)
      for (let i = clipped.length - 1; i >= 0; i--) if (clipped[i].el.contains(el)) clipped.splice(i, 1);
      clipped.push({el, what: `${el.getAttribute('data-testid') || el.tagName.toLowerCase()}`
                             + ` ${el.scrollWidth}×${el.scrollHeight} in ${el.clientWidth}×${el.clientHeight}: ${text(el)}`});
    }
  }
  const problems = {clipped: clipped.map(c => c.what), charts: [], overlaps: []};
  const unitRe = /[（(][^（）()]*[^\s（）()][^（）()]*[）)]/;
  const charts = [...main.querySelectorAll('[data-testid="stPlotlyChart"], [data-testid="stVegaLiteChart"], figure.gap-bars')]
                 .filter(shown);
  const texts = (chart, sel) => [...chart.querySelectorAll(sel)].map(t => t.textContent.trim());
  for (const chart of charts) {
    const plotly = chart.matches('[data-testid="stPlotlyChart"]'), html = chart.matches('figure');
    const title = (plotly ? texts(chart, '.gtitle') : html ? texts(chart, '.chart-title') : texts(chart, '.role-title-text')).join(' ');
    const axes = plotly ? texts(chart, '.xtitle, .ytitle') : html ? texts(chart, '.gb-axis-title')
                        : texts(chart, '.role-axis-title text');
    const name = title || '(chart without title)';
    if (!title) problems.charts.push(`${name}: no title`);
    if (![title, ...axes].some(t => unitRe.test(t))) problems.charts.push(`${name}: no unit in the title or an axis title`);
    const box = chart.closest('[data-testid="stElementContainer"]') || chart;
    const next = box.nextElementSibling, prev = box.previousElementSibling;
    const caption = [next, prev].some(s => s && s.querySelector('[data-testid="stCaptionContainer"]'));
    if (!caption) problems.charts.push(`${name}: no st.caption right below (or above) it`);
    const cut = [...chart.querySelectorAll('svg text')].map(t => t.textContent).filter(t => t.endsWith('…'));
    if (cut.length) problems.charts.push(`${name}: labels cut short: ${cut.slice(0, 5).join(' | ')}`);
    if (plotly) {  // a value label crossed by a marker of another trace (e.g. the time-progress tick)
      const labels = [...chart.querySelectorAll('.bartext, .textpoint text')];
      const marks = [...chart.querySelectorAll('.scatterlayer .trace .points path.point')];
      const crossed = [];
      for (const l of labels) {
        const r = l.getBoundingClientRect(), ta = l.closest('.trace');
        const a = {left: r.left, right: r.right, top: r.top + 0.2 * r.height, bottom: r.bottom - 0.2 * r.height};  // the ink, not the line box
        const hit = marks.find(m => { if (m.closest('.trace') === ta) return false;
          const b = m.getBoundingClientRect(), pad = (parseFloat(getComputedStyle(m).strokeWidth) || 0) / 2;
          return Math.min(a.right, b.right + pad) - Math.max(a.left, b.left - pad) > 0.5
              && Math.min(a.bottom, b.bottom + pad) - Math.max(a.top, b.top - pad) > 0.5; });
        if (hit) crossed.push(l.textContent.trim());
      }
      if (crossed.length) problems.overlaps.push(`${name}: ${crossed.length} value labels crossed by a marker of`
                                                 + ` another trace, e.g. ${crossed.slice(0, 3).join(' | ')}`);
      const ink = l => { const r = l.getBoundingClientRect();
                         return {left: r.left, right: r.right, top: r.top + 0.2 * r.height, bottom: r.bottom - 0.2 * r.height}; };
      const boxes = labels.filter(shown).map(l => [l.textContent.trim(), ink(l)]);
      const piled = [];
      for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
        const [a, b] = [boxes[i][1], boxes[j][1]];
        if (Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1 && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1)
          piled.push(`${boxes[i][0]} / ${boxes[j][0]}`);
      }
      if (piled.length) problems.overlaps.push(`${name}: ${piled.length} value labels on top of each other,`
                                               + ` e.g. ${piled.slice(0, 3).join(' | ')}`);
      // SVG text is not wrapped: a title or label longer than the figure is simply cut at its edge
      const edge = chart.querySelector('.js-plotly-plot').getBoundingClientRect();
      const cutAtEdge = [...chart.querySelectorAll('svg text')].filter(t => t.textContent.trim() && shown(t))
        .filter(t => { const r = t.getBoundingClientRect(); return r.left < edge.left - 2 || r.right > edge.right + 2; })
        .map(t => t.textContent.trim());
      if (cutAtEdge.length) problems.charts.push(`${name}: text cut at the chart's edge: ${cutAtEdge.slice(0, 5).join(' | ')}`);
    }
  }
  return problems;
}"""

CHARTS_DRAWN = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].every(c => c.querySelector('.main-svg'))
  && [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')].every(c => c.querySelector('svg .role-mark path, canvas'))"""

LAID_OUT = """() => [...document.querySelectorAll('.js-plotly-plot')].every(p => !p._fullLayout
     || Math.abs(p._fullLayout.width - p.getBoundingClientRect().width) < 3)"""


def settle(page) -> None:
    """After a load or a resize: charts drawn and sized to their boxes, two frames painted."""
    page.wait_for_function(CHARTS_DRAWN)
    page.wait_for_function(LAID_OUT)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def open_page(page, url: str, heading: str, timeout: float = TIMEOUT_MS) -> None:
    """Go to an address at 1920×1080 (a new session: the cookie logs it in) and wait for the page's h1."""
    page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})
    page.goto(url)
    try:
        page.wait_for_function(  # the page's h1, or an exception box: then fail at once, saying what it is
            """(h) => [...document.querySelectorAll('h1')].some(e => e.innerText.includes(h))
                      || document.querySelector('[data-testid="stException"]')""", arg=heading, timeout=timeout)
    except PlaywrightTimeout:
        cookies = sorted(c["name"] for c in page.context.cookies())
        raise AssertionError(f"{url}: no h1 {heading!r} after {timeout / 1000:.0f} s; cookies {cookies};"
                             f" on screen:\n{page.locator('body').inner_text()[:600]}") from None
    error = page.locator('[data-testid="stException"]')
    assert not error.count(), f"{url}: {error.first.inner_text()[:600]}"
    expect(page.locator("h1", has_text=heading).first).to_be_visible(timeout=timeout)
    wait_app(page, timeout=timeout)
    settle(page)


def page_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def full_screenshot(page, path: Path, size: tuple[int, int]) -> None:
    """The whole page: Streamlit scrolls inside its own container, so a full_page shot of the
    window alone shows one screen; grow the window to the content, shoot, restore."""
    w, h = size
    height = page.evaluate("""() => Math.max(...['stMain', 'stAppViewContainer', 'stMainBlockContainer']
        .map(t => document.querySelector(`[data-testid="${t}"]`)).filter(Boolean).map(e => e.scrollHeight))""")
    page.set_viewport_size({"width": w, "height": min(max(h, int(height) + 40), 12_000)})
    settle(page)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": w, "height": h})
    settle(page)


def problems(page, expected_errors: set[str] = frozenset()) -> list[str]:
    """Everything wrong on the page as it is shown now (empty list: nothing)."""
    found = [f"exception: {t[:300]}" for t in page.locator('[data-testid="stException"]').all_inner_texts()]
    found += [f"error alert: {t}" for t in page.locator('[data-testid="stAlertContentError"]').all_inner_texts()
              if t.strip() not in expected_errors]
    if "Please replace st." in page.evaluate("() => document.body.textContent"):
        found.append("deprecation notice: 'Please replace st.' on the page")
    found += [f"dialog: {t}" for t in page.get_by_role("dialog").all_inner_texts()]
    probe = page.evaluate(PROBE)
    size = page.viewport_size
    where = f"{size['width']}x{size['height']}"
    found += [f"{where} clipped text: {t}" for t in probe["clipped"]]
    found += [f"{where} chart: {t}" for t in probe["charts"]]
    found += [f"{where} overlap: {t}" for t in probe["overlaps"]]
    return found


def at_both_sizes(page, folder: Path, name: str, expected_errors: set[str] = frozenset()) -> list[str]:
    """problems() at 1920×1080 and 1024×768, with a full-page screenshot of each."""
    found = []
    for w, h in SIZES:
        page.set_viewport_size({"width": w, "height": h})
        settle(page)
        found += problems(page, expected_errors)
        full_screenshot(page, folder / f"{name}-{w}x{h}.png", (w, h))
    return found


# --- one logged-in browser context per role, for the whole module ---------------------------------
@pytest.fixture(scope="module")
def sessions(browser, app_url):
    """``sessions(role)`` → a Page logged in as that role (logged in once, on first use)."""
    from .conftest import VIEWPORT
    made: dict[str, object] = {}

    def get(role: str):
        if role not in made:
            context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai",
                                          accept_downloads=True)
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            login(page, app_url, *USERS[role])
            made[role] = page
        get.last = made[role]
        return made[role]

    get.last = None
    yield get
    for page in made.values():
        page.context.close()


@pytest.fixture(autouse=True)
def _shot_on_failure(request, sessions, shots_dir):
    sessions.last = None
    yield
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed and sessions.last is not None:
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        try:
            sessions.last.screenshot(path=str(shots_dir / "sweep" / f"FAILED-{name}.png"))
        except Exception as exc:  # noqa: BLE001 - a failing screenshot must not hide the failure
            print(f"could not save failure screenshot: {exc}")


@pytest.fixture(scope="module")
def cli(e2e_db):
    """``cli(*args)`` → the CLI's JSON for the served database (cached; the sweep writes nothing)."""
    done: dict[tuple, object] = {}

    def call(*args: str):
        if args not in done:
            code, doc = run_cli("--db", str(e2e_db), *args)
            assert code == 0, (args, doc)
            done[args] = doc
        return done[args]

    return call


# --- the sweep ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", list(USERS))
def test_navigation_lists_exactly_the_pages_of_the_role(sessions, app_url, role):
    page = sessions(role)
    open_page(page, app_url, "目标任务完成情况")
    expected = [p[1] for p in PAGES if role in p[3]]
    assert sorted(nav_links(page)) == sorted(expected)


@pytest.mark.parametrize("role,path", ALLOWED)
def test_page(sessions, app_url, shots_dir, cli, role, path):
    _, _, heading, _ = BY_PATH[path]
    page = sessions(role)
    open_page(page, address(app_url, path), heading, timeout=SLOW_MS if path == "ranking" else TIMEOUT_MS)
    # the quality page shows the chosen flag's explanation as an error box when it is severe
    expected = {f["explanation"] for f in cli("check") if f["severity"] == "high"} if path == "quality" else set()
    found = at_both_sizes(page, shots_dir / "sweep" / role, path, expected)
    if path == "gap":  # and the detail of the worst row: metrics and two charts side by side
        page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})
        select_first_row(page)
        expect(page.locator("h2", has_text="·")).to_be_visible()
        wait_app(page)
        found += at_both_sizes(page, shots_dir / "sweep" / role, "gap-detail", expected)
    assert not found, f"{role} on /{path}:\n" + "\n".join(dict.fromkeys(found))


@pytest.mark.parametrize("role,path", REFUSED)
def test_page_refused_by_address(sessions, app_url, role, path):
    _, title, heading, _ = BY_PATH[path]
    page = sessions(role)
    page.goto(address(app_url, path))
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Page not found")  # Streamlit's own notice; the default page runs
    wait_app(page)
    expect(page.locator("h1", has_text=heading)).to_have_count(0)
    expect(page.locator("h1", has_text="目标任务完成情况")).to_be_visible()
    assert title not in nav_links(page)
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)


@pytest.mark.parametrize("path", MEETING_PAGES)
def test_meeting_mode_page(sessions, app_url, shots_dir, path):
    """The projector view (20px base type, 3rem metrics): nothing clipped at either size, and
    the short tables (the overview's worst five: ten columns) fit the width instead of scrolling."""
    page = sessions("viewer")
    open_page(page, address(app_url, path, "?mode=meeting"), BY_PATH[path][2],
              timeout=SLOW_MS if path == "ranking" else TIMEOUT_MS)
    expect(page.locator('[data-testid="stSidebar"]')).to_be_hidden()
    found = []
    for w, h in SIZES:
        page.set_viewport_size({"width": w, "height": h})
        settle(page)
        found += problems(page)
        found += [f"{w}×{h}: a table scrolls sideways ({wide} px in {box} px)" for wide, box in page.locator(
            ".plain-table-box").evaluate_all("boxes => boxes.map(b => [b.scrollWidth, b.clientWidth])") if wide > box + 1]
        page.screenshot(path=str(shots_dir / "sweep" / "meeting" / f"{path}-{w}x{h}-first-screen.png"))
        full_screenshot(page, shots_dir / "sweep" / "meeting" / f"{path}-{w}x{h}.png", (w, h))
    assert not found, f"meeting mode /{path}:\n" + "\n".join(dict.fromkeys(found))


# --- the key numbers equal the CLI's JSON for the same period -----------------------------------------
GRID_ROWS = r"""(n) => {
  const t = document.querySelector('[data-testid="stDataFrame"] table');
  const heads = {}; t.querySelectorAll('thead th').forEach(th => heads[th.getAttribute('aria-colindex')] = th.innerText.trim());
  return [...t.querySelectorAll('tbody tr')].slice(0, n).map(tr => {
    const row = {}; tr.querySelectorAll('td').forEach(td => row[heads[td.getAttribute('aria-colindex')]] = td.innerText.trim());
    return row; });
}"""


def period_of(text: str) -> tuple[str, str]:
    """'进度差距 · 2026年1-9月' → ('2026', '9')."""
    m = re.search(r"(\d{4})年\s*(?:1-)?(\d{1,2})月", text)
    assert m, text
    return m.group(1), m.group(2)


def sidebar_period(page) -> tuple[str, str]:
    """The year and period chosen in the sidebar (what every page shows), as its 查询条件 button
    says them ('2026年1-9月 · 全部单位'): ('2026', '9')."""
    return period_of(page.locator('[data-testid="stSidebar"] [data-testid="stPopover"] button').first.inner_text())


def close(shown: str, value: float | None) -> bool:
    """A grid cell (raw value, rounded to 2 places as the page decided the status) vs the CLI."""
    if value is None:
        return shown in ("", "None", "—")
    return abs(float(shown.replace(",", "")) - value) <= 0.0051


def test_overview_numbers_equal_the_cli(sessions, app_url, cli):
    page = sessions("viewer")
    open_page(page, app_url, "目标任务完成情况")
    heading = page.locator("h1").first.inner_text()  # 清河县2026年1-9月目标任务完成情况
    unit = re.split(r"\d{4}年", heading)[0]
    year, period = sidebar_period(page)
    assert period_of(heading) == (year, period)
    rows = cli("gap", "--year", year, "--period", period, "--unit", unit)
    counted = [r for r in rows if r["status_code"] != "excluded"]
    cards = {c.locator(".status-word").inner_text(): int(c.locator(".status-count").inner_text())
             for c in page.locator(".status-card").all()}
    want = Counter(r["status"] for r in counted)
    assert cards == {word: want.get(word, 0) for word in cards}, (cards, want)
    assert sum(cards.values()) == len(counted)
    timeline = page.locator(".timeline").inner_text()
    assert f"纳入考核目标 {len(counted)} 项" in timeline
    linear = {round(r["time_progress"], 1) for r in rows if r["basis"] == "线性" and r["time_progress"] is not None}
    assert linear and f"全年时间已过 {linear.pop():.1f}%" in timeline, timeline


def test_gap_numbers_equal_the_cli(sessions, app_url, cli):
    page = sessions("viewer")
    open_page(page, f"{app_url}/gap", "进度差距")
    year, period = sidebar_period(page)
    assert period_of(page.locator("h1").first.inner_text()) == (year, period)
    rows = cli("gap", "--year", year, "--period", period)
    expect(page.locator('[data-testid="stCaptionContainer"]', has_text=f"共 {len(rows):,} 项")).to_be_visible()
    page.locator('[data-testid="stDataFrame"] table td').first.wait_for(state="attached")
    shown = page.evaluate(GRID_ROWS, 8)
    assert len(shown) >= 5, shown
    worst = min(r["gap_pp"] for r in rows if r["gap_pp"] is not None)
    assert close(shown[0]["差距（百分点）"], worst)  # sorted by the gap, worst first
    for s in shown:
        same = [r for r in rows if r["unit"] == s["单位"] and r["indicator"] == s["指标"]
                and (r["unit_of_measure"] or "") == s["计量单位"]]
        assert any(close(s["完成率"], r["completion"]) and close(s["差距（百分点）"], r["gap_pp"])
                   and close(s["时间进度"], r["time_progress"]) and s["状态"] == r["status"] for r in same), (s, same)


def test_warnings_numbers_equal_the_cli(sessions, app_url, cli):
    page = sessions("viewer")
    open_page(page, f"{app_url}/warnings", "早报告、早预警")
    year, period = sidebar_period(page)
    rows = cli("warnings", "--year", year, "--period", period)
    expect(page.locator('[data-testid="stCaptionContainer"]', has_text=f"共 {len(rows):,} 项预警")).to_be_visible()
    page.locator('[data-testid="stDataFrame"] table td').first.wait_for(state="attached")
    for s in page.evaluate(GRID_ROWS, 6):
        same = [r for r in rows if r["unit"] == s["单位"] and r["indicator"] == s["指标"] and r["reason"] == s["预警原因"]]
        assert any(close(s["差距（百分点）"], r["gap_pp"]) and s["状态"] == r["status"] for r in same), (s, same)


def test_projection_numbers_equal_the_cli(sessions, app_url, cli):
    page = sessions("viewer")
    open_page(page, f"{app_url}/projection", "年终预测")
    year, period = sidebar_period(page)
    unit = page.locator(".st-key-proj_unit input").input_value()
    label = page.locator(".st-key-proj_indicator input").input_value()  # 固定资产投资（亿元）
    indicator, uom = re.fullmatch(r"(.+)（(.+)）", label).groups()
    rows = cli("project", "--year", year, "--period", period, "--unit", unit, "--indicator", indicator)
    row = next(r for r in rows if r["indicator"] == indicator and r["measure"] == "ytd" and r["unit_of_measure"] == uom)
    text = page_text(page)
    assert f"完成全年目标的概率约 {row['p_meet'] * 100:.0f}%" in text
    metric = lambda name: page.locator('[data-testid="stMetric"]', has_text=name).locator(  # noqa: E731
        '[data-testid="stMetricValue"]').inner_text()
    assert metric("预计年末") == f"{row['projected']:,.2f} {uom}"
    assert metric("80%区间") == f"{row['low']:,.2f} ～ {row['high']:,.2f}"
    assert metric("全年目标") == f"{row['required']:,.2f} {uom}"


def test_ranking_numbers_equal_the_cli(sessions, app_url, cli):
    page = sessions("viewer")
    open_page(page, f"{app_url}/ranking", "保二争一", timeout=SLOW_MS)
    year, period = sidebar_period(page)
    doc = cli("simulate", "--year", year, "--period", period, "--scenario", '{"rho": 0.5}')  # the page's default ρ
    metric = lambda name: page.locator('[data-testid="stMetric"]', has_text=name).first.locator(  # noqa: E731
        '[data-testid="stMetricValue"]').inner_text()
    assert metric("P(前二)") == probability(doc['p_top2'])
    assert metric("P(第一)") == probability(doc['p_first'])
    assert metric("期望名次") == f"{doc['expected_rank']:.2f}"
    assert metric("期望得分") == f"{doc['expected_score']:.2f}"


def test_quality_numbers_equal_the_cli(sessions, app_url, cli):
    page = sessions("viewer")
    open_page(page, f"{app_url}/quality", "数据质量")
    year, period = sidebar_period(page)
    flags = cli("check", "--year", year, "--period", period)
    metric = lambda name: page.locator('[data-testid="stMetric"]', has_text=name).first.locator(  # noqa: E731
        '[data-testid="stMetricValue"]').inner_text()
    assert metric("预警总数") == f"{len(flags):,}"
    assert metric("待核实") == f"{sum(not f['verified'] for f in flags):,}"
    assert metric("已核实") == f"{sum(bool(f['verified']) for f in flags):,}"


# --- what the other browser tests don't do -----------------------------------------------------------
def test_meeting_mode_page_up_goes_back_and_wraps(sessions, app_url):
    """test_overview_e2e presses PageDown; here PageUp: 进度差距 → 总览 → (wraps) 保二争一."""
    page = sessions("viewer")
    open_page(page, f"{app_url}/gap?mode=meeting", "进度差距")
    page.locator("h1").first.click()  # focus the document, as a clicker's key press lands there
    page.keyboard.press("PageUp")
    expect(page).to_have_url(re.compile(r"/(overview)?\?mode=meeting$"))
    expect(page.locator("h1").first).to_contain_text("目标任务完成情况")
    wait_app(page)
    page.locator("h1").first.click()
    page.keyboard.press("PageUp")
    expect(page).to_have_url(re.compile(r"/ranking\?mode=meeting$"))
    expect(page.locator("h1").first).to_contain_text("保二争一", timeout=SLOW_MS)
    expect(page.locator('[data-testid="stSidebar"]')).to_be_hidden()


RANK_BARS = """() => { const chart = document.querySelector('[data-testid="stVegaLiteChart"]');  // 名次概率分布
  return chart ? [...chart.querySelectorAll('.mark-rect path')].map(p => p.getAttribute('d')).join('|') : ''; }"""


def test_ranking_slider_redraws_the_rank_chart(sessions, app_url, shots_dir):
    """test_ranking_e2e sees the 期望得分 number move; here the figure itself must change."""
    page = sessions("viewer")
    open_page(page, f"{app_url}/ranking", "保二争一", timeout=SLOW_MS)
    page.wait_for_function(f"() => ({RANK_BARS})() !== ''")  # the bars are drawn
    before = page.evaluate(RANK_BARS)
    page.get_by_text("情景设置").first.click()
    slider = page.get_by_role("slider").nth(3)  # the first indicator after ρ, honours, avoided deductions
    slider.focus()
    for _ in range(40):
        page.keyboard.press("ArrowLeft")
    wait_app(page, timeout=SLOW_MS)
    page.wait_for_function(f"(before) => {{ const now = ({RANK_BARS})(); return now !== '' && now !== before; }}",
                           arg=before, timeout=SLOW_MS)
    expect(page.locator('[data-testid="stMetric"]', has_text="P(前二)").locator('[data-testid="stMetricDelta"]')
           ).to_contain_text("个百分点")
    page.locator('[data-testid="stVegaLiteChart"]').first.scroll_into_view_if_needed()
    page.screenshot(path=str(shots_dir / "sweep" / "ranking_after_slider.png"))


def test_bulletin_download_opens_in_python_docx(sessions, app_url, cli, tmp_path):
    docx = pytest.importorskip("docx")
    page = sessions("analyst")
    open_page(page, f"{app_url}/bulletin", "通报导出")
    charts = page.get_by_role("checkbox", name=re.compile("插入图表"))
    if charts.is_checked():  # tables only: chart rendering (kaleido) would add 10-20 s
        page.locator("label", has_text="插入图表").click()
        expect(charts).not_to_be_checked()
        wait_app(page)
    page.get_by_role("button", name="生成通报文件").click()
    button = page.get_by_role("button", name="下载通报（Word）")
    expect(button).to_be_visible(timeout=SLOW_MS)
    with page.expect_download() as info:
        button.click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert path.suffix == ".docx" and "通报" in path.name
    document = docx.Document(str(path))
    heading = next(p.text for p in document.paragraphs if p.style.name == "通报标题")  # the bulletin's title
    assert "通报" in heading, heading
    shown = page.locator("h3", has_text="通报").first.inner_text().strip()
    assert heading.strip() == shown  # the title previewed on the page is the file's title
    year, period = period_of(page.locator(".st-key-bul_year input").input_value()
                             + page.locator(".st-key-bul_period input").input_value())
    doc = cli("bulletin", "--year", year, "--period", period, "--no-charts", "--out", str(tmp_path / "cli.docx"))
    assert doc["title"] == shown  # and the CLI's
