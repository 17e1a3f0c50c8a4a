"""年终预测: per target the projected year-end value with its 80 % band and P(target met),
a scenario recomputed instantly, and the backtest behind the numbers."""
import streamlit as st

from analytics.projection import Scenario
from analytics.progress import select
from ui import data, state
from ui.projection_chart import projection_figure
from ui.text import (BACKTEST_FAMILIES, BACKTEST_LABELS, NO_DATA, PROJECTION_HELP, PROJECTION_LABELS,
                     PROJECTION_METHODS, PROJECTION_TEXT as T, period_label, md)

state.guard()
year, period, unit = state.selection()
if year is None:
    st.info(NO_DATA)
    st.stop()
st.title(f"{T['title']} · {year}年{period_label(period)}")
method = st.segmented_control("预测方法", ["combo", "share", "trend"], default="combo", key="proj_method",
                              format_func=PROJECTION_METHODS.get, help=PROJECTION_HELP["projected"]) or "combo"
table = data.projection(year, period, method)
if unit is not None:
    table = table[table.unit_id == unit]
if table.empty:
    st.info(NO_DATA)
    st.stop()

# --- one target: the line, the band, the probability ---------------------------------------
units = table.drop_duplicates("unit_id")
home = data.catalog()["units"].query("is_home").unit_id.tolist()
default_unit = unit or (home[0] if home and home[0] in set(units.unit_id) else units.unit_id.iloc[0])
c1, c2 = st.columns(2)
names = dict(zip(units.unit_id, units.unit))
pick_unit = c1.selectbox("单位", list(units.unit_id), index=list(units.unit_id).index(default_unit),
                         format_func=names.get, key="proj_unit")
rows = table[table.unit_id == pick_unit].reset_index(drop=True)
labels = [f"{r.indicator}（{'增速' if r.measure == 'growth_pct' else r.unit_of_measure}）" for r in rows.itertuples()]
first_cum = next((i for i, r in enumerate(rows.itertuples()) if r.measure == "ytd" and r.target == r.target), 0)
pick = c2.selectbox("指标", range(len(rows)), index=first_cum, format_func=labels.__getitem__, key="proj_indicator")
row = rows.iloc[pick]
uom = row.unit_of_measure or ""


def p_sentence(r) -> str:
    if r.p_meet != r.p_meet:
        return T["no_target"]
    key = "p_sentence_ceiling" if r.direction < 0 else "p_sentence"
    return T[key].format(p=f"{r.p_meet * 100:.0f}")


st.markdown(f"<div style='font-size:2.2rem;font-weight:700;margin:0.4rem 0'>{p_sentence(row)}</div>",
            unsafe_allow_html=True)
# one wrapping row, not 4 columns: on a 1024px screen "170.10 亿元" would be cut to "170.1…"
m = st.container(horizontal=True, wrap=True)
m.metric("预计年末", f"{row.projected:,.2f} {uom}", help=PROJECTION_HELP["projected"])
m.metric("80%区间", f"{row.low:,.2f} ～ {row.high:,.2f}", help=PROJECTION_HELP["band"])
m.metric("全年目标", f"{row.required:,.2f} {uom}" if row.required == row.required else "—")
if row.measure == "ytd" and row.period < 12:
    m.metric("剩余月均需完成 / 已完成月均", f"{row.required_pace:,.2f} / {row.current_pace:,.2f}",
             help=PROJECTION_HELP["required_pace"])
else:
    m.metric("预计完成率", f"{row.projected_completion:,.1f}%" if row.projected_completion == row.projected_completion else "—")
hist = data.projection_history(row.unit_id, row.indicator_id, row.measure)
st.plotly_chart(projection_figure(row, hist, year, f"{row.unit} · {row.indicator}：今年走势与年末预测（{uom}）"),
                key="proj_chart")
st.caption(T["chart_caption"].format(method=PROJECTION_METHODS[method]) + f" 推算依据：{row.basis}；{row.history_note}。")


# --- scenario: recomputed instantly, only this fragment reruns ---------------------------
@st.fragment
def scenario_box(row):
    st.subheader(T["scenario_header"])
    st.caption(T["scenario_help"])
    modes = ["growth_pct", "pace"] if row.measure == "ytd" else ["level"]
    s1, s2, s3 = st.columns([2, 1, 1])
    mode = s1.radio("假设", modes, format_func=T["scenario_modes"].get, horizontal=True, key=f"proj_sc_mode_{row.measure}")
    default = {"growth_pct": 0.0, "pace": float(round(row.required_pace, 2)) if row.required_pace == row.required_pace else 0.0,
               "level": float(round(row.projected, 2))}[mode]
    value = s2.number_input({"growth_pct": "x（%）", "pace": f"y（{uom}/月）", "level": f"年末值（{uom}）"}[mode],
                            value=default, key=f"proj_sc_value_{mode}")
    # only a growth rate means the same thing for every indicator; a pace or a level is per indicator
    scope = s3.radio("范围", ["one", "all"] if mode == "growth_pct" else ["one"], format_func=T["scenario_scope"].get,
                     key="proj_sc_scope")
    sc = Scenario(**{mode: float(value)})
    if scope == "one":
        result = data.projection(year, period, method, (((row.unit_id, row.indicator_id, row.measure), sc),))
        r = result[(result.unit_id == row.unit_id) & (result.indicator_id == row.indicator_id)
                   & (result.measure == row.measure)].iloc[0]
        verdict = "" if r.p_meet != r.p_meet else ("，可以完成全年目标" if r.p_meet >= 1 else "，仍完不成全年目标")
        done = f"（预计完成率 {r.projected_completion:,.1f}%）" if r.projected_completion == r.projected_completion else ""
        st.markdown(f"**{md(sc.describe())}**：年末预计 **{r.projected:,.2f} {uom}**{done}{verdict}。")
    else:
        result = data.projection(year, period, method, sc)
        if unit is not None:
            result = result[result.unit_id == unit]
        hit = result[result.method == "scenario"]
        met = int((hit.p_meet >= 1).sum())
        st.markdown(f"**{md(sc.describe())}**：适用的 {len(hit)} 项目标中预计 **{met}** 项完成全年目标"
                    f"（按当前趋势预计完成 {int((table.p_meet >= 0.5).sum())} 项，概率≥50%）。")


scenario_box(row)

# --- every target, least likely first ---------------------------------------------------
st.subheader("全部目标（按完成目标概率排序）")
f1, f2, f3 = st.columns(3)
cats = f1.multiselect("类别", sorted(table.category.dropna().unique()), key="proj_cat", placeholder="全部类别")
owners = f2.multiselect("分管领导", sorted(table.owner_leader.dropna().unique()), key="proj_owner", placeholder="全部")
flags = f3.pills("标记", ["重点", "难点"], selection_mode="multi", key="proj_flags")
view = select(table[table.target.notna()], cats, None, owners, flags)
view = view.sort_values(["p_meet", "projected_completion"], na_position="last").reset_index(drop=True)
st.caption(T["table_caption"].format(n=f"{len(view):,}"))
cols = ["unit", "indicator", "unit_of_measure", "target", "ytd", "projected", "low", "high", "projected_completion",
        "p_meet", "required_pace", "current_pace", "basis", "history_note"]
shown = view[cols].assign(p_meet=view.p_meet * 100)
st.dataframe(shown, hide_index=True, width="stretch", height=480, placeholder="—", key="proj_table",
             column_config={
                 **{k: st.column_config.Column(PROJECTION_LABELS[k]) for k in cols},
                 **{k: st.column_config.NumberColumn(PROJECTION_LABELS[k], format="%,.2f")
                    for k in ("target", "ytd", "projected", "low", "high", "required_pace", "current_pace")},
                 "projected_completion": st.column_config.NumberColumn(PROJECTION_LABELS["projected_completion"],
                                                                       format="%.1f%%"),
                 "p_meet": st.column_config.ProgressColumn(PROJECTION_LABELS["p_meet"], format="%.0f%%",
                                                           min_value=0, max_value=100, help=PROJECTION_HELP["p_meet"]),
             })

with st.expander(T["methodology"]):
    st.markdown("\n".join(f"- **{k}**：{v}" for k, v in (("预计年末", PROJECTION_HELP["projected"]),
                                                         ("80%区间", PROJECTION_HELP["band"]),
                                                         ("完成目标概率", PROJECTION_HELP["p_meet"]),
                                                         ("剩余月均需完成", PROJECTION_HELP["required_pace"]))))
    bt = data.projection_backtest()
    st.caption("回测：在往年（只用该年之前的数据）假设处于第 m 个月，预测当年 12 月值并与实际比较。MASE < 1 表示优于季节朴素法"
               "（上年全年 × 今年累计 ÷ 上年同期累计；速度/比率类为保持当前值）；覆盖率为实际值落在 80% 区间内的比例。")
    st.dataframe(bt.assign(family=bt.family.map(BACKTEST_FAMILIES), method=bt.method.map(PROJECTION_METHODS),
                           coverage=bt.coverage * 100),
                 hide_index=True, width="stretch", height=360, key="proj_backtest",
                 column_config={**{k: st.column_config.Column(v) for k, v in BACKTEST_LABELS.items()},
                                "mase": st.column_config.NumberColumn(BACKTEST_LABELS["mase"], format="%.3f"),
                                "mae": st.column_config.NumberColumn(BACKTEST_LABELS["mae"], format="%.2f"),
                                "naive_mae": st.column_config.NumberColumn(BACKTEST_LABELS["naive_mae"], format="%.2f"),
                                "coverage": st.column_config.NumberColumn(BACKTEST_LABELS["coverage"], format="%.1f%%"),
                                "width": st.column_config.NumberColumn(BACKTEST_LABELS["width"], format="%.2f")})
