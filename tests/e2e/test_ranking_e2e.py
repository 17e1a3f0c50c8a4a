"""保二争一 in a real browser: the page renders its probabilities, moving a scenario slider
changes them, and a 1920×1080 screenshot is kept in test-output/screenshots/."""
from __future__ import annotations

from .conftest import login, wait_app


def _metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text()


def test_ranking_page_slider_changes_probabilities(page, app_url, shots_dir):
    login(page, app_url, "leader", "leader123")
    page.goto(f"{app_url}/ranking")
    wait_app(page, timeout=120_000)
    page.get_by_text("P(前二)").first.wait_for()
    before = _metric(page, "期望得分")
    page.screenshot(path=str(shots_dir / "ranking.png"), full_page=False)
    page.get_by_text("情景设置").first.click()
    slider = page.get_by_role("slider").nth(3)  # first indicator slider after ρ, honours, avoided
    slider.focus()
    for _ in range(40):
        page.keyboard.press("ArrowLeft")
    wait_app(page, timeout=120_000)
    page.wait_for_function(
        """(b) => [...document.querySelectorAll('[data-testid="stMetric"]')]
                  .some(m => m.innerText.includes('期望得分') && !m.innerText.includes(b))""", arg=before,
        timeout=60_000)
    assert _metric(page, "期望得分") != before
    page.screenshot(path=str(shots_dir / "ranking_after_slider.png"), full_page=True)
