"""考核规则 (admin): edit the year's scoring rules (TOML) with validation and a diff preview
before saving; comments and order are kept; every save is audited with before/after text."""
import pandas as pd
import streamlit as st

from analytics import library
from analytics.errors import AnalyticsError
from ui import data, state
from ui.text import RULES, year_label

actor = state.guard("edit_rules")
st.title(RULES["title"])
st.caption(RULES["caption"])
if flash := st.session_state.pop("rules_flash", None):
    st.success(flash)

known = sorted(data.catalog()["years"]) or [pd.Timestamp.now().year]
options = [known[-1] + 1, *known[::-1]]
chosen = st.session_state.get("year")
year = st.selectbox("适用年度", options, index=options.index(chosen) if chosen in options else 1,
                    key="rules_year", format_func=year_label)
current = data.rules_text(year)
st.caption(f"现行规则文件：{library.rules_file(year).name}")
text = st.text_area("规则（TOML）", current, height=480, key=f"rules_text_{year}")
if text == current:
    st.caption("尚未修改")
else:
    try:
        rs = library.check_rules_text(text, f"{year}年规则")
    except AnalyticsError as e:
        st.error(f"校验未通过：{e}", icon=":material/block:")
    else:
        st.success(f"校验通过：{len(rs.rules)} 个指标的规则，合计 {sum(r.points for r in rs.rules.values()):g} 分")
        st.markdown("**与现行规则的差异**")
        st.code(library.rules_diff(year, text), language="diff")
        if st.button("保存规则", type="primary", key="rules_save"):
            try:
                library.save_rules(year, text, actor)
            except AnalyticsError as e:
                st.error(str(e))
            else:
                st.session_state["rules_flash"] = f"已保存 {year} 年规则，并记入审计日志"
                st.rerun()
