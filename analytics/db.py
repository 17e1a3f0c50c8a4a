"""The DuckDB file: where it is, how it is opened, its schema and migrations.

Holding the file (DESIGN.md): DuckDB locks the file per process, so this module alone
opens connections, always read-write, for the length of one operation — no connection
is held between operations, by the app or the CLI. Every write is one short transaction
that also bumps ``meta.data_version`` and leaves one audit entry; the app caches query
results by :func:`data_version`, which reads a side file and never opens the database.
"""
from __future__ import annotations

import atexit
import hashlib
import json
import os
import re
import shutil
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import duckdb
import numpy as np
import pandas as pd

from .errors import Actor, AnalyticsError, DatabaseLocked

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = ROOT / "data" / "dashboard.duckdb"
LOCK_RETRY_SECONDS = 5.0

# Each migration takes the schema from version i-1 to i. Append, never edit a shipped one.
MIGRATIONS: list[list[str]] = [
    [  # 1: the data model of DESIGN.md
        """CREATE TABLE meta(key VARCHAR PRIMARY KEY, value VARCHAR)""",
        """CREATE SEQUENCE upload_seq START 1""",
        """CREATE SEQUENCE audit_seq START 1""",
        """CREATE TABLE units(
            unit_id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL UNIQUE, level VARCHAR NOT NULL,
            parent_id VARCHAR, peer_group VARCHAR, is_home BOOLEAN NOT NULL DEFAULT false)""",
        """CREATE TABLE indicators(
            indicator_id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL UNIQUE, unit_of_measure VARCHAR,
            kind VARCHAR NOT NULL, direction INTEGER NOT NULL DEFAULT 1, category VARCHAR,
            points DOUBLE NOT NULL DEFAULT 0, scoring_method VARCHAR, is_key BOOLEAN NOT NULL DEFAULT false,
            is_difficult BOOLEAN NOT NULL DEFAULT false, scope VARCHAR, parent_id VARCHAR,
            curve VARCHAR NOT NULL DEFAULT 'linear', needs_review BOOLEAN NOT NULL DEFAULT false)""",
        """CREATE TABLE indicator_owners(
            indicator_id VARCHAR NOT NULL, unit_id VARCHAR, owner_leader VARCHAR, owner_staff VARCHAR,
            owner_office VARCHAR, valid_from DATE NOT NULL, upload_id INTEGER)""",
        """CREATE TABLE uploads(
            upload_id INTEGER PRIMARY KEY, file_name VARCHAR NOT NULL, sha256 VARCHAR NOT NULL,
            layout VARCHAR, uploaded_by VARCHAR NOT NULL, uploaded_at TIMESTAMP NOT NULL,
            rows_read INTEGER, rows_stored INTEGER, rows_rejected INTEGER,
            status VARCHAR NOT NULL, message VARCHAR, report VARCHAR)""",
        """CREATE TABLE targets(
            year INTEGER NOT NULL, unit_id VARCHAR NOT NULL, indicator_id VARCHAR NOT NULL,
            measure VARCHAR NOT NULL, target DOUBLE NOT NULL, upload_id INTEGER NOT NULL,
            source_row INTEGER)""",
        """CREATE TABLE observations(
            year INTEGER NOT NULL, period INTEGER NOT NULL, unit_id VARCHAR NOT NULL,
            indicator_id VARCHAR NOT NULL, measure VARCHAR NOT NULL, value DOUBLE NOT NULL,
            approx BOOLEAN NOT NULL DEFAULT false, upload_id INTEGER NOT NULL, source_row INTEGER)""",
        """CREATE TABLE adjustments(
            year INTEGER NOT NULL, unit_id VARCHAR NOT NULL, kind VARCHAR NOT NULL, level VARCHAR,
            item VARCHAR, points DOUBLE NOT NULL, reason VARCHAR, charged_to VARCHAR, upload_id INTEGER)""",
        """CREATE TABLE projects(
            project_id VARCHAR NOT NULL, year INTEGER NOT NULL, name VARCHAR NOT NULL, category VARCHAR,
            unit_id VARCHAR, leader VARCHAR, plan_investment DOUBLE, plan_start VARCHAR, upload_id INTEGER)""",
        """CREATE TABLE project_progress(
            project_id VARCHAR NOT NULL, year INTEGER NOT NULL, period INTEGER NOT NULL, completed DOUBLE,
            milestone VARCHAR, started BOOLEAN, upload_id INTEGER)""",
        """CREATE TABLE audit_log(
            audit_id INTEGER PRIMARY KEY, logged_at TIMESTAMP NOT NULL, username VARCHAR NOT NULL,
            action VARCHAR NOT NULL, detail VARCHAR)""",
        # The current value of a key is its latest revision from an upload not withdrawn.
        """CREATE VIEW current_observations AS
            SELECT o.* FROM observations o JOIN uploads u USING (upload_id)
            WHERE u.status <> 'withdrawn'
            QUALIFY row_number() OVER (PARTITION BY o.year, o.period, o.unit_id, o.indicator_id, o.measure
                                       ORDER BY o.upload_id DESC) = 1""",
        """CREATE VIEW current_targets AS
            SELECT t.* FROM targets t JOIN uploads u USING (upload_id)
            WHERE u.status <> 'withdrawn'
            QUALIFY row_number() OVER (PARTITION BY t.year, t.unit_id, t.indicator_id, t.measure
                                       ORDER BY t.upload_id DESC) = 1""",
    ],
    [  # accounts (analytics/auth.py): bcrypt hashes only, never a password; disabled, not deleted
        """CREATE TABLE users(
            username VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, role VARCHAR NOT NULL,
            password_hash VARCHAR NOT NULL, disabled BOOLEAN NOT NULL DEFAULT false,
            created_at TIMESTAMP NOT NULL, created_by VARCHAR NOT NULL,
            password_changed_at TIMESTAMP NOT NULL)""",
    ],
    [  # data-quality flags (analytics/quality.py): one run per check of a year, stored with the
       # upload that triggered it (or on demand); 已核实 marks keyed by the stable flag key
        """CREATE SEQUENCE quality_run_seq START 1""",
        """CREATE TABLE quality_runs(
            run_id INTEGER PRIMARY KEY, year INTEGER NOT NULL, upload_id INTEGER, checked_at TIMESTAMP NOT NULL,
            checked_by VARCHAR NOT NULL, flags INTEGER NOT NULL, settings VARCHAR)""",
        """CREATE TABLE quality_flags(
            run_id INTEGER NOT NULL, flag_key VARCHAR NOT NULL, rule VARCHAR NOT NULL, severity VARCHAR NOT NULL,
            year INTEGER NOT NULL, period INTEGER, unit_id VARCHAR, indicator_id VARCHAR, measure VARCHAR,
            value DOUBLE, numbers VARCHAR, explanation VARCHAR NOT NULL, file_name VARCHAR, source_row INTEGER,
            source_upload_id INTEGER, revision INTEGER)""",
        """CREATE TABLE flag_reviews(
            flag_key VARCHAR NOT NULL, status VARCHAR NOT NULL, comment VARCHAR NOT NULL, username VARCHAR NOT NULL,
            reviewed_at TIMESTAMP NOT NULL)""",
    ],
    [  # managing the year's data (analytics/library.py, analytics/locks.py): mid-year target
       # changes with their reason (the value itself is a new targets revision); period locks
       # as events (lock/unlock with who, when, why) — the latest event of a period is its state
        """CREATE SEQUENCE library_event_seq START 1""",
        """CREATE TABLE target_changes(
            change_id INTEGER PRIMARY KEY, year INTEGER NOT NULL, unit_id VARCHAR NOT NULL,
            indicator_id VARCHAR NOT NULL, measure VARCHAR NOT NULL, old_target DOUBLE, new_target DOUBLE NOT NULL,
            reason VARCHAR NOT NULL, changed_by VARCHAR NOT NULL, changed_at TIMESTAMP NOT NULL,
            upload_id INTEGER NOT NULL)""",
        """CREATE TABLE period_locks(
            event_id INTEGER PRIMARY KEY, year INTEGER NOT NULL, period INTEGER NOT NULL, locked BOOLEAN NOT NULL,
            username VARCHAR NOT NULL, changed_at TIMESTAMP NOT NULL, reason VARCHAR)""",
    ],
    [  # login revocation (analytics/auth.py): when a user's password, role or enabled state last
       # changed — a login (cookie or open session) issued before then no longer counts
        """ALTER TABLE users ADD COLUMN credentials_changed_at TIMESTAMP""",
    ],
]
SCHEMA_VERSION = len(MIGRATIONS)


def db_path(path: str | os.PathLike | None = None) -> Path:
    """The database file: an explicit path, else $TARGETS_DB, else data/dashboard.duckdb."""
    return Path(path or os.environ.get("TARGETS_DB") or DEFAULT_DB)


def _holder(message: str) -> str:
    m = re.search(r"lock is held in (.+?\(PID \d+\))", message)
    return m.group(1) if m else "未知进程"


class _Files:
    """One in-memory DuckDB instance per process while operations come; each file is ATTACHed
    to it while at least one operation uses it and DETACHed (its lock released, its WAL
    checkpointed) when the last one ends. Starting an instance costs ~15 ms (its catalog of
    functions is built anew), attaching a file ~1 ms: a page opening the file five times spent
    70 ms on opening alone. The instance is closed after :data:`IDLE_SECONDS` without a file
    attached: at rest it would hold ~25 MB, and the memory its allocator kept."""

    IDLE_SECONDS = 0.5

    def __init__(self):
        self.lock = threading.Lock()
        self.instance: duckdb.DuckDBPyConnection | None = None
        self.open: dict[str, list] = {}  # file → [alias, operations using it]
        self.aliases = 0
        self.last_use = 0.0  # when the last file was detached (time.monotonic)
        self.timer: threading.Timer | None = None  # the one pending check for idleness
        self.stale = False  # a DETACH failed: the instance is closed when the last file is released
        self.writes: dict[str, threading.RLock] = {}  # file → lock of its writes (reentrant: never a deadlock)

    def attach(self, file: str) -> duckdb.DuckDBPyConnection:
        """A new connection whose default database is ``file``: attached and brought to
        :data:`SCHEMA_VERSION` if no operation holds it (no other process can change it while
        attached), else sharing the attachment."""
        with self.lock:
            if self.instance is None:  # its allocator hands freed memory back to the system as it goes
                self.instance = duckdb.connect(":memory:", config={"allocator_background_threads": True})
            held = self.open.get(file)
            if held is None:
                self.aliases += 1
                held = [f"file{self.aliases}", 0]
                # the alias is generated (file1, file2…), never from the caller; the path is a parameter
                self.instance.execute(f"ATTACH ? AS {held[0]}", [file])
                self.open[file] = held
            held[1] += 1
            con = self.instance.cursor()
            try:  # the alias: generated, never from the caller
                con.execute(f"USE {held[0]}")
                if held[1] == 1:
                    migrate(con)
            except BaseException:
                con.close()
                self._release(file)
                raise
        return con

    def release(self, file: str, con: duckdb.DuckDBPyConnection) -> None:
        con.close()
        with self.lock:
            self._release(file)

    def _release(self, file: str) -> None:
        held = self.open[file]
        held[1] -= 1
        if held[1]:
            return
        del self.open[file]
        try:  # (the alias: generated, never from the caller)
            self.instance.execute(f"DETACH {held[0]}")
        except duckdb.Error:  # e.g. its checkpoint failed: closing the instance lets the file go
            self.stale = True
        if not self.open:
            if self.stale:
                self._close()
            self.last_use = time.monotonic()
            if self.timer is None:
                self._check_idle_in(self.IDLE_SECONDS)

    def _check_idle_in(self, seconds: float) -> None:
        self.timer = threading.Timer(seconds, self._close_if_idle)
        self.timer.daemon = True
        self.timer.start()

    def _close_if_idle(self) -> None:
        with self.lock:
            self.timer = None
            if self.open or self.instance is None:
                return  # in use (its last release starts a new check), or closed already
            wait = self.last_use + self.IDLE_SECONDS - time.monotonic()
            if wait > 0:
                self._check_idle_in(wait)
            else:
                self._close()

    def _close(self) -> None:
        if self.instance is not None:
            self.instance.close()
        self.instance, self.stale = None, False

    def shutdown(self) -> None:
        """At interpreter exit (atexit, before finalization begins): cancel the pending idle
        check and close the instance now. Left to finalization, the idle check's thread could
        be inside DuckDB's close when the interpreter stops handing out the GIL, and a thread
        ended there aborts the process (a CLI run that printed its answer exited with -6)."""
        with self.lock:
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None
            if not self.open:  # an operation still running in a daemon thread keeps it
                self._close()

    def writing(self, con: duckdb.DuckDBPyConnection) -> threading.RLock:
        """The lock a write to ``con``'s file holds from BEGIN to COMMIT: writes of this
        process to one file take turns (two at once would both change the data version, and
        DuckDB refuses the second with "Conflict on update")."""
        with self.lock:
            return self.writes.setdefault(str(_beside(con, "")), threading.RLock())

    def forget(self) -> None:
        """In a forked child: the parent's instance and its threads are not the child's."""
        self.lock = threading.Lock()
        self.instance, self.open, self.writes, self.timer, self.stale = None, {}, {}, None, False


_FILES = _Files()
atexit.register(_FILES.shutdown)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_FILES.forget)


@contextmanager
def connect(path: str | os.PathLike | None = None, *,
            retry_seconds: float = LOCK_RETRY_SECONDS) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the file read-write for one operation and close it afterwards.

    Retries while another process holds the lock, then raises :class:`DatabaseLocked`
    naming the holder. The schema is brought to :data:`SCHEMA_VERSION` on open. Operations
    of this process that overlap share the file's attachment (see :class:`_Files`).
    """
    p = db_path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    file = str(p.absolute())  # one attachment per file, however the caller spelled it
    deadline = time.monotonic() + retry_seconds
    while True:
        try:
            con = _FILES.attach(file)
            break
        except duckdb.IOException as e:
            if "lock" not in str(e).lower():
                raise
            if time.monotonic() >= deadline:
                raise DatabaseLocked(file, _holder(str(e))) from None
            time.sleep(0.1)
    try:
        yield con
    finally:
        _FILES.release(file, con)


def one(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None) -> tuple | None:
    """The first row of a query, with the result fully consumed (DuckDB 2.0 refuses further
    work on a connection whose last result was only partly fetched)."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    try:  # one lookup (every operation opens the file and asks): a file without meta is version 0
        row = one(con, "SELECT value FROM meta WHERE key = 'schema_version'")
    except duckdb.CatalogException:
        return 0
    return int(row[0]) if row else 0


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply the migrations the file lacks, each in its own transaction; return the version."""
    current = schema_version(con)
    if current > SCHEMA_VERSION:
        raise AnalyticsError(f"数据库结构版本 {current} 高于本程序支持的 {SCHEMA_VERSION}，请升级程序")
    for version in range(current + 1, SCHEMA_VERSION + 1):
        con.execute("BEGIN TRANSACTION")
        try:
            for statement in MIGRATIONS[version - 1]:
                con.execute(statement)
            con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(version)])
            con.execute("INSERT OR IGNORE INTO meta VALUES ('data_version', '0')")
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    return SCHEMA_VERSION


def _beside(con: duckdb.DuckDBPyConnection, suffix: str) -> Path | None:
    """The open database's file name + ``suffix`` (None for an in-memory database)."""
    row = one(con, "SELECT path FROM duckdb_databases() WHERE database_name = current_database()")
    return Path(row[0] + suffix) if row and row[0] else None


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection, actor: Actor, action: str,
                detail: dict | None = None, audit: bool = True) -> Iterator[dict]:
    """One write: BEGIN … audit entry + data_version bump … COMMIT, or ROLLBACK on any error.

    Yields the audit detail dict, which the caller may complete (e.g. with the upload id)
    before the commit writes it. ``audit=False`` only for derived data whose cause is
    already audited (the quality flags an upload raised are covered by its upload entry).
    """
    detail = dict(detail or {})
    with _FILES.writing(con):
        con.execute("BEGIN TRANSACTION")
        try:
            yield detail
            if audit:
                con.execute("INSERT INTO audit_log VALUES (nextval('audit_seq'), now()::TIMESTAMP, ?, ?, ?)",
                            [actor.username, action, json.dumps(detail, ensure_ascii=False, default=str)])
            con.execute("UPDATE meta SET value = (value::BIGINT + 1)::VARCHAR WHERE key = 'data_version'")
            version = one(con, "SELECT value FROM meta WHERE key = 'data_version'")[0]
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        # Still under the write lock, so two writes of one process never race on the side
        # file (nor leave the older version last); the temporary name is per process and
        # thread all the same.
        side = _beside(con, ".version")
        if side is not None:
            tmp = side.with_name(f"{side.name}.{os.getpid()}-{threading.get_ident()}.tmp")
            tmp.write_text(version)
            os.replace(tmp, side)


def data_version(path: str | os.PathLike | None = None) -> str:
    """A cache key that changes with every write, read without opening the database:
    the side file written after each commit plus the stat of the file and its WAL
    (so a write whose side file was lost to a crash still changes the key)."""
    p = db_path(path)
    parts = []
    for f in (Path(str(p) + ".version"), p, Path(str(p) + ".wal")):
        try:
            st = f.stat()
            parts.append(f.read_text() if f.suffix == ".version" else f"{st.st_mtime_ns}:{st.st_size}")
        except OSError:
            parts.append("-")
    return "|".join(parts)


def arrow_table(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None):
    """The result of a query as a pyarrow Table — for big results, and for a worker process
    (analytics/worker.py). Its ``.to_pandas()`` is ``.df()`` with text columns as pandas' text
    type without a Python string per value first (the quality checks' 990,000 values at 300
    units × 300 indicators: 0.4 s instead of 1.0–1.5 s, ~250 MB less at the peak); unlike
    ``.df()``, an integer column with NULLs comes as float64: cast it if it matters."""
    return con.sql(sql, params=params).to_arrow_table()


def query(sql: str, params: list | dict | None = None, path: str | os.PathLike | None = None
          ) -> pd.DataFrame:
    """Run one read query in its own short-lived connection and return a DataFrame."""
    with connect(path) as con:
        return con.execute(sql, params or []).df()


def cached_frame(con: duckdb.DuckDBPyConnection, kind: str, key: str,
                 compute: Callable[[], pd.DataFrame | Path], columns: list[str] | None = None) -> pd.DataFrame:
    """``compute()``, kept as an Arrow file beside the database (``<db>.derived/``) named by
    the data version it was computed from, and read back instead of recomputed while that
    version is current — across server restarts, sessions and the CLI. The version is
    ``meta.data_version`` read in the same transaction as the computation (every write bumps
    it) plus the file's :func:`data_version` stamp taken before (which also moves on a write
    that bypassed :func:`transaction`), so a kept result is never read for other data. Kept
    outside the database file so keeping one neither takes the write lock nor changes
    :func:`data_version`. Best effort: an
    unreadable or unwritable file is recomputed. Frames must be Arrow-friendly (JSON-encode
    dict/list columns first). ``compute`` may also return the path of a file :func:`write_frame`
    wrote (a worker process's answer, analytics/worker.py): it is moved into place and read back.
    ``columns``: only these are read back (and returned). Arrow IPC
    (zstd), not Parquet: read back as fast, and the server never loads Parquet's libraries
    (~10 MB resident)."""
    file = _beside(con, "")
    folder = file.with_name(file.name + ".derived") if file is not None else None
    stamp = data_version(file) if file is not None else ""
    con.execute("BEGIN TRANSACTION")
    try:
        version = one(con, "SELECT value FROM meta WHERE key = 'data_version'")[0]
        version = hashlib.sha256(f"{version}|{stamp}".encode()).hexdigest()[:16]
        name = f"{kind}-{hashlib.sha256(key.encode()).hexdigest()[:16]}-v{version}.arrow"
        if folder is not None and (folder / name).exists():
            try:
                frame = read_frame(folder / name, columns)
                con.execute("COMMIT")
                return frame
            except Exception:  # noqa: BLE001 — a damaged file is only a miss
                pass
        result = compute()
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    if folder is not None and _keep(folder, name, kind, version, result) and isinstance(result, Path):
        return read_frame(folder / name, columns)  # (moved there)
    return take_frame(result, columns)


def take_frame(result: pd.DataFrame | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """A computation's result as a frame (only ``columns``, if given): a file :func:`write_frame`
    wrote (a worker process's answer, analytics/worker.py) is read and then removed."""
    if not isinstance(result, Path):
        return result if columns is None else result[columns]
    try:
        return read_frame(result, columns)
    finally:
        result.unlink(missing_ok=True)


def _keep(folder: Path, name: str, kind: str, version: str, result: pd.DataFrame | Path) -> bool:
    """``result`` (a frame, or a file :func:`write_frame` wrote) as ``folder/name``, replacing the
    results of other versions of ``kind``; False if it could not be written."""
    tmp = folder / f".{name}.{os.getpid()}-{threading.get_ident()}.tmp"
    try:
        folder.mkdir(exist_ok=True)
        if isinstance(result, Path):
            shutil.move(result, tmp)
        else:
            write_frame(tmp, result)
        os.replace(tmp, folder / name)
        for old in folder.glob(f"{kind}-*"):  # results of older versions (and formats) are never read again
            if not old.name.endswith(f"-v{version}.arrow"):
                old.unlink(missing_ok=True)
    except OSError:
        if isinstance(result, Path) and tmp.exists() and not result.exists():
            shutil.move(tmp, result)  # moved, not kept: the caller reads it where it was
        return False
    return True


def write_frame(file: Path, frame: pd.DataFrame) -> None:
    """``frame`` as an Arrow IPC file (zstd) that :func:`read_frame` reads back unchanged: a kept
    result, or a worker's answer (analytics/worker.py). Object columns must hold text."""
    import pyarrow as pa

    table = pa.Table.from_pandas(_freeze(frame), preserve_index=False)
    with pa.OSFile(str(file), "wb") as sink, pa.ipc.new_file(sink, table.schema, options=_ipc_options()) as out:
        out.write_table(table)


def read_frame(file: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """The frame :func:`write_frame` wrote (only ``columns``, if given: the others are not read)."""
    import pyarrow as pa

    with pa.OSFile(str(file), "rb") as source:  # read into memory (not mapped: the file may be replaced)
        names = pa.ipc.open_file(source).schema.names
        wanted = None if columns is None else {*columns, *(f"{_NONE}{c}" for c in columns)}
        fields = None if wanted is None else [i for i, n in enumerate(names) if n in wanted]
        options = pa.ipc.IpcReadOptions(included_fields=fields)
        table = pa.ipc.open_file(source, options=options).read_all()
    frame = table.to_pandas(split_blocks=True)
    return _thaw(frame if columns is None else frame[[*columns, *(c for c in frame.columns if c.startswith(_NONE))]])


def _ipc_options():
    import pyarrow as pa

    return pa.ipc.IpcWriteOptions(compression="zstd" if pa.Codec.is_available("zstd") else None)


_NONE = "__none__"  # marks, per row, the None (not NaN) nulls of an object column: Arrow keeps one kind only


def pack(frame: pd.DataFrame):
    """``frame`` as one zstd-compressed Arrow IPC buffer — for a cache that holds big frames
    between uses (the 90,000-row gap table: ~5 MB instead of ~40 MB) — or None when Arrow does
    not carry it back unchanged (values, dtypes, index, columns; e.g. a column of dicts).
    :func:`unpack` rebuilds it (~50 ms for the gap table)."""
    import pyarrow as pa

    try:
        if any(pd.api.types.infer_dtype(frame.iloc[:, i], skipna=True) not in ("string", "empty")
               for i in np.flatnonzero((frame.dtypes == object).to_numpy())):
            return None  # objects other than text (dicts, lists, …): not tried
        table = pa.Table.from_pandas(_freeze(frame))
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema, options=_ipc_options()) as out:
            out.write_table(table)
        packed = sink.getvalue().to_pybytes()  # exactly its size (the stream's buffer grows by doubling)
        back = unpack(packed)
    except (pa.ArrowException, TypeError, ValueError, AttributeError):
        return None
    same = (list(back.columns) == list(frame.columns) and list(back.dtypes) == list(frame.dtypes)
            and type(back.index) is type(frame.index) and back.index.dtype == frame.index.dtype
            and back.index.names == frame.index.names and back.attrs == frame.attrs and back.equals(frame))
    return packed if same else None


def unpack(packed) -> pd.DataFrame:
    """The frame :func:`pack` packed (its bytes, or an open file holding them): a new frame on
    each call."""
    import pyarrow as pa

    return _thaw(pa.ipc.open_stream(packed).read_all().to_pandas(split_blocks=True))


def _freeze(frame: pd.DataFrame) -> pd.DataFrame:
    marks = {f"{_NONE}{c}": frame[c].to_numpy() == None  # noqa: E711 (elementwise: which values are None)
             for c in frame.columns[frame.dtypes == object] if frame[c].isna().any()}
    return frame.assign(**marks) if marks else frame


def _thaw(frame: pd.DataFrame) -> pd.DataFrame:
    marks = [c for c in frame.columns if c.startswith(_NONE)]
    for mark in marks:
        c = mark[len(_NONE):]
        values = frame[c].to_numpy(dtype=object, copy=True)
        none = frame[mark].to_numpy(dtype=bool)
        values[pd.isna(values) & ~none] = np.nan
        values[none] = None
        frame[c] = pd.Series(values, index=frame.index, dtype=object)
    return frame.drop(columns=marks) if marks else frame
