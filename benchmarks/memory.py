"""memory_rss: resident memory of the app's server — the ``streamlit run app.py`` process and
its children — with ``sessions`` sessions open (half on 总览, half on 进度差距) on a generated
300 units × 300 indicators × 12 months database, ÷ the same for a bare Streamlit server whose
only page opens the same database file with duckdb and shows one number, also with
``sessions`` sessions open. Both servers are started and measured in the same run (goal ≤ 2).

    python benchmarks/memory.py [--quick] [--units 300] [--indicators 300] [--sessions 20]

Sessions: tests/e2e/session.py (Streamlit's websocket protocol, as a browser speaks it, with
the login cookie a login would set) — to the server they are browser sessions; opening 20
Chromium tabs on 2 cores would measure the browser's CPU, not the server's memory. All
sessions connect at once (a meeting starting), each runs its page to the end, stays open, and
the RSS is read 1 s after the last run finished (the largest of three reads 0.2 s apart).

The database is built once per size by benchmarks/gap_page.build (minutes at full size) and
cached in ``$TMPDIR/benchmark/``; the cache key holds the sizes, the schema version and a hash
of the builder's code. Each server gets a private copy.

Two figures: ``memory_rss`` — the first views compute the gap table and the data-quality
flags (data that came in through the CLI); ``memory_rss_kept`` — those results kept beside the
database, as an upload through the app leaves them (the views only read).

Besides the JSON lines, ``#`` lines say what the server held: RSS after the server start and
after each half of the sessions, so a miss can be traced to a page.
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import inspect
import os
import shutil
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from common import figure

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.server import last_pid, serve  # noqa: E402
from tests.e2e.session import AppSession  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "benchmark"
COOKIE = "mubiao_auth"  # ui/auth.COOKIE_NAME

BARE = textwrap.dedent('''
    import os, duckdb, streamlit as st
    con = duckdb.connect(os.environ["TARGETS_DB"])
    try:
        n = con.execute("SELECT count(*) FROM observations").fetchone()[0]
    finally:
        con.close()
    st.title("数据")
    st.metric("数值个数", f"{n:,}")
''')


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and all its descendants, MB (psutil if installed, else /proc)."""
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        proc = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2 ** 20
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total / 2 ** 20


def settled_rss(pid: int, settle: float = 1.0) -> float:
    time.sleep(settle)
    reads = []
    for _ in range(3):
        reads.append(rss_mb(pid))
        time.sleep(0.2)
    return max(reads)


def cached_database(n_units: int, n_indicators: int) -> Path:
    """The gap_page benchmark database of this size, built once and kept in $TMPDIR/benchmark."""
    import gap_page
    from analytics import db, demo
    code = "".join(inspect.getsource(f) for f in (demo.generate_reference, demo.generate_long_csv,
                                                  gap_page.write_targets, gap_page.build))
    key = hashlib.sha256(f"{n_units}x{n_indicators}|{db.SCHEMA_VERSION}|{code}".encode()).hexdigest()[:12]
    path = CACHE / f"gap_{n_units}x{n_indicators}_{key}.duckdb"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="build_", dir=CACHE))
        try:
            built = gap_page.build(work, n_units, n_indicators)
            for suffix in (".version", ""):  # the database last: its presence marks a complete entry
                if Path(str(built) + suffix).exists():
                    os.replace(str(built) + suffix, str(path) + suffix)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return path


def private_copy(cached: Path, work: Path, name: str) -> Path:
    target = work / name
    for suffix in ("", ".version"):
        if Path(str(cached) + suffix).exists():
            shutil.copy(str(cached) + suffix, str(target) + suffix)
    return target


def login_cookie(secrets_dir: Path, username: str, days: float = 1) -> str:
    """The login cookie the password gate sets (analytics.auth.login_token, signed with the
    app's cookie key), so that the sessions arrive logged in as a returning browser does."""
    from analytics import auth
    return auth.login_token(username, days, auth.cookie_key(secrets_dir))


async def _open_sessions(url: str, cookies: dict, pages: list[str | None], hold, expect: dict) -> list[float]:
    """Connect one session per entry of ``pages`` (a page title, None = the landing page) all at
    once, run each page to its end, then call ``hold()`` while they all stay open."""
    sessions = [AppSession(url, cookies, timeout=600) for _ in pages]
    times = []

    async def one(s: AppSession, page: str | None) -> None:
        await s.__aenter__()
        t0 = time.perf_counter()
        run = await s.run()
        if page:
            run = await s.run(s.page(page))
        times.append(time.perf_counter() - t0)
        if run.exceptions or run.alerts("error"):
            raise RuntimeError(f"{page or 'landing page'}: {run.exceptions or run.alerts('error')}")
        want = expect.get(page)
        if want and want not in run.title:
            raise RuntimeError(f"{page or 'landing page'}: title {run.title!r}, expected {want!r}")

    try:
        half = len(pages) // 2
        await asyncio.gather(*(one(s, p) for s, p in zip(sessions[:half], pages[:half])))
        hold("half")
        await asyncio.gather(*(one(s, p) for s, p in zip(sessions[half:], pages[half:])))
        hold("all")
    finally:
        for s in sessions:
            await s.__aexit__(None, None, None)
    return times


def measure(script: str, env: dict, cookies: dict, pages: list[str | None], expect: dict, label: str) -> float:
    with serve(script, env=env, timeout=120) as url:
        pid = last_pid()
        reads = {"started": settled_rss(pid, settle=0)}
        times = asyncio.run(_open_sessions(url, cookies, pages, lambda k: reads.__setitem__(k, settled_rss(pid)),
                                           expect))
    print(f"# {label}: RSS {reads['started']:.0f} MB started, {reads['half']:.0f} MB with {len(pages) // 2} "
          f"sessions, {reads['all']:.0f} MB with {len(pages)}; page runs median {statistics.median(times):.1f}s, "
          f"max {max(times):.1f}s", flush=True)
    return reads["all"]


def run(quick: bool = False, n_units: int | None = None, n_indicators: int | None = None,
        sessions: int | None = None) -> list[dict]:
    n_units = n_units or (40 if quick else 300)
    n_indicators = n_indicators or (40 if quick else 300)
    sessions = sessions or (4 if quick else 20)
    cached = cached_database(n_units, n_indicators)
    work = Path(tempfile.mkdtemp(prefix="bench_memory_"))
    try:
        from analytics import auth
        auth.BCRYPT_ROUNDS = 4
        secrets = work / "secrets"
        cookies = {COOKIE: login_cookie(secrets, "leader")}

        ours_db = private_copy(cached, work, "ours.duckdb")
        auth.seed_demo_users(ours_db)
        # 总览 is the landing page; 进度差距 is one sidebar click away
        pages = [None if i % 2 == 0 else "进度差距" for i in range(sessions)]
        expect = {None: "目标任务完成情况", "进度差距": "进度差距"}
        ours = measure("app.py", {"TARGETS_DB": str(ours_db), "TARGETS_SECRETS_DIR": str(secrets)}, cookies,
                       pages, expect, f"ours ({n_units}×{n_indicators}, 总览/进度差距)")
        # the same after an upload through the app, which computes and keeps (db.cached_frame) the gap
        # table, the 进度差距 table and the quality flags of the latest period before it reports done: the views only read
        kept_db = private_copy(cached, work, "kept.duckdb")
        auth.seed_demo_users(kept_db)
        from analytics import browse, progress, quality
        years = browse.catalog(kept_db)["years"]
        year = max(years)
        progress.gap_table(year, max(years[year]), kept_db)
        quality.check(year, max(years[year]), kept_db)
        progress.gap_ranked(year, max(years[year]), kept_db)  # the 进度差距 table: ui/data.warm keeps it too
        kept = measure("app.py", {"TARGETS_DB": str(kept_db), "TARGETS_SECRETS_DIR": str(secrets)}, cookies,
                       pages, expect, f"ours, results kept ({n_units}×{n_indicators}, 总览/进度差距)")

        (work / "bare.py").write_text(BARE, encoding="utf-8")
        bare_db = private_copy(cached, work, "bare.duckdb")
        bare = measure(str(work / "bare.py"), {"TARGETS_DB": str(bare_db)}, {}, [None] * sessions,
                       {None: "数据"}, "bare")
        label = (f"bare Streamlit server, one page opening the same {n_units}×{n_indicators} database "
                 f"({sessions} sessions on each)")
        return [figure("memory_rss", ours, "MB", label, bare), figure("memory_rss_kept", kept, "MB", label, bare)]
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--units", type=int)
    ap.add_argument("--indicators", type=int)
    ap.add_argument("--sessions", type=int)
    a = ap.parse_args()
    run(a.quick, a.units, a.indicators, a.sessions)
