"""总览: the first screen of the review meeting — counts by status, the time line, the worst
gaps with their owners; below, arrears, key items and our rank among peers."""
import streamlit as st

from analytics.progress import STATUS, summary
from ui import charts, data, state, tables
from ui.text import NO_DATA, STATUS_COLORS, md, period_label

state.guard()
year, period, _ = state.selection()
unit_id, unit_name = state.scope()
if year is None or unit_id is None:
    st.info(NO_DATA)
    st.stop()
table = data.gap(year, period)
ours = table[table.unit_id == unit_id]
counts = summary(ours)

st.title(f"{md(unit_name)}{year}年{period_label(period)}目标任务完成情况")
cards = "".join(f"<div class='status-card' style='border-left:10px solid {STATUS_COLORS[code]}'>"
                f"<div class='status-word'>{STATUS[code]}</div><div class='status-count'>{counts[code]}</div>"
                f"<div class='status-unit'>项</div></div>"
                for code in ["done", "ahead", "on_track", "behind", "far_behind", "missing"])
st.html(f"<div class='timeline'>全年时间已过 <b>{period / 12:.1%}</b>（{period_label(period)}，线性）"
        f" · 纳入考核目标 <b>{counts['targets']}</b> 项"
        + (f" · 另有 {counts['excluded']} 项未设目标，不纳入" if counts["excluded"] else "")
        + f"</div><div class='status-cards'>{cards}</div>")  # one element: drawn at once, wraps on a narrow screen

st.subheader("差距最大的五项（按差距百分点）")
worst = ours[ours.status_code.isin(["behind", "far_behind"])].sort_values("gap_pp").head(5)
if worst.empty:
    st.success("没有欠进度的目标", icon=":material/check_circle:")
else:
    tables.gap_frame(worst, ["indicator", "completion", "time_progress", "gap_pp", "arrears", "unit_of_measure",
                             "status", "conditions", "owner_leader", "owner_office"], key="ov_worst", static=True)
st.caption("差距 = 完成率 − 时间进度；速度类为实际增速 − 目标增速；上限类为距上限的余量（%）。"
           + ("" if st.session_state.get("meeting") else "全部指标与明细见“进度差距”页。"))

left, right = st.columns(2)
with left:
    st.subheader("欠账最多（按金额）")
    by_arrears = ours[ours.arrears > 0].sort_values("arrears", ascending=False).head(8)
    if by_arrears.empty:
        st.info("无欠账")
    else:
        tables.gap_frame(by_arrears, ["indicator", "arrears", "unit_of_measure", "required_pace", "acceleration",
                                      "status"], key="ov_arrears", static=True)
with right:
    st.subheader("重点产业、重点项目、重点活动")
    key_items = ours[ours.category.isin(["重点产业", "重点项目", "重点活动"])].sort_values("gap_pp")
    tables.gap_frame(key_items, ["indicator", "category", "completion", "gap_pp", "status", "yoy_pct"], key="ov_key",
                     static=True)

st.subheader(f"{md(unit_name)}在同组{'' if ours.peer_group.isna().all() else '（' + md(ours.peer_group.iloc[0]) + '）'}中的位次（重点指标）")
ranked = ours[ours.is_key.astype(bool) & ours["rank"].notna()].sort_values("rank")
if ranked.empty:
    st.info(NO_DATA)
else:
    ranked = ranked.assign(place=[f"第 {int(r)} / {int(n)}" for r, n in zip(ranked["rank"], ranked.rank_of)])
    tables.gap_frame(ranked, ["indicator", "place", "completion", "gap_pp", "status", "yoy_pct"], key="ov_rank",
                     static=True)
    st.caption("位次为同组各县按完成率（速度类按与目标之差）的竞争排名（1、2、2、4），未报送的单位不参与排名；"
               "综合考核位次见“保二争一”。")
cumulative = ours[ours.kind == "cumulative"]
if not cumulative.empty:
    st.html(charts.gap_bars(cumulative, f"{unit_name}累计类指标完成率与时间进度（%）"))
    st.caption("条形为完成率（颜色与文字表示状态），黑色竖线为该指标的时间进度；条形越过竖线即快于序时进度。")
