"""我的账户: who I am, and changing my own password (every role)."""
import streamlit as st

from analytics import auth
from analytics.errors import AnalyticsError
from analytics.roles import ROLES
from ui import auth as gate, state
from ui.text import md

actor = state.guard()
st.title("我的账户")
st.markdown(f"**用户名**：{md(actor.username)}　**姓名**：{md(actor.name or '—')}　**角色**：{ROLES.get(actor.role, actor.role)}")
if flash := st.session_state.pop("account_flash", None):
    st.success(flash)

with st.form("account_password", clear_on_submit=True):
    st.subheader("修改密码")
    old = st.text_input("原密码", type="password", key="account_old", autocomplete="current-password")
    new = st.text_input("新密码", type="password", key="account_new", autocomplete="new-password",
                        help=f"至少 {auth.MIN_PASSWORD} 个字符")
    again = st.text_input("再次输入新密码", type="password", key="account_again", autocomplete="new-password")
    if st.form_submit_button("修改密码", type="primary"):
        if new != again:
            st.error("两次输入的新密码不一致")
        else:
            try:
                auth.change_own_password(actor, old, new)
            except AnalyticsError as e:
                st.error(str(e))
            else:
                gate.renew_login()  # this session stays logged in; every other login ends
                st.session_state["account_flash"] = "密码已修改，下次登录请使用新密码；其他设备上的登录已失效"
                st.rerun()
