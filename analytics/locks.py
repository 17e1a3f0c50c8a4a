"""Period locking: once the bulletin (定期通报) for a reporting period is issued, an admin locks
the period and later uploads touching it are refused; a correction needs an audited unlock.

Locks are events in ``period_locks`` (lock / unlock, who, when, why); the latest event of a
(year, period) is its state. Ingest calls :func:`refuse_locked` inside its write transaction,
so a lock committed before the upload's transaction began is always seen; a lock committed
while the upload is in flight wins too, because both writes update ``meta.data_version`` and
DuckDB refuses the second commit of two conflicting transactions.
"""
from __future__ import annotations

import os
from collections.abc import Iterable

import duckdb
import pandas as pd

from . import db
from .errors import Actor, AnalyticsError, IngestError
from .roles import require

PathLike = str | os.PathLike | None

_STATE = """SELECT year, period, locked, username, changed_at AS at, reason FROM period_locks
            QUALIFY row_number() OVER (PARTITION BY year, period ORDER BY event_id DESC) = 1"""


def period_text(year: int, period: int) -> str:
    """2026, 9 → '2026年1-9月'."""
    return f"{year}年{'1月' if period == 1 else f'1-{period}月'}"


def _validate(year, period) -> tuple[int, int]:
    try:
        y, m = int(year), int(period)
    except (TypeError, ValueError):
        raise AnalyticsError(f"年份、期间应为整数（{year!r}, {period!r}）") from None
    if not 2000 <= y <= 2100:
        raise AnalyticsError(f"年份 {y} 不在 2000–2100 之间")
    if not 1 <= m <= 12:
        raise AnalyticsError(f"期间 {m} 应为 1–12 的月份")
    return y, m


def _current(con: duckdb.DuckDBPyConnection, year: int, period: int) -> tuple | None:
    return db.one(con, """SELECT locked, username, changed_at, reason FROM period_locks WHERE year = ? AND period = ?
                          ORDER BY event_id DESC LIMIT 1""", [year, period])


def _set(year, period, actor: Actor, reason: str, locked: bool, path: PathLike) -> dict:
    require(actor, "lock_period")
    y, m = _validate(year, period)
    reason = (reason or "").strip()
    if not locked and not reason:
        raise AnalyticsError("解锁须填写原因（记入审计日志）")
    with db.connect(path) as con:
        action = "lock_period" if locked else "unlock_period"
        with db.transaction(con, actor, action, {"year": y, "period": m, "reason": reason}) as d:
            cur = _current(con, y, m)
            was = bool(cur and cur[0])
            if locked and was:
                raise AnalyticsError(f"{period_text(y, m)}已于 {cur[2]:%Y-%m-%d %H:%M} 由 {cur[1]} 锁定，无需重复锁定")
            if not locked and not was:
                raise AnalyticsError(f"{period_text(y, m)}未锁定，无需解锁")
            con.execute("""INSERT INTO period_locks VALUES (nextval('library_event_seq'), ?, ?, ?, ?,
                           now()::TIMESTAMP, ?)""", [y, m, locked, actor.username, reason or None])
            d.update(before={"locked": was}, after={"locked": locked})
    return {"year": y, "period": m, "locked": locked, "reason": reason, "by": actor.username}


def lock_period(year: int, period: int, actor: Actor, reason: str = "", path: PathLike = None) -> dict:
    """Lock a reporting period (admin): uploads with values for it are refused from now on."""
    return _set(year, period, actor, reason, True, path)


def unlock_period(year: int, period: int, actor: Actor, reason: str, path: PathLike = None) -> dict:
    """Unlock a period for a correction (admin, reason required); audited with before/after."""
    return _set(year, period, actor, reason, False, path)


def locked_periods(path: PathLike = None, include_unlocked: bool = False) -> pd.DataFrame:
    """Each period's current lock state (year, period, locked, username, at, reason), latest first."""
    frame = db.query(_STATE + " ORDER BY year DESC, period DESC", path=path)
    return frame if include_unlocked else frame[frame.locked.astype(bool)].reset_index(drop=True)


def lock_history(path: PathLike = None) -> pd.DataFrame:
    """Every lock/unlock event, newest first."""
    return db.query("SELECT year, period, locked, username, changed_at AS at, reason FROM period_locks ORDER BY event_id DESC",
                    path=path)


def refuse_locked(con: duckdb.DuckDBPyConnection, file: str, periods: Iterable[tuple[int, int]]) -> None:
    """Raise :class:`IngestError` naming every locked period among ``periods`` (year, period).

    Called by ingest inside its write transaction, before anything is stored."""
    wanted = sorted({(int(y), int(m)) for y, m in periods if y is not None and m is not None})
    if not wanted:
        return
    con.register("_wanted_periods", pd.DataFrame(wanted, columns=["year", "period"]))
    try:
        hits = con.execute("SELECT s.year, s.period, s.username, s.at, s.reason FROM (" + _STATE + ") s "
                           "JOIN _wanted_periods w USING (year, period) WHERE s.locked "
                           "ORDER BY s.year, s.period").fetchall()
    finally:
        con.unregister("_wanted_periods")
    if hits:
        names = "、".join(f"{period_text(y, m)}（{who} 于 {at:%Y-%m-%d} 锁定{'：' + r if r else ''}）"
                         for y, m, who, at, r in hits)
        raise IngestError(f"期间已锁定，拒绝上传：{names}。该期通报已发布；如需更正，请管理员先解锁（须填写原因，记入审计日志）",
                          file)


def upload_periods(con: duckdb.DuckDBPyConnection, checked_records: bool,
                   refs: dict[str, pd.DataFrame]) -> set[tuple[int, int]]:
    """The (year, period) pairs an upload about to be stored would write values for: checked
    cell records (temp tables ``_w``/``_rej`` of analytics.validate) and key-project progress."""
    out: set[tuple[int, int]] = set()
    if checked_records:
        out |= set(con.execute("""SELECT DISTINCT year, period FROM _w WHERE kind = 'value' AND value IS NOT NULL
                                  AND period IS NOT NULL AND row NOT IN (SELECT row FROM _rej)""").fetchall())
    progress = refs.get("project_progress")
    if progress is not None and len(progress):
        out |= {(y, m) for y, m in zip(progress.year, progress.period) if pd.notna(y) and pd.notna(m)}
    return out
