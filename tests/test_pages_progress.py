"""The four 督查 pages (总览, 进度差距, 责任落实, 早报告早预警) and meeting mode under AppTest, on
the demo data, logged in as the leader: no exception, and every number shown equals what
analytics.progress returns for the same selection."""
from __future__ import annotations

import io
import json
import re

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analytics import progress
from analytics.demo import DEMO_PERIOD, DEMO_YEAR
from analytics.ingest import ingest_bytes
from tests.conftest import ADMIN
from tests.htmlparts import gap_bars, tables

HOME = "C01"  # 清河县






def leader(meeting: bool = False) -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=120)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = "leader"
    if meeting:
        at.query_params["mode"] = "meeting"
    at.run()
    assert not at.exception, at.exception
    return at


def goto(at: AppTest, page: str) -> AppTest:
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def table(app_db) -> pd.DataFrame:
    return progress.gap_table(DEMO_YEAR, DEMO_PERIOD, app_db)


def frame(at: AppTest, index: int = 0) -> pd.DataFrame:
    """The data behind an st.dataframe (AppTest gives the underlying frame, not the formatting)."""
    return at.dataframe[index].value


def html_tables(at: AppTest) -> list[pd.DataFrame]:
    """The short tables drawn as HTML (ui/tables.gap_frame static), in page order: the texts shown."""
    return [t for h in at.html for t in tables(h.value)]


def html_charts(at: AppTest) -> list[tuple[str, pd.DataFrame]]:
    """Each gap chart (ui/charts.gap_bars) on the page: its title and its bars."""
    return [gap_bars(h.value) for h in at.html if "<figure class='gap-bars'>" in h.value]


def pct(v) -> str:
    """A percentage as the short tables show it (two decimals of the status's rounding; "—" when missing)."""
    return "—" if pd.isna(v) else f"{v:.2f}%"


def plotly_titles(at: AppTest) -> list[str]:
    return [json.loads(p.proto.spec)["layout"]["title"]["text"] for p in at.get("plotly_chart")]


ROUNDED_FOR_DISPLAY = ("completion", "time_progress", "gap_pp", "gap_change")  # ui.tables shows progress.round2


def displayed(expected: pd.Series) -> pd.Series:
    """What the page shows for a function column: the 2-decimal rounding the status used."""
    if expected.name in ROUNDED_FOR_DISPLAY:
        return pd.Series(progress.round2(expected), index=expected.index, name=expected.name)
    return expected


def numbers_equal(shown: pd.Series, expected: pd.Series) -> None:
    expected = displayed(expected)
    pd.testing.assert_series_equal(shown.reset_index(drop=True).astype(float),
                                   expected.reset_index(drop=True).astype(float),
                                   check_names=False, rtol=1e-12, atol=1e-9)


# ---------------------------------------------------------------- 总览

def query_button(at: AppTest) -> str:
    """The label of the sidebar's 查询条件 popover: the year, period and unit every page uses."""
    return next(b.proto.popover.label for b in at.sidebar.children.values() if getattr(b, "type", None) == "popover")


def test_sidebar_query_conditions_drive_the_pages_and_the_button_says_them(app_db):
    at = leader()
    assert query_button(at) == "2026年1-9月 · 全部单位"
    unit = at.selectbox(key="sidebar_unit")
    assert unit.options[:3] == ["全部单位", "青川市", "清河县"]
    assert at.title[0].value == "清河县2026年1-9月目标任务完成情况"  # 全部单位: the overview speaks of our county

    unit.set_value("C02").run()  # a choice is used by the same run: the button, the state and the page agree
    assert (query_button(at), at.session_state["unit"]) == ("2026年1-9月 · 云岫县", "C02")
    assert at.title[0].value == "云岫县2026年1-9月目标任务完成情况"

    at.selectbox(key="sidebar_period").set_value(6).run()
    assert (query_button(at), at.session_state["period"]) == ("2026年1-6月 · 云岫县", 6)
    assert at.title[0].value == "云岫县2026年1-6月目标任务完成情况"

    at.selectbox(key="sidebar_year").set_value(2025).run()  # 1-6月 was reported in 2025 too: kept
    assert query_button(at) == "2025年1-6月 · 云岫县"
    goto(at, "pages/gap.py")  # a page switch keeps the choice
    assert query_button(at) == "2025年1-6月 · 云岫县" and at.selectbox(key="sidebar_period").value == 6

    at.selectbox(key="sidebar_period").set_value(12).run()
    at.selectbox(key="sidebar_year").set_value(2026).run()  # 2026 has no 1-12月 yet: its latest period
    assert (query_button(at), at.session_state["period"]) == ("2026年1-9月 · 云岫县", 9)
    assert at.selectbox(key="sidebar_period").value == 9

    at.selectbox(key="sidebar_unit").select_index(0).run()  # back to 全部单位
    assert (query_button(at), at.session_state["unit"]) == ("2026年1-9月 · 全部单位", None)
    assert not at.exception


def test_overview_counts_timeline_and_worst_five(app_db, table):
    at = leader()
    assert at.title[0].value == f"清河县{DEMO_YEAR}年1-{DEMO_PERIOD}月目标任务完成情况"
    ours = table[table.unit_id == HOME]
    counts = progress.summary(ours)
    cards = {word: int(n) for h in at.html
             for word, n in re.findall(r"status-word'>([^<]+)</div><div class='status-count'>(\d+)<", h.value)}
    assert cards == {progress.STATUS[c]: counts[c] for c in ("done", "ahead", "on_track", "behind", "far_behind", "missing")}
    timeline = next(h.value for h in at.html if "timeline" in h.value)
    assert f"全年时间已过 <b>{DEMO_PERIOD / 12:.1%}</b>" in timeline  # 9/12 = 75.0%
    assert f"纳入考核目标 <b>{counts['targets']}</b> 项" in timeline
    # the worst five (by gap, among those behind) = gap_table's five lowest gaps of 欠进度/严重滞后
    worst = ours[ours.status_code.isin(["behind", "far_behind"])].sort_values("gap_pp").head(5)
    assert not at.dataframe  # the overview's lists are short: plain HTML tables, no grid
    shown, by_arrears, key_items, rank_frame = html_tables(at)
    assert list(shown["指标"]) == list(worst.indicator)
    assert list(shown["完成率"]) == [pct(v) for v in progress.round2(worst.completion)]
    assert list(shown["差距（百分点）"]) == [f"{v:+.2f}" for v in progress.round2(worst.gap_pp)]
    assert list(shown["欠账"]) == ["—" if pd.isna(v) else f"{v:,.2f}" for v in worst.arrears]
    assert list(shown["状态"]) == list(worst.status)
    assert list(shown["分管领导"]) == [v if isinstance(v, str) else "—" for v in worst.owner_leader]
    owing = ours[ours.arrears > 0].sort_values("arrears", ascending=False).head(8)
    assert list(by_arrears["指标"]) == list(owing.indicator)
    assert list(by_arrears["需加速倍数"]) == ["—" if pd.isna(v) else f"{v:.2f} 倍" for v in owing.acceleration]
    assert len(key_items) == ours.category.isin(["重点产业", "重点项目", "重点活动"]).sum()
    # the rank table: competition ranks of the key indicators among the peer group
    ranked = ours[ours.is_key.astype(bool) & ours["rank"].notna()].sort_values("rank")
    assert list(rank_frame["位次（并列同名次）"]) == [f"第 {int(r)} / {int(n)}" for r, n in zip(ranked["rank"], ranked.rank_of)]
    # the gap chart: our county's cumulative indicators, worst gap first, the completion the function gives
    (title, bars), = html_charts(at)
    assert title == "清河县累计类指标完成率与时间进度（%）"
    cumulative = ours[(ours.kind == "cumulative") & ours.completion.notna()].sort_values("gap_pp", kind="stable")
    assert list(bars.label) == list(cumulative.indicator)
    for c, f in (("completion", "completion"), ("time", "time_progress")):  # unrounded: drawn from the function's numbers
        np.testing.assert_allclose(bars[c].to_numpy(float), cumulative[f].to_numpy(float), rtol=1e-12)
    assert list(bars.text) == [f"{c:,.1f}%\u2002{s}" for c, s in zip(cumulative.completion, cumulative.status)]


def test_overview_for_another_unit_follows_the_sidebar(app_db, table):
    at = leader()
    at.session_state["unit"] = "C02"
    at.run()
    assert not at.exception
    counts = progress.summary(table[table.unit_id == "C02"])
    assert at.title[0].value.startswith(table[table.unit_id == "C02"].unit.iloc[0])
    cards = {word: int(n) for h in at.html
             for word, n in re.findall(r"status-word'>([^<]+)</div><div class='status-count'>(\d+)<", h.value)}
    assert cards[progress.STATUS["behind"]] == counts["behind"]
    assert cards[progress.STATUS["done"]] == counts["done"]


# ---------------------------------------------------------------- 进度差距

COLUMNS = ["target", "ytd", "completion", "time_progress", "gap_pp", "gap_change", "arrears", "required_pace",
           "acceleration"]


def expected_gap_view(table: pd.DataFrame, unit=None, statuses=None) -> pd.DataFrame:
    view = table if unit is None else table[table.unit_id == unit]
    if statuses:
        view = view[view.status_code.isin(statuses)]
    # by the gap, largest arrears first; ties in the function's order (a stable sort)
    return view.sort_values("gap_pp", na_position="last", kind="stable").reset_index(drop=True)


def assert_gap_frame(shown: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert len(shown) == len(expected)
    assert list(zip(shown.unit, shown.indicator)) == list(zip(expected.unit, expected.indicator))
    for c in COLUMNS:
        numbers_equal(shown[c].fillna(-999.0), expected[c].fillna(-999.0))
    assert list(shown.status) == list(expected.status)
    assert list(shown.basis) == list(expected.basis)


def test_gap_page_table_equals_the_function(app_db, table):
    at = goto(leader(), "pages/gap.py")
    assert at.title[0].value == f"进度差距 · {DEMO_YEAR}年1-{DEMO_PERIOD}月"
    assert_gap_frame(frame(at), expected_gap_view(table))
    assert f"共 {len(table):,} 项" in " ".join(c.value for c in at.caption)


def test_gap_page_filters_equal_the_function(app_db, table):
    at = leader()
    at.session_state["unit"] = HOME
    goto(at, "pages/gap.py")
    assert_gap_frame(frame(at), expected_gap_view(table, HOME))
    at.multiselect(key="gap_status").set_value(["behind", "far_behind"]).run()
    assert not at.exception
    assert_gap_frame(frame(at), expected_gap_view(table, HOME, ["behind", "far_behind"]))
    # the chart follows the filters: the cumulative rows of the table, in its order, at most 40
    (title, bars), = html_charts(at)
    assert title == "完成率与时间进度（%，按差距排序，最多 40 项）"
    shown = expected_gap_view(table, HOME, ["behind", "far_behind"])
    shown = shown[shown.kind == "cumulative"].head(40)
    assert list(bars.label) == list(shown.indicator) and set(bars.unit) == {shown.unit.iloc[0]}
    np.testing.assert_allclose(bars.completion.to_numpy(float), shown.completion.to_numpy(float), rtol=1e-12)


def test_gap_page_basis_switch_equals_the_function(app_db):
    at = goto(leader(), "pages/gap.py")
    at.button_group(key="gap_basis").set_value("linear").run()
    assert not at.exception
    linear = progress.gap_table(DEMO_YEAR, DEMO_PERIOD, app_db, basis="linear")
    assert_gap_frame(frame(at), expected_gap_view(linear))


def test_gap_page_row_selection_opens_the_detail(app_db, table):
    at = goto(leader(), "pages/gap.py")
    first = expected_gap_view(table).iloc[0]
    at.session_state["gap_table"] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    assert not at.exception, at.exception
    assert [h.value for h in at.header] == [f"{first.unit} · {first.indicator}"]
    titles = plotly_titles(at)
    detail = [t for t in titles if first.indicator in t]
    assert any("累计走势" in t for t in detail), titles
    assert any("差距变化" in t for t in detail), titles
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["状态"] == first.status
    assert metrics["差距（百分点）"] == f"{first.gap_pp:+.2f}"


def test_gap_page_detail_without_owner_says_dash_not_nan(app_db, table):
    view = expected_gap_view(table)
    i = int(view.index[view.owner_leader.isna()][0])
    at = goto(leader(), "pages/gap.py")
    at.session_state["gap_table"] = {"selection": {"rows": [i], "columns": []}}
    at.run()
    assert not at.exception
    line = next(m.value for m in at.markdown if "责任人" in m.value)
    assert "nan" not in line, line
    assert "分管领导 —" in line, line


def test_gap_page_renders_more_cells_than_the_styler_limit(app_db, table):
    limit = pd.get_option("styler.render.max_elements")
    pd.set_option("styler.render.max_elements", 10_000)
    try:
        assert len(table) * 17 > 10_000
        at = leader()
        at.switch_page("pages/gap.py").run()
        assert not at.exception, at.exception[0].message[:200]
        assert len(frame(at)) == len(table)
    finally:
        pd.set_option("styler.render.max_elements", limit)


def test_gap_page_detail_of_a_cumulative_row(app_db, table):
    """Select the first cumulative row: the metrics show its completion and required pace."""
    view = expected_gap_view(table)
    i = int(view.index[view.kind == "cumulative"][0])
    r = view.iloc[i]
    at = goto(leader(), "pages/gap.py")
    at.session_state["gap_table"] = {"selection": {"rows": [i], "columns": []}}
    at.run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["完成率"] == f"{r.completion:,.2f}%"
    assert metrics["剩余月均需完成"] == f"{r.required_pace:,.2f} {r.unit_of_measure or ''}"
    assert any(f"{r.indicator}月度增量" in t for t in plotly_titles(at))
    hist = progress.gap_history(DEMO_YEAR, DEMO_PERIOD, r.unit_id, r.indicator_id, app_db)
    trend = next(json.loads(p.proto.spec) for p in at.get("plotly_chart")
                 if "差距变化" in json.loads(p.proto.spec)["layout"]["title"]["text"])
    labels = trend["data"][0]["text"]  # each gap where it changed, and the latest (labels at every point piled up)
    assert len(labels) == len(hist) and labels[-1] == f"{hist.gap_pp.iloc[-1]:+.2f}"
    assert all(t in ("", f"{g:+.2f}") for t, g in zip(labels, hist.gap_pp)), labels


# ---------------------------------------------------------------- 责任落实

def test_owners_page_equals_owners_view(app_db, table):
    at = goto(leader(), "pages/owners.py")
    assert at.title[0].value == f"责任落实 · {DEMO_YEAR}年1-{DEMO_PERIOD}月"
    expected = progress.owners_view(table[table.unit_id == HOME], "owner_leader")
    shown = frame(at)
    assert list(shown.owner) == list(expected.owner)
    for c in ("targets", "on_track", "behind", "far_behind", "missing"):
        assert list(shown[c].astype(int)) == list(expected[c].astype(int)), c
    numbers_equal(shown.worst_gap_pp.fillna(-999), expected.worst_gap_pp.fillna(-999))
    # totals: every counted target of our county is held by someone
    assert shown.targets.sum() == progress.summary(table[table.unit_id == HOME])["targets"]


def test_owners_page_by_township_and_detail(app_db, table):
    at = goto(leader(), "pages/owners.py")
    at.button_group(key="owners_by").set_value("unit").run()
    assert not at.exception
    expected = progress.owners_view(table[table.level.isin(["township", "department"])], "unit")
    shown = frame(at)
    assert list(shown.owner) == list(expected.owner)
    assert list(shown.behind.astype(int)) == list(expected.behind.astype(int))


def test_owners_page_row_selection(app_db, table):
    at = goto(leader(), "pages/owners.py")
    expected = progress.owners_view(table[table.unit_id == HOME], "owner_leader")
    at.session_state["owners_table"] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    assert not at.exception
    owner = expected.owner.iloc[0]
    assert f"{owner} 负责的目标" in [s.value for s in at.subheader]
    detail = frame(at, index=1)
    assert len(detail) == expected.targets.iloc[0] + len(
        table[(table.unit_id == HOME) & (table.owner_leader.fillna("（未指定）") == owner) & (table.status_code == "excluded")])


# ---------------------------------------------------------------- 早报告、早预警

@pytest.fixture
def captured_downloads(monkeypatch):
    """Bytes handed to st.download_button (AppTest keeps them in an in-memory media store)."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
    seen: dict[str, bytes] = {}
    load = MemoryMediaFileStorage.load_and_get_id

    def spy(self, path_or_data, mimetype, kind, filename=None):
        if filename:
            seen[filename] = path_or_data if isinstance(path_or_data, bytes) else bytes(path_or_data)
        return load(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", spy)
    return seen


def test_warnings_page_equals_the_function_and_csv_is_neutralised(app_db, captured_downloads):
    # a hostile owner name on a warned target must not become a formula in Excel
    t0 = progress.gap_table(DEMO_YEAR, DEMO_PERIOD, app_db)
    warned = progress.warnings(t0)
    target = warned.iloc[0]
    evil = "=HYPERLINK(\"http://x\",\"点我\")"
    owners = ("indicator_id,unit_id,owner_leader,owner_staff,owner_office,valid_from\n"
              f"{target.indicator_id},{target.unit_id},\"{evil.replace(chr(34), chr(34) * 2)}\",@张三,+县办,2026-01-01\n")
    report = ingest_bytes(owners.encode(), "owners_evil.csv", ADMIN, path=app_db)
    assert report.status == "stored", report.message
    table = progress.gap_table(DEMO_YEAR, DEMO_PERIOD, app_db)
    expected = progress.warnings(table)
    at = goto(leader(), "pages/warnings.py")
    assert at.title[0].value == f"早报告、早预警 · {DEMO_YEAR}年1-{DEMO_PERIOD}月"
    shown = frame(at)
    assert list(zip(shown.unit, shown.indicator)) == list(zip(expected.unit, expected.indicator))
    assert list(shown.reason) == list(expected.reason)
    numbers_equal(shown.gap_pp.fillna(-999), expected.gap_pp.fillna(-999))
    numbers_equal(shown.gap_change.fillna(-999), expected.gap_change.fillna(-999))
    assert evil in set(shown.owner_leader.dropna())
    assert f"共 {len(expected):,} 项预警" in " ".join(c.value for c in at.caption)
    csv_name = next(n for n in captured_downloads if n.endswith(".csv"))
    assert csv_name == f"预警清单_{DEMO_YEAR}年1-{DEMO_PERIOD}月.csv"
    data = captured_downloads[csv_name]
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel/WPS
    csv = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert len(csv) == len(expected)
    cells = [c for col in csv.columns for c in csv[col]]
    assert "'" + evil in cells and "'+县办" in cells  # 分管领导 and 办事机构 (经办人员 is not exported)
    assert not any(c.startswith(("=", "+", "@")) for c in cells)
    # numbers stay numbers: a negative gap is not text with an apostrophe
    gap_col = next(c for c in csv.columns if "差距" in c and "上期" not in c)
    assert any(v.startswith("-") for v in csv[gap_col])
    xlsx_name = next(n for n in captured_downloads if n.endswith(".xlsx"))
    sheet = pd.read_excel(io.BytesIO(captured_downloads[xlsx_name]), dtype=object)
    assert "'" + evil in set(sheet.iloc[:, columns_index(sheet, "分管领导")].dropna())


def columns_index(frame: pd.DataFrame, word: str) -> int:
    return next(i for i, c in enumerate(frame.columns) if word in str(c))


# ---------------------------------------------------------------- meeting mode

def test_meeting_mode_pager(app_db):
    at = leader(meeting=True)
    assert at.session_state["meeting"] is True
    keys = {b.key for b in at.button}
    assert {"meet_prev", "meet_next"} <= keys
    assert at.title[0].value.startswith("清河县")  # 总览 first
    assert "进度差距" in at.button(key="meet_next").label
    at.button(key="meet_next").click().run()
    assert not at.exception, at.exception
    assert at.title[0].value.startswith("进度差距")
    assert at.query_params.get("mode") in ("meeting", ["meeting"])
    assert at.session_state["meeting"] is True
    at.button(key="meet_prev").click().run()
    assert not at.exception
    assert at.title[0].value.startswith("清河县")
    # on the projector the worst-five table is an HTML table (type grows with the meeting CSS),
    # with the same indicators as gap_table's five worst
    t = progress.gap_table(DEMO_YEAR, DEMO_PERIOD, app_db)
    ours = t[t.unit_id == HOME]
    worst = ours[ours.status_code.isin(["behind", "far_behind"])].sort_values("gap_pp").head(5)
    html = " ".join(h.proto.body for h in at.get("html")) + " ".join(str(x.value) for x in at.table)
    for name in worst.indicator:
        assert name in html, name
    assert f"{worst.gap_pp.iloc[0]:+.2f}" in html


def test_meeting_mode_survives_a_rerun_and_exit(app_db):
    at = leader(meeting=True)
    at.run()
    assert at.session_state["meeting"] is True and at.button(key="meet_next")
    at.button(key="meet_exit").click().run()
    assert not at.exception
    assert at.session_state["meeting"] is False
    assert "meet_next" not in {b.key for b in at.button}
