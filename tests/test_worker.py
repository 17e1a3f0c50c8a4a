"""analytics/worker.py: what the app server computes in a child process (the quality checks and
the gap table of big data) is what this process computes, the route is taken only when asked
for, and a failed child is only a slower answer."""
from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from conftest import copy_db

from analytics import db, progress, quality, worker

YEAR, PERIOD = 2026, 9
GAP_ARGS = {"year": YEAR, "period": PERIOD, "units": None, "indicators": None, "basis": None,
            "bands": {"ahead_pp": 5.0, "far_behind_pp": -10.0, "rate_ahead_pp": 1.0, "rate_far_behind_pp": -1.0},
            "ranked": True}


def child(task: str, tables: dict, arguments: dict) -> pd.DataFrame:
    """worker.run's answer: the frame in the file it returns (removed after)."""
    return db.take_frame(worker.run(task, tables, arguments))


def same_as_kept(there: pd.DataFrame, here: pd.DataFrame, folder) -> None:
    """``there`` (the child's frame) equals ``here`` exactly as a kept result of it reads back."""
    db.write_frame(folder / "here.arrow", here)
    pd.testing.assert_frame_equal(there, db.read_frame(folder / "here.arrow"))


def test_the_checks_in_a_child_give_the_flags_computed_here(demo_db, tmp_path):
    with db.connect(demo_db) as con:
        tables = quality._read(con, YEAR)
    arguments = {"year": YEAR, "period": PERIOD, "overrides": {"increment_outlier.z": 3.0},
                 "disabled": ["round_number"]}
    here = quality.flags_from_tables(tables, **arguments)
    there = child("quality", tables, arguments)
    assert here.rule.nunique() >= 3 and "round_number" not in set(here.rule)  # the demo's seeded problems
    same_as_kept(there, here, tmp_path)
    # and the settings reached the child: the default threshold finds fewer outliers
    default = child("quality", tables, {**arguments, "overrides": {}})
    assert (default.rule == "increment_outlier").sum() < (there.rule == "increment_outlier").sum()


@pytest.mark.parametrize("arguments", [
    GAP_ARGS,
    {**GAP_ARGS, "basis": "seasonal", "units": ["T01", "T02"], "indicators": None, "ranked": False},
    {**GAP_ARGS, "period": 6, "bands": {**GAP_ARGS["bands"], "far_behind_pp": -5.0}},
], ids=["all", "filtered-seasonal", "june-narrow-bands"])
def test_the_gap_table_in_a_child_is_the_gap_table_computed_here(demo_db, tmp_path, arguments):
    with db.connect(demo_db) as con:
        tables = progress._read(con, YEAR, arguments["period"])
        here = progress._gap_frames({name: con.from_arrow(t).df() for name, t in tables.items()}, **arguments)
    there = child("gap", tables, arguments)
    assert len(here) > 0 and set(here.unit_id) <= set(arguments["units"] or here.unit_id)
    same_as_kept(there, here, tmp_path)


@pytest.fixture
def worker_on(monkeypatch):
    """The app server's setting, for data of any size; counts the child runs by task."""
    monkeypatch.setattr(worker, "ENABLED", True)
    monkeypatch.setattr(worker, "MIN_ROWS", 0)
    runs = []
    real = worker.run
    monkeypatch.setattr(worker, "run", lambda task, *a: runs.append(task) or real(task, *a))
    return runs


def test_the_server_route_gives_the_answers_of_the_cli_route(demo_db, tmp_path, worker_on, monkeypatch):
    """quality.check, progress.gap_table and gap_ranked through child processes equal the same
    calls computed in the process, on two copies of one database (each computes, none reads the
    other's kept result); the children's files are kept beside the database, none left behind."""
    other = copy_db(demo_db, tmp_path / "other.duckdb")
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    served = (quality.check(YEAR, PERIOD, demo_db), progress.gap_table(YEAR, PERIOD, demo_db),
              progress.gap_ranked(YEAR, PERIOD, demo_db))
    assert worker_on == ["quality", "gap"]  # gap_ranked read both kept results
    assert list((tmp_path / "tmp").iterdir()) == []
    assert len(list(Path(f"{demo_db}.derived").glob("*.arrow"))) == 3
    monkeypatch.setattr(worker, "ENABLED", False)
    local = (quality.check(YEAR, PERIOD, other), progress.gap_table(YEAR, PERIOD, other),
             progress.gap_ranked(YEAR, PERIOD, other))
    assert worker_on == ["quality", "gap"]
    keys = ["unit_id", "indicator_id"]
    pd.testing.assert_frame_equal(served[0], local[0], check_dtype=False)
    for a, b in zip(served[1:], local[1:]):  # (the rows of equal gap come in the database's order)
        pd.testing.assert_frame_equal(a.sort_values(keys).reset_index(drop=True),
                                      b.sort_values(keys).reset_index(drop=True), check_dtype=False)


def test_small_data_is_computed_here(demo_db, monkeypatch):
    monkeypatch.setattr(worker, "ENABLED", True)  # MIN_ROWS as shipped: the demo year has ~7,000 values
    monkeypatch.setattr(worker, "run", lambda *a: pytest.fail("a child for small data"))
    assert len(quality.check(YEAR, PERIOD, demo_db)) and len(progress.gap_table(YEAR, PERIOD, demo_db))
    # one row's history (the 进度差距 detail: one unranked call per month) is small whatever the data
    monkeypatch.setattr(worker, "MIN_ROWS", 1)
    row = progress.gap_table(YEAR, PERIOD, demo_db)[["unit_id", "indicator_id"]].iloc[0]
    assert len(progress.gap_history(YEAR, PERIOD, row.unit_id, row.indicator_id, demo_db)) > 0
    assert not worker.wanted(worker.MIN_ROWS - 1) and worker.wanted(worker.MIN_ROWS)
    monkeypatch.setattr(worker, "ENABLED", False)
    assert not worker.wanted(10 ** 9)


def test_a_child_that_fails_is_reported_and_leaves_no_files(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    # a task this process knows and the child does not: the child exits with KeyError
    monkeypatch.setitem(worker.TASKS, "missing", ("analytics.worker", "main"))
    with pytest.raises(worker.WorkerFailed, match=r"(?s)missing: exit status 1: .*KeyError"):
        worker.run("missing", {}, {})
    with pytest.raises(ValueError, match="unknown task"):
        worker.run("not-a-task", {}, {})
    assert list(tmp_path.iterdir()) == []


def test_when_the_child_fails_the_server_computes_here(demo_db, tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(worker, "ENABLED", True)
    monkeypatch.setattr(worker, "MIN_ROWS", 0)

    def failing(task, *a):
        raise worker.WorkerFailed(f"{task}: exit status -9: ")
    monkeypatch.setattr(worker, "run", failing)
    other = copy_db(demo_db, tmp_path / "other.duckdb")
    with caplog.at_level(logging.WARNING):
        flags, gap = quality.check(YEAR, PERIOD, demo_db), progress.gap_table(YEAR, PERIOD, demo_db)
    assert "数据质量检查的子进程失败" in caplog.text and "进度差距表的子进程失败" in caplog.text
    monkeypatch.setattr(worker, "ENABLED", False)
    pd.testing.assert_frame_equal(flags, quality.check(YEAR, PERIOD, other))
    assert len(gap) == len(progress.gap_table(YEAR, PERIOD, other)) > 0


def test_an_upload_through_the_server_stores_the_flags_the_cli_would(demo_db, tmp_path, worker_on, monkeypatch,
                                                                       analyst):
    """The checks after an upload (quality.after_upload) run in the child too, and store the same
    flags — keys, texts and numbers — as the same upload through the CLI."""
    from analytics.ingest import ingest_bytes
    other = copy_db(demo_db, tmp_path / "other.duckdb")
    csv = "年份,期间,单位,指标,计量单位,口径,目标值,数值\n2026,9,清河县,固定资产投资,亿元,ytd,,100\n".encode()
    served = ingest_bytes(csv, "a.csv", analyst, path=demo_db)
    assert served.status == "stored" and worker_on == ["quality"]
    monkeypatch.setattr(worker, "ENABLED", False)
    local = ingest_bytes(csv, "a.csv", analyst, path=other)
    assert served.notes == local.notes and any("条预警" in n for n in served.notes)
    sql = "SELECT flag_key, rule, severity, numbers, explanation FROM quality_flags ORDER BY flag_key"
    stored, cli = db.query(sql, path=demo_db), db.query(sql, path=other)
    assert len(stored) > 10
    for frame in (stored, cli):  # (the two uploads' own times differ, in the numbers of the revision flags)
        frame["numbers"] = [{k: v for k, v in json.loads(n).items() if k != "uploaded_at"} for n in frame.numbers]
    pd.testing.assert_frame_equal(stored, cli)
