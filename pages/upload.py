"""数据上传: preview what was detected, correct the mapping, then store on an explicit button."""
import pandas as pd
import streamlit as st

from analytics import mappings
from analytics.errors import AnalyticsError
from analytics.ingest import TEMPLATES, IngestOptions, IngestReport, ingest_bytes, template, withdraw_upload
from ui import data, state
from ui.text import (COLUMN_ROLES, FIELD_LABELS, LAYOUTS, MEASURE_LABELS, NO_DATA, SEVERITY, UPLOAD_STATUS,
                     USER_LABELS, period_label, md, labels as label_of)

state.guard("upload")
st.title("数据上传")
st.caption("上传统计局、市目标办发来的原表（CSV 或 XLSX；UTF-8/GBK/GB18030/UTF-16 自动识别）。"
           "先预览识别结果，可修正列映射；点击“校验并入库”后整个文件在一个事务中写入，有错误时不存储任何数据。"
           "“-”“—”和空白表示无数值，不按 0 计。")

with st.expander("下载模板（长表、指标行表、月份列表、县区对比表、重点项目台账）"):
    buttons = st.container(horizontal=True, wrap=True)  # one column each cut the names on a 1024px screen
    for layout in TEMPLATES:
        name, content = template(layout)
        buttons.download_button(LAYOUTS[layout], content, name, "text/csv", key=f"tpl_{layout}")

upload = st.file_uploader("选择文件（CSV、TXT、XLSX）", type=["csv", "txt", "xlsx"], key="upload_file")


def show_report(report: dict) -> None:
    status = report["status"]
    box, icon = {"stored": (st.success, ":material/check_circle:"), "partial": (st.warning, ":material/warning:"),
                 "duplicate": (st.info, ":material/info:")}.get(status, (st.error, ":material/block:"))
    box(f"**{UPLOAD_STATUS[status]}**：{md(report['message'])}", icon=icon)
    m = st.columns(5)
    m[0].metric("读取行数", f"{report['rows_read']:,}")
    m[1].metric("入库行数", f"{report['rows_stored']:,}")
    m[2].metric("拒绝行数", f"{report['rows_rejected']:,}")
    m[3].metric("无数值行", f"{report['rows_empty']:,}")
    m[4].metric("上传批次", f"#{report['upload_id']}" if report["upload_id"] else "—")
    st.caption(f"格式：{LAYOUTS.get(report['layout'], report['layout'] or '未识别')} · 编码：{report['encoding'] or '—'}"
               f"{' · 工作表：' + md(report['sheet']) if report.get('sheet') else ''}"
               f"{' · 已套用保存的列映射' if report.get('mapping_applied') else ''} · sha256：{report['sha256'][:16]}…")
    if report.get("created"):
        st.info("已自动创建（在指标库中标记“待完善”）：" +
                "；".join(f"{'单位' if k == 'units' else '指标'}：{'、'.join(map(md, v))}" for k, v in report["created"].items()))
    for note in report.get("notes", []):
        st.caption(f"表注：{md(note)}")
    if report["problems"]:
        problems = pd.DataFrame(report["problems"])
        problems["severity"] = problems.severity.map(lambda s: SEVERITY.get(s, s))
        st.dataframe(problems, hide_index=True, width="stretch", key=f"problems_{report['sha256'][:8]}", placeholder="—",
                     column_order=["severity", "file", "row", "column", "reason"],
                     column_config={k: st.column_config.Column(FIELD_LABELS[k]) for k in
                                    ("severity", "file", "row", "column", "reason")})


if upload is not None:
    content = upload.getvalue()
    c1, c2, c3 = st.columns(3)
    year = c1.number_input("年份（文件未写明时使用）", 2000, 2100, value=None, step=1, key="upload_year")
    period = c2.selectbox("期间（文件未写明时使用）", [None, *range(1, 13)], key="upload_period",
                          format_func=label_of({m: period_label(m) for m in range(1, 13)}, "—"))
    sheet = None
    if upload.name.lower().endswith(".xlsx"):
        try:
            sheets = data.sheets(content, upload.name)
            labels = {s["name"]: f"{s['name']}{'' if s['state'] == 'visible' else '（隐藏）'}（{s['rows']} 行）"
                      for s in sheets}
            sheet = c3.selectbox("工作表", [None, *labels], key="upload_sheet",
                                 format_func=label_of(labels, "自动（第一个含数据的可见工作表）"))
        except AnalyticsError as e:
            st.error(str(e))
    options = IngestOptions(year, period, sheet)
    try:
        preview = data.preview(content, upload.name, options)
    except AnalyticsError as e:
        st.error(str(e))
        preview = None
    mapping = None
    if preview is not None and preview.get("columns"):
        ctx = preview["context"]
        st.subheader("识别结果")
        st.markdown(f"**格式**：{LAYOUTS.get(preview['layout'], preview['layout'])} · **编码**：{preview['encoding']}"
                    f" · **年份**：{ctx['year'] or '未写明'} · **期间**：{period_label(ctx['period']) if ctx['period'] else '未写明'}"
                    f" · **默认计量单位**：{ctx['uom'] or '—'}"
                    + (" · 已套用此表格式保存的列映射" if preview.get("mapping") else ""))
        if ctx["title"]:
            st.caption(f"标题：{md(ctx['title'])}")
        detected = preview["columns"]
        editor = pd.DataFrame(detected)[["label", "role", "measure", "period", "year", "uom", "indicator"]]
        edited = st.data_editor(
            editor, hide_index=True, width="stretch", key="upload_mapping_editor", disabled=["label"], placeholder="",
            column_config={
                "label": st.column_config.TextColumn("表头"),
                "role": st.column_config.SelectboxColumn("作用", options=list(COLUMN_ROLES), required=True,
                                                         format_func=COLUMN_ROLES.get),
                "measure": st.column_config.SelectboxColumn("口径", options=list(MEASURE_LABELS),
                                                            format_func=MEASURE_LABELS.get),
                "period": st.column_config.NumberColumn("期间（月）", min_value=1, max_value=12, step=1),
                "year": st.column_config.NumberColumn("年份", min_value=2000, max_value=2100, step=1, format="%d"),
                "uom": st.column_config.TextColumn("计量单位"),
                "indicator": st.column_config.TextColumn("指标（按列分组时）"),
            })
        try:
            mapping = mappings.from_columns(edited.to_dict("records"), detected)
        except AnalyticsError as e:
            st.error(str(e))
        with st.expander(f"待入库单元格预览（前 {len(preview['records'])} 个，未存储）"):
            st.dataframe(preview["records"], hide_index=True, width="stretch")
    save = st.checkbox("保存此列映射，下月同格式文件自动套用", key="upload_save_mapping",
                       disabled=not (preview and preview.get("signature")))
    create_missing = st.checkbox("自动创建未知的单位/指标（标记“待完善”）", key="upload_create")
    accept_partial = st.checkbox("只存合格行（拒绝的行列入报告）", key="upload_partial")
    if st.button("校验并入库", type="primary", key="upload_submit"):
        options = IngestOptions(year, period, sheet, create_missing, accept_partial)
        bar = st.progress(0.0, text="开始…")
        try:
            report: IngestReport = ingest_bytes(content, upload.name, state.actor(), options, mapping=mapping or None,
                                                on_progress=lambda stage, f: bar.progress(f, text=stage))
            if save and report.status in ("stored", "partial") and report.mapping_signature:
                mappings.save(report.mapping_signature, mapping or {}, state.actor())
            st.session_state.upload_report = report.to_dict()
            if report.status in ("stored", "partial"):
                bar.progress(1.0, text="正在更新进度差距与数据质量结果（领导打开页面时无需再等）…")
                data.warm()
        except AnalyticsError as e:
            st.session_state.upload_report = None
            st.error(str(e))
        bar.empty()

report = st.session_state.get("upload_report")
if report is not None:
    st.subheader(f"校验报告：{md(report['file'])}")
    show_report(report)

st.subheader("上传历史")
history = data.uploads()
if history.empty:
    st.info(NO_DATA)
else:
    view = history.assign(status=history.status.map(lambda s: UPLOAD_STATUS.get(s, s)),
                          layout=history.layout.map(lambda s: LAYOUTS.get(s, s)),
                          uploaded_by=history.uploaded_by.map(lambda u: USER_LABELS.get(u, u)))
    counts = {k: st.column_config.NumberColumn(FIELD_LABELS[k], format="localized")
              for k in ("rows_read", "rows_stored", "rows_rejected")}
    picked = st.dataframe(view, hide_index=True, width="stretch", height=320, key="upload_history",
                          on_select="rerun", selection_mode="single-row", placeholder="—",
                          column_config={**{k: st.column_config.Column(FIELD_LABELS[k]) for k in view.columns
                                            if k in FIELD_LABELS}, **counts,
                                         "upload_id": st.column_config.NumberColumn(FIELD_LABELS["upload_id"], format="#%d"),
                                         "uploaded_at": st.column_config.DatetimeColumn(
                                             FIELD_LABELS["uploaded_at"], format="YYYY-MM-DD HH:mm")})
    rows = picked.selection.rows if picked else []
    if rows:
        chosen = history.iloc[rows[0]]
        upload_id = int(chosen.upload_id)
        st.markdown(f"**上传批次 #{upload_id}：{md(chosen.file_name)}**")
        stored = data.upload_report(upload_id)
        if stored:
            show_report(stored)
        if chosen.status != "withdrawn":
            reason = st.text_input("撤回原因", key="withdraw_reason")
            if st.button(f"撤回上传批次 #{upload_id}", key="withdraw_button",
                         help="撤回后该批次的数值不再是当前值，之前的修订恢复为当前值；不删除任何数据，记入审计日志"):
                try:
                    withdraw_upload(upload_id, state.actor(), reason)
                    st.success(f"已撤回上传批次 #{upload_id}")
                    st.rerun()
                except AnalyticsError as e:
                    st.error(str(e))
    else:
        st.caption("点选一行查看该次上传的校验报告，或撤回该次上传。")
