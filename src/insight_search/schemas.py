"""JSON shapes shared by the CLI (--json) and the HTTP API (response_model), built from the value objects."""

from __future__ import annotations

from pydantic import BaseModel, Field

from insight_search.models import Chunk, Facets, Hit, SearchResult, SourceRef


class SourceOut(BaseModel):
    path: str
    kind: str
    row: int | None = None
    position: int | None = None

    @classmethod
    def of(cls, s: SourceRef) -> SourceOut:
        return cls(path=s.path, kind=s.kind, row=s.row, position=s.position)


class FacetsOut(BaseModel):
    years: dict[str, int] = Field(default_factory=dict)
    countries: dict[str, int] = Field(default_factory=dict)
    agencies: dict[str, int] = Field(default_factory=dict)
    themes: dict[str, int] = Field(default_factory=dict)

    @classmethod
    def of(cls, f: Facets) -> FacetsOut:
        return cls(years=dict(f.years), countries=dict(f.countries), agencies=dict(f.agencies), themes=dict(f.themes))


class ChunkOut(BaseModel):
    chunk_id: str
    doc_id: str
    title: str
    text: str
    year: int | None = None
    country: str | None = None
    region: str | None = None
    theme: str | None = None
    agencies: list[str] = Field(default_factory=list)
    section: str
    status: str | None = None
    source: SourceOut
    passage_index: int
    start: int
    end: int

    @classmethod
    def of(cls, c: Chunk) -> ChunkOut:
        return cls(
            chunk_id=c.chunk_id,
            doc_id=c.doc_id,
            title=c.title,
            text=c.text,
            year=c.year,
            country=c.country,
            region=c.region,
            theme=c.theme,
            agencies=list(c.agencies),
            section=c.section,
            status=c.status,
            source=SourceOut.of(c.source),
            passage_index=c.passage_index,
            start=c.start,
            end=c.end,
        )


class HitOut(ChunkOut):
    rank: int
    score: float
    highlight: str
    dense_score: float | None = None
    lexical_score: float | None = None

    @classmethod
    def of_hit(cls, h: Hit) -> HitOut:
        return cls(
            rank=h.rank,
            score=h.score,
            highlight=h.highlight,
            dense_score=h.dense_score,
            lexical_score=h.lexical_score,
            **ChunkOut.of(h.chunk).model_dump(),
        )


class SearchOut(BaseModel):
    query: str
    total: int = Field(description="Candidate passages: every passage holding a query word, plus the nearest by meaning")
    results: list[HitOut]
    facets: FacetsOut
    next_cursor: str | None = None

    @classmethod
    def of(cls, r: SearchResult, next_cursor: str | None = None) -> SearchOut:
        return cls(
            query=r.query,
            total=r.total,
            results=[HitOut.of_hit(h) for h in r.hits],
            facets=FacetsOut.of(r.facets),
            next_cursor=next_cursor,
        )
