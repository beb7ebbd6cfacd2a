"""The search page's timeline shows a line per indicator period under its year (a real headless browser over
the real server; the fake model, documents with indicator records built in code). Skipped without playwright
or chromium, like tests/test_page_browser.py. Screenshot: tests/artifacts/search_page_indicators.png."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is in the [dev] extra")

from insight_search.api import create_app  # noqa: E402

from .conftest import FakeEmbedder  # noqa: E402
from .indicator_samples import DRR_TITLE, build  # noqa: E402
from .test_page_browser import browser, open_page, search, serve, shot  # noqa: E402, F401

pytestmark = pytest.mark.slow  # a real server and a browser

QUERY = "disaster risk reduction frameworks Albania"


def test_timeline_lists_indicator_periods_under_their_year(browser: Any, tmp_path: Any) -> None:  # noqa: F811
    settings = build(tmp_path)
    with serve(create_app(settings, embedder=FakeEmbedder())) as base:
        page, errors = open_page(browser, base, viewport={"width": 1280, "height": 1000})
        search(page, QUERY)
        page.locator("#show-timeline").click()
        page.locator("#timeline > li h3").first.wait_for()
        api = httpx.get(base + "/timeline", params={"q": QUERY, "sentences_per_year": 3}).json()["years"]
        shown: dict[int, list[str]] = {}
        for item in page.locator("#timeline > li").all():
            year = int(item.locator("h3").inner_text())
            shown[year] = item.locator(".indicators li").all_inner_texts()
        expected = {y["year"]: [i["title"] + ": " + i["line"] for i in y["indicators"]] for y in api}
        assert {y: [t.split(" — ")[0] for t in v] for y, v in shown.items()} == expected
        assert f"{DRR_TITLE}: target 1, actual 2 — Two frameworks adopted" in " ".join(shown[2021])
        assert shown[2020] == []  # the baseline year has no period
        # The year's count line is still the one p.meta (not "also active") directly under the year, as the
        # other page test reads it.
        assert page.locator("#timeline > li > p.meta:not(.active)").count() == len(api)
        shot(page, "search_page_indicators.png")
        assert errors == []
