"""HTTP API in process (FakeEmbedder index of the sample corpus): routes, the tool table, access control,
rate and size limits, CORS, the search page's files, and the MCP endpoint at /mcp."""

from __future__ import annotations

import json
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from insight_search.api import create_app
from insight_search.api.guard import ApiLimits, TokenBuckets
from insight_search.config import Settings
from insight_search.embedding import Embedder
from insight_search.indexer import build_index
from insight_search.operations import TOOLS
from insight_search.requests import request_models

from .conftest import SEED, FakeEmbedder

QUERY = "care system legislation"
XSS_ID = "xss-probe"
XSS_TITLE = "<script>window.__pwned=1</script>Care system legislation probe"
XSS_TEXT = (
    "Care system legislation probe: <script>window.__pwned=1</script> and "
    '<img src=x onerror="window.__pwned=2"> must show as text. The national care system law passed in 2023.'
)
BASE = "http://127.0.0.1"  # a loopback host name, as the MCP endpoint's DNS rebinding check wants
NO_LIMITS = ApiLimits(rate_per_minute=0)


def write_corpus(root: Path) -> Path:
    """The sample outcome page plus a JSONL document holding markup that must never run in the page."""
    corpus = root / "corpus"
    corpus.mkdir(parents=True)
    shutil.copy(SEED, corpus / SEED.name)
    record = {"id": XSS_ID, "title": XSS_TITLE, "text": XSS_TEXT, "year": 2023, "country": "Mexico"}
    (corpus / "probe.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    return corpus


def build_settings(root: Path, embedder: Embedder, **updates: Any) -> Settings:
    corpus = write_corpus(root)
    settings = Settings(index_dir=root / "index", corpus_paths=[corpus], **updates)
    build_index([corpus], settings, embedder)
    return settings


@pytest.fixture(scope="module")
def fake_built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, FakeEmbedder]:
    embedder = FakeEmbedder()
    return build_settings(tmp_path_factory.mktemp("api"), embedder), embedder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def client_for(app: FastAPI) -> TestClient:
    return TestClient(app, base_url=BASE)


@pytest.fixture(scope="module")
def client(fake_built: tuple[Settings, FakeEmbedder]) -> Iterator[TestClient]:
    settings, embedder = fake_built
    with client_for(create_app(settings, embedder=embedder, limits=NO_LIMITS)) as c:
        yield c


# ---------------------------------------------------------------- routes


def test_search_get_and_post_agree_and_carry_every_field(client: TestClient) -> None:
    got = client.get("/search", params={"q": QUERY, "k": 5})
    posted = client.post("/search", json={"q": QUERY, "k": 5})
    assert got.status_code == posted.status_code == 200
    a, b = got.json(), posted.json()
    assert [r["chunk_id"] for r in a["results"]] == [r["chunk_id"] for r in b["results"]]
    assert len(a["results"]) == 5 and a["total"] >= 5
    first = a["results"][0]
    assert first["highlight"] in first["text"] and first["country"] == "Mexico"
    assert set(a["facets"]) == {"years", "countries", "agencies", "themes", "languages", "year_counting"}


def test_year_filter_applies_before_ranking(client: TestClient) -> None:
    out = client.get("/search", params={"q": QUERY, "year": 2023, "k": 20}).json()
    assert out["results"] and {r["year"] for r in out["results"]} == {2023}
    assert set(out["facets"]["years"]) == {"2023"}


def test_pages_follow_the_cursor(client: TestClient) -> None:
    first = client.get("/search", params={"q": QUERY, "k": 3}).json()
    second = client.get("/search", params={"q": QUERY, "k": 3, "cursor": first["next_cursor"]}).json()
    assert [r["rank"] for r in second["results"]] == [4, 5, 6]
    assert not {r["chunk_id"] for r in first["results"]} & {r["chunk_id"] for r in second["results"]}


def test_summary_sentences_point_into_their_chunks(client: TestClient) -> None:
    out = client.get("/summarize", params={"q": QUERY, "max_sentences": 4}).json()
    assert out["sentences"]
    for s in out["sentences"]:
        chunk = client.get(f"/chunks/{s['chunk_id']}").json()
        # Sentence offsets are in the passage; the chunk starts at chunk["start"] of the same passage.
        assert chunk["text"][s["start"] - chunk["start"] : s["end"] - chunk["start"]] == s["text"]
        doc = client.get(f"/documents/{s['doc_id']}").json()
        passage = doc["passages"][chunk["passage_index"]]["text"]
        assert passage[s["start"] : s["end"]] == s["text"]
        assert s["chunk_id"] in doc["chunk_ids"]


def test_timeline_years_ascend(client: TestClient) -> None:
    out = client.post("/timeline", json={"q": "care system", "sentences_per_year": 2}).json()
    years = [y["year"] for y in out["years"]]
    assert years == sorted(years) and len(years) >= 3
    assert all(len(y["sentences"]) <= 2 for y in out["years"])


def test_mentions_funding_facets(client: TestClient) -> None:
    m = client.get("/mentions", params={"term": "Nuevo Leon"}).json()
    assert m["total"] >= 1 and all("nuevo le" in p["text"].lower() for p in m["passages"])
    f = client.get("/funding").json()
    assert f["total_records"] == len(f["records"]) > 0
    facets = client.get("/facets").json()
    # every passage of the corpus is Mexico's (the page and the probe); how many there are is the chunking's
    chunks = client.get("/ready").json()["chunks"]
    assert facets["countries"]["Mexico"] == chunks >= 10 and "2023" in facets["years"]


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/search", {"q": ""}, 422),
        ("/search", {"q": QUERY, "k": 0}, 422),
        ("/search", {"q": QUERY, "k": 101}, 422),
        ("/search", {"q": QUERY, "year": 1800}, 422),
        ("/search", {"q": QUERY, "bogus": 1}, 422),
        ("/search", {"q": "   "}, 422),
        ("/search", {"q": QUERY, "year_from": 2024, "year_to": 2020}, 422),
        ("/search", {"q": QUERY, "cursor": "not-a-cursor"}, 400),
        ("/mentions", {"term": "care", "limit": 201}, 422),
        ("/funding", {"limit": 1001}, 422),
        ("/funding", {"kind": "bribe"}, 422),
        ("/chunks/nope", None, 404),
        ("/documents/no/such/doc", None, 404),
    ],
)
def test_bad_input_is_a_4xx_with_a_message(client: TestClient, path: str, params: Any, status: int) -> None:
    r = client.get(path, params=params)
    assert r.status_code == status, r.text
    assert isinstance(r.json()["detail"], str) and r.json()["detail"]


def test_post_body_must_match_the_model(client: TestClient) -> None:
    assert client.post("/search", json={"q": QUERY, "k": "many"}).status_code == 422
    assert (
        client.post("/search", content=b"{not json", headers={"content-type": "application/json"}).status_code
        == 422
    )
    assert client.post("/search", json=["q"]).status_code == 422


def test_openapi_documents_examples_and_errors(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    op = spec["paths"]["/search"]["get"]
    q = next(p for p in op["parameters"] if p["name"] == "q")
    assert q["schema"]["examples"] == [QUERY]
    assert {"200", "400", "422", "429"} <= set(op["responses"])
    assert "404" in spec["paths"]["/chunks/{chunk_id}"]["get"]["responses"]
    assert "/tools" in spec["paths"]


# ---------------------------------------------------------------- tools (same schemas as the routes)


def test_tools_are_openai_functions_with_the_route_schemas(client: TestClient) -> None:
    defs = client.get("/tools").json()
    by_name = {d["function"]["name"]: d for d in defs}
    assert set(by_name) == {"search", "summarize", "timeline", "mentions", "funding", "indicators"}
    models = request_models(client.app.state.settings)  # type: ignore[attr-defined]
    for name in ("search", "summarize", "timeline", "mentions", "funding", "indicators"):
        d = by_name[name]
        assert d["type"] == "function" and d["function"]["description"]
        assert d["function"]["parameters"] == models.of(name).model_json_schema()
    assert by_name["search"]["function"]["parameters"]["required"] == ["q"]
    assert by_name["search"]["function"]["parameters"]["properties"]["k"]["maximum"] == 100


def test_tool_functions_return_what_the_routes_return(client: TestClient) -> None:
    from insight_search.operations import call_tool

    service = client.app.state.service  # type: ignore[attr-defined]
    for tool, path, args in [
        (TOOLS[0], "/search", {"q": QUERY, "k": 3}),
        (TOOLS[1], "/summarize", {"q": QUERY}),
        (TOOLS[2], "/timeline", {"q": QUERY}),
        (TOOLS[3], "/mentions", {"term": "Monterrey"}),
        (TOOLS[4], "/funding", {"limit": 5}),
    ]:
        direct = call_tool(service, tool.name, args).model_dump(mode="json")
        routed = client.post(path, json=args).json()
        assert direct == routed, tool.name


# ---------------------------------------------------------------- the search page


def test_page_and_its_files_are_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert '<meta name="viewport"' in page.text and 'for="q"' in page.text
    for name, kind in (("app.js", "javascript"), ("style.css", "text/css")):
        r = client.get(f"/static/{name}")
        assert r.status_code == 200 and kind in r.headers["content-type"]


def test_page_script_never_writes_html() -> None:
    from insight_search.api.app import STATIC

    script = (STATIC / "app.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script
    assert "<script>" not in (STATIC / "index.html").read_text(encoding="utf-8")


# ---------------------------------------------------------------- access control and limits


def test_api_key_guards_every_route_but_health_and_the_page(
    fake_built: tuple[Settings, FakeEmbedder],
) -> None:
    settings, embedder = fake_built
    app = create_app(settings.model_copy(update={"api_key": "s3cret"}), embedder=embedder, limits=NO_LIMITS)
    with client_for(app) as c:
        for path in ("/search?q=care", "/facets", "/tools", "/ready", "/chunks/x", "/openapi.json", "/docs"):
            r = c.get(path)
            assert r.status_code == 401 and "API key" in r.json()["detail"], path
        assert c.get("/search?q=care", headers={"X-API-Key": "wrong"}).status_code == 401
        assert c.get("/search?q=care", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/search?q=care", headers={"X-API-Key": "s3cret"}).status_code == 200
        assert c.get("/search?q=care", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert c.post("/mcp", json={}).status_code == 401
        for public in ("/health", "/", "/static/app.js"):
            assert c.get(public).status_code == 200, public


def test_rate_limit_answers_429_with_retry_after(fake_built: tuple[Settings, FakeEmbedder]) -> None:
    settings, embedder = fake_built
    app = create_app(settings, embedder=embedder, limits=ApiLimits(rate_per_minute=6, burst=3))
    with client_for(app) as c:
        codes = [c.get("/facets").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        r = c.get("/facets")
        assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 10
        assert c.get("/health").status_code == 200  # probes are never limited


def test_token_bucket_refills_with_time() -> None:
    now = [0.0]
    buckets = TokenBuckets(ApiLimits(rate_per_minute=60, burst=2), clock=lambda: now[0])
    assert [buckets.take("a"), buckets.take("a")] == [0, 0]
    assert buckets.take("a") == pytest.approx(1.0)
    assert buckets.take("b") == 0  # another client has its own bucket
    now[0] = 1.0
    assert buckets.take("a") == 0


def test_body_over_the_limit_is_413(fake_built: tuple[Settings, FakeEmbedder]) -> None:
    settings, embedder = fake_built
    app = create_app(settings, embedder=embedder, limits=ApiLimits(rate_per_minute=0, max_body_bytes=1000))
    with client_for(app) as c:
        big = {"q": QUERY, "country": "x" * 2000}
        assert c.post("/search", json=big).status_code == 413

        def chunked() -> Iterator[bytes]:  # no Content-Length: counted while read
            yield b'{"q": "care", "country": "'
            yield b"x" * 2000
            yield b'"}'

        assert (
            c.post("/search", content=chunked(), headers={"content-type": "application/json"}).status_code
            == 413
        )
        assert c.post("/search", json={"q": QUERY}).status_code == 200


def test_cors_only_for_configured_origins(fake_built: tuple[Settings, FakeEmbedder]) -> None:
    settings, embedder = fake_built
    with client_for(create_app(settings, embedder=embedder, limits=NO_LIMITS)) as c:
        r = c.get("/health", headers={"Origin": "https://example.org"})
        assert "access-control-allow-origin" not in r.headers
    allowed = settings.model_copy(update={"cors_origins": ["https://ok.example"]})
    with client_for(create_app(allowed, embedder=embedder, limits=NO_LIMITS)) as c:
        r = c.get("/health", headers={"Origin": "https://ok.example"})
        assert r.headers["access-control-allow-origin"] == "https://ok.example"
        r = c.get("/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in r.headers
        pre = c.options(
            "/search",
            headers={
                "Origin": "https://ok.example",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "X-API-Key",
            },
        )
        assert pre.status_code == 200 and "x-api-key" in pre.headers["access-control-allow-headers"].lower()


# ---------------------------------------------------------------- MCP over streamable HTTP


def _rpc(c: TestClient, method: str, params: dict[str, Any], id_: int, **headers: str) -> Any:
    return c.post(
        "/mcp",
        json={"jsonrpc": "2.0", "id": id_, "method": method, "params": params},
        headers={"Accept": "application/json, text/event-stream", **headers},
    )


def test_mcp_endpoint_lists_and_calls_the_tools(client: TestClient) -> None:
    init = _rpc(
        client,
        "initialize",
        {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}},
        1,
    )
    assert init.status_code == 200 and init.json()["result"]["serverInfo"]["name"] == "insight-search"
    v = {"mcp-protocol-version": "2025-06-18"}
    listed = _rpc(client, "tools/list", {}, 2, **v).json()["result"]["tools"]
    assert {t["name"] for t in listed} == {t.name for t in TOOLS}
    search = next(t for t in listed if t["name"] == "search")
    assert search["inputSchema"] == request_models(client.app.state.settings).search.model_json_schema()  # type: ignore[attr-defined]
    called = _rpc(client, "tools/call", {"name": "search", "arguments": {"q": QUERY, "k": 3}}, 3, **v).json()
    structured = called["result"]["structuredContent"]
    assert structured == client.get("/search", params={"q": QUERY, "k": 3}).json()
    assert json.loads(called["result"]["content"][0]["text"]) == structured
    bad = _rpc(client, "tools/call", {"name": "search", "arguments": {"q": QUERY, "k": 0}}, 4, **v).json()
    assert bad["result"]["isError"] is True and "k" in bad["result"]["content"][0]["text"]


def test_mcp_endpoint_refuses_a_foreign_host(client: TestClient) -> None:
    r = _rpc(client, "tools/list", {}, 1, host="evil.example")
    assert r.status_code == 421


# A pasted paragraph: far over the old 1,000-character limit, its last word the only one naming the place.
PARAGRAPH = "The outcome concerns social protection and services for people in vulnerable conditions. " * 220


def test_a_query_as_long_as_a_paragraph_is_answered_and_read_whole(client: TestClient) -> None:
    """Queries up to the request-body limit are accepted (the old limit was 1,000 characters); the keywords
    come from all of the query, so its last word still matches."""
    assert Settings().max_query_chars == Settings().max_body_bytes
    q = PARAGRAPH + "Monterrey"
    assert len(q) > 19_000
    r = client.post("/search", json={"q": q, "k": 100})
    assert r.status_code == 200, r.text
    lexical = [h for h in r.json()["results"] if h["lexical_score"] and "Monterrey" in h["text"]]
    assert lexical, "the last word of a long query was not used"
    assert client.get("/search", params={"q": PARAGRAPH[:5000]}).status_code == 200
    assert client.post("/summarize", json={"q": q}).status_code == 200
    assert client.post("/timeline", json={"q": q}).status_code == 200


def test_a_batch_answers_each_query_on_its_own(client: TestClient) -> None:
    queries: list[Any] = [
        {"q": QUERY},
        {"q": "   "},
        {"q": QUERY, "k": 0},
        "not an object",
        {"q": QUERY, "cursor": "not-a-cursor"},
        {"q": PARAGRAPH + "Monterrey", "k": 3},
    ]
    r = client.post("/search/batch", json={"queries": queries})
    assert r.status_code == 200, r.text
    items = r.json()["results"]
    assert [item["error"] is None for item in items] == [True, False, False, False, False, True]
    assert items[1]["error"] == "q: the query is empty"
    assert items[2]["error"].startswith("k: Input should be greater than or equal to 1")
    assert items[3]["error"] == "request: expected a JSON object, got str"
    assert "cursor" in items[4]["error"]
    single = client.post("/search", json={"q": QUERY}).json()
    ids = [h["chunk_id"] for h in items[0]["result"]["results"]]
    assert ids == [h["chunk_id"] for h in single["results"]]
    assert len(items[5]["result"]["results"]) == 3
    assert client.post("/search/batch", json={"queries": []}).status_code == 422


def test_one_query_too_long_fails_alone_in_a_batch(fake_built: tuple[Settings, FakeEmbedder]) -> None:
    settings, embedder = fake_built
    bounded = settings.model_copy(update={"max_query_chars": 1000})
    with client_for(create_app(bounded, embedder=embedder, limits=NO_LIMITS)) as c:
        r = c.post("/search/batch", json={"queries": [{"q": "x" * 1001}, {"q": QUERY}]})
        openapi = c.get("/openapi.json").json()
    too_long, fine = r.json()["results"]
    assert too_long == {"result": None, "error": "q: String should have at most 1000 characters"}
    assert fine["error"] is None and fine["result"]["results"]
    # The batch is documented: each query takes the parameters of POST /search, with their bounds.
    body = openapi["paths"]["/search/batch"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    request = openapi["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    item = request["properties"]["queries"]["items"]
    assert item["properties"]["q"]["maxLength"] == 1000 and "k" in item["properties"]
    assert request["properties"]["queries"]["maxItems"] == Settings().max_batch_queries
