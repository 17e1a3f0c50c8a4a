"""数据质量 in the real app: the demo's deliberate problems are on screen, a flag opens its
chart; the screenshot (1920×1080) is kept in test-output/screenshots/quality.png."""
from __future__ import annotations

import re

from .conftest import expect, login, wait_app


def test_quality_page_shows_the_demo_problems(page, app_url, shots_dir):
    login(page, app_url, "analyst", "analyst123")
    page.locator('[data-testid="stSidebarNav"] a[href$="/quality"]').click()
    expect(page).to_have_url(re.compile(r"/quality$"))
    expect(page.locator("h1", has_text="数据质量").first).to_be_visible()
    wait_app(page)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    summary = page.locator('[data-testid="stDataFrame"]').first   # the summary by rule and severity
    expect(summary.locator("table td").first).to_be_attached()
    text = "\n".join(summary.locator("table tr").all_inner_texts())
    for needle in ("有目标无数值", "累计值下降", "当月增量异常", "数值恰好等于目标", "数值被下调修订"):
        assert needle in text, needle
    page.screenshot(path=str(shots_dir / "quality.png"), full_page=False)
    page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
    page.screenshot(path=str(shots_dir / "quality_detail.png"), full_page=False)
