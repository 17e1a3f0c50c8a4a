"""审计日志 (admin): who did what and when — filter by user, action and date; export CSV."""
from datetime import date, timedelta

import streamlit as st

from analytics import audit
from ui import state
from ui.text import AUDIT_ACTIONS, AUDIT_LABELS, NO_DATA, labels

state.guard("view_audit")
st.title("审计日志")
st.caption("每次写入（上传、撤回、核实预警、修改规则/指标/目标、用户变更）和每次登录失败各记一条；"
           "详情含文件哈希与修改前后的值，从不记录密码。")

options = audit.choices()
c1, c2, c3 = st.columns([1, 1, 2])
user = c1.selectbox("用户", [None] + options["users"], key="audit_user",
                    format_func=labels({}, "全部用户"))
action = c2.selectbox("操作", [None] + options["actions"], key="audit_action",
                      format_func=labels(AUDIT_ACTIONS, "全部操作", "{label}（{key}）"))
today = date.today()
span = c3.date_input("日期范围（含首尾两天）", (today - timedelta(days=30), today), key="audit_dates")
since, until = (span[0], span[-1]) if isinstance(span, (tuple, list)) and span else (None, None)

rows = audit.query(user, action, since, until)
st.caption(f"共 {len(rows):,} 条（最新在前）")
if rows.empty:
    st.info(NO_DATA)
    st.stop()
rows.insert(3, "action_label", rows.action.map(lambda a: AUDIT_ACTIONS.get(a, a)))
labels = AUDIT_LABELS | {"action_label": "操作说明", "action": "操作代码"}
st.download_button("导出 CSV", audit.to_csv(rows, labels), f"审计日志_{today:%Y%m%d}.csv", "text/csv",
                   icon=":material/download:")
st.dataframe(rows, hide_index=True, width="stretch", height=640,
             column_config={k: st.column_config.Column(v) for k, v in labels.items()} | {
                 "at": st.column_config.DatetimeColumn(labels["at"], format="YYYY-MM-DD HH:mm:ss"),
                 "detail": st.column_config.TextColumn(labels["detail"], width="large")})
