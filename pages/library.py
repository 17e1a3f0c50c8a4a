"""指标库与目标: validated editors for indicators and owners (preview before save), XLSX
import/export, the city's target table and mid-year target changes with history, 待完善 list."""
import pandas as pd
import streamlit as st

from analytics import library
from analytics.errors import AnalyticsError
from analytics.ingest import KINDS
from analytics.library import LABELS as L
from analytics.parse import MEASURES
from ui import data, state
from ui.text import KIND_LABELS, LIBRARY, NO_DATA, UPLOAD_STATUS, labels, md, year_label

actor = state.guard("edit_data")
st.title(LIBRARY["title"])
st.caption(LIBRARY["caption"])
if flash := st.session_state.pop("library_flash", None):
    st.success(flash)

indicators = data.library("indicators")
review = indicators[indicators.needs_review.astype(bool)]
locked = data.library("locked_periods")
m = st.columns(4)
m[0].metric("指标数", len(indicators))
m[1].metric("待完善指标", len(review))
m[2].metric("在任责任人记录", len(data.library("owners")))
m[3].metric("已锁定报告期", len(locked), help="管理员在“报告期锁定”页锁定；锁定期间的数据不能再上传")


def problems_table(problems, key: str) -> None:
    st.error(LIBRARY["problems"], icon=":material/block:")
    st.dataframe(pd.DataFrame([p.to_dict() for p in problems])[["row", "column", "reason"]]
                 .rename(columns={"row": "行", "column": "列", "reason": "原因"}),
                 hide_index=True, width="stretch", key=key)


def changes_table(changes: list[dict]) -> pd.DataFrame:
    rows = [{"指标编码": c["indicator_id"], "指标名称": c.get("name"), "字段": L.get(f, f),
             "修改前": "—" if c["before"].get(f) is None else str(c["before"].get(f)), "修改后": str(v)}
            for c in changes for f, v in c["after"].items()]
    return pd.DataFrame(rows)


def save(fn, *args) -> None:
    try:
        out = fn(*args)
    except AnalyticsError as e:
        st.error(str(e))
    else:
        n = len(out) if isinstance(out, list) else 1
        st.session_state["library_flash"] = LIBRARY["saved"].format(n=n)
        st.rerun()


tab_ind, tab_own, tab_tgt, tab_review, tab_xlsx = st.tabs(
    ["指标", "责任人", "目标与调整", f"待完善（{len(review)}）", "导入 / 导出 XLSX"])

with tab_ind:
    cols = ["indicator_id", "name", "unit_of_measure", "kind", "direction", "category", "points", "is_key",
            "is_difficult", "curve", "needs_review"]
    edited = st.data_editor(
        indicators[cols], hide_index=True, width="stretch", height=520, key="library_editor", num_rows="fixed",
        disabled=["indicator_id", "name", "needs_review"],
        column_config={
            "indicator_id": st.column_config.TextColumn(L["indicator_id"], pinned=True),
            "name": st.column_config.TextColumn(L["name"], pinned=True),
            "unit_of_measure": st.column_config.TextColumn(L["unit_of_measure"]),
            "kind": st.column_config.SelectboxColumn(L["kind"], options=list(KINDS), required=True,
                                                     format_func=labels(KIND_LABELS)),
            "direction": st.column_config.SelectboxColumn(L["direction"], options=[1, -1], required=True,
                                                          help="1＝越大越好；-1＝越小越好（下降类）"),
            "category": st.column_config.TextColumn(L["category"]),
            "points": st.column_config.NumberColumn(L["points"], format="%.2f", help="不小于 0"),
            "is_key": st.column_config.CheckboxColumn(L["is_key"]),
            "is_difficult": st.column_config.CheckboxColumn(L["is_difficult"]),
            "curve": st.column_config.TextColumn(L["curve"], help=LIBRARY["curve_help"]),
            "needs_review": st.column_config.CheckboxColumn(L["needs_review"], help=LIBRARY["needs_review_help"]),
        })
    if st.session_state.get("library_editor", {}).get("edited_rows"):
        changes, problems = library.indicator_changes(edited)
        if problems:
            problems_table(problems, "library_problems")
        elif changes:
            st.markdown(f"**{LIBRARY['preview']}**")
            st.dataframe(changes_table(changes), hide_index=True, width="stretch", key="library_preview")
            if st.button("保存指标修改", type="primary", key="library_save"):
                save(library.save_indicators, edited, actor)
        else:
            st.caption(LIBRARY["no_changes"])
    else:
        st.caption(LIBRARY["no_changes"])

with tab_own:
    st.caption(LIBRARY["owners_help"])
    owners = data.library("owners")
    ocols = ["indicator_id", "indicator", "unit_id", "unit", "owner_leader", "owner_staff", "owner_office",
             "valid_from"]
    if owners.empty:
        st.info(NO_DATA)
    else:
        view = owners[ocols].assign(valid_from=pd.to_datetime(owners.valid_from).dt.date)
        edited_owners = st.data_editor(
            view, hide_index=True, width="stretch", height=420, key="owners_editor", num_rows="fixed",
            disabled=["indicator_id", "indicator", "unit_id", "unit"],
            column_config={**{c: st.column_config.TextColumn(L.get(c, c)) for c in ocols[:-1]},
                           "indicator": st.column_config.TextColumn("指标名称"),
                           "unit": st.column_config.TextColumn("单位名称"),
                           "valid_from": st.column_config.DateColumn(L["valid_from"], format="YYYY-MM-DD")})
        if st.session_state.get("owners_editor", {}).get("edited_rows"):
            owner_new, problems = library.owner_changes(edited_owners)
            if problems:
                problems_table(problems, "owners_problems")
            elif owner_new:
                st.markdown(f"**{LIBRARY['preview']}**")
                st.dataframe(pd.DataFrame([{
                    "指标编码": c["indicator_id"], "单位编码": c["unit_id"],
                    "原分管领导": (c["before"] or {}).get("owner_leader"), "新分管领导": c["owner_leader"],
                    "新经办人员": c["owner_staff"], "新办事机构": c["owner_office"], "生效日期": c["valid_from"]}
                    for c in owner_new]), hide_index=True, width="stretch", key="owners_preview")
                if st.button("保存责任人变更", type="primary", key="owners_save"):
                    save(library.save_owners, edited_owners, actor)
        pick = st.selectbox("查看责任人历史", list(indicators.indicator_id), key="owners_history_pick",
                            format_func=labels(dict(zip(indicators.indicator_id, indicators.name)), fmt="{key} {label}"))
        hist = data.library("owner_history", pick)
        st.dataframe(hist.drop(columns=["upload_id"]).rename(columns=L | {"indicator": "指标名称", "unit": "单位名称"}),
                     hide_index=True, width="stretch", key="owners_history")

with tab_tgt:
    known = sorted(data.catalog()["years"]) or [pd.Timestamp.now().year]
    options = [known[-1] + 1, *known[::-1]]  # next year too: its targets are imported after the rollover
    chosen = st.session_state.get("year")
    year = st.selectbox("年份", options, index=options.index(chosen) if chosen in options else 1,
                        key="targets_year", format_func=year_label)
    with st.expander("导入市目标任务分解表（CSV/XLSX：单位×指标，可同时含总量目标和增速目标）"):
        up = st.file_uploader("目标任务分解表（CSV、XLSX）", type=["csv", "xlsx"], key="targets_file")
        if up is not None and st.button("校验并导入目标", key="targets_import"):
            try:
                report = library.import_targets(up.getvalue(), up.name, actor, year)
            except AnalyticsError as e:
                st.error(str(e))
            else:
                box = st.success if report.status in ("stored", "partial") else st.error
                box(f"{UPLOAD_STATUS.get(report.status, report.status)}：{report.message}")
                for p in report.errors[:20]:
                    st.caption(str(p))
    tgt = data.library("targets", year)
    if tgt.empty:
        st.info(f"{year}年尚无目标：请导入市目标任务分解表")
    else:
        st.dataframe(tgt.drop(columns=["year", "upload_id"]).rename(columns=L | {
            "unit": "单位名称", "indicator": "指标名称", "file_name": "来源"}), hide_index=True, width="stretch",
            height=300, key="targets_table")
        units = dict(zip(tgt.unit_id, tgt.unit))
        inds = dict(zip(tgt.indicator_id, tgt.indicator))
        st.subheader("年中目标调整")
        with st.form("target_change"):
            c1, c2, c3, c4 = st.columns([2, 3, 2, 2])
            unit = c1.selectbox("单位", list(units), format_func=units.get, key="tc_unit")
            ind = c2.selectbox("指标", list(inds), format_func=labels(inds, fmt="{key} {label}"), key="tc_indicator")
            measure = c3.selectbox("口径", list(MEASURES), format_func=MEASURES.get, key="tc_measure")
            value = c4.number_input("新目标值", value=None, key="tc_value", format="%.4f")
            reason = st.text_input("调整原因（必填，如调整文件文号）", key="tc_reason")
            if st.form_submit_button("登记目标调整", type="primary"):
                save(library.change_target, year, unit, ind, measure, value, reason, actor)
        hu = st.session_state.get("tc_unit") or next(iter(units))
        hi = st.session_state.get("tc_indicator") or next(iter(inds))
        st.markdown(f"**目标变更历史：{md(units.get(hu, hu))} · {md(inds.get(hi, hi))}**（最新为现行目标）")
        hist = data.library("target_history", year, hu, hi)
        st.dataframe(hist.drop(columns=["upload_id", "withdrawn"]).rename(columns={
            "measure": "口径", "before": "调整前", "target": "目标值", "changed_by": "操作人", "changed_at": "时间",
            "file_name": "来源", "reason": "原因", "is_current": "现行"}), hide_index=True, width="stretch",
            key="targets_history")

with tab_review:
    if review.empty:
        st.success("没有待完善的指标")
    else:
        st.caption(LIBRARY["needs_review_help"] + "；在“指标”页签中补全后保存。")
        st.dataframe(review[["indicator_id", "name", "unit_of_measure", "kind", "category", "points"]]
                     .rename(columns=L), hide_index=True, width="stretch", key="review_table")

with tab_xlsx:
    st.download_button("导出指标库（XLSX）", library.export_library(), "指标库.xlsx",
                       "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="library_export")
    st.caption("工作簿含“指标库”“责任人”“责任人历史”三张表；修改“指标库”“责任人”后可重新导入（校验同上，先预览）。")
    book = st.file_uploader("导入指标库（XLSX）", type=["xlsx"], key="library_import_file")
    if book is not None:
        try:
            plan = library.import_library(book.getvalue(), actor, dry_run=True)
        except AnalyticsError as e:
            st.error(str(e))
            if getattr(e, "problems", None):
                problems_table(e.problems, "import_problems")
        else:
            if not (plan["indicators"] or plan["owners"]):
                st.info("与现有指标库相同，无需导入")
            else:
                st.markdown(f"**{LIBRARY['preview']}**：指标 {len(plan['indicators'])} 项，责任人变更 {len(plan['owners'])} 项")
                if plan["indicators"]:
                    st.dataframe(changes_table(plan["indicators"]), hide_index=True, width="stretch", key="import_preview")
                if st.button("确认导入", type="primary", key="library_import"):
                    save(library.import_library, book.getvalue(), actor)
