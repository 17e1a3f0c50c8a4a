"""Accounts: the ``users`` table, bcrypt password hashes, login verification and user
administration — "every change must name a person" (issue 5).

Roles (``roles.ROLES``): viewer 领导（只读）, analyst 分析员, admin 管理员. Every function here
that writes checks its caller with :func:`roles.require` and is one
:func:`db.transaction`, so it leaves exactly one ``audit_log`` row naming the caller, with
before/after values — never a password or a hash. A failed login is audited too
(action ``login_failed``, under the user name that was tried).

The login cookie itself (a signed token naming the user) is handled in ``ui/auth.py`` by
streamlit-authenticator; its signing key is generated here on first start
(:func:`cookie_key`), into the git-ignored ``data/.secrets/cookie_key`` (mode 0600).
The role used for writes is always read from this table (:func:`actor_for`), never from
anything the browser session holds.
"""
from __future__ import annotations

import os
import re
import secrets
from datetime import datetime
from pathlib import Path

import bcrypt
import pandas as pd

from . import db
from .errors import Actor, AnalyticsError
from .roles import ROLES, require

# bcrypt work factor (2^12 rounds ≈ 0.3 s per hash or check); tests may lower it.
BCRYPT_ROUNDS = 12
MIN_PASSWORD = 8
MAX_PASSWORD_BYTES = 72  # bcrypt reads no more than 72 bytes; longer ones are refused
USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.@-]{1,63}$")
SECRETS_DIR = db.ROOT / "data" / ".secrets"
SESSION_DAYS_DEFAULT = 1.0

# Seeded on first start when the users table is empty (README: change them at once).
DEMO_USERS = (
    ("leader", "县领导（演示）", "viewer", "leader123"),
    ("analyst", "目标办分析员（演示）", "analyst", "analyst123"),
    ("admin", "系统管理员（演示）", "admin", "admin123"),
)
SYSTEM = Actor("system", "admin", "系统初始化")

# A hash of a random password: checking an unknown user name against it costs as much as
# checking a real one, so the answer time does not tell which user names exist.
_DUMMY_HASH = bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(4)).decode()


# --- passwords -------------------------------------------------------------------------

def hash_password(password: str) -> str:
    """bcrypt hash (``$2b$…``), the format streamlit-authenticator's ``Hasher`` writes."""
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(BCRYPT_ROUNDS)).decode()


def check_password(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode("utf-8"), password_hash.encode())
    except ValueError:  # malformed hash, or a password bcrypt refuses
        return False


def validate_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise AnalyticsError(f"密码至少 {MIN_PASSWORD} 个字符")
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise AnalyticsError(f"密码过长（不超过 {MAX_PASSWORD_BYTES} 字节）")
    if password.strip() != password:
        raise AnalyticsError("密码首尾不能是空格")


def normalise_username(username: str) -> str:
    """User names are compared in lower case (streamlit-authenticator lower-cases them too)."""
    return (username or "").strip().lower()


def _validate_username(username: str) -> str:
    u = normalise_username(username)
    if not USERNAME.match(u):
        raise AnalyticsError("用户名须为 2–64 位小写字母、数字或 _ . @ -，以字母或数字开头")
    return u


def _validate_role(role: str) -> None:
    if role not in ROLES:
        raise AnalyticsError(f"未知角色「{role}」，可选：{'、'.join(ROLES)}")


# --- reads -----------------------------------------------------------------------------

def list_users(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Every account without its hash: username, name, role, disabled, created_at,
    created_by, password_changed_at."""
    return db.query("SELECT username, name, role, disabled, created_at, created_by, password_changed_at "
                    "FROM users ORDER BY username", path=path)


def _row(con, username: str) -> dict | None:
    cur = con.execute("SELECT username, name, role, disabled, password_changed_at, password_hash "
                      "FROM users WHERE username = ?", [username])
    rows = cur.fetchall()
    if not rows:
        return None
    return dict(zip([d[0] for d in cur.description], rows[0]))


def actor_for(username: str | None, path: str | os.PathLike | None = None) -> Actor | None:
    """The Actor of an enabled user, role as stored now; None for unknown or disabled users.

    The app calls this on every run with the user name the login cookie/session names, so
    a role change or a disabling takes effect at the user's next click.
    """
    if not username:
        return None
    with db.connect(path) as con:
        row = _row(con, normalise_username(username))
    if row is None or row["disabled"] or row["role"] not in ROLES:
        return None
    return Actor(row["username"], row["role"], row["name"])


def credentials(path: str | os.PathLike | None = None) -> dict:
    """streamlit-authenticator's credentials dict of the enabled users — names and roles
    only: the password check is :func:`verify_login`'s, so no hash leaves this module."""
    users = list_users(path)
    users = users[~users.disabled.astype(bool)]
    return {"usernames": {u: {"name": n, "roles": [r], "email": None}
                          for u, n, r in zip(users.username, users.name, users.role)}}


# --- login -----------------------------------------------------------------------------

def _audit_failure(username: str, reason: str, path) -> None:
    who = re.sub(r"[\x00-\x1f\x7f]", "", username or "")[:64] or "（空）"
    with db.connect(path) as con:
        with db.transaction(con, Actor(who, "viewer"), "login_failed", {"reason": reason}):
            pass


def verify_login(username: str, password: str, path: str | os.PathLike | None = None) -> Actor | None:
    """The Actor if the user exists, is enabled and the password matches; else None, after
    writing a ``login_failed`` audit entry (reason ``unknown_user``, ``wrong_password`` or
    ``disabled``). The database is not held during the bcrypt check."""
    u = normalise_username(username)
    with db.connect(path) as con:
        row = _row(con, u) if u else None
    ok = check_password(password or "", row["password_hash"] if row else _DUMMY_HASH)
    if row is None or not ok:
        _audit_failure(u or username, "unknown_user" if row is None else "wrong_password", path)
        return None
    if row["disabled"]:
        _audit_failure(u, "disabled", path)
        return None
    return Actor(row["username"], row["role"], row["name"])


# --- writes ----------------------------------------------------------------------------

def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


def _existing(con, username: str) -> dict:
    row = _row(con, normalise_username(username))
    if row is None:
        raise AnalyticsError(f"用户「{username}」不存在")
    return row


def _active_admins(con, excluding: str) -> int:
    return db.one(con, "SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled AND username <> ?",
                  [excluding])[0]


class _AlreadySeeded(Exception):
    """Another process seeded the users between our check and our write."""


def seed_demo_users(path: str | os.PathLike | None = None) -> bool:
    """First start: when the users table is empty, add the demo users of :data:`DEMO_USERS`
    (one audited write by ``system``). Returns True if it seeded."""
    with db.connect(path) as con:
        if db.one(con, "SELECT count(*) FROM users")[0]:
            return False
    hashed = [(u, n, r, hash_password(p)) for u, n, r, p in DEMO_USERS]  # outside the connection
    require(SYSTEM, "manage_users")
    try:
        with db.connect(path) as con:
            with db.transaction(con, SYSTEM, "users_seed",
                                {"users": [{"username": u, "role": r} for u, _, r, _ in hashed]}):
                if db.one(con, "SELECT count(*) FROM users")[0]:
                    raise _AlreadySeeded  # rolls back: no audit entry either
                now = _now()
                for u, n, r, h in hashed:
                    con.execute("INSERT INTO users VALUES (?, ?, ?, ?, false, ?, ?, ?)",
                                [u, n, r, h, now, SYSTEM.username, now])
    except _AlreadySeeded:
        return False
    return True


def add_user(actor: Actor, username: str, name: str, role: str, password: str,
             path: str | os.PathLike | None = None) -> Actor:
    """Admin: a new enabled account. Audit ``user_add`` with the new values."""
    require(actor, "manage_users")
    u = _validate_username(username)
    name = (name or "").strip() or u
    _validate_role(role)
    validate_password(password)
    h = hash_password(password)
    with db.connect(path) as con:
        if _row(con, u) is not None:
            raise AnalyticsError(f"用户名「{u}」已存在")
        after = {"name": name, "role": role, "disabled": False}
        with db.transaction(con, actor, "user_add", {"username": u, "before": None, "after": after}):
            now = _now()
            con.execute("INSERT INTO users VALUES (?, ?, ?, ?, false, ?, ?, ?)",
                        [u, name, role, h, now, actor.username, now])
    return Actor(u, role, name)


def set_disabled(actor: Actor, username: str, disabled: bool = True,
                 path: str | os.PathLike | None = None) -> None:
    """Admin: disable (or enable again) an account; a disabled user cannot log in and the
    app refuses their open sessions at the next click. Accounts are never deleted, so the
    audit log keeps naming real people. The last enabled admin cannot be disabled."""
    require(actor, "manage_users")
    with db.connect(path) as con:
        row = _existing(con, username)
        if disabled and row["username"] == actor.username:
            raise AnalyticsError("不能停用自己的账户")
        if disabled and row["role"] == "admin" and not _active_admins(con, row["username"]):
            raise AnalyticsError("不能停用最后一个启用的管理员")
        if bool(row["disabled"]) == disabled:
            raise AnalyticsError(f"用户「{row['username']}」已{'停用' if disabled else '启用'}")
        with db.transaction(con, actor, "user_disable" if disabled else "user_enable",
                            {"username": row["username"], "before": {"disabled": bool(row["disabled"])},
                             "after": {"disabled": disabled}}):
            con.execute("UPDATE users SET disabled = ? WHERE username = ?", [disabled, row["username"]])


def change_role(actor: Actor, username: str, role: str, path: str | os.PathLike | None = None) -> None:
    """Admin: a new role for an account (takes effect at the user's next click). The last
    enabled admin keeps the admin role."""
    require(actor, "manage_users")
    _validate_role(role)
    with db.connect(path) as con:
        row = _existing(con, username)
        if row["role"] == role:
            raise AnalyticsError(f"用户「{row['username']}」已是{ROLES[role]}")
        if row["role"] == "admin" and not row["disabled"] and not _active_admins(con, row["username"]):
            raise AnalyticsError("不能更改最后一个启用的管理员的角色")
        with db.transaction(con, actor, "user_change_role",
                            {"username": row["username"], "before": {"role": row["role"]},
                             "after": {"role": role}}):
            con.execute("UPDATE users SET role = ? WHERE username = ?", [role, row["username"]])


def _set_password(con, actor: Actor, action: str, row: dict, password_hash: str) -> None:
    now = _now()
    with db.transaction(con, actor, action,
                        {"username": row["username"],
                         "before": {"password_changed_at": row["password_changed_at"]},
                         "after": {"password_changed_at": now}}):
        con.execute("UPDATE users SET password_hash = ?, password_changed_at = ? WHERE username = ?",
                    [password_hash, now, row["username"]])


def reset_password(actor: Actor, username: str, new_password: str,
                   path: str | os.PathLike | None = None) -> None:
    """Admin: set a new password for an account (audit ``user_reset_password``: who, whose,
    when — never the password or its hash)."""
    require(actor, "manage_users")
    validate_password(new_password)
    h = hash_password(new_password)
    with db.connect(path) as con:
        _set_password(con, actor, "user_reset_password", _existing(con, username), h)


def change_own_password(actor: Actor, old_password: str, new_password: str,
                        path: str | os.PathLike | None = None) -> None:
    """Any enabled user: a new password for oneself, given the current one."""
    require(actor, "own_account")
    validate_password(new_password)
    if new_password == old_password:
        raise AnalyticsError("新密码不能与原密码相同")
    with db.connect(path) as con:
        row = _row(con, actor.username)
    if row is None or row["disabled"]:
        raise AnalyticsError("当前账户不存在或已停用")
    if not check_password(old_password or "", row["password_hash"]):
        raise AnalyticsError("原密码不正确")
    h = hash_password(new_password)
    with db.connect(path) as con:
        _set_password(con, actor, "password_change", _existing(con, actor.username), h)


# --- settings and secrets --------------------------------------------------------------

def session_days(environ: dict | None = None) -> float:
    """Login lifetime in days, from ``TARGETS_SESSION_DAYS`` (default 1; 0 = no cookie: the
    login ends with the browser tab or a reload)."""
    raw = (environ if environ is not None else os.environ).get("TARGETS_SESSION_DAYS", "")
    if not raw.strip():
        return SESSION_DAYS_DEFAULT
    try:
        days = float(raw)
    except ValueError:
        days = -1.0
    if not 0 <= days <= 365:
        raise AnalyticsError(f"TARGETS_SESSION_DAYS={raw!r} 无效：须为 0–365 之间的天数")
    return days


def cookie_key(directory: str | os.PathLike | None = None) -> str:
    """The login cookie's signing key: read from ``<dir>/cookie_key``, created on first use
    (256 random bits, file mode 0600, directory 0700). ``dir`` defaults to
    ``$TARGETS_SECRETS_DIR`` or ``data/.secrets`` (git-ignored). Deleting the file logs
    everybody out."""
    d = Path(directory or os.environ.get("TARGETS_SECRETS_DIR") or SECRETS_DIR)
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    f = d / "cookie_key"
    try:
        fd = os.open(f, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = f.read_text().strip()
        if len(key) >= 32:
            return key
        raise AnalyticsError(f"{f} 内容无效：删除该文件后重启即会重新生成（所有用户需重新登录）") from None
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_urlsafe(32))
    return f.read_text().strip()
