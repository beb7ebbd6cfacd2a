"""Serving-side caches: query and sentence vectors by text, and highlight sentence terms by chunk text.

Both are keyed by text, not by row, so they stay valid when a rebuilt index is swapped in. The engine
(``Searcher``, summaries) holds no cache of its own; :func:`insight_search.search.open_searcher` puts these
around what it opens for serving.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np

from insight_search.embedding import Embedder
from insight_search.highlight import SentenceTerms, sentence_terms

VECTOR_CACHE_SIZE = 50_000  # query and sentence vectors (about 1.5 KB each at 384 dimensions)
# A longer text (a pasted paragraph: a query may be as long as a request body) is remembered by a digest, so
# the cache holds at most this many characters a vector.
KEY_MAX_CHARS = 1_000
HIGHLIGHT_CACHE_SIZE = 20_000  # chunk texts (Punkt + stemming cost about 0.6 ms a chunk)


def _key(text: str) -> str | bytes:
    if len(text) <= KEY_MAX_CHARS:
        return text
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


class CachingEmbedder:
    """An :class:`Embedder` that remembers the vectors of the last ``maxsize`` texts (LRU, thread-safe).

    A batch makes one ``embed_batch`` call on ``inner`` for all its texts not seen yet (each once). The calls
    on ``inner`` run one at a time: concurrent requests share the CPU anyway, and each concurrent model call
    would hold its own activations (a soak with 8 clients grew the server by gigabytes without this)."""

    def __init__(self, inner: Embedder, maxsize: int = VECTOR_CACHE_SIZE) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, got {maxsize}")
        self.inner = inner
        self.maxsize = maxsize
        self._vectors: OrderedDict[str | bytes, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._model = threading.Lock()  # one inference at a time

    # What the Embedder protocol declares, read from ``inner`` (it never changes).
    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    @property
    def backend(self) -> str:
        return self.inner.backend

    def limit_threads(self, threads: int) -> None:
        self.inner.limit_threads(threads)

    def __len__(self) -> int:
        return len(self._vectors)

    def clear(self) -> None:
        with self._lock:
            self._vectors.clear()

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        keys = [_key(t) for t in texts]
        known: dict[str | bytes, np.ndarray] = {}
        with self._lock:
            for k in keys:
                v = self._vectors.get(k)
                if v is not None:
                    self._vectors.move_to_end(k)
                    known[k] = v
        missing = dict.fromkeys(k for k in keys if k not in known)
        if missing:
            text_of = dict(zip(keys, texts, strict=True))
            with self._model:
                vectors = self.inner.embed_batch([text_of[k] for k in missing])
            fresh = {k: v.copy() for k, v in zip(missing, vectors, strict=True)}
            known.update(fresh)
            with self._lock:
                for k, v in fresh.items():
                    self._vectors[k] = v
                    self._vectors.move_to_end(k)
                while len(self._vectors) > self.maxsize:
                    self._vectors.popitem(last=False)
        return np.vstack([known[k] for k in keys])


def cached_sentence_terms(maxsize: int = HIGHLIGHT_CACHE_SIZE) -> Callable[[str], SentenceTerms]:
    """:func:`highlight.sentence_terms` remembered for the last ``maxsize`` chunk texts (thread-safe)."""
    return lru_cache(maxsize=maxsize)(sentence_terms)
