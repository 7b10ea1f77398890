"""The web UI in a real browser: Debian's headless Chromium, driven by Playwright, against a
real `flagkit serve --ui` with API keys on loopback.

Log in (a wrong key is refused), read the Flags page, explain a tenant with JavaScript
off and read the deciding step, preview a change and read its blast radius. Each page's
screenshot is saved under $FLAGKIT_TEST_ARTIFACTS (else pytest's temporary directory);
with FLAGKIT_UPDATE_SCREENSHOT=1 the Explain page's is also written to docs/ui.png.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import EXAMPLES, REPO
from tests.service_server import CliServer, serve_cli

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

CHROMIUM = Path("/usr/bin/chromium")
KEY = "browser-key-3e9a"
VIEWPORT = {"width": 1280, "height": 800}
DOCUMENT = json.loads((EXAMPLES / "flags.json").read_text())

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="no Chromium at /usr/bin/chromium: install Debian's chromium package "
    "(apt-get install chromium; .ci/run does) to run the browser tests",
)


@pytest.fixture(scope="module")
def server() -> Iterator[CliServer]:
    env = {"FLAGKIT_SOURCE": str(EXAMPLES / "flags.json"), "FLAGKIT_API_KEYS": KEY}
    with serve_cli("--ui", env=env) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: $FLAGKIT_TEST_ARTIFACTS, else a temporary directory."""
    named = os.environ.get("FLAGKIT_TEST_ARTIFACTS")
    directory = Path(named) if named else tmp_path_factory.mktemp("ui-screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def new_context(browser: Browser, server: CliServer, **options: object) -> BrowserContext:
    context = browser.new_context(base_url=server.base_url, viewport=VIEWPORT, **options)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    return context


def log_in(page: Page, key: str = KEY) -> None:
    page.goto("/ui")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


@pytest.fixture
def page(browser: Browser, server: CliServer) -> Iterator[Page]:
    """A logged-in page with JavaScript on."""
    context = new_context(browser, server)
    opened = context.new_page()
    log_in(opened)
    yield opened
    context.close()


def test_a_wrong_key_is_refused(browser: Browser, server: CliServer, artifacts: Path) -> None:
    context = new_context(browser, server)
    page = context.new_page()
    page.goto("/ui")
    assert page.url == f"{server.base_url}/ui/login"
    page.get_by_label("API key").fill("not-the-key")
    with page.expect_response(f"{server.base_url}/ui/login") as answered:
        page.get_by_role("button", name="Log in").click()
    assert answered.value.status == 401
    assert page.get_by_role("alert").inner_text() == "That API key is not valid."
    assert context.cookies() == []
    page.screenshot(path=artifacts / "login-refused.png")
    context.close()


def test_log_in_and_see_every_flag(page: Page, artifacts: Path) -> None:
    assert page.url.endswith("/ui")
    (cookie,) = page.context.cookies()
    assert cookie["name"] == "flagkit_ui"
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/ui"
    assert KEY not in cookie["value"]
    assert page.evaluate("document.cookie") == ""  # HttpOnly: no script can read it.
    rows = page.locator("#flags tbody tr")
    assert rows.count() == len([key for key in DOCUMENT if not key.startswith("_")])
    # The stylesheet applies (the page's Content-Security-Policy lets it load):
    assert page.locator("header").evaluate("e => getComputedStyle(e).display") == "flex"
    killed = page.locator('tr[data-flag="aiSummaries"] td.state')
    assert killed.inner_text() == "killed (enabled: false)"
    page.screenshot(path=artifacts / "flags.png", full_page=True)


def test_explain_a_tenant_without_javascript_and_read_the_deciding_step(
    browser: Browser, server: CliServer, artifacts: Path
) -> None:
    context = new_context(browser, server, java_script_enabled=False)
    page = context.new_page()
    log_in(page)
    page.get_by_role("link", name="Explain").click()
    page.get_by_label("Tenant id").fill("globex")
    page.get_by_label("Tier").fill("pro")
    page.get_by_label("Attributes").fill("region=eu-west-1\nseats=40")
    page.get_by_label("Step by step for flag").select_option("checkoutTheme")
    page.get_by_role("button", name="Explain").click()
    page.wait_for_load_state()
    deciding = page.locator("#steps .step.decided")
    assert deciding.locator(".step-name").inner_text() == "rule eu-beta"
    assert deciding.locator(".outcome").inner_text() == "decided: variant fresh"
    conditions = deciding.locator(".conditions li").all_inner_texts()
    assert conditions == [
        'region in ["eu-west-1", "eu-central-1"]: "eu-west-1" → holds',
        'id inSegment "beta-customers": "globex" → holds',
    ]
    theme = page.locator('#answers tr[data-flag="checkoutTheme"] td')
    assert theme.nth(1).inner_text() == "fresh"
    assert theme.nth(2).inner_text() == "TARGETING_MATCH"
    page.screenshot(path=artifacts / "explain.png", full_page=True)
    if os.environ.get("FLAGKIT_UPDATE_SCREENSHOT") == "1":
        page.screenshot(path=REPO / "docs" / "ui.png")
    context.close()


def test_preview_a_change_and_read_its_blast_radius(page: Page, artifacts: Path) -> None:
    candidate = {**DOCUMENT, "bulkExport": {**DOCUMENT["bulkExport"], "excludedTenants": []}}
    page.get_by_role("link", name="Preview").click()
    page.get_by_label("Candidate document (JSON)").fill(json.dumps(candidate, indent=2))
    page.get_by_label("Tenants:").fill("acme enterprise\nglobex pro\numbrella\n")
    page.get_by_role("button", name="Preview").click()
    page.wait_for_load_state()
    assert page.locator("#diff").inner_text() == (
        "bulkExport: +1 tenant (changed: excludedTenants)\n"
        "  + umbrella\n"
        "summary: 1 flag differs (0 added, 0 removed, 1 changed); "
        "a different answer for 1 of 3 tenants"
    )
    page.screenshot(path=artifacts / "preview.png", full_page=True)


def test_log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()
    assert page.url.endswith("/ui/login")
    assert page.context.cookies() == []
    page.goto("/ui")
    assert page.url.endswith("/ui/login")
