"""用户管理 (admin): add, disable/enable, reset password, change role. Every change is one
audited write checked again by analytics.auth (a hidden page is not the only guard)."""
import streamlit as st

from analytics import auth
from analytics.errors import AnalyticsError
from analytics.roles import ROLES
from ui import state
from ui.text import NO_DATA, USER_LABELS

actor = state.guard("manage_users")
st.title("用户管理")
st.caption("角色：领导（只读）只能浏览；分析员可上传、修正数据；管理员另可管理用户、规则并查看审计日志。"
           "账户只停用不删除，审计日志始终能对应到具体的人；每项更改都记入审计日志（不记录密码）。"
           "重置密码、停用或更改角色后，该用户已有的登录随即失效；重置密码同时解除其登录锁定。")

if flash := st.session_state.pop("users_flash", None):
    st.success(flash)


def run(fn, done: str, *args) -> None:
    try:
        fn(actor, *args)
    except AnalyticsError as e:
        st.error(str(e))
    else:
        st.session_state["users_flash"] = done
        st.rerun()


users = auth.list_users()
if users.empty:
    st.info(NO_DATA)
else:
    view = users.assign(role=users.role.map(lambda r: ROLES.get(r, r)),
                        disabled=users.disabled.map({True: "已停用", False: "启用"}))
    st.dataframe(view, hide_index=True, width="stretch",
                 column_config={k: st.column_config.Column(v) for k, v in USER_LABELS.items()} | {
                     "created_at": st.column_config.DatetimeColumn(USER_LABELS["created_at"], format="YYYY-MM-DD HH:mm"),
                     "password_changed_at": st.column_config.DatetimeColumn(
                         USER_LABELS["password_changed_at"], format="YYYY-MM-DD HH:mm")})

names = list(users.username)
role_keys = list(ROLES)
add, disable, reset, role = st.tabs(["新增用户", "停用 / 启用", "重置密码", "更改角色"])
with add, st.form("users_add", clear_on_submit=True):
    c1, c2, c3 = st.columns(3)
    username = c1.text_input("用户名", key="users_add_name", help="小写字母、数字或 _ . @ -，2–64 位")
    name = c2.text_input("姓名", key="users_add_display")
    new_role = c3.selectbox("角色", role_keys, format_func=ROLES.get, key="users_add_role")
    password = st.text_input("初始密码", type="password", key="users_add_password",
                             help=f"至少 {auth.MIN_PASSWORD} 个字符；请通知用户登录后在“我的账户”中修改")
    if st.form_submit_button("新增", type="primary"):
        run(auth.add_user, f"已新增用户 {username.strip().lower()}", username, name, new_role, password)
with disable, st.form("users_disable"):
    who = st.selectbox("用户", names, key="users_disable_who")
    c1, c2 = st.columns(2)
    if c1.form_submit_button("停用", type="primary"):
        run(auth.set_disabled, f"已停用 {who}", who, True)
    if c2.form_submit_button("重新启用"):
        run(auth.set_disabled, f"已启用 {who}", who, False)
with reset, st.form("users_reset", clear_on_submit=True):
    who = st.selectbox("用户", names, key="users_reset_who")
    password = st.text_input("新密码", type="password", key="users_reset_password")
    if st.form_submit_button("重置密码", type="primary"):
        run(auth.reset_password, f"已重置 {who} 的密码", who, password)
with role, st.form("users_role"):
    c1, c2 = st.columns(2)
    who = c1.selectbox("用户", names, key="users_role_who")
    new_role = c2.selectbox("新角色", role_keys, format_func=ROLES.get, key="users_role_role")
    if st.form_submit_button("更改角色", type="primary"):
        run(auth.change_role, f"已将 {who} 的角色改为{ROLES[new_role]}", who, new_role)
