"""gap_page_server: the server-side script run of the 进度差距 page (pages/gap.py through
app.py, logged in, under AppTest) ÷ a bare page in the same run that executes the same
DuckDB query as progress.gap_table's base query and shows the result with a plain
st.dataframe — on a generated 300 units × 300 indicators × 12 months database.

Three figures, each against the same bare baseline (which has no cache at all):

- ``gap_page_server`` — cold: Streamlit's caches cleared before every timed run; the
  results the analytics keep beside the database by data version (``db.cached_frame``: the
  gap table, the data-quality flags behind the ⚑ marker) are present — the state every
  viewer meets after an upload through the app, which computes them before it reports done.
- ``gap_page_server_first`` — nothing kept either: the first view after data changed outside
  the app (CLI ingest, a restored file), which computes the gap table and all quality rules.
- ``gap_page_server_warm`` — a rerun hitting Streamlit's data-version cache (a second viewer).

    python benchmarks/gap_page.py [--units 300] [--indicators 300] [--period 9] [--repeat 3]

If the page raises instead of rendering (at 300 × 300 = 90,000 rows × 17 columns it exceeds
pandas' Styler limit ``styler.render.max_elements`` = 262,144 cells), the figure is printed
with ``"value": null`` and the error; ``--units 50`` (15,000 rows) is the largest grid the page
renders today.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from common import best_of, figure

from analytics import auth, progress
from analytics.demo import generate_long_csv, generate_reference
from analytics.errors import Actor
from analytics.ingest import ingest_path

BENCH = Actor("bench", "admin")
ROOT = Path(__file__).resolve().parent.parent
YEAR = 2026

BARE_PAGE = '''
import duckdb
import streamlit as st

con = duckdb.connect({db!r})
try:
    frame = con.execute({sql!r}, {{"year": {year}, "period": {period}}}).df()
finally:
    con.close()
st.title("bare")
st.dataframe(frame)
'''


def write_targets(path: Path, n_units: int, n_indicators: int, seed: int = 7) -> int:
    """One annual target per unit × indicator (long layout, 目标值 column), 亿元."""
    rng = np.random.default_rng(seed)
    u, i = np.meshgrid(np.arange(1, n_units + 1), np.arange(1, n_indicators + 1), indexing="ij")
    frame = pd.DataFrame({"年份": YEAR, "期间": "", "单位": [f"测试县{k:05d}" for k in u.ravel()],
                          "指标": [f"测试指标{k:04d}" for k in i.ravel()], "计量单位": "亿元", "口径": "ytd",
                          "目标值": np.char.mod("%.2f", rng.uniform(10, 520, u.size)), "数值": ""})
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    return len(frame)


def build(work: Path, n_units: int, n_indicators: int) -> Path:
    path = work / "bench.duckdb"
    t0 = time.perf_counter()
    for f in generate_reference(work, n_units, n_indicators):
        assert ingest_path(f, BENCH, path=path).status == "stored"
    targets = work / "targets.csv"
    n_t = write_targets(targets, n_units, n_indicators)
    values = work / "values.csv"
    n_v = generate_long_csv(values, n_units, n_indicators, 12)  # 1-2月 … 1-12月 (11 reports, 12 months)
    for f, n in ((targets, n_t), (values, n_v)):
        report = ingest_path(f, BENCH, path=path)
        assert report.status == "stored" and report.rows_stored == n, report.message
    print(f"# built {n_units} units × {n_indicators} indicators: {n_t:,} targets, {n_v:,} values "
          f"in {time.perf_counter() - t0:.0f}s", flush=True)
    return path


def routed_through_app() -> None:
    """As on a running server (app.py has called st.navigation): AppTest reruns go through
    app.py — see tests/test_pages_auth.py::warm_server_routing."""
    from streamlit.runtime.pages_manager import PagesManager
    init = PagesManager.__init__

    def v2_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = v2_init


def clear_caches() -> None:
    """What a data change leaves a running server: every cached result keyed by data version
    gone (st.cache_data and the shared frames of ui/data.py), the database opened once."""
    import streamlit as st

    from ui import data
    st.cache_data.clear()
    for fn in vars(data).values():  # the cached functions (st.cache_* objects and ours) have a clear()
        if callable(fn) and hasattr(fn, "clear") and fn is not data.ensure_database:
            fn.clear()


def run(n_units: int = 300, n_indicators: int = 300, period: int = 9, repeat: int = 3,
        quick: bool = False) -> list[dict]:
    from streamlit.testing.v1 import AppTest

    if quick:  # benchmarks/run.py --quick: a 20 × 20 grid, one run each
        n_units, n_indicators, repeat = 20, 20, 1

    work = Path(tempfile.mkdtemp(prefix="bench_gap_"))
    try:
        path = build(work, n_units, n_indicators)
        os.environ["TARGETS_DB"] = str(path)
        os.environ["TARGETS_SECRETS_DIR"] = str(work / "secrets")
        auth.BCRYPT_ROUNDS = 4
        auth.seed_demo_users(path)
        routed_through_app()
        n_rows = len(progress.gap_table(YEAR, period, path))

        bare_file = work / "bare_page.py"
        bare_file.write_text(BARE_PAGE.format(db=str(path), sql=progress._BASE_SQL, year=YEAR, period=period),
                             encoding="utf-8")

        bare_at = AppTest.from_file(str(bare_file), default_timeout=600)

        def bare():
            bare_at.run()
            assert not bare_at.exception, bare_at.exception
            assert len(bare_at.dataframe[0].value) >= n_rows

        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
        at.session_state["authentication_status"] = True
        at.session_state["username"] = "leader"
        at.session_state["year"], at.session_state["period"] = YEAR, period
        at.run()
        at.switch_page("pages/gap.py").run()
        if at.exception:  # report a page that cannot render as such, not as a time
            doc = {"name": "gap_page_server", "value": None, "unit": "s", "rows": n_rows,
                   "error": at.exception[0].message.splitlines()[0][:300]}
            print(json.dumps(doc, ensure_ascii=False), flush=True)
            return [doc]
        assert at.title[0].value.startswith("进度差距"), [t.value for t in at.title]

        def gap_page():
            at.run()
            assert not at.exception, at.exception
            assert at.title[0].value.startswith("进度差距")
            assert len(at.dataframe[0].value) == n_rows

        def cold_best(drop_kept: bool) -> float:  # clearing the caches is not part of the timed run
            times = []
            for _ in range(repeat):
                clear_caches()
                if drop_kept:
                    shutil.rmtree(str(path) + ".derived", ignore_errors=True)
                t0 = time.perf_counter()
                gap_page()
                times.append(time.perf_counter() - t0)
            return min(times)

        bare()  # the first AppTest run imports streamlit's machinery: not timed for either page
        baseline = best_of(bare, repeat)
        first = cold_best(drop_kept=True)
        cold = cold_best(drop_kept=False)
        gap_page()  # fill the cache
        warm = best_of(gap_page, repeat)
        label = f"bare page: same DuckDB base query + st.dataframe ({n_rows:,} rows)"
        return [figure("gap_page_server", cold, "s", label, baseline),
                figure("gap_page_server_first", first, "s", label, baseline),
                figure("gap_page_server_warm", warm, "s", label, baseline)]
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=300)
    ap.add_argument("--indicators", type=int, default=300)
    ap.add_argument("--period", type=int, default=9)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    run(a.units, a.indicators, a.period, a.repeat)
