"""JSON shapes shared by the CLI (--json) and the HTTP API (response_model), built from the value objects."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from insight_search.models import (
    Chunk,
    Document,
    Facets,
    FundingRecord,
    FundingResult,
    Hit,
    MentionsResult,
    SearchResult,
    SourceRef,
    Summary,
    SummarySentence,
    Timeline,
)
from insight_search.records import document_to_dict


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
        return cls(
            years=dict(f.years), countries=dict(f.countries), agencies=dict(f.agencies), themes=dict(f.themes)
        )


class ChunkOut(BaseModel):
    chunk_id: str
    doc_id: str
    title: str
    text: str
    year: int | None = None
    country: str | None = None
    region: str | None = None
    theme: str | None = Field(None, description="The first of `themes` (kept for older clients)")
    themes: list[str] = Field(default_factory=list)
    outcome: str | None = None
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
            theme=c.themes[0] if c.themes else None,
            themes=list(c.themes),
            outcome=c.outcome,
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
    total: int = Field(
        description="Passages that match the query: they hold a query word (after stop words and stemming) "
        "or are close in meaning (cosine at least match_threshold); 0 when nothing matches"
    )
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


class SentenceOut(BaseModel):
    text: str
    doc_id: str
    chunk_id: str
    year: int | None = None
    country: str | None = None
    title: str
    source: SourceOut
    start: int = Field(description="Character offset of the sentence in its passage")
    end: int
    score: float

    @classmethod
    def of(cls, s: SummarySentence) -> SentenceOut:
        c = s.citation
        return cls(
            text=s.text,
            doc_id=c.doc_id,
            chunk_id=c.chunk_id,
            year=c.year,
            country=c.country,
            title=c.title,
            source=SourceOut.of(c.source),
            start=s.start,
            end=s.end,
            score=s.score,
        )


class SummaryOut(BaseModel):
    query: str
    sentences: list[SentenceOut]
    passages_considered: int = 0

    @classmethod
    def of(cls, s: Summary) -> SummaryOut:
        return cls(
            query=s.query,
            sentences=[SentenceOut.of(x) for x in s.sentences],
            passages_considered=s.passages_considered,
        )


class TimelineYearOut(BaseModel):
    year: int
    count: int
    status: str | None = None
    sentences: list[SentenceOut]


class TimelineOut(BaseModel):
    query: str
    years: list[TimelineYearOut]

    @classmethod
    def of(cls, t: Timeline) -> TimelineOut:
        return cls(
            query=t.query,
            years=[
                TimelineYearOut(
                    year=y.year,
                    count=y.count,
                    status=y.status,
                    sentences=[SentenceOut.of(s) for s in y.sentences],
                )
                for y in t.years
            ],
        )


class CountOut(BaseModel):
    value: str
    count: int


class YearCountOut(BaseModel):
    year: str
    count: int


class MentionOut(BaseModel):
    text: str
    doc_id: str
    chunk_id: str
    title: str
    year: int | None = None
    country: str | None = None
    section: str
    source: SourceOut
    spans: list[tuple[int, int]] = Field(description="Character offsets of each match in text")


class MentionsOut(BaseModel):
    term: str
    total: int
    years: list[YearCountOut]
    countries: list[CountOut]
    documents: list[CountOut]
    passages: list[MentionOut]
    next_cursor: str | None = None

    @classmethod
    def of(cls, m: MentionsResult, next_cursor: str | None) -> MentionsOut:
        return cls(
            term=m.term,
            total=m.total,
            years=[YearCountOut(year=y, count=n) for y, n in m.years.items()],
            countries=[CountOut(value=c, count=n) for c, n in m.countries.items()],
            documents=[CountOut(value=d, count=n) for d, n in m.documents.items()],
            passages=[
                MentionOut(
                    text=x.chunk.text,
                    doc_id=x.chunk.doc_id,
                    chunk_id=x.chunk.chunk_id,
                    title=x.chunk.title,
                    year=x.chunk.year,
                    country=x.chunk.country,
                    section=x.chunk.section,
                    source=SourceOut.of(x.chunk.source),
                    spans=list(x.spans),
                )
                for x in m.mentions
            ],
            next_cursor=next_cursor,
        )


class FundingRecordOut(BaseModel):
    partner: str | None = None
    partner_type: str | None = None
    year: int | None = None
    total: float | None = None
    development: float | None = None
    humanitarian: float | None = None
    kind: str
    currency: str
    country: str | None = None
    agencies: list[str] = Field(default_factory=list)
    doc_id: str
    source: SourceOut

    @classmethod
    def of(cls, r: FundingRecord) -> FundingRecordOut:
        return cls(
            partner=r.partner,
            partner_type=r.partner_type,
            year=r.year,
            total=r.total,
            development=r.development,
            humanitarian=r.humanitarian,
            kind=r.kind,
            currency=r.currency,
            country=r.country,
            agencies=list(r.agencies),
            doc_id=r.doc_id,
            source=SourceOut.of(r.source),
        )


class FundingTotalsOut(BaseModel):
    by_year: dict[str, dict[str, float]]
    by_partner: dict[str, float]
    by_kind: dict[str, float]


class FundingOut(BaseModel):
    records: list[FundingRecordOut]
    totals: FundingTotalsOut
    total_records: int
    next_cursor: str | None = None

    @classmethod
    def of(cls, f: FundingResult, page: slice, next_cursor: str | None) -> FundingOut:
        return cls(
            records=[FundingRecordOut.of(r) for r in f.records[page]],
            totals=FundingTotalsOut(
                by_year={y: dict(v) for y, v in f.totals_by_year.items()},
                by_partner=dict(f.totals_by_partner),
                by_kind=dict(f.totals_by_kind),
            ),
            total_records=len(f.records),
            next_cursor=next_cursor,
        )


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

    @classmethod
    def of(cls, doc: Document, chunk_ids: Sequence[str]) -> DocumentOut:
        d = document_to_dict(doc)
        d.pop("funding", None)
        return cls(**d, theme=doc.themes[0] if doc.themes else None, chunk_ids=list(chunk_ids))


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
