"""The operations the CLI and the API both expose, from request parameters to response models.

Each function validates its input (raising ``BadInput``), runs the engine, and turns offsets into signed
cursors, so the two edges hold no logic of their own.
"""

from __future__ import annotations

import hashlib
import secrets

from insight_search.cursor import decode_cursor, encode_cursor, request_key
from insight_search.errors import BadInput, NotFound
from insight_search.funding import funding
from insight_search.mentions import mentions
from insight_search.models import Filters, Query, Timeline
from insight_search.schemas import (
    ChunkOut,
    FacetsOut,
    FundingOut,
    MentionsOut,
    SearchOut,
    SummaryOut,
    TimelineOut,
)
from insight_search.search import Searcher
from insight_search.summarize import DEFAULT_EVIDENCE, summarize, timeline, timeline_markdown

MAX_FUNDING_PAGE = 1000

# Stopgap until the request layer owns the cursor secret: one random secret per process (so it outlives
# index reloads), unless ``settings.cursor_secret`` is set.
_SECRET = secrets.token_bytes(32)


def _secret(searcher: Searcher) -> bytes:
    configured = searcher.settings.cursor_secret
    return hashlib.sha256(configured.encode()).digest() if configured else _SECRET


def _offset(searcher: Searcher, key: str, cursor: str | None) -> int:
    return 0 if not cursor else decode_cursor(_secret(searcher), key, cursor)


def _next(searcher: Searcher, key: str, offset: int | None) -> str | None:
    return None if offset is None else encode_cursor(_secret(searcher), key, offset)


def search(
    searcher: Searcher, q: str, *, k: int = 10, filters: Filters | None = None, cursor: str | None = None
) -> SearchOut:
    filters = filters or Filters()
    key = request_key("search", q, k, filters)
    query = Query(q, k=k, filters=filters, offset=_offset(searcher, key, cursor))
    result = searcher.search(query)
    return SearchOut.of(result, next_cursor=_next(searcher, key, result.next_offset))


def summary(
    searcher: Searcher,
    q: str,
    *,
    filters: Filters | None = None,
    max_sentences: int = 5,
    max_words: int | None = None,
) -> SummaryOut:
    query = Query(q, filters=filters or Filters())
    searcher.validate(query)
    evidence = [searcher.chunks[i] for i in searcher.matching(query)[:DEFAULT_EVIDENCE]]
    return SummaryOut.of(
        summarize(q, evidence, searcher.embedder, max_sentences=max_sentences, max_words=max_words)
    )


def _timeline(searcher: Searcher, q: str, filters: Filters | None, sentences_per_year: int) -> Timeline:
    query = Query(q, filters=filters or Filters())
    searcher.validate(query)
    return timeline(
        q,
        [searcher.chunks[i] for i in searcher.matching(query)],
        searcher.embedder,
        document_chunks=searcher.chunks_of_documents,
        sentences_per_year=sentences_per_year,
    )


def year_timeline(
    searcher: Searcher, q: str, *, filters: Filters | None = None, sentences_per_year: int = 3
) -> TimelineOut:
    return TimelineOut.of(_timeline(searcher, q, filters, sentences_per_year))


def year_timeline_markdown(
    searcher: Searcher, q: str, *, filters: Filters | None = None, sentences_per_year: int = 3
) -> str:
    return timeline_markdown(_timeline(searcher, q, filters, sentences_per_year))


def term_mentions(
    searcher: Searcher,
    term: str,
    *,
    filters: Filters | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> MentionsOut:
    filters = filters or Filters()
    key = request_key("mentions", term, filters, limit)
    allowed = searcher.allowed(filters)
    result = mentions(
        term,
        searcher.chunks,
        searcher.folded_texts,
        None if allowed is None else allowed.tolist(),
        offset=_offset(searcher, key, cursor),
        limit=limit,
    )
    return MentionsOut.of(result, next_cursor=_next(searcher, key, result.next_offset))


def funding_facts(
    searcher: Searcher,
    *,
    partner: str | None = None,
    year: int | None = None,
    country: str | None = None,
    agency: str | None = None,
    kind: str | None = None,
    doc_id: str | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> FundingOut:
    if not 1 <= limit <= MAX_FUNDING_PAGE:
        raise BadInput(f"limit must be between 1 and {MAX_FUNDING_PAGE}, got {limit}")
    key = request_key("funding", partner, year, country, agency, kind, doc_id, limit)
    offset = _offset(searcher, key, cursor)
    result = funding(
        searcher.data.funding,
        partner=partner,
        year=year,
        country=country,
        agency=agency,
        kind=kind,
        doc_id=doc_id,
    )
    nxt = offset + limit if offset + limit < len(result.records) else None
    return FundingOut.of(result, slice(offset, offset + limit), next_cursor=_next(searcher, key, nxt))


def facets(searcher: Searcher, q: str | None = None, *, filters: Filters | None = None) -> FacetsOut:
    """Counts over the candidates of a query, or over the (filtered) index when there is no query."""
    filters = filters or Filters()
    if q is None or not q.strip():
        allowed = searcher.allowed(filters)
        return FacetsOut.of(searcher.facets(None if allowed is None else allowed.tolist()))
    query = Query(q, filters=filters)
    searcher.validate(query)
    return FacetsOut.of(searcher.facets(searcher.candidates(query).ids))


def chunk(searcher: Searcher, chunk_id: str) -> ChunkOut:
    found = searcher.chunk_by_id(chunk_id)
    if found is None:
        raise NotFound(f"no chunk with id {chunk_id!r}")
    return ChunkOut.of(found)
