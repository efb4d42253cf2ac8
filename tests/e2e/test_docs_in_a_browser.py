"""Swagger UI and Redoc tried in a real browser, as a new front-end developer would (issue 15, item 5).

`make e2e` runs this (and `.ci/run` runs `make e2e`): Playwright drives Debian's chromium (`/usr/bin/chromium`,
installed with fonts-noto-cjk by the Makefile target when missing). The service listens on a free loopback port, its
sessions in savepoints of the test's rolled-back transaction. In /docs the test authorizes with a token from
`python -m app token`, tries GET /api/v1/calls and POST /api/v1/organizations and reads 200 and 201 in the page;
/redoc renders the contract. Screenshots go to build/e2e/ (git-ignored), for a person to look at.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from app.__main__ import main as cli
from tests.conftest import SECRET
from tests.factories import credit_code

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "build" / "e2e"
CHROMIUM = os.environ.get("TIC_E2E_CHROMIUM", "/usr/bin/chromium")
TITLE = "Henan Technology Innovation Centers API (河南省技术创新中心)"
TIMEOUT_MS = 30_000


@pytest.fixture
def chromium() -> str:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: `make e2e` installs Debian's chromium"
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return CHROMIUM


@pytest.fixture
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        launched = await playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    opened = await context.new_page()
    opened.set_default_timeout(TIMEOUT_MS)
    try:
        yield opened
    finally:
        await context.close()


def token(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    """A token as the README makes one, signed with the test service's secret."""
    monkeypatch.setenv("TIC_AUTH_SECRET", SECRET)
    capsys.readouterr()
    assert cli(["token", *args]) == 0
    return capsys.readouterr().out.strip()


async def screenshot(page: Page, name: str) -> None:
    await page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=False)


async def try_it(page: Page, operation_id: str, *, body: dict[str, object] | None = None) -> str:
    """Open an operation in Swagger UI, press "Try it out", fill the body, "Execute", and return the shown status."""
    block = page.locator(f"[id$='-{operation_id}']")
    await block.locator(".opblock-summary").first.click()
    await block.locator("button.try-out__btn").click()
    if body is not None:
        editor = block.locator("textarea.body-param__text")
        await editor.fill(json.dumps(body, ensure_ascii=False))
    await block.locator("button.execute").click()
    status = block.locator(".live-responses-table .response .response-col_status").first
    await expect(status).to_have_text(re.compile(r"^\d{3}"), timeout=TIMEOUT_MS)
    await block.scroll_into_view_if_needed()
    return (await status.inner_text()).strip()


def test_a_chinese_font_is_installed_for_the_browser() -> None:
    """Chromium falls back to fontconfig's fonts for CJK text; without one the titles render as boxes."""
    fc_list = shutil.which("fc-list")
    assert fc_list, "fontconfig is missing"
    families = subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True, check=True).stdout
    assert families.strip(), "no font covers Chinese: `make e2e` installs fonts-noto-cjk"


async def test_swagger_ui_authorizes_and_tries_calls(
    base_url: str, page: Page, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bearer = token(capsys, monkeypatch, "--role", "province")
    await page.goto(f"{base_url}/docs")
    await expect(page.locator(".swagger-ui .info .title")).to_contain_text("河南省技术创新中心")

    # The Authorize button exists because the contract declares the bearer scheme.
    await page.locator(".scheme-container button.authorize").click()
    dialog = page.locator(".dialog-ux .modal-ux")
    await expect(dialog).to_contain_text("bearerAuth")
    await dialog.locator("input").fill(bearer)
    await dialog.locator("button.authorize").click()
    await expect(dialog.locator("button.authorize")).to_have_count(0)  # it turned into "Logout"
    await dialog.locator("button.btn-done").click()

    assert await try_it(page, "list_calls") == "200"
    shown = page.locator("[id$='-list_calls'] .live-responses-table .response-col_description pre").first
    assert '"items"' in await shown.inner_text()

    created = await try_it(
        page,
        "create_organization",
        body={"name": "洛阳新材料有限公司", "credit_code": credit_code(), "kind": "enterprise", "region": "洛阳市"},
    )
    assert created == "201"
    answer = page.locator("[id$='-create_organization'] .live-responses-table .response-col_description pre").first
    await expect(answer).to_contain_text("洛阳新材料有限公司")
    await screenshot(page, "swagger-ui-create-organization")


async def test_swagger_ui_without_authorizing_shows_the_401_problem(base_url: str, page: Page) -> None:
    await page.goto(f"{base_url}/docs")
    await expect(page.locator(".swagger-ui .info .title")).to_contain_text("河南省技术创新中心")
    assert await try_it(page, "list_calls") == "401"
    shown = page.locator("[id$='-list_calls'] .live-responses-table .response-col_description pre").first
    await expect(shown).to_contain_text("unauthenticated")


async def test_redoc_renders_the_contract(base_url: str, page: Page) -> None:
    await page.goto(f"{base_url}/redoc")
    await expect(page.locator("h1").first).to_contain_text(TITLE)
    # The tag descriptions (zh and en) and the roles paragraph are rendered from the contract.
    await expect(page.locator("body")).to_contain_text("申报通知")
    await expect(page.locator("body")).to_contain_text("可调用角色")
    await expect(page.get_by_text("bearerAuth").first).to_be_visible()
    await screenshot(page, "redoc")
