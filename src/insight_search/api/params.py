"""Request parameters of the query routes, one pydantic model each.

The same models are the JSON schemas of the chatbot tools (``api/tools.py``: MCP and ``GET /tools``), so a
limit or a description is written once. Limits here are the first line of defence; the engine checks again.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from insight_search.models import Filters

MAX_QUERY_CHARS = 1000
MAX_K = 100

Year = Annotated[int | None, Field(ge=1900, le=2100, description="A four-digit year", examples=[2023])]
Text = Annotated[str | None, Field(max_length=200)]
QueryText = Annotated[
    str,
    Field(min_length=1, max_length=MAX_QUERY_CHARS, description="What to look for, in plain words"),
]
Cursor = Annotated[
    str | None, Field(max_length=512, description="next_cursor of the previous page, to get the next one")
]


class FilterParams(BaseModel):
    """Filters shared by every query route; applied before ranking."""

    model_config = ConfigDict(extra="forbid")

    year: Year = None
    year_from: Annotated[
        int | None, Field(ge=1900, le=2100, description="From this year (inclusive)", examples=[2021])
    ] = None
    year_to: Annotated[
        int | None, Field(ge=1900, le=2100, description="Up to this year (inclusive)", examples=[2024])
    ] = None
    country: Annotated[
        str | None, Field(max_length=200, description="Only this country", examples=["Mexico"])
    ] = None
    agency: Annotated[
        str | None,
        Field(max_length=200, description="Only this agency (abbreviation or name)", examples=["UN Women"]),
    ] = None
    theme: Annotated[
        str | None, Field(max_length=200, description="Only this theme", examples=["gender"])
    ] = None
    section: Annotated[
        str | None,
        Field(
            max_length=200, description="Only this section, e.g. progress_note", examples=["progress_note"]
        ),
    ] = None
    source: Annotated[
        str | None,
        Field(
            max_length=200,
            description="A reader kind (e.g. uninfo-xlsx) or a part of the file path",
            examples=["unwomen-page"],
        ),
    ] = None

    def filters(self) -> Filters:
        return Filters(**self.model_dump(include=set(FilterParams.model_fields)))


class SearchParams(FilterParams):
    q: QueryText = Field(examples=["care system legislation"])
    k: int = Field(10, ge=1, le=MAX_K, description="Results per page")
    cursor: Cursor = None


class SummarizeParams(FilterParams):
    q: QueryText = Field(examples=["care system legislation"])
    max_sentences: int = Field(5, ge=1, le=50, description="Sentences at most")
    max_words: int | None = Field(None, ge=1, le=5000, description="Words at most")


class TimelineParams(FilterParams):
    q: QueryText = Field(examples=["Monterrey care system"])
    sentences_per_year: int = Field(3, ge=1, le=20, description="Cited sentences per year at most")


class MentionsParams(FilterParams):
    term: Annotated[
        str,
        Field(
            min_length=1,
            max_length=200,
            description="Name or phrase (accent- and case-insensitive)",
            examples=["Nuevo León"],
        ),
    ]
    cursor: Cursor = None
    limit: int = Field(20, ge=1, le=200, description="Passages per page")


class FundingParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    partner: Text = Field(
        None, description="Partner name (or part of it)", examples=["Multi-Partner Trust Fund"]
    )
    year: Year = None
    country: Text = Field(None, description="Only this country", examples=["Mexico"])
    agency: Text = Field(None, description="Only this agency", examples=["UN Women"])
    kind: Annotated[
        str | None,
        Field(
            pattern="^(contribution|required|available|expenditure)$",
            description="contribution, required, available or expenditure",
            examples=["contribution"],
        ),
    ] = None
    doc_id: Text = Field(None, description="Only the records of this document")
    cursor: Cursor = None
    limit: int = Field(100, ge=1, le=1000, description="Records per page")


class FacetParams(FilterParams):
    q: Annotated[
        str | None,
        Field(
            max_length=MAX_QUERY_CHARS,
            description="Count over this query's candidates (whole index when absent)",
            examples=["care system"],
        ),
    ] = None
