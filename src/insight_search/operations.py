"""The operations every edge offers, named once: search, summarize, timeline, mentions, funding, indicators
(also chatbot tools), facets, document and chunk.

Each names its request model (``requests.RequestModels``), its response model (``schemas``) and the
:class:`~insight_search.service.Service` method that runs it (the same name). The HTTP routes, ``GET /tools``
(OpenAI-style function definitions) and the MCP server are generated from this table, so an operation's name,
description and JSON schemas are written once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from insight_search.errors import BadInput
from insight_search.funding_schemas import FundingOut
from insight_search.indicator_schemas import IndicatorsOut
from insight_search.requests import RequestModels, parse
from insight_search.schemas import (
    ChunkOut,
    DocumentOut,
    FacetsOut,
    MentionsOut,
    SearchOut,
    SummaryOut,
    TimelineOut,
)

if TYPE_CHECKING:
    from insight_search.service import Service


@dataclass(frozen=True)
class Operation:
    name: str  # also the Service method, the route path (/name) and the tool name
    description: str
    output: type[BaseModel]
    tool: bool = True  # offered to chatbots (MCP, /tools)

    def request(self, models: RequestModels) -> type[BaseModel]:
        return models.of(self.name)

    def run(self, service: Service, request: BaseModel) -> BaseModel:
        result: BaseModel = getattr(service, self.name)(request)
        return result

    def openai(self, models: RequestModels) -> dict[str, Any]:
        """The operation as an OpenAI-style function definition."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.request(models).model_json_schema(),
            },
        }


OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "search",
        "Hybrid (semantic + keyword) search over UN results reporting: outcome pages, progress notes, "
        "UN INFO work plans. Returns the best passages with year, country, source, the matching sentence "
        "(highlight), and counts per year/country/agency. Filters apply before ranking.",
        SearchOut,
    ),
    Operation(
        "summarize",
        "Extractive summary of what the matching passages say about q: verbatim sentences, each with its "
        "citation (doc_id, chunk_id, year, country, source and character offsets in its passage) and the "
        "language of its passage (each sentence stays in its own language).",
        SummaryOut,
    ),
    Operation(
        "timeline",
        "Year by year (ascending) for q: number of matching passages, the status stated that year "
        "(e.g. on track), a few cited sentences, and the indicator periods of that year (target, actual) "
        "of the matching documents.",
        TimelineOut,
    ),
    Operation(
        "mentions",
        "Every passage that names a term (complete list, paged; accent- and case-insensitive), with counts "
        "per year, country and document.",
        MentionsOut,
    ),
    Operation(
        "funding",
        "Funding and resource records (USD): partner contributions and required/available/expenditure "
        "figures, with totals per year and kind, and per partner.",
        FundingOut,
    ),
    Operation(
        "indicators",
        "Results indicators of activities (IATI): title, result, measure, baseline (value, year) and per "
        "period start, end, target, actual and the progress comment; numbers as numbers, text values as "
        "text, missing as null. Filters: words of the title (text), country, agency, a year a period "
        "covers, doc_id.",
        IndicatorsOut,
    ),
    Operation(
        "facets",
        "Counts by year, country, agency, theme and language: over a query's matches, or the whole "
        "(filtered) index.",
        FacetsOut,
        tool=False,
    ),
    Operation(
        "document",
        "A whole document with its passages, metadata and the ids of its chunks.",
        DocumentOut,
        tool=False,
    ),
    Operation("chunk", "One chunk (the unit results and citations point to).", ChunkOut, tool=False),
)

BY_NAME: Mapping[str, Operation] = {op.name: op for op in OPERATIONS}
TOOLS: tuple[Operation, ...] = tuple(op for op in OPERATIONS if op.tool)


def get_tool(name: str) -> Operation:
    op = BY_NAME.get(name)
    if op is None or not op.tool:
        raise BadInput(f"unknown tool {name!r}; the tools are {', '.join(t.name for t in TOOLS)}")
    return op


def call_tool(service: Service, name: str, arguments: Mapping[str, Any] | None) -> BaseModel:
    """Validate ``arguments`` with the tool's request model and run it (BadInput when they do not fit)."""
    op = get_tool(name)
    return op.run(service, parse(op.request(service.requests), arguments))


def openai_tools(models: RequestModels) -> list[dict[str, Any]]:
    return [op.openai(models) for op in TOOLS]
