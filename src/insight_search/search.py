"""Searcher: holds a loaded index and the embedder; hybrid search with filters, facets and highlights.

A query's filters select the allowed chunks first; the dense and lexical lists are ranked inside that set
(so a filter never silently returns fewer than k hits), then fused (RRF by default).
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from insight_search.config import Settings
from insight_search.embedding import Embedder
from insight_search.errors import BadInput
from insight_search.fusion import convex, rrf, top
from insight_search.lexical import tokenize
from insight_search.models import Chunk, Facets, Filters, Hit, Query, SearchResult
from insight_search.store import IndexData
from insight_search.text import fold, sentence_spans

logger = logging.getLogger(__name__)

UNKNOWN = "unknown"
SENTENCE_CACHE_SIZE = 50_000


@dataclass
class _Columns:
    """Per-chunk filter columns, built once at load."""

    years: np.ndarray  # int32, -1 when the chunk has no year
    values: dict[str, dict[str, np.ndarray]]  # field -> folded value -> chunk ids


def _build_columns(chunks: Sequence[Chunk]) -> _Columns:
    years = np.array([c.year if c.year is not None else -1 for c in chunks], dtype=np.int32)
    buckets: dict[str, dict[str, list[int]]] = {
        f: {} for f in ("country", "agency", "theme", "section", "kind", "doc")
    }
    for i, c in enumerate(chunks):
        themes = c.metadata.get("themes") or ([c.theme] if c.theme else [])
        for name, vals in (
            ("country", [c.country] if c.country else []),
            ("agency", c.agencies),
            ("theme", themes),
            ("section", [c.section]),
            ("kind", [c.source.kind]),
            ("doc", [c.doc_id]),
        ):
            for v in vals:
                buckets[name].setdefault(fold(str(v)), []).append(i)
    values = {f: {v: np.array(ids, dtype=np.int64) for v, ids in d.items()} for f, d in buckets.items()}
    return _Columns(years, values)


class Searcher:
    def __init__(self, data: IndexData, embedder: Embedder, settings: Settings | None = None) -> None:
        self.data = data
        self.embedder = embedder
        self.settings = settings or Settings()
        self.chunks = data.chunks
        self._columns = _build_columns(data.chunks)
        self._paths = np.array([fold(c.source.path) for c in data.chunks], dtype=object)
        self._folded: list[str] | None = None
        self._by_id: dict[str, int] | None = None
        # Cursors are signed with the configured secret, else a random one per process
        # (they then end with it).
        configured = self.settings.cursor_secret
        self.cursor_secret = (
            hashlib.sha256(configured.encode()).digest() if configured else secrets.token_bytes(32)
        )
        self._embed_query = lru_cache(maxsize=1024)(self._embed_one)
        self._sentence_cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    @property
    def folded_texts(self) -> list[str]:
        """Accent- and case-folded chunk texts (for mentions), built on first use."""
        if self._folded is None:
            self._folded = [fold(c.text) for c in self.chunks]
        return self._folded

    # ------------------------------------------------------------------ validation and filters

    def validate(self, query: Query) -> None:
        text = query.text.strip()
        if not text:
            raise BadInput("the query is empty")
        if len(text) > self.settings.max_query_chars:
            raise BadInput(
                f"the query is {len(text)} characters long; the limit is {self.settings.max_query_chars}"
            )
        if not 1 <= query.k <= self.settings.max_k:
            raise BadInput(f"k must be between 1 and {self.settings.max_k}, got {query.k}")
        if query.offset < 0:
            raise BadInput("offset must not be negative")
        f = query.filters
        for name in ("year", "year_from", "year_to"):
            value = getattr(f, name)
            if value is not None and not 1900 <= value <= 2100:
                raise BadInput(f"{name} must be a year between 1900 and 2100, got {value}")
        if f.year_from is not None and f.year_to is not None and f.year_from > f.year_to:
            raise BadInput(f"year_from ({f.year_from}) is after year_to ({f.year_to})")

    def allowed(self, filters: Filters) -> np.ndarray | None:
        """Ids of the chunks that pass ``filters``; None when nothing is filtered."""
        if filters.is_empty():
            return None
        n = len(self.chunks)
        mask = np.ones(n, dtype=bool)
        years = self._columns.years
        if filters.year is not None:
            mask &= years == filters.year
        if filters.year_from is not None:
            mask &= years >= filters.year_from
        if filters.year_to is not None:
            mask &= (years <= filters.year_to) & (years >= 0)
        for name, value in (
            ("country", filters.country),
            ("agency", filters.agency),
            ("theme", filters.theme),
            ("section", filters.section),
            ("doc", filters.doc_id),
        ):
            if value is not None:
                ids = self._columns.values[name].get(fold(value.strip()))
                sub = np.zeros(n, dtype=bool)
                if ids is not None:
                    sub[ids] = True
                mask &= sub
        if filters.source is not None:
            key = fold(filters.source.strip())
            ids = self._columns.values["kind"].get(key)
            sub = np.zeros(n, dtype=bool)
            if ids is not None:
                sub[ids] = True
            else:
                sub = np.array([key in p for p in self._paths], dtype=bool) if n else sub
            mask &= sub
        return np.flatnonzero(mask)

    # ------------------------------------------------------------------ search

    def _embed_one(self, text: str) -> np.ndarray:
        return self.embedder.embed_batch([text])[0]

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return (
            np.vstack([self._embed_query(t) for t in texts])
            if texts
            else np.zeros((0, self.embedder.dimension))
        )

    def search(self, query: Query) -> SearchResult:
        return self.search_many([query])[0]

    def search_many(self, queries: Sequence[Query]) -> list[SearchResult]:
        for q in queries:
            self.validate(q)
        vectors = self.embed_queries([q.text.strip() for q in queries])
        return [self._search_one(q, v) for q, v in zip(queries, vectors, strict=True)]

    def candidate_pool(
        self, query: Query, vector: np.ndarray | None = None
    ) -> tuple[list[tuple[int, float]], dict]:
        """Fused (chunk id, score) list, best first, over every candidate; plus per-id component scores."""
        s = self.settings
        text = query.text.strip()
        if vector is None:
            vector = self.embed_queries([text])[0]
        allowed = self.allowed(query.filters)
        depth = max(s.candidates, query.offset + query.k)
        dense = self.data.dense.search(vector[None, :], depth, allowed)[0]
        lexical, matching = self.data.lexical.search(text, depth, allowed)
        lists = [dense, lexical]
        weights = [s.dense_weight, s.lexical_weight]
        years = query_years(text)
        if years:
            # A year named in the query ("Trust Fund 2021") favours passages of that year: they form a third
            # ranked list, in the order the other two lists give them.
            first = rrf(lists, weights, k=s.rrf_k)
            in_year = [i for i, _ in top(first, len(first)) if self.chunks[i].year in years]
            lists.append([(i, 1.0) for i in in_year])
            weights.append(max(weights))
        if s.fusion == "convex":
            fused = convex(lists, weights)
        else:
            fused = rrf(lists, weights, k=s.rrf_k)
        for i in matching:  # every lexical match is a candidate, even below the fused depth
            fused.setdefault(int(i), 0.0)
        parts = {"dense": dict(dense), "lexical": dict(lexical), "matching": set(matching.tolist())}
        return top(fused, len(fused)), parts

    def matching_chunks(self, query: Query) -> list[int]:
        """Chunks that match ``query``, best first: they hold a query word, or are close in meaning
        (cosine at least ``settings.match_threshold``). Summaries and timelines draw from these."""
        ranked, parts = self.candidate_pool(query)
        lexical, dense = parts["matching"], parts["dense"]
        threshold = self.settings.match_threshold
        return [i for i, _ in ranked if i in lexical or dense.get(i, -1.0) >= threshold]

    def embed_sentences(self, texts: Sequence[str]) -> np.ndarray:
        """Sentence vectors, remembered across requests (summaries reuse the same evidence often)."""
        if not texts:
            return np.zeros((0, self.embedder.dimension), dtype=np.float32)
        with self._lock:
            known = {t: self._sentence_cache[t] for t in texts if t in self._sentence_cache}
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            fresh = dict(zip(missing, self.embedder.embed_batch(missing), strict=True))
            known.update(fresh)
            with self._lock:
                for t, v in fresh.items():
                    if len(self._sentence_cache) >= SENTENCE_CACHE_SIZE:
                        self._sentence_cache.pop(next(iter(self._sentence_cache)))
                    self._sentence_cache[t] = v
        return np.vstack([known[t] for t in texts])

    def chunk_by_id(self, chunk_id: str) -> Chunk | None:
        if self._by_id is None:
            self._by_id = {c.chunk_id: i for i, c in enumerate(self.chunks)}
        i = self._by_id.get(chunk_id)
        return None if i is None else self.chunks[i]

    def chunks_of_documents(self, doc_ids: set[str]) -> list[Chunk]:
        by_doc = self._columns.values["doc"]
        return [self.chunks[i] for d in doc_ids for i in by_doc.get(fold(d), [])]

    def _search_one(self, query: Query, vector: np.ndarray) -> SearchResult:
        ranked, parts = self.candidate_pool(query, vector)
        page = ranked[query.offset : query.offset + query.k]
        terms = set(tokenize(query.text))
        hits = tuple(
            Hit(
                rank=query.offset + r + 1,
                score=score,
                chunk=self.chunks[i],
                highlight=highlight(self.chunks[i].text, terms),
                dense_score=parts["dense"].get(i),
                lexical_score=parts["lexical"].get(i),
            )
            for r, (i, score) in enumerate(page)
        )
        facets = self.facets([i for i, _ in ranked])
        nxt = query.offset + query.k if query.offset + query.k < len(ranked) else None
        return SearchResult(query=query.text, total=len(ranked), hits=hits, facets=facets, next_offset=nxt)

    def facets(self, ids: Sequence[int] | None = None) -> Facets:
        """Counts by year, country, agency and theme over ``ids`` (all chunks when None)."""
        chunks = self.chunks if ids is None else [self.chunks[i] for i in ids]
        years: Counter[str] = Counter()
        countries: Counter[str] = Counter()
        agencies: Counter[str] = Counter()
        themes: Counter[str] = Counter()
        for c in chunks:
            years[str(c.year) if c.year is not None else UNKNOWN] += 1
            countries[c.country or UNKNOWN] += 1
            agencies.update(set(c.agencies) or {UNKNOWN})
            themes.update(set(c.metadata.get("themes") or ([c.theme] if c.theme else [UNKNOWN])))
        return Facets(
            years=dict(sorted(years.items())),
            countries=dict(countries.most_common()),
            agencies=dict(agencies.most_common()),
            themes=dict(themes.most_common()),
        )


_YEAR = re.compile(r"\b(19[5-9]\d|20\d\d)\b")


def query_years(text: str) -> set[int]:
    return {int(y) for y in _YEAR.findall(text)}


def highlight(text: str, terms: set[str]) -> str:
    """The sentence of ``text`` holding the most distinct query terms (the first sentence if none does)."""
    spans = sentence_spans(text)
    if not spans:
        return text
    best, best_score = spans[0], 0
    for s, e in spans:
        score = len(terms.intersection(tokenize(text[s:e])))
        if score > best_score:
            best, best_score = (s, e), score
    return text[best[0] : best[1]]


def open_searcher(settings: Settings, embedder: Embedder | None = None) -> Searcher:
    """Load the embedder and the current index, refusing an index built with another model."""
    from insight_search import store
    from insight_search.embedding import SentenceTransformerEmbedder

    if embedder is None:
        embedder = SentenceTransformerEmbedder(
            settings.model, batch_size=settings.embed_batch_size, max_seq_length=settings.max_seq_length
        )
    data = store.load(settings.index_dir, expected_model_id=embedder.model_id)
    return Searcher(data, embedder, settings)
