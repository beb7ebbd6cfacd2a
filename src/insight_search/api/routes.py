"""Routes: each turns its parameters (``api/params.py``) into a call of ``insight_search.service`` (the same
functions as the CLI; the query routes go through the chatbot tool table of ``api/tools.py``) and returns a
response model. GET routes take query parameters; POST twins take a JSON body."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field, model_validator

from insight_search import service
from insight_search.api import tools
from insight_search.api.deps import LiveDep, SearcherDep
from insight_search.api.params import (
    FacetParams,
    FundingParams,
    MentionsParams,
    SearchParams,
    SummarizeParams,
    TimelineParams,
)
from insight_search.errors import NotFound
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


class ErrorOut(BaseModel):
    detail: str


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "The request cannot be served as given (e.g. a bad cursor)"},
    401: {"model": ErrorOut, "description": "Missing or wrong API key (only when the server has one)"},
    413: {"model": ErrorOut, "description": "Request body too large"},
    422: {"model": ErrorOut, "description": "A parameter is missing, malformed or out of range"},
    429: {"model": ErrorOut, "description": "Too many requests: see the Retry-After header"},
    503: {"model": ErrorOut, "description": "No index is loaded"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut, "description": "No such id"}}

router = APIRouter(responses=ERRORS)

# The page runs only its own script and style: even text that slipped into the page as HTML could not run.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class HealthOut(BaseModel):
    status: str


class ReadyOut(BaseModel):
    status: str
    chunks: int
    documents: int
    version: str | None = None
    manifest: dict[str, Any]


class ReloadOut(BaseModel):
    reloaded: bool
    version: str | None = None


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
    theme: str | None = Field(None, description="The first of `themes` (kept for older clients)")
    themes: list[str] = Field(default_factory=list)
    agencies: list[str]
    year: int | None = None
    outcome: str | None = None
    partners: list[str] = Field(default_factory=list)
    office: str | None = None
    metadata: dict[str, Any]
    passages: list[PassageOut]
    chunk_ids: list[str]

    @model_validator(mode="before")
    @classmethod
    def _first_theme(cls, data: Any) -> Any:
        if isinstance(data, dict) and "theme" not in data:
            return {**data, "theme": next(iter(data.get("themes") or ()), None)}
        return data


@router.get("/", include_in_schema=False)
def page() -> FileResponse:
    from insight_search.api.app import STATIC

    return FileResponse(STATIC / "index.html", media_type="text/html", headers=PAGE_HEADERS)


@router.get("/health", response_model=HealthOut, tags=["status"])
def health() -> HealthOut:
    """Liveness: the process answers."""
    return HealthOut(status="ok")


@router.get("/ready", response_model=ReadyOut, tags=["status"])
def ready(live: LiveDep) -> ReadyOut:
    """Readiness: the index is loaded; its counts, version and manifest."""
    data = live.searcher.data
    return ReadyOut(
        status="ready",
        chunks=len(data.chunks),
        documents=len(data.documents),
        version=live.version,
        manifest=data.manifest.to_dict(),
    )


@router.post("/admin/reload", response_model=ReloadOut, tags=["status"])
def reload(live: LiveDep) -> ReloadOut:
    """Swap in the current index version now if it is newer than the one served (the server also checks
    by itself every INSIGHT_SEARCH_INDEX_RELOAD_SECONDS). Needs the API key when one is configured."""
    return ReloadOut(reloaded=live.reload_if_changed(), version=live.version)


@router.get("/search", response_model=SearchOut, tags=["search"])
def search_get(searcher: SearcherDep, p: Annotated[SearchParams, Query()]) -> SearchOut:
    """Hybrid (semantic + keyword) search; filters apply before ranking."""
    return tools.run_search(searcher, p)


@router.post("/search", response_model=SearchOut, tags=["search"])
def search_post(searcher: SearcherDep, p: SearchParams) -> SearchOut:
    """Hybrid (semantic + keyword) search, parameters as a JSON body."""
    return tools.run_search(searcher, p)


@router.get("/summarize", response_model=SummaryOut, tags=["summaries"])
def summarize_get(searcher: SearcherDep, p: Annotated[SummarizeParams, Query()]) -> SummaryOut:
    """Extractive summary: verbatim sentences of the matching passages, each with its citation."""
    return tools.run_summarize(searcher, p)


@router.post("/summarize", response_model=SummaryOut, tags=["summaries"])
def summarize_post(searcher: SearcherDep, p: SummarizeParams) -> SummaryOut:
    """Extractive summary, parameters as a JSON body."""
    return tools.run_summarize(searcher, p)


@router.get("/timeline", response_model=TimelineOut, tags=["summaries"])
def timeline_get(searcher: SearcherDep, p: Annotated[TimelineParams, Query()]) -> TimelineOut:
    """Year by year: matching passages, the stated status, a short cited summary."""
    return tools.run_timeline(searcher, p)


@router.post("/timeline", response_model=TimelineOut, tags=["summaries"])
def timeline_post(searcher: SearcherDep, p: TimelineParams) -> TimelineOut:
    """Year by year, parameters as a JSON body."""
    return tools.run_timeline(searcher, p)


@router.get("/mentions", response_model=MentionsOut, tags=["search"])
def mentions_get(searcher: SearcherDep, p: Annotated[MentionsParams, Query()]) -> MentionsOut:
    """Every passage naming a term (accent- and case-insensitive), counted by year, country and document."""
    return tools.run_mentions(searcher, p)


@router.post("/mentions", response_model=MentionsOut, tags=["search"])
def mentions_post(searcher: SearcherDep, p: MentionsParams) -> MentionsOut:
    """Every passage naming a term, parameters as a JSON body."""
    return tools.run_mentions(searcher, p)


@router.get("/funding", response_model=FundingOut, tags=["funding"])
def funding_get(searcher: SearcherDep, p: Annotated[FundingParams, Query()]) -> FundingOut:
    """Funding and resource records (USD) with totals per year and kind, and per partner."""
    return tools.run_funding(searcher, p)


@router.post("/funding", response_model=FundingOut, tags=["funding"])
def funding_post(searcher: SearcherDep, p: FundingParams) -> FundingOut:
    """Funding and resource records, parameters as a JSON body."""
    return tools.run_funding(searcher, p)


class FunctionOut(BaseModel):
    name: str
    description: str
    parameters: dict[str, Any]


class ToolOut(BaseModel):
    type: Literal["function"] = "function"
    function: FunctionOut


@router.get("/tools", response_model=list[ToolOut], tags=["tools"])
def tool_definitions() -> list[ToolOut]:
    """The chatbot tools (search, summarize, timeline, mentions, funding) as OpenAI-style function
    definitions; each takes the parameters of its route and returns its JSON. Also served over MCP at /mcp."""
    return [ToolOut.model_validate(t) for t in tools.openai_tools()]


@router.get("/facets", response_model=FacetsOut, tags=["search"])
def facets(searcher: SearcherDep, p: Annotated[FacetParams, Query()]) -> FacetsOut:
    """Counts by year, country, agency and theme: over a query's candidates, or the whole (filtered) index."""
    return service.facets(searcher, p.q, filters=p.filters())


@router.get("/documents/{doc_id:path}", response_model=DocumentOut, tags=["documents"], responses=NOT_FOUND)
def document(
    searcher: SearcherDep,
    doc_id: Annotated[str, Path(max_length=300, description="doc_id of a result or citation")],
) -> DocumentOut:
    """A whole document with its passages, metadata and the ids of its chunks."""
    doc = searcher.data.documents.get(doc_id)
    if doc is None:
        raise NotFound(f"no document with id {doc_id!r}")
    d = document_to_dict(doc)
    d.pop("funding", None)
    d["chunk_ids"] = [c.chunk_id for c in searcher.chunks_of_documents({doc_id})]
    return DocumentOut(**d)


@router.get("/chunks/{chunk_id}", response_model=ChunkOut, tags=["documents"], responses=NOT_FOUND)
def chunk(
    searcher: SearcherDep,
    chunk_id: Annotated[str, Path(max_length=100, description="chunk_id of a result or citation")],
) -> ChunkOut:
    """One chunk (the unit results and citations point to)."""
    return service.chunk(searcher, chunk_id)
