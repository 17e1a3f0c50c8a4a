"""The login gate and role-filtered navigation under AppTest, including forged session
state: setting ``authentication_status``/``username`` (what streamlit-authenticator keeps in
the session) for a leader shows no upload page, and the upload action itself still refuses;
the role always comes from the users table."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from streamlit.testing.v1 import AppTest

from analytics import auth, db
from analytics.ingest import ingest_bytes
from analytics.errors import PermissionDenied

OVERVIEW_TITLE = "清河县2026年1-9月目标任务完成情况"  # the default page, 总览
READ_PAGES = {"overview.py", "gap.py", "owners.py", "warnings.py", "browse.py", "account.py"}  # every role
WRITE_PAGES = {"upload.py", "users.py", "audit.py"}  # by role only
CSV = "年份,期间,单位,指标,计量单位,口径,目标值,数值\n2026,10,清河县,一般公共预算收入,万元,累计,,91234\n"






ADMIN = auth.Actor("admin", "admin")


@pytest.fixture
def browser_cookies(monkeypatch) -> dict:
    """The cookies the browser sends. AppTest cannot send any, so the session's client
    context — what ``st.context.cookies``, and so streamlit-authenticator, reads — is one
    carrying this dict."""
    from streamlit.runtime import context
    cookies: dict[str, str] = {}
    monkeypatch.setattr(context, "_get_client_context",
                        lambda: SimpleNamespace(headers=[], cookies=cookies, remote_ip=None))
    return cookies


def login_cookie(username: str, issued: datetime, days: float = 1) -> str:
    """The login cookie streamlit-authenticator set (a JWT of the user name and the expiry,
    signed with the app's key, no issue time): made by a JWT library, not by our own code."""
    import jwt
    return jwt.encode({"username": username, "exp_date": (issued + timedelta(days=days)).timestamp()},
                      auth.cookie_key(), algorithm="HS256")


def log_in(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input(key="auth_login_user").input(username)
    at.text_input(key="auth_login_password").input(password)
    return at.button[0].click().run()


def app(**session) -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=60)
    for k, v in session.items():
        at.session_state[k] = v
    return at.run()


def as_user(username: str, **extra) -> AppTest:
    """A session forced to look logged in, as a crafted request would try."""
    return app(authentication_status=True, username=username, **extra)


def pages(at: AppTest) -> set[str]:
    """The page files the navigation registered for this session."""
    return {Path(str(info["script_path"])).name for info in at._registered_pages.values()
            if info.get("script_path")}


def audit(path, action=None) -> list[tuple]:
    with db.connect(path) as con:
        return con.execute("SELECT username, action FROM audit_log WHERE ?::VARCHAR IS NULL OR action = ? "
                           "ORDER BY audit_id", [action, action]).fetchall()


def uploads(path) -> int:
    with db.connect(path) as con:
        return db.one(con, "SELECT count(*) FROM uploads")[0]


def test_logged_out_sees_only_the_login_form(app_db):
    at = app()
    assert not at.exception
    assert [t.value for t in at.title] == ["目标督查分析"]
    assert [t.label for t in at.text_input] == ["用户名", "密码"]
    assert not at.dataframe
    with pytest.raises(ValueError):
        at.switch_page("pages/browse.py")


def test_login_form_wrong_then_right(app_db):
    at = app()
    at.text_input(key="auth_login_user").input("analyst")
    at.text_input(key="auth_login_password").input("nope-nope")
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["用户名或密码错误，或账户已停用"]
    assert audit(app_db, "login_failed") == [("analyst", "login_failed")]
    at.text_input(key="auth_login_user").input("analyst")
    at.text_input(key="auth_login_password").input("analyst123")
    at.button[0].click().run()
    assert not at.exception and not at.error
    assert [t.value for t in at.title] == [OVERVIEW_TITLE]
    assert at.session_state["username"] == "analyst"
    assert "当前用户：目标办分析员（演示）（分析员）" in [c.value for c in at.sidebar.caption]
    assert "upload.py" in pages(at)


def test_forced_viewer_session_has_no_upload_page(app_db):
    at = as_user("leader", roles=["admin"])  # a forged role in the session counts for nothing
    assert not at.exception
    assert [t.value for t in at.title] == [OVERVIEW_TITLE]
    assert pages(at) & WRITE_PAGES == set() and READ_PAGES <= pages(at)
    with pytest.raises(ValueError):
        at.switch_page("pages/upload.py")


def test_forced_viewer_calling_the_upload_action_is_refused(app_db):
    """What the upload page does on its button — ingest with ``state.actor()`` — refuses for
    the leader, even when the page is run directly, bypassing the navigation."""
    def action(csv_text):
        import streamlit as st

        from analytics.errors import AnalyticsError
        from analytics.ingest import ingest_bytes
        from ui import state
        try:
            ingest_bytes(csv_text.encode(), "越权.csv", state.actor())
        except AnalyticsError as e:
            st.error(f"{type(e).__name__}: {e}")

    before = uploads(app_db)
    at = AppTest.from_function(action, args=(CSV,), default_timeout=60)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = "leader"
    at.session_state["roles"] = ["analyst"]
    at.run()
    assert [e.value for e in at.error] == ["PermissionDenied: leader（领导（只读））无权执行「upload」操作"]

    page = AppTest.from_file("../pages/upload.py", default_timeout=60)
    page.session_state["authentication_status"] = True
    page.session_state["username"] = "leader"
    page.run()
    if page.file_uploader:  # the page's own button, if the page renders it for this session
        page.file_uploader[0].upload("越权.csv", CSV.encode(), "text/csv").run()
        buttons = [b for b in page.button if b.label == "校验并入库"]
        if buttons:
            buttons[0].click().run()
    assert uploads(app_db) == before
    assert not [a for a in audit(app_db) if a[0] == "leader" and a[1] != "login_failed"]


def test_no_login_means_no_actor(app_db):
    from ui import state  # noqa: F401 - the import alone must not invent a user

    def action():
        import streamlit as st

        from ui import state
        st.write(repr(state.actor()))

    at = AppTest.from_function(action, default_timeout=60).run()
    assert not at.exception and at.markdown[0].value == "None"
    with pytest.raises(PermissionDenied):
        ingest_bytes(CSV.encode(), "x.csv", None)


def test_disabled_or_unknown_user_session_is_sent_to_login(app_db):
    auth.set_disabled(auth.Actor("admin", "admin"), "analyst", True, app_db)
    for who in ("analyst", "ghost"):
        at = as_user(who)
        assert not at.exception
        assert [t.value for t in at.title] == ["目标督查分析"], who
        assert [t.label for t in at.text_input] == ["用户名", "密码"]
        assert at.session_state["authentication_status"] is None


def test_role_change_ends_the_session_and_the_next_login_has_the_new_role(app_db):
    at = as_user("leader")
    assert "upload.py" not in pages(at)
    auth.change_role(ADMIN, "leader", "analyst", app_db)
    at.run()
    assert [t.label for t in at.text_input] == ["用户名", "密码"] and not at.warning
    log_in(at, "leader", "leader123")
    assert not at.exception and "upload.py" in pages(at)


def test_cookie_issued_before_a_password_reset_no_longer_logs_in(app_db, browser_cookies):
    before = datetime.now()
    browser_cookies["mubiao_auth"] = login_cookie("leader", before)
    at = app()  # the cookie logs in ...
    assert [t.value for t in at.title] == [OVERVIEW_TITLE]
    assert at.session_state["auth_issued_at"] == pytest.approx(before.timestamp(), abs=1e-3)

    auth.reset_password(ADMIN, "leader", "reset-by-admin", app_db)
    after = datetime.now()
    at = app()  # ... until the password is reset: a reload shows the login form
    assert not at.exception
    assert [t.value for t in at.title] == ["目标督查分析"]
    assert [t.label for t in at.text_input] == ["用户名", "密码"]
    assert at.session_state["authentication_status"] is not True

    browser_cookies["mubiao_auth"] = login_cookie("leader", after)  # issued after the reset
    at = app()
    assert [t.value for t in at.title] == [OVERVIEW_TITLE]
    assert at.session_state["username"] == "leader"


def test_cookie_issued_before_disabling_stays_refused_once_enabled_again(app_db, browser_cookies):
    browser_cookies["mubiao_auth"] = login_cookie("leader", datetime.now())
    auth.set_disabled(ADMIN, "leader", True, app_db)
    auth.set_disabled(ADMIN, "leader", False, app_db)
    at = app()
    assert [t.label for t in at.text_input] == ["用户名", "密码"]


def test_open_session_ends_when_an_admin_resets_the_password(app_db):
    at = as_user("leader")
    assert [t.value for t in at.title] == [OVERVIEW_TITLE]
    auth.reset_password(ADMIN, "leader", "reset-by-admin", app_db)
    at.run()
    assert [t.label for t in at.text_input] == ["用户名", "密码"]
    log_in(at, "leader", "reset-by-admin")
    assert [t.value for t in at.title] == [OVERVIEW_TITLE]


def test_locked_login_shows_when_to_retry(app_db):
    for i in range(4):
        assert auth.verify_login("leader", f"wrong-{i}", app_db) is None
    with pytest.raises(auth.LoginLocked) as locked:
        auth.verify_login("leader", "wrong-4", app_db)
    at = log_in(app(), "leader", "leader123")  # the right password, during the lock-out
    assert [e.value for e in at.error] == [str(locked.value)]
    assert "请于" in str(locked.value) and at.session_state["authentication_status"] is not True


def test_analyst_can_upload_through_the_page(app_db):
    at = as_user("analyst")
    assert pages(at) & WRITE_PAGES == {"upload.py"} and READ_PAGES <= pages(at)
    at.switch_page("pages/upload.py").run()
    assert [t.value for t in at.title] == ["数据上传"]
    before = uploads(app_db)
    at.file_uploader[0].upload("分析员.csv", CSV.encode(), "text/csv").run()
    next(b for b in at.button if b.label == "校验并入库").click().run()
    assert not at.exception
    assert uploads(app_db) == before + 1
    assert audit(app_db)[-1] == ("analyst", "upload")
    # the upload computed what leaders open first, kept for the new data version: the next
    # viewer's gap table, 进度差距 table (ordered, with flag counts) and quality flags are read back
    kept = sorted(p.name.split("-")[0] for p in Path(str(app_db) + ".derived").glob("*.arrow"))
    assert kept == ["gap", "gap_ranked", "quality"], kept


def test_admin_pages(app_db):
    at = as_user("admin")
    assert pages(at) & WRITE_PAGES == WRITE_PAGES and READ_PAGES <= pages(at)
    at.switch_page("pages/users.py").run()
    assert not at.exception and [t.value for t in at.title] == ["用户管理"]
    assert set(at.dataframe[0].value.username) == {"leader", "analyst", "admin"}
    at.text_input(key="users_add_name").input("wang")
    at.text_input(key="users_add_display").input("王科长")
    at.selectbox(key="users_add_role").set_value("analyst")
    at.text_input(key="users_add_password").input("wang-pass-1")
    next(b for b in at.button if b.label == "新增").click().run()
    assert not at.exception and not at.error
    assert [s.value for s in at.success] == ["已新增用户 wang"]
    assert audit(app_db)[-1] == ("admin", "user_add")
    assert auth.verify_login("wang", "wang-pass-1", app_db).role == "analyst"

    at.switch_page("pages/audit.py").run()
    assert not at.exception and [t.value for t in at.title] == ["审计日志"]
    shown = at.dataframe[0].value
    assert shown.iloc[0]["user"] == "admin" and shown.iloc[0]["action"] == "user_add"
    assert at.get("download_button")


def test_admin_pages_refuse_a_non_admin_run_directly(app_db):
    for script in ("../pages/users.py", "../pages/audit.py"):
        at = AppTest.from_file(script, default_timeout=60)
        at.session_state["authentication_status"] = True
        at.session_state["username"] = "analyst"
        at.run()
        assert at.error and not at.dataframe, script


def test_change_own_password_page(app_db):
    at = as_user("leader")
    at.switch_page("pages/account.py").run()
    assert [t.value for t in at.title] == ["我的账户"]
    at.text_input(key="account_old").input("leader123")
    at.text_input(key="account_new").input("leader-new-1")
    at.text_input(key="account_again").input("leader-new-1")
    next(b for b in at.button if b.label == "修改密码").click().run()
    assert not at.exception and not at.error
    assert [s.value for s in at.success] == ["密码已修改，下次登录请使用新密码；其他设备上的登录已失效"]
    assert audit(app_db)[-1] == ("leader", "password_change")
    assert auth.verify_login("leader", "leader-new-1", app_db) is not None


def test_own_password_change_keeps_this_session_and_ends_the_others(app_db):
    other, this = as_user("leader"), as_user("leader")
    this.switch_page("pages/account.py").run()
    this.text_input(key="account_old").input("leader123")
    this.text_input(key="account_new").input("leader-new-1")
    this.text_input(key="account_again").input("leader-new-1")
    next(b for b in this.button if b.label == "修改密码").click().run()
    assert [s.value for s in this.success] == ["密码已修改，下次登录请使用新密码；其他设备上的登录已失效"]
    this.run()
    assert [t.value for t in this.title] == ["我的账户"] and this.session_state["username"] == "leader"
    other.run()
    assert [t.label for t in other.text_input] == ["用户名", "密码"]


def test_logout(app_db):
    at = as_user("leader")
    at.sidebar.button(key="auth_logout").click().run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["用户名", "密码"]
    assert not at.session_state["authentication_status"]
    at.run()
    assert [t.value for t in at.title] == ["目标督查分析"]


PAGES = sorted(p.name for p in (Path(__file__).resolve().parent.parent / "pages").glob("*.py"))


@pytest.mark.parametrize("page", PAGES)
def test_cold_server_page_request_still_needs_login(demo_db, tmp_path, monkeypatch, page):
    """A fresh server runs pages/<file>.py directly (without app.py, so without the login
    gate) when its first request names a page URL; every page guards itself."""
    monkeypatch.setenv("TARGETS_SECRETS_DIR", str(tmp_path / "secrets"))
    at = AppTest.from_file(f"../pages/{page}", default_timeout=60).run()
    assert not at.exception
    assert [w.value for w in at.warning] == ["请先登录"]
    assert not at.dataframe and not at.title and not at.file_uploader
