"""Who may do what. Every write function calls :func:`require` with its caller, so a page
hidden from a role is not the only guard (a crafted session cannot write either)."""
from __future__ import annotations

from .errors import Actor, PermissionDenied

ROLES = {"viewer": "领导（只读）", "analyst": "分析员", "admin": "管理员"}

PERMISSIONS: dict[str, frozenset[str]] = {
    # own_account: change one's own password — the only write a leader (viewer) may make
    "viewer": frozenset({"own_account"}),
    "analyst": frozenset({"own_account", "upload", "withdraw", "verify_flag", "edit_data"}),
    "admin": frozenset({"own_account", "upload", "withdraw", "verify_flag", "edit_data", "edit_rules",
                        "manage_users", "view_audit", "lock_period", "init"}),
}

# The command line runs as the operating-system user, with the administrator's rights:
# whoever can run it can also open the database file directly.
CLI_ROLE = "admin"


def can(actor: Actor | None, action: str) -> bool:
    return actor is not None and action in PERMISSIONS.get(actor.role, frozenset())


def require(actor: Actor | None, action: str) -> None:
    """Raise :class:`PermissionDenied` unless ``actor``'s role allows ``action``."""
    if not can(actor, action):
        who = actor.username if actor else "未登录用户"
        role = ROLES.get(actor.role, actor.role) if actor else "无"
        raise PermissionDenied(f"{who}（{role}）无权执行「{action}」操作")
