"""Router only: page config, first-start database, login, sidebar selectors, navigation.

Pages are filtered by role (a hidden page is not the only guard: every write function
checks the caller's role again): 领导 (viewer) browse; 分析员 (analyst) also upload;
管理员 (admin) also manage users and read the audit log.
"""
import streamlit as st

from analytics import db
from analytics.roles import can
from ui import auth, data, state
from ui.text import APP_TITLE

st.set_page_config(page_title=APP_TITLE, page_icon=":material/target:", layout="wide")
data.ensure_database(str(db.db_path()))

actor = auth.login_gate()
if actor is None:  # the login form is showing; no page of the app is reachable
    st.navigation([st.Page(lambda: None, title="登录", url_path="login", default=True)], position="hidden")
    st.stop()

pages = {"数据": [st.Page("pages/browse.py", title="数据浏览", icon=":material/table_view:", url_path="browse", default=True)]}
if can(actor, "upload"):
    pages["数据"].append(st.Page("pages/upload.py", title="数据上传", icon=":material/upload_file:", url_path="upload"))
if can(actor, "manage_users"):
    pages["管理"] = [st.Page("pages/users.py", title="用户管理", icon=":material/group:", url_path="users"),
                   st.Page("pages/audit.py", title="审计日志", icon=":material/history:", url_path="audit")]
pages.setdefault("账户", []).append(st.Page("pages/account.py", title="我的账户", icon=":material/key:", url_path="account"))
nav = st.navigation(pages)
state.sidebar_selectors()
nav.run()
