"""The login gate, pluggable: who is looking, and the Actor their writes run as.

Two gates share one small interface (:class:`Gate`), chosen by the environment variable
``TARGETS_AUTH``:

- ``password`` (default) — user name + password checked against the ``users`` table
  (bcrypt, :func:`analytics.auth.verify_login`, failures audited); the login survives a
  page reload through streamlit-authenticator's signed cookie ``mubiao_auth``
  (key in ``data/.secrets/cookie_key``, generated on first start; lifetime
  ``TARGETS_SESSION_DAYS`` days, default 1).
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

import contextlib
import io
import os
from dataclasses import dataclass
from typing import Protocol

import streamlit as st

from analytics import auth, db
from analytics.errors import Actor, AnalyticsError
from analytics.roles import ROLES
from ui import data
from ui.text import APP_TITLE, LOGIN, md

COOKIE_NAME = "mubiao_auth"
AUTH_MODES = ("password", "oidc")


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


@st.cache_data(show_spinner=False, max_entries=8)
def _credentials(path: str, data_version: str) -> dict:
    return auth.credentials(path)


@st.cache_data(show_spinner=False, max_entries=256)
def _actor(path: str, data_version: str, username: str) -> Actor | None:
    return auth.actor_for(username, path)


@st.cache_resource(show_spinner=False)
def _seed_users(path: str) -> bool:
    return auth.seed_demo_users(path)


class PasswordGate:
    """users table + bcrypt, kept across reloads by streamlit-authenticator's cookie."""

    def __init__(self, config: GateConfig, path: str):
        import copy

        import streamlit_authenticator as stauth

        self.config, self.path = config, path
        creds = copy.deepcopy(_credentials(path, data.version(path)))  # the library mutates it
        with contextlib.redirect_stdout(io.StringIO()):  # it prints harmless token warnings
            self.authenticator = stauth.Authenticate(
                creds, config.cookie_name, auth.cookie_key(config.secrets_dir), config.session_days,
                auto_hash=False, login_sleep_time=0)

    def restore(self) -> None:
        from streamlit_authenticator.utilities import LoginError

        # the cookie component is a 0-height iframe; its container would still show as a bar
        st.html("<style>[data-testid='stElementContainer']:has(iframe[title*='cookie_manager'])"
                "{height:0;min-height:0;margin:0;padding:0;overflow:hidden;border:0}</style>")

        try:
            with contextlib.redirect_stdout(io.StringIO()):
                self.authenticator.login(location="unrendered")
        except LoginError:  # the cookie names a user who no longer exists or is disabled
            self.logout()

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
        actor = auth.verify_login(name, password, self.path)
        if actor is None:
            message.error(LOGIN["failed"])
            return None
        ss = st.session_state
        ss["username"], ss["name"], ss["roles"] = actor.username, actor.name, [actor.role]
        ss["authentication_status"], ss["logout"] = True, None
        self.authenticator.cookie_controller.set_cookie()  # signed token: user name + expiry
        box.empty()
        return actor.username

    def logout(self) -> None:
        ss = st.session_state
        if ss.get("authentication_status"):
            self.authenticator.authentication_controller.logout()
        else:
            ss["authentication_status"], ss["username"], ss["logout"] = None, None, True
        self.authenticator.cookie_controller.delete_cookie()


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
