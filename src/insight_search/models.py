"""Small frozen value objects passed between modules.

Readers (``sources``) yield :class:`Document`; ``chunking`` turns them into :class:`Chunk`;
``search`` returns :class:`Hit`; ``summarize`` returns :class:`SummarySentence` and :class:`TimelineYear`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Section(StrEnum):
    """The passage sections every reader uses: one name per idea, whichever format the text came from.

    A passage's ``section`` is a plain string, so a reader may also use a name of its own (a Markdown
    heading, a JSONL ``section`` field); these are the ones the readers share. The ``section`` filter
    matches one of them exactly (case- and accent-insensitively)."""

    STRATEGIC_PRIORITY = "strategic_priority"
    """A Cooperation Framework strategic priority (top of the UN INFO results chain)."""
    OUTCOME = "outcome"
    """An outcome statement: the change a plan or an outcome page aims at."""
    OUTPUT = "output"
    """An output of the results chain (below an outcome)."""
    SUB_OUTPUT = "sub_output"
    """A UN INFO sub-output (the unit of a Joint Work Plan row or a country API project)."""
    DESCRIPTION = "description"
    """The free-text description of a framework node or sub-output."""
    INDICATORS = "indicators"
    """Indicator definitions and values of an outcome page."""
    FUNDING = "funding"
    """A sentence about money: a partner's contribution to an outcome."""
    PROGRESS_NOTE = "progress_note"
    """A yearly account of progress: an outcome page's progress note or a UN INFO ``YYYY Narrative``
    (the reader's own name is kept in ``Passage.label``, e.g. "2023 Narrative"). Carries its year."""
    MARKER = "marker_narrative"
    """The justification of a UN INFO marker score (gender, human rights, humanitarian, peace)."""
    PARTNERS = "partners"
    """The partners of a sub-output, contributing and implementing."""
    TEXT = "text"
    """Text without a more specific section (plain text paragraphs, text before a Markdown heading)."""


# Section names written by earlier versions of the readers, read as today's when an index is loaded.
_OLD_SECTIONS = {"narrative": Section.PROGRESS_NOTE}


def years_covered(year: int | None, year_end: int | None) -> range:
    """The years of a span, both ends included: ``year`` alone when ``year_end`` is None or not after it;
    empty when ``year`` is None (a record without a year)."""
    if year is None:
        return range(0)
    return range(year, max(year, year_end if year_end is not None else year) + 1)


def section_name(value: str) -> str:
    """Today's name of a section read from an older index: "narrative" -> "progress_note"."""
    return _OLD_SECTIONS.get(value, value)


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where a document came from: file path, reader kind, and row (spreadsheet/JSONL line) or position;
    a PDF chunk's pages (``page_from`` to ``page_to``, both ends included, 1-based)."""

    path: str
    kind: str  # "unwomen-page" | "uninfo-xlsx" | "uninfo-json" | "text" | "markdown" | "jsonl" | "pdf"
    row: int | None = None
    position: int | None = None
    page_from: int | None = None
    page_to: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Passage:
    """A coherent piece of a document (outcome statement, one year's progress note...).

    Chunks never cross a passage. ``composed`` passages hold text the reader wrote from the source's fields
    ("X contributed $267,469 in 2021 to this outcome.", "Contributing partners: A; B"), not a quote: they are
    searchable but never quoted as summary or timeline sentences."""

    text: str
    section: str  # a :class:`Section` value, or a reader's own name (a Markdown heading)
    year: int | None = None  # the first (or only) year the passage covers
    year_end: int | None = None  # the last year of its span; None (or ``year``) for one year
    status: str | None = None  # outcome status stated by a progress note, e.g. "not achieved"
    label: str | None = None  # the reader's own label, e.g. "2023 Narrative" or "Output 5.1.3"
    composed: bool = False  # the reader wrote this text from fields (a funding-table row, a partner list)
    pages: tuple[tuple[int, int], ...] = ()  # (offset, page): where each PDF page's text starts in ``text``
    language: str | None = None  # ISO 639-1 ("en", "es"): stated by the source, else detected (issue 13)


# The kinds of money a FundingRecord states: an outcome page's partner contribution, UN INFO's yearly
# Required / Available / Expenditure, an IATI activity's budget and its transactions (commitment,
# disbursement, expenditure).
FUNDING_KINDS = (
    "contribution",
    "required",
    "available",
    "expenditure",
    "budget",
    "commitment",
    "disbursement",
)


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


# A value as the source states it: a number when it is one ("2", "0.35"), else the text ("True", "Yes",
# "Law adopted"); None when missing ("-", empty).
IndicatorValue = float | str | None


@dataclass(frozen=True, slots=True)
class IndicatorPeriod:
    """One reporting period of an indicator: its dates (ISO "2021-01-01" as the source gives them), target,
    actual and the comment narrative that reports progress (a progress note dated by the period)."""

    start: str | None
    end: str | None
    target: IndicatorValue = None
    actual: IndicatorValue = None
    comment: str | None = None  # the actual's comment (progress narrative), else the target's

    @property
    def year(self) -> int | None:
        """The period's year: the year of its end date, else of its start."""
        for date in (self.end, self.start):
            if date and date[:4].isdigit():
                return int(date[:4])
        return None


@dataclass(frozen=True, slots=True)
class IndicatorRecord:
    """One results indicator of an activity (IATI ``result/indicator``), typed like a FundingRecord."""

    doc_id: str  # the activity's document (its IATI identifier)
    source: SourceRef
    title: str  # the indicator's title
    result: str | None = None  # the title of the result the indicator belongs to
    measure: str | None = None  # "unit" | "percentage" | "nominal" | "ordinal" | "qualitative"
    baseline: IndicatorValue = None
    baseline_year: int | None = None
    baseline_comment: str | None = None
    periods: tuple[IndicatorPeriod, ...] = ()
    country: str | None = None
    agencies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Document:
    """One record of a source (an outcome page, a sub-output row, a framework node, a text file).

    The domain fields are typed; ``metadata`` holds only what one reader alone knows (codes, SDG targets,
    money totals, dates)."""

    doc_id: str
    title: str
    source: SourceRef
    passages: tuple[Passage, ...]
    country: str | None = None
    region: str | None = None
    agencies: tuple[str, ...] = ()  # names and acronyms as the source lists them ("UN Women", "UNW")
    year: int | None = None  # document-level year (span start), used for passages that carry none
    year_end: int | None = None  # last year of the document's span (a project's end), with ``year``
    outcome: str | None = None  # the outcome statement the record belongs to (or is)
    themes: tuple[str, ...] = ()  # e.g. ("gender", "youth"): a UN INFO sub-output is in each theme's export
    partners: tuple[str, ...] = ()  # contributing, implementing or funding partners named by the source
    office: str | None = None  # the reporting office, e.g. "Mexico Country Office"
    metadata: Mapping[str, Any] = field(default_factory=dict)
    funding: tuple[FundingRecord, ...] = ()
    indicators: tuple[IndicatorRecord, ...] = ()

    def chunk_fields(self) -> dict[str, Any]:
        """What each chunk of this document carries from it (for filters, facets and citations)."""
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "source": self.source,
            "country": self.country,
            "region": self.region,
            "agencies": self.agencies,
            "themes": self.themes,
            "outcome": self.outcome,
            "metadata": self.metadata,
        }


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
    year_end: int | None = None
    status: str | None = None
    country: str | None = None
    region: str | None = None
    agencies: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    outcome: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    composed: bool = False  # from a composed passage (see :class:`Passage`): not the source's own words
    language: str | None = None  # the passage's language, ISO 639-1 (issue 13)

    @property
    def years(self) -> range:
        """The years this chunk covers (empty when it has no year); see :func:`years_covered`."""
        return years_covered(self.year, self.year_end)


@dataclass(frozen=True)
class Citation:
    doc_id: str
    chunk_id: str
    title: str
    source: SourceRef
    year: int | None = None
    year_end: int | None = None
    country: str | None = None
    composed: bool = False  # the cited chunk is composed (summaries and timelines never cite one)


@dataclass(frozen=True)
class Hit:
    rank: int
    score: float
    chunk: Chunk
    highlight: str
    dense_score: float | None = None
    lexical_score: float | None = None
    related: bool = False  # it does not match the query: a related candidate (``Settings.related``)


@dataclass(frozen=True)
class Facets:
    years: Mapping[str, int]
    countries: Mapping[str, int]
    agencies: Mapping[str, int]
    themes: Mapping[str, int] = field(default_factory=dict)
    languages: Mapping[str, int] = field(default_factory=dict)  # ISO 639-1 code -> count (issue 13)


@dataclass(frozen=True)
class SearchResult:
    query: str
    total: int
    hits: tuple[Hit, ...]
    facets: Facets
    next_offset: int | None = None
    related: int = 0  # candidates listed beside the ``total`` matches that do not match


@dataclass(frozen=True)
class SummarySentence:
    text: str
    citation: Citation
    start: int  # character offsets inside the passage the sentence came from
    end: int
    score: float
    passage_index: int = 0


@dataclass(frozen=True, slots=True)
class IndicatorLine:
    """One indicator's period in a timeline year ("2021: target 1, actual 2"), of a matching document."""

    doc_id: str
    title: str
    target: IndicatorValue = None
    actual: IndicatorValue = None
    comment: str | None = None


@dataclass(frozen=True)
class TimelineYear:
    """One year of a timeline. ``count``: the matching passages that cover the year (the same rows and
    the same span rule as the year facet); ``status`` and ``sentences`` come only from the year's own
    progress notes (``progress_notes`` of them match); ``active``: some other matching passages that
    cover the year (a project running then), best first, listed as such and never quoted."""

    year: int
    count: int
    status: str | None
    sentences: tuple[SummarySentence, ...]
    progress_notes: int = 0
    active: tuple[Chunk, ...] = ()
    indicators: tuple[IndicatorLine, ...] = ()  # periods of this year of the matching documents' indicators


@dataclass(frozen=True)
class Filters:
    """Restrictions applied before ranking, with one meaning in every operation (search, summary,
    timeline, mentions, facets, funding).

    * ``country``, ``theme``, ``section``: equal to one of the record's values, ignoring case, accents and
      surrounding spaces ("mexico" matches "Mexico", "progress_note" matches every progress note);
    * ``agency``: equal in the same way to one of the names or acronyms the source lists for the record's
      agencies ("UN Women", or "UNW" where the source gives both); no alias table, no substring;
    * ``year``: a year the record covers. A record's years are a span (``year`` to ``year_end``: a passage's
      own, else its document's): one year for a yearly progress note, start to end for a project.
      ``year=Y`` matches the spans holding Y; ``year_from`` / ``year_to`` match the spans that overlap
      them, both ends included; records without a year are left out of every year filter;
    * ``source``: a reader kind ("uninfo-xlsx"...) or else a part of the file path; ``doc_id``: exact.

    Funding's ``partner`` is the one substring match ("European" matches "European Union"), because the
    partner names of the funding tables are long. :func:`insight_search.text.same_name` is the comparison.
    """

    year: int | None = None
    year_from: int | None = None
    year_to: int | None = None
    country: str | None = None
    agency: str | None = None
    theme: str | None = None
    section: str | None = None
    source: str | None = None  # a reader kind ("uninfo-xlsx"...) or a part of the file path
    doc_id: str | None = None
    language: str | None = None  # ISO 639-1 code of the passage's language, exact ("es")

    def is_empty(self) -> bool:
        return all(v is None for v in asdict(self).values())


@dataclass(frozen=True)
class Query:
    text: str
    k: int = 10
    filters: Filters = field(default_factory=Filters)
    offset: int = 0
    group_by_document: bool = False  # one hit per document (its best chunk), documents ranked by their best
    related: bool | None = None  # also list candidates that do not match (None: ``Settings.related``)


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
