"""The retrieval defaults of issue 14 (``Settings``; chosen by ``benchmarks/retrieval_levers.py`` and
``benchmarks/retrieval_compare.py``, docs/benchmarks.md "Issue 14"): a document as short as an abstract is
one passage vector, the title is embedded and BM25-indexed with it, and the two lists are fused as chosen."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from insight_search.chunking import chunk_document
from insight_search.config import Settings
from insight_search.indexer import build_index
from insight_search.models import Document, Passage, Query, SourceRef
from insight_search.ranking import rank
from insight_search.search import open_searcher


class Recording:
    """An embedder that remembers what it was asked to embed."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner = inner
        self.model_id, self.dimension, self.backend = inner.model_id, inner.dimension, inner.backend
        self.limit_threads = inner.limit_threads
        self.seen: list[str] = []

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        self.seen.extend(texts)
        return self.inner.embed_batch(texts)


def _abstract(words: int) -> str:
    sentence = "Calcium intake changes the bone density of older women in this trial"  # 12 words
    n = words // 12
    return " ".join(f"{sentence} {i}." for i in range(n))


def test_an_abstract_of_300_words_is_one_chunk_by_default() -> None:
    s = Settings()
    text = _abstract(300)
    doc = Document(
        doc_id="d", title="Bone density", source=SourceRef(path="x.jsonl", kind="jsonl"),
        passages=(Passage(text=text, section="text"),),
    )
    chunks = chunk_document(doc, s.chunk_words, s.chunk_chars)
    assert len(chunks) == 1 and chunks[0].text == text
    # the 120-word chunks of before split it in three (the dense list then saw thirds of an abstract)
    assert len(chunk_document(doc, 120)) == 3


def test_the_title_is_embedded_and_bm25_indexed_by_default(tmp_path: Path, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    rows = [
        {"id": "a", "title": "Kangaroo habitats", "text": "One about grass. Two about rain."},
        {"id": "b", "title": "Desert rainfall", "text": "Rain rarely falls here. The sand is hot."},
    ]
    (corpus / "docs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index")
    embedder = Recording(fake_embedder)
    build_index([corpus], settings, embedder)
    assert "Kangaroo habitats\nOne about grass. Two about rain." in embedder.seen
    searcher = open_searcher(settings, embedder)
    hit = searcher.search(Query(text="kangaroo", k=5)).hits[0]
    assert hit.chunk.doc_id == "a" and hit.lexical_score and hit.dense_score
    assert hit.chunk.text == "One about grass. Two about rain."  # the text shown stays the document's own
    manifest = searcher.data.manifest
    assert manifest.title_in_dense is True and manifest.title_in_lexical is True


def test_default_fusion_ranks_a_document_high_in_both_lists_first() -> None:
    s = Settings()
    dense = [(1, 0.9), (2, 0.8), (3, 0.7)]
    lexical = [(2, 12.0), (4, 11.0), (1, 2.0)]
    c = rank(
        dense, lexical, np.array([1, 2, 3, 4]), chunk_years=np.full(5, -1),
        fusion=s.fusion, weights=(s.dense_weight, s.lexical_weight), rrf_k=s.rrf_k,
    )
    assert int(c.ids[0]) == 2  # second in one list and first in the other beats first and third
