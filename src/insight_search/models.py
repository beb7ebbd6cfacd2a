"""Small frozen value objects passed between modules.

Readers (``sources``) yield :class:`Document`; ``chunking`` turns them into :class:`Chunk`;
``search`` returns :class:`Hit`; ``summarize`` returns :class:`SummarySentence` and :class:`TimelineYear`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

# Passage sections used by the readers. Free text is allowed, these are the common ones.
SECTION_OUTCOME = "outcome"
SECTION_INDICATORS = "indicators"
SECTION_FUNDING = "funding"
SECTION_PROGRESS_NOTE = "progress_note"
SECTION_OUTPUT = "output"
SECTION_SUB_OUTPUT = "sub_output"
SECTION_DESCRIPTION = "description"
SECTION_NARRATIVE = "narrative"  # a UN INFO ``YYYY Narrative`` (yearly progress note)
SECTION_MARKER = "marker_narrative"
SECTION_PARTNERS = "partners"
SECTION_STRATEGIC_PRIORITY = "strategic_priority"
SECTION_TEXT = "text"


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where a document came from: file path, reader kind, and row (spreadsheet/JSONL line) or position."""

    path: str
    kind: str  # "unwomen-page" | "uninfo-xlsx" | "uninfo-json" | "text" | "markdown" | "jsonl"
    row: int | None = None
    position: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Passage:
    """A coherent piece of a document (outcome statement, one year's progress note...).

    Chunks never cross a passage."""

    text: str
    section: str
    year: int | None = None
    status: str | None = None  # outcome status stated by a progress note, e.g. "not achieved"
    label: str | None = None  # human label, e.g. "2023 Narrative" or "Output 5.1.3"


@dataclass(frozen=True, slots=True)
class FundingRecord:
    """One money figure: an outcome-page contribution or a UN INFO yearly resource figure (USD)."""

    kind: str  # "contribution" | "required" | "available" | "expenditure"
    year: int | None
    total: float | None
    doc_id: str
    source: SourceRef
    partner: str | None = None
    partner_type: str | None = None
    development: float | None = None
    humanitarian: float | None = None
    currency: str = "USD"
    country: str | None = None
    agencies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Document:
    doc_id: str
    title: str
    source: SourceRef
    passages: tuple[Passage, ...]
    country: str | None = None
    region: str | None = None
    theme: str | None = None
    agencies: tuple[str, ...] = ()
    year: int | None = None  # document-level year, used for passages that carry none
    metadata: Mapping[str, Any] = field(default_factory=dict)
    funding: tuple[FundingRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class Chunk:
    """The unit that is embedded and indexed. Carries every piece of metadata a filter or citation needs."""

    chunk_id: str
    doc_id: str
    text: str
    title: str
    section: str
    source: SourceRef
    passage_index: int
    start: int  # character offsets of the chunk inside its passage
    end: int
    year: int | None = None
    status: str | None = None
    country: str | None = None
    region: str | None = None
    theme: str | None = None
    agencies: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Citation:
    doc_id: str
    chunk_id: str
    title: str
    source: SourceRef
    year: int | None = None
    country: str | None = None


@dataclass(frozen=True)
class Hit:
    rank: int
    score: float
    chunk: Chunk
    highlight: str
    dense_score: float | None = None
    lexical_score: float | None = None


@dataclass(frozen=True)
class Facets:
    years: Mapping[str, int]
    countries: Mapping[str, int]
    agencies: Mapping[str, int]
    themes: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchResult:
    query: str
    total: int
    hits: tuple[Hit, ...]
    facets: Facets
    next_offset: int | None = None


@dataclass(frozen=True)
class SummarySentence:
    text: str
    citation: Citation
    start: int  # character offsets inside the passage the sentence came from
    end: int
    score: float
    passage_index: int = 0


@dataclass(frozen=True)
class TimelineYear:
    year: int
    count: int
    status: str | None
    sentences: tuple[SummarySentence, ...]


@dataclass(frozen=True)
class Filters:
    """Restrictions applied before ranking. Text values match case- and accent-insensitively."""

    year: int | None = None
    year_from: int | None = None
    year_to: int | None = None
    country: str | None = None
    agency: str | None = None
    theme: str | None = None
    section: str | None = None
    source: str | None = None  # a reader kind ("uninfo-xlsx"...) or a part of the file path
    doc_id: str | None = None

    def is_empty(self) -> bool:
        return all(v is None for v in asdict(self).values())


@dataclass(frozen=True)
class Query:
    text: str
    k: int = 10
    filters: Filters = field(default_factory=Filters)
    offset: int = 0
    group_by_document: bool = False  # one hit per document (its best chunk), documents ranked by their best


@dataclass(frozen=True)
class Summary:
    query: str
    sentences: tuple[SummarySentence, ...]
    passages_considered: int = 0


@dataclass(frozen=True)
class Timeline:
    query: str
    years: tuple[TimelineYear, ...]


@dataclass(frozen=True)
class Mention:
    chunk: Chunk
    spans: tuple[tuple[int, int], ...]  # character offsets of each match inside the chunk text


@dataclass(frozen=True)
class MentionsResult:
    term: str
    total: int
    years: Mapping[str, int]
    countries: Mapping[str, int]
    documents: Mapping[str, int]
    mentions: tuple[Mention, ...]
    next_offset: int | None = None


@dataclass(frozen=True)
class FundingResult:
    records: tuple[FundingRecord, ...]
    totals_by_year: Mapping[str, Mapping[str, float]]  # year -> kind -> sum
    totals_by_partner: Mapping[str, float]
    totals_by_kind: Mapping[str, float]
