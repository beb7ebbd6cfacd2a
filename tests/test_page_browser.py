"""The search page in a real headless browser (Playwright driving Debian's chromium) against the real server
(uvicorn on a free loopback port, real model, the sample corpus plus a document full of markup).

Skipped with the reason when playwright or chromium is missing; scripts/test.sh installs chromium."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the [dev] extra")

from fastapi import FastAPI  # noqa: E402

from insight_search.api import create_app  # noqa: E402
from insight_search.config import Settings  # noqa: E402

from .conftest import serve_in_thread  # noqa: E402
from .test_api import QUERY, XSS_ID, build_settings  # noqa: E402

pytestmark = pytest.mark.slow  # the real model, a real server and a browser

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def serve(app: FastAPI) -> contextlib.AbstractContextManager[str]:
    """Run ``app`` with uvicorn in a thread; yields its base URL."""
    return serve_in_thread(app)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def real_index(tmp_path_factory: pytest.TempPathFactory, real_embedder: Any) -> Settings:
    return build_settings(tmp_path_factory.mktemp("browser"), real_embedder)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium; scripts/test.sh does it)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def new_page(browser: Any, **context: Any) -> Any:
    # The page's Content-Security-Policy would also stop injected script; bypass it so that these tests see
    # what the page's own code does with markup (and so that Playwright may evaluate its probes).
    return browser.new_context(bypass_csp=True, **context).new_page()


def open_page(browser: Any, base: str, **context: Any) -> tuple[Any, list[str]]:
    page = new_page(browser, **context)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None)
    page.goto(base + "/")
    page.wait_for_function("document.querySelectorAll('#year_from option').length > 1")
    return page, errors


def hits(page: Any) -> Any:
    return page.locator("#results > li.hit")


def test_search_filter_timeline_and_citations(browser: Any, real_index: Settings, real_embedder: Any) -> None:
    app = create_app(real_index, embedder=real_embedder)
    with serve(app) as base:
        page, errors = open_page(browser, base, viewport={"width": 1280, "height": 1000})

        # Type in the focused search box; Enter submits.
        assert page.evaluate("document.activeElement.id") == "q"
        page.keyboard.type(QUERY)
        page.keyboard.press("Enter")
        hits(page).first.wait_for()
        assert hits(page).count() == 10
        first = hits(page).first
        assert "Mexico" in first.locator(".meta").inner_text()
        marked = [m.lower() for m in first.locator(".highlight mark").all_inner_texts()]
        assert any(m.startswith(("care", "system", "legislat")) for m in marked), marked
        assert "matching passages" in page.locator("#status").inner_text()
        page.locator("#summary > li a.cite").first.wait_for()

        # The bar of years: choosing 2023 applies the year filter.
        page.locator("#year-facets button", has_text="2023").click()
        page.wait_for_function("document.querySelector('#year-facets button[aria-pressed=true]') !== null")
        assert page.locator("#year_from").input_value() == "2023" == page.locator("#year_to").input_value()
        page.wait_for_function(
            "[...document.querySelectorAll('#results .meta')].every(m => m.textContent.startsWith('2023'))"
        )
        assert "year_from=2023" in page.url
        assert page.locator("#year-facets button").count() >= 3  # the other years stay there to choose
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "search_page.png"), full_page=False)

        # Timeline over all years: ascending, with a status line and cited sentences.
        page.locator("#clear-filters").click()
        page.wait_for_function("document.querySelector('#year-facets button[aria-pressed=true]') === null")
        page.locator("#show-timeline").click()
        page.locator("#timeline > li h3").first.wait_for()
        years = [int(y) for y in page.locator("#timeline > li > h3").all_inner_texts()]
        assert len(years) >= 3 and years == sorted(years)
        assert page.locator("#timeline .status").count() >= 1
        assert page.locator("#timeline li li a.cite").count() >= len(years)
        page.screenshot(path=str(ARTIFACTS / "search_page_timeline.png"))

        # Follow the first citation of the summary: the panel marks exactly that sentence.
        summary = httpx.get(base + "/summarize", params={"q": QUERY, "max_sentences": 5}).json()
        page.locator("#summary > li a.cite").first.click()
        dialog = page.locator("#passage")
        dialog.wait_for(state="visible")
        cited = page.locator("#passage-body mark.cited")
        assert cited.inner_text() == summary["sentences"][0]["text"]
        assert page.evaluate("document.activeElement.id") == "passage-close"
        page.screenshot(path=str(ARTIFACTS / "search_page_citation.png"))
        page.locator("#passage-document").click()
        page.locator("#document-body mark.cited").wait_for()
        assert page.locator("#document-body mark.cited").inner_text() == summary["sentences"][0]["text"]
        page.keyboard.press("Escape")
        dialog.wait_for(state="hidden")
        assert errors == []


def test_markup_in_documents_shows_as_text(browser: Any, real_index: Settings, real_embedder: Any) -> None:
    with serve(create_app(real_index, embedder=real_embedder)) as base:
        page, errors = open_page(browser, base)
        page.fill("#q", "Care system legislation probe script")
        page.locator("#search-button").click()
        probe = hits(page).filter(has_text="window.__pwned")
        probe.first.wait_for()
        assert "<script>window.__pwned=1</script>" in probe.first.locator("h3").inner_text()
        probe.first.locator("button", has_text="Open in context").click()
        page.locator("#passage-body").wait_for(state="visible")
        assert '<img src=x onerror="window.__pwned=2">' in page.locator("#passage-body").inner_text()
        page.locator("#passage-document").click()
        page.locator("#document-body section").first.wait_for()
        page.wait_for_timeout(300)  # give an injected onerror handler the time to fire
        assert page.evaluate("window.__pwned") is None
        assert page.evaluate("document.querySelectorAll('main img, main script').length") == 0
        assert page.evaluate("document.scripts.length") == 1  # only /static/app.js
        assert httpx.get(f"{base}/documents/{XSS_ID}").json()["title"].startswith("<script>")
        assert errors == []


def test_phone_width_and_api_key_prompt(browser: Any, real_index: Settings, real_embedder: Any) -> None:
    """On a phone-sized screen nothing scrolls sideways; with an API key the page asks for it once and sends
    it (kept in sessionStorage)."""
    app = create_app(real_index.model_copy(update={"api_key": "k-123"}), embedder=real_embedder)
    with serve(app) as base:
        page = new_page(browser, viewport={"width": 390, "height": 844}, is_mobile=True)
        page.goto(base + "/")
        page.locator("#key-dialog").wait_for(state="visible")  # /facets answered 401
        page.fill("#api-key", "k-123")
        page.keyboard.press("Enter")
        page.wait_for_function("document.querySelectorAll('#year_from option').length > 1")
        assert page.evaluate("sessionStorage.getItem('insight-search-api-key')") == "k-123"
        page.fill("#q", QUERY)
        page.keyboard.press("Enter")
        hits(page).first.wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(ARTIFACTS / "search_page_phone.png"))
