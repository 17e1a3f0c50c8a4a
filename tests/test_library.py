"""Managing the year's data (analytics/library.py) and period locking (analytics/locks.py):
each editor's per-cell validation, owner validity dates, target-change history, adjustments,
the rules file, year rollover and locks — with role checks on every write and exactly one
audit entry, carrying before/after values, per write."""
from __future__ import annotations

import io
import json
from datetime import date

import openpyxl
import pandas as pd
import pytest

from analytics import __main__ as cli
from analytics import db, ingest, library, locks, scoring
from analytics.errors import AnalyticsError, PermissionDenied
from analytics.ingest import IngestOptions, ingest_bytes
from tests.conftest import content

CSV_P10 = "年份,期间,单位,指标,计量单位,口径,目标值,数值\n2026,10,清河县,一般公共预算收入,万元,累计,,91234\n"


def audit_rows(path) -> list[tuple]:
    with db.connect(path) as con:
        return con.execute("SELECT username, action, detail FROM audit_log ORDER BY audit_id").fetchall()


def new_audit(path, before: list) -> list[dict]:
    """The audit entries written since ``before`` (detail parsed)."""
    rows = audit_rows(path)[len(before):]
    return [{"user": u, "action": a, "detail": json.loads(d)} for u, a, d in rows]


def library_frame(path) -> pd.DataFrame:
    return library.indicators(path)


# ---------------------------------------------------------------- indicator editor

def test_indicator_editor_reports_every_bad_cell_and_writes_nothing(demo_db, analyst):
    frame = library_frame(demo_db).astype(object)  # as an editor hands back text typed into any cell
    frame.loc[0, "kind"] = "weird"
    frame.loc[1, "direction"] = 2
    frame.loc[2, "points"] = -1
    frame.loc[3, "curve"] = "plan:13=50"
    frame.loc[4, "curve"] = "plan:6=sixty"
    frame.loc[5, "points"] = "abc"
    frame.loc[6, "kind"], frame.loc[6, "direction"] = "ceiling", 1
    before = content(demo_db)
    with pytest.raises(library.LibraryError) as e:
        library.save_indicators(frame, analyst, demo_db)
    cells = {(p.row, p.column) for p in e.value.problems}
    assert cells == {(1, "指标类型"), (2, "方向"), (3, "分值"), (4, "进度曲线"), (5, "进度曲线"), (6, "分值"), (7, "方向")}
    reasons = {(p.row, p.column): p.reason for p in e.value.problems}
    assert "cumulative/rate/ceiling/milestone/veto" in reasons[(1, "指标类型")]
    assert "1–12" in reasons[(4, "进度曲线")]
    assert "6=sixty" in reasons[(5, "进度曲线")]
    assert "指标库 第3行「分值」列" in str(e.value)
    assert content(demo_db) == before


@pytest.mark.parametrize("curve, ok", [("linear", True), ("seasonal", True), ("plan:6=60;12=120", True),
                                       ("plan: 3=20 ; 12=100", True), ("plan:12=100;6=60", False),
                                       ("plan:", False), ("plan:6=60;6=70", False), ("s-curve", False),
                                       ("plan:0=10", False)])
def test_curve_syntax_is_what_the_gap_analysis_reads(curve, ok):
    assert (library.check_curve(curve) is None) is ok


def test_indicator_edit_saved_with_one_audit_entry_holding_before_and_after(demo_db, analyst):
    frame = library_frame(demo_db)
    i = frame.index[frame.indicator_id == "I05"][0]
    old_points = float(frame.loc[i, "points"])
    frame.loc[i, "points"] = 6.5
    frame.loc[i, "is_difficult"] = True
    frame.loc[i, "curve"] = "plan:6=45;12=100"
    log = audit_rows(demo_db)
    changes = library.save_indicators(frame, analyst, demo_db)
    assert [c["indicator_id"] for c in changes] == ["I05"]
    saved = library_frame(demo_db).set_index("indicator_id").loc["I05"]
    assert (saved.points, bool(saved.is_difficult), saved.curve) == (6.5, True, "plan:6=45;12=100")
    entries = new_audit(demo_db, log)
    assert len(entries) == 1 and entries[0]["action"] == "edit_indicators" and entries[0]["user"] == "ana"
    change = entries[0]["detail"]["changes"][0]
    assert change["before"] == {"points": old_points, "is_difficult": False, "curve": "linear"}
    assert change["after"] == {"points": 6.5, "is_difficult": True, "curve": "plan:6=45;12=100"}
    # saving the same table again changes nothing and writes nothing
    assert library.save_indicators(library_frame(demo_db), analyst, demo_db) == []
    assert len(audit_rows(demo_db)) == len(log) + 1


def test_viewer_cannot_edit_the_library(demo_db, viewer):
    frame = library_frame(demo_db)
    frame.loc[0, "points"] = 1
    before = content(demo_db)
    with pytest.raises(PermissionDenied):
        library.save_indicators(frame, viewer, demo_db)
    with pytest.raises(PermissionDenied):
        library.save_owners(library.owners(demo_db).head(1), viewer, demo_db)
    assert content(demo_db) == before


def test_created_indicator_is_flagged_until_completed(demo_db, analyst):
    csv = "年份,期间,单位,指标,计量单位,口径,目标值,数值\n2026,9,清河县,数字经济核心产业增加值,亿元,累计,,12.5\n"
    report = ingest_bytes(csv.encode(), "new.csv", analyst, IngestOptions(create_missing=True), demo_db)
    assert report.status == "stored", report.message
    flagged = library.needs_review(demo_db)
    assert list(flagged.name) == ["数字经济核心产业增加值"]
    iid = flagged.indicator_id[0]
    frame = library_frame(demo_db)
    row = frame.index[frame.indicator_id == iid][0]
    frame.loc[row, "points"] = 2
    library.save_indicators(frame, analyst, demo_db)  # still no category: still 待完善
    assert list(library.needs_review(demo_db).indicator_id) == [iid]
    frame = library_frame(demo_db)
    frame.loc[row, "category"] = "重点产业"
    log = audit_rows(demo_db)
    changes = library.save_indicators(frame, analyst, demo_db)
    assert library.needs_review(demo_db).empty
    assert changes[0]["before"]["needs_review"] is True and changes[0]["after"]["needs_review"] is False
    assert len(new_audit(demo_db, log)) == 1


# ---------------------------------------------------------------- owners

def test_owner_change_takes_effect_on_its_date_and_keeps_history(demo_db, analyst):
    cur = library.owners(demo_db, asof="2026-09-30")
    row = cur[(cur.indicator_id == "I01") & (cur.unit_id == "C01")].astype(object)
    old_leader, old_from = row.owner_leader.iloc[0], row.valid_from.iloc[0]
    row["owner_leader"], row["valid_from"] = "赵副县长", "2026-10-01"
    log = audit_rows(demo_db)
    changes = library.save_owners(row, analyst, demo_db)
    assert len(changes) == 1
    in_sept = library.owners(demo_db, asof="2026-09-30")
    in_oct = library.owners(demo_db, asof="2026-10-15")
    pick = lambda f: f[(f.indicator_id == "I01") & (f.unit_id == "C01")].owner_leader.iloc[0]  # noqa: E731
    assert (pick(in_sept), pick(in_oct)) == (old_leader, "赵副县长")
    hist = library.owner_history("I01", demo_db)
    assert list(hist[hist.unit_id == "C01"].owner_leader)[-2:] == [old_leader, "赵副县长"]
    [entry] = new_audit(demo_db, log)
    assert entry["action"] == "edit_owners"
    ch = entry["detail"]["changes"][0]
    assert ch["before"]["owner_leader"] == old_leader and ch["after"]["owner_leader"] == "赵副县长"
    assert ch["after"]["valid_from"] == "2026-10-01" and ch["before"]["valid_from"] == str(pd.Timestamp(old_from).date())


def test_owner_editor_validation_per_cell(demo_db, analyst):
    cur = library.owners(demo_db, asof="2026-09-30")
    rows = cur[cur.unit_id == "C01"].head(4).astype(object).reset_index(drop=True)
    rows.loc[0, "owner_leader"], rows.loc[0, "valid_from"] = "新领导", "2020-01-01"  # before the one in force
    rows.loc[1, "owner_leader"], rows.loc[1, "valid_from"] = "新领导", "2026-13-01"  # not a date
    rows.loc[2, "owner_leader"] = ""                                                 # required
    rows.loc[3, "indicator_id"] = "NOPE"
    before = content(demo_db)
    with pytest.raises(library.LibraryError) as e:
        library.save_owners(rows, analyst, demo_db)
    cells = {(p.row, p.column) for p in e.value.problems}
    assert cells == {(1, "生效日期"), (2, "生效日期"), (3, "分管领导"), (4, "指标编码")}
    assert "应晚于现任责任人" in next(p.reason for p in e.value.problems if p.row == 1)
    assert content(demo_db) == before


# ---------------------------------------------------------------- XLSX import / export

def test_library_xlsx_round_trip_neutralised_and_validated(demo_db, analyst):
    frame = library_frame(demo_db)
    i = frame.index[frame.indicator_id == "I07"][0]
    frame.loc[i, "category"] = "=HYPERLINK(\"http://x\")"
    library.save_indicators(frame, analyst, demo_db)
    data = library.export_library(demo_db)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["指标库", "责任人", "责任人历史"]
    ws = wb["指标库"]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["指标编码", "指标名称", "计量单位"]
    cells = [c.value for row in ws.iter_rows(min_row=2) for c in row]
    assert "'=HYPERLINK(\"http://x\")" in cells and not any(isinstance(v, str) and v.startswith("=") for v in cells)
    # re-importing the untouched export changes nothing
    assert library.import_library(data, analyst, demo_db) == {"indicators": [], "owners": []}
    # edit points in the workbook, add an indicator, break one cell
    pts = header.index("分值") + 1
    ids = [c.value for c in ws["A"]]
    ws.cell(ids.index("I08") + 1, pts).value = 4
    ws.append(["I99", "新增示例指标", "个", "cumulative", 1, "重点活动", 1, "否", "否", "linear"])
    ws.cell(ids.index("I09") + 1, header.index("指标类型") + 1).value = "bogus"
    bad = io.BytesIO()
    wb.save(bad)
    with pytest.raises(library.LibraryError) as e:
        library.import_library(bad.getvalue(), analyst, demo_db)
    assert [(p.file, p.row, p.column) for p in e.value.problems] == [("指标库", ids.index("I09"), "指标类型")]
    ws.cell(ids.index("I09") + 1, header.index("指标类型") + 1).value = "cumulative"
    good = io.BytesIO()
    wb.save(good)
    log = audit_rows(demo_db)
    out = library.import_library(good.getvalue(), analyst, demo_db)
    assert {c["indicator_id"] for c in out["indicators"]} == {"I08", "I99"}
    lib = library_frame(demo_db).set_index("indicator_id")
    assert lib.loc["I08", "points"] == 4 and lib.loc["I99", "name"] == "新增示例指标"
    assert lib.loc["I07", "category"] == "=HYPERLINK(\"http://x\")"  # the apostrophe is ours, stripped back
    [entry] = new_audit(demo_db, log)
    assert entry["action"] == "import_library"


# ---------------------------------------------------------------- targets

def test_target_change_history_who_when_before_after_reason(demo_db, analyst, admin):
    cur = library.targets(2026, demo_db)
    t = cur[(cur.unit_id == "C01") & (cur.indicator_id == "I03") & (cur.measure == "ytd")].target.iloc[0]
    log = audit_rows(demo_db)
    library.change_target(2026, "C01", "I03", "ytd", t - 10, "青目标办〔2026〕12号调减", analyst, demo_db)
    library.change_target(2026, "C01", "I03", "ytd", t - 5, "市政府常务会议调整", admin, demo_db)
    entries = new_audit(demo_db, log)
    assert [e["action"] for e in entries] == ["change_target", "change_target"]
    assert (entries[0]["detail"]["before"], entries[0]["detail"]["after"]) == (t, t - 10)
    assert (entries[1]["detail"]["before"], entries[1]["detail"]["after"]) == (t - 10, t - 5)
    hist = library.target_history(2026, "清河县", "固定资产投资", demo_db)
    h = hist[hist.measure == "ytd"].reset_index(drop=True)
    assert list(h.target) == [t, t - 10, t - 5]
    assert list(h.before.iloc[1:]) == [t, t - 10]
    assert list(h.changed_by.iloc[1:]) == ["ana", "adm"]
    assert list(h.reason.iloc[1:]) == ["青目标办〔2026〕12号调减", "市政府常务会议调整"]
    assert list(h.is_current) == [False, False, True]
    now = library.targets(2026, demo_db)
    assert now[(now.unit_id == "C01") & (now.indicator_id == "I03") & (now.measure == "ytd")].target.iloc[0] == t - 5


def test_target_change_needs_a_reason_and_a_number_and_a_role(demo_db, analyst, viewer):
    before = content(demo_db)
    with pytest.raises(library.LibraryError) as e:
        library.change_target(2026, "C01", "I03", "ytd", "abc", " ", analyst, demo_db)
    assert {p.column for p in e.value.problems} == {"原因", "目标值"}
    with pytest.raises(PermissionDenied):
        library.change_target(2026, "C01", "I03", "ytd", 1, "x", viewer, demo_db)
    assert content(demo_db) == before


def test_import_targets_reuses_ingest_and_keeps_upload_history(demo_db, analyst):
    csv = "年份,期间,单位,指标,计量单位,口径,目标值,数值\n2026,,清河县,固定资产投资,亿元,ytd,160,\n"
    report = library.import_targets(csv.encode(), "目标任务分解表.csv", analyst, 2026, demo_db)
    assert report.status == "stored", report.message
    hist = library.target_history(2026, "C01", "I03", demo_db)
    h = hist[hist.measure == "ytd"]
    assert h.target.iloc[-1] == 160 and h.file_name.iloc[-1] == "目标任务分解表.csv" and h.is_current.iloc[-1]
    assert len(h) >= 2


# ---------------------------------------------------------------- adjustments

@pytest.mark.parametrize("rec, cells", [
    ({"year": 2026, "unit_id": "C01", "kind": "honour", "points": 1, "item": "招商"}, {"荣誉级别"}),
    ({"year": 2026, "unit_id": "C01", "kind": "honour", "level": "galactic", "points": 1}, {"荣誉级别", "事项"}),
    ({"year": 2026, "unit_id": "C01", "kind": "city_deduction", "points": 0.3}, {"转扣部门"}),
    ({"year": 2026, "unit_id": "C01", "kind": "city_deduction", "points": 0.3, "charged_to": "C02"}, {"转扣部门"}),
    ({"year": 2026, "unit_id": "C01", "kind": "deduction", "points": -1}, {"分值"}),
    ({"year": 2026, "unit_id": "ZZ", "kind": "bonus", "points": 1}, {"单位编码", "类型"}),
    ({"year": "20x6", "unit_id": "C01", "kind": "interview", "points": 0.5}, {"年份"}),
])
def test_adjustment_validation(demo_db, analyst, rec, cells):
    before = content(demo_db)
    with pytest.raises(library.LibraryError) as e:
        library.add_adjustment(rec, analyst, demo_db)
    assert {p.column for p in e.value.problems} == cells
    assert content(demo_db) == before


def test_adjustments_entered_are_scored_and_audited(demo_db, analyst, viewer):
    with pytest.raises(PermissionDenied):
        library.add_adjustment({"year": 2026, "unit_id": "C01", "kind": "interview", "points": 0.5}, viewer, demo_db)
    dept = db.query("SELECT unit_id FROM units WHERE level = 'department' ORDER BY unit_id LIMIT 1",
                    path=demo_db).unit_id[0]
    log = audit_rows(demo_db)
    library.add_adjustment({"year": 2026, "unit_id": "C01", "kind": "honour", "level": "national",
                            "item": "城镇新增就业", "points": 2, "reason": "全国就业先进县"}, analyst, demo_db)
    out = library.add_adjustment({"year": 2026, "unit_id": "C01", "kind": "city_deduction", "points": 0.4,
                                  "item": "统计数据迟报", "reason": "迟报", "charged_to": dept}, analyst, demo_db)
    entries = new_audit(demo_db, log)
    assert [e["action"] for e in entries] == ["add_adjustment"] * 2
    assert entries[1]["detail"]["before"] is None and entries[1]["detail"]["after"]["charged_to"] == dept
    listed = library.adjustments(2026, demo_db)
    assert {"全国就业先进县", "迟报"} <= set(listed.reason)
    table = scoring.load_table(2026, 9, "city", path=demo_db)
    assert ((table.adjustments.kind == "city_deduction") & (table.adjustments.charged_to == dept)
            & (table.adjustments.points == 0.4)).any()
    ingest.withdraw_upload(out["upload_id"], analyst, "录入错误", demo_db)  # withdrawn like an upload
    assert "迟报" not in set(library.adjustments(2026, demo_db).reason)


# ---------------------------------------------------------------- rules

def test_rules_edit_validated_with_diff_and_audit(demo_db, admin, analyst):
    text = library.rules_text(2026, demo_db)
    assert library.rules_file(2026, demo_db) == scoring.DEFAULT_RULES
    bad = text.replace('method = "rank"', 'method = "lottery"', 1)
    with pytest.raises(scoring.RulesError, match="lottery"):
        library.save_rules(2026, bad, admin, demo_db)
    with pytest.raises(scoring.RulesError, match="TOML"):
        library.save_rules(2026, text + "\n[rules.I01\n", admin, demo_db)
    good = text.replace("[rules.I06]\nmethod = \"rank\"\npoints = 5", "[rules.I06]\nmethod = \"rank\"\npoints = 5.5")
    assert good != text
    with pytest.raises(PermissionDenied):
        library.save_rules(2026, good, analyst, demo_db)
    assert not (library.rules_dir(demo_db) / "2026.toml").exists()
    diff = library.rules_diff(2026, good, demo_db)
    assert "-points = 5\n" in diff and "+points = 5.5\n" in diff
    log = audit_rows(demo_db)
    out = library.save_rules(2026, good, admin, demo_db)
    assert out["changed"] and library.rules_file(2026, demo_db) == library.rules_dir(demo_db) / "2026.toml"
    saved = library.rules_text(2026, demo_db)
    assert saved == good and "# 目标考核计分规则" in saved  # comments and order kept
    assert scoring.load_rules(library.rules_file(2026, demo_db)).rules["I06"].points == 5.5
    assert scoring.DEFAULT_RULES.read_text(encoding="utf-8") == text  # the shipped default untouched
    [entry] = new_audit(demo_db, log)
    assert entry["action"] == "edit_rules" and entry["detail"]["before"] == text and entry["detail"]["after"] == good
    assert entry["detail"]["year"] == 2026


def test_set_rule_keeps_comments_and_order(demo_db, admin):
    text = library.rules_text(2026, demo_db)
    library.set_rule(2026, "I03", {"points": 8}, admin, demo_db)
    saved = library.rules_text(2026, demo_db)
    assert saved.count("#") == text.count("#")
    assert [l for l in saved.splitlines() if l.startswith("[")] == [l for l in text.splitlines() if l.startswith("[")]
    assert scoring.load_rules(library.rules_file(2026, demo_db)).rules["I03"].points == 8


# ---------------------------------------------------------------- rollover

def test_rollover_copies_library_owners_rules_not_targets(demo_db, admin, analyst):
    with pytest.raises(PermissionDenied):
        library.rollover(2026, 2027, analyst, demo_db)
    before = content(demo_db)
    with pytest.raises(AnalyticsError, match="已有数据"):
        library.rollover(2025, 2026, admin, demo_db)
    with pytest.raises(AnalyticsError, match="应晚于"):
        library.rollover(2026, 2026, admin, demo_db)
    assert content(demo_db) == before
    in_force = library.owners(demo_db, asof="2026-12-31")
    log = audit_rows(demo_db)
    out = library.rollover(2026, 2027, admin, demo_db)
    assert out["owners"] == len(in_force) and out["targets"] == 0
    new = library.owners(demo_db, asof="2027-01-01")
    assert (new.valid_from.astype(str) == "2027-01-01").all() and len(new) == len(in_force)
    assert sorted(zip(new.indicator_id, new.owner_leader)) == sorted(zip(in_force.indicator_id, in_force.owner_leader))
    assert library.targets(2027, demo_db).empty
    rules = library.rules_text(2027, demo_db)
    assert rules.startswith("# 适用年度：2027") and scoring.load_rules(library.rules_file(2027, demo_db)).rules
    [entry] = new_audit(demo_db, log)
    assert entry["action"] == "rollover" and entry["detail"]["after"]["owners"] == len(in_force)
    with pytest.raises(AnalyticsError, match="已有计分规则"):
        library.rollover(2026, 2027, admin, demo_db)


# ---------------------------------------------------------------- period locking

def test_upload_into_locked_period_refused_content_unchanged(demo_db, admin, analyst):
    with pytest.raises(PermissionDenied):
        locks.lock_period(2026, 10, analyst, path=demo_db)
    log = audit_rows(demo_db)
    locks.lock_period(2026, 10, admin, "青目通〔2026〕10号已发布", demo_db)
    [entry] = new_audit(demo_db, log)
    assert entry["action"] == "lock_period"
    assert entry["detail"]["before"] == {"locked": False} and entry["detail"]["after"] == {"locked": True}
    with pytest.raises(AnalyticsError, match="无需重复锁定"):
        locks.lock_period(2026, 10, admin, path=demo_db)
    before = content(demo_db)
    report = ingest_bytes(CSV_P10.encode(), "p10.csv", analyst, path=demo_db)
    assert report.status == "refused" and report.exit_code == 2
    assert "2026年1-10月" in report.message and "锁定" in report.message and "解锁" in report.message
    assert content(demo_db) == before
    # another period is not affected
    other = CSV_P10.replace("2026,10,", "2026,11,")
    assert ingest_bytes(other.encode(), "p11.csv", analyst, path=demo_db).status == "stored"


def test_unlock_is_audited_with_reason_then_upload_accepted(demo_db, admin, analyst):
    locks.lock_period(2026, 10, admin, path=demo_db)
    with pytest.raises(AnalyticsError, match="原因"):
        locks.unlock_period(2026, 10, admin, "  ", demo_db)
    with pytest.raises(PermissionDenied):
        locks.unlock_period(2026, 10, analyst, "更正", demo_db)
    log = audit_rows(demo_db)
    locks.unlock_period(2026, 10, admin, "统计局更正一般公共预算收入", demo_db)
    [entry] = new_audit(demo_db, log)
    assert entry["action"] == "unlock_period" and entry["detail"]["reason"] == "统计局更正一般公共预算收入"
    assert entry["detail"]["before"] == {"locked": True} and entry["detail"]["after"] == {"locked": False}
    assert locks.locked_periods(demo_db).empty
    assert len(locks.lock_history(demo_db)) == 2
    assert ingest_bytes(CSV_P10.encode(), "p10.csv", analyst, path=demo_db).status == "stored"
    with pytest.raises(AnalyticsError, match="未锁定"):
        locks.unlock_period(2026, 10, admin, "x", demo_db)


def test_lock_taken_while_upload_is_checked_wins(demo_db, admin, analyst, monkeypatch):
    """The check runs inside the write transaction: a lock committed after the file was
    validated but before it is stored still refuses it."""
    real = ingest._check_records

    def check_then_lock(*args, **kwargs):
        out = real(*args, **kwargs)
        locks.lock_period(2026, 10, admin, "并发锁定", demo_db)  # another connection, committed now
        return out

    monkeypatch.setattr(ingest, "_check_records", check_then_lock)
    before_uploads = db.query("SELECT count(*) AS n FROM uploads", path=demo_db).n[0]
    report = ingest_bytes(CSV_P10.encode(), "p10.csv", analyst, path=demo_db)
    assert report.status == "refused" and "2026年1-10月" in report.message
    assert db.query("SELECT count(*) AS n FROM uploads", path=demo_db).n[0] == before_uploads
    assert db.query("SELECT count(*) AS n FROM observations WHERE year = 2026 AND period = 10",
                    path=demo_db).n[0] == 0


def test_cli_lock_unlock_rollover(demo_db, capsys):
    assert cli.run(["--db", str(demo_db), "lock", "--year", "2026", "--period", "9", "--reason", "已通报"]) == 0
    assert json.loads(capsys.readouterr().out)["locked"] is True
    with pytest.raises(SystemExit):  # --reason is required
        cli.run(["--db", str(demo_db), "unlock", "--year", "2026", "--period", "9"])
    capsys.readouterr()
    assert cli.run(["--db", str(demo_db), "unlock", "--year", "2026", "--period", "9", "--reason", "更正"]) == 0
    assert json.loads(capsys.readouterr().out)["locked"] is False
    assert cli.run(["--db", str(demo_db), "rollover", "--from", "2025", "--to", "2026"]) == 2
    assert "已有数据" in json.loads(capsys.readouterr().out)["reason"]
    assert cli.run(["--db", str(demo_db), "rollover", "--from", "2026", "--to", "2027"]) == 0
    assert json.loads(capsys.readouterr().out)["to_year"] == 2027
    assert date(2027, 1, 1) in set(library.owners(demo_db, asof="2027-06-30").valid_from.map(
        lambda d: pd.Timestamp(d).date()))
