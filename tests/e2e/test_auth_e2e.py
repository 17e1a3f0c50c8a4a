"""Login in the real browser: the signed cookie keeps a leader logged in across a reload,
roles shape the navigation, an analyst uploads, and the audit names the uploader."""
from __future__ import annotations

import re
import time

from .conftest import TIMEOUT_MS, PlaywrightTimeout, choose_file, expect, login, run_cli, wait_app  # login retries a submit lost to the cookie rerun

HEADER = "年份,期间,单位,指标,计量单位,口径,目标值,数值"
CSV_NAME = "分析员上传_10月.csv"
CSV = f"{HEADER}\n2026,10,清河县,一般公共预算收入,万元,累计,,91234\n"




def nav_links(page) -> list[str]:
    return [t.split()[-1] for t in page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()]


def test_login_page(page, app_url, shots_dir):
    page.goto(app_url)
    wait_app(page)
    expect(page.get_by_label("用户名")).to_be_visible()
    expect(page.get_by_label("密码")).to_be_visible()
    expect(page.locator('[data-testid="stSidebarNav"]')).to_have_count(0)
    page.screenshot(path=str(shots_dir / "login.png"))
    error = page.locator('[data-testid="stAlertContentError"]', has_text="用户名或密码错误")
    for _ in range(4):  # typing lost to the cookie component's first rerun is typed again (see login())
        page.get_by_label("用户名").fill("leader")
        page.get_by_label("密码").fill("not-the-password")
        wait_app(page)
        if page.get_by_label("用户名").input_value() != "leader":
            continue
        page.locator('[data-testid="stFormSubmitButton"] button', has_text="登录").click()
        try:
            error.wait_for(timeout=20_000)
            break
        except PlaywrightTimeout:
            continue
    expect(error).to_be_visible()


def test_viewer_stays_logged_in_after_reload_and_has_no_upload(page, app_url):
    login(page, app_url, "leader", "leader123")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert "mubiao_auth" in cookies, cookies.keys()
    assert "数据上传" not in nav_links(page) and "数据浏览" in nav_links(page)

    page.reload()
    wait_app(page)
    expect(page.locator('[data-testid="stSidebar"]')).to_contain_text("县领导（演示）")
    expect(page.locator("h1", has_text="目标任务完成情况")).to_be_visible()  # still logged in: the 总览 landing page
    expect(page.get_by_label("密码")).to_have_count(0)
    links = nav_links(page)
    assert "数据上传" not in links and "用户管理" not in links and "审计日志" not in links, links

    page.goto(app_url + "/upload")  # typing the address does not reach the page either
    wait_app(page)
    expect(page.locator("h1", has_text="数据上传")).to_have_count(0)
    expect(page.locator('[data-testid="stFileUploader"]')).to_have_count(0)
    expect(page.get_by_role("dialog")).to_contain_text("Page not found")  # Streamlit's own notice
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)

    page.locator('[data-testid="stSidebar"] button', has_text="退出登录").click()
    expect(page.get_by_label("密码")).to_be_visible()
    # the cookie is deleted by the browser-side cookie component once it renders: it must go
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while "mubiao_auth" in {c["name"] for c in page.context.cookies()} and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert "mubiao_auth" not in {c["name"] for c in page.context.cookies()}, "logout left the login cookie"
    page.reload()
    wait_app(page)
    expect(page.get_by_label("密码")).to_be_visible()  # the cookie is gone too


def test_analyst_uploads(page, app_url, e2e_db, shots_dir):
    login(page, app_url, "analyst", "analyst123")
    assert "数据上传" in nav_links(page)
    page.goto(app_url.rstrip("/") + "/upload")  # by address: a link click during the cookie rerun can be lost
    expect(page).to_have_url(re.compile(r"/upload$"))
    wait_app(page)
    choose_file(page, CSV_NAME, CSV.encode("utf-8"))
    page.get_by_role("button", name="校验并入库").click()  # the upload page's store button
    expect(page.locator('[data-testid="stAlertContentSuccess"]').first).to_be_visible()
    wait_app(page)
    page.screenshot(path=str(shots_dir / "upload_by_analyst.png"))

    code, entries = run_cli("--db", str(e2e_db), "audit", "--action", "upload", "--user", "analyst")
    assert code == 0
    assert [e["detail"].get("file") for e in entries] == [CSV_NAME], entries


def test_admin_users_page(page, app_url, shots_dir):
    login(page, app_url, "admin", "admin123")
    links = nav_links(page)
    assert {"用户管理", "审计日志", "数据上传"} <= set(links), links
    page.goto(app_url.rstrip("/") + "/users")  # by address: a link click during the cookie rerun can be lost
    expect(page.locator("h1", has_text="用户管理")).to_be_visible()
    wait_app(page)
    expect(page.locator('[data-testid="stDataFrame"]')).to_have_count(1)
    page.screenshot(path=str(shots_dir / "users.png"))
