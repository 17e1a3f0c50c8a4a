"""Selections shared by every page (year, period, unit), held in session state."""
from __future__ import annotations

import streamlit as st

from analytics.errors import Actor
from ui import data
from ui.text import period_label


def actor() -> Actor:
    """The signed-in user (login arrives with the accounts issue; until then a local analyst)."""
    return st.session_state.setdefault("actor", Actor("local", "analyst", "本机分析员"))


def sidebar_selectors() -> None:
    cat = data.catalog()
    years = sorted(cat["years"], reverse=True)
    with st.sidebar:
        st.markdown("### 查询条件")
        if not years:
            st.caption("库中暂无数据")
            return
        ss = st.session_state
        if ss.get("year") not in years:
            ss["year"] = years[0]
        year = st.selectbox("年份", years, key="year", format_func=lambda y: f"{y}年")
        periods = cat["years"][year]
        if ss.get("period") not in periods:
            ss["period"] = periods[-1]
        st.selectbox("期间", periods, key="period", format_func=period_label,
                     help="截至月份：1-2月合并报送，记为 2")
        units = cat["units"]
        options = [None] + list(units.unit_id)
        names = dict(zip(units.unit_id, units.name))
        if ss.get("unit") not in options:
            ss["unit"] = None
        st.selectbox("单位", options, key="unit", format_func=lambda u: "全部单位" if u is None else names[u])


def selection() -> tuple[int | None, int | None, str | None]:
    ss = st.session_state
    return ss.get("year"), ss.get("period"), ss.get("unit")
