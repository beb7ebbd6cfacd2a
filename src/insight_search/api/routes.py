"""Routes: each turns its parameters into a call of ``insight_search.service`` (the same functions as the
CLI) and returns a response model. GET routes take query parameters; POST twins take a JSON body."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from insight_search import service
from insight_search.api.deps import SearcherDep
from insight_search.errors import NotFound
from insight_search.models import Filters
from insight_search.schemas import (
    ChunkOut,
    FacetsOut,
    FundingOut,
    MentionsOut,
    SearchOut,
    SummaryOut,
    TimelineOut,
)
from insight_search.store import document_to_dict

router = APIRouter()

Year = Annotated[int | None, Field(ge=1900, le=2100, description="A four-digit year")]
Text = Annotated[str | None, Field(max_length=200)]
QueryText = Annotated[
    str, Field(min_length=1, max_length=1000, description="What to look for, in plain words")
]
Cursor = Annotated[str | None, Field(max_length=512, description="next_cursor of the previous page")]


class FilterParams(BaseModel):
    """Filters shared by every query route; applied before ranking."""

    model_config = ConfigDict(extra="forbid")

    year: Year = None
    year_from: Year = None
    year_to: Year = None
    country: Text = None
    agency: Text = None
    theme: Text = None
    section: Text = None
    source: Text = None

    def filters(self) -> Filters:
        return Filters(**self.model_dump(include=set(FilterParams.model_fields)))


class SearchParams(FilterParams):
    q: QueryText = Field(examples=["care system legislation"])
    k: int = Field(10, ge=1, le=100)
    cursor: Cursor = None


class SummarizeParams(FilterParams):
    q: QueryText = Field(examples=["care system legislation"])
    max_sentences: int = Field(5, ge=1, le=50)
    max_words: int | None = Field(None, ge=1, le=5000)


class TimelineParams(FilterParams):
    q: QueryText = Field(examples=["Monterrey care system"])
    sentences_per_year: int = Field(3, ge=1, le=20)


class MentionsParams(FilterParams):
    term: Annotated[str, Field(min_length=1, max_length=200, examples=["Nuevo León"])]
    cursor: Cursor = None
    limit: int = Field(20, ge=1, le=200)


class FundingParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    partner: Text = Field(None, examples=["Multi-Partner Trust Fund"])
    year: Year = None
    country: Text = None
    agency: Text = None
    kind: Annotated[str | None, Field(pattern="^(contribution|required|available|expenditure)$")] = None
    doc_id: Text = None
    cursor: Cursor = None
    limit: int = Field(100, ge=1, le=1000)


class FacetParams(FilterParams):
    q: Annotated[str | None, Field(max_length=1000)] = None


class HealthOut(BaseModel):
    status: str


class ReadyOut(BaseModel):
    status: str
    chunks: int
    documents: int
    manifest: dict[str, Any]


class PassageOut(BaseModel):
    text: str
    section: str
    year: int | None = None
    status: str | None = None
    label: str | None = None


class DocumentOut(BaseModel):
    doc_id: str
    title: str
    source: dict[str, Any]
    country: str | None = None
    region: str | None = None
    theme: str | None = None
    agencies: list[str]
    year: int | None = None
    metadata: dict[str, Any]
    passages: list[PassageOut]
    chunk_ids: list[str]


@router.get("/", include_in_schema=False)
def page() -> FileResponse:
    from insight_search.api.app import STATIC

    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.get("/health", response_model=HealthOut, tags=["status"])
def health() -> HealthOut:
    """Liveness: the process answers."""
    return HealthOut(status="ok")


@router.get("/ready", response_model=ReadyOut, tags=["status"])
def ready(searcher: SearcherDep) -> ReadyOut:
    """Readiness: the index is loaded; its counts and manifest."""
    data = searcher.data
    return ReadyOut(
        status="ready", chunks=len(data.chunks), documents=len(data.documents), manifest=data.manifest
    )


@router.get("/search", response_model=SearchOut, tags=["search"])
def search_get(searcher: SearcherDep, p: Annotated[SearchParams, Query()]) -> SearchOut:
    """Hybrid (semantic + keyword) search; filters apply before ranking."""
    return service.search(searcher, p.q, k=p.k, filters=p.filters(), cursor=p.cursor)


@router.post("/search", response_model=SearchOut, tags=["search"])
def search_post(searcher: SearcherDep, p: SearchParams) -> SearchOut:
    return service.search(searcher, p.q, k=p.k, filters=p.filters(), cursor=p.cursor)


@router.get("/summarize", response_model=SummaryOut, tags=["summaries"])
def summarize_get(searcher: SearcherDep, p: Annotated[SummarizeParams, Query()]) -> SummaryOut:
    """Extractive summary: verbatim sentences of the matching passages, each with its citation."""
    return service.summary(
        searcher, p.q, filters=p.filters(), max_sentences=p.max_sentences, max_words=p.max_words
    )


@router.post("/summarize", response_model=SummaryOut, tags=["summaries"])
def summarize_post(searcher: SearcherDep, p: SummarizeParams) -> SummaryOut:
    return service.summary(
        searcher, p.q, filters=p.filters(), max_sentences=p.max_sentences, max_words=p.max_words
    )


@router.get("/timeline", response_model=TimelineOut, tags=["summaries"])
def timeline_get(searcher: SearcherDep, p: Annotated[TimelineParams, Query()]) -> TimelineOut:
    """Year by year: matching passages, the stated status, a short cited summary."""
    return service.year_timeline(searcher, p.q, filters=p.filters(), sentences_per_year=p.sentences_per_year)


@router.post("/timeline", response_model=TimelineOut, tags=["summaries"])
def timeline_post(searcher: SearcherDep, p: TimelineParams) -> TimelineOut:
    return service.year_timeline(searcher, p.q, filters=p.filters(), sentences_per_year=p.sentences_per_year)


@router.get("/mentions", response_model=MentionsOut, tags=["search"])
def mentions_get(searcher: SearcherDep, p: Annotated[MentionsParams, Query()]) -> MentionsOut:
    """Every passage naming a term (accent- and case-insensitive), counted by year, country and document."""
    return service.term_mentions(searcher, p.term, filters=p.filters(), cursor=p.cursor, limit=p.limit)


@router.post("/mentions", response_model=MentionsOut, tags=["search"])
def mentions_post(searcher: SearcherDep, p: MentionsParams) -> MentionsOut:
    return service.term_mentions(searcher, p.term, filters=p.filters(), cursor=p.cursor, limit=p.limit)


def _funding(searcher: SearcherDep, p: FundingParams) -> FundingOut:
    return service.funding_facts(
        searcher,
        partner=p.partner,
        year=p.year,
        country=p.country,
        agency=p.agency,
        kind=p.kind,
        doc_id=p.doc_id,
        cursor=p.cursor,
        limit=p.limit,
    )


@router.get("/funding", response_model=FundingOut, tags=["funding"])
def funding_get(searcher: SearcherDep, p: Annotated[FundingParams, Query()]) -> FundingOut:
    """Funding and resource records (USD) with totals per year and kind, and per partner."""
    return _funding(searcher, p)


@router.post("/funding", response_model=FundingOut, tags=["funding"])
def funding_post(searcher: SearcherDep, p: FundingParams) -> FundingOut:
    return _funding(searcher, p)


@router.get("/facets", response_model=FacetsOut, tags=["search"])
def facets(searcher: SearcherDep, p: Annotated[FacetParams, Query()]) -> FacetsOut:
    """Counts by year, country, agency and theme: over a query's candidates, or the whole (filtered) index."""
    return service.facets(searcher, p.q, filters=p.filters())


@router.get("/documents/{doc_id:path}", response_model=DocumentOut, tags=["documents"])
def document(searcher: SearcherDep, doc_id: Annotated[str, Path(max_length=300)]) -> DocumentOut:
    """A whole document with its passages, metadata and the ids of its chunks."""
    doc = searcher.data.documents.get(doc_id)
    if doc is None:
        raise NotFound(f"no document with id {doc_id!r}")
    d = document_to_dict(doc)
    d.pop("funding", None)
    d["chunk_ids"] = [c.chunk_id for c in searcher.chunks_of_documents({doc_id})]
    return DocumentOut(**d)


@router.get("/chunks/{chunk_id}", response_model=ChunkOut, tags=["documents"])
def chunk(searcher: SearcherDep, chunk_id: Annotated[str, Path(max_length=100)]) -> ChunkOut:
    """One chunk (the unit results and citations point to)."""
    return service.chunk(searcher, chunk_id)
