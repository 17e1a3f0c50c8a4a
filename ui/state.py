"""Selections shared by every page (year, period, unit), held in session state."""
from __future__ import annotations

import streamlit as st

from analytics.errors import Actor
from analytics.roles import ROLES, can
from ui import auth, data
from ui.text import NO_DATA, md, period_label


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


def _resolve(state_key: str, options: list):
    """The choice in ``session_state[state_key]``, or the first option if it is not one (a
    changed option list); stored back, so that the pages read what the sidebar shows."""
    value = st.session_state.get(state_key)
    if value not in options:
        value = options[0]
    st.session_state[state_key] = value
    return value


_NONE = "\x00"  # the widget's stand-in for the option None (全部单位)


def _choice(label: str, options: list, state_key: str, fmt, help: str | None = None) -> None:
    """A selectbox showing ``session_state[state_key]``; a change is stored there by the
    widget's callback, which runs before the next script run: the pages and the sidebar's
    summary read the new choice in that run. The choice lives in ``state_key``, not in widget
    state: a page switch, a login or a changed option list can never show one value while the
    pages use another."""
    ss = st.session_state
    widget = f"sidebar_{state_key}"
    shown = [_NONE if option is None else option for option in options]  # a widget holding None shows no choice
    ss[widget] = _NONE if ss[state_key] is None else ss[state_key]
    st.selectbox(label, shown, key=widget, format_func=lambda option: fmt(None if option == _NONE else option),
                 help=help, on_change=lambda: ss.__setitem__(state_key, None if ss[widget] == _NONE else ss[widget]))


def sidebar_selectors() -> None:
    """年份 / 期间 / 单位 in the sidebar, in a popover whose button shows the choice (the
    selectboxes' script is loaded when it is first opened, not on every first view: ~70 ms);
    every page reads them through :func:`selection`."""
    cat = data.catalog()
    years = sorted(cat["years"], reverse=True)
    with st.sidebar:
        st.markdown("### 查询条件")
        if not years:
            st.caption("库中暂无数据")
            return
        units = cat["units"]
        names = dict(zip(units.unit_id, units.name))
        unit_options = [None, *units.unit_id]

        def year_label(y):
            return f"{y}年"

        def unit_label(u):
            return "全部单位" if u is None else names[u]

        year = _resolve("year", years)
        periods = cat["years"][year][::-1]  # latest first: the default is the latest reported period
        period = _resolve("period", periods)
        unit = _resolve("unit", unit_options)
        with st.popover(f"{year_label(year)}{period_label(period)} · {md(unit_label(unit))}", icon=":material/tune:",
                        width="stretch", key="sidebar_query"):
            _choice("年份", years, "year", year_label)
            _choice("期间", periods, "period", period_label, help="截至月份：1-2月合并报送，记为 2")
            _choice("单位", unit_options, "unit", unit_label)


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
