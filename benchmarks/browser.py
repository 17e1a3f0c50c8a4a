"""cold_render and page_switch, in headless Chromium against real servers.

- cold_render: first render of the overview (总览) in a fresh tab of a logged-in browser,
  from navigation start until the page's last element is on screen, ÷ the same for a
  hello-world Streamlit page started the same way (goal ≤ 1.5).
- page_switch: in-app switch 总览 → 进度差距 (sidebar link click until the new title shows),
  ÷ a switch between two hello pages (goal ≤ 2).
Both servers run at once and the timings alternate, ours then hello's (7 of each, 2 with --quick;
medians): a slow spell of this noisy machine then falls on both sides of a ratio.
(memory_rss is benchmarks/memory.py: 20 sessions cost a browser too much CPU here.)

    python benchmarks/browser.py [--quick]
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from common import figure

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, login, wait_app  # noqa: E402
from tests.e2e.server import serve  # noqa: E402

HELLO = textwrap.dedent('''
    import streamlit as st
    def one():
        st.title("第一页")
        st.write("你好")
    def two():
        st.title("第二页")
        st.write("再见")
    st.navigation([st.Page(one, title="第一页", url_path="one", default=True),
                   st.Page(two, title="第二页", url_path="two")]).run()
''')

def _time_load(page, url: str, ready: str, close: bool = True) -> float:
    t0 = time.perf_counter()
    page.goto(url)
    page.get_by_text(ready, exact=False).first.wait_for()
    wait_app(page)
    elapsed = time.perf_counter() - t0
    if close:  # an open tab keeps its session (and Chromium's work) going while the next one is timed
        page.close()
    return elapsed


def _time_switch(page, link: str, ready: str) -> float:
    page.bring_to_front()  # a background tab's rendering is throttled: both servers' switches timed in front
    t0 = time.perf_counter()
    page.locator('[data-testid="stSidebarNav"]').get_by_text(link, exact=True).click()
    page.get_by_role("heading", name=ready).first.wait_for()
    wait_app(page)
    return time.perf_counter() - t0


def run(quick: bool = False, repeat: int | None = None) -> list[dict]:
    from playwright.sync_api import sync_playwright
    repeat = repeat or (2 if quick else 7)
    work = Path(tempfile.mkdtemp(prefix="bench_browser_"))
    try:
        from analytics import seed
        db = work / "demo.duckdb"
        seed.ensure_database(db)
        (work / "hello.py").write_text(HELLO, encoding="utf-8")
        env = {"TARGETS_DB": str(db), "TARGETS_SECRETS_DIR": str(work / "secrets")}
        out = []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
            # both servers up at once and their timings interleaved, so that a slow spell of this
            # noisy machine falls on both sides of the ratio, not on one
            with serve(str(work / "hello.py"), env=env) as hello_url, serve(env=env) as app_url:
                hello_page, app_page = ctx.new_page(), ctx.new_page()
                _time_load(hello_page, hello_url, "你好", close=False)  # warm the servers
                login(app_page, app_url, "leader", "leader123")  # the cookie is shared by the context's tabs
                colds = {"hello": [], "ours": []}
                for _ in range(repeat):
                    colds["hello"].append(_time_load(ctx.new_page(), hello_url, "你好"))
                    colds["ours"].append(_time_load(ctx.new_page(), app_url, "目标任务完成情况"))
                hello_switch, ours_switch = [], []
                for i in range(repeat * 2):
                    hello_switch.append(_time_switch(hello_page, *[("第二页", "第二页"), ("第一页", "第一页")][i % 2]))
                    ours_switch.append(_time_switch(app_page, *[("进度差距", "进度差距"),
                                                                ("总览", "目标任务完成情况")][i % 2]))
                out.append(figure("cold_render", statistics.median(colds["ours"]), "s",
                                  "hello-world Streamlit page, same server start", statistics.median(colds["hello"])))
                out.append(figure("page_switch", statistics.median(ours_switch), "s", "switch between two hello pages",
                                  statistics.median(hello_switch)))
            browser.close()
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    run(a.quick)
