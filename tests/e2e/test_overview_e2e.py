"""The review meeting in a real browser: the leader opens the overview in meeting mode, steps
to 进度差距 with the presenter's PageDown, reloads (still meeting mode), then in the normal view
clicks into an indicator and sees the detail chart. Screenshots of the four 督查 pages at
1920×1080 and 1024×768 go to test-output/screenshots/ (looked at by a person)."""
from __future__ import annotations

import re

from .conftest import expect, login, wait_app

SIZES = [(1920, 1080), (1024, 768)]


def plots(page) -> int:
    return page.locator(".js-plotly-plot").count()


def open_page(page, url: str) -> None:
    page.goto(url)
    wait_app(page)
    expect(page.locator("h1").first).to_be_visible()
    wait_app(page)


def select_first_row(page) -> None:
    """st.dataframe is a canvas grid: click the row-selection cell (first column) of row 1."""
    grid = page.locator('[data-testid="stDataFrame"]').first
    expect(grid).to_be_visible()
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    header_h = row_h = 35  # Streamlit's default row height (header and body)
    page.mouse.click(box["x"] + 18, box["y"] + header_h + row_h / 2)


def test_meeting_mode_pagedown_reload_and_detail(page, app_url, shots_dir):
    login(page, app_url, "leader", "leader123")
    expect(page.locator("h1").first).to_contain_text("目标任务完成情况")  # 总览 is the default page

    # meeting mode: no sidebar, a presenter's PageDown steps to the next page
    open_page(page, f"{app_url}/?mode=meeting")
    expect(page.locator('[data-testid="stSidebar"]')).to_be_hidden()
    expect(page.locator(".st-key-meet_next button")).to_be_visible()
    page.screenshot(path=str(shots_dir / "meeting_overview_1920x1080.png"))
    page.locator("h1").first.click()  # focus the document, as a clicker's key press lands there
    page.keyboard.press("PageDown")
    expect(page).to_have_url(re.compile(r"/gap\?mode=meeting$"))
    expect(page.locator("h1").first).to_contain_text("进度差距")
    wait_app(page)

    # a reload keeps the mode (it lives in the URL)
    page.reload()
    wait_app(page)
    expect(page).to_have_url(re.compile(r"/gap\?mode=meeting$"))
    expect(page.locator("h1").first).to_contain_text("进度差距")
    expect(page.locator('[data-testid="stSidebar"]')).to_be_hidden()
    expect(page.locator(".st-key-meet_prev button")).to_be_visible()

    # back to the normal view; click into the first (worst) indicator
    open_page(page, f"{app_url}/gap?mode=normal")
    expect(page.locator('[data-testid="stSidebar"]')).to_be_visible()
    expect(page.locator(".st-key-meet_next")).to_have_count(0)
    before = plots(page)
    expect(page.locator("h2")).to_have_count(0)
    select_first_row(page)
    header = page.locator("h2", has_text="·")
    expect(header).to_be_visible()
    wait_app(page)
    indicator = header.inner_text().split("·")[-1].strip()
    page.wait_for_function(f"() => document.querySelectorAll('.js-plotly-plot').length > {before}")
    assert plots(page) > before
    expect(page.locator(".js-plotly-plot .gtitle", has_text=f"{indicator}累计走势")).to_be_visible()
    expect(page.locator(".js-plotly-plot .gtitle", has_text=f"{indicator}差距变化")).to_be_attached()
    header.scroll_into_view_if_needed()
    page.screenshot(path=str(shots_dir / "gap_detail_1920x1080_viewport.png"))


def test_screenshots_of_the_four_pages(page, app_url, shots_dir):
    login(page, app_url, "leader", "leader123")
    for w, h in SIZES:
        page.set_viewport_size({"width": w, "height": h})
        for name, path in (("overview", "/"), ("gap", "/gap"), ("owners", "/owners"),
                           ("warnings", "/warnings")):
            open_page(page, app_url + path)
            if name == "overview":
                expect(page.locator("figure.gap-bars .gb-bar").first).to_be_visible()
                page.screenshot(path=str(shots_dir / f"overview_{w}x{h}_first_screen.png"))
            if name == "gap":
                before = plots(page)
                select_first_row(page)
                expect(page.locator("h2", has_text="·")).to_be_visible()
                page.wait_for_function(f"() => document.querySelectorAll('.js-plotly-plot').length > {before}")
                wait_app(page)
            page.screenshot(path=str(shots_dir / f"{name}_{w}x{h}.png"), full_page=True)
    # the overview in meeting mode at both sizes (what the projector shows)
    for w, h in SIZES:
        page.set_viewport_size({"width": w, "height": h})
        open_page(page, f"{app_url}/?mode=meeting")
        page.screenshot(path=str(shots_dir / f"meeting_overview_{w}x{h}.png"))
