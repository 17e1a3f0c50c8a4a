"""Browser tests: the real app (``streamlit run``) driven by headless Chromium via Playwright.

Every test here is skipped, with the reason, where /usr/bin/chromium or the playwright package is missing.
Never runs ``playwright install``: the system Chromium is used through ``executable_path``.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1920, "height": 1080}
TIMEOUT_MS = 60_000  # generous: first render builds caches, CI machines are slow

SKIP_REASON = None
try:
    from playwright.sync_api import Page, expect, sync_playwright
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import Error as PlaywrightError
except ImportError as exc:  # pragma: no cover - depends on the machine
    Page = expect = sync_playwright = PlaywrightTimeout = PlaywrightError = None
    SKIP_REASON = f"e2e: playwright is not importable ({exc}); pip install -r requirements-dev.txt"
if not CHROMIUM.exists():
    SKIP_REASON = f"e2e: {CHROMIUM} not found (CI installs it via apt; see .ci/run)"

from .server import ROOT, serve  # noqa: E402

if expect is not None:
    expect.set_options(timeout=TIMEOUT_MS)


def pytest_collection_modifyitems(config, items):
    """Mark everything in this folder ``e2e``; skip it all, with the reason, where the browser
    or playwright is missing (a module-level skip in a conftest would abort a direct run)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.e2e)
            if SKIP_REASON:
                item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


@pytest.fixture(scope="session")
def shots_dir() -> Path:
    """test-output/screenshots/ under the repository root (git-ignored)."""
    path = ROOT / "test-output" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def e2e_db(demo_template, tmp_path_factory) -> Path:
    """A private copy of the session's demo database, served by this module's app server."""
    path = tmp_path_factory.mktemp("e2e") / "demo.duckdb"
    shutil.copy(demo_template, path)
    return path


@pytest.fixture(scope="module")
def app_url(e2e_db) -> str:
    with serve(env={"TARGETS_DB": str(e2e_db)}) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser, request, shots_dir) -> "Page":
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    yield pg
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid.split("::", 1)[-1])
        try:
            pg.screenshot(path=str(shots_dir / f"FAILED-{name}.png"), full_page=True)
        except Exception as exc:  # noqa: BLE001 - a failing screenshot must not hide the test failure
            print(f"could not save failure screenshot: {exc}")
    context.close()


def wait_app(page: "Page", timeout: float = TIMEOUT_MS) -> None:
    """Wait until Streamlit has finished the current run: app mounted, no running indicator,
    no spinner, and the main block shows content. Waits on the DOM, never on sleeps."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            if (!app) return false;
            const state = app.getAttribute('data-test-script-state');
            if (state === 'running' || state === 'initial') return false;
            if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
            if (document.querySelector('[data-testid="stSpinner"]')) return false;
            const main = document.querySelector('[data-testid="stMainBlockContainer"]');
            return !!main && main.innerText.trim().length > 0;
        }""",
        timeout=timeout,
    )


def login(page: "Page", app_url: str, username: str = "analyst", password: str = "analyst123",
          attempts: int = 4) -> None:
    """Open the app and sign in through the login form (demo users leader/analyst/admin, password
    ``<name>123``); returns when the first page of the app has rendered.

    Retries: right after the first render the login form re-mounts once (the cookie component
    triggers a rerun and the form's widget ids change), which silently empties a field typed
    into before that rerun — the app then answers 用户名或密码错误 for an empty user name."""
    page.goto(app_url)
    user, pwd = page.get_by_label("用户名"), page.get_by_label("密码")
    nav = page.locator('[data-testid="stSidebarNav"]')
    for attempt in range(1, attempts + 1):
        try:
            wait_app(page)
            # during the re-mount the old and the new form can both be in the page for a moment
            expect(user).to_have_count(1, timeout=TIMEOUT_MS)
            expect(pwd).to_have_count(1, timeout=TIMEOUT_MS)
            user.fill(username)
            pwd.fill(password)
            wait_app(page)
            if user.input_value() != username or pwd.input_value() != password:
                continue  # the form re-mounted while we typed
            page.get_by_role("button", name="登录", exact=True).click()
            # a submit swallowed by the re-mount shows neither the app nor an error
            page.wait_for_function(
                """() => document.querySelector('[data-testid="stSidebarNav"]')
                         || document.querySelector('[data-testid="stAlertContentError"]')""", timeout=20_000)
        except (PlaywrightTimeout, PlaywrightError, AssertionError):
            if attempt == attempts:
                raise
            page.goto(app_url)  # start again from a fresh load
            continue
        if nav.count():
            expect(pwd).to_have_count(0)
            wait_app(page)
            wait_cookie(page)
            return
    raise AssertionError(f"login as {username!r} failed after {attempts} attempts; on screen:\n"
                         f"{page.locator('[data-testid=stMain]').inner_text()[:500]}")


def wait_cookie(page: "Page", name: str = "mubiao_auth", timeout: float = TIMEOUT_MS) -> None:
    """Wait until the browser holds the login cookie. The app shows its pages as soon as the
    password is checked, but the cookie is written by a component iframe that loads after
    that render; a reload or a new address opened before it has run finds no login."""
    deadline = time.monotonic() + timeout / 1000
    while name not in {c["name"] for c in page.context.cookies()}:
        if time.monotonic() > deadline:
            raise AssertionError(f"logged in, but no {name!r} cookie after {timeout / 1000:.0f} s")
        page.wait_for_timeout(200)


def choose_file(page: "Page", name: str, data: bytes, mime: str = "text/csv", attempts: int = 3) -> None:
    """Put a file into the page's st.file_uploader and wait until the server has it (the chip's
    button says "Remove …"). Retried: a choice made while the page re-runs for the login cookie
    can be dropped with the widget it was made in."""
    uploader = page.locator('[data-testid="stFileUploader"]')
    done = uploader.get_by_role("button", name=f"Remove {name}")
    for attempt in range(1, attempts + 1):
        wait_app(page)
        uploader.locator('input[type="file"]').set_input_files(files=[{"name": name, "mimeType": mime, "buffer": data}])
        try:
            done.wait_for(timeout=20_000)
            break
        except PlaywrightTimeout:
            if attempt == attempts:
                raise
    expect(uploader.locator('[data-testid="stFileChip"]')).to_have_count(1)
    wait_app(page)

def run_cli(*args: str) -> tuple[int, object]:
    """``python -m analytics …`` in the repo root; returns (exit code, parsed JSON stdout)."""
    proc = subprocess.run([sys.executable, "-m", "analytics", *args], cwd=ROOT, capture_output=True,
                          text=True, encoding="utf-8", timeout=120)
    try:
        doc = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"CLI {args} printed no JSON (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.returncode, doc


__all__ = ["CHROMIUM", "PlaywrightTimeout", "TIMEOUT_MS", "choose_file", "expect", "login", "run_cli", "wait_app", "wait_cookie"]
