"""Serving caches: CachingEmbedder (each distinct text embedded once, bounded LRU, thread-safe, one inner
call per batch) and the highlight sentence-terms cache; open_searcher puts both around what it serves."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from insight_search.caching import CachingEmbedder, cached_sentence_terms
from insight_search.config import Settings
from insight_search.embedding import Embedder
from insight_search.highlight import sentence_terms
from insight_search.indexer import build_index
from insight_search.models import Query
from insight_search.search import open_searcher

from .conftest import SEED, FakeEmbedder


class Recording(FakeEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []
        self.threads: list[int] = []

    def embed_batch(self, texts):  # type: ignore[no-untyped-def]
        self.batches.append(list(texts))
        return super().embed_batch(texts)

    def limit_threads(self, threads: int) -> None:
        self.threads.append(threads)


def test_each_distinct_text_is_embedded_once_in_one_call() -> None:
    inner = Recording()
    cache = CachingEmbedder(inner, maxsize=100)
    first = cache.embed_batch(["care", "budget", "care"])
    assert inner.batches == [["care", "budget"]]
    assert np.array_equal(first, FakeEmbedder().embed_batch(["care", "budget", "care"]))
    second = cache.embed_batch(["budget", "shelter", "care", "shelter"])
    assert inner.batches[1:] == [["shelter"]]
    assert np.array_equal(second, FakeEmbedder().embed_batch(["budget", "shelter", "care", "shelter"]))
    cache.embed_batch(["care", "budget", "shelter"])
    assert len(inner.batches) == 2 and inner.texts_embedded == 3
    assert cache.embed_batch([]).shape == (0, inner.dimension)
    first[0] += 1.0  # what a caller does with its rows does not change the cache
    assert np.array_equal(cache.embed_batch(["care"]), FakeEmbedder().embed_batch(["care"]))


def test_the_cache_is_bounded_and_least_recently_used() -> None:
    inner = Recording()
    cache = CachingEmbedder(inner, maxsize=2)
    cache.embed_batch(["a", "b"])
    cache.embed_batch(["a"])  # "a" is now the most recent
    cache.embed_batch(["c"])  # evicts "b"
    assert len(cache) == 2
    cache.embed_batch(["a"])
    assert inner.batches[-1] == ["c"]
    cache.embed_batch(["b"])
    assert inner.batches[-1] == ["b"] and len(cache) == 2
    cache.embed_batch([f"t{i}" for i in range(5)])  # a batch bigger than the cache still answers in full
    assert len(cache) == 2
    with pytest.raises(ValueError):
        CachingEmbedder(inner, maxsize=0)


def test_concurrent_batches_get_their_own_vectors() -> None:
    cache = CachingEmbedder(FakeEmbedder(), maxsize=50)
    texts = [f"word{i} care" for i in range(80)]
    expected = FakeEmbedder().embed_batch(texts)
    errors: list[str] = []

    def work(seed: int) -> None:
        rng = np.random.default_rng(seed)
        for _ in range(40):
            picked = rng.choice(len(texts), 6).tolist()
            got = cache.embed_batch([texts[i] for i in picked])
            if not np.array_equal(got, expected[picked]):
                errors.append(f"thread {seed}")

    threads = [threading.Thread(target=work, args=(s,)) for s in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(cache) <= 50


def test_it_is_an_embedder_that_delegates() -> None:
    inner = Recording()
    cache = CachingEmbedder(inner)
    assert isinstance(cache, Embedder)
    assert (cache.model_id, cache.dimension, cache.backend) == ("fake-bow-64", 64, "fake")
    cache.limit_threads(1)
    assert inner.threads == [1]


def test_sentence_terms_are_cached_by_text() -> None:
    terms = cached_sentence_terms(maxsize=4)
    text = SEED.read_text(encoding="utf-8")[:2000]
    assert terms(text) == sentence_terms(text)
    assert terms(text) is terms(text)
    assert terms.cache_info().hits == 2 and terms.cache_info().maxsize == 4  # type: ignore[attr-defined]


def test_a_served_index_goes_through_the_caches(tmp_path: Path) -> None:
    """The serving layer (LiveSearcher) wraps the embedder once; the engine's open_searcher does not."""
    from insight_search.live import LiveSearcher

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "page.txt").write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index")
    build_index([corpus], settings, FakeEmbedder())
    inner = Recording()
    assert not isinstance(open_searcher(settings, Recording()).embedder, CachingEmbedder)
    searcher = LiveSearcher(settings, inner).searcher
    assert isinstance(searcher.embedder, CachingEmbedder) and searcher.sentence_terms is not None
    assert inner.threads == [settings.query_threads]
    queries = [Query("care system"), Query(" Monterrey "), Query("care system", k=3)]
    results = searcher.search_many(queries)
    assert inner.batches == [["care system", "Monterrey"]]  # one call for the whole batch
    assert [r.hits for r in searcher.search_many(queries)] == [r.hits for r in results]
    assert len(inner.batches) == 1
    assert searcher.search_many([]) == []


def test_model_calls_run_one_at_a_time() -> None:
    """Concurrent requests share one model: the calls on the inner embedder never overlap."""
    import time

    class Slow(Recording):
        def __init__(self) -> None:
            super().__init__()
            self.active = 0
            self.most = 0
            self.guard = threading.Lock()

        def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
            with self.guard:
                self.active += 1
                self.most = max(self.most, self.active)
            time.sleep(0.02)
            try:
                return super().embed_batch(texts)
            finally:
                with self.guard:
                    self.active -= 1

    inner = Slow()
    cache = CachingEmbedder(inner)
    threads = [threading.Thread(target=cache.embed_batch, args=([f"text {i}"],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert inner.most == 1 and len(cache) == 8
