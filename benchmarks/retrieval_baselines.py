"""The plain baselines of issue 14, outside the product: bm25s, all-MiniLM-L6-v2 on whole documents (exact inner
product) and reciprocal rank fusion (k=60) of the two. Each returns, per query id, document ids best first.

- bm25s: title + text, Porter stems (PyStemmer "english"), bm25s's English stop words, k1 0.9 and b 0.4 (the
  Anserini/BEIR configuration ``../shared/README.md`` quotes its bm25s figures with).
- MiniLM: the product's embedder (same model, backend and threads), one vector per document from its title and
  text (``document_text``; the model reads the first ``max_seq_length`` tokens), queries likewise, exact inner
  product over all documents (the vectors are normalised: cosine).
- RRF: ``sum 1 / (60 + rank)`` over both lists, each ``DEPTH`` deep.

The document vectors go through an :class:`EmbeddingCache` file, so a second run embeds nothing again.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

import retrieval_data as rd
from insight_search.embedding import Embedder, EmbeddingCache, embed_with_cache
from insight_search.sources.common import clean_whitespace

DEPTH = 1000  # depth of each list fused by RRF (and of the lists themselves)
RRF_K = 60

Run = dict[str, list[str]]  # query id -> document ids, best first


def document_text(doc: rd.Doc) -> str:
    """Title and text on two lines, as the product writes a titled chunk (``indexer.indexed_text``)."""
    title, text = clean_whitespace(doc.title), clean_whitespace(doc.text)
    return f"{title}\n{text}" if title and not text.startswith(title) else text


class CachedEmbedder:
    """An embedder whose vectors go through an :class:`EmbeddingCache` file (the same model, backend and
    threads as ``inner``): query vectors are embedded once across runs of the benchmarks."""

    def __init__(self, inner: Embedder, cache_path: Path) -> None:
        self.inner, self.cache_path = inner, cache_path
        self.model_id, self.dimension, self.backend = inner.model_id, inner.dimension, inner.backend

    def limit_threads(self, threads: int) -> None:
        self.inner.limit_threads(threads)

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        cache = EmbeddingCache(self.cache_path)
        try:
            return embed_with_cache(self.inner, list(texts), cache)[0]
        finally:
            cache.close()


def _drop(ranked: list[str], qid: str, drop_self: bool) -> list[str]:
    return [d for d in ranked if d != qid] if drop_self else ranked


def bm25s_run(collection: rd.Collection, queries: Sequence[tuple[str, str]], depth: int = DEPTH) -> Run:
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    docs = collection.documents
    corpus = bm25s.tokenize(
        [f"{d.title} {d.text}".strip() for d in docs], stopwords="en", stemmer=stemmer, show_progress=False
    )
    retriever = bm25s.BM25(k1=0.9, b=0.4)
    retriever.index(corpus, show_progress=False)
    tokens = bm25s.tokenize([t for _, t in queries], stopwords="en", stemmer=stemmer, show_progress=False)
    n = min(depth + 1, len(docs))
    rows, _scores = retriever.retrieve(tokens, k=n, show_progress=False, n_threads=1)
    drop = collection.ignore_identical_ids
    return {
        qid: _drop([docs[int(i)].doc_id for i in row], qid, drop)[:depth]
        for (qid, _), row in zip(queries, rows, strict=True)
    }


def dense_run(
    collection: rd.Collection,
    queries: Sequence[tuple[str, str]],
    embedder: Embedder,
    cache_path: Path,
    depth: int = DEPTH,
    query_embedder: Embedder | None = None,
) -> Run:
    """``embedder`` embeds the documents (through the cache file), ``query_embedder`` (default: the same)
    the queries."""
    docs = collection.documents
    cache = EmbeddingCache(cache_path)
    try:
        matrix, _ = embed_with_cache(embedder, [document_text(d) for d in docs], cache)
    finally:
        cache.close()
    vectors = (query_embedder or embedder).embed_batch([t for _, t in queries])
    scores = np.asarray(vectors, dtype=np.float32) @ matrix.T
    n = min(depth + 1, len(docs))
    drop = collection.ignore_identical_ids
    out: Run = {}
    for (qid, _), row in zip(queries, scores, strict=True):
        top = np.argpartition(-row, n - 1)[:n]
        top = top[np.lexsort((top, -row[top]))]
        out[qid] = _drop([docs[int(i)].doc_id for i in top], qid, drop)[:depth]
    return out


def rrf_run(lists: Sequence[Run], k: int = RRF_K, depth: int = DEPTH) -> Run:
    out: Run = {}
    for qid in lists[0]:
        fused: dict[str, float] = {}
        for run in lists:
            for rank, doc in enumerate(run.get(qid, []), start=1):
                fused[doc] = fused.get(doc, 0.0) + 1.0 / (k + rank)
        out[qid] = [d for d, _ in sorted(fused.items(), key=lambda x: (-x[1], x[0]))][:depth]
    return out
