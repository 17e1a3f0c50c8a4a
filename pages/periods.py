"""报告期锁定 (admin): lock a period once its bulletin is issued, unlock with a reason; and
start a new year (rollover)."""
import pandas as pd
import streamlit as st

from analytics import library, locks
from analytics.errors import AnalyticsError
from analytics.roles import can
from ui import data, state
from ui.text import NO_DATA, PERIODS, period_label, year_label

actor = state.guard("lock_period")
st.title(PERIODS["title"])
st.caption(PERIODS["caption"])
if flash := st.session_state.pop("periods_flash", None):
    st.success(flash)


def run(fn, done: str, *args) -> None:
    try:
        fn(*args)
    except AnalyticsError as e:
        st.error(str(e))
    else:
        st.session_state["periods_flash"] = done
        st.rerun()


years = sorted(data.catalog()["years"], reverse=True) or [pd.Timestamp.now().year]
with st.form("lock_form"):
    c1, c2, c3 = st.columns([1, 1, 3])
    year = c1.selectbox("年份", years, key="lock_year", format_func=year_label)
    current = st.session_state.get("period") or 12  # default: the period the sidebar shows
    period = c2.selectbox("期间", list(range(12, 0, -1)), index=12 - int(current), key="lock_period",
                          format_func=period_label)
    reason = c3.text_input("原因（锁定可选，如通报文号；解锁必填）", key="lock_reason")
    b1, b2 = st.columns(2)
    if b1.form_submit_button("锁定", type="primary"):
        run(locks.lock_period, f"已锁定 {locks.period_text(year, period)}", year, period, actor, reason)
    if b2.form_submit_button("解锁"):
        run(locks.unlock_period, f"已解锁 {locks.period_text(year, period)}", year, period, actor, reason)

st.subheader("已锁定的报告期")
locked = data.library("locked_periods")
if locked.empty:
    st.info("暂无锁定的报告期")
else:
    st.dataframe(locked.assign(period=locked.period.map(period_label)).drop(columns=["locked"]),
                 hide_index=True, width="stretch", key="locked_table", column_config={
                     "year": st.column_config.NumberColumn("年份", format="%d"), "period": "期间",
                     "username": "操作人", "at": st.column_config.DatetimeColumn("时间", format="YYYY-MM-DD HH:mm"),
                     "reason": "原因"})
with st.expander("锁定 / 解锁记录"):
    hist = data.library("lock_history")
    if hist.empty:
        st.info(NO_DATA)
    else:
        st.dataframe(hist.assign(period=hist.period.map(period_label),
                                 locked=hist.locked.map({True: "锁定", False: "解锁"})),
                     hide_index=True, width="stretch", key="lock_history")

if can(actor, "init"):
    st.subheader("年度结转")
    st.caption("开始新年度：沿用单位、指标、在任责任人（自 1 月 1 日起重新登记）和计分规则，目标待导入市目标任务分解表；"
               "新年度已有数据时拒绝。")
    with st.form("rollover_form"):
        c1, c2 = st.columns(2)
        src = c1.selectbox("上一年度", years, key="roll_from", format_func=year_label)
        dst = c2.number_input("新年度", 2000, 2100, value=int(years[0]) + 1, step=1, key="roll_to")
        if st.form_submit_button("开始新年度"):
            run(library.rollover, f"已开始 {dst} 年：请导入目标任务分解表", src, dst, actor)
