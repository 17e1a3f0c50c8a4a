"""Accounts and role enforcement (analytics.auth, analytics.roles): each role × each write
path allowed or refused; every allowed write leaves exactly one audit entry naming the
caller, every refused one leaves the database as it was; login failures are audited;
disabled users are refused; passwords change; the session lifetime reaches the gate."""
from __future__ import annotations

import json
import os
import shutil
import stat
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from analytics import auth, db
from analytics.errors import Actor, AnalyticsError, PermissionDenied
from analytics.ingest import ingest_bytes, withdraw_upload
from tests.conftest import SMALL_INDICATORS, SMALL_UNITS, content

HEADER = "年份,期间,单位,指标,计量单位,口径,目标值,数值\n"
LONG_CSV = HEADER + "2026,3,清河县,固定资产投资,亿元,ytd,,31.5\n"
EARLIER_CSV = HEADER + "2026,2,清河县,固定资产投资,亿元,ytd,,20.1\n"

LEADER = Actor("leader", "viewer", "县领导（演示）")
ANALYST = Actor("analyst", "analyst", "目标办分析员（演示）")
ADMIN = Actor("admin", "admin", "系统管理员（演示）")
BY_ROLE = {"viewer": LEADER, "analyst": ANALYST, "admin": ADMIN}


@pytest.fixture(autouse=True)
def fast_hashes(monkeypatch):
    """bcrypt at 2^4 rounds: the same code path, a thousandth of the time."""
    monkeypatch.setattr(auth, "BCRYPT_ROUNDS", 4)


@pytest.fixture(scope="session")
def users_template(tmp_path_factory) -> Path:
    """Built once: the small reference library, one upload of values (by the admin) and the
    three demo users (leader, analyst, admin)."""
    path = tmp_path_factory.mktemp("users") / "users.duckdb"
    for name, text in (("units.csv", SMALL_UNITS), ("indicators.csv", SMALL_INDICATORS),
                       ("清河县2月.csv", EARLIER_CSV)):
        report = ingest_bytes(text.encode(), name, ADMIN, path=path)
        assert report.status == "stored", report.problems
    rounds, auth.BCRYPT_ROUNDS = auth.BCRYPT_ROUNDS, 4
    try:
        assert auth.seed_demo_users(path)
    finally:
        auth.BCRYPT_ROUNDS = rounds
    return path


@pytest.fixture
def users_db(users_template, tmp_path, monkeypatch) -> Path:
    """A private copy of :func:`users_template`, also made the default (TARGETS_DB)."""
    path = tmp_path / "users.duckdb"
    shutil.copy(users_template, path)
    monkeypatch.setenv("TARGETS_DB", str(path))
    return path


def audit_rows(path) -> list[tuple]:
    with db.connect(path) as con:
        return con.execute("SELECT username, action, detail FROM audit_log ORDER BY audit_id").fetchall()


def last_upload(path) -> int:
    with db.connect(path) as con:
        return db.one(con, "SELECT max(upload_id) FROM uploads")[0]


# Each write path: (name, permission, call(actor, path) → runs the write once).
WRITES = {
    "upload": ("upload", lambda a, p: ingest_bytes(LONG_CSV.encode(), "清河县3月.csv", a, path=p)),
    "withdraw": ("withdraw", lambda a, p: withdraw_upload(last_upload(p), a, "测试撤回", path=p)),
    "user_add": ("manage_users", lambda a, p: auth.add_user(a, "wang", "王科长", "viewer", "wang-pass-1", p)),
    "user_disable": ("manage_users", lambda a, p: auth.set_disabled(a, "analyst", True, p)),
    "user_reset_password": ("manage_users", lambda a, p: auth.reset_password(a, "leader", "new-leader-pw", p)),
    "user_change_role": ("manage_users", lambda a, p: auth.change_role(a, "leader", "analyst", p)),
    "password_change": ("own_account", lambda a, p: auth.change_own_password(
        a, f"{a.username}123" if a else "", "brand-new-pw", p)),
}
ALLOWED = {  # the role table of issue 5, written out (not derived from roles.PERMISSIONS)
    "viewer": {"password_change"},
    "analyst": {"password_change", "upload", "withdraw"},
    "admin": set(WRITES),
}


@pytest.mark.parametrize("role", ["viewer", "analyst", "admin"])
@pytest.mark.parametrize("write", list(WRITES))
def test_role_matrix(users_db, role, write):
    actor = BY_ROLE[role]
    _, call = WRITES[write]
    before_rows, before = audit_rows(users_db), content(users_db)
    if write in ALLOWED[role]:
        call(actor, users_db)
        new = audit_rows(users_db)[len(before_rows):]
        assert len(new) == 1, new
        assert new[0][0] == actor.username
        assert new[0][1] == write
    else:
        with pytest.raises(PermissionDenied):
            call(actor, users_db)
        assert content(users_db) == before  # nothing written, not even an audit entry


def test_no_actor_is_refused_everywhere(users_db):
    before = content(users_db)
    for _, call in WRITES.values():
        with pytest.raises(PermissionDenied):
            call(None, users_db)
    assert content(users_db) == before


def test_forged_actor_role_does_not_come_from_the_session(users_db):
    """The app builds the Actor from the users table: a session claiming admin for the
    leader still gets the viewer role, and upload refuses."""
    actor = auth.actor_for("leader", users_db)
    assert actor == Actor("leader", "viewer") and actor.role == "viewer"
    with pytest.raises(PermissionDenied):
        ingest_bytes(LONG_CSV.encode(), "x.csv", actor, path=users_db)
    assert auth.actor_for("LEADER ", users_db).username == "leader"
    assert auth.actor_for("nobody", users_db) is None
    assert auth.actor_for("", users_db) is None


def test_demo_users_seeded_once_with_bcrypt_hashes(small_db):
    assert auth.seed_demo_users(small_db) is True
    assert auth.seed_demo_users(small_db) is False
    users = auth.list_users(small_db)
    assert dict(zip(users.username, users.role)) == {"leader": "viewer", "analyst": "analyst", "admin": "admin"}
    assert "password_hash" not in users.columns
    with db.connect(small_db) as con:
        hashes = dict(con.execute("SELECT username, password_hash FROM users").fetchall())
    assert all(h.startswith("$2b$") for h in hashes.values())
    seeds = [r for r in audit_rows(small_db) if r[1] == "users_seed"]
    assert len(seeds) == 1 and seeds[0][0] == "system"
    for username, _, role, password in auth.DEMO_USERS:
        assert auth.verify_login(username, password, small_db) == Actor(username, role)
    text = json.dumps(audit_rows(small_db), ensure_ascii=False)
    assert "$2b$" not in text and "leader123" not in text


@pytest.mark.parametrize("username, password, reason", [
    ("leader", "wrong-password", "wrong_password"),
    ("nobody", "leader123", "unknown_user"),
    ("", "", "unknown_user"),
])
def test_login_failure_is_audited(users_db, username, password, reason):
    before = len(audit_rows(users_db))
    assert auth.verify_login(username, password, users_db) is None
    new = audit_rows(users_db)[before:]
    assert len(new) == 1
    assert new[0][0] == (username or "（空）") and new[0][1] == "login_failed"
    assert json.loads(new[0][2]) == {"reason": reason}
    assert password not in new[0][2] or not password


def test_login_success_is_case_insensitive_and_not_audited(users_db):
    before = len(audit_rows(users_db))
    assert auth.verify_login(" Analyst", "analyst123", users_db) == Actor("analyst", "analyst")
    assert len(audit_rows(users_db)) == before


def test_disabled_user_is_refused_and_can_be_enabled_again(users_db):
    auth.set_disabled(ADMIN, "analyst", True, users_db)
    assert auth.verify_login("analyst", "analyst123", users_db) is None
    assert audit_rows(users_db)[-1][:2] == ("analyst", "login_failed")
    assert json.loads(audit_rows(users_db)[-1][2]) == {"reason": "disabled"}
    assert auth.actor_for("analyst", users_db) is None  # open sessions lose their rights too
    assert "analyst" not in auth.credentials(users_db)["usernames"]
    auth.set_disabled(ADMIN, "analyst", False, users_db)
    assert auth.verify_login("analyst", "analyst123", users_db) == Actor("analyst", "analyst")
    assert [r[1] for r in audit_rows(users_db)[-2:]] == ["login_failed", "user_enable"]


def test_password_change(users_db):
    with pytest.raises(AnalyticsError, match="原密码不正确"):
        auth.change_own_password(LEADER, "not-it", "brand-new-pw", users_db)
    with pytest.raises(AnalyticsError, match="至少"):
        auth.change_own_password(LEADER, "leader123", "short", users_db)
    before = len(audit_rows(users_db))
    auth.change_own_password(LEADER, "leader123", "brand-new-pw", users_db)
    assert auth.verify_login("leader", "brand-new-pw", users_db) == LEADER
    assert auth.verify_login("leader", "leader123", users_db) is None
    entries = audit_rows(users_db)[before:]
    assert [e[:2] for e in entries] == [("leader", "password_change"), ("leader", "login_failed")]
    detail = json.loads(entries[0][2])
    assert detail["username"] == "leader" and set(detail) == {"username", "before", "after"}
    assert "brand-new-pw" not in entries[0][2] and "$2b$" not in entries[0][2]


def test_reset_password_by_admin(users_db):
    auth.reset_password(ADMIN, "leader", "reset-by-admin", users_db)
    assert auth.verify_login("leader", "reset-by-admin", users_db) == LEADER
    user, action, detail = audit_rows(users_db)[-1]
    assert (user, action) == ("admin", "user_reset_password")
    assert "reset-by-admin" not in detail and "$2b$" not in detail


def test_change_role_records_before_and_after(users_db):
    auth.change_role(ADMIN, "leader", "analyst", users_db)
    assert auth.actor_for("leader", users_db).role == "analyst"
    user, action, detail = audit_rows(users_db)[-1]
    assert (user, action) == ("admin", "user_change_role")
    assert json.loads(detail) == {"username": "leader", "before": {"role": "viewer"}, "after": {"role": "analyst"}}


def test_add_user_then_login(users_db):
    auth.add_user(ADMIN, " Zhang.San ", "张三", "analyst", "zhangsan-pw", users_db)
    assert auth.verify_login("zhang.san", "zhangsan-pw", users_db) == Actor("zhang.san", "analyst")
    user, action, detail = audit_rows(users_db)[-1]
    assert (user, action) == ("admin", "user_add")
    assert json.loads(detail) == {"username": "zhang.san", "before": None,
                                  "after": {"name": "张三", "role": "analyst", "disabled": False}}


@pytest.mark.parametrize("call, message", [
    (lambda p: auth.add_user(ADMIN, "leader", "重复", "viewer", "long-enough", p), "已存在"),
    (lambda p: auth.add_user(ADMIN, "x", "太短", "viewer", "long-enough", p), "用户名"),
    (lambda p: auth.add_user(ADMIN, "李四", "中文名", "viewer", "long-enough", p), "用户名"),
    (lambda p: auth.add_user(ADMIN, "lisi", "李四", "boss", "long-enough", p), "未知角色"),
    (lambda p: auth.add_user(ADMIN, "lisi", "李四", "viewer", "short", p), "至少"),
    (lambda p: auth.add_user(ADMIN, "lisi", "李四", "viewer", "长" * 30, p), "过长"),
    (lambda p: auth.set_disabled(ADMIN, "admin", True, p), "自己"),
    (lambda p: auth.set_disabled(ADMIN, "ghost", True, p), "不存在"),
    (lambda p: auth.set_disabled(ADMIN, "leader", False, p), "已启用"),
    (lambda p: auth.change_role(ADMIN, "admin", "viewer", p), "最后一个"),
    (lambda p: auth.change_role(ADMIN, "leader", "viewer", p), "已是"),
    (lambda p: auth.reset_password(ADMIN, "ghost", "long-enough", p), "不存在"),
    (lambda p: auth.change_own_password(LEADER, "leader123", "leader123", p), "相同"),
])
def test_invalid_changes_are_refused_and_change_nothing(users_db, call, message):
    before = content(users_db)
    with pytest.raises(AnalyticsError, match=message):
        call(users_db)
    assert content(users_db) == before


def test_last_admin_cannot_be_disabled_by_another_admin(users_db):
    auth.add_user(ADMIN, "admin2", "第二管理员", "admin", "admin2-pass", users_db)
    second = Actor("admin2", "admin")
    auth.set_disabled(second, "admin", True, users_db)  # allowed: admin2 remains
    with pytest.raises(AnalyticsError, match="自己"):
        auth.set_disabled(second, "admin2", True, users_db)
    auth.set_disabled(second, "admin", False, users_db)
    auth.change_role(ADMIN, "admin2", "viewer", users_db)
    with pytest.raises(AnalyticsError, match="最后一个"):
        auth.change_role(Actor("x", "admin"), "admin", "analyst", users_db)


# --- settings: session lifetime and the cookie key --------------------------------------

@pytest.mark.parametrize("env, days", [({}, 1.0), ({"TARGETS_SESSION_DAYS": ""}, 1.0),
                                       ({"TARGETS_SESSION_DAYS": "0.5"}, 0.5),
                                       ({"TARGETS_SESSION_DAYS": "7"}, 7.0),
                                       ({"TARGETS_SESSION_DAYS": "0"}, 0.0)])
def test_session_days(env, days):
    assert auth.session_days(env) == days


@pytest.mark.parametrize("raw", ["-1", "abc", "1000"])
def test_session_days_invalid(raw):
    with pytest.raises(AnalyticsError, match="TARGETS_SESSION_DAYS"):
        auth.session_days({"TARGETS_SESSION_DAYS": raw})


def test_expiry_setting_reaches_the_cookie(users_db, tmp_path, monkeypatch):
    """The gate hands TARGETS_SESSION_DAYS to streamlit-authenticator, whose signed token
    then expires that long after login."""
    from ui import auth as ui_auth
    monkeypatch.setenv("TARGETS_SESSION_DAYS", "0.25")
    monkeypatch.setenv("TARGETS_SECRETS_DIR", str(tmp_path / "secrets"))
    config = ui_auth.gate_config()
    assert (config.mode, config.cookie_name, config.session_days) == ("password", "mubiao_auth", 0.25)
    gate = ui_auth.PasswordGate(config, str(users_db))
    model = gate.authenticator.cookie_controller.cookie_model
    assert model.cookie_name == "mubiao_auth" and model.cookie_expiry_days == 0.25
    assert model.cookie_key == (tmp_path / "secrets" / "cookie_key").read_text()
    expires = datetime.fromtimestamp(model._set_exp_date())
    assert abs(expires - (datetime.now() + timedelta(hours=6))) < timedelta(minutes=1)
    assert set(gate.authenticator.authentication_controller.authentication_model.credentials["usernames"]) == \
        {"leader", "analyst", "admin"}


def test_gate_mode_is_chosen_by_env():
    from ui import auth as ui_auth
    assert ui_auth.gate_config({"TARGETS_AUTH": "oidc"}).mode == "oidc"
    assert ui_auth.GATES["oidc"] is ui_auth.OidcGate and ui_auth.GATES["password"] is ui_auth.PasswordGate
    with pytest.raises(AnalyticsError, match="TARGETS_AUTH"):
        ui_auth.gate_config({"TARGETS_AUTH": "ldap"})


def test_cookie_key_created_private_and_stable(tmp_path):
    d = tmp_path / ".secrets"
    key = auth.cookie_key(d)
    assert len(key) >= 32
    assert stat.S_IMODE(os.stat(d / "cookie_key").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    assert auth.cookie_key(d) == key
    assert auth.cookie_key(tmp_path / "other") != key
    (d / "cookie_key").write_text("short")
    with pytest.raises(AnalyticsError, match="删除该文件"):
        auth.cookie_key(d)


def test_secrets_are_git_ignored():
    ignored = (db.ROOT / ".gitignore").read_text().split()
    assert "data/.secrets/" in ignored
