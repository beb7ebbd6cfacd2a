"""The operations a chatbot can call: search, summarize, timeline, mentions, funding.

Each tool is a parameter model (the same one its HTTP route takes), an output model (the route's response
model) and a function over the searcher that calls ``insight_search.service``. The HTTP routes, the MCP server
(``insight_search.mcp_server``) and ``GET /tools`` (OpenAI-style function definitions) all read this table,
so a tool's JSON schema is written once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from insight_search import service
from insight_search.api.params import (
    FundingParams,
    MentionsParams,
    SearchParams,
    SummarizeParams,
    TimelineParams,
)
from insight_search.errors import BadInput
from insight_search.schemas import FundingOut, MentionsOut, SearchOut, SummaryOut, TimelineOut
from insight_search.search import Searcher


def run_search(searcher: Searcher, p: SearchParams) -> SearchOut:
    return service.search(searcher, p.q, k=p.k, filters=p.filters(), cursor=p.cursor)


def run_summarize(searcher: Searcher, p: SummarizeParams) -> SummaryOut:
    return service.summary(
        searcher, p.q, filters=p.filters(), max_sentences=p.max_sentences, max_words=p.max_words
    )


def run_timeline(searcher: Searcher, p: TimelineParams) -> TimelineOut:
    return service.year_timeline(searcher, p.q, filters=p.filters(), sentences_per_year=p.sentences_per_year)


def run_mentions(searcher: Searcher, p: MentionsParams) -> MentionsOut:
    return service.term_mentions(searcher, p.term, filters=p.filters(), cursor=p.cursor, limit=p.limit)


def run_funding(searcher: Searcher, p: FundingParams) -> FundingOut:
    return service.funding_facts(
        searcher,
        partner=p.partner,
        year=p.year,
        country=p.country,
        agency=p.agency,
        kind=p.kind,
        doc_id=p.doc_id,
        cursor=p.cursor,
        limit=p.limit,
    )


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    params: type[BaseModel]
    output: type[BaseModel]
    run: Callable[[Searcher, Any], BaseModel]

    def input_schema(self) -> dict[str, Any]:
        return self.params.model_json_schema()

    def output_schema(self) -> dict[str, Any]:
        return self.output.model_json_schema()

    def openai(self) -> dict[str, Any]:
        """The tool as an OpenAI-style function definition."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.input_schema(),
            },
        }


TOOLS: tuple[Tool, ...] = (
    Tool(
        "search",
        "Hybrid (semantic + keyword) search over UN results reporting: outcome pages, progress notes, "
        "UN INFO work plans. Returns the best passages with year, country, source, the matching sentence "
        "(highlight), and counts per year/country/agency. Filters apply before ranking.",
        SearchParams,
        SearchOut,
        run_search,
    ),
    Tool(
        "summarize",
        "Extractive summary of what the matching passages say about q: verbatim sentences, each with its "
        "citation (doc_id, chunk_id, year, country, source and character offsets in its passage).",
        SummarizeParams,
        SummaryOut,
        run_summarize,
    ),
    Tool(
        "timeline",
        "Year by year (ascending) for q: number of matching passages, the status stated that year "
        "(e.g. on track), and a few cited sentences.",
        TimelineParams,
        TimelineOut,
        run_timeline,
    ),
    Tool(
        "mentions",
        "Every passage that names a term (complete list, paged; accent- and case-insensitive), with counts "
        "per year, country and document.",
        MentionsParams,
        MentionsOut,
        run_mentions,
    ),
    Tool(
        "funding",
        "Funding and resource records (USD): partner contributions and required/available/expenditure "
        "figures, with totals per year and kind, and per partner.",
        FundingParams,
        FundingOut,
        run_funding,
    ),
)

BY_NAME = {t.name: t for t in TOOLS}


def get_tool(name: str) -> Tool:
    tool = BY_NAME.get(name)
    if tool is None:
        raise BadInput(f"unknown tool {name!r}; the tools are {', '.join(BY_NAME)}")
    return tool


def validation_message(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors())


def call_tool(searcher: Searcher, name: str, arguments: dict[str, Any] | None) -> BaseModel:
    """Validate ``arguments`` against the tool's parameter model and run it; BadInput when they do not fit."""
    tool = get_tool(name)
    try:
        params = tool.params.model_validate(arguments or {})
    except ValidationError as exc:
        raise BadInput(f"invalid arguments for {name}: {validation_message(exc)}") from None
    return tool.run(searcher, params)


def openai_tools() -> list[dict[str, Any]]:
    return [t.openai() for t in TOOLS]
