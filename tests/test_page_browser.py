"""The search page in a real headless browser (Playwright driving Debian's chromium) against the real server
(uvicorn on a free loopback port, real model, the sample corpus plus a document full of markup).

Skipped with the reason when playwright or chromium is missing; scripts/test.sh installs chromium. The
screenshots stay in tests/artifacts/ (git-ignored) for a person to look at: search_page.png (a year chosen),
search_page_results.png, search_page_year_filter.png, search_page_timeline.png, search_page_citation.png,
search_page_document.png, search_page_empty_query.png, search_page_nothing_matched.png, search_page_spans.png,
search_page_phone.png, docs.png and redoc.png."""

from __future__ import annotations

import contextlib
import re
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


@pytest.fixture(scope="module")
def base(real_index: Settings, real_embedder: Any) -> Iterator[str]:
    """One server for the tests that need no settings of their own."""
    with serve(create_app(real_index, embedder=real_embedder)) as url:
        yield url


def hits(page: Any) -> Any:
    return page.locator("#results > li.hit")


def search(page: Any, query: str) -> None:
    page.fill("#q", query)
    page.locator("#search-button").click()


def shot(page: Any, name: str, **options: Any) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), **options)


def visible_in(page: Any, selector: str, container: str) -> bool:
    """Whether the middle of ``selector`` lies inside ``container``'s visible box and is not covered."""
    return bool(
        page.evaluate(
            """([sel, box]) => {
                const e = document.querySelector(sel).getBoundingClientRect();
                const c = document.querySelector(box).getBoundingClientRect();
                const x = e.left + e.width / 2, y = e.top + e.height / 2;
                if (!(x > c.left && x < c.right && y > c.top && y < c.bottom)) return false;
                const hit = document.elementFromPoint(x, y);
                const target = document.querySelector(sel);
                return hit !== null && (hit === target || target.contains(hit));
            }""",
            [selector, container],
        )
    )


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
        assert first.locator(".meta .lang-tag").inner_text() == "EN"  # the language, first in the line
        marked = [m.lower() for m in first.locator(".highlight mark").all_inner_texts()]
        assert any(m.startswith(("care", "system", "legislat")) for m in marked), marked
        assert "matching passages" in page.locator("#status").inner_text()
        page.locator("#summary > li a.cite").first.wait_for()

        # The bar of years: choosing 2023 applies the year filter.
        page.locator("#year-facets button", has_text="2023").click()
        page.wait_for_function("document.querySelector('#year-facets button[aria-pressed=true]') !== null")
        assert page.locator("#year_from").input_value() == "2023" == page.locator("#year_to").input_value()
        page.wait_for_function(
            "[...document.querySelectorAll('#results .meta')]"
            ".every(m => m.textContent.replace(/^[a-z]{2} /i, '').startsWith('2023'))"  # after its tag
        )
        assert "year_from=2023" in page.url
        assert page.locator("#year-facets button").count() >= 3  # the other years stay there to choose
        shot(page, "search_page.png")

        # Timeline over all years: ascending, with a status line and cited sentences.
        page.locator("#clear-filters").click()
        page.wait_for_function("document.querySelector('#year-facets button[aria-pressed=true]') === null")
        page.locator("#show-timeline").click()
        page.locator("#timeline > li h3").first.wait_for()
        years = [int(y) for y in page.locator("#timeline > li > h3").all_inner_texts()]
        assert len(years) >= 3 and years == sorted(years)
        assert page.locator("#timeline .status").count() >= 1
        assert page.locator("#timeline li li a.cite").count() >= len(years)
        # Each year says what its count counts: the year bar's matching passages, how many of them are that
        # year's progress notes (the quoted ones), and lists the others as active, never quoted.
        timeline = httpx.get(base + "/timeline", params={"q": QUERY, "sentences_per_year": 3}).json()
        api_years = timeline["years"]
        metas = page.locator("#timeline > li > p.meta:not(.active)").all_inner_texts()
        for y, meta in zip(api_years, metas, strict=True):
            assert meta.startswith(f"{y['count']} matching passage"), meta
            assert (f"{y['progress_notes']} of them" in meta) == bool(y["progress_notes"]), meta
        assert sum(bool(y["active"]) for y in api_years) == page.locator("#timeline p.active").count() > 0
        shot(page, "search_page_timeline.png")

        # Follow the first citation of the summary: the panel marks exactly that sentence.
        summary = httpx.get(base + "/summarize", params={"q": QUERY, "max_sentences": 5}).json()
        page.locator("#summary > li a.cite").first.click()
        dialog = page.locator("#passage")
        dialog.wait_for(state="visible")
        cited = page.locator("#passage-body mark.cited")
        assert cited.inner_text() == summary["sentences"][0]["text"]
        assert page.evaluate("document.activeElement.id") == "passage-close"
        shot(page, "search_page_citation.png")
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
        shot(page, "search_page_phone.png")


# ---------------------------------------------------------------- issue 11: the page as a person uses it


def test_hits_of_one_document_show_its_title_once_and_short(browser: Any, base: str) -> None:
    page, errors = open_page(browser, base, viewport={"width": 1280, "height": 1000})
    search(page, QUERY)
    hits(page).first.wait_for()
    found = httpx.get(base + "/search", params={"q": QUERY, "k": 10}).json()["results"]
    docs = [r["doc_id"] for r in found]
    assert len(set(docs)) < len(docs)  # the sample corpus: several hits of one document in a row
    titled = [hits(page).nth(i).locator("h3").count() == 1 for i in range(hits(page).count())]
    assert titled == [i == 0 or docs[i] != docs[i - 1] for i in range(len(docs))]
    first_title = page.locator("#results h3").first
    line = float(first_title.evaluate("h => parseFloat(getComputedStyle(h).lineHeight)"))
    for h in page.locator("#results h3").all():
        text = h.inner_text()
        assert h.bounding_box()["height"] < 1.5 * line, text  # one line
        assert not re.search(r"\w\.\.\.$", text), text  # not cut mid-word ("protecti...")
        assert len(text) <= 91, text
        full = h.get_attribute("title")
        assert full and full.startswith(text.rstrip("…")), (text, full)
    assert page.locator("#results h3").count() == sum(titled) < len(docs)
    page.locator("#summary > li").first.wait_for()
    shot(page, "search_page_results.png")
    assert errors == []


def test_year_bar_is_a_chart_with_counts_the_missing_years_and_the_choice(browser: Any, base: str) -> None:
    page, errors = open_page(browser, base, viewport={"width": 1280, "height": 1000})
    search(page, QUERY)
    hits(page).first.wait_for()
    years = httpx.get(base + "/search", params={"q": QUERY, "k": 10}).json()["facets"]["years"]
    assert years.get("unknown")  # the sample corpus has passages without a year
    columns = page.locator("#year-facets .year-column")
    shown = {c.locator(".year").inner_text(): int(c.locator(".count").inner_text()) for c in columns.all()}
    assert shown == {("no year" if y == "unknown" else y): n for y, n in years.items()}
    labels = [c.locator(".year").bounding_box() for c in columns.all()]
    bars = [c.locator(".bar").bounding_box() for c in columns.all()]
    # One baseline: every year label on one line, every bar standing on it, heights by count.
    assert max(b["y"] for b in labels) - min(b["y"] for b in labels) < 1
    assert max(b["y"] + b["height"] for b in bars) - min(b["y"] + b["height"] for b in bars) < 1
    by_count = sorted(zip(shown.values(), (b["height"] for b in bars), strict=True))
    assert [h for _, h in by_count] == sorted(h for _, h in by_count)
    assert by_count[-1][1] > 3 * by_count[0][1] > 0
    # Choosing a year: its column is marked (aria-pressed, a darker bar), the others stay to choose.
    page.locator("#year-facets button[data-year='2021']").click()
    page.wait_for_function("document.querySelector('#year-facets button[aria-pressed=true]') !== null")
    pressed = page.locator("#year-facets button[aria-pressed=true]")
    assert pressed.locator(".year").inner_text() == "2021"
    colour = "el => getComputedStyle(el).backgroundColor"
    other = page.locator("#year-facets button[data-year='2023'] .bar").evaluate(colour)
    assert pressed.locator(".bar").evaluate(colour) != other
    assert pressed.evaluate(colour) != page.locator("#year-facets button[data-year='2023']").evaluate(colour)
    assert "2021 only" in page.locator("#year-facets").inner_text()
    page.locator("#summary > li").first.wait_for()
    page.wait_for_function("document.querySelector('[aria-busy=true]') === null")
    shot(page, "search_page_year_filter.png")
    assert errors == []


def test_nothing_matched_says_so_and_an_empty_summary_is_a_sentence(browser: Any, base: str) -> None:
    page, errors = open_page(browser, base, viewport={"width": 1280, "height": 900})
    assert "Type what to look for" in page.locator("#results-view").inner_text()  # before any search
    shot(page, "search_page_empty_query.png")
    page.fill("#country", "Atlantis")
    search(page, QUERY)
    notice = page.locator("#nothing-matched")
    notice.wait_for(state="visible")
    assert httpx.get(base + "/search", params={"q": QUERY, "country": "Atlantis"}).json()["total"] == 0
    assert hits(page).count() == 0
    text = notice.inner_text()
    assert "Nothing matched" in text and QUERY in text and "filters" in text
    assert page.locator("#nothing-clear-filters").is_visible()
    assert page.locator("#year-facets").is_hidden()  # no chart of nothing
    page.locator("#summary-empty").wait_for(state="visible")
    assert page.locator("#summary > li").count() == 0
    assert "no passage matched" in page.locator("#summary-empty").inner_text().lower()
    assert "No sentence matches" not in page.locator("#summary-panel").inner_text()
    page.locator("#show-timeline").click()
    page.locator("#timeline-empty").wait_for(state="visible")
    assert page.locator("#timeline > li").count() == 0
    page.locator("#show-results").click()
    shot(page, "search_page_nothing_matched.png")
    # Clearing the filters from the notice searches again, and finds.
    page.locator("#nothing-clear-filters").click()
    hits(page).first.wait_for()
    page.locator("#summary > li").first.wait_for()
    assert notice.is_hidden() and page.locator("#summary-empty").is_hidden()
    assert errors == []


def test_year_spans_and_composed_passages_are_labelled(browser: Any, base: str) -> None:
    """A hit covering years shows "2023–2024"; a composed one says where it comes from. The server's hits are
    changed on their way to the page (the fields come from the UN INFO and funding readers)."""
    page, errors = open_page(browser, base, viewport={"width": 1280, "height": 1000})
    notes = {1: "funding", 2: "partners", 3: "sub_output"}

    def change(route: Any) -> None:
        response = route.fetch()
        body = response.json()
        for i, r in enumerate(body["results"]):
            if i == 0:
                r["year_end"] = r["year"] + 1
            if i == 4:
                r["year_end"] = r["year"]  # one year
            if i in notes:
                r["composed"], r["section"] = True, notes[i]
            elif r["composed"]:  # a real funding sentence among the others: shown as an ordinary hit here
                r["composed"], r["section"] = False, "progress_note"
        route.fulfill(response=response, json=body)

    page.route(re.compile(r"/search\?"), change)
    search(page, QUERY)
    hits(page).first.wait_for()
    # each line after the passage's language tag ("EN ")
    metas = [re.sub(r"^[A-Za-z]{2} ", "", m) for m in page.locator("#results .meta").all_inner_texts()]
    year = httpx.get(base + "/search", params={"q": QUERY, "k": 10}).json()["results"][0]["year"]
    assert metas[0].startswith(f"{year}–{year + 1} · ")
    assert re.match(r"\d{4} · ", metas[4])
    expected = {
        1: "from the funding table",
        2: "from the partner list",
        3: "composed from the record's fields",
    }
    for i in range(len(metas)):
        note = hits(page).nth(i).locator(".composed")
        if i in expected:
            assert note.inner_text() == expected[i]
        else:
            assert note.count() == 0
    hits(page).nth(1).locator("button", has_text="Open in context").click()
    page.locator("#passage").wait_for(state="visible")
    assert page.locator("#passage-meta .composed").inner_text() == "from the funding table"
    page.keyboard.press("Escape")
    shot(page, "search_page_spans.png")
    assert errors == []


def test_related_passages_are_marked(browser: Any, base: str) -> None:
    """A query with fewer than ten matches: the hits the server marks related (no query word, near in
    meaning) carry a "related" tag, the matches none; the status line counts the matches only."""
    found = None
    for query in ("Monterrey", "WhatsApp", "Oaxaca", "Nuevo Leon", "midwives"):
        out = httpx.get(base + "/search", params={"q": query, "k": 10}).json()
        if 0 < out["total"] < 10 and out["related"] > 0:
            found = query, out
            break
    assert found is not None, "no query of the sample page with a few matches"
    query, out = found
    page, errors = open_page(browser, base, viewport={"width": 1280, "height": 1400})
    search(page, query)
    hits(page).first.wait_for()
    assert hits(page).count() == len(out["results"]) == 10
    for i, r in enumerate(out["results"]):
        tag = hits(page).nth(i).locator(".related-tag")
        assert tag.count() == (1 if r["related"] else 0), i
        assert ("related" in (hits(page).nth(i).get_attribute("class") or "").split()) == r["related"]
    assert sum(not r["related"] for r in out["results"]) == out["total"]
    status = page.locator("#status").inner_text()
    assert status.startswith(f"{out['total']} matching passage") and "related ones (marked)" in status
    shot(page, "search_page_related.png", full_page=True)
    assert errors == []


def test_the_close_button_stays_in_sight_in_the_whole_document(browser: Any, base: str) -> None:
    page, errors = open_page(browser, base, viewport={"width": 1280, "height": 800})
    search(page, QUERY)
    hits(page).nth(1).wait_for()
    hits(page).nth(1).locator("button", has_text="Open in context").click()
    assert page.locator("#passage-title").inner_text().endswith("…")  # one short title in the head
    assert page.locator("#passage-full-title").is_hidden()
    page.locator("#passage-document").click()
    page.locator("#document-body section").nth(3).wait_for()
    full = page.locator("#passage-full-title").inner_text()  # the whole title above the whole document
    assert len(full) > 100 and not re.search(r"\w\.\.\.$", full), full
    dialog = page.locator("#passage")
    assert dialog.evaluate("d => d.scrollHeight > 2 * d.clientHeight")  # a long document: the panel scrolls
    for where in ("0", "d.scrollHeight / 2", "d.scrollHeight"):
        dialog.evaluate(f"d => {{ d.scrollTop = {where}; }}")
        page.wait_for_timeout(50)
        assert visible_in(page, "#passage-close", "#passage"), where
    shot(page, "search_page_document.png")
    page.locator("#passage-close").click()
    dialog.wait_for(state="hidden")
    assert errors == []


def test_api_docs_render_offline(browser: Any, base: str) -> None:
    """/docs (Swagger UI) and /redoc render the operations under their real Content-Security-Policy, every
    request going to this server: requests elsewhere are refused and recorded."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    outside: list[str] = []
    requested: list[str] = []

    def only_here(route: Any) -> None:
        url = route.request.url
        requested.append(url)
        if url.startswith(base + "/") or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    context.route("**/*", only_here)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None)
    operations = [
        op
        for ops in httpx.get(base + "/openapi.json").json()["paths"].values()
        for op in ops.values()
        if isinstance(op, dict) and "operationId" in op
    ]
    page.goto(base + "/docs")
    page.locator("#swagger-ui .opblock").first.wait_for(timeout=20_000)
    assert page.locator("#swagger-ui .opblock").count() == len(operations) >= 8
    assert page.locator("#swagger-ui .opblock-summary-path", has_text="/search").count() >= 1
    assert "insight-search" in page.locator("#swagger-ui .info .title").inner_text()
    page.locator("#swagger-ui .opblock-summary-path", has_text="/search").first.click()
    page.locator("#swagger-ui .opblock.is-open .parameters").first.wait_for()
    shot(page, "docs.png")
    page.goto(base + "/redoc")
    page.locator("redoc [data-section-id^='operation/']").first.wait_for(timeout=30_000)
    assert page.locator("redoc [data-section-id^='operation/']").count() >= len(operations) // 2
    shot(page, "redoc.png")
    context.close()
    assert any("swagger-ui-bundle.js" in u for u in requested) and any("redoc" in u for u in requested)
    assert outside == []
    # ReDoc's bundle names one image elsewhere (its logo, cdn.redoc.ly): the policy refuses it before any
    # request. Any other error (a script or style of this server refused, a failed load) fails the test.
    refused_elsewhere = re.compile(r"^console: Loading the image 'https://cdn\.redoc\.ly/[^']+' violates")
    assert [e for e in errors if not refused_elsewhere.match(e)] == []
