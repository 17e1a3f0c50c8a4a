"""The audit log: who did what, when — read, filtered and exported.

Rows are written only by :func:`db.transaction` (one per write: uploads, withdrawals,
flag verifications, rule/indicator/target edits, user changes, failed logins); this module
only reads them. ``detail`` is the JSON the write recorded (file name and sha256 of an
upload, before/after values of an edit — never a password or its hash).
"""
from __future__ import annotations

import json
import os
from datetime import date, datetime, time, timedelta

import pandas as pd

from . import db
from . import exports
from .exports import neutralise  # noqa: F401 — part of this module's API (tests, pages)

COLUMNS = ["at", "user", "action", "detail"]


def _bound(value: date | datetime | str | None, end: bool) -> datetime | None:
    """A filter bound: a datetime as given; a date (or 'YYYY-MM-DD') as the start of that
    day, or for ``until`` the start of the next day (so ``until`` a date includes it)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if ("T" in value or " " in value or ":" in value) \
            else date.fromisoformat(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return datetime.combine(value + timedelta(days=1) if end else value, time.min)


def query(user: str | None = None, action: str | None = None,
          since: date | datetime | str | None = None, until: date | datetime | str | None = None,
          limit: int | None = None, path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Audit entries, newest first, as columns ``at, user, action, detail`` (detail: the
    JSON text). ``since`` is inclusive, ``until`` exclusive for a datetime and inclusive for
    a date (the whole day). ``user`` and ``action`` match exactly."""
    lo, hi = _bound(since, end=False), _bound(until, end=True)
    frame = db.query(
        """SELECT logged_at AS at, username AS "user", action, detail FROM audit_log
           WHERE (?::VARCHAR IS NULL OR username = ?) AND (?::VARCHAR IS NULL OR action = ?)
             AND (?::TIMESTAMP IS NULL OR logged_at >= ?) AND (?::TIMESTAMP IS NULL OR logged_at < ?)
           ORDER BY logged_at DESC, audit_id DESC
           LIMIT ?""",
        [user or None, user or None, action or None, action or None, lo, lo, hi, hi,
         limit if limit is not None else 2**62], path=path)
    return frame[COLUMNS]


def choices(path: str | os.PathLike | None = None) -> dict[str, list[str]]:
    """The user names and actions present in the log (for filter boxes)."""
    with db.connect(path) as con:
        users = [r[0] for r in con.execute("SELECT DISTINCT username FROM audit_log ORDER BY 1").fetchall()]
        actions = [r[0] for r in con.execute("SELECT DISTINCT action FROM audit_log ORDER BY 1").fetchall()]
    return {"users": users, "actions": actions}


def records(frame: pd.DataFrame) -> list[dict]:
    """JSON-ready entries: ``at`` ISO, ``detail`` parsed back into an object."""
    out = []
    for at, user, action, detail in frame[COLUMNS].itertuples(index=False):
        try:
            parsed = json.loads(detail) if detail else None
        except ValueError:
            parsed = detail
        out.append({"at": pd.Timestamp(at).isoformat(), "user": user, "action": action, "detail": parsed})
    return out


def to_csv(frame: pd.DataFrame, headers: dict[str, str] | None = None) -> bytes:
    """CSV bytes for Excel (UTF-8 with BOM), every text cell and header neutralised
    against formula injection (``=``, ``+``, ``-``, ``@`` → ``'=`` …)."""
    out = frame.copy()
    if "at" in out:
        out["at"] = pd.to_datetime(out["at"]).dt.strftime("%Y-%m-%d %H:%M:%S")
    return exports.to_csv(out.rename(columns=headers or {}))
