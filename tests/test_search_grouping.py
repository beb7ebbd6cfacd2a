"""``Query.group_by_document``: one hit per document, documents ranked by their best chunk, checked against
a brute-force reference over the same dense and lexical lists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from insight_search.config import Settings
from insight_search.fusion import convex, rrf, top
from insight_search.indexer import build_index
from insight_search.models import Filters, Query
from insight_search.search import Searcher, open_searcher

WORDS = [
    "care",
    "system",
    "legislation",
    "budget",
    "violence",
    "survivors",
    "shelter",
    "women",
    "rural",
    "credit",
]


def _text(doc: int, part: int) -> str:
    # Each document has several 5-word passages (blank-line separated) that share some words.
    words = [WORDS[(doc * 3 + part * 7 + j) % len(WORDS)] for j in range(5)]
    return " ".join(words) + f" doc{doc} part{part}."


@pytest.fixture
def searcher(tmp_path: Path, fake_embedder) -> Searcher:  # type: ignore[no-untyped-def]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    lines = []
    for d in range(12):
        text = "\n\n".join(_text(d, p) for p in range(1 + d % 4))
        lines.append(
            json.dumps({"id": f"d{d}", "title": f"Document {d}", "text": text, "year": 2020 + d % 3})
        )
    (corpus / "docs.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # the reference ranks the English lanes' lists only (the lane's grouping: tests/test_multilingual.py)
    settings = Settings(index_dir=tmp_path / "index", chunk_words=6, multilingual=False)
    build_index([corpus], settings, fake_embedder)
    return open_searcher(settings, fake_embedder)


def _reference(searcher: Searcher, text: str) -> list[str]:
    """Document ranking by brute force: max-pool each list to documents, then the configured RRF."""
    s = searcher.settings
    n = len(searcher.chunks)
    vector = searcher.embedder.embed_batch([text])[0]
    lists = []
    for ranked in (
        searcher.data.dense.search(vector[None, :], n)[0],
        searcher.data.lexical.search(text, n)[0],
    ):
        seen: dict[str, float] = {}
        for i, score in ranked:
            seen.setdefault(searcher.chunks[i].doc_id, score)
        lists.append(list(seen.items()))
    doc_lists = [[(int(d[1:]), sc) for d, sc in lst][: s.candidates] for lst in lists]
    weights = [s.dense_weight, s.lexical_weight]
    fused = rrf(doc_lists, weights, k=s.rrf_k) if s.fusion == "rrf" else convex(doc_lists, weights)
    return [f"d{i}" for i, _ in top(fused, len(fused))]


@pytest.mark.parametrize("fusion", ["rrf", "convex"])
def test_one_hit_per_document_ranked_like_the_reference(searcher: Searcher, fusion: str) -> None:
    searcher = Searcher(
        searcher.data, searcher.embedder, searcher.settings.model_copy(update={"fusion": fusion})
    )
    for text in ("care legislation", "violence survivors shelter", "rural women credit budget"):
        result = searcher.search(Query(text=text, k=10, group_by_document=True))
        docs = [h.chunk.doc_id for h in result.hits]
        assert len(docs) == len(set(docs)) == 10
        assert docs == _reference(searcher, text)[:10]
        assert result.total <= 12
        # the chunk shown for a document is one of its own
        assert all(h.chunk.doc_id == d for h, d in zip(result.hits, docs, strict=True))


def test_grouping_off_returns_chunks_and_filters_still_apply(searcher: Searcher) -> None:
    chunks = searcher.search(Query(text="care legislation", k=20))
    assert len({h.chunk.doc_id for h in chunks.hits}) < len(chunks.hits)  # several chunks of one document
    grouped = searcher.search(
        Query(text="care legislation", k=5, filters=Filters(year=2021), group_by_document=True)
    )
    assert grouped.hits and all(h.chunk.year == 2021 for h in grouped.hits)
    assert len({h.chunk.doc_id for h in grouped.hits}) == len(grouped.hits)


def test_grouped_pages_do_not_repeat_documents(searcher: Searcher) -> None:
    first = searcher.search(Query(text="women budget", k=4, group_by_document=True))
    second = searcher.search(Query(text="women budget", k=4, offset=4, group_by_document=True))
    seen = [h.chunk.doc_id for h in first.hits + second.hits]
    assert len(seen) == len(set(seen)) == 8
