"""Cached reads: every result is keyed by the database's data version (bumped by every
write), so reruns and other sessions rarely open the file and never see stale data."""
from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import tempfile
import threading
import time
import uuid
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import streamlit as st
from streamlit import runtime

from analytics import browse as browse_mod
from analytics import db, progress, worker

if TYPE_CHECKING:
    from analytics.ingest import IngestOptions


def _frames(show_spinner: bool | str, max_entries: int):
    """Like st.cache_data, for big DataFrames: one copy in the server, shared by every session
    (st.cache_data pickles a result when it stores it and unpickles a private copy on every
    rerun of every session), held packed on disk between runs (db.pack: the gap table at 300
    units × 300 indicators in a ~5 MB file instead of ~40 MB in memory). The run that computes
    a frame uses it as computed while it is packed in the background; later runs unpack it
    (~40 ms, once for all the runs under way: :func:`script_run`). Callers get a shallow copy
    (pandas' copy-on-write keeps the shared frame as it was). A frame Arrow cannot carry
    unchanged is held as computed."""
    def wrap(fn):
        @st.cache_resource(show_spinner=show_spinner, max_entries=max_entries)
        @functools.wraps(fn)  # the cache is keyed by fn's name and source
        def cached(*args) -> _Held:
            held = _Held(fn(*args), functools.partial(fn, *args))
            with _lock:
                if _runs:
                    _hot.add(held)
            _PACKING.submit(held.pack)
            return held

        @functools.wraps(fn)
        def call(*args) -> pd.DataFrame:
            return cached(*args).frame_for_run().copy(deep=False)
        call.clear = cached.clear
        return call
    return wrap


_PACKING = ThreadPoolExecutor(1, thread_name_prefix="pack")  # Arrow compresses without the GIL
_hot: set[_Held] = set()  # frames unpacked (or just computed) for the script runs under way
_runs = 0
_lock = threading.Lock()


class _Held:
    """A cached frame: as computed until packed, then packed in a file (:func:`_spill`), and
    unpacked while runs use it. ``recompute`` rebuilds it if its file is gone."""

    def __init__(self, frame: pd.DataFrame, recompute):
        self.frame: pd.DataFrame | None = frame
        self.packed: Path | bytes | None = None
        self.recompute = recompute

    def pack(self) -> None:
        packed = db.pack(self.frame)
        if packed is not None:
            packed = _spill(self, packed)
        with _lock:
            if packed is None:  # not packable: held as computed
                return
            self.packed = packed
            if self not in _hot:  # no run uses it
                self.frame = None
        release_memory()  # what packing used (and the frame, if dropped) back to the system

    def _unpack(self) -> pd.DataFrame:
        if not isinstance(self.packed, Path):
            return db.unpack(self.packed)
        try:
            with pa.OSFile(str(self.packed)) as file:
                return db.unpack(file)
        except (OSError, pa.ArrowException):  # its file removed or damaged (a temp-folder cleaner): computed
            self.packed = None  # again, and held as computed from then on
            return self.recompute()

    def frame_for_run(self) -> pd.DataFrame:
        with _lock:  # runs arriving together wait for the first one's copy instead of unpacking their own
            if self.frame is None:
                self.frame = self._unpack()
            if _runs:  # kept for the runs under way; the last one to end drops it
                _hot.add(self)
            frame = self.frame
            if not _runs and self.packed is not None:
                self.frame = None
        return frame


_SPILL: tempfile.TemporaryDirectory | None = None  # the packed frames' folder (removed at exit)


def _spill(held: _Held, packed: bytes) -> Path | bytes:
    """``packed`` written to a file of this server's folder in the temp directory, removed when
    the cache lets ``held`` go: between runs the packed frames (the gap and 进度差距 tables at
    300 × 300: ~5 MB each) take no memory. The bytes themselves if the file cannot be written."""
    global _SPILL
    try:
        with _lock:
            if _SPILL is None:
                _SPILL = tempfile.TemporaryDirectory(prefix="mubiao-frames-")
        file = Path(_SPILL.name) / f"{uuid.uuid4().hex}.arrows"
        file.write_bytes(packed)
    except OSError:
        return packed
    weakref.finalize(held, file.unlink, missing_ok=True)
    return file


@contextlib.contextmanager
def script_run():
    """Around each script run (app.py): runs that overlap (a meeting starting: twenty sessions
    at once) share one unpacked copy of each packed frame; the last run to end drops them and
    hands the memory back to the operating system (:func:`release_memory`) — also after
    st.stop or st.rerun inside the page."""
    global _runs
    with _lock:
        _runs += 1
    try:
        yield
    finally:
        with _lock:
            _runs -= 1
            if not _runs:
                for held in _hot:
                    if held.packed is not None:  # one still packing drops its frame when done
                        held.frame = None
                _hot.clear()
                _release_after_send()
        release_memory()


_trim: threading.Timer | None = None  # the one pending release after the last run ended
SEND_SECONDS = (0.3, 1.0, 3.0)  # releases after the last run ended (each counted from the one before)


def _release_after_send(step: int = 0) -> None:
    """Release memory again after the last run ended (``_lock`` held): the server's event loop
    serializes and sends a run's messages after the run, in its own heap (~2 MB per session on
    the 进度差距 page at 90,000 rows), which the release at the run's end cannot return yet —
    twenty sessions left ~20 MB more resident. A slow client takes its messages late, so the
    release is repeated at :data:`SEND_SECONDS` (a run that starts meanwhile cancels the rest;
    its end starts them anew)."""
    global _trim
    if _trim is not None:
        _trim.cancel()
    _trim = threading.Timer(SEND_SECONDS[step], _release_and_again, (step,))
    _trim.daemon = True
    _trim.start()


def _release_and_again(step: int) -> None:
    global _trim
    release_memory()
    with _lock:
        if _runs or _trim is None or threading.current_thread() is not _trim:
            return  # a run under way (its end schedules anew), or rescheduled already
        if step + 1 < len(SEND_SECONDS):
            _release_after_send(step + 1)
        else:
            _trim = None
    _collect_and_freeze(quiet=step + 1 == len(SEND_SECONDS))


@st.cache_resource(show_spinner="首次启动：正在创建数据库并载入演示数据…")
def ensure_database(path: str) -> bool:
    from analytics import seed  # the upload and library modules load when a page needs them
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
    from analytics import ingest
    return ingest.preview(content, name, options, path=path)


def preview(content: bytes, name: str, options: IngestOptions) -> dict:
    """What ingest would do with this file (detected layout, columns, first records)."""
    path = str(db.db_path())
    return _preview(content, name, options, path, version(path))


@st.cache_data(show_spinner=False, max_entries=8)
def sheets(content: bytes, name: str) -> list[dict]:
    from analytics import readers
    return readers.sheet_list(content, name)


@st.cache_data(show_spinner=False, max_entries=64)
def _upload_report(path: str, data_version: str, upload_id: int) -> dict | None:
    return browse_mod.upload_report(upload_id, path)


def upload_report(upload_id: int) -> dict | None:
    path = str(db.db_path())
    return _upload_report(path, version(path), upload_id)


# ---------------------------------------------------------------- gap analysis (progress)

@_frames("正在计算进度差距…", 12)  # ~5 MB packed each at 300 × 300 (~40 MB unpacked)
def _gap(path: str, data_version: str, year: int, period: int, basis: str | None) -> pd.DataFrame:
    return progress.gap_table(year, period, path, basis=basis)


def gap(year: int, period: int, basis: str | None = None) -> pd.DataFrame:
    """Every (unit, indicator) row of progress.gap_table, cached by data version."""
    path = str(db.db_path())
    return _gap(path, version(path), year, period, basis)


@_frames("正在计算进度差距…", 12)
def _gap_sorted(path: str, data_version: str, year: int, period: int, basis: str | None) -> pd.DataFrame:
    rows = progress.gap_ranked(year, period, path, basis)
    n = rows.pop("open_flags").to_numpy()
    marker = np.full(len(rows), "", dtype=object)  # the marker text for the few rows with open flags only
    marker[n > 0] = [f"⚑ {k} 条待核实" for k in n[n > 0]]
    rows = rows.assign(quality=pd.Series(marker, index=rows.index, dtype=rows.unit.dtype))
    # the texts the grid shows, each value stored once (categories): at 300 units × 300 indicators
    # every session was sent 17 MB for the grid, now 7 MB (and the server converts less per session)
    return rows.astype({c: "category" for c in _GRID_TEXTS if c in rows})


_GRID_TEXTS = ("unit", "indicator", "unit_of_measure", "status", "quality", "conditions", "basis", "owner_leader", "note")


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
@_frames("正在运行数据质量检查…", 4)  # ~6 MB packed each at 300 × 300 (with numbers: ~145 MB, not packable)
def _quality_flags(path: str, data_version: str, year: int, period: int | None) -> pd.DataFrame:
    from analytics import quality
    return quality.check(year, period, path, numbers=False)


def quality_flags(year: int, period: int | None = None) -> pd.DataFrame:
    """Every flag of ``year`` up to ``period``, with its 已核实 status — without ``numbers``
    (the 数据质量 page lists each flag's explanation, which states them)."""
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


def _libc():
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc
        return None


# The server checks data quality in a child process (analytics/worker.py): the memory the checks
# churn goes with the child, and other sessions are not held up by them for seconds.
worker.ENABLED = True
_LIBC = _libc()
# Once per process, before the big tables: memory a run frees goes back to the operating system.
# Arrow allocates from glibc's malloc (app.py sets ARROW_DEFAULT_MEMORY_POOL: its mimalloc pool
# kept what it freed resident). By default glibc raises its thresholds as big blocks are freed
# (mmap up to 32 MB, trim to twice that), so each heap keeps up to 64 MB free at its top, which
# malloc_trim returns for the main heap only, not for the per-thread heaps the script runs use:
# twenty sessions opening the gap table at once (a meeting starting) left 130–220 MB more
# resident for good. Fixed: a heap returns its free top beyond 128 KB (glibc's default), and big
# blocks still reuse heap memory (the mmap threshold at its ceiling: at 128 KB every column of a
# 90,000-row table was a fresh mapping, the quality checks ~20 % and the 进度差距 page ~70 ms slower).
pa.set_memory_pool(pa.system_memory_pool())
if _LIBC is not None and hasattr(_LIBC, "mallopt"):
    _LIBC.mallopt(-1, 128 * 1024)  # M_TRIM_THRESHOLD
    _LIBC.mallopt(-3, 32 * 1024 * 1024)  # M_MMAP_THRESHOLD
    # M_ARENA_MAX: glibc gives threads up to 8 heaps per core (DuckDB's workers, Arrow's, every script
    # run's); memory freed in one heap is not reused by a thread on another, so each recomputation
    # after a write left more resident: the quality checks at 300 × 300 grew the process by ~30 MB a
    # run with 16 heaps, ~7 MB with 2
    _LIBC.mallopt(-8, 2)


FREEZE_GROWTH = 50_000  # objects tracked by the cycle collector since the last freeze that trigger another
FREEZE_SECONDS = 60.0  # at the end of a quiet spell, collect and freeze again if the last freeze is this old
_frozen_at = float("-inf")


def _collect_and_freeze(quiet: bool) -> None:
    """Between runs (a run that starts meanwhile waits for it): a full garbage collection, then
    everything that survived frozen (gc.freeze), so that the full collection Streamlit makes after
    every run (runner.postScriptGC) walks only what was made since. Once the first pages were open
    it walked ~140,000 objects: 90 ms after every run that held the server, and so the run's last
    messages (a page switch took ~30 ms longer in the browser). Done when :data:`FREEZE_GROWTH`
    objects are tracked outside the frozen ones (the first pages' imports), or in a quiet spell
    (``quiet``) once the last freeze is :data:`FREEZE_SECONDS` old: garbage frozen while still in
    use (a closed session's) is collected then."""
    global _frozen_at
    if not (runtime.exists() and type(runtime.get_instance()) is runtime.Runtime):
        return  # not served (the CLI; AppTest, whose Runtime is a stand-in): every object stays collectable
    now = time.monotonic()
    if not (len(gc.get_objects()) > FREEZE_GROWTH or quiet and now - _frozen_at > FREEZE_SECONDS):
        return
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    _frozen_at = now
    release_memory()


def release_memory() -> None:
    """After a script run: hand the memory that run freed back to the operating system
    (glibc keeps freed small blocks in its heaps until malloc_trim), so twenty sessions
    opening the big tables at once (a meeting starting) do not leave the server at that peak."""
    pa.default_memory_pool().release_unused()
    if _LIBC is not None and hasattr(_LIBC, "malloc_trim"):
        _LIBC.malloc_trim(0)


def warm() -> None:
    """After a write: compute what leaders open first — the gap table, the data-quality flags
    and the 进度差距 table of the default selection (latest year, its latest period) — so the first viewer
    after an upload reads kept results instead of waiting for the computation."""
    years = catalog()["years"]
    if years:
        year = max(years)
        period = max(years[year])
        gap(year, period)
        quality_flags(year, period)
        gap_sorted(year, period)

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
