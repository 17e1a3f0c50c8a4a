"""Saved column mappings (issue 4, part 6) and withdrawing an upload (part 7).

Mapping round trip: preview a file → the analyst changes a column's role/measure
(``mappings.from_columns``) → ``mappings.save`` → next month's file of the same shape goes
in with the saved mapping applied, and the CLI with ``--mapping m.json`` stores the same
rows. Invalid mappings are refused with the offending key named.

Withdraw: the previous revision is current again, the withdrawal is audited, nothing is
deleted, a viewer may not withdraw, withdrawing twice is refused.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import content, copy_db

from analytics import db, mappings
from analytics.errors import AnalyticsError, PermissionDenied
from analytics.ingest import ingest_bytes, preview, withdraw_upload

ROOT = Path(__file__).resolve().parent.parent
HEADER = "年份,期间,单位,指标,计量单位,口径,数值,同比"  # "同比" alone is not recognised


def month_file(period: int, rows: list[tuple[str, str, str]]) -> bytes:
    """(unit, ytd, growth) rows of 固定资产投资 for 2025 and ``period``."""
    lines = [HEADER] + [f"2025,{period},{u},固定资产投资,亿元,ytd,{v},{g}" for u, v, g in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


AUGUST = month_file(8, [("清河县", "90.1", "3.1"), ("龙泉县", "80.2", "-1.5")])
SEPTEMBER = month_file(9, [("清河县", "101.36", "-2.1"), ("龙泉县", "88.7", "4.4")])
SEPTEMBER_ROWS = {  # with 同比 mapped to growth_pct
    (2025, 9, "C01", "I01", "ytd", 101.36, False), (2025, 9, "C01", "I01", "growth_pct", -2.1, False),
    (2025, 9, "C02", "I01", "ytd", 88.7, False), (2025, 9, "C02", "I01", "growth_pct", 4.4, False)}


def copy_of(template: Path, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return copy_db(template, directory / "small.duckdb")


def rows(path, upload_id: int | None = None) -> set[tuple]:
    with db.connect(path) as con:
        return set(con.execute("""SELECT year, period, unit_id, indicator_id, measure, value, approx FROM observations
                                  WHERE $u IS NULL OR upload_id = $u""", {"u": upload_id}).fetchall())


def current(path) -> set[tuple]:
    with db.connect(path) as con:
        return set(con.execute("""SELECT year, period, unit_id, indicator_id, measure, value, upload_id
                                  FROM current_observations""").fetchall())


def cli(*args: str) -> tuple[int, dict]:
    out = subprocess.run([sys.executable, "-m", "analytics", *args], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert "Traceback" not in out.stderr, out.stderr
    return out.returncode, json.loads(out.stdout)


def confirmed_mapping(data: bytes, name: str, path) -> tuple[str, dict]:
    """What the upload page does: preview, edit the 同比 column, build the mapping."""
    shown = preview(data, name, path=path)
    detected = shown["columns"]
    assert [(c["label"], c["role"]) for c in detected] == [
        ("年份", "year"), ("期间", "period"), ("单位", "unit"), ("指标", "indicator"), ("计量单位", "uom"),
        ("口径", "measure"), ("数值", "value"), ("同比", "ignore")]
    edited = [dict(c) for c in detected]
    edited[7].update(role="value", measure="growth_pct")
    return shown["signature"], mappings.from_columns(edited, detected)


# ---------------------------------------------------------------- saved mapping round trip

@pytest.mark.slow
def test_saved_mapping_applies_to_next_file_and_cli_stores_the_same(small_db, small_template, tmp_path, analyst):
    sig, mapping = confirmed_mapping(AUGUST, "固投_8月.csv", small_db)
    assert mapping == {"columns": {"同比": {"role": "value", "measure": "growth_pct"}}}
    saved_file = mappings.save(sig, mapping, analyst, path=small_db)
    assert saved_file.parent == small_db.parent / "mappings"
    assert mappings.saved(sig, small_db) == mapping
    with db.connect(small_db) as con:
        audit = con.execute("SELECT username, detail FROM audit_log WHERE action = 'save_mapping'").fetchall()
    assert [(u, json.loads(d)["after"]) for u, d in audit] == [("ana", mapping)]

    first = ingest_bytes(AUGUST, "固投_8月.csv", analyst, path=small_db)
    assert (first.status, first.mapping_applied, first.mapping_signature) == ("stored", True, sig)
    assert (2025, 8, "C02", "I01", "growth_pct", -1.5, False) in rows(small_db, first.upload_id)

    # next month's file of the same shape: one click, the saved mapping applied
    report = ingest_bytes(SEPTEMBER, "固投_9月.csv", analyst, path=small_db)
    assert (report.status, report.mapping_applied, report.mapping_signature) == ("stored", True, sig)
    assert rows(small_db, report.upload_id) == SEPTEMBER_ROWS

    # the same mapping file through the CLI, into a database with no saved mapping
    mapping_file = tmp_path / "m.json"
    mapping_file.write_text(json.dumps(mapping, ensure_ascii=False), encoding="utf-8")
    file = tmp_path / "固投_9月.csv"
    file.write_bytes(SEPTEMBER)
    other = copy_of(small_template, tmp_path / "cli")
    code, doc = cli("--db", str(other), "ingest", str(file), "--mapping", str(mapping_file))
    assert (code, doc["status"], doc["mapping_applied"]) == (0, "stored", True)
    assert rows(other) == SEPTEMBER_ROWS

    # control: without the mapping the 同比 column is not read
    plain = copy_of(small_template, tmp_path / "plain")
    report = ingest_bytes(SEPTEMBER, "固投_9月.csv", analyst, path=plain)
    assert (report.status, report.mapping_applied) == ("stored", False)
    assert rows(plain) == {r for r in SEPTEMBER_ROWS if r[4] == "ytd"}


def test_from_columns_with_no_change_is_an_empty_mapping(small_db):
    detected = preview(AUGUST, "a.csv", path=small_db)["columns"]
    assert mappings.from_columns([dict(c) for c in detected], detected) == {}
    assert mappings.from_columns([dict(c) for c in detected], detected, period=9, year=2025) == {"period": 9, "year": 2025}


def test_viewer_may_not_save_a_mapping(small_db, viewer):
    before = content(small_db)
    with pytest.raises(PermissionDenied):
        mappings.save("abc", {"columns": {}}, viewer, path=small_db)
    assert content(small_db) == before
    assert not (small_db.parent / "mappings").exists()


@pytest.mark.parametrize("mapping, named", [
    ({"colums": {"同比": {"role": "value"}}}, "colums"),
    ({"columns": {"同比": {"rol": "value"}}}, "rol"),
    ({"columns": {"同比": {"role": "数值"}}}, "数值"),
    ([1, 2], "JSON 对象"),
], ids=["unknown-top-key", "unknown-column-key", "unknown-role", "not-an-object"])
def test_invalid_mapping_refused_naming_the_key(small_db, analyst, tmp_path, mapping, named):
    with pytest.raises(AnalyticsError, match=named):
        mappings.validate(mapping)
    with pytest.raises(AnalyticsError, match=named):
        mappings.save("abc", mapping, analyst, path=small_db)
    before = content(small_db)
    mapping_file = tmp_path / "bad.json"
    mapping_file.write_text(json.dumps(mapping, ensure_ascii=False), encoding="utf-8")
    file = tmp_path / "固投_9月.csv"
    file.write_bytes(SEPTEMBER)
    code, doc = cli("--db", str(small_db), "ingest", str(file), "--mapping", str(mapping_file))
    assert code == 2
    assert named in doc["reason"]
    assert content(small_db) == before


def test_mapping_file_that_is_not_json_is_refused(small_db, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{\"columns\": ", encoding="utf-8")
    file = tmp_path / "a.csv"
    file.write_bytes(SEPTEMBER)
    code, doc = cli("--db", str(small_db), "ingest", str(file), "--mapping", str(bad))
    assert code == 2 and "JSON" in doc["reason"] and "第 1 行" in doc["reason"]


@pytest.mark.parametrize("mapping, named", [
    ({"columns": {"同比": {"role": "bogus"}}}, "bogus"),
    ({"columns": {"同比": {"rol": "value"}}}, "rol"),
], ids=["unknown-role", "unknown-column-key"])
def test_ingest_refuses_an_invalid_mapping_passed_directly(small_db, analyst, mapping, named):
    before = content(small_db)
    report = ingest_bytes(SEPTEMBER, "固投_9月.csv", analyst, path=small_db, mapping=mapping)
    assert report.status == "refused"
    assert named in report.message
    assert content(small_db) == before


def test_mapping_naming_a_missing_column_is_refused(small_db, analyst):
    before = content(small_db)
    report = ingest_bytes(SEPTEMBER, "固投_9月.csv", analyst, path=small_db,
                          mapping={"columns": {"增长率": {"role": "value", "measure": "growth_pct"}}})
    assert report.status == "refused"
    assert "增长率" in report.message and "不存在" in report.message
    assert content(small_db) == before


def test_mapping_refusal_names_the_file(small_db, analyst):
    report = ingest_bytes(SEPTEMBER, "固投_9月.csv", analyst, path=small_db,
                          mapping={"columns": {"增长率": {"role": "value"}}})
    assert report.problems[0].file == "固投_9月.csv"
    assert report.message.startswith("固投_9月.csv")


# ---------------------------------------------------------------- withdraw an upload

FIRST = ("年份,期间,单位,指标,计量单位,口径,目标值,数值\n"
         "2025,9,清河县,固定资产投资,亿元,ytd,152,100\n2025,9,龙泉县,固定资产投资,亿元,ytd,,80\n").encode()
REVISION = ("年份,期间,单位,指标,计量单位,口径,目标值,数值\n"
            "2025,9,清河县,固定资产投资,亿元,ytd,160,110\n").encode()


@pytest.fixture
def revised(small_db, analyst):
    first = ingest_bytes(FIRST, "9月.csv", analyst, path=small_db)
    second = ingest_bytes(REVISION, "9月更正.csv", analyst, path=small_db)
    assert (first.status, second.status) == ("stored", "stored")
    assert current(small_db) == {(2025, 9, "C01", "I01", "ytd", 110.0, second.upload_id),
                                 (2025, 9, "C02", "I01", "ytd", 80.0, first.upload_id)}
    return first.upload_id, second.upload_id


def test_withdraw_makes_the_previous_revision_current_and_is_audited(small_db, analyst, revised):
    first, second = revised
    stored_before = rows(small_db)
    detail = withdraw_upload(second, analyst, "数据有误", path=small_db)
    assert (detail["upload_id"], detail["before"], detail["after"], detail["reason"]) == (
        second, "stored", "withdrawn", "数据有误")
    assert current(small_db) == {(2025, 9, "C01", "I01", "ytd", 100.0, first),
                                 (2025, 9, "C02", "I01", "ytd", 80.0, first)}
    with db.connect(small_db) as con:
        target = con.execute("SELECT target, upload_id FROM current_targets WHERE unit_id = 'C01'").fetchall()
        status = dict(con.execute("SELECT upload_id, status FROM uploads WHERE upload_id IN (?, ?)",
                                  [first, second]).fetchall())
        audit = con.execute("SELECT username, detail FROM audit_log WHERE action = 'withdraw'").fetchall()
    assert target == [(152.0, first)]
    assert status == {first: "stored", second: "withdrawn"}
    assert [(u, json.loads(d)["upload_id"], json.loads(d)["reason"]) for u, d in audit] == [("ana", second, "数据有误")]
    assert rows(small_db) == stored_before  # nothing deleted


def test_withdrawn_file_may_be_uploaded_again(small_db, analyst, revised):
    _, second = revised
    withdraw_upload(second, analyst, path=small_db)
    again = ingest_bytes(REVISION, "9月更正.csv", analyst, path=small_db)
    assert again.status == "stored"
    assert (2025, 9, "C01", "I01", "ytd", 110.0, again.upload_id) in current(small_db)


def test_viewer_cannot_withdraw(small_db, viewer, revised):
    before = content(small_db)
    with pytest.raises(PermissionDenied):
        withdraw_upload(revised[1], viewer, path=small_db)
    assert content(small_db) == before


def test_withdrawing_twice_is_refused(small_db, analyst, revised):
    withdraw_upload(revised[1], analyst, path=small_db)
    before = content(small_db)
    with pytest.raises(AnalyticsError, match="已撤回"):
        withdraw_upload(revised[1], analyst, path=small_db)
    with pytest.raises(AnalyticsError, match="没有上传批次"):
        withdraw_upload(9999, analyst, path=small_db)
    assert content(small_db) == before


def test_library_upload_cannot_be_withdrawn(small_db, analyst):
    with db.connect(small_db) as con:
        library = con.execute("SELECT upload_id FROM uploads WHERE layout = 'units'").fetchone()[0]
    before = content(small_db)
    with pytest.raises(AnalyticsError, match="单位库"):
        withdraw_upload(library, analyst, path=small_db)
    assert content(small_db) == before
