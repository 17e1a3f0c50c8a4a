"""数据质量: the checks' flags (漏报、瞒报、冒报、虚报) — summary by rule and severity, a list
filterable by unit / indicator / rule, each flag's series chart with the flagged point and the
revision history; analysts mark a flag 已核实 with a comment (audited)."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics import quality
from analytics.errors import AnalyticsError
from analytics.roles import can
from ui import charts, data, state
from ui.text import (MEASURE_LABELS, NO_DATA, QUALITY_LABELS, QUALITY_PILL_COLORS, QUALITY_SEVERITY,
                     QUALITY_SEVERITY_MARK, QUALITY_STATUS, QUALITY_TEXT, USER_LABELS, period_label, labels, md)

T, L = QUALITY_TEXT, QUALITY_LABELS
actor = state.guard()
st.title(T["title"])
st.caption(T["caption"])
year, period, unit = state.selection()
if year is None:
    st.info(NO_DATA)
    st.stop()
flags = data.quality_flags(year, period)

open_ = flags[~flags.verified]
m = st.container(horizontal=True, wrap=True)  # wraps on a narrow screen instead of cutting the labels
m.metric(f"预警总数（截至{period_label(period)}）", f"{len(flags):,}")
m.metric("待核实", f"{len(open_):,}")
m.metric("其中严重（待核实）", f"{int((open_.severity == 'high').sum()):,}")
m.metric("已核实", f"{int(flags.verified.sum()):,}")

with st.expander(T["summary"], expanded=True):
    summ = quality.summary(flags)
    if summ.empty:
        st.success(T["none"])
    else:
        st.dataframe(summ.drop(columns="rule"), hide_index=True, width="stretch",
                     column_config={k: st.column_config.Column(L.get(k, k)) for k in summ.columns}
                     | {"family": st.column_config.Column("类别"), "rule_name": st.column_config.Column("规则")})

st.subheader(T["list"])
cat = data.catalog()
unit_names = dict(zip(cat["units"].unit_id, cat["units"].name))
ind_names = dict(zip(cat["indicators"].indicator_id, cat["indicators"].name))
c1, c2, c3 = st.columns(3)  # the switches get their own row: four columns cut "全部单位" on a 1024px screen
units = [None] + sorted(flags.unit_id.dropna().unique())
f_unit = c1.selectbox("单位", units, index=units.index(unit) if unit in units else 0, key="quality_unit",
                      format_func=labels(unit_names, "全部单位"))
inds = [None] + sorted(flags.indicator_id.dropna().unique())
f_ind = c2.selectbox("指标", inds, key="quality_indicator",
                     format_func=labels(ind_names, "全部指标", "{label}（{key}）"))
rules = [None] + [r.id for r in quality.RULES if r.id in set(flags.rule)]
f_rule = c3.selectbox("规则", rules, key="quality_rule",
                      format_func=labels({r.id: f"{r.family} · {r.name}" for r in quality.RULES}, "全部规则"))
c4 = st.container(horizontal=True, gap="large")
only_period = c4.toggle(T["only_period"], key="quality_only_period", help=f"只看{period_label(period)}的预警")
show_verified = c4.toggle(T["show_verified"], value=True, key="quality_show_verified")

view = flags
if f_unit:
    view = view[view.unit_id == f_unit]
if f_ind:
    view = view[view.indicator_id == f_ind]
if f_rule:
    view = view[view.rule == f_rule]
if only_period:
    view = view[view.period == period]
if not show_verified:
    view = view[~view.verified]
view = view.reset_index(drop=True)
if view.empty:
    st.info(T["none"])
    st.stop()

table = pd.DataFrame({
    "状态": view.verified.map(QUALITY_STATUS),
    "级别": view.severity.map(QUALITY_SEVERITY_MARK),
    "类别": view.family,
    "规则": view.rule_name,
    "单位": view.unit.fillna("—"),
    "指标": view.indicator.fillna("—"),
    "期间": view.period.map(lambda p: period_label(int(p)) if pd.notna(p) else "—"),
    "说明": view.explanation,
    "来源（文件·行）": [(f"{f} 第{int(r)}行" if pd.notna(r) else f) if isinstance(f, str) else "—"
                     for f, r in zip(view.file, view.row)],
    "上传批次": view.upload_id.map(lambda u: f"#{int(u)}" if pd.notna(u) else "—"),
})
# colour by column settings, not a pandas Styler (which styles every cell on every run — at 300 units ×
# 300 indicators 97,000 flags — and is capped on big tables): the words stay, the colour is a pill
pills = st.column_config.MultiselectColumn
st.caption(f"共 {len(view):,} 条 · 点选一行查看走势与修订记录 · 级别：▲ 严重 ● 关注 ○ 提示；已核实的状态为灰色")
event = st.dataframe(table, hide_index=True, width="stretch", height=min(420, 38 + 35 * len(view)),
                     on_select="rerun", selection_mode="single-row", key="quality_table",
                     column_config={"说明": st.column_config.TextColumn("说明", width="large"),
                                    "状态": pills("状态", options=[QUALITY_STATUS[False], QUALITY_STATUS[True]],
                                                color=[QUALITY_PILL_COLORS["open"], QUALITY_PILL_COLORS["verified"]]),
                                    "级别": pills("级别", options=list(QUALITY_SEVERITY_MARK.values()),
                                                color=[QUALITY_PILL_COLORS[k] for k in QUALITY_SEVERITY_MARK])})
rows = event.selection.rows if event is not None and hasattr(event, "selection") else []
if rows:
    st.session_state["quality_flag"] = view.flag_key.iloc[rows[0]]
key = st.session_state.get("quality_flag")
if key not in set(view.flag_key):
    key = view.flag_key.iloc[0]
flag = view.set_index("flag_key").loc[key]

st.divider()
where = " · ".join(x for x in (flag.unit if isinstance(flag.unit, str) else None,
                                flag.indicator if isinstance(flag.indicator, str) else None,
                                period_label(int(flag.period)) if pd.notna(flag.period) else None) if x)
st.subheader(f"{QUALITY_SEVERITY_MARK[flag.severity]} · {flag.rule_name}{' · ' + md(where) if where else ''}")
(st.info if flag.verified else st.error if flag.severity == "high" else st.warning)(md(flag.explanation))
origin = [f"来源：{md(flag.file)}" + (f" 第{int(flag.row)}行" if pd.notna(flag.row) else "")] if isinstance(flag.file, str) else []
if pd.notna(flag.upload_id):
    origin.append(f"上传批次 #{int(flag.upload_id)}")
if pd.notna(flag.revision):
    origin.append(f"第 {int(flag.revision)} 版")
st.caption(" · ".join(origin + [f"规则：{quality.RULE_BY_ID[flag.rule].help}"]))

if isinstance(flag.unit_id, str) and isinstance(flag.indicator_id, str):
    measure = flag.measure if isinstance(flag.measure, str) else None
    s = data.quality_series(year, flag.unit_id, flag.indicator_id, measure)
    vals, uom = s["values"], s["unit_of_measure"]
    label = MEASURE_LABELS.get(s["measure"], s["measure"])
    fig = go.Figure()
    last = vals[vals.year == year - 1]
    if len(last):
        fig.add_scatter(x=last.period, y=last.value, name=f"{year - 1}年", mode="lines",
                        line={"color": "#9e9e9e", "dash": "dash", "width": 2})
    now = vals[vals.year == year]
    fig.add_scatter(x=now.period, y=now.value, name=f"{year}年", mode="lines+markers",
                    line={"color": "#1565c0", "width": 3}, marker={"size": 8})
    if s["target"] is not None:
        fig.add_hline(y=s["target"], line={"color": "#c62828", "dash": "dot", "width": 2},
                      annotation_text=f"全年目标 {s['target']:,.2f}", annotation_position="top left")
    if pd.notna(flag.period):
        p = int(flag.period)
        hit = now[now.period == p]
        if len(hit):
            fig.add_scatter(x=hit.period, y=hit.value, name="预警点", mode="markers+text",
                            marker={"symbol": "x", "size": 18, "color": "#c62828", "line": {"width": 2}},
                            text=[f"预警：{hit.value.iloc[0]:,.2f}"], textposition="top center",
                            textfont={"size": 15, "color": "#c62828"})
        else:
            fig.add_vline(x=p, line={"color": "#c62828", "dash": "dash", "width": 2},
                          annotation_text=f"{period_label(p)} 未报送", annotation_position="top")
    fig.update_layout(title={"text": f"{s['unit']} · {s['indicator']}（{label}，{uom}）", "font": {"size": 20}},
                      height=490, margin={"l": 10, "r": 10, "t": 60, "b": 10}, font={"size": 15},
                      legend={"orientation": "h", "y": -0.15}, hovermode="x unified")
    fig.update_xaxes(title="期间", tickmode="array", tickvals=list(range(2, 13)),
                     ticktext=[period_label(m) for m in range(2, 13)], range=[1.5, 12.5])
    fig.update_yaxes(title=f"{label}（{uom}）", tickformat=",.2f" if uom != "个" else ",d")
    st.plotly_chart(charts.readable(fig), width="stretch", key="quality_chart")
    st.caption(T["chart_caption"].format(year=year))
    st.markdown(f"**{T['revisions']}**")
    revs = s["revisions"]
    if revs.empty:
        st.caption(T["no_revisions"])
    else:
        st.dataframe(revs.assign(period=revs.period.map(period_label),
                                 uploaded_by=revs.uploaded_by.map(lambda u: USER_LABELS.get(u, u))),
                     hide_index=True, width="stretch",
                     column_order=["period", "revision", "value", "file", "row", "upload_id", "uploaded_by",
                                   "uploaded_at", "status"],
                     column_config={"period": "期间", "revision": "版本", "value": st.column_config.NumberColumn(
                         f"数值（{uom}）", format="%,.2f"), "file": "来源文件", "row": "行",
                         "upload_id": st.column_config.NumberColumn("上传批次", format="#%d"),
                         "uploaded_by": "上传人", "status": "状态",
                         "uploaded_at": st.column_config.DatetimeColumn("上传时间", format="YYYY-MM-DD HH:mm")})

if flag.verified:
    st.success(T["verified"].format(by=flag.verified_by, at=pd.Timestamp(flag.verified_at).strftime("%Y-%m-%d %H:%M"),
                                    comment=flag.comment), icon=":material/verified:")
elif can(actor, "verify_flag"):
    comment = st.text_area(T["comment"], key="quality_comment", placeholder=T["comment_help"], height=80)
    if st.button(T["verify"], type="primary", icon=":material/fact_check:", key="quality_verify"):
        try:
            quality.verify_flag(key, comment, actor)
        except AnalyticsError as e:
            st.error(str(e))
        else:
            st.session_state["quality_flag"] = key
            st.toast("已标记为已核实（已记入审计日志）")
            st.rerun()

with st.expander(T["rules"]):
    st.dataframe(pd.DataFrame([{
        "类别": r.family, "规则": r.name, "编号": r.id, "默认级别": QUALITY_SEVERITY[r.severity], "说明": r.help,
        "阈值（默认）": "；".join(f"{t.name} = {t.default:g}：{t.help}" for t in r.thresholds) or "—"}
        for r in quality.RULES]), hide_index=True, width="stretch",
        column_config={"说明": st.column_config.TextColumn(width="large"),
                       "阈值（默认）": st.column_config.TextColumn(width="large")})
