"""JSON shapes shared by the CLI (--json) and the HTTP API (response_model), built from the value objects."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from insight_search.facets import YEAR_COUNTING
from insight_search.group_schemas import PASSAGES_HELP, MatchedPassageOut, passages_of
from insight_search.indicators import period_text
from insight_search.models import (
    Chunk,
    Document,
    Facets,
    Hit,
    IndicatorLine,
    MentionsResult,
    SearchResult,
    SourceRef,
    Summary,
    SummarySentence,
    Timeline,
)
from insight_search.records import document_to_dict
from insight_search.status_schemas import HealthOut as HealthOut
from insight_search.status_schemas import ReadyOut as ReadyOut
from insight_search.status_schemas import ReloadOut as ReloadOut

_YEAR_END = "Last year of the span the passage covers; null (or equal to `year`) for one year"
_LANGUAGE = "The passage's language, ISO 639-1 (stated by its source, else detected); null when unknown"


class SourceOut(BaseModel):
    path: str
    kind: str
    row: int | None = None
    position: int | None = None
    page: int | None = Field(None, description="The PDF page the text is on (when it is on one page)")
    page_from: int | None = Field(None, description="The first PDF page of text that runs over pages")
    page_to: int | None = Field(None, description="The last PDF page of text that runs over pages")

    @classmethod
    def of(cls, s: SourceRef) -> SourceOut:
        one = s.page_from if s.page_from is not None and s.page_from == s.page_to else None
        span = None if one is not None else s.page_from  # a span of pages: page_from to page_to
        return cls(
            path=s.path,
            kind=s.kind,
            row=s.row,
            position=s.position,
            page=one,
            page_from=span,
            page_to=s.page_to if span is not None else None,
        )


class FacetsOut(BaseModel):
    years: dict[str, int] = Field(default_factory=dict)  # see year_counting; "unknown": without a year
    countries: dict[str, int] = Field(default_factory=dict)
    agencies: dict[str, int] = Field(default_factory=dict)
    themes: dict[str, int] = Field(default_factory=dict)
    languages: dict[str, int] = Field(default_factory=dict)  # ISO 639-1 code (or "unknown") -> count
    year_counting: str = Field(default=YEAR_COUNTING, description="How `years` counts a passage")

    @classmethod
    def of(cls, f: Facets) -> FacetsOut:
        names = ("years", "countries", "agencies", "themes", "languages")
        return cls.model_validate({name: dict(getattr(f, name)) for name in names})


class ChunkOut(BaseModel):
    chunk_id: str
    doc_id: str
    title: str
    text: str
    year: int | None = None
    year_end: int | None = Field(None, description=_YEAR_END)
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
    composed: bool = Field(
        False,
        description="The reader composed this text from the source's fields (a funding-table row when "
        "`section` is `funding`, a partner list when it is `partners`): searchable, never a verbatim quote. "
        "The funding records themselves: the funding operation with this `doc_id` (and `year`)",
    )
    language: str | None = Field(None, description=_LANGUAGE)

    @classmethod
    def of(cls, c: Chunk) -> ChunkOut:
        return cls(
            chunk_id=c.chunk_id,
            doc_id=c.doc_id,
            title=c.title,
            text=c.text,
            year=c.year,
            year_end=c.year_end,
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
            composed=c.composed,
            language=c.language,
        )


class HitOut(ChunkOut):
    rank: int
    score: float
    highlight: str
    dense_score: float | None = None
    lexical_score: float | None = None
    passages: list[MatchedPassageOut] = Field(default_factory=list, description=PASSAGES_HELP)
    related: bool = Field(False, description="It does not match the query: a related candidate (`related`)")

    @classmethod
    def of_hit(cls, h: Hit) -> HitOut:
        return cls(
            rank=h.rank,
            score=h.score,
            highlight=h.highlight,
            dense_score=h.dense_score,
            lexical_score=h.lexical_score,
            passages=passages_of(h),
            related=h.related,
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
    related: int = Field(0, description="Related candidates listed beside the `total` matches (`related`)")

    @classmethod
    def of(cls, r: SearchResult, next_cursor: str | None = None) -> SearchOut:
        return cls(
            query=r.query,
            total=r.total,
            related=r.related,
            results=[HitOut.of_hit(h) for h in r.hits],
            facets=FacetsOut.of(r.facets),
            next_cursor=next_cursor,
        )


class SearchBatchItemOut(BaseModel):
    """The answer to one search of a batch: its result, or why it could not be served."""

    result: SearchOut | None = None
    error: str | None = Field(
        None, description="Why this search was not served (the detail a single POST /search would give)"
    )


class SearchBatchOut(BaseModel):
    results: list[SearchBatchItemOut] = Field(description="One per query, in the order of the request")


class SentenceOut(BaseModel):
    text: str
    doc_id: str
    chunk_id: str
    year: int | None = None
    year_end: int | None = Field(None, description=_YEAR_END)
    country: str | None = None
    title: str
    source: SourceOut
    start: int = Field(description="Character offset of the sentence in its passage")
    end: int
    score: float
    composed: bool = Field(False, description="Always false: summaries and timelines quote only the source")
    language: str | None = Field(None, description="The language of the sentence's passage (ISO 639-1)")

    @classmethod
    def of(cls, s: SummarySentence) -> SentenceOut:
        c = s.citation
        return cls(
            text=s.text,
            doc_id=c.doc_id,
            chunk_id=c.chunk_id,
            year=c.year,
            year_end=c.year_end,
            country=c.country,
            title=c.title,
            source=SourceOut.of(c.source),
            start=s.start,
            end=s.end,
            score=s.score,
            composed=c.composed,
            language=getattr(c, "language", None),  # a LanguageCitation's (languages.py)
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


class ActivePassageOut(BaseModel):
    """A matching passage covering a timeline year that is not its progress note: listed, never quoted."""

    doc_id: str
    chunk_id: str
    title: str
    section: str
    year: int | None = None
    year_end: int | None = Field(None, description=_YEAR_END)
    country: str | None = None
    source: SourceOut
    language: str | None = Field(None, description=_LANGUAGE)

    @classmethod
    def of(cls, c: Chunk) -> ActivePassageOut:
        fields = ("doc_id", "chunk_id", "title", "section", "year", "year_end", "country", "language")
        return cls(source=SourceOut.of(c.source), **{f: getattr(c, f) for f in fields})


class IndicatorLineOut(BaseModel):
    """One indicator's period in a timeline year, of a matching document (see ``GET /indicators``)."""

    doc_id: str
    title: str
    target: float | str | None = None
    actual: float | str | None = None
    comment: str | None = None
    line: str = Field(description='The period as a person writes it: "target 1, actual 2"')

    @classmethod
    def of(cls, i: IndicatorLine) -> IndicatorLineOut:
        fields = ("doc_id", "title", "target", "actual", "comment")
        return cls(line=period_text(i.target, i.actual), **{f: getattr(i, f) for f in fields})


class TimelineYearOut(BaseModel):
    year: int
    count: int = Field(description="Matching passages covering the year (the year facet's count)")
    progress_notes: int = Field(0, description="Of these, the year's progress notes (status, sentences)")
    status: str | None = None
    sentences: list[SentenceOut]
    active: list[ActivePassageOut] = Field(default_factory=list, description="Other matches covering it")
    indicators: list[IndicatorLineOut] = Field(default_factory=list, description="Its indicator periods")


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
                    progress_notes=y.progress_notes,
                    status=y.status,
                    sentences=[SentenceOut.of(s) for s in y.sentences],
                    active=[ActivePassageOut.of(c) for c in y.active],
                    indicators=[IndicatorLineOut.of(i) for i in y.indicators],
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
    year_end: int | None = Field(None, description=_YEAR_END)
    country: str | None = None
    section: str
    source: SourceOut
    spans: list[tuple[int, int]] = Field(description="Character offsets of each match in text")
    composed: bool = Field(False, description="The reader composed this text from fields (see ChunkOut)")
    language: str | None = Field(None, description=_LANGUAGE)


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
                    year_end=x.chunk.year_end,
                    country=x.chunk.country,
                    section=x.chunk.section,
                    source=SourceOut.of(x.chunk.source),
                    spans=list(x.spans),
                    composed=x.chunk.composed,
                    language=x.chunk.language,
                )
                for x in m.mentions
            ],
            next_cursor=next_cursor,
        )


class PassageOut(BaseModel):
    text: str
    section: str
    year: int | None = None
    year_end: int | None = Field(None, description=_YEAR_END)
    status: str | None = None
    label: str | None = None
    composed: bool = False
    language: str | None = None


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
    year_end: int | None = Field(None, description="Last year of the document's span (a project's end)")
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
