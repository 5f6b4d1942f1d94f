"""The public web page in a real browser: Debian's headless Chromium, driven by Playwright,
against the app served by uvicorn on a free port.

Needs ``/usr/bin/chromium`` (``apt-get install chromium``) and the ``playwright`` package (the
dev extra); Playwright's own browser download is never used. Without them the test is skipped,
unless ``CI`` is set: there it fails, so it cannot silently stop running.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from app.services.clock import FixedClock
from tests.integration.scenarios import enterprise_number
from tests.web.support import Provider, register
from tests.web.test_pages import ACADEMY, PROVIDERS, VINCOTTE

CHROMIUM = "/usr/bin/chromium"

pytestmark = pytest.mark.browser


def _missing() -> str | None:
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    if shutil.which(CHROMIUM) is None:
        return f"no Chromium at {CHROMIUM} (apt-get install -y chromium)"
    return None


@pytest.fixture
def browser_available() -> None:
    reason = _missing()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"the browser test must run on CI, but {reason}")
        pytest.skip(reason)


@pytest.fixture
async def served(clocked_app: FastAPI) -> AsyncIterator[str]:
    """The app behind a real uvicorn on a free port, in this test's event loop (the engine's
    connections belong to it); its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(clocked_app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:
            if task.done():
                task.result()  # raises why it could not start
            await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.mark.usefixtures("browser_available")
async def test_search_by_keyboard_and_read_a_provider_in_chromium(
    api: httpx.AsyncClient, clock: FixedClock, served: str
) -> None:
    from playwright.async_api import async_playwright, expect

    await register(api, clock, PROVIDERS)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = await browser.new_page(viewport={"width": 390, "height": 844})  # a phone
            await page.goto(served + "/")
            await expect(page).to_have_title(
                "Zoek een dienstverlener · Dienstverleners kmo-portefeuille"
            )

            # The skip link is the first stop of the keyboard.
            await page.keyboard.press("Tab")
            await expect(page.get_by_role("link", name="Naar de inhoud")).to_be_focused()

            # Type a query (without its accent) and submit it with Enter.
            await page.get_by_label("Naam of omschrijving").fill("vincotte")
            await page.get_by_label("Naam of omschrijving").press("Enter")
            await page.wait_for_url("**/?q=vincotte*")
            results = page.get_by_role("region", name="1 dienstverlener gevonden")
            await expect(results).to_be_visible()
            result = results.get_by_role("article")
            await expect(result).to_have_count(1)
            await expect(result).to_contain_text("DV.O000001")
            await expect(result).to_contain_text("geldig van 20 januari 2026 tot 19 januari 2031")
            await expect(result).to_contain_text("4,5 / 5 (2 beoordelingen)")
            await expect(page.get_by_role("link", name="Groen Advies")).to_have_count(0)
            # Readable on a phone: nothing sticks out sideways.
            assert await page.evaluate("document.documentElement.scrollWidth") <= 390

            # Through to the provider's page.
            await result.get_by_role("link", name="Vinçotte Academy").click()
            await page.wait_for_url(f"**/dienstverleners/{VINCOTTE}?q=vincotte*")
            await expect(page.get_by_role("heading", level=1)).to_have_text("Vinçotte Academy")
            assert await page.evaluate("document.documentElement.scrollWidth") <= 390
            table = page.get_by_role("table")
            await expect(table.get_by_role("row")).to_have_count(3)  # the header and two units
            await expect(table).to_contain_text("DV.A000002")
            await expect(table).to_contain_text("advies")
            await expect(page.locator("address").first).to_contain_text("9000 Gent")
            await expect(
                page.get_by_role("link", name="https://www.vincotte.example")
            ).to_be_visible()

            # Back to the search, which is kept; then a filter by select and region instead.
            await page.get_by_role("link", name="Terug naar zoeken").click()
            await page.get_by_text("Zoekopdracht aanpassen").click()
            await expect(page.get_by_label("Naam of omschrijving")).to_have_value("vincotte")
            await page.get_by_label("Naam of omschrijving").fill("")
            await page.get_by_label("Vakgebied").select_option("duurzaamheid")
            await page.get_by_label("Regio").fill("Limburg")
            await page.get_by_role("button", name="Zoeken").click()
            await expect(page.locator(f"#dv-{ACADEMY}")).to_have_text("Groen Advies")

            await page.goto(served + "/")
            await page.get_by_label("Naam of omschrijving").fill("bakkerij")
            await page.keyboard.press("Enter")
            await expect(page.get_by_role("heading", level=2)).to_have_text(
                "Geen geregistreerde dienstverleners gevonden"
            )
            await expect(page.get_by_role("article")).to_have_count(0)

            # A wrong number: the message in Dutch, on the page, next to the field.
            await page.get_by_label("Registratienummer").fill("DV.X1")
            await page.keyboard.press("Enter")
            await expect(page.get_by_role("alert")).to_contain_text(
                '"DV.X1" is geen geldig registratienummer'
            )
            await expect(page.get_by_label("Registratienummer")).to_have_attribute(
                "aria-invalid", "true"
            )
        finally:
            await browser.close()


# Twelve providers with profiles of the length real ones have: more than one page of ten.
CROWD = [
    Provider(
        str(enterprise_number(40 + n)),
        f"{name} Opleidingen",
        service_types=("opleiding", "advies") if n % 3 == 0 else ("opleiding",),
        profile={
            "description": (
                f"{name} geeft opleidingen en advies voor kmo's: digitalisering, duurzaam "
                "ondernemen, personeelsbeleid en financiële geletterdheid. Op maat van uw "
                "bedrijf, bij u ter plaatse of in ons opleidingscentrum, in kleine groepen "
                "met ervaren lesgevers uit de praktijk."
            ),
            "themes": ["digitalisering", "duurzaamheid", "personeelsmanagement"],
            "locations": [
                {"street": "Kerkstraat 1", "postal_code": "2140", "municipality": "Antwerpen"},
                {"street": "Markt 2", "postal_code": "9000", "municipality": "Gent"},
            ],
        },
        scores=(4, 5, 3) if n % 2 else (),
    )
    for n, name in enumerate(
        (
            "Aquila",
            "Berk",
            "Ceder",
            "Dennen",
            "Eik",
            "Fijnspar",
            "Gaspeldoorn",
            "Hazelaar",
            "Iep",
            "Jeneverbes",
            "Kastanje",
            "Linde",
        )
    )
]
VIEWPORTS = {"phone": (390, 844), "desktop": (1280, 900)}


@pytest.mark.usefixtures("browser_available")
@pytest.mark.parametrize("screen", sorted(VIEWPORTS))
async def test_after_a_search_the_results_are_in_the_first_screen_and_pages_stay_short(
    api: httpx.AsyncClient, clock: FixedClock, served: str, tmp_path: Path, screen: str
) -> None:
    """Issue 14, measured in Chromium: after a search the first result card starts within the
    first screen (the form folds away), a page of ten cards stays a few screens long, and
    the paging tells where one is; screenshots in the test's tmp dir."""
    from playwright.async_api import async_playwright, expect

    width, height = VIEWPORTS[screen]
    await register(api, clock, CROWD)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = await browser.new_page(viewport={"width": width, "height": height})
            await page.goto(served + "/")
            await page.screenshot(path=tmp_path / f"{screen}-form.png", full_page=True)
            await page.get_by_label("Naam of omschrijving").fill("opleidingen")
            await page.get_by_label("Regio").fill("Borgerhout")
            await page.get_by_label("Naam of omschrijving").press("Enter")
            await page.wait_for_url("**/?q=opleidingen*")
            heading = page.get_by_role("heading", level=2, name="12 dienstverleners gevonden")
            await expect(heading).to_be_visible()
            await page.screenshot(path=tmp_path / f"{screen}-results.png")
            await page.screenshot(path=tmp_path / f"{screen}-results-full.png", full_page=True)

            cards = page.locator(".result")
            await expect(cards).to_have_count(10)
            first = await cards.first.bounding_box()
            assert first is not None
            # In the first screen, with room to read its name and more.
            assert first["y"] >= 0, first
            assert first["y"] + 120 < height, first
            await expect(page.locator("form.search")).not_to_be_visible()  # folded away
            total = await page.evaluate("document.documentElement.scrollHeight")
            # Ten cards: at most 4.5 screens on a phone, 3.5 on a desktop (was 8,000 px).
            assert total <= (4.5 if screen == "phone" else 3.5) * height, total
            assert await page.evaluate("document.documentElement.scrollWidth") <= width

            # Numbered pages: to page 2, which says where it lies.
            nav = page.get_by_role("navigation", name="Paginering")
            await nav.get_by_role("link", name="Pagina 2").click()
            await expect(
                page.get_by_role("heading", level=2, name="11-12 van 12 dienstverleners")
            ).to_be_visible()
            await expect(page.locator(".result")).to_have_count(2)
            second = await page.locator(".result").first.bounding_box()
            assert second is not None
            assert second["y"] + 120 < height
            await expect(nav.locator("[aria-current=page]")).to_have_text("Pagina 2")

            # To a provider and back: the search, its page and its fields are kept.
            await page.locator(".result h3 a").first.click()
            await page.wait_for_url("**/dienstverleners/*")
            await page.get_by_role("link", name="Terug naar zoeken").click()
            await page.wait_for_url("**/?q=opleidingen*page=2*")
            await expect(page.locator(".result")).to_have_count(2)
            await page.get_by_text("Zoekopdracht aanpassen").click()
            await expect(page.get_by_label("Regio")).to_have_value("Borgerhout")
            await page.screenshot(path=tmp_path / f"{screen}-refine.png", full_page=True)
        finally:
            await browser.close()
