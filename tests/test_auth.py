"""Accounts and role enforcement (analytics.auth, analytics.roles): each role × each write
path allowed or refused; every allowed write leaves exactly one audit entry naming the
caller, every refused one leaves the database as it was; login failures are audited;
disabled users are refused; passwords change; the session lifetime reaches the gate."""
from __future__ import annotations

import json
import os
import shutil
import stat
import time
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


# --- login rate limit -------------------------------------------------------------------

def lock_entries(path, who="leader") -> list[dict]:
    return [json.loads(d) for u, a, d in audit_rows(path) if (u, a) == (who, "login_locked")]


def fail(path, username, times, **kw) -> None:
    for i in range(times):
        assert auth.verify_login(username, f"wrong-{i}", path, **kw) is None


def test_fifth_failure_locks_and_the_right_password_is_then_refused(users_db):
    fail(users_db, "leader", 4)
    with pytest.raises(auth.LoginLocked) as locked:  # the 5th failure within 15 minutes locks
        auth.verify_login("leader", "wrong-4", users_db)
    until = locked.value.until
    assert abs(until - (datetime.now() + timedelta(minutes=15))) < timedelta(minutes=1)
    shown = until.replace(second=0, microsecond=0) + timedelta(minutes=1)  # the minute after
    message = f"登录失败次数过多，该用户名已暂时锁定，请于 {shown:%m月%d日 %H:%M} 后重试（或请管理员重置密码）"
    assert str(locked.value) == message

    before = audit_rows(users_db)
    with pytest.raises(auth.LoginLocked) as again:  # 6th attempt, right password: refused unchecked
        auth.verify_login(" Leader", "leader123", users_db)
    assert str(again.value) == message and again.value.until == until
    assert audit_rows(users_db) == before  # the lock-out is audited once, not every refusal

    actions = [a for u, a, _ in audit_rows(users_db) if u == "leader"]
    assert actions == ["login_failed"] * 5 + ["login_locked"]
    assert lock_entries(users_db) == [{"failures": 5, "window_minutes": 15.0, "until": str(until)}]
    assert auth.verify_login("analyst", "analyst123", users_db) == ANALYST  # other names unaffected


def test_lock_ends_after_the_lockout(users_db):
    """Lock-out 30 minutes, window 60: at until − 1 min still refused, at until + 1 min in;
    the five failures are still within the window then, but a lock used them up."""
    limit = auth.LoginLimit(max_failures=5, window_minutes=60, lockout_minutes=30)
    fail(users_db, "leader", 4, limit=limit)
    with pytest.raises(auth.LoginLocked) as locked:
        auth.verify_login("leader", "wrong-4", users_db, limit=limit)
    until = locked.value.until
    with pytest.raises(auth.LoginLocked):
        auth.verify_login("leader", "leader123", users_db, limit=limit, now=until - timedelta(minutes=1))
    assert auth.verify_login("leader", "leader123", users_db, limit=limit,
                             now=until + timedelta(minutes=1)) == LEADER
    # the count starts again after a lock: one more failure is one, not six
    assert auth.verify_login("leader", "wrong", users_db, limit=limit, now=until + timedelta(minutes=1)) is None
    assert len(lock_entries(users_db)) == 1


def test_failures_outside_the_window_do_not_count(users_db):
    """4 failures now; 16 minutes later a 5th is only the first within the window."""
    fail(users_db, "leader", 4)
    later = datetime.now() + timedelta(minutes=16)
    assert auth.verify_login("leader", "wrong-4", users_db, now=later) is None
    assert auth.verify_login("leader", "leader123", users_db, now=later) == LEADER
    assert lock_entries(users_db) == []


def test_password_reset_clears_the_lock(users_db):
    fail(users_db, "leader", 4)
    with pytest.raises(auth.LoginLocked):
        auth.verify_login("leader", "wrong-4", users_db)
    auth.reset_password(ADMIN, "leader", "reset-by-admin", users_db)
    assert auth.verify_login("leader", "reset-by-admin", users_db) == LEADER
    fail(users_db, "leader", 4)  # the earlier failures no longer count: 4 more do not lock
    assert auth.verify_login("leader", "reset-by-admin", users_db) == LEADER
    assert len(lock_entries(users_db)) == 1


def test_unknown_names_lock_alike_and_zero_means_no_limit(users_db):
    fail(users_db, "ghost", 4)
    with pytest.raises(auth.LoginLocked):
        auth.verify_login("ghost", "x", users_db)
    assert len(lock_entries(users_db, "ghost")) == 1
    off = auth.LoginLimit(max_failures=0)
    fail(users_db, "leader", 7, limit=off)
    assert auth.verify_login("leader", "leader123", users_db, limit=off) == LEADER
    assert lock_entries(users_db) == []


# --- revocation: logins issued before the credentials changed -----------------------------

def changed_at(path, username="leader") -> datetime | None:
    with db.connect(path) as con:
        return db.one(con, "SELECT credentials_changed_at FROM users WHERE username = ?", [username])[0]


@pytest.mark.parametrize("change", [
    lambda p: auth.reset_password(ADMIN, "leader", "reset-by-admin", p),
    lambda p: auth.change_own_password(LEADER, "leader123", "brand-new-pw", p),
    lambda p: auth.change_role(ADMIN, "leader", "analyst", p),
    lambda p: (auth.set_disabled(ADMIN, "leader", True, p), auth.set_disabled(ADMIN, "leader", False, p)),
], ids=["reset", "own_change", "role", "disable_enable"])
def test_login_issued_before_a_credentials_change_no_longer_counts(users_db, change):
    issued = datetime.now()
    assert changed_at(users_db) is None and auth.login_current("leader", issued, users_db)
    change(users_db)
    at = changed_at(users_db)
    assert issued < at <= datetime.now()
    assert not auth.login_current("leader", issued, users_db)
    assert not auth.login_current("leader", at - timedelta(microseconds=1), users_db)
    assert auth.login_current("Leader", at, users_db)
    assert auth.login_current("leader", at + timedelta(seconds=1), users_db)


def test_login_of_a_disabled_or_unknown_user_does_not_count(users_db):
    auth.set_disabled(ADMIN, "leader", True, users_db)
    later = datetime.now() + timedelta(days=1)
    assert not auth.login_current("leader", later, users_db)
    assert not auth.login_current("ghost", later, users_db)
    assert not auth.login_current("", later, users_db)
    assert auth.login_current("analyst", datetime(2000, 1, 1), users_db)  # never changed


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


@pytest.mark.parametrize("env, limit", [
    ({}, (5, 15, 15)),
    ({"TARGETS_LOGIN_MAX_FAILURES": "3", "TARGETS_LOGIN_WINDOW_MINUTES": "10",
      "TARGETS_LOGIN_LOCKOUT_MINUTES": "60"}, (3, 10, 60)),
    ({"TARGETS_LOGIN_MAX_FAILURES": "0", "TARGETS_LOGIN_WINDOW_MINUTES": " "}, (0, 15, 15)),
])
def test_login_limit(env, limit):
    got = auth.login_limit(env)
    assert (got.max_failures, got.window_minutes, got.lockout_minutes) == limit


@pytest.mark.parametrize("var, raw", [("TARGETS_LOGIN_MAX_FAILURES", "2.5"), ("TARGETS_LOGIN_MAX_FAILURES", "-1"),
                                      ("TARGETS_LOGIN_WINDOW_MINUTES", "0"), ("TARGETS_LOGIN_LOCKOUT_MINUTES", "abc")])
def test_login_limit_invalid(var, raw):
    with pytest.raises(AnalyticsError, match=var):
        auth.login_limit({var: raw})


def test_expiry_setting_reaches_the_cookie(monkeypatch):
    """TARGETS_SESSION_DAYS is the gate's cookie lifetime, and the signed token expires that
    long after login."""
    from ui import auth as ui_auth
    monkeypatch.setenv("TARGETS_SESSION_DAYS", "0.25")
    config = ui_auth.gate_config()
    assert (config.mode, config.cookie_name, config.session_days) == ("password", "mubiao_auth", 0.25)
    token = auth.login_token("leader", config.session_days, "k" * 43, now=1_000_000.0)
    assert auth.read_login_token(token, "k" * 43, now=1_000_000.0) == {
        "username": "leader", "exp_date": 1_000_000.0 + 6 * 3600, "issued_at": 1_000_000.0}
    assert auth.read_login_token(token, "k" * 43, now=1_000_000.0 + 6 * 3600 - 1) is not None
    assert auth.read_login_token(token, "k" * 43, now=1_000_000.0 + 6 * 3600) is None  # expired


def test_login_token_refused_unless_ours_and_well_formed():
    import jwt
    key = "k" * 43
    good = auth.login_token("leader", 1, key)
    assert auth.read_login_token(good, key)["username"] == "leader"
    assert auth.read_login_token(good, "x" * 43) is None  # another key
    head, _, sig = good.split(".")
    admin_body = auth.login_token("admin", 1, key).split(".")[1]
    assert auth.read_login_token(f"{head}.{admin_body}.{sig}", key) is None  # the user name changed
    for raw in (None, "", "not-a-token", jwt.encode({"username": "leader"}, key, algorithm="HS256"),
                jwt.encode({"username": "leader", "exp_date": "soon"}, key, algorithm="HS256"),
                jwt.encode({"username": 7, "exp_date": 2e9}, key, algorithm="HS256"),
                jwt.encode({"username": "leader", "exp_date": 2e9}, key * 2, algorithm="HS512")):
        assert auth.read_login_token(raw, key) is None, raw
    # a cookie streamlit-authenticator issued (same claims, same algorithm) stays valid
    theirs = jwt.encode({"username": "leader", "exp_date": time.time() + 3600}, key, algorithm="HS256")
    assert auth.read_login_token(theirs, key)["username"] == "leader"
    # ours is a standard HS256 JWT: a JWT library checks its signature and reads the same claims
    assert jwt.decode(good, key, algorithms=["HS256"]) == auth.read_login_token(good, key)
    assert jwt.get_unverified_header(good) == {"alg": "HS256", "typ": "JWT"}
    # refused: the "none" algorithm (no signature), a body that is not an object, bytes outside
    # base64url, a fourth part, the signature of the same body under another key
    import base64
    import json as json_

    def part(obj) -> str:
        return base64.urlsafe_b64encode(json_.dumps(obj).encode()).rstrip(b"=").decode()
    body = part({"username": "admin", "exp_date": 2e9})
    for raw in (f"{part({'alg': 'none', 'typ': 'JWT'})}.{body}.", f"{part({'alg': 'none'})}.{body}.{sig}",
                f"{head}.{part(['admin', 2e9])}.{sig}", f"{head}.{body[:-1]}!.{sig}", f"{good}.{sig}",
                f"{head}.{good.split('.')[1]}.{sig[:-2]}", "a.b.c", "..", "😀.😀.😀",
                jwt.encode({"username": "admin", "exp_date": 2e9}, "y" * 43, algorithm="HS256")):
        assert auth.read_login_token(raw, key) is None, raw


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
