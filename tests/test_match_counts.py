"""Counts that mean something (issue 11): a search's total, its hits (pages, grouped by document) and its
facets are over the passages that match the query, compared with the brute-force definition of
``match_reference``; a query that matches nothing gets total 0, no hits and empty facets (Service and HTTP),
and so do its summary, timeline and facets. Fake embedder for the counts; the real model for nonsense."""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from insight_search.config import Settings
from insight_search.dense import DenseIndex
from insight_search.indexer import build_index
from insight_search.lexical import tokenize
from insight_search.models import Filters, Query
from insight_search.search import Searcher, open_searcher

from .conftest import SEED, FakeEmbedder, call, service_for
from .match_reference import reference_matches

TOPIC = ["stroller", "parents", "rental", "seat", "safety"]
OTHER = ["rural", "credit", "farmers", "loan", "harvest", "budget", "violence", "shelter"]
NONSENSE = "xqzv blorft"


class SynonymEmbedder(FakeEmbedder):
    """The fake embedder, reading "pram" as "stroller": close in meaning without sharing a word."""

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        return super().embed_batch([t.replace("pram", "stroller") for t in texts])


def _corpus(root: Path) -> Path:
    rng = random.Random(11)
    lines = []
    for d in range(36):
        words = TOPIC if d % 3 == 0 else OTHER
        text = "\n\n".join(
            " ".join(rng.choices(words, k=5)).capitalize() + "." for _ in range(rng.randint(1, 3))
        )
        record = {"id": f"d{d}", "text": text, "year": 2019 + d % 4, "country": ["Mexico", "Chile"][d % 2]}
        lines.append(json.dumps(record))
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "d.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return corpus


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Searcher:
    root = tmp_path_factory.mktemp("counts")
    settings = Settings(index_dir=root / "index", chunk_words=5)
    embedder = SynonymEmbedder()
    build_index([_corpus(root)], settings, embedder)
    return open_searcher(settings, embedder)


def _view(searcher: Searcher, **updates: object) -> Searcher:
    return Searcher(searcher.data, searcher.embedder, searcher.settings.model_copy(update=updates))


def _all_pages(searcher: Searcher, query: Query) -> list[int]:
    rows: list[int] = []
    offset: int | None = 0
    while offset is not None:
        page = searcher.search(
            Query(
                query.text,
                k=4,
                filters=query.filters,
                offset=offset,
                group_by_document=query.group_by_document,
            )
        )
        rows += [searcher._rows_by_id[h.chunk.chunk_id] for h in page.hits]
        assert len(page.hits) <= 4 and page.total == searcher.search(query).total
        offset = page.next_offset
    return rows


QUERIES = ["stroller safety", "rural credit loan", "pram", "parents and the harvest", NONSENSE, "the of and"]


@pytest.mark.parametrize("depth", [100, 2])
def test_total_and_pages_are_the_matching_rows(searcher: Searcher, depth: int) -> None:
    """Also with the dense list cut to 2: a passage below its depth that passes the threshold still counts.
    Matches only (``related`` off; with it, see :func:`test_related_candidates_follow_the_matches`)."""
    view = _view(searcher, candidates=depth, related=False)
    for text in QUERIES:
        expected = reference_matches(view, text)
        result = view.search(Query(text, k=10))
        assert result.total == len(expected), text
        assert set(view.matching(Query(text))) == expected
        if depth >= len(expected):  # (deeper pages rank deeper lists, so pages agree within the depth)
            rows = _all_pages(view, Query(text, k=10))
            assert sorted(rows) == sorted(expected) and len(rows) == len(set(rows))  # each match once
        assert len(result.hits) == min(10, len(expected))
        assert (result.next_offset is None) == (len(expected) <= 10)
    # the synonym matches by meaning alone: many rows, more than the dense list holds at depth 2
    assert not set(tokenize("pram")) & searcher.data.lexical.vocab.keys()
    assert len(reference_matches(view, "pram")) > 2


@pytest.mark.parametrize("group", [False, True])
def test_related_candidates_are_listed_where_the_ranking_puts_them(searcher: Searcher, group: bool) -> None:
    """The default (``related``): every candidate in the fused order, the ones that do not match marked;
    the matches among them are the matches-only list, in its order; ``total`` and the facets are the
    matches'; paging reaches each hit once; a query that matches nothing lists nothing."""
    strict = _view(searcher, related=False)
    assert searcher.settings.related
    for text in QUERIES:
        query = Query(text, k=200, group_by_document=group)
        plain, listed = strict.search(query), searcher.search(query)
        assert listed.total == plain.total and listed.facets == plain.facets, text
        matched = [h.chunk.chunk_id for h in listed.hits if not h.related]
        assert matched == [h.chunk.chunk_id for h in plain.hits], text
        assert listed.related == sum(h.related for h in listed.hits), text
        expected = reference_matches(searcher, text)
        related = {searcher._rows_by_id[h.chunk.chunk_id] for h in listed.hits if h.related}
        assert not related & expected, text
        if not plain.total:  # nothing matches: nothing is listed, related or not
            assert listed.hits == () and listed.related == 0
        else:  # the fused order: scores never rise (matches beyond both lists follow with score 0)
            scores = [h.score for h in listed.hits]
            assert scores == sorted(scores, reverse=True), text
        pages = _all_pages(searcher, Query(text, group_by_document=group))
        assert pages == [searcher._rows_by_id[h.chunk.chunk_id] for h in listed.hits], text
        assert strict.search(Query(text, related=True)).related == searcher.search(Query(text)).related
    stroller = searcher.search(Query("stroller safety", k=200))
    assert stroller.related > 0  # the query's dense list reaches passages of the other topic
    assert all(h.dense_score is not None and h.lexical_score is None for h in stroller.hits if h.related)


def test_nonsense_and_stop_words_match_nothing(searcher: Searcher) -> None:
    for text in (NONSENSE, "the of and", "y de la"):
        assert reference_matches(searcher, text) == set(), text  # the corpus is so (the rest can fail)
        result = searcher.search(Query(text, k=10))
        assert result.total == 0 and result.hits == () and result.next_offset is None
        assert not any(dict(getattr(result.facets, f)) for f in ("years", "countries", "agencies", "themes"))
        out = call(searcher, "search", q=text, k=10)
        assert out.total == 0 and out.results == [] and out.next_cursor is None
        facets = call(searcher, "facets", q=text).model_dump(exclude={"year_counting"})
        assert facets == {"years": {}, "countries": {}, "agencies": {}, "themes": {}, "languages": {}}


def test_search_facets_count_the_matching_rows(searcher: Searcher) -> None:
    for text, filters in (("stroller", Filters()), ("credit pram", Filters(country="Chile"))):
        allowed = searcher.allowed(filters)
        expected = reference_matches(searcher, text, None if allowed is None else allowed.tolist())
        result = searcher.search(Query(text, k=3, filters=filters))
        assert result.total == len(expected) and 0 < result.total < len(searcher.chunks)
        assert result.facets == searcher.facets(sorted(expected))
        assert sum(result.facets.years.values()) == result.total == sum(result.facets.countries.values())
        op = call(searcher, "facets", q=text, filters=filters)
        assert op.years == dict(result.facets.years) and op.countries == dict(result.facets.countries)


@pytest.mark.parametrize("depth", [100, 1])
def test_grouped_search_counts_matching_documents(searcher: Searcher, depth: int) -> None:
    view = _view(searcher, candidates=depth, related=False)
    for text in QUERIES:
        documents = {view.chunks[i].doc_id for i in reference_matches(view, text)}
        grouped = Query(text, k=10, group_by_document=True)
        result = view.search(grouped)
        assert result.total == len(documents), text
        if depth >= len(documents):
            hits = [view.chunks[i].doc_id for i in _all_pages(view, grouped)]
            assert sorted(hits) == sorted(documents)  # each matching document once, no other
        assert {h.chunk.doc_id for h in result.hits} <= documents
        assert sum(result.facets.countries.values()) == result.total


def test_close_rows_equal_numpy_brute_force() -> None:
    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(600, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    query = vectors[7]
    scores = vectors @ query
    threshold = float(np.sort(scores)[-40])  # 40 rows reach it, one of them exactly
    for flat_max in (10_000, 10):  # exact, then HNSW (exact on so few rows)
        dense = DenseIndex.build(vectors, flat_max=flat_max)
        assert dense.close_rows(query, threshold).tolist() == np.flatnonzero(scores >= threshold).tolist()
        allowed = np.arange(0, 600, 3)
        got = dense.close_rows(query, threshold, allowed)
        assert got.tolist() == [i for i in allowed.tolist() if scores[i] >= threshold]
        assert dense.close_rows(query, threshold, np.zeros(0, dtype=np.int64)).tolist() == []


# ---------------------------------------------------------------------------------------------- real model


@pytest.fixture(scope="module")
def seed_settings(tmp_path_factory: pytest.TempPathFactory, real_embedder: object) -> Settings:
    root = tmp_path_factory.mktemp("counts-seed")
    (root / "corpus").mkdir()
    shutil.copy(SEED, root / "corpus" / SEED.name)
    settings = Settings(index_dir=root / "index", corpus_paths=[root / "corpus"])
    build_index([root / "corpus"], settings, real_embedder)  # type: ignore[arg-type]
    return settings


def test_nonsense_matches_nothing_on_the_sample_page(seed_settings: Settings, real_embedder: object) -> None:
    """The issue's example: "xqzv blorft" gave "33 matching passages" (the whole index) and ten hits."""
    from insight_search.api import create_app
    from insight_search.api.guard import ApiLimits

    searcher = open_searcher(seed_settings, real_embedder)  # type: ignore[arg-type]
    service = service_for(searcher)
    for text in (NONSENSE, "asdkjh qwpoe", "the of and"):
        assert reference_matches(searcher, text) == set(), text
        out = service.run("search", {"q": text, "k": 10})
        assert out.total == 0 and out.results == [] and out.next_cursor is None, text
        empty = {"years": {}, "countries": {}, "agencies": {}, "themes": {}, "languages": {}}
        assert out.facets.model_dump(exclude={"year_counting"}) == empty
        assert service.run("summarize", {"q": text}).sentences == []
        assert service.run("timeline", {"q": text}).years == []
        assert service.run("mentions", {"term": text}).total == 0
    app = create_app(seed_settings, embedder=real_embedder, limits=ApiLimits(rate_per_minute=0))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        body = client.get("/search", params={"q": NONSENSE, "k": 10}).json()
        assert body["total"] == 0 and body["results"] == [] and body["next_cursor"] is None
        assert {k: v for k, v in body["facets"].items() if k != "year_counting"} == empty
        posted = client.post("/search", json={"q": NONSENSE}).json()
        assert posted["total"] == 0 and posted["results"] == []
        # a real query still finds its passages, and only those
        care = client.get("/search", params={"q": "Monterrey care system", "k": 5}).json()
        assert care["total"] == len(reference_matches(searcher, "Monterrey care system")) > 0
        assert len(care["results"]) == 5
