"""End to end through the HTTP API with the real model: a small mixed-language index (real UN INFO
sub-outputs of Mexico, Senegal and Kenya, and the English sample outcome page), the ``lang`` filter, the
languages facet, and the language of every hit, sentence, chunk and tool result (issue 13)."""

from __future__ import annotations

import shutil
from collections import Counter

import pytest
from fastapi.testclient import TestClient

from insight_search.api import create_app
from insight_search.config import Settings
from insight_search.indexer import build_index
from insight_search.operations import call_tool

from .conftest import SEED
from .language_samples import uninfo_rows, write_rows
from .test_api import BASE, NO_LIMITS


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory, real_embedder):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("mixed-api")
    corpus = root / "corpus"
    write_rows(corpus / "teams.jsonl", uninfo_rows(per_country=8))
    shutil.copy(SEED, corpus / SEED.name)
    settings = Settings(index_dir=root / "index")
    build_index([corpus], settings, real_embedder)
    with TestClient(create_app(settings, embedder=real_embedder, limits=NO_LIMITS), base_url=BASE) as client:
        yield client


def _all_chunks(client: TestClient) -> list:  # type: ignore[type-arg]
    return list(client.app.state.service.index.searcher.chunks)  # type: ignore[attr-defined]


def test_facets_count_the_languages_of_the_index(mixed: TestClient) -> None:
    chunks = _all_chunks(mixed)
    expected = Counter(c.language or "unknown" for c in chunks)
    facets = mixed.get("/facets").json()
    assert facets["languages"] == dict(expected)
    assert set(facets["languages"]) == {"en", "es", "fr"}
    mexico = [c.language for c in chunks if c.country == "Mexico"]
    assert mexico.count("es") >= 14  # 8 sub-outputs of 2 passages
    spanish = mixed.get("/facets", params={"lang": "es"}).json()
    assert spanish["languages"] == {"es": expected["es"]}
    assert sum(spanish["countries"].values()) == expected["es"]


def test_search_with_lang_es_returns_only_spanish_passages(mixed: TestClient) -> None:
    params = {"q": "migrants and refugees find work", "k": 10}
    everything = mixed.get("/search", params=params).json()
    spanish = mixed.get("/search", params={**params, "lang": "es"}).json()
    posted = mixed.post("/search", json={**params, "lang": "ES"}).json()
    assert spanish["results"] and [r["chunk_id"] for r in spanish["results"]] == [
        r["chunk_id"] for r in posted["results"]
    ]
    assert all(r["language"] == "es" for r in spanish["results"])
    assert spanish["facets"]["languages"] == {"es": spanish["total"]}
    assert everything["total"] > spanish["total"]
    assert sum(everything["facets"]["languages"].values()) == everything["total"]
    bad = mixed.get("/search", params={**params, "lang": "martian"})
    assert bad.status_code == 422 and "lang" in bad.text
    first = spanish["results"][0]
    assert mixed.get(f"/chunks/{first['chunk_id']}").json()["language"] == "es"


def test_a_spanish_query_finds_the_spanish_sub_output(mixed: TestClient) -> None:
    # The words of a Mexico sub-output, inflected otherwise: found through the Spanish analysis.
    query = "personas refugiadas reubicadas con apoyo laboral"
    out = mixed.get("/search", params={"q": query, "k": 3}).json()
    assert out["results"][0]["country"] == "Mexico" and out["results"][0]["language"] == "es"


def test_summary_sentences_and_tools_carry_the_language(mixed: TestClient) -> None:
    out = mixed.get("/summarize", params={"q": "renforcement des capacités", "lang": "fr"}).json()
    assert out["sentences"] and all(s["language"] == "fr" for s in out["sentences"])
    chunks = {c.chunk_id: c for c in _all_chunks(mixed)}
    for s in out["sentences"]:
        assert s["text"] in chunks[s["chunk_id"]].text  # verbatim
    tools = {d["function"]["name"]: d["function"]["parameters"] for d in mixed.get("/tools").json()}
    for name in ("search", "summarize", "timeline", "mentions"):
        assert "lang" in tools[name]["properties"], name
    service = mixed.app.state.service  # type: ignore[attr-defined]
    result = call_tool(service, "search", {"q": "care system", "lang": "en", "k": 3}).model_dump()
    assert result["results"] and all(r["language"] == "en" for r in result["results"])
