"""Router only: page config, first-start database, login, sidebar selectors, navigation.

Pages are filtered by role (a hidden page is not the only guard: every write function
checks the caller's role again): 领导 (viewer) browse; 分析员 (analyst) also upload;
管理员 (admin) also manage users and read the audit log.
"""
import os

# before pyarrow loads (analytics imports pandas): Arrow's C++ code allocates from glibc's malloc,
# not from the mimalloc pool that keeps what it freed resident (see ui/data.py, memory)
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")

import streamlit as st  # noqa: E402

from analytics import db  # noqa: E402
from analytics.roles import can  # noqa: E402
from ui import auth, data, meeting, state  # noqa: E402
from ui.text import APP_TITLE  # noqa: E402

in_meeting = meeting.active()
st.set_page_config(page_title=APP_TITLE, page_icon=":material/target:", layout="wide",
                   initial_sidebar_state="collapsed" if in_meeting else "expanded")
st.html(meeting.BASE_CSS + (meeting.MEETING_CSS if in_meeting else ""))
data.ensure_database(str(db.db_path()))

actor = auth.login_gate()
if actor is None:  # the login form is showing; no page of the app is reachable
    st.navigation([st.Page(lambda: None, title="登录", url_path="login", default=True)], position="hidden")
    st.stop()

# Groups 督查 and 分析 are read-only: they are what meeting mode steps through.
pages = {
    "督查": [st.Page("pages/overview.py", title="总览", icon=":material/dashboard:", url_path="overview", default=True),
           st.Page("pages/gap.py", title="进度差距", icon=":material/stacked_bar_chart:", url_path="gap"),
           st.Page("pages/owners.py", title="责任落实", icon=":material/groups:", url_path="owners"),
           st.Page("pages/warnings.py", title="早报告、早预警", icon=":material/notification_important:", url_path="warnings")],
    "分析": [st.Page("pages/projection.py", title="年终预测", icon=":material/trending_up:", url_path="projection")],
    "数据": [st.Page("pages/browse.py", title="数据浏览", icon=":material/table_view:", url_path="browse"),
           st.Page("pages/quality.py", title="数据质量", icon=":material/fact_check:", url_path="quality")],
}
pages["分析"].append(st.Page("pages/ranking.py", title="保二争一", icon=":material/emoji_events:", url_path="ranking"))
if can(actor, "upload"):
    pages["数据"].append(st.Page("pages/upload.py", title="数据上传", icon=":material/upload_file:", url_path="upload"))
    pages["数据"].append(st.Page("pages/bulletin.py", title="通报导出", icon=":material/description:", url_path="bulletin"))
# 管理数据: the year's library, targets, adjustments (analysts); rules and period locks (admins)
if can(actor, "edit_data"):
    pages["管理数据"] = [
        st.Page("pages/library.py", title="指标库与目标", icon=":material/library_books:", url_path="library"),
        st.Page("pages/adjustments.py", title="加减分事项", icon=":material/exposure:", url_path="adjustments")]
if can(actor, "edit_rules"):
    pages["管理数据"].append(st.Page("pages/rules.py", title="考核规则", icon=":material/rule:", url_path="rules"))
if can(actor, "lock_period"):
    pages["管理数据"].append(st.Page("pages/periods.py", title="报告期锁定", icon=":material/lock:", url_path="periods"))
if can(actor, "manage_users"):
    pages["管理"] = [st.Page("pages/users.py", title="用户管理", icon=":material/group:", url_path="users"),
                   st.Page("pages/audit.py", title="审计日志", icon=":material/history:", url_path="audit")]
pages.setdefault("账户", []).append(st.Page("pages/account.py", title="我的账户", icon=":material/key:", url_path="account"))
pages = {group: items for group, items in pages.items() if items}
nav = st.navigation(pages, position="hidden" if in_meeting else "sidebar", expanded=True)
state.sidebar_selectors()
if in_meeting:
    meeting.pager([p for group in ("督查", "分析") for p in pages.get(group, [])], nav)
with data.script_run():  # big cached frames unpacked for the runs under way, memory released after
    nav.run()
