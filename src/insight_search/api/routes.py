"""Routes. Each turns its parameters into a typed query, calls the same functions as the CLI, and returns a
response model."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse
from pydantic import BaseModel

from insight_search.api.deps import SearcherDep
from insight_search.models import Filters
from insight_search.models import Query as SearchQuery
from insight_search.schemas import SearchOut

router = APIRouter()


class HealthOut(BaseModel):
    status: str


class ReadyOut(BaseModel):
    status: str
    chunks: int
    documents: int
    manifest: dict[str, Any]


@router.get("/", include_in_schema=False)
def page() -> FileResponse:
    from insight_search.api.app import STATIC

    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.get("/health", response_model=HealthOut)
def health() -> HealthOut:
    return HealthOut(status="ok")


@router.get("/ready", response_model=ReadyOut)
def ready(searcher: SearcherDep) -> ReadyOut:
    data = searcher.data
    return ReadyOut(status="ready", chunks=len(data.chunks), documents=len(data.documents), manifest=data.manifest)


@router.get("/search", response_model=SearchOut)
def search(
    searcher: SearcherDep,
    q: Annotated[str, Query(description="What to look for", examples=["care system legislation"])],
    k: Annotated[int, Query(ge=1, le=100)] = 10,
    year: int | None = None,
    year_from: int | None = None,
    year_to: int | None = None,
    country: str | None = None,
    agency: str | None = None,
    theme: str | None = None,
    section: str | None = None,
    source: str | None = None,
) -> SearchOut:
    filters = Filters(
        year=year, year_from=year_from, year_to=year_to, country=country, agency=agency,
        theme=theme, section=section, source=source,
    )
    return SearchOut.of(searcher.search(SearchQuery(q, k=k, filters=filters)))
