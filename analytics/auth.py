"""Accounts: the ``users`` table, bcrypt password hashes, login verification and user
administration — "every change must name a person" (issue 5).

Roles (``roles.ROLES``): viewer 领导（只读）, analyst 分析员, admin 管理员. Every function here
that writes checks its caller with :func:`roles.require` and is one
:func:`db.transaction`, so it leaves exactly one ``audit_log`` row naming the caller, with
before/after values — never a password or a hash. A failed login is audited too
(action ``login_failed``, under the user name that was tried).

Login rate limit (:func:`verify_login`, settings :func:`login_limit`): the ``login_failed``
entries of the audit log are the count — durable across restarts and shared by every
process. After ``TARGETS_LOGIN_MAX_FAILURES`` failures for one user name within
``TARGETS_LOGIN_WINDOW_MINUTES``, that name is locked for ``TARGETS_LOGIN_LOCKOUT_MINUTES``
(one ``login_locked`` entry): attempts are refused without checking the password. An admin's
password reset (or the user's own password change) ends the lock and the count.

Revocation: ``users.credentials_changed_at`` is set whenever a password is reset or
changed, an account disabled or a role changed; a login issued before it — a cookie, an
open session — no longer counts (:func:`login_current`).

The login cookie is a signed token naming the user (:func:`login_token`, read back by
:func:`read_login_token`; written to the browser in ``ui/auth.py``); its signing key is generated here on first start
(:func:`cookie_key`), into the git-ignored ``data/.secrets/cookie_key`` (mode 0600).
The role used for writes is always read from this table (:func:`actor_for`), never from
anything the browser session holds.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
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


# --- login -----------------------------------------------------------------------------

@dataclass(frozen=True)
class LoginLimit:
    """The login rate limit: ``max_failures`` failed logins for one user name within
    ``window_minutes`` lock that name for ``lockout_minutes`` (``max_failures`` 0: no limit)."""
    max_failures: int = 5
    window_minutes: float = 15.0
    lockout_minutes: float = 15.0


# field → (environment variable, lowest, highest allowed value)
_LIMIT_ENV = {"max_failures": ("TARGETS_LOGIN_MAX_FAILURES", 0, 1000),
              "window_minutes": ("TARGETS_LOGIN_WINDOW_MINUTES", 1, 1440),
              "lockout_minutes": ("TARGETS_LOGIN_LOCKOUT_MINUTES", 1, 1440)}


def login_limit(environ: dict | None = None) -> LoginLimit:
    """The rate limit from ``TARGETS_LOGIN_MAX_FAILURES`` (default 5; 0 = no limit),
    ``TARGETS_LOGIN_WINDOW_MINUTES`` (15) and ``TARGETS_LOGIN_LOCKOUT_MINUTES`` (15)."""
    env = environ if environ is not None else os.environ
    values = {}
    for field, (var, lo, hi) in _LIMIT_ENV.items():
        whole = field == "max_failures"
        value = _env_number(env, var, lo, hi, "整数" if whole else "分钟数", whole)
        if value is not None:
            values[field] = value
    return LoginLimit(**values)


def _env_number(env, var: str, lo: float, hi: float, what: str, whole: bool = False) -> float | None:
    """A numeric setting from the environment: None when unset or blank; an AnalyticsError
    naming the variable when it is not a number (a whole one if ``whole``) in ``lo``–``hi``."""
    raw = env.get(var, "")
    if not raw.strip():
        return None
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not lo <= value <= hi or (whole and value != int(value)):
        raise AnalyticsError(f"{var}={raw!r} 无效：须为 {lo}–{hi} 之间的{what}")
    return int(value) if whole else value


class LoginLocked(AnalyticsError):
    """Too many failed logins for a user name: refused until ``until`` (the password is not
    checked), unless an admin resets the password first."""

    def __init__(self, username: str, until: datetime):
        self.username, self.until = username, until
        shown = until.replace(second=0, microsecond=0)
        if shown < until:  # rounded up: retrying at the minute shown works
            shown += timedelta(minutes=1)
        super().__init__(f"登录失败次数过多，该用户名已暂时锁定，请于 {shown:%m月%d日 %H:%M} 后重试"
                         "（或请管理员重置密码）")


def _audit_name(username: str) -> str:
    """The name a login attempt is audited — and rate-limited — under."""
    return re.sub(r"[\x00-\x1f\x7f]", "", username or "")[:64] or "（空）"


def _lock_state(con, who: str, limit: LoginLimit, now: datetime | None) -> tuple[datetime | None, int]:
    """For the user name ``who`` at ``now`` (None: the database's clock, which stamps the
    audit entries): the end of a running lock, else None; and the failures that count
    towards the next lock — those within the window, after the last lock and after the last
    password reset or change."""
    now = now or db.one(con, "SELECT now()::TIMESTAMP")[0]
    cleared = db.one(con, "SELECT coalesce(max(audit_id), 0) FROM audit_log "
                          "WHERE action IN ('user_reset_password', 'password_change') "
                          "AND json_extract_string(detail, '$.username') = ?", [who])[0]
    lock = db.one(con, "SELECT audit_id, logged_at FROM audit_log WHERE username = ? AND action = 'login_locked' "
                       "AND audit_id > ? ORDER BY audit_id DESC LIMIT 1", [who, cleared])
    if lock and lock[1] + timedelta(minutes=limit.lockout_minutes) > now:
        return lock[1] + timedelta(minutes=limit.lockout_minutes), 0
    failures = db.one(con, "SELECT count(*) FROM audit_log WHERE username = ? AND action = 'login_failed' "
                           "AND audit_id > ? AND logged_at > ?",
                      [who, max(cleared, lock[0] if lock else 0), now - timedelta(minutes=limit.window_minutes)])[0]
    return None, failures


def _audit_failure(who: str, reason: str, path, limit: LoginLimit, now: datetime | None) -> None:
    """Audit a failed login; if it reaches the limit, lock the name (one ``login_locked``
    entry, which holds the lock's end) and raise :class:`LoginLocked`."""
    actor = Actor(who, "viewer")
    with db.connect(path) as con:
        with db.transaction(con, actor, "login_failed", {"reason": reason}):
            pass
        if not limit.max_failures:
            return
        _, failures = _lock_state(con, who, limit, now)
        if failures < limit.max_failures:
            return
        with db.transaction(con, actor, "login_locked",
                            {"failures": failures, "window_minutes": limit.window_minutes}) as detail:
            # now() is the transaction's start: the time this entry is stamped with
            until = db.one(con, "SELECT now()::TIMESTAMP")[0] + timedelta(minutes=limit.lockout_minutes)
            detail["until"] = until
    raise LoginLocked(who, until)


def verify_login(username: str, password: str, path: str | os.PathLike | None = None, *,
                 limit: LoginLimit | None = None, now: datetime | None = None) -> Actor | None:
    """The Actor if the user exists, is enabled and the password matches; else None, after
    writing a ``login_failed`` audit entry (reason ``unknown_user``, ``wrong_password`` or
    ``disabled``). The database is not held during the bcrypt check.

    Rate limit (``limit``, default :func:`login_limit`): raises :class:`LoginLocked` while
    the user name is locked — without checking the password, and without a further audit
    entry — and on the failure that locks it. Known and unknown names are treated alike.
    ``now``: the time to judge the window and the lock by (tests); default the database's
    clock."""
    limit = limit or login_limit()
    u = normalise_username(username)
    who = _audit_name(u or username)
    with db.connect(path) as con:
        until = _lock_state(con, who, limit, now)[0] if limit.max_failures else None
        row = _row(con, u) if u else None
    if until is not None:
        raise LoginLocked(who, until)
    ok = check_password(password or "", row["password_hash"] if row else _DUMMY_HASH)
    if row is None or not ok:
        _audit_failure(who, "unknown_user" if row is None else "wrong_password", path, limit, now)
        return None
    if row["disabled"]:
        _audit_failure(who, "disabled", path, limit, now)
        return None
    return Actor(row["username"], row["role"], row["name"])


def login_current(username: str | None, issued_at: datetime, path: str | os.PathLike | None = None) -> bool:
    """Whether a login issued at ``issued_at`` (a cookie's, an open session's) still counts:
    the user exists, is enabled, and their password, role and enabled state have not changed
    since (``users.credentials_changed_at``; a reset password ends every earlier login)."""
    if not username:
        return False
    with db.connect(path) as con:
        row = db.one(con, "SELECT disabled, credentials_changed_at FROM users WHERE username = ?",
                     [normalise_username(username)])
    return row is not None and not row[0] and (row[1] is None or issued_at >= row[1])


# --- writes ----------------------------------------------------------------------------

def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


def _changed_now() -> datetime:
    """For ``credentials_changed_at``: full precision, so that a login issued in the same
    second as a reset still compares the right way round."""
    return datetime.now()


def _existing(con, username: str) -> dict:
    row = _row(con, normalise_username(username))
    if row is None:
        raise AnalyticsError(f"用户「{username}」不存在")
    return row


def _active_admins(con, excluding: str) -> int:
    return db.one(con, "SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled AND username <> ?",
                  [excluding])[0]


_INSERT_USER = ("INSERT INTO users (username, name, role, password_hash, disabled, created_at, created_by, "
                "password_changed_at) VALUES (?, ?, ?, ?, false, ?, ?, ?)")


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
                    con.execute(_INSERT_USER,
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
            con.execute(_INSERT_USER,
                        [u, name, role, h, now, actor.username, now])
    return Actor(u, role, name)


def set_disabled(actor: Actor, username: str, disabled: bool = True,
                 path: str | os.PathLike | None = None) -> None:
    """Admin: disable (or enable again) an account; a disabled user cannot log in and the
    app refuses their open sessions at the next click, and their cookies even once enabled
    again. Accounts are never deleted, so the audit log keeps naming real people. The last
    enabled admin cannot be disabled."""
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
            con.execute("UPDATE users SET disabled = ?, credentials_changed_at = coalesce(?, credentials_changed_at) "
                        "WHERE username = ?", [disabled, _changed_now() if disabled else None, row["username"]])


def change_role(actor: Actor, username: str, role: str, path: str | os.PathLike | None = None) -> None:
    """Admin: a new role for an account; the user's open sessions and cookies end at their
    next click, and they log in again with the new role. The last enabled admin keeps the
    admin role."""
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
            con.execute("UPDATE users SET role = ?, credentials_changed_at = ? WHERE username = ?",
                        [role, _changed_now(), row["username"]])


def _set_password(con, actor: Actor, action: str, row: dict, password_hash: str) -> None:
    now = _now()
    with db.transaction(con, actor, action,
                        {"username": row["username"],
                         "before": {"password_changed_at": row["password_changed_at"]},
                         "after": {"password_changed_at": now}}):
        con.execute("UPDATE users SET password_hash = ?, password_changed_at = ?, credentials_changed_at = ? "
                    "WHERE username = ?", [password_hash, now, _changed_now(), row["username"]])


def reset_password(actor: Actor, username: str, new_password: str,
                   path: str | os.PathLike | None = None) -> None:
    """Admin: set a new password for an account (audit ``user_reset_password``: who, whose,
    when — never the password or its hash). Ends the user's open sessions, cookies and any
    login lock-out."""
    require(actor, "manage_users")
    validate_password(new_password)
    h = hash_password(new_password)
    with db.connect(path) as con:
        _set_password(con, actor, "user_reset_password", _existing(con, username), h)


def change_own_password(actor: Actor, old_password: str, new_password: str,
                        path: str | os.PathLike | None = None) -> None:
    """Any enabled user: a new password for oneself, given the current one. Ends the user's
    other sessions and cookies (the app renews the one it was changed in)."""
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
    days = _env_number(environ if environ is not None else os.environ, "TARGETS_SESSION_DAYS", 0, 365, "天数")
    return SESSION_DAYS_DEFAULT if days is None else days


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def _hs256(signing_input: str, key: str) -> bytes:
    return hmac.new(key.encode(), signing_input.encode("ascii"), hashlib.sha256).digest()


_JWT_HEADER = _b64(b'{"alg":"HS256","typ":"JWT"}')


def login_token(username: str, days: float, key: str, now: float | None = None) -> str:
    """The login cookie's value: an HS256 JWT (RFC 7519) of the user name, ``exp_date`` (epoch
    seconds, issue time + ``days``) and ``issued_at`` — streamlit-authenticator's token format
    (which lacks ``issued_at``) plus the issue time, which revocation compares
    (:func:`login_current`). Signed here with hmac (no JWT library: PyJWT loads the
    cryptography package, ~8 MB more per server, for algorithms this never uses)."""
    issued = time.time() if now is None else now
    claims = {"username": username, "exp_date": issued + days * 86400, "issued_at": issued}
    signing_input = f"{_JWT_HEADER}.{_b64(json.dumps(claims, separators=(',', ':')).encode())}"
    return f"{signing_input}.{_b64(_hs256(signing_input, key))}"


def read_login_token(raw: str | None, key: str, now: float | None = None) -> dict | None:
    """The token of a login cookie — ``{"username", "exp_date"[, "issued_at"]}`` — if it is
    an HS256 JWT signed with ``key`` and not expired; None for anything else (no cookie,
    another key or algorithm, tampered, malformed)."""
    if not raw:
        return None
    try:
        header, body, signature = raw.split(".")
        if json.loads(_unb64(header)).get("alg") != "HS256":  # never "none", never another key type
            return None
        if not hmac.compare_digest(_unb64(signature), _hs256(f"{header}.{body}", key)):
            return None
        token = json.loads(_unb64(body))
        expires = float(token["exp_date"])
    except (KeyError, TypeError, ValueError, AttributeError, UnicodeError):  # binascii/JSON errors are ValueErrors
        return None
    if not isinstance(token.get("username"), str) or not expires > (time.time() if now is None else now):
        return None
    return token


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
