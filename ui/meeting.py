"""Meeting mode (``?mode=meeting``) for the projector: no sidebar, toolbar or editing, large
type, and PageUp/PageDown (what presenter clickers send) or big buttons step through the
read-only pages. The mode survives reloads and page switches (kept in the URL)."""
from __future__ import annotations

import streamlit as st

BASE_CSS = """<style>
[data-testid="stMainBlockContainer"] {padding-top: 2.2rem;}
.timeline {font-size: 1.35rem; margin: -0.4rem 0 0.8rem 0;}
.status-cards {display: flex; flex-wrap: wrap; gap: 0 0.5rem;}
.status-card {background: #f7f8fa; border-radius: 6px; padding: 0.5rem 0.9rem; margin-bottom: 0.6rem;
              min-width: 9.5rem; white-space: nowrap;}
.status-word {font-size: 1.15rem; font-weight: 600;}
.status-count {font-size: 2.6rem; font-weight: 700; line-height: 1.1; display: inline-block;}
.status-unit {display: inline-block; margin-left: 0.3rem; font-size: 1.1rem;}
/* st.file_uploader speaks English ("Upload", "200MB per file • CSV…"): the same in Chinese (types are in each label) */
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p {font-size: 0;}
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p::after {content: "选择文件"; font-size: 1rem;}
[data-testid="stFileUploaderDropzoneInstructions"] span {font-size: 0;}
[data-testid="stFileUploaderDropzoneInstructions"] span::after {content: "或拖放到此处 · 单个文件不超过 200 MB"; font-size: 0.875rem;}
/* short tables as HTML (ui/tables.gap_frame) */
table.plain-table {width: 100%; border-collapse: collapse; font-size: 1rem;}
.plain-table-box {overflow-x: auto;}
table.plain-table th {background: #f4f6f8; text-align: left; padding: 0.35rem 0.6rem; border-bottom: 2px solid #ccc;
                      word-break: keep-all;}
table.plain-table td {padding: 0.35rem 0.6rem; border-bottom: 1px solid #e5e5e5;}
/* the gap bars (ui/charts.gap_bars): HTML, sized in rem so meeting mode enlarges them */
.gap-bars {margin: 0.5rem 0 0.2rem 0;}
.gap-bars .chart-title {font-size: 1.25rem; font-weight: 600; margin-bottom: 0.3rem;}
.gb-legend {display: flex; flex-wrap: wrap; gap: 0.3rem 1.1rem; font-size: 0.9rem; margin-bottom: 0.5rem;}
.gb-legend i {display: inline-block; width: 0.9rem; height: 0.9rem; margin-right: 0.3rem; vertical-align: -0.1rem;}
.gb-legend i.gb-key-tick {width: 4px; height: 1.1rem; background: #111;}
.gb-grid {display: grid; grid-template-columns: fit-content(16rem) 1fr; column-gap: 0.8rem; align-items: center;}
.gb-label {font-size: 0.95rem; line-height: 1.2; text-align: right; padding: 0.15rem 0;}
.gb-label small {display: block; color: #5f6368; font-size: 0.8rem;}
.gb-track {position: relative; height: 1.9rem; margin-right: 9rem; border-left: 1px solid #999;
           background-image: linear-gradient(to right, #e3e3e3 1px, transparent 1px);}
.gb-two .gb-track {height: 2.5rem;}
.gb-bar {position: absolute; left: 0; top: 15%; height: 70%;}
.gb-tick {position: absolute; top: 0; bottom: 0; width: 4px; margin-left: -2px; background: #111;}
.gb-text {position: absolute; top: 50%; transform: translateY(-50%); white-space: nowrap; font-size: 0.95rem; color: #31333f;}
.gb-axis {position: relative; height: 1.4rem; margin-right: 9rem; border-top: 1px solid #999; font-size: 0.85rem; color: #31333f;}
.gb-axis span {position: absolute; top: 0.1rem; transform: translateX(-50%);}
.gb-axis-title {text-align: center; font-size: 0.95rem; color: #31333f; margin-top: 0.2rem;}
</style>"""

MEETING_CSS = """<style>
header[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stSidebar"],
[data-testid="stSidebarCollapsedControl"], [data-testid="stDecoration"] {display: none !important;}
[data-testid="stMainBlockContainer"] {padding-top: 1rem !important; max-width: 100% !important;}
html {font-size: 20px;}
h1 {font-size: 2.3rem !important;}
.timeline {font-size: 1.6rem;}
.status-count {font-size: 3.2rem;}
.status-word {font-size: 1.4rem;}
[data-testid="stMetricValue"] {font-size: 3rem !important;}
[data-testid="stMetricLabel"] p {font-size: 1.4rem !important;}
.st-key-meetnav button {font-size: 1.3rem; min-height: 3rem;}
table.plain-table {font-size: 1.15rem;}
/* a tablet or a 1024 px projector: the short tables fit the width instead of scrolling (the worst
   five's ten columns; the two half-width lists' six) */
@media (max-width: 1100px) {
  table.plain-table {font-size: 0.9rem;}
  table.plain-table th, table.plain-table td {padding: 0.3rem 0.25rem;}
  table.plain-table th {word-break: normal;}
  table.plain-table td {min-width: 3em !important;}
}
</style>"""


def active() -> bool:
    """On when the URL says ?mode=meeting (remembered for the session)."""
    if st.query_params.get("mode") == "meeting":
        st.session_state["meeting"] = True
    elif "mode" in st.query_params:
        st.session_state["meeting"] = False
    return bool(st.session_state.get("meeting"))


def pager(show: list, current) -> None:
    """Previous/next buttons (PageUp/PageDown) through ``show``, keeping the mode in the URL,
    plus a way back to the normal view."""
    i = next((k for k, p in enumerate(show) if p.url_path == current.url_path), 0)
    with st.container(key="meetnav", horizontal=True, horizontal_alignment="right"):
        if st.button(f"◀ 上一页：{show[i - 1].title}", key="meet_prev", shortcut="PageUp"):
            st.switch_page(show[i - 1], query_params={"mode": "meeting"})
        if st.button(f"下一页：{show[(i + 1) % len(show)].title} ▶", key="meet_next", shortcut="PageDown"):
            st.switch_page(show[(i + 1) % len(show)], query_params={"mode": "meeting"})
        if st.button("退出会议模式", key="meet_exit"):
            st.session_state["meeting"] = False
            st.switch_page(current, query_params={"mode": "normal"})
