"""通报导出: choose the period and sections, preview the summary, download the Word bulletin,
the Excel tables and the per-department 预警通知单 (analysts and admins; viewers don't export)."""
from datetime import date

import streamlit as st

from analytics import bulletin as bulletin_mod
from ui import data, state
from ui.text import BULLETIN, NO_DATA, period_label, year_label

state.guard("upload")
st.title(BULLETIN["title"])
st.caption(BULLETIN["intro"])
cat = data.catalog()
years = sorted(cat["years"], reverse=True)
if not years:
    st.info(NO_DATA)
    st.stop()
sel_year, sel_period, _ = state.selection()
c1, c2, c3 = st.columns(3)
year = c1.selectbox("年份", years, index=years.index(sel_year) if sel_year in years else 0,
                    format_func=year_label, key="bul_year")
periods = cat["years"][year][::-1]
period = c2.selectbox(BULLETIN["period"], periods, index=periods.index(sel_period) if sel_period in periods else 0,
                      format_func=period_label, key="bul_period")
issued = c3.date_input(BULLETIN["issued"], value=date.today(), key="bul_issued")
sections = st.multiselect(BULLETIN["sections"], list(bulletin_mod.SECTIONS), default=list(bulletin_mod.SECTIONS),
                          format_func=bulletin_mod.SECTIONS.get, key="bul_sections")
c4, c5 = st.columns([2, 1])
issuer = c4.text_input(BULLETIN["issuer"], value="", placeholder="默认：本县名称 + 目标管理办公室", key="bul_issuer")
charts = c5.checkbox(BULLETIN["charts"], value=True, key="bul_charts", wrap=True)
template = st.file_uploader(BULLETIN["template"], type=["docx"], key="bul_template")

b = data.bulletin(year, period, tuple(sections), charts, issuer.strip() or None, issued)
st.subheader(b.title)
st.markdown(b.summary)
missing = [s.title for s in b.sections if s.missing is not None]
if missing:
    st.warning(BULLETIN["missing"] + "、".join(missing), icon=":material/info:")
offices = b.behind.owner_office.fillna("（未指定责任单位）").nunique() if len(b.behind) else 0
st.caption(BULLETIN["behind"].format(n=len(b.behind), m=offices))

key = (year, period, tuple(sections), charts, issuer, issued, template.file_id if template else None,
       data.version())
if st.button(BULLETIN["generate"], type="primary", key="bul_generate"):
    with st.spinner(BULLETIN["generating"]):
        tpl = template.getvalue() if template else None
        doc, rendered = bulletin_mod.to_docx(b, tpl, charts)
        st.session_state["bul_files"] = {"key": key, "docx": doc, "rendered": rendered,
                                         "xlsx": bulletin_mod.to_xlsx(b), "notices": bulletin_mod.notices_docx(b, tpl)}
files = st.session_state.get("bul_files")
if files and files["key"] == key:
    if charts and b.charts and not files["rendered"]:
        st.warning(BULLETIN["no_charts"] + "未找到可用的图表渲染组件（kaleido/Chromium）或渲染超时。", icon=":material/warning:")
    stem = f"{year}年{period_label(period)}目标任务完成情况通报"
    d1, d2, d3 = st.columns(3)
    d1.download_button(BULLETIN["docx"], files["docx"], f"{stem}.docx",
                       "application/vnd.openxmlformats-officedocument.wordprocessingml.document", key="bul_dl_docx")
    d2.download_button(BULLETIN["xlsx"], files["xlsx"], f"{stem}.xlsx",
                       "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="bul_dl_xlsx")
    d3.download_button(BULLETIN["notices"], files["notices"], f"预警通知单_{year}年{period_label(period)}.docx",
                       "application/vnd.openxmlformats-officedocument.wordprocessingml.document", key="bul_dl_notices")
