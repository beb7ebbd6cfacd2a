"""``group=document`` as a user option (issue 14, part 3): one hit per document with its next best matching
passages, at every edge: the searcher, the request model, the CLI (``--group document``), GET and POST
/search and /search/batch, the MCP search tool and the /tools schema. A wrong value is refused with a message
naming the allowed values."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from insight_search import embedding
from insight_search.api import create_app
from insight_search.cli import app as cli_app
from insight_search.config import Settings
from insight_search.errors import BadInput, InvalidRequest
from insight_search.grouping import PASSAGES_PER_DOCUMENT, DocumentHit, next_best_passages
from insight_search.indexer import build_index
from insight_search.lexical import tokenize
from insight_search.models import Filters, Query
from insight_search.requests import parse, request_models
from insight_search.search import Searcher, open_searcher

from .conftest import FakeEmbedder, service_for, write_jsonl
from .test_api import NO_LIMITS, client_for

QUERY = "care system legislation"
WORDS = ["care", "system", "legislation", "budget", "violence", "survivors", "shelter", "rural", "credit"]


def _text(doc: int, part: int) -> str:
    words = [WORDS[(doc * 2 + part * 5 + j) % len(WORDS)] for j in range(5)]
    return " ".join(words) + f" doc{doc} part{part}."


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, FakeEmbedder]:
    """Ten documents of 1 to 6 short passages (blank-line separated, one chunk each), years 2020-2022."""
    root = tmp_path_factory.mktemp("group")
    rows = [
        {
            "id": f"d{d}",
            "title": f"Document {d}",
            "text": "\n\n".join(_text(d, p) for p in range(1 + d % 6)),
            "year": 2020 + d % 3,
        }
        for d in range(10)
    ]
    corpus = write_jsonl(root / "corpus" / "docs.jsonl", rows).parent
    embedder = FakeEmbedder()
    settings = Settings(index_dir=root / "index", corpus_paths=[corpus], chunk_words=6)
    build_index([corpus], settings, embedder)
    return settings, embedder


@pytest.fixture(scope="module")
def searcher(built: tuple[Settings, FakeEmbedder]) -> Searcher:
    return open_searcher(*built)


@pytest.fixture(scope="module")
def client(built: tuple[Settings, FakeEmbedder]) -> Iterator[TestClient]:
    settings, embedder = built
    with client_for(create_app(settings, embedder=embedder, limits=NO_LIMITS)) as c:
        yield c


def _is_match(searcher: Searcher, row: int, text: str, cosine: float | None) -> bool:
    holds = set(tokenize(searcher.chunks[row].text)) & set(tokenize(text))
    return bool(holds) or (cosine is not None and cosine >= searcher.settings.match_threshold)


# ---------------------------------------------------------------- the searcher


def test_next_best_passages_follow_the_ranking_and_skip_the_hit() -> None:
    ordinals = np.array([0, 0, 0, 1, 1, 0, 2, 0, 0])
    out = next_best_passages([1, 3], [8, 1, 4, 6, 0, 3, 7, 5, 2], ordinals, limit=3)
    assert out == {1: [8, 0, 7], 3: [4]}


def test_grouped_hits_carry_their_documents_other_matching_passages(searcher: Searcher) -> None:
    n = len(searcher.chunks)
    for text in (QUERY, "violence survivors shelter", "rural credit budget"):
        result = searcher.search(Query(text=text, k=10, group_by_document=True))
        assert result.hits
        docs = [h.chunk.doc_id for h in result.hits]
        assert len(docs) == len(set(docs))
        vector = searcher.embedder.embed_batch([text])[0]
        cosines = dict(searcher.data.dense.search(vector[None, :], n)[0])
        for h in result.hits:
            assert isinstance(h, DocumentHit)
            rows = [p.chunk.chunk_id for p in h.passages]
            assert h.chunk.chunk_id not in rows and len(rows) == len(set(rows)) <= PASSAGES_PER_DOCUMENT
            assert all(p.chunk.doc_id == h.chunk.doc_id for p in h.passages)
            # every other matching chunk of the document is there, up to the limit
            others = [
                i
                for i, c in enumerate(searcher.chunks)
                if c.doc_id == h.chunk.doc_id
                and c.chunk_id != h.chunk.chunk_id
                and _is_match(searcher, i, text, cosines.get(i))
            ]
            assert len(h.passages) == min(PASSAGES_PER_DOCUMENT, len(others))
            for p in h.passages:
                assert p.highlight and p.highlight in p.chunk.text
                row = searcher._rows_by_id[p.chunk.chunk_id]
                assert p.dense_score == pytest.approx(cosines[row], abs=1e-5)


@pytest.mark.parametrize("only", ["lexical", "dense"])
def test_a_documents_passages_come_best_first(searcher: Searcher, only: str) -> None:
    """With one list weighted (the other at 0), the passages follow that list's score."""
    update = {"dense_weight": 0.0} if only == "lexical" else {"lexical_weight": 0.0}
    view = Searcher(searcher.data, searcher.embedder, searcher.settings.model_copy(update=update))
    seen = 0
    for text in (QUERY, "violence survivors shelter budget", "rural credit care"):
        for h in view.search(Query(text=text, k=10, group_by_document=True)).hits:
            assert isinstance(h, DocumentHit)
            scores = [(p.lexical_score if only == "lexical" else p.dense_score) or 0.0 for p in h.passages]
            assert scores == sorted(scores, reverse=True)
            seen += len(scores) > 1
    assert seen  # some document had several passages to order


def test_passages_keep_to_the_filters_and_ungrouped_hits_have_none(searcher: Searcher) -> None:
    grouped = searcher.search(Query(text=QUERY, k=10, filters=Filters(year=2021), group_by_document=True))
    assert grouped.hits
    for h in grouped.hits:
        assert isinstance(h, DocumentHit)
        assert all(p.chunk.year == 2021 for p in h.passages)
    plain = searcher.search(Query(text=QUERY, k=10))
    assert not any(isinstance(h, DocumentHit) for h in plain.hits)


# ---------------------------------------------------------------- the request model and the service


def test_group_is_validated_with_a_message() -> None:
    model = request_models(Settings()).search
    assert parse(model, {"q": QUERY}).group == "passage"
    assert parse(model, {"q": QUERY, "group": "document"}).group == "document"
    with pytest.raises(InvalidRequest, match=r"group: Input should be 'passage' or 'document'"):
        parse(model, {"q": QUERY, "group": "documents"})


def test_service_pages_grouped_results_without_repeating_documents(searcher: Searcher) -> None:
    service = service_for(searcher)
    first = service.run("search", {"q": QUERY, "k": 3, "group": "document"})
    assert first.next_cursor
    second = service.run("search", {"q": QUERY, "k": 3, "group": "document", "cursor": first.next_cursor})
    docs = [r.doc_id for r in first.results + second.results]
    assert len(docs) == len(set(docs)) == 6
    with pytest.raises(BadInput, match="another query"):  # a grouped search's cursor is not the plain one's
        service.run("search", {"q": QUERY, "k": 3, "cursor": first.next_cursor})


# ---------------------------------------------------------------- HTTP


def test_api_get_and_post_group_by_document(client: TestClient) -> None:
    plain = client.get("/search", params={"q": QUERY, "k": 10})
    assert plain.status_code == 200
    assert all(r["passages"] == [] for r in plain.json()["results"])
    got = client.get("/search", params={"q": QUERY, "k": 10, "group": "document"})
    posted = client.post("/search", json={"q": QUERY, "k": 10, "group": "document"})
    assert got.status_code == posted.status_code == 200
    assert got.json() == posted.json()
    results = got.json()["results"]
    docs = [r["doc_id"] for r in results]
    assert len(docs) == len(set(docs))
    assert any(r["passages"] for r in results)
    for r in results:
        for p in r["passages"]:
            chunk = client.get(f"/chunks/{p['chunk_id']}").json()
            assert chunk["doc_id"] == r["doc_id"] and chunk["text"] == p["text"]
            assert p["chunk_id"] != r["chunk_id"]
    every = client.get("/search", params={"q": QUERY, "k": 100}).json()
    matched = {r["doc_id"] for r in every["results"] if not r["related"]}
    assert every["total"] <= 100 and got.json()["total"] == len(matched)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_api_refuses_a_wrong_group_with_a_message(client: TestClient, method: str) -> None:
    params = {"q": QUERY, "group": "docs"}
    r = client.get("/search", params=params) if method == "GET" else client.post("/search", json=params)
    assert r.status_code == 422
    assert "group" in r.json()["detail"] and "'passage' or 'document'" in r.json()["detail"]


def test_batch_takes_group_per_query(client: TestClient) -> None:
    r = client.post(
        "/search/batch",
        json={"queries": [{"q": QUERY, "group": "document"}, {"q": QUERY}, {"q": QUERY, "group": "x"}]},
    )
    assert r.status_code == 200
    grouped, plain, bad = r.json()["results"]
    docs = [h["doc_id"] for h in grouped["result"]["results"]]
    assert len(docs) == len(set(docs))
    assert grouped["result"] == client.get("/search", params={"q": QUERY, "group": "document"}).json()
    assert plain["result"] == client.get("/search", params={"q": QUERY}).json()
    assert bad["result"] is None and "group" in bad["error"]


def test_tools_and_openapi_publish_the_option(client: TestClient) -> None:
    tools = {t["function"]["name"]: t["function"] for t in client.get("/tools").json()}
    group = tools["search"]["parameters"]["properties"]["group"]
    assert group["enum"] == ["passage", "document"] and group["default"] == "passage"
    assert "document" in group["description"]
    spec = client.get("/openapi.json").json()
    names = {p["name"] for p in spec["paths"]["/search"]["get"]["parameters"]}
    assert "group" in names


# ---------------------------------------------------------------- MCP


def test_mcp_search_tool_groups_by_document(searcher: Searcher) -> None:
    pytest.importorskip("mcp", reason="the mcp package is a runtime dependency: pip install -e .")
    from mcp import Client

    from insight_search.mcp_server import build_server

    service = service_for(searcher)
    server = build_server(lambda: service, service.requests)

    async def session() -> tuple[Any, Any, Any]:
        async with Client(server) as c:
            listed = await c.list_tools()
            grouped = await c.call_tool("search", {"q": QUERY, "group": "document"})
            bad = await c.call_tool("search", {"q": QUERY, "group": "chapter"})
            return listed, grouped, bad

    listed, grouped, bad = anyio.run(session)
    schema = {t.name: t for t in listed.tools}["search"].input_schema
    assert schema["properties"]["group"]["enum"] == ["passage", "document"]
    data = grouped.structured_content
    assert data == service.run("search", {"q": QUERY, "group": "document"}).model_dump(mode="json")
    docs = [r["doc_id"] for r in data["results"]]
    assert len(docs) == len(set(docs)) and any(r["passages"] for r in data["results"])
    assert bad.is_error and "group" in bad.content[0].text


# ---------------------------------------------------------------- CLI


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedding, "make_embedder", lambda settings, index_model_id=None: FakeEmbedder())


def test_cli_group_document(built: tuple[Settings, FakeEmbedder], fake_model: None) -> None:
    settings, _ = built
    runner = CliRunner()
    where = ["--index-dir", str(settings.index_dir)]
    out = runner.invoke(cli_app, ["search", QUERY, "--group", "document", "--json", *where])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    docs = [r["doc_id"] for r in data["results"]]
    assert len(docs) == len(set(docs)) and any(r["passages"] for r in data["results"])
    text = runner.invoke(cli_app, ["search", QUERY, "--group", "document", *where])
    assert text.exit_code == 0
    assert "matching documents" in text.stdout
    shown = next(r for r in data["results"] if r["passages"])
    assert f"{shown['passages'][0]['chunk_id']} · passage" in text.stdout
    bad = runner.invoke(cli_app, ["search", QUERY, "--group", "docs", *where])
    assert bad.exit_code == 2
    assert "group: Input should be 'passage' or 'document'" in bad.output
    assert len(bad.output.strip().splitlines()) == 1


def test_readme_names_the_option() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert "--group document" in readme and "group=document" in readme


# ---------------------------------------------------------------- the page


def test_page_toggle_shows_each_document_once_with_its_passages(built: tuple[Settings, FakeEmbedder]) -> None:
    pytest.importorskip("playwright.sync_api", reason="playwright is in the [dev] extra")
    import httpx
    from playwright import sync_api

    from .conftest import serve_in_thread
    from .test_page_browser import CHROMIUM, CHROMIUM_ARGS, open_page, shot

    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium; scripts/test.sh does it)")
    settings, embedder = built
    with (
        serve_in_thread(create_app(settings, embedder=embedder, limits=NO_LIMITS)) as base,
        sync_api.sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page, errors = open_page(browser, base, viewport={"width": 1280, "height": 1000})
        assert page.locator("#group").input_value() == "passage"  # the page's default
        page.select_option("#group", "document")
        page.fill("#q", QUERY)
        page.locator("#search-button").click()
        page.locator("#results > li.hit .more-passages").first.wait_for()
        expected = httpx.get(base + "/search", params={"q": QUERY, "k": 10, "group": "document"}).json()
        hits = page.locator("#results > li.hit")
        assert hits.count() == len(expected["results"])
        assert page.locator("#results h3").count() == hits.count()  # each hit its own document
        for i, r in enumerate(expected["results"]):
            shown = hits.nth(i).locator(".more-passages li")
            assert shown.count() == len(r["passages"])
            for j, passage in enumerate(r["passages"]):
                assert passage["highlight"] in shown.nth(j).inner_text()
        assert "group=document" in page.url
        assert "matching documents" in page.locator("#status").inner_text()
        page.locator(".more-passages button").first.click()
        page.locator("#passage[open]").wait_for()
        first = next(r for r in expected["results"] if r["passages"])
        assert first["passages"][0]["highlight"] in page.locator("#passage-body").inner_text()
        shot(page, "search_page_grouped.png")
        page.locator("#passage-close").click()
        page.select_option("#group", "passage")  # back to passages: searches again
        page.wait_for_function("!location.search.includes('group=document')")
        page.wait_for_function("document.querySelectorAll('#results .more-passages').length === 0")
        assert "matching passages" in page.locator("#status").inner_text()
        browser.close()
    assert errors == []
