"""责任落实: targets, behind and arrears by 分管领导, 办事机构, or township/department."""
import streamlit as st

from analytics.progress import owners_view
from ui import data, state, tables
from ui.text import NO_DATA, OWNER_DIMENSIONS, OWNER_LABELS, md, period_label

year, period, unit = state.page_selection()
st.title(f"责任落实 · {year}年{period_label(period)}")
by = st.segmented_control("汇总维度", list(OWNER_DIMENSIONS), default="owner_leader", key="owners_by",
                          format_func=OWNER_DIMENSIONS.get) or "owner_leader"
table = data.gap(year, period)
home_id, home_name = state.home_unit()
if by == "unit":
    scope = table[table.level.isin(["township", "department"])]
    st.caption("各乡镇、县直部门承担的目标及欠进度情况（按欠进度项数排序）。")
else:
    scope = table[table.unit_id == (unit or home_id)]
    st.caption(f"{md(scope.unit.iloc[0] if len(scope) else home_name)}的目标按{OWNER_DIMENSIONS[by][1:]}汇总（按欠进度项数排序）。")
summary = owners_view(scope, by)
if summary.empty:
    st.info(NO_DATA)
    st.stop()
picked = st.dataframe(summary, hide_index=True, width="stretch", key="owners_table", on_select="rerun",
                      selection_mode="single-row", placeholder="—",
                      column_config={**{k: st.column_config.Column(v) for k, v in OWNER_LABELS.items()},
                                     "worst_gap_pp": st.column_config.NumberColumn(OWNER_LABELS["worst_gap_pp"], format="%+.2f"),
                                     "behind_share": st.column_config.ProgressColumn(
                                         OWNER_LABELS["behind_share"], format="%.0f%%", min_value=0, max_value=100)})
rows = picked.selection.rows if picked else []
if rows:
    owner = summary.owner.iloc[rows[0]]
    key = scope[by].fillna("（未指定）")
    st.subheader(f"{md(owner)} 负责的目标")
    tables.gap_frame(scope[key == owner].sort_values("gap_pp"),
                     ["unit", "indicator", "completion", "time_progress", "gap_pp", "arrears", "unit_of_measure",
                      "status", "conditions"], key="owners_detail")
else:
    st.caption("点选一行查看该责任人/单位的目标明细。")
