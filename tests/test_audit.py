"""The audit log read side (analytics.audit) and the CLI ``audit`` command: filters, JSON
shape, and a CSV export a spreadsheet cannot be tricked into running."""
from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import pytest

from analytics import audit, auth
from analytics.__main__ import run
from analytics.errors import Actor

ADMIN = Actor("admin", "admin")


@pytest.fixture
def log_db(small_db, monkeypatch):
    """small_db (two library uploads by 'adm') plus users, a role change and two failed logins."""
    monkeypatch.setattr(auth, "BCRYPT_ROUNDS", 4)
    auth.seed_demo_users(small_db)
    auth.change_role(ADMIN, "leader", "analyst", small_db)
    auth.verify_login("leader", "wrong-one", small_db)
    auth.verify_login("=HYPERLINK(\"http://x\")", "x", small_db)  # a hostile user name
    return small_db


def test_query_newest_first_with_all_entries(log_db):
    rows = audit.query(path=log_db)
    assert list(rows.columns) == ["at", "user", "action", "detail"]
    assert list(rows.action) == ["login_failed", "login_failed", "user_change_role", "users_seed",
                                 "upload", "upload"]
    assert rows["at"].is_monotonic_decreasing


@pytest.mark.parametrize("filters, expected", [
    ({"user": "adm"}, ["upload", "upload"]),
    ({"action": "login_failed"}, ["login_failed", "login_failed"]),
    ({"user": "leader", "action": "login_failed"}, ["login_failed"]),
    ({"user": "nobody"}, []),
    ({"since": date.today()}, ["login_failed", "login_failed", "user_change_role", "users_seed", "upload", "upload"]),
    ({"until": date.today()}, ["login_failed", "login_failed", "user_change_role", "users_seed", "upload", "upload"]),
    ({"until": date.today() - timedelta(days=1)}, []),
    ({"since": (date.today() + timedelta(days=1)).isoformat()}, []),
    ({"limit": 1}, ["login_failed"]),
])
def test_query_filters(log_db, filters, expected):
    assert list(audit.query(**filters, path=log_db).action) == expected


def test_since_and_until_datetimes(log_db):
    rows = audit.query(path=log_db)
    pivot = rows["at"].iloc[2]  # the role change
    assert list(audit.query(since=pivot.to_pydatetime(), path=log_db).action) == \
        ["login_failed", "login_failed", "user_change_role"]
    assert list(audit.query(until=pivot.to_pydatetime(), path=log_db).action) == ["users_seed", "upload", "upload"]
    assert list(audit.query(until=pivot.isoformat(), path=log_db).action) == ["users_seed", "upload", "upload"]


def test_choices(log_db):
    c = audit.choices(log_db)
    assert c["actions"] == sorted({"upload", "users_seed", "user_change_role", "login_failed"})
    assert {"adm", "admin", "leader", "system"} <= set(c["users"])


def test_records_parse_detail(log_db):
    recs = audit.records(audit.query(action="user_change_role", path=log_db))
    assert len(recs) == 1 and set(recs[0]) == {"at", "user", "action", "detail"}
    assert recs[0]["user"] == "admin"
    assert recs[0]["detail"] == {"username": "leader", "before": {"role": "viewer"}, "after": {"role": "analyst"}}
    assert recs[0]["at"].startswith(date.today().isoformat())


@pytest.mark.parametrize("cell, safe", [
    ("=1+1", "'=1+1"), ("+86 123", "'+86 123"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("正常文本", "正常文本"), ("a=b", "a=b"), ("", ""), (3, 3), (None, None),
])
def test_neutralise(cell, safe):
    assert audit.neutralise(cell) == safe


def test_csv_export_neutralises_formulas(log_db):
    frame = audit.query(path=log_db)
    data = audit.to_csv(frame, {"at": "时间", "user": "用户", "action": "操作", "detail": "详情"})
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens the UTF-8 correctly
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["时间", "用户", "操作", "详情"]
    assert len(rows) == len(frame) + 1
    users = [r[1] for r in rows[1:]]
    assert "'=hyperlink(\"http://x\")" in users  # user names are compared in lower case
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)
    assert json.loads(rows[3][3]) == {"username": "leader", "before": {"role": "viewer"}, "after": {"role": "analyst"}}


def cli(capsys, *args) -> tuple[int, object]:
    code = run(list(args))
    return code, json.loads(capsys.readouterr().out)


def test_cli_audit(log_db, capsys):
    code, doc = cli(capsys, "--db", str(log_db), "audit")
    assert code == 0 and len(doc) == 6
    assert all(set(e) == {"at", "user", "action", "detail"} for e in doc)
    code, doc = cli(capsys, "--db", str(log_db), "audit", "--user", "leader", "--action", "login_failed",
                    "--since", date.today().isoformat(), "--until", date.today().isoformat())
    assert code == 0 and doc == [{"at": doc[0]["at"], "user": "leader", "action": "login_failed",
                                  "detail": {"reason": "wrong_password"}}]
    code, doc = cli(capsys, "--db", str(log_db), "audit", "--since", "2999-01-01")
    assert (code, doc) == (0, [])


def test_cli_audit_bad_date(log_db, capsys):
    code, doc = cli(capsys, "--db", str(log_db), "audit", "--since", "昨天")
    assert code == 2 and doc["error"] == "AnalyticsError" and "YYYY-MM-DD" in doc["reason"]


def test_cli_audit_documented():
    from analytics.db import ROOT
    assert "`audit" in (ROOT / "README.md").read_text(encoding="utf-8")
