"""Cached reads: every result is keyed by the database's data version (bumped by every
write), so reruns and other sessions rarely open the file and never see stale data."""
from __future__ import annotations

import ctypes
import functools

import pandas as pd
import pyarrow as pa
import streamlit as st

from analytics import browse as browse_mod
from analytics import db, ingest, progress, readers, seed
from analytics.ingest import IngestOptions


def _frames(show_spinner: bool | str, max_entries: int):
    """Like st.cache_data, for big DataFrames: one copy in the server, shared by every session
    (st.cache_data pickles a result when it stores it and unpickles a private copy on every
    rerun of every session: 35 MB for the gap table at 300 units × 300 indicators). Callers get
    a shallow copy; pandas' copy-on-write keeps the cached frame as computed whatever they do."""
    def wrap(fn):
        cached = st.cache_resource(show_spinner=show_spinner, max_entries=max_entries)(fn)

        @functools.wraps(fn)
        def call(*args) -> pd.DataFrame:
            return cached(*args).copy(deep=False)
        call.clear = cached.clear
        return call
    return wrap


@st.cache_resource(show_spinner="首次启动：正在创建数据库并载入演示数据…")
def ensure_database(path: str) -> bool:
    return seed.ensure_database(path)


def version(path: str | None = None) -> str:
    return db.data_version(path)


@st.cache_data(show_spinner=False, max_entries=64)
def _catalog(path: str, data_version: str) -> dict:
    return browse_mod.catalog(path)


def catalog() -> dict:
    path = str(db.db_path())
    return _catalog(path, version(path))


@_frames(False, 256)
def _browse(path: str, data_version: str, year, period, unit, indicator) -> pd.DataFrame:
    return browse_mod.browse(year, period, unit, indicator, path)


def browse(year=None, period=None, unit=None, indicator=None) -> pd.DataFrame:
    path = str(db.db_path())
    return _browse(path, version(path), year, period, unit, indicator)


@st.cache_data(show_spinner=False, max_entries=16)
def _uploads(path: str, data_version: str) -> pd.DataFrame:
    return browse_mod.uploads(path)


def uploads() -> pd.DataFrame:
    path = str(db.db_path())
    return _uploads(path, version(path))


@st.cache_data(show_spinner="正在识别表格…", max_entries=8)
def _preview(content: bytes, name: str, options: IngestOptions, path: str, data_version: str) -> dict:
    return ingest.preview(content, name, options, path=path)


def preview(content: bytes, name: str, options: IngestOptions) -> dict:
    """What ingest would do with this file (detected layout, columns, first records)."""
    path = str(db.db_path())
    return _preview(content, name, options, path, version(path))


@st.cache_data(show_spinner=False, max_entries=8)
def sheets(content: bytes, name: str) -> list[dict]:
    return readers.sheet_list(content, name)


@st.cache_data(show_spinner=False, max_entries=64)
def _upload_report(path: str, data_version: str, upload_id: int) -> dict | None:
    return browse_mod.upload_report(upload_id, path)


def upload_report(upload_id: int) -> dict | None:
    path = str(db.db_path())
    return _upload_report(path, version(path), upload_id)


# ---------------------------------------------------------------- gap analysis (progress)

@_frames("正在计算进度差距…", 12)  # ~35 MB each at 300 × 300
def _gap(path: str, data_version: str, year: int, period: int, basis: str | None) -> pd.DataFrame:
    return progress.gap_table(year, period, path, basis=basis)


def gap(year: int, period: int, basis: str | None = None) -> pd.DataFrame:
    """Every (unit, indicator) row of progress.gap_table, cached by data version."""
    path = str(db.db_path())
    return _gap(path, version(path), year, period, basis)


@_frames("正在计算进度差距…", 12)
def _gap_sorted(path: str, data_version: str, year: int, period: int, basis: str | None) -> pd.DataFrame:
    rows = _gap(path, data_version, year, period, basis)
    counts = (_open_flags(path, data_version, year, period).groupby(["unit_id", "indicator_id"]).size()
              .rename("flags").reset_index())
    rows = rows.sort_values("gap_pp", na_position="last", kind="stable").merge(
        counts, how="left", on=["unit_id", "indicator_id"])
    n = rows.pop("flags")
    return rows.assign(quality=("⚑ " + n.astype("Int64").astype(str) + " 条待核实").where(n.notna(), ""))


def gap_sorted(year: int, period: int, basis: str | None = None) -> pd.DataFrame:
    """:func:`gap` ordered by the gap (largest arrears first, no gap last) with the open
    data-quality flags of each row as a marker column ``quality`` ("⚑ 2 条待核实"): the 进度差距
    table, computed once per data version (filters then only pick rows)."""
    path = str(db.db_path())
    return _gap_sorted(path, version(path), year, period, basis)


@st.cache_data(show_spinner=False, max_entries=64)
def _gap_history(path: str, data_version: str, year: int, period: int, unit_id: str, indicator_id: str,
                 basis: str | None) -> pd.DataFrame:
    return progress.gap_history(year, period, unit_id, indicator_id, path, basis)


def gap_history(year: int, period: int, unit_id: str, indicator_id: str, basis: str | None = None) -> pd.DataFrame:
    path = str(db.db_path())
    return _gap_history(path, version(path), year, period, unit_id, indicator_id, basis)


@st.cache_data(show_spinner=False, max_entries=64)
def _series(path: str, data_version: str, unit_id: str, indicator_id: str, year: int) -> pd.DataFrame:
    return progress.series_history(unit_id, indicator_id, year, path)


def series(unit_id: str, indicator_id: str, year: int) -> pd.DataFrame:
    path = str(db.db_path())
    return _series(path, version(path), unit_id, indicator_id, year)


# ---------------------------------------------------------------- 保二争一 (scoring, simulation)

@st.cache_data(show_spinner="正在计分…", max_entries=16)
def _standing(path: str, data_version: str, year: int, period: int, level: str, projected: bool):
    from analytics import simulation
    return simulation.standing(year, period, level, projected, path)


def standing(year: int, period: int, level: str = "city", projected: bool = False):
    """scoring.Scored (units + detail with arithmetic), cached by data version."""
    path = str(db.db_path())
    return _standing(path, version(path), year, period, level, projected)


@st.cache_resource(show_spinner="正在生成模拟抽样…", max_entries=6)
def _simulation(path: str, data_version: str, year: int, period: int, rho: float, draws: int, seed: int):
    from analytics import scoring, simulation
    inp = simulation.sim_input(scoring.load_table(year, period, "city", "projected", path=path), path)
    sim = simulation.Simulation(inp, draws, seed, rho)
    sim.base()
    return sim


def simulation_run(year: int, period: int, rho: float, draws: int = 10_000, seed: int = 20261127):
    """The Simulation (its draws kept: scenarios reuse them — common random numbers), cached
    by data version, ρ, draws and seed."""
    path = str(db.db_path())
    return _simulation(path, version(path), year, period, round(float(rho), 2), draws, seed)


@st.cache_data(show_spinner="正在计算杠杆…", max_entries=16)
def _leverage(path: str, data_version: str, year: int, period: int, rho: float, draws: int, seed: int) -> dict:
    sim = _simulation(path, data_version, year, period, rho, draws, seed)
    lev = sim.leverage()
    return {"leverage": lev, "what_it_takes": sim.what_it_takes(lev=lev)}


def leverage(year: int, period: int, rho: float, draws: int = 10_000, seed: int = 20261127) -> dict:
    path = str(db.db_path())
    return _leverage(path, version(path), year, period, round(float(rho), 2), draws, seed)


@_frames("正在模拟乡镇、部门风险…", 8)
def _county_risk(path: str, data_version: str, year: int, period: int) -> pd.DataFrame:
    from analytics import scoring, simulation
    return simulation.county_risk(scoring.load_table(year, period, "county", "projected", path=path), path=path)


def county_risk(year: int, period: int) -> pd.DataFrame:
    path = str(db.db_path())
    return _county_risk(path, version(path), year, period)


# Year-end projection (analytics/projection.py): the panel is read once per data version; the
# projection, its scenarios and the backtest are computed from it.
@st.cache_data(show_spinner="正在读取预测所需的历史数据…", max_entries=4)
def _projection_panel(path: str, data_version: str):
    from analytics import projection
    return projection.load_panel(path)


@_frames("正在预测年末值…", 64)
def _projection(path: str, data_version: str, year: int, period: int, method: str, scenario) -> pd.DataFrame:
    from analytics import projection
    return projection.project(year, period, method=method, scenario=scenario,
                              panel=_projection_panel(path, data_version))


def projection(year: int, period: int, method: str = "combo", scenario=None) -> pd.DataFrame:
    """projection.project for every series; ``scenario`` a projection.Scenario or a tuple of
    ((unit_id, indicator_id), Scenario) pairs (hashable for the cache)."""
    path = str(db.db_path())
    sc = dict(scenario) if isinstance(scenario, tuple) else scenario
    if isinstance(sc, dict):
        return _projection_uncached(path, year, period, method, sc)
    return _projection(path, version(path), year, period, method, sc)


def _projection_uncached(path, year, period, method, scenario) -> pd.DataFrame:
    from analytics import projection
    return projection.project(year, period, method=method, scenario=scenario,
                              panel=_projection_panel(path, version(path)))


@_frames("正在回测预测方法…", 4)
def _projection_backtest(path: str, data_version: str) -> pd.DataFrame:
    from analytics import projection
    return projection.backtest(panel=_projection_panel(path, data_version))


def projection_backtest() -> pd.DataFrame:
    path = str(db.db_path())
    return _projection_backtest(path, version(path))


@st.cache_data(show_spinner=False, max_entries=64)
def _projection_history(path: str, data_version: str, unit_id: str, indicator_id: str, measure: str) -> pd.DataFrame:
    from analytics import projection
    return projection.history(unit_id, indicator_id, measure, panel=_projection_panel(path, data_version))


def projection_history(unit_id: str, indicator_id: str, measure: str) -> pd.DataFrame:
    path = str(db.db_path())
    return _projection_history(path, version(path), unit_id, indicator_id, measure)


# ---- data quality (analytics/quality.py): flags keyed by the data version (a verification bumps it)
@_frames("正在运行数据质量检查…", 4)  # ~80 MB each at 300 × 300
def _quality_flags(path: str, data_version: str, year: int, period: int | None) -> pd.DataFrame:
    from analytics import quality
    return quality.check(year, period, path)


def quality_flags(year: int, period: int | None = None) -> pd.DataFrame:
    """Every flag of ``year`` up to ``period``, with its 已核实 status."""
    path = str(db.db_path())
    return _quality_flags(path, version(path), year, period)


@st.cache_data(show_spinner=False, max_entries=64)
def _quality_series(path: str, data_version: str, year: int, unit_id: str, indicator_id: str,
                    measure: str | None) -> dict:
    from analytics import quality
    return quality.series(year, unit_id, indicator_id, measure, path)


def quality_series(year: int, unit_id: str, indicator_id: str, measure: str | None) -> dict:
    """The flagged series for the chart: this and last year's values, target, revisions."""
    path = str(db.db_path())
    return _quality_series(path, version(path), year, unit_id, indicator_id, measure)


@_frames(False, 16)
def _open_flags(path: str, data_version: str, year: int, period: int) -> pd.DataFrame:
    """Unverified flags of exactly ``period`` — the ⚑ marker of :func:`gap_sorted` (five
    columns read, not every flag of the year: 70 MB at 300 units × 300 indicators)."""
    from analytics import quality
    return quality.open_flags(year, period, path)


_malloc_trim = None


def release_memory() -> None:
    """After a script run: hand the memory that run freed back to the operating system. Arrow's
    pool (mimalloc: every Parquet read and DataFrame conversion) and glibc's per-thread arenas
    keep what they freed, so twenty sessions opening the big tables at once (a meeting
    starting) would leave the server at that peak for good."""
    global _malloc_trim
    pa.default_memory_pool().release_unused()
    if _malloc_trim is None:
        try:
            _malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):  # not glibc
            _malloc_trim = False
    if _malloc_trim:
        _malloc_trim(0)


def warm() -> None:
    """After a write: compute what leaders open first — the gap table and the data-quality
    flags of the default selection (latest year, its latest period) — so the first viewer
    after an upload reads kept results instead of waiting for the computation."""
    years = catalog()["years"]
    if years:
        year = max(years)
        period = max(years[year])
        gap(year, period)
        quality_flags(year, period)

# ---------------------------------------------------------------- managing the year's data (analytics/library.py)

@st.cache_data(show_spinner=False, max_entries=8)
def _library(path: str, data_version: str, what: str, args: tuple):
    from analytics import library, locks
    fn = {"indicators": library.indicators, "owners": library.owners, "owner_history": library.owner_history,
          "targets": library.targets, "target_history": library.target_history,
          "adjustments": library.adjustments, "locked_periods": locks.locked_periods,
          "lock_history": locks.lock_history}[what]
    return fn(*args, path=path)


def library(what: str, *args):
    """A read of analytics.library / analytics.locks (indicators, owners, owner_history,
    targets, target_history, adjustments, locked_periods, lock_history), cached by data version."""
    path = str(db.db_path())
    return _library(path, version(path), what, args)


def rules_text(year: int) -> str:
    """The rules TOML in force for ``year`` (a small file: read on each run, not cached)."""
    from analytics import library as library_mod
    return library_mod.rules_text(year, db.db_path())


# 定期通报 (analytics/bulletin.py): the collected numbers are cached by data version; the
# documents are written on an explicit button (chart export takes seconds).
@st.cache_data(show_spinner="正在汇总通报数据…", max_entries=8)
def _bulletin(path: str, data_version: str, year: int, period: int, sections: tuple, charts: bool, issuer,
              issued):
    from analytics import bulletin as bulletin_mod
    return bulletin_mod.collect(year, period, path, list(sections), charts, issuer or None, issued)


def bulletin(year: int, period: int, sections: tuple, charts: bool = True, issuer: str | None = None, issued=None):
    """analytics.bulletin.collect, cached by data version and the chosen options."""
    path = str(db.db_path())
    return _bulletin(path, version(path), year, period, tuple(sections), charts, issuer, issued)
