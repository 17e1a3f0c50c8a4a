"""进度差距: the full table with filters, the gap chart, and the detail of a clicked row."""
import streamlit as st

from analytics.progress import BASES, STATUS, first_rows, select
from ui import charts, data, state, tables
from ui.text import NO_DATA, period_label, labels, md

year, period, unit = state.page_selection()
st.title(f"进度差距 · {year}年{period_label(period)}")
basis_choice = st.segmented_control("时间进度口径", ["own", *BASES], default="own", key="gap_basis",
                                    format_func=labels({"own": "各指标设定", **BASES}),
                                    help="线性 = 月份÷12；季节性 = 往年同期累计占全年比重；计划曲线 = 规定进度（如年中 60%、年底 120%）")
basis = None if basis_choice in (None, "own") else basis_choice
table = data.gap_sorted(year, period, basis)  # largest gap first, with the ⚑ data-quality marker
if unit is not None:
    table = table[table.unit_id == unit]

f1, f2, f3, f4 = st.columns(4)
categories = f1.multiselect("类别", sorted(table.category.dropna().unique()), key="gap_cat", placeholder="全部类别")
statuses = f2.multiselect("状态", list(STATUS), format_func=STATUS.get, key="gap_status", placeholder="全部状态")
owners = f3.multiselect("分管领导", sorted(table.owner_leader.dropna().unique()), key="gap_owner", placeholder="全部")
flags = f4.pills("标记", ["重点", "难点"], selection_mode="multi", key="gap_flags")
view = select(table, categories, statuses, owners, flags).reset_index(drop=True)

st.caption(f"共 {len(view):,} 项 · 按差距从大到小排列 · 点选一行查看明细（累计走势、月度增量、差距变化、责任人）")
if view.empty:
    st.info(NO_DATA)
    st.stop()
picked = tables.gap_frame(view, ["unit", "indicator", "target", "ytd", "unit_of_measure", "completion",
                                 "time_progress", "gap_pp", "gap_change", "arrears", "required_pace",
                                 "acceleration", "status", "quality", "conditions", "basis", "owner_leader", "note"],
                          key="gap_table", height=460, select=True)

cumulative = first_rows(view, view.kind == "cumulative", 40)
if not cumulative.empty:
    st.html(charts.gap_bars(cumulative, "完成率与时间进度（%，按差距排序，最多 40 项）"))
    st.caption("条形为完成率，颜色与文字表示状态；黑色竖线为时间进度。速度类、上限类指标见上表的差距列。")

rows = picked.selection.rows if picked else []
if rows:
    r = view.iloc[rows[0]]
    st.header(f"{md(r.unit)} · {md(r.indicator)}")
    m = st.container(horizontal=True, wrap=True)  # wraps on a narrow screen instead of cutting "严重滞后"
    m.metric("完成率" if r.kind == "cumulative" else "实际", f"{r.completion:,.2f}%" if r.kind == "cumulative"
             else f"{r.ytd:,.2f} {r.unit_of_measure or ''}")
    m.metric("差距（百分点）", f"{r.gap_pp:+.2f}" if r.gap_pp == r.gap_pp else "—",
             delta=f"{r.gap_change:+.2f} 较上期" if r.gap_change == r.gap_change else None)
    m.metric("状态", r.status)
    m.metric("剩余月均需完成", f"{r.required_pace:,.2f} {r.unit_of_measure or ''}" if r.required_pace == r.required_pace else "—")
    who = {k: md(r[k]) if isinstance(r[k], str) and r[k] else "—" for k in ("owner_leader", "owner_staff", "owner_office")}
    st.markdown(f"**责任人**：分管领导 {who['owner_leader']} · 经办人员 {who['owner_staff']} · 办事机构 {who['owner_office']}"
                f" · 时间进度口径：{r.basis}" + (f" · 未达条件：{r.conditions}" if r.conditions else ""))
    series = data.series(r.unit_id, r.indicator_id, year)
    history = data.gap_history(year, period, r.unit_id, r.indicator_id, basis)
    c1, c2 = st.columns(2)
    with c1:
        st.plotly_chart(charts.detail_lines(series, r.measure, year, r.target, r.unit_of_measure or "", history,
                                            f"{r.indicator}<br>累计走势（{r.unit_of_measure or ''}）"), key="detail_lines")
        st.caption("粗红线为今年，浅色为往年；虚线为全年目标，点线为序时进度线（全年目标 × 时间进度）。")
    with c2:
        if not history.empty:
            st.plotly_chart(charts.gap_trend(history, f"{r.indicator}<br>差距变化（百分点）"), key="detail_trend")
            st.caption("各期差距（督办跟踪）：点的颜色表示当期状态，0 线以上为快于序时进度。")
    if r.measure == "ytd":
        st.plotly_chart(charts.increments(series, year, r.unit_of_measure or "", f"{r.indicator}月度增量（{r.unit_of_measure or ''}）"),
                        key="detail_increments")
        st.caption("当月新增 = 本期累计 − 上期累计（1-2月合并）；红色为今年，灰色为去年同期。")
