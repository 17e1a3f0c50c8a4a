"""保二争一: our chances of 1st / top 2 in the city ranking, the targets that move them most,
scenarios, current vs projected standing, and the township/department at-risk list."""
import altair as alt
import pandas as pd
import streamlit as st

from analytics import simulation
from analytics.scoring import METHODS, consequences
from ui import data, state
from ui.text import NO_DATA, RANKING as T, RANKING_LABELS as L, period_label, probability

state.guard()
st.title(T["title"])
year, period, _ = state.selection()
if not year or not period:
    st.info(NO_DATA)
    st.stop()
DRAWS = simulation.DEFAULT_DRAWS
st.caption(f"{year}年 {period_label(period)} · " + T["intro"].format(draws=DRAWS))


def readable(chart: alt.Chart) -> alt.Chart:
    """Axis, legend and title text at projector size (the default is about 11px light grey)."""
    dark = "#31333f"
    return (chart.configure_axis(labelFontSize=14, titleFontSize=15, labelColor=dark, titleColor=dark)
            .configure_legend(labelFontSize=14, titleFontSize=14, labelColor=dark, titleColor=dark)
            .configure_title(fontSize=18, color=dark))


def cols(frame: pd.DataFrame) -> dict:
    return {k: st.column_config.Column(L.get(k, k)) for k in frame.columns}


@st.fragment
def scenario_panel() -> None:
    base = data.simulation_run(year, period, st.session_state.get("rk_rho", 0.5), DRAWS)
    inp = base.inp
    head = st.container()  # the big numbers first; the sliders below feed them
    with st.expander(T["scenario"], expanded=False):
        st.caption(T["scenario_help"])
        c1, c2, c3 = st.columns(3)
        rho = c1.slider(T["rho"], 0.0, 1.0, 0.5, 0.05, key="rk_rho", help=T["rho_help"])
        honours = c2.slider(T["honours"], 0.0, 3.0, 0.0, 0.5, key="rk_honours")
        avoided = c3.slider(T["avoided"], 0.0, 5.0, 0.0, 0.1, key="rk_avoided")
        sim = data.simulation_run(year, period, rho, DRAWS)
        overrides = {}
        grid = st.columns(4)
        shown = [k for k, c in enumerate(inp.columns) if c.rule.points > 0 and inp.mean[inp.home, k] == inp.mean[inp.home, k]]
        for j, k in enumerate(shown):
            iid, mean = inp.indicator_ids[k], float(inp.mean[inp.home, k])
            lo, hi = max(0.0, round(mean - 25)), round(max(mean + 25, 120))
            v = grid[j % 4].slider(f"{inp.indicator_names[k]}（%）", float(lo), float(hi), round(mean, 1), 0.5,
                                   key=f"rk_{iid}", help=f"预计年末完成率 {mean:.1f}%（{inp.columns[k].rule.text}）")
            if abs(v - round(mean, 1)) > 1e-9:
                overrides[iid] = v
    scenario = simulation.Scenario(overrides, honours, avoided)
    doc = simulation.report(sim, scenario if (overrides or honours or avoided) else None,
                            with_leverage=False)
    m1, m2, m3, m4 = head.columns(4)
    delta = doc.get("baseline")
    m1.metric(T["p_top2"], probability(doc["p_top2"]),
              delta=f"{(doc['p_top2'] - delta['p_top2']) * 100:+.1f} 个百分点" if delta else None)
    m2.metric(T["p_first"], probability(doc["p_first"]),
              delta=f"{(doc['p_first'] - delta['p_first']) * 100:+.1f} 个百分点" if delta else None)
    m3.metric(T["expected_rank"], f"{doc['expected_rank']:.2f}")
    m4.metric(T["expected_score"], f"{doc['expected_score']:.2f}",
              help=f"80% 区间 {doc['score_interval_80'][0]:.2f} ～ {doc['score_interval_80'][1]:.2f} 分")
    peers = pd.DataFrame(doc["peers"])
    ranks = [c for c in peers.columns if c.startswith("p_rank_")]
    long = peers.melt(id_vars=["unit"], value_vars=ranks, var_name="名次", value_name="概率")
    long["名次"] = long["名次"].str.replace("p_rank_", "第") + "名"
    long["概率%"] = long["概率"] * 100
    st.subheader(T["rank_chart"])
    chart = alt.Chart(long, title=f"{T['rank_chart']}（{DRAWS:,} 次模拟）").mark_bar().encode(
        x=alt.X("名次:N", sort=[f"第{i}名" for i in range(1, len(ranks) + 1)], title="名次", axis=alt.Axis(labelAngle=0)),
        xOffset="unit:N", y=alt.Y("概率%:Q", title="概率（%）"),
        color=alt.Color("unit:N", title="单位"), tooltip=["unit", "名次", alt.Tooltip("概率%:Q", format=".1f")])
    st.altair_chart(readable(chart), width="stretch")
    st.caption(T["rank_caption"])
    table = peers[["unit", "p_first", "p_top2", "expected_rank", "expected_score", "score_p10", "score_p90", *ranks]]
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        **cols(table), **{c: st.column_config.NumberColumn(L.get(c, c.replace("p_rank_", "P(第") + "名)"),
                                                            format="percent") for c in ["p_first", "p_top2", *ranks]},
        **{c: st.column_config.NumberColumn(L[c], format="%.2f") for c in
           ["expected_rank", "expected_score", "score_p10", "score_p90"]}})
    if "margin_to_first" in doc:
        mf, mt = doc["margin_to_first"], doc.get("margin_to_third", {})
        st.caption(f"与第一名分差（本县 − 同组最高）：中位数 {mf['median']:+.2f} 分（80% 区间 {mf['p10']:+.2f} ～ {mf['p90']:+.2f}）；"
                   + (f"领先第三名（本县 − 其他县第二高）：中位数 {mt['median']:+.2f} 分" if mt else ""))

    lev_doc = data.leverage(year, period, rho, DRAWS)
    lev = lev_doc["leverage"]
    st.subheader(T["leverage"])
    if lev.empty:
        st.info(NO_DATA)
    else:
        top = lev.head(10).melt(id_vars=["indicator"], value_vars=["d_top2_1pp", "d_first_1pp"],
                                var_name="指标变化", value_name="变化")
        top["指标变化"] = top["指标变化"].map({"d_top2_1pp": "ΔP(前二)", "d_first_1pp": "ΔP(第一)"})
        top["百分点"] = top["变化"] * 100
        st.altair_chart(readable(alt.Chart(top, title=T["leverage_chart"]).mark_bar().encode(
            y=alt.Y("indicator:N", sort=list(lev.head(10).indicator), title="指标", axis=alt.Axis(labelLimit=0)),
            yOffset="指标变化:N", x=alt.X("百分点:Q", title="概率变化（百分点）", axis=alt.Axis(tickCount=10)),
            color=alt.Color("指标变化:N", title=""), tooltip=["indicator", "指标变化", alt.Tooltip("百分点:Q", format=".2f")])),
            width="stretch")
        st.caption(T["leverage_caption"])
        view = lev.drop(columns=["indicator_id"])
        if "method" in view:  # 门槛加排名, not threshold_then_rank
            view["method"] = view.method.map(lambda m: METHODS[m].label if m in METHODS else m)
        st.dataframe(view, hide_index=True, width="stretch", column_config={
            **cols(view), **{c: st.column_config.NumberColumn(L[c], format="%.2f")
                             for c in ["projected_completion", "to_100_pp"]},
            **{c: st.column_config.NumberColumn(L[c], format="percent")
               for c in ["d_top2_1pp", "d_first_1pp", "d_top2_to100", "d_first_to100"]}})
    st.markdown(f"**{T['what']}**：{lev_doc['what_it_takes']['text']}")


scenario_panel()

left, right = st.columns(2)
for col, projected, title in ((left, False, T["current"]), (right, True, T["projected"])):
    scored = data.standing(year, period, "city", projected)
    u = scored.units
    view = u[["peer_group", "name", "total", "rank", "total_text", "missing_targets"]].sort_values(["peer_group", "rank"])
    with col:
        st.subheader(title)
        st.dataframe(view, hide_index=True, width="stretch", column_config={
            **cols(view), "peer_group": st.column_config.Column("组别"),
            "total": st.column_config.NumberColumn("总分", format="%.2f"),
            "rank": st.column_config.NumberColumn("名次", format="%d")})
        home = scored.detail[scored.detail.unit_id.isin(u[u.is_home].unit_id)]
        with st.expander("本县各指标得分与计算过程"):
            st.dataframe(home[["indicator", "completion", "score", "arithmetic", "rule"]], hide_index=True,
                         width="stretch", column_config={
                             "indicator": "指标", "completion": st.column_config.NumberColumn("完成率%", format="%.2f"),
                             "score": st.column_config.NumberColumn("得分", format="%.2f"),
                             "arithmetic": "计算过程", "rule": "计分规则"})

st.subheader(T["risk"])
county = data.standing(year, period, "county", True)
city = data.standing(year, period, "city", True)

risk = consequences(county, city)
probs = data.county_risk(year, period)
c1, c2 = st.columns([3, 2])
c1.dataframe(risk.drop(columns="unit_id"), hide_index=True, width="stretch", column_config=cols(risk))
pview = probs[probs.p_rectify > 0][["unit", "group", "expected_score", "p_last", "p_rectify"]]
c2.dataframe(pview, hide_index=True, width="stretch", column_config={
    **cols(pview), "expected_score": st.column_config.NumberColumn("期望得分", format="%.2f"),
    "p_last": st.column_config.NumberColumn("P(末位)", format="percent"),
    "p_rectify": st.column_config.NumberColumn("P(整改承诺)", format="percent")})
st.caption(T["risk_caption"])
