"""The command line (python -m analytics), run as a real subprocess: every command, its
exit codes 0/1/2/3/4 and JSON fields; and the "three routes agree" test — the function,
the CLI JSON and the 数据浏览 page show the same numbers — plus the 数据上传 page."""
from __future__ import annotations

import contextlib
import csv as csv_mod
import io
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import content

from analytics import browse, db
from analytics.seed import DEMO_DIR

ROOT = Path(__file__).resolve().parent.parent
HEADER = "年份,期间,单位,指标,计量单位,口径,目标值,数值"


def cli(*args: str, db_path=None, fmt: str | None = None, process: bool = False) -> tuple[int, object]:
    """Run the CLI; return (exit code, parsed JSON stdout — or the text for --format table).

    ``process=True`` runs ``python -m analytics`` as a real subprocess (the contract as a user
    sees it); otherwise ``analytics.__main__.run`` — the function ``main()`` passes to
    ``sys.exit`` — runs in this process, which is much faster."""
    argv = []
    if db_path is not None:
        argv += ["--db", str(db_path)]
    if fmt:
        argv += ["--format", fmt]
    if process:
        out = subprocess.run([sys.executable, "-m", "analytics", *argv, *args], cwd=ROOT, capture_output=True,
                             text=True, timeout=120)
        assert "Traceback" not in out.stderr, out.stderr
        code, text = out.returncode, out.stdout
    else:
        from analytics.__main__ import run
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            code = run([*argv, *args])
        text = buf.getvalue()
    return code, (text if fmt == "table" else json.loads(text))


def write(tmp_path, name: str, *rows: str) -> Path:
    p = tmp_path / name
    p.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return p


# ------------------------------------------------------------------ init

@pytest.mark.slow
def test_init_demo_on_a_fresh_path(tmp_path):
    path = tmp_path / "fresh" / "demo.duckdb"
    code, doc = cli("init", "--demo", db_path=path, process=True)
    assert code == 0 and doc == {"db": str(path), "schema_version": db.SCHEMA_VERSION, "demo_loaded": True}
    code, again = cli("init", "--demo", db_path=path)      # already seeded: nothing loaded twice
    assert code == 0 and again["demo_loaded"] is False
    with db.connect(path) as con:
        counts = dict(con.execute("SELECT level, count(*) FROM units GROUP BY level").fetchall())
        dup = db.one(con, "SELECT count(*) FROM uploads GROUP BY sha256 ORDER BY 1 DESC LIMIT 1")[0]
    assert counts == {"city": 1, "county": 10, "township": 15, "department": 25} and dup == 1


def test_init_without_demo_creates_an_empty_schema(tmp_path):
    path = tmp_path / "empty.duckdb"
    code, doc = cli("init", db_path=path, process=True)
    assert code == 0 and doc == {"db": str(path), "schema_version": db.SCHEMA_VERSION, "demo_loaded": False}
    code, rows = cli("browse", db_path=path)
    assert code == 0 and rows == []


# ------------------------------------------------------------------ ingest: exit codes 0, 1, 2, 4

@pytest.mark.slow
def test_ingest_exit_codes_and_json(small_db, tmp_path):
    good = write(tmp_path, "good.csv", "2026,9,清河县,固定资产投资,亿元,ytd,,101.36",
                 "2026,,清河县,固定资产投资,亿元,ytd,152,")
    code, doc = cli("ingest", str(good), db_path=small_db, process=True)
    assert code == 0 and doc["exit_code"] == 0
    assert {k: doc[k] for k in ("file", "status", "layout", "rows_read", "rows_stored", "rows_rejected")} == \
           {"file": "good.csv", "status": "stored", "layout": "long", "rows_read": 2, "rows_stored": 2,
            "rows_rejected": 0}
    first_id = doc["upload_id"]
    assert isinstance(first_id, int) and len(doc["sha256"]) == 64

    code, doc = cli("ingest", str(good), db_path=small_db, process=True)   # 4: same file again
    assert (code, doc["status"], doc["upload_id"], doc["exit_code"]) == (4, "duplicate", first_id, 4)

    before = content(small_db)
    bad = write(tmp_path, "bad.csv", "2026,9,龙泉县,固定资产投资,亿元,ytd,,88", "2026,9,城关镇,固定资产投资,亿元,ytd,,abc")
    code, doc = cli("ingest", str(bad), db_path=small_db, process=True)    # 2: refused
    assert (code, doc["status"], doc["rows_stored"], doc["upload_id"]) == (2, "refused", 0, None)
    errors = [p for p in doc["problems"] if p["severity"] == "error"]
    assert [{k: p[k] for k in ("file", "row", "column")} for p in errors] == \
           [{"file": "bad.csv", "row": 3, "column": "数值"}]
    assert "abc" in errors[0]["reason"]
    assert content(small_db) == before

    code, doc = cli("ingest", str(bad), "--accept-partial", db_path=small_db, process=True)   # 1: stored in part
    assert (code, doc["status"], doc["rows_stored"], doc["rows_rejected"]) == (1, "partial", 1, 1)
    rows = browse.browse(2026, 9, path=small_db)
    assert sorted(zip(rows.unit_id, rows.value)) == [("C01", 101.36), ("C02", 88.0)]


def test_ingest_options_year_period_create_missing(small_db, tmp_path):
    f = write(tmp_path, "opts.csv", ",,清河县,固定资产投资,亿元,ytd,,100", ",,新城镇,光伏装机容量,万千瓦,,,12")
    code, doc = cli("ingest", str(f), "--year", "2026", "--period", "9", db_path=small_db)
    assert code == 2 and "新城镇" in doc["message"]                        # unknown unit: refused with its name
    code, doc = cli("ingest", str(f), "--year", "2026", "--period", "9", "--create-missing", db_path=small_db)
    assert code == 0 and doc["created"] == {"units": ["新城镇"], "indicators": ["光伏装机容量"]}
    code, rows = cli("browse", "--unit", "新城镇", db_path=small_db)
    assert code == 0 and [(r["year"], r["period"], r["indicator"], r["measure"], r["value"]) for r in rows] == \
           [(2026, 9, "光伏装机容量", "ytd", 12.0)]
    code, doc = cli("ingest", str(write(tmp_path, "clash.csv", "2026,8,清河县,固定资产投资,亿元,ytd,,1")),
                    "--period", "9", db_path=small_db)
    assert code == 2 and {(p["row"], p["column"]) for p in doc["problems"] if p["severity"] == "error"} == {(2, "期间")}


def test_ingest_missing_file_exits_2(small_db, tmp_path):
    code, doc = cli("ingest", str(tmp_path / "nowhere.csv"), db_path=small_db)
    assert code == 2 and "nowhere.csv" in doc["reason"]


# ------------------------------------------------------------------ browse

@pytest.fixture
def seeded(small_db, tmp_path):
    """Two periods, two units, two indicators, a target — values worked out below by hand."""
    f = write(tmp_path, "m.csv", "2026,8,清河县,固定资产投资,亿元,ytd,,90.5", "2026,9,清河县,固定资产投资,万元,ytd,,1013600",
              "2026,9,清河县,地区生产总值增速,%,,,-1.5", "2026,9,龙泉县,固定资产投资,亿元,ytd,,\"1,234.5\"",
              "2026,,清河县,固定资产投资,亿元,ytd,152,")
    code, _ = cli("ingest", str(f), db_path=small_db)
    assert code == 0
    return small_db


def _keyed(rows):
    return sorted((r["period"], r["unit_id"], r["indicator_id"], r["measure"], round(r["value"], 10)) for r in rows)


@pytest.mark.parametrize("args, expected", [
    ([], [(9, "C01", "I01", "ytd", 101.36), (9, "C01", "I02", "growth_pct", -1.5), (9, "C02", "I01", "ytd", 1234.5)]),
    (["--year", "2026", "--period", "8"], [(8, "C01", "I01", "ytd", 90.5)]),
    (["--period", "9", "--unit", "清河县"], [(9, "C01", "I01", "ytd", 101.36), (9, "C01", "I02", "growth_pct", -1.5)]),
    (["--period", "9", "--unit", "C01"], [(9, "C01", "I01", "ytd", 101.36), (9, "C01", "I02", "growth_pct", -1.5)]),
    (["--indicator", "固定资产投资"], [(9, "C01", "I01", "ytd", 101.36), (9, "C02", "I01", "ytd", 1234.5)]),
    (["--indicator", "I02", "--unit", "清河县"], [(9, "C01", "I02", "growth_pct", -1.5)]),
    (["--year", "2025"], []),
], ids=["latest_default", "year_period", "unit_by_name", "unit_by_id", "indicator_by_name", "indicator_by_id",
        "empty_year"])
def test_browse_filters(seeded, args, expected):
    code, rows = cli("browse", *args, db_path=seeded)
    assert code == 0 and _keyed(rows) == expected


def test_browse_json_fields(seeded):
    code, rows = cli("browse", "--period", "9", "--unit", "C01", "--indicator", "I01", db_path=seeded)
    assert code == 0 and len(rows) == 1
    r = rows[0]
    assert {k: r[k] for k in ("year", "period", "unit", "unit_id", "indicator", "indicator_id", "measure",
                               "unit_of_measure", "target", "approx", "file_name", "source_row", "revisions")} == \
           {"year": 2026, "period": 9, "unit": "清河县", "unit_id": "C01", "indicator": "固定资产投资",
            "indicator_id": "I01", "measure": "ytd", "unit_of_measure": "亿元", "target": 152.0, "approx": False,
            "file_name": "m.csv", "source_row": 3, "revisions": 1}
    assert math.isclose(r["value"], 101.36, rel_tol=1e-12) and isinstance(r["upload_id"], int)
    assert isinstance(r["uploaded_at"], str) and r["uploaded_at"][:2] == "20"


def test_browse_format_table(seeded):
    code, text = cli("browse", "--period", "9", "--unit", "龙泉县", db_path=seeded, fmt="table")
    assert code == 0 and "龙泉县" in text and "固定资产投资" in text and "1234.5" in text
    code, text = cli("browse", "--year", "2025", db_path=seeded, fmt="table")
    assert code == 0 and "无数据" in text


@pytest.mark.parametrize("args, name", [(["--unit", "东山县"], "东山县"), (["--indicator", "不存在的指标"], "不存在的指标")])
def test_browse_unknown_name_exits_2_with_reason(seeded, args, name):
    code, doc = cli("browse", *args, db_path=seeded)
    assert code == 2 and name in doc["reason"] and doc["error"]


# ------------------------------------------------------------------ three routes agree

def _demo_source_value(unit: str, indicator: str, period: int) -> float:
    """The 1-N月累计 of the demo *input files* for one key: the last file that states it wins
    (observations_2026_rev.csv restates a few values) — worked out from the CSV, not the DB."""
    value = None
    for name in ("observations_2026.csv", "observations_2026_rev.csv"):
        with open(DEMO_DIR / name, encoding="utf-8") as fh:
            for r in csv_mod.DictReader(fh):
                if (r["年份"], r["期间"], r["单位"], r["指标"], r["口径"]) == ("2026", str(period), unit, indicator, "ytd"):
                    value = float(r["数值"].replace(",", ""))
    assert value is not None
    return value


def _login(at, username: str = "analyst"):
    """Log the AppTest session in as a seeded demo user (what the login gate sets)."""
    at.session_state["authentication_status"] = True
    at.session_state["username"] = username


def _app(default_timeout: float = 60):
    from streamlit.testing.v1 import AppTest
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=default_timeout)


def test_three_routes_agree_on_demo(demo_db):
    from ui.text import MEASURE_LABELS

    func = browse.browse(2026, 9, "C01", path=demo_db)
    code, doc = cli("browse", "--year", "2026", "--period", "9", "--unit", "C01", db_path=demo_db, process=True)
    assert code == 0

    at = _app().run()
    _login(at)
    at.session_state["year"], at.session_state["period"], at.session_state["unit"] = 2026, 9, "C01"
    at.run()  # logged in now: the navigation registers the pages
    at.switch_page("pages/browse.py").run()
    assert not at.exception, at.exception
    page = at.dataframe[0].value

    key = lambda unit, ind, measure: (unit, ind, MEASURE_LABELS.get(measure, measure))  # noqa: E731
    f = {key(r.unit, r.indicator, r.measure): (r.value, None if math.isnan(r.target) else r.target, r.upload_id)
         for r in func.itertuples()}
    c = {key(r["unit"], r["indicator"], r["measure"]): (r["value"], r["target"], r["upload_id"]) for r in doc}
    p = {(r.unit, r.indicator, r.measure): (r.value, None if r.target != r.target else r.target, r.upload_id)
         for r in page.itertuples()}
    assert len(f) == len(func) > 20                    # ~30 indicators of 清河县 in 1-9月
    assert f == c == p
    # and the number is the one in the demo's input files
    fai = _demo_source_value("清河县", "固定资产投资", 9)
    assert f[key("清河县", "固定资产投资", "ytd")][0] == fai


# ------------------------------------------------------------------ the 数据上传 page

def _upload(at, name: str, data: bytes):
    at.file_uploader[0].set_value((name, data, "text/csv")).run()
    at.button(key="upload_submit").click().run()
    assert not at.exception, at.exception
    return {m.label: m.value for m in at.metric}


def _problem_table(at):
    return next(d.value for d in at.dataframe if "reason" in getattr(d.value, "columns", []))


@pytest.mark.slow
def test_upload_page_report(small_db):
    at = _app().run()                      # first run seeds the demo users (an audited write)
    _login(at)
    at.run()
    at.switch_page("pages/upload.py").run()
    assert not at.exception, at.exception
    before = content(small_db)

    bad = f"{HEADER}\n2026,9,清河县,固定资产投资,亿元,ytd,,100\n2026,9,龙泉县,固定资产投资,亿元,ytd,,abc\n".encode()
    metrics = _upload(at, "bad.csv", bad)
    assert {k: metrics[k] for k in ("读取行数", "入库行数", "拒绝行数")} == {"读取行数": "2", "入库行数": "0", "拒绝行数": "1"}
    assert any("已拒绝" in e.value for e in at.error)
    problems = _problem_table(at)
    errors = problems[problems.severity.str.contains("拒绝")]
    assert [(r.file, r.row, r.column) for r in errors.itertuples()] == [("bad.csv", 3, "数值")]
    assert "abc" in errors.reason.iloc[0]
    assert content(small_db) == before                                   # a refused file stores nothing

    good = f"{HEADER}\n2026,9,清河县,固定资产投资,亿元,ytd,,100\n".encode()
    metrics = _upload(at, "good.csv", good)
    assert {k: metrics[k] for k in ("读取行数", "入库行数", "拒绝行数")} == {"读取行数": "1", "入库行数": "1", "拒绝行数": "0"}
    rows = browse.browse(2026, 9, path=small_db)
    assert [(r.unit_id, r.indicator_id, r.value, r.file_name, r.uploaded_by) for r in rows.itertuples()] == \
           [("C01", "I01", 100.0, "good.csv", "analyst")]
