"""数据浏览: current values with units and the upload each came from."""
import streamlit as st

from ui import data, state
from ui.text import FIELD_LABELS, MEASURE_LABELS, NO_DATA, USER_LABELS, labels, period_label

state.guard()
st.title("数据浏览")
year, period, unit = state.selection()
cat = data.catalog()
indicators = cat["indicators"]
names = dict(zip(indicators.indicator_id, indicators.name))
c1, c2 = st.columns([2, 1])
indicator = c1.selectbox("指标", [None] + list(indicators.indicator_id), key="browse_indicator",
                         format_func=labels(names, "全部指标", "{label}（{key}）"))
all_periods = c2.toggle("显示全部期间", key="browse_all_periods", help="关闭时只看侧栏所选期间")
rows = data.browse(year, None if all_periods else period, unit, indicator)

st.caption(f"{year}年 {'全部期间' if all_periods else period_label(period)} · 共 {len(rows):,} 个数值 · "
           "每个数值为最新修订；“来源文件/上传批次”指明其来自哪次上传，修订次数>1 表示被后续上传修订过。")
if rows.empty:
    st.info(NO_DATA)
    st.stop()
view = rows.assign(
    period=rows.period.map(period_label),
    measure=rows.measure.map(lambda m: MEASURE_LABELS.get(m, m)),
    approx=rows.approx.map({True: "约数", False: ""}),
    uploaded_by=rows.uploaded_by.map(lambda u: USER_LABELS.get(u, u)),
)[["period", "unit", "indicator", "measure", "value", "unit_of_measure", "target", "approx",
   "file_name", "upload_id", "source_row", "uploaded_by", "uploaded_at", "revisions"]]
if not rows.approx.any():  # the column only speaks when some value is approximate ("约3.4")
    view = view.drop(columns="approx")
st.dataframe(
    view, hide_index=True, width="stretch", height=640, placeholder="—",
    column_config={
        **{k: st.column_config.Column(FIELD_LABELS[k]) for k in view.columns},
        "value": st.column_config.NumberColumn(FIELD_LABELS["value"], format="%,.2f"),
        "target": st.column_config.NumberColumn(FIELD_LABELS["target"], format="%,.2f"),
        "upload_id": st.column_config.NumberColumn(FIELD_LABELS["upload_id"], format="#%d"),
        "source_row": st.column_config.NumberColumn(FIELD_LABELS["source_row"], format="%d"),
        "uploaded_at": st.column_config.DatetimeColumn(FIELD_LABELS["uploaded_at"], format="YYYY-MM-DD HH:mm"),
    },
)
