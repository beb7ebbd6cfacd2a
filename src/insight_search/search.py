"""Searcher: holds a loaded index and the embedder; hybrid search with filters, facets and highlights.

A query's filters select the allowed chunks first (``filtering``); the dense and lexical lists are ranked
inside that set (so a filter never silently returns fewer than k hits), then fused (``ranking``). A search
lists, counts and facets only the chunks that match the query (:meth:`Searcher.matching`). Facets
(``facets``) and highlights (``highlight``) are pure functions over what is loaded here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from functools import cached_property

import numpy as np

from insight_search.config import Settings
from insight_search.embedding import Embedder
from insight_search.facets import FacetTable
from insight_search.filtering import FilterColumns, allowed_rows
from insight_search.grouping import DocumentHit, PassageMatch, next_best_passages
from insight_search.highlight import SentenceTerms, highlight
from insight_search.lexical import tokenize
from insight_search.models import Chunk, Facets, Filters, Hit, Query, SearchResult
from insight_search.ranking import DOCUMENT_DEPTH_FACTOR, Candidates, Ranked, by_document, query_years, rank
from insight_search.store import IndexData
from insight_search.text import fold

logger = logging.getLogger(__name__)


class Searcher:
    """One loaded index and the embedder of its model. ``sentence_terms``: how a hit's sentences and their
    terms are found for its highlight (a cache of :func:`highlight.sentence_terms`, see ``caching``).
    ``multilingual``: the query embedder of the index's multilingual lane, if it has one (True: the
    configured one, ``multilingual.lane_embedder``; False: search without the lane)."""

    def __init__(
        self,
        data: IndexData,
        embedder: Embedder,
        settings: Settings | None = None,
        *,
        sentence_terms: Callable[[str], SentenceTerms] | None = None,
        multilingual: Embedder | bool = True,
    ) -> None:
        self.data = data
        self.embedder = embedder
        self.settings = settings or Settings()
        self.chunks = data.chunks
        self.columns = FilterColumns.of(data.chunks)
        self.sentence_terms = sentence_terms
        self.lane = self._lane_embedder(multilingual)

    def _lane_embedder(self, multilingual: Embedder | bool) -> Embedder | None:
        """The lane's query embedder: None without a lane (or when told), or when the configured lane model
        is not the one that built the index (logged: the search goes on without the lane)."""
        built = self.data.manifest.multilingual_model_id
        if self.data.multilingual is None or not self.data.multilingual.size or multilingual is False:
            return None  # no lane, or an empty one (nothing loads the lane's model)
        if multilingual is True:
            from insight_search.multilingual import lane_embedder

            lane = lane_embedder(self.settings)
        else:
            lane = multilingual
        if lane.model_id != built:
            logger.warning(
                "the index's multilingual lane was built with %r, the configured lane model is %r: "
                "searching without the lane (rebuild the index to use it)",
                built,
                lane.model_id,
            )
            return None
        return lane

    @cached_property
    def folded_texts(self) -> list[str]:
        """Accent- and case-folded chunk texts (for mentions), built on first use."""
        return [fold(c.text) for c in self.chunks]

    @cached_property
    def facet_table(self) -> FacetTable:
        return FacetTable.of(self.chunks)

    @cached_property
    def document_ordinals(self) -> np.ndarray:
        """For each chunk, the ordinal of its document (chunks of one document share it)."""
        ordinal: dict[str, int] = {}
        return np.array([ordinal.setdefault(c.doc_id, len(ordinal)) for c in self.chunks], dtype=np.int64)

    @cached_property
    def _rows_by_id(self) -> dict[str, int]:
        return {c.chunk_id: i for i, c in enumerate(self.chunks)}

    # ------------------------------------------------------------------ validation and filters

    def allowed(self, filters: Filters) -> np.ndarray | None:
        """Rows of the chunks that pass ``filters``; None when nothing is filtered."""
        return allowed_rows(self.columns, filters)

    # ------------------------------------------------------------------ search

    def search(self, query: Query) -> SearchResult:
        return self.search_many([query])[0]

    def search_many(self, queries: Sequence[Query]) -> list[SearchResult]:
        """Each query's page of hits among its matches (:meth:`matching`; ``total`` counts them, the facets
        count them, none for a query that matches nothing); the query texts are embedded in one batch."""
        if not queries:
            return []
        texts = [q.text.strip() for q in queries]
        vectors = self.embedder.embed_batch(texts)
        lanes: list[np.ndarray | None] = [None] * len(queries)
        if self.lane is not None:  # the lane's query vectors of those that may search it, in one batch
            # (before filters, which ``candidates`` applies: one spare vector if they leave no lane row)
            wanted = [i for i, text in enumerate(texts) if self._lane_scope(text, None)[0]]
            for i, lane_vector in zip(wanted, self.lane.embed_batch([texts[i] for i in wanted]), strict=True):
                lanes[i] = lane_vector
        pairs = zip(queries, vectors, lanes, strict=True)
        return [self._result(q, self.candidates(q, v, lane_vector=lv), v) for q, v, lv in pairs]

    def candidates(
        self, query: Query, vector: np.ndarray | None = None, *, lane_vector: np.ndarray | None = None
    ) -> Candidates:
        """Every candidate of ``query`` (not validated here), best first, the matches among them marked
        (``Candidates.matching``); ``vector``: its embedding (``lane_vector``: by the multilingual lane).
        Ranking is over the top lists; a match below them follows with score 0."""
        s = self.settings
        text = query.text.strip()
        if vector is None:
            vector = self.embedder.embed_batch([text])[0]
        allowed = self.allowed(query.filters)
        depth = max(s.candidates, query.offset + query.k)
        grouped = query.group_by_document
        # Grouped by document, a list needs more chunks to hold ``depth`` distinct documents.
        chunk_depth = depth * DOCUMENT_DEPTH_FACTOR if grouped else depth
        dense = self.data.dense.search(vector[None, :], chunk_depth, allowed)[0]
        lexical, holding = self.data.lexical.search(text, chunk_depth, allowed)
        matching = np.union1d(holding, self._close(vector, dense, chunk_depth, allowed))
        lane: Sequence[tuple[int, float]] = []
        searched, scope, weight = self._lane_scope(text, allowed)
        if searched and self.lane is not None and self.data.multilingual is not None:
            if lane_vector is None:
                lane_vector = self.lane.embed_batch([text])[0]
            lane = self.data.multilingual.search(lane_vector, chunk_depth, scope)
            threshold = s.multilingual_match_threshold
            matching = np.union1d(matching, np.array([i for i, c in lane if c >= threshold], dtype=np.int64))
        if grouped:
            lane = _lane_by_document(lane, dense, lexical, matching, self.document_ordinals, depth)
            dense, lexical, matching = by_document(dense, lexical, matching, self.document_ordinals, depth)
        return self._rank(dense, lexical, matching, text, ((lane, weight),) if lane else ())

    def _lane_scope(self, text: str, allowed: np.ndarray | None) -> tuple[bool, np.ndarray | None, float]:
        """Whether the query searches the lane, the rows its lane list may hold (None: all;
        ``multilingual.lane_scope``: an English question reaches passages not in English only), and the
        list's weight in the fusion (``multilingual_english_weight`` for an English question)."""
        s = self.settings
        if self.lane is None:
            return False, None, 0.0
        from insight_search.multilingual import lane_scope

        scope, english = lane_scope(text, self.foreign_rows, allowed)
        weight = s.multilingual_english_weight if english else s.multilingual_weight
        return scope is None or len(scope) > 0, scope, weight

    @cached_property
    def foreign_rows(self) -> np.ndarray:
        """Rows of the chunks in a language other than English (ascending)."""
        rows = [r for language, r in self.columns.values["language"].items() if language != "en"]
        return np.sort(np.concatenate([np.zeros(0, np.int64), *rows]))

    def _rank(
        self,
        dense: Ranked,
        lexical: Ranked,
        matching: np.ndarray,
        text: str,
        extra: Sequence[tuple[Ranked, float]] = (),
    ) -> Candidates:
        """The lists fused with the settings' fusion and weights, and the query's years (``ranking.rank``)."""
        s = self.settings
        return rank(
            dense,
            lexical,
            matching,
            chunk_years=self.columns.years,
            chunk_year_ends=self.columns.year_ends,
            years=query_years(text),
            fusion=s.fusion,
            weights=(s.dense_weight, s.lexical_weight),
            rrf_k=s.rrf_k,
            extra=extra,
        )

    def _close(
        self, vector: np.ndarray, dense: Sequence[tuple[int, float]], depth: int, allowed: np.ndarray | None
    ) -> np.ndarray:
        """Rows whose cosine reaches ``match_threshold``: those of the dense list, unless the whole list
        reaches it (so that more may lie below its depth); then every such row among ``allowed``, by one
        range search (exact over a flat index; see ``DenseIndex.close_rows``)."""
        threshold = self.settings.match_threshold
        close = np.array(sorted(i for i, s in dense if s >= threshold), dtype=np.int64)
        if len(dense) >= depth and dense and dense[-1][1] >= threshold:
            close = np.union1d(close, self.data.dense.close_rows(vector, threshold, allowed))
        return close

    def matching_candidates(
        self, query: Query, vector: np.ndarray | None = None, *, lane_vector: np.ndarray | None = None
    ) -> Candidates:
        """The candidates of ``query`` that match it, best first: what a search pages, counts and facets."""
        found = self.candidates(query, vector, lane_vector=lane_vector)
        return found.matching_only(self.settings.match_threshold)

    def matching(self, query: Query, vector: np.ndarray | None = None) -> list[int]:
        """Rows of the chunks that match ``query``, best first: they hold a query word after BM25's analysis
        (``lexical.tokenize``: stop words dropped, stems), or are close in meaning (cosine at least
        ``settings.match_threshold``, over every allowed row). The one definition of a match: a search's
        total, hits and facets, summaries, timelines and the facets operation all count these."""
        return [int(i) for i in self.matching_candidates(query, vector).ids]

    def _result(self, query: Query, found: Candidates, vector: np.ndarray | None = None) -> SearchResult:
        """The page of ``found`` (every candidate, best first) the query asks for: its matches, and with
        ``related`` the other candidates where the ranking puts them, each marked; ``total`` and the facets
        count the matches, and a query that matches nothing lists nothing."""
        related = self.settings.related if query.related is None else query.related
        matches = found.match_mask(self.settings.match_threshold)
        total = int(matches.sum())
        candidates = found if related and total else found.matching_only(self.settings.match_threshold)
        is_match = matches if candidates is found else np.ones(len(candidates), dtype=bool)
        terms = set(tokenize(query.text))
        hits: list[Hit] = []
        for r, (i, score) in enumerate(candidates.page(query.offset, query.k)):
            chunk = self.chunks[i]
            sentences = None if self.sentence_terms is None else self.sentence_terms(chunk.text)
            hits.append(
                Hit(
                    rank=query.offset + r + 1,
                    score=score,
                    chunk=chunk,
                    highlight=highlight(chunk.text, terms, sentences),
                    dense_score=candidates.dense.get(i),
                    lexical_score=candidates.lexical.get(i),
                    related=not is_match[query.offset + r],
                )
            )
        if query.group_by_document and hits:
            hits = self._with_passages(query, vector, hits, terms)
        end = query.offset + query.k
        return SearchResult(
            query=query.text,
            total=total,
            hits=tuple(hits),
            facets=self.facets(candidates.ids[is_match]),
            next_offset=end if end < len(candidates) else None,
            related=len(candidates) - total,
        )

    def _highlight(self, chunk: Chunk, terms: set[str]) -> str:
        sentences = None if self.sentence_terms is None else self.sentence_terms(chunk.text)
        return highlight(chunk.text, terms, sentences)

    def _with_passages(
        self, query: Query, vector: np.ndarray | None, hits: list[Hit], terms: set[str]
    ) -> list[Hit]:
        """Grouped hits, each with its document's next best matching passages: the chunks of the page's
        documents (among the allowed ones) ranked by the search's own lists and fusion, matches only."""
        s = self.settings
        text = query.text.strip()
        if vector is None:
            vector = self.embedder.embed_batch([text])[0]
        rows = [self._rows_by_id[h.chunk.chunk_id] for h in hits]
        doc_rows = np.unique(np.concatenate([self.columns.rows("doc", self.chunks[i].doc_id) for i in rows]))
        allowed = self.allowed(query.filters)
        if allowed is not None:
            doc_rows = np.intersect1d(doc_rows, allowed)
        n = len(doc_rows)
        dense = self.data.dense.search(vector[None, :], n, doc_rows)[0]
        lexical, holding = self.data.lexical.search(text, n, doc_rows)
        close = np.array(sorted(i for i, c in dense if c >= s.match_threshold), dtype=np.int64)
        ranked = self._rank(dense, lexical, np.union1d(holding, close), text).matching_only(s.match_threshold)
        extra = next_best_passages(rows, ranked.ids, self.document_ordinals)
        return [
            DocumentHit(
                h.rank,
                h.score,
                h.chunk,
                h.highlight,
                h.dense_score,
                h.lexical_score,
                h.related,
                passages=tuple(
                    PassageMatch(
                        self.chunks[j],
                        self._highlight(self.chunks[j], terms),
                        ranked.dense.get(j),
                        ranked.lexical.get(j),
                    )
                    for j in extra[i]
                ),
            )
            for h, i in zip(hits, rows, strict=True)
        ]

    # ------------------------------------------------------------------ lookups

    def facets(self, rows: Sequence[int] | np.ndarray | None = None) -> Facets:
        """Counts by year, country, agency and theme over ``rows`` (all chunks when None)."""
        return self.facet_table.counts(rows)

    def chunk_by_id(self, chunk_id: str) -> Chunk | None:
        i = self._rows_by_id.get(chunk_id)
        return None if i is None else self.chunks[i]

    def chunks_of_documents(self, doc_ids: set[str]) -> list[Chunk]:
        return [self.chunks[i] for d in doc_ids for i in self.columns.rows("doc", d).tolist()]


def _lane_by_document(
    lane: Sequence[tuple[int, float]],
    dense: Sequence[tuple[int, float]],
    lexical: Sequence[tuple[int, float]],
    matching: np.ndarray,
    ordinals: np.ndarray,
    depth: int,
) -> list[tuple[int, float]]:
    """The lane's list cut to one entry per document (its best chunk), each document named by the row
    ``ranking.by_document`` names it by: its first row in the dense then lexical lists, else its first
    matching row, else its best lane row (so that fusion adds up its ranks in every list)."""
    named: dict[int, int] = {}
    for i, _ in (*dense, *lexical):
        named.setdefault(int(ordinals[i]), i)
    rows = np.asarray(matching, dtype=np.int64)
    if len(rows):
        docs, first = np.unique(ordinals[rows], return_index=True)
        for doc, j in zip(docs.tolist(), first.tolist(), strict=True):
            named.setdefault(int(doc), int(rows[j]))
    out: list[tuple[int, float]] = []
    seen: set[int] = set()
    for i, score in lane:
        doc = int(ordinals[i])
        if doc not in seen:
            seen.add(doc)
            out.append((named.get(doc, i), score))
            if len(out) == depth:
                break
    return out


def open_searcher(
    settings: Settings,
    embedder: Embedder | None = None,
    *,
    sentence_terms: Callable[[str], SentenceTerms] | None = None,
    fallback: bool = False,
) -> Searcher:
    """Load the embedder and the current index, refusing an index built with another model. (A server
    gives an embedder that caches by text and cached sentence splits: ``live.LiveSearcher``.) With
    ``fallback``, a damaged current version gives way to the newest intact older one (``store.load``)."""
    from insight_search import store

    if embedder is None:
        embedder = index_embedder(settings)
    if settings.query_threads > 0:
        # A query is a few tokens: one thread embeds it as fast as two, and on a busy machine far more
        # predictably (measured on the gender index at load 6: p50 26 ms with 1 torch thread, 768 ms with 2).
        embedder.limit_threads(settings.query_threads)
    data = store.load(settings.index_dir, expected_model_id=embedder.model_id, fallback=fallback)
    return Searcher(data, embedder, settings, sentence_terms=sentence_terms)


def index_embedder(settings: Settings) -> Embedder:
    """The embedder for queries on the index in ``settings.index_dir``: the configured model run by the
    backend the index was built with (``embedding.make_embedder`` with its manifest's model id), so an
    index built with torch is still served after the default became onnx."""
    from insight_search import store
    from insight_search.embedding import make_embedder
    from insight_search.errors import InsightSearchError

    try:
        manifest = store.read_manifest(settings.index_dir)
    except InsightSearchError:
        manifest = None  # loading the index says what is wrong with it
    return make_embedder(settings, manifest.model_id if manifest is not None else None)
