"""The login gate, pluggable: who is looking, and the Actor their writes run as.

Two gates share one small interface (:class:`Gate`), chosen by the environment variable
``TARGETS_AUTH``:

- ``password`` (default) — user name + password checked against the ``users`` table
  (bcrypt, :func:`analytics.auth.verify_login`, failures audited); the login survives a
  page reload through a signed cookie ``mubiao_auth`` (streamlit-authenticator's token format, read from the request)
  (key in ``data/.secrets/cookie_key``, generated on first start; lifetime
  ``TARGETS_SESSION_DAYS`` days, default 1). Failed logins are rate-limited per user name
  (:class:`analytics.auth.LoginLocked`). A login — the cookie, or this session — issued
  before the user's password, role or enabled state last changed no longer counts
  (:func:`analytics.auth.login_current`): the login form shows.
- ``oidc`` — Streamlit's own ``st.login`` against an OpenID Connect provider configured in
  ``.streamlit/secrets.toml`` (``[auth]`` section; ``TARGETS_OIDC_PROVIDER`` names a
  ``[auth.<provider>]`` subsection if there are several). The identity claim
  ``TARGETS_OIDC_USERNAME_CLAIM`` (default ``email``) must equal a user name in the
  ``users`` table, which still decides the role.

Either way the Actor used for writes is looked up in the ``users`` table on every run
(:func:`current_actor`) — role as stored now, disabled users refused — never taken from a
role the session holds. Only the gate sets the session's user name; no widget uses the
keys it reads.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import streamlit as st

from analytics import auth, db
from analytics.errors import Actor, AnalyticsError
from analytics.roles import ROLES
from ui import data
from ui.text import APP_TITLE, LOGIN, md

COOKIE_NAME = "mubiao_auth"
AUTH_MODES = ("password", "oidc")
ISSUED_KEY = "auth_issued_at"  # session state: when this session's login was issued (epoch seconds)
RENEW_KEY = "auth_renew"  # session state: re-issue this session's login (own password just changed)


class Gate(Protocol):
    """What the app needs from a login mechanism."""

    def restore(self) -> None:
        """Re-establish a login the browser still carries (cookie, OIDC session)."""

    def username(self) -> str | None:
        """The user name the session is logged in as (None when logged out)."""

    def login_form(self) -> str | None:
        """Render the login UI; return the user name if a login succeeded in this run."""

    def logout(self) -> None:
        """End the session (and forget the cookie)."""


@dataclass(frozen=True)
class GateConfig:
    mode: str
    cookie_name: str
    session_days: float
    secrets_dir: str | None


def gate_config(environ: dict | None = None) -> GateConfig:
    """The gate's settings from the environment: ``TARGETS_AUTH`` (password|oidc),
    ``TARGETS_SESSION_DAYS`` (cookie lifetime, days), ``TARGETS_SECRETS_DIR``."""
    env = environ if environ is not None else os.environ
    mode = (env.get("TARGETS_AUTH") or "password").strip().lower()
    if mode not in AUTH_MODES:
        raise AnalyticsError(f"TARGETS_AUTH={mode!r} 无效：可选 {'、'.join(AUTH_MODES)}")
    return GateConfig(mode, COOKIE_NAME, auth.session_days(env), env.get("TARGETS_SECRETS_DIR"))


@st.cache_data(show_spinner=False, max_entries=256)
def _actor(path: str, data_version: str, username: str) -> Actor | None:
    return auth.actor_for(username, path)


@st.cache_data(show_spinner=False, max_entries=256)
def _login_current(path: str, data_version: str, username: str, issued_at: float) -> bool:
    return auth.login_current(username, datetime.fromtimestamp(issued_at), path)


@st.cache_resource(show_spinner=False)
def _seed_users(path: str) -> bool:
    return auth.seed_demo_users(path)


class PasswordGate:
    """users table + bcrypt; a login is kept across reloads in a signed cookie — an HS256 JWT
    of the user name and expiry, streamlit-authenticator's format (:func:`auth.login_token`).
    The cookie is read from the page request (``st.context.cookies``): a page load renders
    no component and needs no second run. The cookie component (extra_streamlit_components,
    what streamlit-authenticator uses) is rendered only to write or delete the cookie."""

    def __init__(self, config: GateConfig, path: str):
        self.config, self.path = config, path

    def restore(self) -> None:
        ss = st.session_state
        for key in ("authentication_status", "username", "logout"):  # the keys streamlit-authenticator keeps
            ss.setdefault(key, None)
        if ss.get("authentication_status") is True:
            self._keep_current()
            return
        if ss.get("logout"):  # logged out in this session: the cookie the page was requested with is gone
            return
        token = auth.read_login_token(st.context.cookies.get(self.config.cookie_name),
                                      auth.cookie_key(self.config.secrets_dir))
        if token is None:  # none, expired or not signed with our key
            return
        issued = self._issued(token)
        if issued is None or not self._current(token["username"], issued):
            self.logout()  # issued before the password, role or enabled state last changed; user gone or disabled
            return
        ss["username"], ss["authentication_status"], ss["logout"] = token["username"], True, None
        ss[ISSUED_KEY] = issued

    def _issued(self, token: dict) -> float | None:
        """When a cookie token was issued: its ``issued_at``; a token without one (written by
        streamlit-authenticator, before this app wrote its own) holds ``exp_date`` = issue time
        + the lifetime (None then without a lifetime: with ``TARGETS_SESSION_DAYS=0`` such a
        cookie is not honoured)."""
        try:
            return float(token["issued_at"])
        except (KeyError, TypeError, ValueError):
            pass
        if not self.config.session_days:
            return None
        return float(token["exp_date"]) - self.config.session_days * 86400

    def _current(self, username: str | None, issued: float) -> bool:
        return bool(username) and _login_current(self.path, data.version(self.path), username, issued)

    def _keep_current(self) -> None:
        """A session already logged in: renewed after its own password change, else ended if
        it was issued before the user's password or role last changed (an unknown or
        disabled user is refused by :func:`login_gate`, with its warning)."""
        ss = st.session_state
        if ss.pop(RENEW_KEY, False):
            ss[ISSUED_KEY] = time.time()
            self._set_cookie(ss["username"])
        ss.setdefault(ISSUED_KEY, time.time())  # a session this gate did not log in counts from now
        if current_actor() is not None and not self._current(ss.get("username"), ss[ISSUED_KEY]):
            self.logout()

    def _set_cookie(self, username: str) -> None:
        days = self.config.session_days
        if days:  # 0: the login ends with the tab
            token = auth.login_token(username, days, auth.cookie_key(self.config.secrets_dir))
            expires = (datetime.now() + timedelta(days=days)).isoformat()
            _cookie_component("set", cookie=self.config.cookie_name, value=token,
                              options={"path": "/", "expires": expires, "sameSite": "strict"})

    def username(self) -> str | None:
        ss = st.session_state
        return ss.get("username") if ss.get("authentication_status") is True else None

    def login_form(self) -> str | None:
        box = st.empty()
        with box.container():
            _, mid, _ = st.columns([1, 1.2, 1])
            with mid:
                st.title(APP_TITLE)
                st.caption(LOGIN["subtitle"])
                with st.form("auth_login"):
                    st.subheader(LOGIN["form"])
                    name = st.text_input(LOGIN["username"], key="auth_login_user", autocomplete="username")
                    password = st.text_input(LOGIN["password"], type="password", key="auth_login_password",
                                             autocomplete="current-password")
                    submitted = st.form_submit_button(LOGIN["submit"], type="primary", width="stretch")
                message = st.empty()
        if not submitted:
            return None
        try:
            actor = auth.verify_login(name, password, self.path)
        except AnalyticsError as e:  # LoginLocked (too many failures), or a bad TARGETS_LOGIN_* setting
            message.error(str(e))
            return None
        if actor is None:
            message.error(LOGIN["failed"])
            return None
        ss = st.session_state
        ss["username"], ss["authentication_status"], ss["logout"] = actor.username, True, None
        ss[ISSUED_KEY] = time.time()
        self._set_cookie(actor.username)  # signed token: user name + expiry
        box.empty()
        return actor.username

    def logout(self) -> None:
        ss = st.session_state
        ss.pop(ISSUED_KEY, None)
        ss["authentication_status"], ss["username"], ss["logout"] = None, None, True
        _cookie_component("delete", cookie=self.config.cookie_name)


def _cookie_component(method: str, **args) -> None:
    """Write or delete the login cookie in the browser: extra_streamlit_components' cookie
    manager (the component streamlit-authenticator renders), called for that one action — a
    0-height iframe that does it, then reruns the app once."""
    from extra_streamlit_components.CookieManager import _component_func as cookie_manager

    st.html("<style>[data-testid='stElementContainer']:has(iframe[title*='cookie_manager'])"
            "{height:0;min-height:0;margin:0;padding:0;overflow:hidden;border:0}</style>")
    cookie_manager(method=method, key=f"auth_cookie_{method}", default=False, **args)


class OidcGate:
    """Streamlit's ``st.login`` (OpenID Connect); the role still comes from the users table."""

    def __init__(self, config: GateConfig, path: str):
        self.provider = os.environ.get("TARGETS_OIDC_PROVIDER") or None

    def restore(self) -> None:
        pass  # Streamlit keeps the OIDC identity in its own signed cookie

    def username(self) -> str | None:
        return _oidc_username()

    def login_form(self) -> str | None:
        _, mid, _ = st.columns([1, 1.2, 1])
        with mid:
            st.title(APP_TITLE)
            st.caption(LOGIN["subtitle"])
            st.button(LOGIN["oidc"], type="primary", on_click=st.login,
                      args=(self.provider,) if self.provider else ())
        return None

    def logout(self) -> None:
        if st.user.is_logged_in:
            st.logout()


GATES = {"password": PasswordGate, "oidc": OidcGate}


def _username_from_session() -> str | None:
    """The user name the gate put in this session (read without rendering anything)."""
    if gate_config().mode == "oidc":
        return _oidc_username()
    ss = st.session_state
    return ss.get("username") if ss.get("authentication_status") is True else None


def _oidc_username() -> str | None:
    if not st.user.is_logged_in:
        return None
    claim = os.environ.get("TARGETS_OIDC_USERNAME_CLAIM") or "email"
    return auth.normalise_username(str(st.user.get(claim) or "")) or None


def renew_login() -> None:
    """After the user changed their own password (which ends every login issued before):
    keep this session — on the next run the gate re-stamps it and re-issues its cookie."""
    st.session_state[RENEW_KEY] = True


def current_actor() -> Actor | None:
    """The logged-in user as stored in the users table now (None if logged out, unknown or
    disabled). Cached by the data version, which every write — a role change, a disabling —
    bumps, so a change applies at the user's next click."""
    username = _username_from_session()
    if not username:
        return None
    path = str(db.db_path())
    return _actor(path, data.version(path), username)


def login_gate() -> Actor | None:
    """Run once per script run, before navigation: restore or ask for the login, show who
    is logged in with a logout button in the sidebar. Returns the Actor, or None when the
    login form is showing."""
    path = str(db.db_path())
    _seed_users(path)
    gate: Gate = GATES[gate_config().mode](gate_config(), path)
    gate.restore()
    actor = current_actor()
    if actor is None and gate.username():  # logged in, but unknown or disabled by now
        gate.logout()
        st.warning(LOGIN["refused"])
    if actor is not None and _account_box(gate, actor):
        actor = None
    if actor is None and gate.login_form():
        actor = current_actor()
        if actor is not None:
            _account_box(gate, actor)
    return actor


def _account_box(gate: Gate, actor: Actor) -> bool:
    """Sidebar: who is logged in, and a logout button; True if it was just pressed."""
    with st.sidebar:
        st.caption(f"当前用户：{md(actor.name or actor.username)}（{ROLES.get(actor.role, actor.role)}）")
        clicked = st.button(LOGIN["logout"], key="auth_logout", icon=":material/logout:")
        if clicked:
            gate.logout()
            return True
    return False
