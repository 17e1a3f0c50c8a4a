"""Concurrency: 20 sessions keep opening 总览 and 进度差距 of the running app while an analyst
uploads with the CLI (``python -m analytics ingest``) into the same database file.

What must hold (DESIGN.md "Holding the database file"):

- no session ever gets an exception or an error message, or loses its login;
- every rendering of 总览 shows either the data before an upload or after it, never a mix:
  each upload rewrites **all** 累计 (ytd) values of our county (清河县) for the latest period
  — ×0.8, then back to the original values, then ×0.8 again — so the six status counts, the
  纳入考核目标 count and every completion % on the page's chart change together; the two
  possible page states are computed from the CLI's ``gap`` JSON before and after;
- after the last upload every session shows the new state (no stale cache), in a real
  browser too;
- the CLI run while the app serves corrupts nothing: every upload is stored (exit 0), the
  audit log holds exactly one entry per upload, and ``browse``/``check`` still work.

The sessions speak Streamlit's websocket protocol (tests/e2e/session.py) with the login
cookie a real Chromium login produced: to the server they are browser sessions (same
session state, caches and cookie login), but 20 Chromium tabs would starve a 2-core server.
The Chromium page stays open on 总览 throughout and is checked at the end.
"""
from __future__ import annotations

import asyncio
import csv
import json
import random
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from analytics.progress import STATUS
from tests.htmlparts import gap_bars

from .conftest import TIMEOUT_MS, VIEWPORT, login, run_cli, wait_app
from .server import ROOT, serve
from .session import AppSession, Run, SessionError

SESSIONS = 20
HOME = "清河县"           # the demo's own county: the unit 总览 speaks about
FACTOR = 0.8
THINK = 0.5               # at most this long between a session's page switches (seconds, random)
COOKIE = "mubiao_auth"   # ui/auth.COOKIE_NAME
CARD_ORDER = ["done", "ahead", "on_track", "behind", "far_behind", "missing"]  # as pages/overview.py draws them
HEADER = ["年份", "期间", "单位", "指标", "计量单位", "口径", "目标值", "数值"]
CARD = re.compile(r"status-word'>(.*?)</div><div class='status-count'>(\d+)</div>")
TARGETS = re.compile(r"纳入考核目标 <b>(\d+)</b> 项")


# ------------------------------------------------------------------ the two versions, from the CLI

def page_state(gap_rows: list[dict]) -> dict:
    """What 总览 must show for our county, from ``python -m analytics gap --unit 清河县``: the six
    status cards, the 纳入考核目标 count, and the chart's completion % per 累计 indicator."""
    counted = [r for r in gap_rows if r["status_code"] != "excluded"]
    return {"cards": [(STATUS[c], sum(r["status_code"] == c for r in counted)) for c in CARD_ORDER],
            "targets": len(counted),
            "completion": sorted((r["indicator"], round(r["completion"], 9)) for r in gap_rows
                                 if r["kind"] == "cumulative" and r["completion"] is not None)}


def shown_state(run: Run) -> dict:
    """The same three things as the page sent them."""
    html = "".join(run.html())
    bars = [gap_bars(h)[1] for h in run.html() if "<figure class='gap-bars'>" in h][:1]  # the gap chart: one row per bar
    return {"cards": [(word, int(n)) for word, n in CARD.findall(html)],
            "targets": int(m.group(1)) if (m := TARGETS.search(html)) else None,
            "completion": sorted((y, round(x, 9)) for d in bars for y, x in zip(d.label, d.completion))}


def gap_of_home(db: Path) -> list[dict]:
    code, doc = run_cli("--db", str(db), "gap", "--unit", HOME)
    assert code == 0 and doc, doc
    return doc


def write_upload(path: Path, rows: list[dict], factor: float, reverse: bool) -> Path:
    """A long-layout file revising every ytd value of our county for the latest period;
    ``reverse`` only changes the row order (the same values again make a new file, not a duplicate)."""
    rows = rows[::-1] if reverse else rows
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(HEADER)
        for r in rows:
            value = r["value"] if factor == 1 else round(r["value"] * factor, 4)
            w.writerow([r["year"], r["period"], r["unit"], r["indicator"], r["unit_of_measure"], "ytd", "", repr(value)])
    return path


# ------------------------------------------------------------------ the sessions and the analyst

@dataclass
class Seen:
    n: int
    overview: list[tuple[bool, dict]] = field(default_factory=list)   # (asked for after the uploads, state)
    gap_counts: list[str] = field(default_factory=list)
    runs: list[tuple[float, float]] = field(default_factory=list)      # (asked, answered) of every page run
    errors: list[str] = field(default_factory=list)


def problems(run: Run, page: str) -> list[str]:
    """Anything a user should never see: an exception, an error message, the login gone, another page."""
    out = [f"exception: {e}" for e in run.exceptions] + [f"st.error: {a}" for a in run.alerts("error")]
    out += [f"warning: {a}" for a in run.alerts("warning")]          # e.g. 请先登录
    if (page == "总览" and "目标任务完成情况" not in run.title) or (page == "进度差距" and not run.title.startswith("进度差距")):
        out.append(f"expected {page}, got title {run.title!r} ({[k for k, _ in run.elements][:20]})")
    return out


async def browse_while_uploading(url: str, cookie: str, db: Path, files: list[Path], old: dict
                                 ) -> tuple[list[Seen], list[dict], dict]:
    """SESSIONS sessions switching 总览 ↔ 进度差距; once each has shown 总览, the analyst's CLI
    uploads run one after the other; each session ends with a 总览 asked for after the last one."""
    rng = random.Random(20261127)
    seen = [Seen(n) for n in range(SESSIONS)]
    opened, uploads_over = asyncio.Event(), asyncio.Event()
    t_begin = time.monotonic()
    n_open = 0
    uploads: list[dict] = []
    versions = {"old": old}

    async def timed(rec: Seen, run):
        t = time.monotonic()
        result = await run
        rec.runs.append((t, time.monotonic()))
        return result

    def count_open() -> None:
        nonlocal n_open
        n_open += 1
        if n_open == SESSIONS:
            opened.set()

    async def session(rec: Seen) -> None:
        counted = False
        try:
            async with AppSession(url, {COOKIE: cookie}, timeout=TIMEOUT_MS / 1000) as s:
                run = await timed(rec, s.run())                       # the landing page: 总览
                rec.errors += problems(run, "总览")
                rec.overview.append((False, shown_state(run)))
                counted = True
                count_open()
                while not rec.errors:
                    await asyncio.sleep(rng.uniform(0, THINK))
                    if not uploads_over.is_set():
                        run = await timed(rec, s.run(s.page("进度差距")))
                        rec.errors += problems(run, "进度差距")
                        rec.gap_counts += [m for m in run.markdown() if m.startswith("共 ")][:1]
                        await asyncio.sleep(rng.uniform(0, THINK))
                    final = uploads_over.is_set()
                    run = await timed(rec, s.run(s.page("总览")))
                    rec.errors += problems(run, "总览")
                    rec.overview.append((final, shown_state(run)))
                    if final:
                        return
        except SessionError as e:
            rec.errors.append(f"session {rec.n}: {e}")
        finally:
            if not counted:  # a session that failed to open must not keep the uploads waiting
                count_open()

    async def cli(*args: str) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "analytics", "--db", str(db), *args,
                                                    cwd=ROOT, stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 120)
        return proc.returncode, out.decode(), err.decode()

    async def analyst() -> None:
        try:
            await asyncio.wait_for(opened.wait(), 120)
            versions["opened_after"] = time.monotonic() - t_begin
            for i, f in enumerate(files):
                t0 = time.monotonic()
                code, out, err = await cli("ingest", str(f))
                uploads.append({"file": f.name, "exit": code, "start": t0, "end": time.monotonic(), "out": out})
                assert code == 0, f"{f.name}: exit {code}\n{out[-1500:]}\n{err[-1500:]}"
                if i in (0, len(files) - 1):  # the new version; the CLI reads while the app serves, too
                    code, out, err = await cli("gap", "--unit", HOME)
                    assert code == 0, err[-1500:]
                    state = page_state(json.loads(out))
                    versions.setdefault("new", state)
                    assert state == versions["new"], f"after {f.name}: {state}"
        finally:
            uploads_over.set()

    results = await asyncio.gather(analyst(), *(session(rec) for rec in seen), return_exceptions=True)
    if isinstance(results[0], BaseException):
        raise results[0]
    for r in results[1:]:
        if isinstance(r, BaseException):
            raise r
    return seen, uploads, versions


def in_thread(coro):
    """Run a coroutine on a loop of its own (the sync Playwright of the browser fixture owns this thread's)."""
    box = {}

    def target():
        try:
            box["result"] = asyncio.run(coro)
        except BaseException as e:  # noqa: BLE001 — re-raised in the test's thread
            box["error"] = e

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout=600)
    if "error" in box:
        raise box["error"]
    assert "result" in box, "the sessions did not finish in 600 s"
    return box["result"]


# ------------------------------------------------------------------ the test

@pytest.mark.slow
def test_twenty_sessions_see_old_or_new_data_while_the_cli_uploads(e2e_db, browser, tmp_path):
    t_start = time.monotonic()
    code, before_values = run_cli("--db", str(e2e_db), "browse")
    assert code == 0 and before_values
    period = max((r["year"], r["period"]) for r in before_values)
    ours = sorted((r for r in before_values if r["unit"] == HOME and r["measure"] == "ytd"
                   and (r["year"], r["period"]) == period), key=lambda r: r["indicator_id"])
    assert len(ours) >= 10, ours
    files = [write_upload(tmp_path / "清河县_9月_修订1.csv", ours, FACTOR, reverse=False),
             write_upload(tmp_path / "清河县_9月_修订2.csv", ours, 1, reverse=False),
             write_upload(tmp_path / "清河县_9月_修订3.csv", ours, FACTOR, reverse=True)]
    old = page_state(gap_of_home(e2e_db))
    assert old["completion"] and old["targets"], old
    code, audit_before = run_cli("--db", str(e2e_db), "audit", "--action", "upload")
    assert code == 0

    with serve(env={"TARGETS_DB": str(e2e_db)}) as app_url:
        context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai")
        try:
            page = context.new_page()
            login(page, app_url, "leader", "leader123")          # a real login: the cookie the sessions use
            cookie = next(c["value"] for c in context.cookies() if c["name"] == COOKIE)
            t_open = time.monotonic()
            seen, uploads, versions = in_thread(browse_while_uploading(app_url, cookie, e2e_db, files, old))
            t_done = time.monotonic()
            page.reload()                                         # a browser after the last upload
            wait_app(page)
            page.locator(".status-count").first.wait_for(timeout=TIMEOUT_MS)
            words = page.locator(".status-word").all_inner_texts()
            counts = page.locator(".status-count").all_inner_texts()
            browser_cards = [(w.strip(), int(c)) for w, c in zip(words, counts)]
        finally:
            context.close()

    errors = [e for rec in seen for e in rec.errors]
    assert not errors, "\n".join(errors[:20])
    new = versions["new"]
    assert new["cards"] != old["cards"] and new["completion"] != old["completion"]

    # every rendering of 总览 shows one version, whole
    renders = [(rec.n, final, state) for rec in seen for final, state in rec.overview]
    mixed = [(n, state) for n, _, state in renders if state not in (old, new)]
    assert not mixed, (f"{len(mixed)} of {len(renders)} renderings of 总览 showed neither the old nor the new data, "
                       f"e.g. session {mixed[0][0]}:\n{mixed[0][1]}\nold: {old}\nnew: {new}")
    # asked for after the last upload: the new data, in every session and in the browser
    finals = [(rec.n, rec.overview[-1]) for rec in seen]
    assert all(final and state == new for _, (final, state) in finals), [(n, f, s == new) for n, (f, s) in finals]
    assert browser_cards == new["cards"], (browser_cards, new["cards"])
    # the load was there while the CLI held the file: page runs overlapping an ingest
    during = [r for rec in seen for r in rec.runs if any(r[0] < u["end"] and r[1] > u["start"] for u in uploads)]
    assert len(during) >= SESSIONS, f"only {len(during)} page runs overlapped an ingest"
    assert len({c for rec in seen for c in rec.gap_counts}) == 1, {c for rec in seen for c in rec.gap_counts}

    # the uploads: each stored in full, one audit entry each
    reports = [json.loads(u["out"]) for u in uploads]
    assert [(r["file"], r["status"], r["rows_stored"]) for r in reports] == [(f.name, "stored", len(ours)) for f in files]
    code, audit_after = run_cli("--db", str(e2e_db), "audit", "--action", "upload")
    assert code == 0 and len(audit_after) == len(audit_before) + len(files)
    added = audit_after[:len(files)]                              # newest first
    assert sorted((e["detail"]["file"], e["detail"]["upload_id"]) for e in added) == \
        sorted((r["file"], r["upload_id"]) for r in reports)
    # the file still opens and answers: the same values, ours from the last upload
    code, after_values = run_cli("--db", str(e2e_db), "browse")
    assert code == 0 and len(after_values) == len(before_values)
    revised = [r for r in after_values if r["unit"] == HOME and r["measure"] == "ytd" and (r["year"], r["period"]) == period]
    assert sorted((r["indicator"], r["file_name"], r["value"]) for r in revised) == \
        sorted((r["indicator"], files[2].name, round(r["value"] * FACTOR, 4)) for r in ours)
    code, flags = run_cli("--db", str(e2e_db), "check")
    assert code == 0 and isinstance(flags, list)

    print(f"\n{SESSIONS} sessions: {len(renders)} renderings of 总览, {len(during)} page runs overlapping an ingest, "
          f"{sum(len(rec.gap_counts) for rec in seen)} of 进度差距, in {t_done - t_open:.0f}s (all open after "
          f"{versions['opened_after']:.0f}s, last upload done after {uploads[-1]['end'] - t_open:.0f}s); uploads took "
          + ", ".join(f"{u['end'] - u['start']:.1f}s" for u in uploads) + f"; whole test {time.monotonic() - t_start:.0f}s")
