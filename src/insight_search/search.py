"""Searcher: holds a loaded index and the embedder; hybrid search with filters, facets and highlights.

A query's filters select the allowed chunks first; the dense and lexical lists are ranked inside that set
(so a filter never silently returns fewer than k hits), then fused (RRF by default).
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import re
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from insight_search.config import Settings
from insight_search.embedding import Embedder
from insight_search.errors import BadInput
from insight_search.fusion import Ranked, convex, rrf, top
from insight_search.lexical import tokenize
from insight_search.models import Chunk, Facets, Filters, Hit, Query, SearchResult
from insight_search.store import IndexData
from insight_search.text import fold, sentence_spans

logger = logging.getLogger(__name__)

UNKNOWN = "unknown"
SENTENCE_CACHE_SIZE = 50_000
HIGHLIGHT_CACHE_SIZE = 20_000
DOCUMENT_DEPTH_FACTOR = 4  # chunks searched per wanted document when hits are grouped by document


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
        for name, vals in (
            ("country", [c.country] if c.country else []),
            ("agency", c.agencies),
            ("theme", c.themes),
            ("section", [c.section]),
            ("kind", [c.source.kind]),
            ("doc", [c.doc_id]),
        ):
            for v in vals:
                buckets[name].setdefault(fold(str(v)), []).append(i)
    values = {f: {v: np.array(ids, dtype=np.int64) for v, ids in d.items()} for f, d in buckets.items()}
    return _Columns(years, values)


@dataclass
class _FacetColumn:
    """One facet as a sparse chunk x value table (CSR): each chunk's distinct values, counted with numpy."""

    names: list[str]
    indptr: np.ndarray  # chunk i holds values indices[indptr[i]:indptr[i + 1]]
    indices: np.ndarray

    single: np.ndarray | None = None  # when every chunk holds exactly one value: its code (a faster path)

    @classmethod
    def of(cls, values_per_chunk: Sequence[Sequence[str]]) -> _FacetColumn:
        codes: dict[str, int] = {}
        indices: list[int] = []
        indptr = [0]
        for values in values_per_chunk:
            indices.extend(codes.setdefault(v, len(codes)) for v in dict.fromkeys(values))
            indptr.append(len(indices))
        starts = np.array(indptr, dtype=np.int64)
        flat = np.array(indices, dtype=np.int32)
        single = flat if len(flat) == len(values_per_chunk) and np.all(np.diff(starts) == 1) else None
        return cls(list(codes), starts, flat, single)

    def counts(self, rows: np.ndarray) -> dict[str, int]:
        """Value -> number of ``rows`` holding it; most frequent first, ties in index order of the values."""
        if len(rows) == 0:
            return {}
        if self.single is not None:
            codes = self.single[rows]
        else:
            starts = self.indptr[rows]
            lengths = self.indptr[rows + 1] - starts
            total = int(lengths.sum())
            offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
            codes = self.indices[offsets]
        counts = np.bincount(codes, minlength=len(self.names))
        present = np.flatnonzero(counts)
        order = present[np.argsort(-counts[present], kind="stable")]
        return {self.names[c]: int(counts[c]) for c in order}


def _build_facet_columns(chunks: Sequence[Chunk]) -> tuple[_FacetColumn, ...]:
    return (
        _FacetColumn.of([[str(c.year) if c.year is not None else UNKNOWN] for c in chunks]),
        _FacetColumn.of([[c.country or UNKNOWN] for c in chunks]),
        _FacetColumn.of([list(c.agencies) or [UNKNOWN] for c in chunks]),
        _FacetColumn.of([list(c.themes) or [UNKNOWN] for c in chunks]),
    )


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
        self._ordinals: np.ndarray | None = None
        self._facet_columns: tuple[_FacetColumn, ...] | None = None
        # Cursors are signed with the configured secret, else a random one per process
        # (they then end with it).
        configured = self.settings.cursor_secret
        self.cursor_secret = (
            hashlib.sha256(configured.encode()).digest() if configured else secrets.token_bytes(32)
        )
        self._embed_query = lru_cache(maxsize=1024)(self._embed_one)
        # Sentence spans and terms of recently shown chunks (Punkt + stemming cost about 0.6 ms a chunk).
        self._sentence_terms = lru_cache(maxsize=HIGHLIGHT_CACHE_SIZE)(self._chunk_sentence_terms)
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

    def _ranked(self, query: Query, vector: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, dict]:
        """Every candidate's chunk id and fused score, best first (numpy), and the component lists."""
        s = self.settings
        text = query.text.strip()
        if vector is None:
            vector = self.embed_queries([text])[0]
        allowed = self.allowed(query.filters)
        depth = max(s.candidates, query.offset + query.k)
        grouped = query.group_by_document
        # Grouped by document, a list needs more chunks to hold ``depth`` distinct documents.
        chunk_depth = depth * DOCUMENT_DEPTH_FACTOR if grouped else depth
        dense = self.data.dense.search(vector[None, :], chunk_depth, allowed)[0]
        lexical, matching = self.data.lexical.search(text, chunk_depth, allowed)
        if grouped:
            dense, lexical, matching = self._by_document(dense, lexical, matching, depth)
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
        ids = np.fromiter(fused.keys(), dtype=np.int64, count=len(fused))
        scores = np.fromiter(fused.values(), dtype=np.float64, count=len(fused))
        order = np.lexsort((ids, -scores))  # best first, ties by id (as fusion.top)
        ids, scores = ids[order], scores[order]
        # Every lexical match is a candidate, even below the fused depth: with score 0, after the fused ones
        # (merged by id with fused entries that scored 0). ``matching`` comes sorted; one pass, no sort of it.
        seen = np.zeros(len(self.chunks), dtype=bool)
        seen[ids] = True
        extra = np.asarray(matching, dtype=np.int64)
        extra = extra[~seen[extra]]
        if len(extra):
            if len(extra) > 1 and np.any(extra[1:] < extra[:-1]):
                extra = np.sort(extra)
            positive, zero = scores > 0, scores == 0
            tied = np.sort(np.concatenate([ids[zero], extra])) if zero.any() else extra
            negative = scores < 0
            ids = np.concatenate([ids[positive], tied, ids[negative]])
            scores = np.concatenate([scores[positive], np.zeros(len(tied)), scores[negative]])
        parts = {"dense": dict(dense), "lexical": dict(lexical), "matching": matching}
        return ids, scores, parts

    def candidate_pool(
        self, query: Query, vector: np.ndarray | None = None
    ) -> tuple[list[tuple[int, float]], dict]:
        """Fused (chunk id, score) list, best first, over every candidate; plus per-id component scores."""
        ids, scores, parts = self._ranked(query, vector)
        parts["matching"] = set(parts["matching"].tolist())
        return list(zip(ids.tolist(), scores.tolist(), strict=True)), parts

    def _by_document(
        self, dense: Ranked, lexical: Ranked, matching: np.ndarray, depth: int
    ) -> tuple[Ranked, Ranked, np.ndarray]:
        """Each list cut to one entry per document (its best chunk, so the document scores the max over its
        chunks), at most ``depth`` documents. A document is named by one representative chunk in every
        list (its best dense chunk, else its best lexical chunk), so that fusion adds up its ranks."""
        representative: dict[str, int] = {}
        for i, _ in itertools.chain(dense, lexical):
            representative.setdefault(self.chunks[i].doc_id, i)

        def collapse(ranked: Ranked) -> list[tuple[int, float]]:
            seen: set[str] = set()
            out: list[tuple[int, float]] = []
            for i, score in ranked:
                doc = self.chunks[i].doc_id
                if doc not in seen:
                    seen.add(doc)
                    out.append((representative[doc], score))
                    if len(out) == depth:
                        break
            return out

        # Every matching document stays a candidate, named by its representative or its first matching chunk.
        ordinals = self.document_ordinals
        _, first = np.unique(ordinals[matching], return_index=True)
        firsts = np.asarray(matching, dtype=np.int64)[first]
        rep_by_ordinal = {int(ordinals[i]): i for i in representative.values()}
        named = [rep_by_ordinal.get(int(o), int(i)) for i, o in zip(firsts, ordinals[firsts], strict=True)]
        return collapse(dense), collapse(lexical), np.array(sorted(named), dtype=np.int64)

    @property
    def document_ordinals(self) -> np.ndarray:
        """For each chunk, the ordinal of its document (chunks of one document share it)."""
        if self._ordinals is None:
            ordinal: dict[str, int] = {}
            self._ordinals = np.array(
                [ordinal.setdefault(c.doc_id, len(ordinal)) for c in self.chunks], dtype=np.int64
            )
        return self._ordinals

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

    def _chunk_sentence_terms(self, i: int) -> tuple[tuple[int, int, frozenset[str]], ...]:
        return sentence_terms(self.chunks[i].text)

    def _search_one(self, query: Query, vector: np.ndarray) -> SearchResult:
        ids, scores, parts = self._ranked(query, vector)
        end = query.offset + query.k
        page = list(zip(ids[query.offset : end].tolist(), scores[query.offset : end].tolist(), strict=True))
        terms = set(tokenize(query.text))
        hits = tuple(
            Hit(
                rank=query.offset + r + 1,
                score=score,
                chunk=self.chunks[i],
                highlight=highlight(self.chunks[i].text, terms, self._sentence_terms(i)),
                dense_score=parts["dense"].get(i),
                lexical_score=parts["lexical"].get(i),
            )
            for r, (i, score) in enumerate(page)
        )
        facets = self.facets(ids)
        nxt = query.offset + query.k if query.offset + query.k < len(ids) else None
        return SearchResult(query=query.text, total=len(ids), hits=hits, facets=facets, next_offset=nxt)

    def facets(self, ids: Sequence[int] | np.ndarray | None = None) -> Facets:
        """Counts by year, country, agency and theme over ``ids`` (all chunks when None)."""
        if self._facet_columns is None:
            self._facet_columns = _build_facet_columns(self.chunks)
        rows = np.arange(len(self.chunks)) if ids is None else np.asarray(ids, dtype=np.int64)
        years, countries, agencies, themes = (col.counts(rows) for col in self._facet_columns)
        return Facets(
            years=dict(sorted(years.items())),
            countries=countries,
            agencies=agencies,
            themes=themes,
        )


_YEAR = re.compile(r"\b(19[5-9]\d|20\d\d)\b")


def query_years(text: str) -> set[int]:
    return {int(y) for y in _YEAR.findall(text)}


def sentence_terms(text: str) -> tuple[tuple[int, int, frozenset[str]], ...]:
    """Each sentence of ``text``: its span and its distinct search terms."""
    return tuple((s, e, frozenset(tokenize(text[s:e]))) for s, e in sentence_spans(text))


def highlight(
    text: str, terms: set[str], sentences: tuple[tuple[int, int, frozenset[str]], ...] | None = None
) -> str:
    """The sentence of ``text`` holding the most distinct query terms (the first sentence if none does).
    ``sentences``: :func:`sentence_terms` of ``text`` when already known."""
    spans = sentence_terms(text) if sentences is None else sentences
    if not spans:
        return text
    best, best_score = spans[0], 0
    for sentence in spans:
        score = len(terms.intersection(sentence[2]))
        if score > best_score:
            best, best_score = sentence, score
    return text[best[0] : best[1]]


def open_searcher(settings: Settings, embedder: Embedder | None = None) -> Searcher:
    """Load the embedder and the current index, refusing an index built with another model."""
    from insight_search import store
    from insight_search.embedding import make_embedder

    if embedder is None:
        embedder = make_embedder(settings)
    if settings.query_threads > 0:
        # A query is a few tokens: one thread embeds it as fast as two, and on a busy machine far more
        # predictably (measured on the gender index at load 6: p50 26 ms with 1 torch thread, 768 ms with 2).
        limit = getattr(embedder, "limit_threads", None)
        if limit is not None:
            limit(settings.query_threads)
    data = store.load(settings.index_dir, expected_model_id=embedder.model_id)
    return Searcher(data, embedder, settings)
