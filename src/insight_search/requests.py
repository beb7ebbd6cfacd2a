"""One request model per operation, defined once for every edge.

The CLI builds these from its options, the HTTP routes take them (GET query parameters and POST bodies alike),
and the MCP tools and ``GET /tools`` publish their JSON schemas. Every bound comes from :class:`Settings`
(``INSIGHT_SEARCH_MAX_K`` and the other ``max_*`` settings), so the models are made per settings by
:func:`request_models`; a request that passes them is valid for the service, which checks nothing again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from insight_search.config import Settings
from insight_search.errors import InvalidRequest
from insight_search.grouping import GROUP_VALUES
from insight_search.languages import normalise
from insight_search.models import FUNDING_KINDS as KINDS
from insight_search.models import Filters

YEAR_MIN, YEAR_MAX = 1900, 2100
CURSOR_MAX_CHARS = 512  # the cursor format's own size (cursor.py), not a tunable bound
# The filters every query operation takes, with the help each edge shows (CLI options, OpenAPI, tool schemas).
FILTER_HELP: dict[str, str] = {
    "year": "Only passages covering this year (a project's span holds it)",
    "year_from": "Only passages covering a year from this one on (spans that overlap)",
    "year_to": "Only passages covering a year up to this one (spans that overlap)",
    "country": "Only this country",
    "agency": "Only this agency (as the source names it: acronym or name)",
    "theme": "Only this theme (e.g. gender)",
    "section": "Only this section (e.g. progress_note)",
    "source": "A reader kind (e.g. uninfo-xlsx) or a part of the file path",
    "lang": "Only passages in this language (ISO 639-1 code, e.g. es; see the languages facet)",
}
FILTER_FIELDS = tuple(FILTER_HELP)
FILTER_TARGETS = {"lang": "language"}  # a request's filter name -> the ``Filters`` field it sets
QUERY_HELP = (
    "What to look for, in plain words; a pasted paragraph too (up to the request-body limit; send a long one "
    "by POST). The meaning is read from its first part (the model's max_seq_length tokens), the keywords "
    "from all of it"
)
FundingKind = Literal[KINDS]  # type: ignore[valid-type]
GROUP_HELP = (
    "passage: the best passages (several may come from one document); document: one hit per document, its "
    "best passage, with up to 3 more of its matching passages in `passages` (`total` then counts documents)"
)

RELATED_HELP = (
    "Also list the search's candidates that do not match (no query word, below the match threshold, near "
    "in meaning) where the ranking puts them, each with `related: true`; `total` counts the matches only, "
    "and nothing is listed when nothing matches. Default: the server's `related` setting (on)"
)


def _not_blank(what: str) -> AfterValidator:
    def check(value: str) -> str:
        if not value.strip():
            raise PydanticCustomError("blank", f"the {what} is empty")
        return value

    return AfterValidator(check)


def _language() -> AfterValidator:
    """A language filter as its ISO 639-1 code ("ES", "es-MX", "Spanish" -> "es")."""

    def check(value: str | None) -> str | None:
        if value is None:
            return None
        code = normalise(value)
        if code is None:
            raise PydanticCustomError("language", "not a language code (ISO 639-1, e.g. es)")
        return code

    return AfterValidator(check)


@dataclass(frozen=True)
class RequestModels:
    """The request model of each operation, with the bounds of one :class:`Settings`."""

    search: type[BaseModel]
    search_batch: type[BaseModel]
    summarize: type[BaseModel]
    timeline: type[BaseModel]
    mentions: type[BaseModel]
    funding: type[BaseModel]
    indicators: type[BaseModel]
    facets: type[BaseModel]
    document: type[BaseModel]
    chunk: type[BaseModel]

    def of(self, operation: str) -> type[BaseModel]:
        model: type[BaseModel] = getattr(self, operation)
        return model


def request_models(settings: Settings) -> RequestModels:
    """The request models for ``settings``' bounds (made once per distinct set of bounds)."""
    bounds = {name: getattr(settings, name) for name in Settings.model_fields if name.startswith("max_")}
    return _models(tuple(sorted(bounds.items())))


def describe_errors(errors: Sequence[Mapping[str, Any]]) -> str:
    """One line for pydantic errors, the same whichever edge validated: ``k: Input should be ...``.
    FastAPI's ``query``/``body``/``path`` location prefix is left out."""
    parts = []
    for e in errors:
        loc = [str(p) for p in e.get("loc", ()) if p not in ("query", "body", "path")]
        parts.append(f"{'.'.join(loc) or 'request'}: {e['msg']}")
    return "; ".join(parts)


def parse(model: type[BaseModel], values: Mapping[str, Any] | None) -> Any:
    """Validate ``values`` against ``model``; :class:`InvalidRequest` with the line of
    :func:`describe_errors` if not."""
    try:
        return model.model_validate(dict(values or {}))
    except ValidationError as exc:
        raise InvalidRequest(describe_errors(exc.errors())) from None


@lru_cache(maxsize=8)
def _models(bounds_items: tuple[tuple[str, int], ...]) -> RequestModels:
    b = dict(bounds_items)
    name_chars = b["max_name_chars"]

    def name(description: str, example: str) -> Any:
        return Field(None, max_length=name_chars, description=description, examples=[example])

    def year_field(field: str, example: int) -> Any:
        return Field(None, ge=YEAR_MIN, le=YEAR_MAX, description=FILTER_HELP[field], examples=[example])

    Cursor = Annotated[
        str | None,
        Field(
            max_length=CURSOR_MAX_CHARS, description="next_cursor of the previous page, to get the next one"
        ),
    ]
    QueryText = Annotated[
        str,
        Field(
            max_length=b["max_query_chars"],
            description=QUERY_HELP,
            examples=["care system legislation"],
        ),
        _not_blank("query"),
    ]

    class FilterFields(BaseModel):
        """Filters shared by every query operation; they select passages before ranking. Text values match
        case- and accent-insensitively on one of the passage's values (see ``models.Filters``)."""

        model_config = ConfigDict(extra="forbid", frozen=True)

        year: int | None = year_field("year", 2023)
        year_from: int | None = year_field("year_from", 2021)
        year_to: int | None = year_field("year_to", 2024)
        country: str | None = name(FILTER_HELP["country"], "Mexico")
        agency: str | None = name(FILTER_HELP["agency"], "UN Women")
        theme: str | None = name(FILTER_HELP["theme"], "gender")
        section: str | None = name(FILTER_HELP["section"], "progress_note")
        source: str | None = name(FILTER_HELP["source"], "unwomen-page")
        lang: Annotated[str | None, _language()] = name(FILTER_HELP["lang"], "es")

        @model_validator(mode="after")
        def _year_range(self) -> Any:
            if self.year_from is not None and self.year_to is not None and self.year_from > self.year_to:
                raise PydanticCustomError(
                    "year_range", f"year_from ({self.year_from}) is after year_to ({self.year_to})"
                )
            return self

        def filters(self) -> Filters:
            return Filters(**{FILTER_TARGETS.get(f, f): getattr(self, f) for f in FILTER_FIELDS})

    class SearchRequest(FilterFields):
        q: QueryText
        k: int = Field(10, ge=1, le=b["max_k"], description="Results per page")
        cursor: Cursor = None
        group: Literal[GROUP_VALUES] = Field("passage", description=GROUP_HELP)  # type: ignore[valid-type]
        related: bool | None = Field(None, description=RELATED_HELP)

    class SearchBatchRequest(BaseModel):
        """Several searches in one request. Each query is checked on its own (the service parses it with
        ``SearchRequest``), so one that does not fit gets its own error and the others are still answered."""

        model_config = ConfigDict(extra="forbid", frozen=True)

        queries: list[Annotated[Any, WithJsonSchema(SearchRequest.model_json_schema())]] = Field(
            min_length=1,
            max_length=b["max_batch_queries"],
            description="The searches, each with the parameters of POST /search",
            examples=[[{"q": "care system legislation"}, {"q": "gender budgeting", "k": 5}]],
        )

    class SummarizeRequest(FilterFields):
        q: QueryText
        max_sentences: int = Field(5, ge=1, le=b["max_summary_sentences"], description="Sentences at most")
        max_words: int | None = Field(None, ge=1, le=b["max_summary_words"], description="Words at most")

    class TimelineRequest(FilterFields):
        q: QueryText = Field(examples=["Monterrey care system"])
        sentences_per_year: int = Field(
            3, ge=1, le=b["max_sentences_per_year"], description="Cited sentences per year at most"
        )

    class MentionsRequest(FilterFields):
        term: Annotated[
            str,
            Field(
                max_length=name_chars,
                description="Name or phrase (accent- and case-insensitive)",
                examples=["Nuevo León"],
            ),
            _not_blank("term"),
        ]
        cursor: Cursor = None
        limit: int = Field(20, ge=1, le=b["max_mentions_page"], description="Passages per page")

    class FundingRequest(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)

        partner: str | None = name("Partner name (or a part of it)", "Multi-Partner Trust Fund")
        year: int | None = year_field("year", 2021)
        country: str | None = name(FILTER_HELP["country"], "Mexico")
        agency: str | None = name(FILTER_HELP["agency"], "UN Women")
        kind: FundingKind | None = Field(None, description=", ".join(KINDS), examples=["contribution"])
        doc_id: str | None = Field(None, max_length=b["max_id_chars"], description="Only this document")
        cursor: Cursor = None
        limit: int = Field(100, ge=1, le=b["max_funding_page"], description="Records per page")

    class IndicatorsRequest(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)

        text: str | None = Field(
            None,
            max_length=b["max_query_chars"],
            description="Words of the indicator's title (each starts a word of it; case and accents ignored)",
            examples=["legal frameworks DRR gender"],
        )
        year: int | None = Field(
            None,
            ge=YEAR_MIN,
            le=YEAR_MAX,
            description="Only indicators with a period covering this year",
            examples=[2021],
        )
        country: str | None = name(FILTER_HELP["country"], "Albania")
        agency: str | None = name(FILTER_HELP["agency"], "UN Women")
        doc_id: str | None = Field(
            None, max_length=b["max_id_chars"], description="Only this activity (its document id)"
        )
        cursor: Cursor = None
        limit: int = Field(100, ge=1, le=b["max_funding_page"], description="Indicators per page")

    class FacetsRequest(FilterFields):
        q: str | None = Field(
            None,
            max_length=b["max_query_chars"],
            description="Count over this query's matches (the whole index when absent)",
            examples=["care system"],
        )

    class DocumentRequest(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)
        doc_id: str = Field(min_length=1, max_length=b["max_id_chars"], description="doc_id of a result")

    class ChunkRequest(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)
        chunk_id: str = Field(min_length=1, max_length=b["max_id_chars"], description="chunk_id of a result")

    return RequestModels(
        search=SearchRequest,
        search_batch=SearchBatchRequest,
        summarize=SummarizeRequest,
        timeline=TimelineRequest,
        mentions=MentionsRequest,
        funding=FundingRequest,
        indicators=IndicatorsRequest,
        facets=FacetsRequest,
        document=DocumentRequest,
        chunk=ChunkRequest,
    )
