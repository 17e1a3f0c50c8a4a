"""早报告、早预警: key and difficult targets behind the line, with rule, numbers, owner, trend."""
import streamlit as st

from analytics import exports
from analytics.progress import WARNING_RULES, warnings
from ui import data, state, tables
from ui.text import GAP_LABELS, period_label

year, period, unit = state.page_selection()
st.title(f"早报告、早预警 · {year}年{period_label(period)}")
st.caption("预警规则：" + "；".join(WARNING_RULES.values()))
table = data.gap(year, period)
if unit is not None:
    table = table[table.unit_id == unit]
alerts = warnings(table)
if alerts.empty:
    st.success("没有需要预警的目标", icon=":material/check_circle:")
    st.stop()
columns = ["unit", "indicator", "reason", "completion", "time_progress", "gap_pp", "gap_change", "arrears",
           "unit_of_measure", "acceleration", "status", "owner_leader", "owner_office"]
tables.gap_frame(alerts, columns, key="warn_table", height=520)
st.caption(f"共 {len(alerts):,} 项预警；“差距较上期”为负表示差距在扩大。")
export = alerts[columns].rename(columns={**GAP_LABELS, "reason": "预警原因"})
c1, c2 = st.columns(2)
c1.download_button("导出预警清单（CSV）", exports.to_csv(export),
                   f"预警清单_{year}年{period_label(period)}.csv", "text/csv", key="warn_csv")
c2.download_button("导出预警清单（XLSX）", exports.to_xlsx({"预警清单": export}), f"预警清单_{year}年{period_label(period)}.xlsx",
                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="warn_xlsx")
