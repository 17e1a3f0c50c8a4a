"""Crash safety: an ingest killed with SIGKILL at random points leaves a database that opens
and holds the whole upload or none of it, with the audit log agreeing."""
from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analytics import db
from analytics.demo import generate_long_csv, generate_reference
from analytics.errors import Actor
from analytics.ingest import ingest_path

ROOT = Path(__file__).resolve().parent.parent
KILLS = 20


def _state(path: Path) -> tuple[int, int, int]:
    """(uploads of the big file, its observation rows, its audit entries)."""
    with db.connect(path) as con:
        uploads = con.execute("SELECT upload_id, rows_stored FROM uploads WHERE file_name = 'big.csv'").fetchall()
        rows = con.execute("""SELECT count(*) FROM observations o JOIN uploads u USING (upload_id)
                              WHERE u.file_name = 'big.csv'""").fetchall()[0][0]
        audits = con.execute("""SELECT count(*) FROM audit_log WHERE action = 'upload'
                                AND detail LIKE '%"big.csv"%'""").fetchall()[0][0]
    assert all(stored == rows for _, stored in uploads), "an upload row disagrees with the values stored"
    return len(uploads), rows, audits


@pytest.mark.slow
def test_kill_nine_during_ingest_is_all_or_nothing(tmp_path):
    work = tmp_path / "w"
    refs = generate_reference(work, 100, 40)
    big = work / "big.csv"
    expected = generate_long_csv(big, 100, 40, 11)  # 44,000 rows: the bulk path, ~1 s to store
    template = tmp_path / "ref.duckdb"
    for f in refs:
        assert ingest_path(f, Actor("t", "admin"), path=template).status == "stored"
    # how long a full ingest takes here, to spread the kills over it
    timing = tmp_path / "timing.duckdb"
    shutil.copy(template, timing)
    t0 = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "analytics", "--db", str(timing), "ingest", str(big)],
                          cwd=ROOT, capture_output=True, timeout=300)
    full = time.monotonic() - t0
    assert done.returncode == 0, done.stdout[-500:]
    rng = random.Random(20261127)
    outcomes = {"none": 0, "all": 0}
    for i in range(KILLS):
        path = tmp_path / f"k{i}.duckdb"
        shutil.copy(template, path)
        proc = subprocess.Popen([sys.executable, "-m", "analytics", "--db", str(path), "ingest", str(big)],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        time.sleep(rng.uniform(0.2, full * 1.1))
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=60)
        uploads, rows, audits = _state(path)  # the file opens (WAL replayed or discarded)
        assert (uploads, rows, audits) in ((0, 0, 0), (1, expected, 1)), (i, uploads, rows, audits)
        outcomes["all" if uploads else "none"] += 1
    print(f"\n{KILLS} kills: {outcomes['none']} left nothing, {outcomes['all']} left the whole upload "
          f"(a full ingest took {full:.1f} s)")
    assert sum(outcomes.values()) == KILLS
