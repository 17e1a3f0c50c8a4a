"""管理数据 pages under AppTest: an indicator edited through the library page's editor is
previewed and saved (and audited); the rules page shows a validation error for a bad edit and
a diff for a good one; the pages are offered by role."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from analytics import library




def open_page(username: str, page: str) -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=120)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = username
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def registered(at: AppTest) -> set[str]:
    return {Path(str(i["script_path"])).name for i in at._registered_pages.values() if i.get("script_path")}


def test_pages_by_role(app_db):
    leader = AppTest.from_file("../app.py", default_timeout=120)
    leader.session_state["authentication_status"] = True
    leader.session_state["username"] = "leader"
    leader.run()
    assert not {"library.py", "adjustments.py", "rules.py", "periods.py"} & registered(leader)
    analyst = open_page("analyst", "pages/library.py")
    assert {"library.py", "adjustments.py"} <= registered(analyst)
    assert not {"rules.py", "periods.py"} & registered(analyst)
    admin = open_page("admin", "pages/periods.py")
    assert {"library.py", "adjustments.py", "rules.py", "periods.py"} <= registered(admin)


def test_edit_an_indicator_through_the_page(app_db):
    at = open_page("analyst", "pages/library.py")
    assert at.title[0].value == "指标库与目标"
    frame = library.indicators(app_db)
    row = int(frame.index[frame.indicator_id == "I05"][0])
    # a bad cell first: the per-cell error is shown and there is no save button
    at.session_state["library_editor"] = {"edited_rows": {row: {"curve": "plan:6"}}, "added_rows": [],
                                          "deleted_rows": []}
    at.run()
    assert not at.exception, at.exception
    assert any("未通过校验" in e.value for e in at.error)
    assert not [b for b in at.button if b.key == "library_save"]
    # a good edit: previewed, then saved
    at.session_state["library_editor"] = {"edited_rows": {row: {"points": 7.5}}, "added_rows": [],
                                          "deleted_rows": []}
    at.run()
    assert not at.exception, at.exception
    [preview] = [d.value for d in at.dataframe if "字段" in d.value.columns]  # the preview table
    assert list(preview["字段"]) == ["分值"] and list(preview["修改后"]) == ["7.5"]
    at.button(key="library_save").click().run()
    assert not at.exception, at.exception
    assert library.indicators(app_db).set_index("indicator_id").loc["I05", "points"] == 7.5
    assert any("已保存 1 项修改" in s.value for s in at.success)
    entry = library.last_audit("edit_indicators", app_db)
    assert entry["user"] == "analyst" and entry["detail"]["changes"][0]["after"] == {"points": 7.5}


def test_rules_page_validation_error_then_diff(app_db):
    at = open_page("admin", "pages/rules.py")
    assert at.title[0].value == "考核规则"
    area = at.text_area[0]
    text = area.value
    area.set_value(text.replace('method = "rank"', 'method = "lottery"', 1)).run()
    assert not at.exception, at.exception
    assert any("校验未通过" in e.value and "lottery" in e.value for e in at.error)
    assert not at.code
    at.text_area[0].set_value(text.replace("[rules.I06]\nmethod = \"rank\"\npoints = 5",
                                           "[rules.I06]\nmethod = \"rank\"\npoints = 5.5")).run()
    assert not at.exception, at.exception
    assert not at.error
    diff = at.code[0].value
    assert "-points = 5\n" in diff and "+points = 5.5\n" in diff
    at.button(key="rules_save").click().run()
    assert not at.exception, at.exception
    year = int(at.selectbox(key="rules_year").value)
    assert "points = 5.5" in library.rules_text(year, app_db)
    assert library.last_audit("edit_rules", app_db)["user"] == "admin"
