"""``Settings.title_in_lexical`` / ``title_in_dense``: chunks are BM25-indexed (and optionally embedded) after
their document's title, while the text shown stays the chunk's own."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from insight_search.config import Settings
from insight_search.indexer import build_index, indexed_text
from insight_search.models import Query
from insight_search.search import open_searcher


def _corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    records = [
        {"id": "a", "title": "Kangaroo habitats", "text": "One about grass. Two about rain."},
        {"id": "b", "title": "Desert rainfall", "text": "Rain rarely falls here. The sand is hot."},
    ]
    (corpus / "docs.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return corpus


class Recording:
    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner = inner
        self.model_id, self.dimension, self.backend = inner.model_id, inner.dimension, inner.backend
        self.limit_threads = inner.limit_threads
        self.seen: list[str] = []

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        self.seen.extend(texts)
        return self.inner.embed_batch(texts)


def test_title_for_bm25_only(tmp_path: Path, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    # (the default until issue 14; now the title is embedded too: tests/test_retrieval_defaults.py)
    settings = Settings(index_dir=tmp_path / "index", title_in_dense=False)
    embedder = Recording(fake_embedder)
    build_index([_corpus(tmp_path)], settings, embedder)
    searcher = open_searcher(settings, embedder)
    hits = searcher.search(Query(text="kangaroo", k=5)).hits
    assert hits[0].chunk.doc_id == "a" and hits[0].lexical_score  # found through its title
    assert "Kangaroo" not in hits[0].chunk.text  # the shown text is the chunk alone
    assert not any("Kangaroo" in t for t in embedder.seen)  # embedded without the title
    assert searcher.data.manifest.title_in_lexical is True
    assert searcher.data.manifest.title_in_dense is False


def test_title_in_dense_and_off(tmp_path: Path, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    embedder = Recording(fake_embedder)
    settings = Settings(index_dir=tmp_path / "i1", title_in_dense=True, title_in_lexical=False)
    build_index([_corpus(tmp_path)], settings, embedder)
    assert any(t.startswith("Kangaroo habitats\n") for t in embedder.seen)
    searcher = open_searcher(settings, embedder)
    # found by meaning alone (the title is embedded, not BM25-indexed): "kangaroo" alone is too far
    # (cosine 0.32) to match since issue 11, so the query names both title words
    assert not searcher.search(Query(text="kangaroo habitats", k=5)).hits[0].lexical_score
    chunk = searcher.chunks[0]
    assert indexed_text(chunk, False) == chunk.text
    assert indexed_text(chunk, True) == f"{chunk.title}\n{chunk.text}"
    starts_with_title = replace(chunk, text=f"{chunk.title} and more")
    assert indexed_text(starts_with_title, True) == starts_with_title.text
