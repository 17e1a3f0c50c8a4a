"""年终预测 in the real browser at 1920×1080: the probability sentence, the chart with its band,
the table; a screenshot for the eye (test-output/screenshots/projection.png)."""
from __future__ import annotations

from .conftest import expect, login, wait_app


def test_projection_page(page, app_url, shots_dir):
    login(page, app_url, "leader", "leader123")
    page.goto(f"{app_url}/projection")
    wait_app(page)
    main = page.locator('[data-testid="stMain"]')
    expect(main).to_contain_text("年终预测")
    expect(main).to_contain_text("完成全年目标的概率约")
    expect(page.locator('[data-testid="stPlotlyChart"]')).to_have_count(1)
    expect(page.locator('[data-testid="stDataFrame"]').first).to_be_visible()
    page.wait_for_timeout(1500)  # let plotly finish drawing before the picture
    page.screenshot(path=str(shots_dir / "projection.png"))
    page.screenshot(path=str(shots_dir / "projection_full.png"), full_page=True)
