"""加减分事项: enter honours, safety & stability deductions, 约谈 and city deductions (with the
county department charged); the year's list; a mistaken entry is withdrawn like an upload."""
import pandas as pd
import streamlit as st

from analytics import library
from analytics.errors import AnalyticsError
from analytics.ingest import ADJUSTMENT_KINDS, withdraw_upload
from ui import data, state
from ui.text import ADJUSTMENT_KIND_LABELS, ADJUSTMENTS, HONOUR_LEVEL_LABELS, NO_DATA, labels

actor = state.guard("edit_data")
st.title(ADJUSTMENTS["title"])
st.caption(ADJUSTMENTS["caption"])
if flash := st.session_state.pop("adj_flash", None):
    st.success(flash)

units = data.catalog()["units"]
names = dict(zip(units.unit_id, units.name))
scored = units[units.level.isin(["county", "township", "department"])]
departments = units[units.level == "department"]
year = st.session_state.get("year") or pd.Timestamp.now().year

with st.form("adj_form", clear_on_submit=True):
    c1, c2, c3, c4 = st.columns([1, 2, 2, 1])
    y = c1.number_input("年份", 2000, 2100, value=int(year), step=1, key="adj_year")
    unit = c2.selectbox("单位", list(scored.unit_id), format_func=names.get, key="adj_unit")
    kind = c3.selectbox("类型", list(ADJUSTMENT_KINDS), format_func=ADJUSTMENT_KIND_LABELS.get, key="adj_kind")
    points = c4.number_input("分值（正数）", min_value=0.0, value=None, step=0.1, key="adj_points")
    c5, c6, c7 = st.columns([1, 2, 2])
    level = c5.selectbox("荣誉级别", [None, *HONOUR_LEVEL_LABELS], key="adj_level",
                         format_func=labels(HONOUR_LEVEL_LABELS, "—"))
    item = c6.text_input("所属事项 / 指标", key="adj_item", help="先进荣誉须填：同一事项获多级荣誉只计最高级别")
    charged = c7.selectbox("转扣县直部门（市扣分必填）", [None, *departments.unit_id], key="adj_charged",
                           format_func=labels(names, "—"))
    reason = st.text_input("原因 / 依据", key="adj_reason")
    if st.form_submit_button("录入", type="primary"):
        try:
            library.add_adjustment({"year": y, "unit_id": unit, "kind": kind, "level": level, "item": item,
                                    "points": points, "reason": reason, "charged_to": charged}, actor)
        except AnalyticsError as e:
            st.error(str(e))
        else:
            st.session_state["adj_flash"] = f"已录入：{names[unit]} {ADJUSTMENT_KIND_LABELS[kind]} {points:g} 分"
            st.rerun()

st.subheader(f"{int(year)}年加减分事项")
listed = data.library("adjustments", int(year))
if listed.empty:
    st.info(NO_DATA)
else:
    view = listed.assign(kind=listed.kind.map(lambda k: ADJUSTMENT_KIND_LABELS.get(k, k)),
                         level=listed.level.map(lambda v: HONOUR_LEVEL_LABELS.get(v, v) if isinstance(v, str) else v))
    picked = st.dataframe(
        view[["unit", "kind", "level", "item", "points", "reason", "charged_to_name", "file_name", "upload_id"]],
        hide_index=True, width="stretch", key="adj_table", on_select="rerun", selection_mode="single-row",
        placeholder="—", column_config={
            "unit": "单位", "kind": "类型", "level": "荣誉级别", "item": "事项", "points": st.column_config.NumberColumn(
                "分值", format="%.2f"), "reason": "原因", "charged_to_name": "转扣部门", "file_name": "来源",
            "upload_id": st.column_config.NumberColumn("批次", format="#%d")})
    rows = picked.selection.rows if picked else []
    if rows:
        chosen = listed.iloc[rows[0]]
        why = st.text_input("撤回原因", key="adj_withdraw_reason")
        if st.button(f"撤回批次 #{int(chosen.upload_id)}（{chosen.file_name}）", key="adj_withdraw"):
            try:
                withdraw_upload(int(chosen.upload_id), actor, why)
            except AnalyticsError as e:
                st.error(str(e))
            else:
                st.session_state["adj_flash"] = f"已撤回批次 #{int(chosen.upload_id)}"
                st.rerun()
    else:
        st.caption("点选一行可撤回该条录入（或该次上传）；撤回不删除记录，记入审计日志。")
