"""Shared fixtures: real DuckDB files built by the same seeded builder the demo uses."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from analytics import db, seed
from analytics.errors import Actor
from analytics.ingest import ingest_bytes

ROOT = Path(__file__).resolve().parent.parent

ANALYST = Actor("ana", "analyst", "测试分析员")
ADMIN = Actor("adm", "admin", "测试管理员")
VIEWER = Actor("lead", "viewer", "测试领导")

SMALL_UNITS = """unit_id,name,level,parent_id,peer_group,is_home
QC,青川市,city,,,0
C01,清河县,county,QC,一类,1
C02,龙泉县,county,QC,一类,0
T01,城关镇,township,C01,乡镇,0
"""
SMALL_INDICATORS = """indicator_id,name,unit_of_measure,kind,direction,category,points,scoring_method,is_key,is_difficult,scope,parent_id,curve
I01,固定资产投资,亿元,cumulative,1,经济发展,8,proportional,1,0,county,,linear
I02,地区生产总值增速,%,rate,1,经济发展,10,relative,1,1,county,,linear
I03,一般公共预算收入,万元,cumulative,1,经济发展,6,proportional,0,0,county,,linear
I04,安全生产事故死亡人数,人,ceiling,-1,平安稳定,4,pass_fail,0,0,county,,linear
"""


@pytest.fixture
def analyst() -> Actor:
    return ANALYST


@pytest.fixture
def admin() -> Actor:
    return ADMIN


@pytest.fixture
def viewer() -> Actor:
    return VIEWER


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    """The demo database, built once per test session through the ingest path."""
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    seed.load_demo(path)
    return path


@pytest.fixture
def demo_db(demo_template, tmp_path, monkeypatch) -> Path:
    """A private copy of the demo database, also made the default (TARGETS_DB)."""
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_template, path)
    monkeypatch.setenv("TARGETS_DB", str(path))
    return path


@pytest.fixture(scope="session")
def small_template(tmp_path_factory) -> Path:
    """The small unit and indicator library, built once per test session."""
    path = tmp_path_factory.mktemp("small") / "small.duckdb"
    for name, text in (("units.csv", SMALL_UNITS), ("indicators.csv", SMALL_INDICATORS)):
        report = ingest_bytes(text.encode(), name, ADMIN, path=path)
        assert report.status == "stored", report.problems
    return path


def copy_db(template: Path, target: Path) -> Path:
    """A private copy of a database file (and its data-version side file)."""
    for suffix in ("", ".version"):
        if Path(str(template) + suffix).exists():
            shutil.copy(str(template) + suffix, str(target) + suffix)
    return target


@pytest.fixture
def small_db(small_template, tmp_path, monkeypatch) -> Path:
    """A database holding only a small unit and indicator library (no values), also made
    the default (TARGETS_DB)."""
    path = copy_db(small_template, tmp_path / "small.duckdb")
    monkeypatch.setenv("TARGETS_DB", str(path))
    return path


@pytest.fixture
def warm_server_routing(monkeypatch):
    """Route every AppTest run through app.py, as a running server does once app.py has
    called st.navigation. (AppTest resets Streamlit's "pages directory" flag before each
    run, so without this a rerun executes pages/<file>.py directly — which is what a cold
    server does too: see test_cold_server_page_request_still_needs_login.)"""
    from streamlit.runtime.pages_manager import PagesManager
    init = PagesManager.__init__

    def v2_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", v2_init)


def content(path: Path) -> dict[str, list[tuple]]:
    """Every table's rows, sorted: two equal results mean equal database content."""
    with db.connect(path) as con:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' ORDER BY 1").fetchall()]
        return {t: sorted(map(repr, con.table(t).fetchall())) for t in tables}


@pytest.fixture
def app_db(demo_db, tmp_path, monkeypatch, warm_server_routing) -> Path:
    """The demo database for AppTest runs of the whole app: every run through app.py, the demo
    users seeded (cheap bcrypt rounds), the cookie key in a private folder."""
    from analytics import auth
    monkeypatch.setattr(auth, "BCRYPT_ROUNDS", 4)
    monkeypatch.setenv("TARGETS_SECRETS_DIR", str(tmp_path / "secrets"))
    auth.seed_demo_users(demo_db)
    return demo_db
