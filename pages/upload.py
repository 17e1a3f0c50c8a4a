"""数据上传: a file → validation report; stored only on an explicit button."""
import streamlit as st

from analytics.errors import AnalyticsError
from analytics.ingest import IngestOptions, ingest_bytes, template_csv
from ui import data, state
from ui.text import FIELD_LABELS, LAYOUTS, NO_DATA, SEVERITY, UPLOAD_STATUS

st.title("数据上传")
st.caption("上传统计局月报（CSV 或 XLSX，长表：每行一个 单位×指标×期间）。先校验后入库：整个文件在一个事务中写入，"
           "有错误时不存储任何数据；“-”“—”和空白表示无数值，不按 0 计。")
st.download_button("下载长表模板（CSV）", template_csv(), "长表模板.csv", "text/csv")

with st.form("upload_form"):
    upload = st.file_uploader("选择文件", type=["csv", "xlsx"], key="upload_file")
    c1, c2, c3 = st.columns(3)
    year = c1.number_input("年份（文件未写明时使用）", 2000, 2100, value=None, step=1, key="upload_year")
    period = c2.number_input("期间（文件未写明时使用）", 1, 12, value=None, step=1, key="upload_period")
    sheet = c3.text_input("工作表（XLSX，可留空）", key="upload_sheet")
    create_missing = st.checkbox("自动创建未知的单位/指标（标记“待完善”）", key="upload_create")
    accept_partial = st.checkbox("只存合格行（拒绝的行列入报告）", key="upload_partial")
    submitted = st.form_submit_button("校验并入库", type="primary")

if submitted:
    if upload is None:
        st.warning("请先选择文件")
    else:
        options = IngestOptions(year, period, sheet or None, create_missing, accept_partial)
        with st.spinner(f"正在校验并入库 {upload.name} …"):
            try:
                st.session_state.upload_report = ingest_bytes(upload.getvalue(), upload.name, state.actor(), options)
            except AnalyticsError as e:
                st.session_state.upload_report = None
                st.error(str(e))

report = st.session_state.get("upload_report")
if report is not None:
    st.subheader(f"校验报告：{report.file}")
    (st.success if report.status == "stored" else st.warning if report.status in ("partial", "duplicate")
     else st.error)(f"{UPLOAD_STATUS[report.status]} — {report.message}")
    m = st.columns(5)
    m[0].metric("读取行数", f"{report.rows_read:,}")
    m[1].metric("入库行数", f"{report.rows_stored:,}")
    m[2].metric("拒绝行数", f"{report.rows_rejected:,}")
    m[3].metric("无数值行", f"{report.rows_empty:,}")
    m[4].metric("上传批次", f"#{report.upload_id}" if report.upload_id else "—")
    st.caption(f"格式：{LAYOUTS.get(report.layout, report.layout or '未识别')} · 编码：{report.encoding or '—'}"
               f"{' · 工作表：' + report.sheet if report.sheet else ''} · sha256：{report.sha256[:16]}…")
    if report.created:
        st.info("已自动创建（待完善）：" + "；".join(f"{k}：{'、'.join(v)}" for k, v in report.created.items()))
    if report.problems:
        problems = [{**p.to_dict(), "severity": SEVERITY.get(p.severity, p.severity)} for p in report.problems]
        st.dataframe(problems, hide_index=True, width="stretch",
                     column_order=["severity", "file", "row", "column", "reason"],
                     column_config={k: st.column_config.Column(FIELD_LABELS[k]) for k in
                                    ("severity", "file", "row", "column", "reason")})

st.subheader("上传历史")
history = data.uploads()
if history.empty:
    st.info(NO_DATA)
else:
    history = history.assign(status=history.status.map(lambda s: UPLOAD_STATUS.get(s, s)),
                             layout=history.layout.map(lambda s: LAYOUTS.get(s, s)))
    st.dataframe(history, hide_index=True, width="stretch", height=320,
                 column_config={k: st.column_config.Column(FIELD_LABELS[k]) for k in history.columns if k in FIELD_LABELS})
