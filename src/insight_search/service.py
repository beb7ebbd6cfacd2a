"""The serving layer: each operation from its request model (``requests.py``) to its response model.

A :class:`Service` is what the CLI, the HTTP API and the MCP server hold. It reads the searcher of the index
version being served once per request (a reload in the middle never mixes two versions), signs pagination
cursors with one secret for its whole life and binds each cursor to the index version it was made on, and
shows source paths as ``settings.paths`` says. Its index handle (``live.LiveSearcher``) follows rebuilds and
owns the caches that outlive a reload (query and sentence vectors, sentence splits for highlights).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np
from pydantic import BaseModel

from insight_search import funding as funding_records
from insight_search import indicators as indicator_records
from insight_search import mentions as mention_scan
from insight_search import summarize as summaries
from insight_search.config import Settings
from insight_search.cursor import cursor_secret, decode_cursor, encode_cursor, request_key
from insight_search.errors import InsightSearchError, InvalidRequest, NotFound
from insight_search.funding_schemas import FundingOut
from insight_search.indicator_schemas import IndicatorsOut
from insight_search.models import Chunk, Query, Section, Timeline, TimelineYear
from insight_search.paths import display_path
from insight_search.requests import RequestModels, parse, request_models
from insight_search.schemas import (
    ChunkOut,
    DocumentOut,
    FacetsOut,
    MentionsOut,
    ReadyOut,
    SearchBatchItemOut,
    SearchBatchOut,
    SearchOut,
    SourceOut,
    SummaryOut,
    TimelineOut,
)

if TYPE_CHECKING:
    from insight_search.embedding import Embedder
    from insight_search.search import Searcher
    from insight_search.sentence_store import SentenceLookup

IN_MEMORY_VERSION = "in-memory"
Shown = TypeVar("Shown", bound=BaseModel)


def _with_paths(value: Any, show: Callable[[str], str]) -> Any:
    """``value`` (a response model, or a part of one) with ``show`` applied to every source path."""
    if isinstance(value, SourceOut):
        return value.model_copy(update={"path": show(value.path)})
    if isinstance(value, BaseModel):
        return value.model_copy(
            update={name: _with_paths(getattr(value, name), show) for name in type(value).model_fields}
        )
    if isinstance(value, list):
        return [_with_paths(v, show) for v in value]
    if isinstance(value, dict) and isinstance(value.get("path"), str) and "kind" in value:
        return {**value, "path": show(value["path"])}  # a document's source, kept as a plain object
    return value


class IndexHandle(Protocol):
    """Whatever gives the searcher of the index version being served (``live.LiveSearcher``)."""

    @property
    def searcher(self) -> Searcher: ...

    def start_watching(self, interval_s: float = 2.0) -> None: ...

    def stop(self) -> None: ...


def _stored_sentences(searcher: Searcher, chunks: list[Chunk], rows: list[int]) -> SentenceLookup | None:
    """The index's stored sentences of ``chunks`` (at ``rows``); None for an index without them."""
    store = searcher.data.sentences
    return None if store is None else store.lookup(chunks, rows)


def version_of(searcher: Searcher) -> str:
    path = searcher.data.path
    return path.name if path is not None else IN_MEMORY_VERSION


class Service:
    def __init__(self, settings: Settings, index: IndexHandle) -> None:
        self.settings = settings
        self.index = index
        self.requests: RequestModels = request_models(settings)
        self._secret = cursor_secret(settings.cursor_secret)

    @classmethod
    def open(
        cls,
        settings: Settings,
        embedder: Embedder | None = None,
        *,
        watch: bool = False,
        fallback: bool = False,
    ) -> Service:
        """Load the configured model and the current index (following rebuilds when ``watch``; a damaged
        current version gives way to the newest intact older one when ``fallback``, with a warning)."""
        from insight_search.live import LiveSearcher

        service = cls(settings, LiveSearcher(settings, embedder, fallback=fallback))
        if watch:
            service.watch()
        return service

    def watch(self) -> None:
        """Follow rebuilds of the index every ``index_reload_seconds`` (0: never)."""
        if self.settings.index_reload_seconds > 0:
            self.index.start_watching(self.settings.index_reload_seconds)

    def close(self) -> None:
        """Stop following the index (the watcher thread of a served index)."""
        self.index.stop()

    def parse(self, operation: str, values: dict[str, Any]) -> Any:
        """The request of ``operation`` from plain values (CLI options, tool arguments);
        InvalidRequest if they do not fit."""
        return parse(self.requests.of(operation), values)

    # ------------------------------------------------------------------ cursors

    def _offset(self, key: str, version: str, cursor: str | None) -> int:
        return 0 if not cursor else decode_cursor(self._secret, key, version, cursor)

    def _next(self, key: str, version: str, offset: int | None) -> str | None:
        return None if offset is None else encode_cursor(self._secret, key, version, offset)

    # ------------------------------------------------------------------ operations

    def search(self, req: Any) -> SearchOut:
        searcher = self.index.searcher
        version = version_of(searcher)
        filters = req.filters()
        key = request_key("search", req.q, req.k, filters, req.group, req.related)
        offset = self._offset(key, version, req.cursor)
        grouped = req.group == "document"
        query = Query(req.q, req.k, filters, offset, group_by_document=grouped, related=req.related)
        result = searcher.search(query)
        return self._shown(SearchOut.of(result, next_cursor=self._next(key, version, result.next_offset)))

    def search_batch(self, req: Any) -> SearchBatchOut:
        """Every search of ``req.queries``, each answered on its own: a query that does not fit the search
        request model, or whose cursor is bad, gets its error; the others are embedded in one batch
        (``Searcher.search_many``) and answered."""
        searcher = self.index.searcher
        version = version_of(searcher)
        items: list[SearchBatchItemOut] = []
        pending: list[tuple[int, str, Query]] = []
        for values in req.queries:
            try:
                if not isinstance(values, dict):
                    raise InvalidRequest(f"request: expected a JSON object, got {type(values).__name__}")
                one = parse(self.requests.search, values)
                filters = one.filters()
                key = request_key("search", one.q, one.k, filters, one.group, one.related)
                offset = self._offset(key, version, one.cursor)
            except InsightSearchError as exc:
                items.append(SearchBatchItemOut(result=None, error=str(exc)))
                continue
            grouped = one.group == "document"
            query = Query(one.q, one.k, filters, offset, group_by_document=grouped, related=one.related)
            pending.append((len(items), key, query))
            items.append(SearchBatchItemOut(result=None, error=None))  # filled in below
        results = searcher.search_many([query for _, _, query in pending])
        for (i, key, _), result in zip(pending, results, strict=True):
            out = SearchOut.of(result, next_cursor=self._next(key, version, result.next_offset))
            items[i] = SearchBatchItemOut(result=self._shown(out), error=None)
        return SearchBatchOut(results=items)

    def summarize(self, req: Any) -> SummaryOut:
        searcher = self.index.searcher
        vector = searcher.embedder.embed_batch([req.q.strip()])[0]  # the search's and the summary's
        rows = searcher.matching_candidates(Query(req.q, filters=req.filters()), vector).ids.tolist()
        # Composed passages (funding-table sentences, partner lists) are never quoted: they do not take
        # evidence places from passages that can be.
        quotable = (i for i in rows if not searcher.chunks[i].composed)
        evidence_rows = list(itertools.islice(quotable, summaries.DEFAULT_EVIDENCE))
        evidence = [searcher.chunks[i] for i in evidence_rows]
        summary = summaries.summarize(
            req.q.strip(),
            evidence,
            searcher.embedder,
            max_sentences=req.max_sentences,
            max_words=req.max_words,
            sentences=_stored_sentences(searcher, evidence, evidence_rows),
            query_vector=vector,
        )
        return self._shown(SummaryOut.of(summary).model_copy(update={"query": req.q}))

    def _timeline(self, req: Any) -> Timeline:
        """The years of the passages ``searcher.matching`` gives (the rows the year facet of the same query
        and filters counts), within the filtered years."""
        searcher = self.index.searcher
        filters = req.filters()
        vector = searcher.embedder.embed_batch([req.q.strip()])[0]  # the search's and the timeline's
        found = searcher.matching_candidates(Query(req.q, filters=filters), vector).ids
        rows = found.tolist()
        matches = list(map(searcher.chunks.__getitem__, rows))
        # The spans from the filter columns (a query may match thousands of passages); only progress notes
        # are quoted, so only theirs are looked up in the sentence store.
        columns = searcher.columns
        notes = np.isin(found, columns.rows("section", Section.PROGRESS_NOTE))
        quotable = np.flatnonzero(notes).tolist()
        timeline = summaries.timeline(
            req.q.strip(),
            matches,
            searcher.embedder,
            document_chunks=searcher.chunks_of_documents,
            sentences_per_year=req.sentences_per_year,
            first_year=filters.year if filters.year is not None else filters.year_from,
            last_year=filters.year if filters.year is not None else filters.year_to,
            sentences=_stored_sentences(searcher, [matches[i] for i in quotable], found[notes].tolist()),
            query_vector=vector,
            spans=(columns.years[found], columns.year_ends[found], notes),
        )
        return Timeline(query=req.q, years=self._with_indicators(searcher, rows, timeline.years))

    @staticmethod
    def _with_indicators(
        searcher: Searcher, rows: Sequence[int], years: tuple[TimelineYear, ...]
    ) -> tuple[TimelineYear, ...]:
        """``years`` (TimelineYear) each with the lines of its indicator periods: of the indicators of the
        documents whose passages matched (``rows``, best first; an outcome page brings those of the IATI
        activity its sidecar names, ``indicators.linked_ids``), placed at the period's year
        (``indicators.timeline_lines``). Only years the timeline has get lines."""
        if not years or not searcher.data.indicators:
            return years
        documents = searcher.data.documents
        linked = indicator_records.linked_ids
        chunks = (searcher.chunks[i] for i in rows)
        doc_ids = dict.fromkeys(d for c in chunks for d in (c.doc_id, *linked(c.metadata)))
        records = (r for d in doc_ids if d in documents for r in documents[d].indicators)
        lines = indicator_records.timeline_lines(records, (y.year for y in years))
        return tuple(dataclasses.replace(y, indicators=lines.get(y.year, ())) for y in years)

    def timeline(self, req: Any) -> TimelineOut:
        return self._shown(TimelineOut.of(self._timeline(req)))

    def timeline_markdown(self, req: Any) -> str:
        timeline = self._timeline(req)
        return summaries.timeline_markdown(timeline) + indicator_records.timeline_markdown(timeline.years)

    def mentions(self, req: Any) -> MentionsOut:
        searcher = self.index.searcher
        version = version_of(searcher)
        filters = req.filters()
        key = request_key("mentions", req.term, filters, req.limit)
        allowed = searcher.allowed(filters)
        result = mention_scan.mentions(
            req.term,
            searcher.chunks,
            searcher.folded_texts,
            None if allowed is None else allowed.tolist(),
            offset=self._offset(key, version, req.cursor),
            limit=req.limit,
        )
        return self._shown(MentionsOut.of(result, next_cursor=self._next(key, version, result.next_offset)))

    def funding(self, req: Any) -> FundingOut:
        searcher = self.index.searcher
        version = version_of(searcher)
        fields = ("partner", "year", "country", "agency", "kind", "doc_id")
        key = request_key("funding", *(getattr(req, f) for f in fields), req.limit)
        offset = self._offset(key, version, req.cursor)
        result = funding_records.funding(searcher.data.funding, **{f: getattr(req, f) for f in fields})
        end = offset + req.limit
        nxt = end if end < len(result.records) else None
        return self._shown(
            FundingOut.of(result, slice(offset, end), next_cursor=self._next(key, version, nxt))
        )

    def indicators(self, req: Any) -> IndicatorsOut:
        """Indicator records that pass the filters (``indicators.indicators``), paged like funding."""
        searcher = self.index.searcher
        version = version_of(searcher)
        fields = ("text", "year", "country", "agency", "doc_id")
        key = request_key("indicators", *(getattr(req, f) for f in fields), req.limit)
        offset = self._offset(key, version, req.cursor)
        found = indicator_records.indicators(searcher.data.indicators, **{f: getattr(req, f) for f in fields})
        end = offset + req.limit
        shown = found[offset:end]
        documents = searcher.data.documents
        titles = {r.doc_id: documents[r.doc_id].title for r in shown if r.doc_id in documents}
        nxt = end if end < len(found) else None
        out = IndicatorsOut.of(found, slice(offset, end), self._next(key, version, nxt), titles)
        return self._shown(out)

    def facets(self, req: Any) -> FacetsOut:
        """Counts over the passages matching a query (``searcher.matching``, the rows a timeline and a
        summary draw from), or over the (filtered) index when there is no query."""
        searcher = self.index.searcher
        filters = req.filters()
        if req.q is None or not req.q.strip():
            allowed = searcher.allowed(filters)
            return FacetsOut.of(searcher.facets(allowed))
        return FacetsOut.of(searcher.facets(searcher.matching(Query(req.q, filters=filters))))

    def document(self, req: Any) -> DocumentOut:
        searcher = self.index.searcher
        doc = searcher.data.documents.get(req.doc_id)
        if doc is None:
            raise NotFound(f"no document with id {req.doc_id!r}")
        chunk_ids = [c.chunk_id for c in searcher.chunks_of_documents({req.doc_id})]
        return self._shown(DocumentOut.of(doc, chunk_ids))

    def chunk(self, req: Any) -> ChunkOut:
        found = self.index.searcher.chunk_by_id(req.chunk_id)
        if found is None:
            raise NotFound(f"no chunk with id {req.chunk_id!r}")
        return self._shown(ChunkOut.of(found))

    def ready(self) -> ReadyOut:
        """What the served index holds: counts, version and manifest (its paths shown as configured)."""
        searcher = self.index.searcher
        data = searcher.data
        manifest = data.manifest.to_dict()
        if self.settings.paths == "relative" and manifest.get("corpus_paths"):
            roots = self._roots(searcher)
            manifest["corpus_paths"] = [display_path(p, roots) for p in manifest["corpus_paths"]]
        if self.settings.paths == "relative":
            manifest.pop("working_dir", None)  # the folder the build ran in: where the server keeps files
        return ReadyOut(
            status="ready",
            chunks=len(data.chunks),
            documents=len(data.documents),
            version=version_of(searcher),
            manifest=manifest,
        )

    # ------------------------------------------------------------------ paths shown

    @staticmethod
    def _roots(searcher: Searcher) -> list[Path]:
        return [Path(p) for p in searcher.data.manifest.corpus_paths or ()]

    def _shown(self, out: Shown) -> Shown:
        """``out`` with every source path as ``settings.paths`` says: as indexed, or from the indexed folder
        down (``paths.display_path``), so that an answer need not tell where the server keeps its files."""
        if self.settings.paths == "absolute":
            return out
        roots = self._roots(self.index.searcher)
        shown: Shown = _with_paths(out, lambda path: display_path(path, roots))
        return shown

    def run(self, operation: str, values: dict[str, Any]) -> BaseModel:
        """Parse and run one operation by name (the CLI's path)."""
        result: BaseModel = getattr(self, operation)(self.parse(operation, values))
        return result
