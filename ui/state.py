"""Selections shared by every page (year, period, unit), held in session state."""
from __future__ import annotations

import streamlit as st

from analytics.errors import Actor
from analytics.roles import ROLES, can
from ui import auth, data
from ui.text import NO_DATA, period_label


def actor() -> Actor | None:
    """The logged-in user, as the users table has them now (role looked up by user name on
    every run; None when logged out or disabled — every write then refuses)."""
    return auth.current_actor()


def guard(permission: str | None = None) -> Actor:
    """First line of every page: the logged-in Actor, else stop the page.

    app.py's login gate normally runs before any page, but Streamlit runs a file of
    ``pages/`` directly — without app.py — when a fresh server's first request names a
    page URL (its "pages directory" mode stays on until app.py has called st.navigation
    once). So each page checks for itself; ``permission`` as in ``roles.PERMISSIONS``.
    """
    who = actor()
    if who is None:
        st.warning("请先登录")
        st.markdown("[前往登录页](/)")
        st.stop()
    if permission and not can(who, permission):
        st.error(f"当前账户（{ROLES.get(who.role, who.role)}）无权访问此页面")
        st.stop()
    return who


def _choice(label: str, options: list, state_key: str, fmt, help: str | None = None):
    """A selectbox whose choice lives in ``session_state[state_key]``, not in widget state:
    the widget is rebuilt from it on every run, so a page switch, a login or a changed
    option list can never show one value while the pages use another."""
    ss = st.session_state
    current = ss.get(state_key)
    if current not in options:
        current = options[0]
    value = st.selectbox(label, options, index=options.index(current), format_func=fmt, help=help)
    ss[state_key] = value
    return value


def sidebar_selectors() -> None:
    """年份 / 期间 / 单位 in the sidebar; every page reads them through :func:`selection`."""
    cat = data.catalog()
    years = sorted(cat["years"], reverse=True)
    with st.sidebar:
        st.markdown("### 查询条件")
        if not years:
            st.caption("库中暂无数据")
            return
        year = _choice("年份", years, "year", lambda y: f"{y}年")
        periods = cat["years"][year][::-1]  # latest first: the default is the latest reported period
        _choice("期间", periods, "period", period_label, help="截至月份：1-2月合并报送，记为 2")
        units = cat["units"]
        names = dict(zip(units.unit_id, units.name))
        _choice("单位", [None, *units.unit_id], "unit", lambda u: "全部单位" if u is None else names[u])


def selection() -> tuple[int | None, int | None, str | None]:
    ss = st.session_state
    return ss.get("year"), ss.get("period"), ss.get("unit")


def home_unit() -> tuple[str | None, str]:
    """Our own county (is_home) as (unit_id, name)."""
    units = data.catalog()["units"]
    home = units[units.is_home.astype(bool)]
    return (str(home.unit_id.iloc[0]), str(home.name.iloc[0])) if len(home) else (None, "")


def scope() -> tuple[str | None, str]:
    """The unit the overview speaks about: the sidebar's choice, else our own county."""
    units = data.catalog()["units"]
    chosen = st.session_state.get("unit")
    if chosen is not None and chosen in set(units.unit_id):
        return chosen, str(units.loc[units.unit_id == chosen, "name"].iloc[0])
    return home_unit()


def page_selection(permission: str | None = None) -> tuple[int, int, str | None]:
    """The opening of every analysis page: check the login (and ``permission``), then the
    sidebar's (year, period, unit) — or say 暂无数据 and stop when nothing is stored."""
    guard(permission)
    year, period, unit = selection()
    if year is None or period is None:
        st.info(NO_DATA)
        st.stop()
    return year, period, unit
