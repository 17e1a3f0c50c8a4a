"""The DuckDB file (analytics.db): schema and migrations, the write transaction, the data
version, and the connection policy of DESIGN.md "Holding the database file" — checked
with real *processes*, since DuckDB's lock is per process."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import content

from analytics import browse, db
from analytics.errors import DatabaseLocked
from analytics.ingest import IngestOptions, ingest_bytes

ROOT = Path(__file__).resolve().parent.parent
HEADER = "年份,期间,单位,指标,计量单位,口径,目标值,数值"
TABLES = {"meta", "units", "indicators", "indicator_owners", "uploads", "targets", "observations", "adjustments",
          "projects", "project_progress", "audit_log"}


def tables(path) -> set[str]:
    with db.connect(path) as con:
        return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}


def meta(path) -> dict[str, str]:
    with db.connect(path) as con:
        return dict(con.execute("SELECT key, value FROM meta").fetchall())


# ------------------------------------------------------------------ schema and migrations

def test_schema_created_idempotently(tmp_path):
    path = tmp_path / "new" / "x.duckdb"          # the directory is created too
    with db.connect(path) as con:
        assert db.schema_version(con) == db.SCHEMA_VERSION
    first = (tables(path), meta(path))
    with db.connect(path) as con:                 # a second open migrates nothing and fails on nothing
        assert db.migrate(con) == db.SCHEMA_VERSION
    assert (tables(path), meta(path)) == first
    assert TABLES <= first[0] and {"current_observations", "current_targets"} <= first[0]
    assert first[1] == {"schema_version": str(db.SCHEMA_VERSION), "data_version": "0"}


def test_file_at_version_0_is_migrated(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))                # a DuckDB file made by someone else: no meta table
    con.execute("CREATE TABLE notes(x INTEGER)")
    con.execute("INSERT INTO notes VALUES (42)")
    con.close()
    with db.connect(path) as con:
        assert db.schema_version(con) == db.SCHEMA_VERSION
        assert con.execute("SELECT x FROM notes").fetchall() == [(42,)]
    assert TABLES <= tables(path)


def test_migration_path_to_a_next_version_keeps_data(small_db, monkeypatch):
    before = content(small_db)
    nxt = db.SCHEMA_VERSION + 1
    monkeypatch.setattr(db, "MIGRATIONS", db.MIGRATIONS + [["ALTER TABLE units ADD COLUMN note VARCHAR",
                                                           "UPDATE units SET note = 'migrated'"]])
    monkeypatch.setattr(db, "SCHEMA_VERSION", nxt)
    with db.connect(small_db) as con:
        assert db.schema_version(con) == nxt
        rows = con.execute("SELECT unit_id, note FROM units ORDER BY unit_id").fetchall()
        assert rows == [("C01", "migrated"), ("C02", "migrated"), ("QC", "migrated"), ("T01", "migrated")]
        assert con.execute("SELECT count(*) FROM indicators").fetchall() == [(4,)]
    after = content(small_db)
    assert {k: v for k, v in after.items() if k not in ("units", "meta")} == \
           {k: v for k, v in before.items() if k not in ("units", "meta")}


def test_failing_migration_leaves_the_file_at_its_version(small_db, monkeypatch):
    before = content(small_db)
    monkeypatch.setattr(db, "MIGRATIONS", db.MIGRATIONS + [["ALTER TABLE units ADD COLUMN note VARCHAR",
                                                           "SELECT * FROM no_such_table"]])
    monkeypatch.setattr(db, "SCHEMA_VERSION", db.SCHEMA_VERSION + 1)
    with pytest.raises(duckdb.Error):
        with db.connect(small_db):
            pass
    monkeypatch.undo()
    assert content(small_db) == before            # no half-applied migration (no `note` column)


def _claim_version(path, version: int) -> None:
    with db.connect(path):
        pass
    con = duckdb.connect(str(path))
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(version)])
    con.close()


def test_file_claiming_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "future.duckdb"
    _claim_version(path, db.SCHEMA_VERSION + 5)
    with pytest.raises(Exception, match=str(db.SCHEMA_VERSION + 5)):
        with db.connect(path):
            pass
    con = duckdb.connect(str(path))
    assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall() == \
           [(str(db.SCHEMA_VERSION + 5),)]
    con.close()


def test_cli_on_a_newer_file_exits_2_with_json(tmp_path):
    path = tmp_path / "future.duckdb"
    _claim_version(path, db.SCHEMA_VERSION + 5)
    out = subprocess.run([sys.executable, "-m", "analytics", "--db", str(path), "browse"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert str(db.SCHEMA_VERSION + 5) in json.loads(out.stdout)["reason"]


# ------------------------------------------------------------------ transaction and data version

def test_transaction_bumps_data_version_and_writes_one_audit_row(small_db, admin):
    version = db.data_version(small_db)
    with db.connect(small_db) as con:
        n_audit = db.one(con, "SELECT count(*) FROM audit_log")[0]
        dv = int(db.one(con, "SELECT value FROM meta WHERE key = 'data_version'")[0])
        with db.transaction(con, admin, "test_write", {"why": "测试"}) as detail:
            con.execute("INSERT INTO units(unit_id, name, level) VALUES ('T99', '测试镇', 'township')")
            detail["extra"] = 7                    # completed by the caller before the commit
        assert db.one(con, "SELECT count(*) FROM audit_log")[0] == n_audit + 1
        last = con.execute("SELECT username, action, detail FROM audit_log ORDER BY audit_id DESC LIMIT 1").fetchall()
        assert int(db.one(con, "SELECT value FROM meta WHERE key = 'data_version'")[0]) == dv + 1
    assert last[0][:2] == ("adm", "test_write") and json.loads(last[0][2]) == {"why": "测试", "extra": 7}
    assert Path(str(small_db) + ".version").read_text() == str(dv + 1)
    assert db.data_version(small_db) != version


def test_rollback_leaves_no_audit_row_and_no_bump(small_db, admin):
    before, version = content(small_db), db.data_version(small_db)
    with db.connect(small_db) as con:
        with pytest.raises(ZeroDivisionError):
            with db.transaction(con, admin, "test_write"):
                con.execute("INSERT INTO units(unit_id, name, level) VALUES ('T99', '测试镇', 'township')")
                1 / 0
        assert db.one(con, "SELECT count(*) FROM units WHERE unit_id = 'T99'")[0] == 0   # connection still usable
    assert content(small_db) == before and db.data_version(small_db) == version


def test_data_version_changes_after_a_write_not_after_reads(small_db, analyst):
    v0 = db.data_version(small_db)
    db.query("SELECT count(*) FROM units", None, small_db)
    browse.browse(path=small_db)
    browse.catalog(small_db)
    browse.latest_period(small_db)
    assert db.data_version(small_db) == v0
    data = f"{HEADER}\n2026,9,清河县,固定资产投资,亿元,ytd,,100\n".encode()
    assert ingest_bytes(data, "a.csv", analyst, path=small_db).status == "stored"
    v1 = db.data_version(small_db)
    assert v1 != v0
    browse.browse(2026, 9, path=small_db)
    assert db.data_version(small_db) == v1
    refused = ingest_bytes(f"{HEADER}\n2026,9,清河县,固定资产投资,亿元,ytd,,x\n".encode(), "b.csv", analyst,
                           path=small_db)
    assert refused.status == "refused" and db.data_version(small_db) == v1     # nothing written


def test_data_version_reads_no_database(tmp_path):
    path = tmp_path / "none.duckdb"
    assert db.data_version(path) == "-|-|-" and not path.exists()


# ------------------------------------------------------------------ no connection held

PROBE = """
import sys, duckdb
for line in sys.stdin:
    try:
        duckdb.connect(line.strip()).close()
        print("ok", flush=True)
    except Exception as e:
        print("locked " + str(e).splitlines()[0], flush=True)
"""


@pytest.fixture
def prober():
    """Another process that opens the file read-write on request: "ok" or "locked …"."""
    proc = subprocess.Popen([sys.executable, "-c", PROBE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def probe(path) -> str:
        proc.stdin.write(f"{path}\n")
        proc.stdin.flush()
        return proc.stdout.readline().strip()

    try:
        yield probe
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)


def test_no_connection_held_between_operations(small_db, analyst, prober):
    data = f"{HEADER}\n2026,9,清河县,固定资产投资,亿元,ytd,,100\n".encode()
    calls = {
        "ingest": lambda: ingest_bytes(data, "a.csv", analyst, path=small_db),
        "ingest_refused": lambda: ingest_bytes(data + b"2026,9,X,Y,,,,1\n", "b.csv", analyst, path=small_db),
        "ingest_duplicate": lambda: ingest_bytes(data, "a.csv", analyst, path=small_db),
        "browse": lambda: browse.browse(2026, 9, path=small_db),
        "catalog": lambda: browse.catalog(small_db),
        "latest_period": lambda: browse.latest_period(small_db),
        "resolve": lambda: browse.resolve("unit", "清河县", small_db),
        "uploads": lambda: browse.uploads(small_db),
        "query": lambda: db.query("SELECT 1", None, small_db),
        "data_version": lambda: db.data_version(small_db),
    }
    held = {}
    for name, call in calls.items():
        call()
        held[name] = prober(small_db)
    assert held == {name: "ok" for name in calls}


def test_overlapping_operations_share_the_file_and_let_it_go_when_the_last_ends(small_db, analyst, prober):
    """Operations of one process that overlap (sessions of the app) share one attachment of
    the file: both see each other's committed writes, and the file is free only after both."""
    with db.connect(small_db) as a:
        with db.connect(str(small_db)) as b:  # spelled differently: the same file, the same attachment
            with db.transaction(b, analyst, "test"):
                b.execute("INSERT INTO units (unit_id, name, level) VALUES ('T', '测试单位', 'town')")
            assert db.one(a, "SELECT name FROM units WHERE unit_id = 'T'") == ("测试单位",)
        assert prober(small_db).startswith("locked")  # a still holds it
    assert prober(small_db) == "ok"


def test_an_operation_that_fails_lets_the_file_go(small_db, prober):
    with pytest.raises(duckdb.CatalogException):
        with db.connect(small_db) as con:
            con.execute("SELECT * FROM no_such_table")
    assert prober(small_db) == "ok"
    with db.connect(small_db) as con:  # and it opens again
        assert db.one(con, "SELECT count(*) FROM units")[0] == 4


def test_threads_opening_two_files_at_once_each_get_their_own(tmp_path, analyst, prober):
    """Twenty threads × ten operations on two files at once: each reads its own file, and
    neither file is held afterwards."""
    files = [tmp_path / "a.duckdb", tmp_path / "b.duckdb"]
    for n, path in enumerate(files):  # file a: 1 unit, file b: 2 units
        with db.connect(path) as con, db.transaction(con, analyst, "test"):
            con.executemany("INSERT INTO units (unit_id, name, level) VALUES (?, ?, 'town')",
                            [[f"U{i}", f"单位{i}"] for i in range(n + 1)])

    def work(k: int) -> set[int]:
        seen = set()
        for _ in range(10):
            with db.connect(files[k % 2]) as con:
                seen.add(db.one(con, "SELECT count(*) FROM units")[0])
        return seen

    with ThreadPoolExecutor(20) as pool:
        assert list(pool.map(work, range(20))) == [{k % 2 + 1} for k in range(20)]
    assert [prober(path) for path in files] == ["ok", "ok"]


def test_the_instance_is_closed_when_idle_with_one_timer(small_db, monkeypatch):
    """Operations in a row keep the process's DuckDB instance (opening one costs ~15 ms);
    one pending timer, not one per operation, closes it once no file has been attached for
    IDLE_SECONDS."""
    monkeypatch.setattr(db._Files, "IDLE_SECONDS", 0.2)
    threads = threading.active_count()
    for _ in range(20):
        with db.connect(small_db) as con:
            db.one(con, "SELECT count(*) FROM units")
    assert db._FILES.instance is not None and threading.active_count() <= threads + 1
    deadline = time.monotonic() + 5
    while db._FILES.instance is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert db._FILES.instance is None
    with db.connect(small_db) as con:  # and a new one is started on demand
        assert db.one(con, "SELECT count(*) FROM units")[0] == 4


def test_at_exit_the_instance_is_closed_and_the_idle_check_cancelled(small_db, monkeypatch):
    """Left to the interpreter's finalization, the idle check could run DuckDB's close while the
    GIL is no longer handed out, and the process aborts (a CLI run exited with -6 after printing
    its answer): shutdown (registered with atexit) does it first, and leaves an operation still
    under way alone."""
    monkeypatch.setattr(db._Files, "IDLE_SECONDS", 60)
    with db.connect(small_db) as con:
        db.one(con, "SELECT 1")
    timer = db._FILES.timer
    assert timer is not None and timer.is_alive() and db._FILES.instance is not None
    db._FILES.shutdown()
    timer.join(5)
    assert not timer.is_alive() and db._FILES.timer is None and db._FILES.instance is None
    with db.connect(small_db) as con:  # an operation under way at exit keeps its instance
        db._FILES.shutdown()
        assert db.one(con, "SELECT count(*) FROM units")[0] == 4
    # a real exit: the CLI's exit code is 0 with the idle check pending (IDLE_SECONDS 60 here)
    code = ("import sys; from analytics import db; db._Files.IDLE_SECONDS = 60\n"
            f"with db.connect({str(small_db)!r}) as con: db.one(con, 'SELECT 1')\n"
            "assert db._FILES.timer is not None; print('done')")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout.strip()) == (0, "done"), done.stderr


def test_writes_of_many_threads_to_one_file_take_turns(small_db, analyst):
    """Eight threads × ten writes at once (sessions saving at the same moment): DuckDB refuses
    a second write that overlaps ("Conflict on update" on the data version); each waits its
    turn instead, and every write lands with its own version and audit entry. The version side
    file is written under the same turn (written after it, two threads once raced on its
    temporary file)."""
    with db.connect(small_db) as con:
        version, audits = db.one(con, "SELECT value::INT, (SELECT count(*) FROM audit_log) FROM meta "
                                      "WHERE key = 'data_version'")

    def work(k: int) -> None:
        for i in range(10):
            with db.connect(small_db) as con, db.transaction(con, analyst, "test"):
                con.execute("INSERT INTO units (unit_id, name, level) VALUES (?, ?, 'town')", [f"W{k}-{i}", f"写{k}-{i}"])

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(work, range(8)))
    with db.connect(small_db) as con:
        assert db.one(con, "SELECT count(*) FROM units WHERE unit_id LIKE 'W%'")[0] == 80
        assert db.one(con, "SELECT value::INT FROM meta WHERE key = 'data_version'")[0] == version + 80
        assert db.one(con, "SELECT count(*) FROM audit_log")[0] == audits + 80
    # the side file the caches key on names the last write, and no temporary file is left
    assert Path(f"{small_db}.version").read_text() == str(version + 80)
    assert not list(Path(small_db).parent.glob("*.tmp"))


# ------------------------------------------------------------------ lock handling

@pytest.fixture
def holder(small_db):
    """Another process holding the file read-write until the test ends."""
    code = ("import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); sys.stdin.read()")
    proc = subprocess.Popen([sys.executable, "-c", code, str(small_db)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        yield proc
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)


def test_locked_file_raises_naming_the_holder(small_db, holder):
    t0 = time.monotonic()
    with pytest.raises(DatabaseLocked) as exc:
        with db.connect(small_db, retry_seconds=0.5):
            pass
    assert 0.4 < time.monotonic() - t0 < 5          # it retried for about the given time
    assert f"PID {holder.pid}" in exc.value.holder and f"PID {holder.pid}" in str(exc.value)
    assert exc.value.exit_code == 3 and exc.value.to_dict()["path"] == str(small_db)


def test_lock_released_later_is_waited_for(small_db, holder):
    threading.Timer(0.5, holder.stdin.close).start()     # the holder exits after 0.5 s
    with db.connect(small_db, retry_seconds=10) as con:
        assert db.one(con, "SELECT count(*) FROM units")[0] == 4


@pytest.mark.slow
def test_cli_exits_3_naming_the_holder(small_db, holder):
    out = subprocess.run([sys.executable, "-m", "analytics", "--db", str(small_db), "browse"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    doc = json.loads(out.stdout)
    assert out.returncode == 3
    assert doc["error"] == "DatabaseLocked" and f"PID {holder.pid}" in doc["holder"]
    assert doc["path"] == str(small_db) and f"PID {holder.pid}" in doc["reason"]


STUCK_WRITER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("BEGIN TRANSACTION")
con.execute("UPDATE meta SET value = value || '' WHERE key = 'data_version'")   # written, never committed
print("ready", flush=True)
sys.stdin.read()
con.execute("ROLLBACK")
"""


@pytest.mark.slow
def test_cli_ingest_against_a_stuck_writer_exits_3_and_stores_nothing(small_db, tmp_path):
    """A writer stuck inside a transaction (another process): the CLI upload retries for
    LOCK_RETRY_SECONDS, then exits 3 with a Chinese message naming that process, and has
    written nothing — the same file is stored in full once the writer is gone."""
    upload = tmp_path / "late.csv"
    upload.write_text(f"{HEADER}\n2026,9,清河县,固定资产投资,亿元,ytd,,101.5\n", encoding="utf-8")
    before = content(small_db)
    stuck = subprocess.Popen([sys.executable, "-c", STUCK_WRITER, str(small_db)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert stuck.stdout.readline().strip() == "ready"
        t0 = time.monotonic()
        out = subprocess.run([sys.executable, "-m", "analytics", "--db", str(small_db), "ingest", str(upload)],
                             cwd=ROOT, capture_output=True, text=True, encoding="utf-8", timeout=60)
        waited = time.monotonic() - t0
    finally:
        stuck.stdin.close()
        stuck.wait(timeout=10)
    doc = json.loads(out.stdout)
    assert out.returncode == 3, out.stdout + out.stderr
    assert doc["error"] == "DatabaseLocked" and f"PID {stuck.pid}" in doc["holder"]
    assert doc["reason"] == f"数据库文件 {small_db} 正被其他进程占用（{doc['holder']}），请稍后重试"
    assert waited >= db.LOCK_RETRY_SECONDS                       # it retried before giving up
    assert content(small_db) == before                           # nothing of the upload, nothing of the stuck writer
    again = subprocess.run([sys.executable, "-m", "analytics", "--db", str(small_db), "ingest", str(upload)],
                           cwd=ROOT, capture_output=True, text=True, encoding="utf-8", timeout=60)
    assert again.returncode == 0 and json.loads(again.stdout)["status"] == "stored", again.stdout


# ------------------------------------------------------------------ CLI ingest while the app serves pages

async def _render(url: str) -> list[str]:
    """Run the app script once in a real session over the app's websocket (what a browser
    does); return the element types it sent, failing on a script exception."""
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    async with websockets.connect(url.replace("http", "ws", 1) + "/_stcore/stream", subprotocols=["streamlit"],
                                  max_size=2 ** 27) as ws:
        msg = BackMsg()
        msg.rerun_script.query_string = ""
        await ws.send(msg.SerializeToString())
        elements = []
        while True:
            fwd = ForwardMsg()
            fwd.ParseFromString(await asyncio.wait_for(ws.recv(), 60))
            kind = fwd.WhichOneof("type")
            if kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                elements.append(fwd.delta.new_element.WhichOneof("type"))
            if kind == "script_finished":
                assert fwd.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY, elements
                assert "exception" not in elements, elements
                return elements


def render(url: str) -> list[str]:
    """_render in a thread of its own (the test process may already run an event loop)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(_render(url))).result(timeout=120)


@pytest.mark.slow
def test_cli_ingest_succeeds_while_the_app_serves_pages(demo_template, tmp_path):
    from e2e.server import serve                    # tests/e2e/server.py: kills the server on exit

    path = tmp_path / "served.duckdb"
    shutil.copy(demo_template, path)
    new = tmp_path / "late.csv"
    new.write_text(f"{HEADER}\n2026,9,清河县,固定资产投资,亿元,ytd,,123.45\n", encoding="utf-8")
    with serve(env={"TARGETS_DB": str(path)}) as url:
        for _ in range(3):
            with urllib.request.urlopen(url + "/", timeout=10) as r:
                assert r.status == 200 and b"<html" in r.read().lower()
        assert render(url)             # a session ran the app script (it reads the file)

        stop, rendered, failures = threading.Event(), [], []

        def keep_rendering():
            while not stop.is_set():
                try:
                    rendered.append(len(render(url)))
                except Exception as e:  # noqa: BLE001 — reported by the assert below
                    failures.append(repr(e))

        worker = threading.Thread(target=keep_rendering)
        worker.start()
        try:
            out = subprocess.run([sys.executable, "-m", "analytics", "--db", str(path), "ingest", str(new)],
                                 cwd=ROOT, capture_output=True, text=True, timeout=120)
        finally:
            stop.set()
            worker.join(timeout=120)
        assert out.returncode == 0, out.stdout + out.stderr
        assert json.loads(out.stdout)["status"] == "stored"
        assert rendered and not failures, failures
        render(url)                   # still serving after the write
        shown = subprocess.run([sys.executable, "-m", "analytics", "--db", str(path), "browse", "--year", "2026",
                                "--period", "9", "--unit", "清河县", "--indicator", "固定资产投资"],
                               cwd=ROOT, capture_output=True, text=True, timeout=60)
    rows = [r for r in json.loads(shown.stdout) if r["measure"] == "ytd"]
    assert [(r["value"], r["file_name"], r["revisions"]) for r in rows] == [(123.45, "late.csv", 2)]


# --- results kept beside the database (db.cached_frame) ---------------------------------------------
def test_a_kept_result_is_computed_once_per_data_version_and_read_back_unchanged(small_db, analyst):
    calls = []

    def compute():
        calls.append(1)
        return pd.DataFrame({"k": ["a", "b", "c"], "text": pd.Series(["x", None, np.nan], dtype=object), "v": [1.5, np.nan, 3.0]})

    def kept(columns=None):
        with db.connect(small_db) as con:
            return db.cached_frame(con, "test", "key", compute, columns)

    first = kept()
    again = kept()
    assert len(calls) == 1
    pd.testing.assert_frame_equal(again, first)
    assert again.text[1] is None and again.text[2] is not None and np.isnan(again.text[2])  # None stays None, NaN NaN
    part = kept(["k", "text"])
    assert len(calls) == 1 and list(part.columns) == ["k", "text"] and part.text[1] is None

    ingest_bytes(f"{HEADER}\n2026,9,清河县,固定资产投资,亿元,ytd,,123\n".encode(), "new.csv", analyst, path=small_db)
    fresh = kept(["v"])  # a write moved the version: computed again, and only the columns asked for
    assert len(calls) == 2 and list(fresh.columns) == ["v"]
    assert [p.name.split("-")[0] for p in Path(str(small_db) + ".derived").glob("test-*.arrow")] == ["test"]
    # a damaged file is only a miss: computed again and kept anew
    (kept_file,) = Path(str(small_db) + ".derived").glob("test-*.arrow")
    kept_file.write_bytes(kept_file.read_bytes()[:40])
    pd.testing.assert_frame_equal(kept(["v"]), fresh)
    assert len(calls) == 3 and kept(["v"]).equals(fresh) and len(calls) == 3



def test_a_result_written_to_a_file_is_moved_into_place_and_read_back(small_db, tmp_path):
    """compute() may answer with the file db.write_frame wrote (a worker process's answer): it is
    kept as it is (moved, not rewritten) and only ``columns`` are read; where the folder cannot
    be written it is read from where it is, then removed."""
    frame = pd.DataFrame({"k": ["a", "b"], "text": pd.Series(["x", None], dtype=object), "v": [1.5, 2.0]})

    def written(name):
        db.write_frame(tmp_path / name, frame)
        return tmp_path / name

    with db.connect(small_db) as con:
        part = db.cached_frame(con, "file", "key", lambda: written("a.arrow"), ["k", "text"])
        assert list(part.columns) == ["k", "text"] and part.text[1] is None
        assert not (tmp_path / "a.arrow").exists()
        pd.testing.assert_frame_equal(db.cached_frame(con, "file", "key", lambda: pytest.fail("recomputed")), frame)
    elsewhere = tmp_path / "other.duckdb"
    shutil.copy(small_db, elsewhere)
    Path(f"{elsewhere}.derived").write_text("not a folder")  # results cannot be kept beside it
    with db.connect(elsewhere) as con:
        pd.testing.assert_frame_equal(db.cached_frame(con, "file", "key", lambda: written("b.arrow"), ["v"]),
                                      frame[["v"]])
    assert not (tmp_path / "b.arrow").exists()

def test_a_kept_result_keeps_dtypes_and_never_loads_parquet(small_db):
    """Kept results are Arrow IPC: every dtype the pages use comes back as it was, and reading
    one does not load pyarrow.parquet (its libraries cost the server ~10 MB resident)."""
    code = f"""if True:
        import sys, numpy as np, pandas as pd
        from analytics import db
        frame = pd.DataFrame({{
            "unit": pd.Series(["清河县", None, "石门县"], dtype="str"),
            "owner": pd.Series(["张三", None, np.nan], dtype=object),
            "rank": pd.array([1, None, 3], dtype="Int64"),
            "prev_period": np.array([8, 8, 7], dtype="int32"),
            "is_key": [True, False, True],
            "at": pd.to_datetime(["2026-01-31", None, "2026-03-31"]),
            "category": pd.Categorical(["重点项目", "经济发展", "重点项目"])}})
        for attempt in range(2):  # computed and kept, then read back
            with db.connect({str(small_db)!r}) as con:
                back = db.cached_frame(con, "dtypes", "k", lambda: frame)
            pd.testing.assert_frame_equal(back, frame)
        assert back.owner[1] is None and np.isnan(back.owner[2])
        assert "pyarrow.parquet" not in sys.modules, "parquet loaded"
        print("ok")"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "ok", done.stderr


# --- frames packed for the app's cache (db.pack / db.unpack) -----------------------------------------
def test_a_packed_frame_comes_back_equal_with_its_dtypes_and_nulls():
    frame = pd.DataFrame({
        "unit": pd.Series(["清河县", None, "石门县"], dtype="str"),
        "owner": pd.Series(["张三", None, np.nan], dtype=object),  # None stays None, NaN stays NaN
        "gap_pp": [-9.995, np.nan, 12.912666666666667],
        "rank": pd.array([1, None, 3], dtype="Int64"),
        "prev_period": np.array([8, 8, 7], dtype="int32"),
        "is_key": [True, False, True],
        "at": pd.to_datetime(["2026-01-31", None, "2026-03-31"]),
        "category": pd.Categorical(["重点项目", "经济发展", "重点项目"], categories=["重点项目", "经济发展"])})
    for shown in (frame, frame.iloc[[2, 0, 1]], frame.set_index("unit"), frame.drop(columns="category").iloc[:0]):
        packed = db.pack(shown)
        assert packed is not None
        back = db.unpack(packed)
        pd.testing.assert_frame_equal(back, shown)
        assert list(back.dtypes) == list(shown.dtypes)
    back = db.unpack(db.pack(frame))
    assert back.owner[1] is None and isinstance(back.owner[2], float) and np.isnan(back.owner[2])
    assert db.unpack(db.pack(frame)) is not back  # a new frame for every caller


def test_a_frame_arrow_cannot_carry_unchanged_is_not_packed():
    # dicts with different keys would come back with the union of the keys (None filled)
    assert db.pack(pd.DataFrame({"numbers": [{"value": 1.5}, {"row": 3}]})) is None
    # an empty categorical column would come back without its categories
    assert db.pack(pd.DataFrame({"category": pd.Categorical([], categories=["重点项目"])})) is None


def test_arrow_table_to_pandas_is_the_df_of_the_query_with_text_as_text_even_when_empty(small_db):
    """db.arrow_table(...).to_pandas() (big results by way of Arrow) gives what .df() gives, and text columns
    are pandas' text type also for no row, where .df() gives Python objects (an empty history
    concatenated with this year's values once turned them all into Python strings)."""
    sql = "SELECT unit_id, name, level, peer_group, length(name) AS n FROM units WHERE length(name) > ? ORDER BY ALL"
    with db.connect(small_db) as con:
        arrow, plain = db.arrow_table(con, sql, [0]).to_pandas(), con.execute(sql, [0]).df()
        empty, plain_empty = db.arrow_table(con, sql, [1000]).to_pandas(), con.execute(sql, [1000]).df()
    assert len(arrow) > 0
    pd.testing.assert_frame_equal(arrow, plain)
    assert list(empty.columns) == list(arrow.columns) and len(empty) == 0
    assert str(empty.unit_id.dtype) == "str" and plain_empty.unit_id.dtype == object
    assert pd.concat([empty, arrow]).unit_id.dtype == arrow.unit_id.dtype  # stays text, not objects
