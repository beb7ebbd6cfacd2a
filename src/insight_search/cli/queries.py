"""The query commands: search, summarize, timeline, mentions, funding, indicators."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from insight_search.cli.app import (
    FILTER_HELP,
    Command,
    CursorOpt,
    IndexDir,
    JsonFlag,
    app,
    fail,
    out,
    print_json,
    run_operation,
    settings_for,
    with_filters,
)
from insight_search.errors import InsightSearchError
from insight_search.requests import parse, request_models

if TYPE_CHECKING:
    from insight_search.indicator_schemas import IndicatorOut
    from insight_search.schemas import SentenceOut, SourceOut

COMMENT_CHARS = 160  # a period's comment is cut to this in the text output (--json has it whole)


@app.command(cls=Command)
@with_filters
def search(
    query: Annotated[str, typer.Argument(help="What to look for, in plain words")],
    k: Annotated[int | None, typer.Option("--k", "-k", help="Number of results (default 10)")] = None,
    cursor: CursorOpt = None,
    group: Annotated[
        str | None,
        typer.Option(
            "--group", help="passage (default) or document: one hit per document, with its best passages"
        ),
    ] = None,
    related: Annotated[
        bool | None,
        typer.Option(
            "--related/--no-related",
            help="Also list related passages (near in meaning, no query word), marked; default: on",
        ),
    ] = None,
    index_dir: IndexDir = None,
    as_json: JsonFlag = False,
    filters: dict[str, Any] | None = None,
) -> None:
    """Semantic + keyword search over the index."""
    values = {"q": query, "k": k, "cursor": cursor, "group": group, "related": related, **(filters or {})}
    payload = run_operation("search", index_dir, values)
    if as_json:
        print_json(payload.model_dump())
        return
    if payload.total == 0:
        _nothing_matched(query, filters)
        return
    what = "matching documents" if group == "document" else "matching passages"
    more = f" (and {payload.related} related, marked)" if payload.related else ""
    out.print(f"[bold]{payload.total}[/] {what} for [italic]{query}[/]{more}", highlight=False)
    for r in payload.results:
        where = _where(_years(r.year, r.year_end), r.country, r.section, _composed(r.composed, r.section))
        loc = r.source.path + (f" row {r.source.row}" if r.source.row else "") + _page(r.source)
        tag = " [magenta]related[/] [dim](no query word, near in meaning)[/]" if r.related else ""
        title = f"[bold cyan]{r.rank}.[/] [bold]{r.title}[/]{_language(r.language)}{tag}"
        out.print(f"\n{title}  [dim]({where})[/]", highlight=False)
        out.print(f"   {r.highlight}", highlight=False, markup=False)
        out.print(f"   [dim]{loc} · {r.chunk_id} · score {r.score:.4f}[/]", highlight=False)
        for p in r.passages:  # group=document: the document's next best passages
            out.print(f"   · {p.highlight}", highlight=False, markup=False)
            out.print(f"     [dim]{p.chunk_id} · passage {p.passage_index}[/]", highlight=False)
    years = ", ".join(f"{y}: {n}" for y, n in payload.facets.years.items())
    out.print(f"\n[dim]by year: {years}[/]", highlight=False)
    if payload.facets.languages:
        languages = ", ".join(f"{code}: {n}" for code, n in payload.facets.languages.items())
        out.print(f"[dim]by language: {languages}[/]", highlight=False)
    if payload.next_cursor:
        out.print(f"[dim]more: --cursor {payload.next_cursor}[/]", highlight=False)


def _nothing_matched(query: str, filters: dict[str, Any] | None, what: str = "Nothing matched") -> None:
    """Say plainly that nothing matched, and what to loosen (the command still succeeds)."""
    given = [f"--{k.replace('_', '-')} {v}" for k, v in (filters or {}).items() if v is not None]
    hint = f"with {' '.join(given)}; try fewer or wider filters" if given else "try other or fewer words"
    out.print(f"{what} “{query}” ({hint}).", highlight=False, markup=False)


def _years(year: int | None, year_end: int | None) -> str | None:
    """A record's span as a person writes it: "2023", "2023–2024", or None."""
    if year is None:
        return None
    return f"{year}–{year_end}" if year_end is not None and year_end != year else str(year)


def _language(code: str | None) -> str:
    """A passage's language as a tag after its title: " [es]", or "" when unknown."""
    return f" [dim]\\[{code}][/]" if code else ""


def _page(source: SourceOut) -> str:
    """The PDF page(s) of a citation as a person writes them: " p. 12", " pp. 3–4", or ""."""
    if source.page is not None:
        return f" p. {source.page}"
    return f" pp. {source.page_from}–{source.page_to}" if source.page_from is not None else ""


def _composed(composed: bool, section: str) -> str | None:
    """How a passage the reader wrote from table fields is shown (never as the source's own words)."""
    if not composed:
        return None
    return {"funding": "from the funding table", "partners": "from the partner list"}.get(
        section, "composed from the record's fields"
    )


def _where(*values: object) -> str:
    """What is known of a record, as a person writes it: "2023, Mexico", "Mexico", or ""."""
    return ", ".join(str(x) for x in values if x not in (None, ""))


def _print_sentences(sentences: Sequence[SentenceOut]) -> None:
    for n, s in enumerate(sentences, start=1):
        where = _where(_years(s.year, s.year_end), s.country)
        out.print(f"{n}. {s.text}", highlight=False, markup=False)
        language = f" · {s.language}" if s.language else ""
        out.print(
            f"   [dim]({where}) {s.source.path}{_page(s.source)} · {s.doc_id} · {s.chunk_id} "
            f"[{s.start}:{s.end}]{language}[/]",
            highlight=False,
        )


@app.command(cls=Command)
@with_filters
def summarize(
    query: Annotated[str, typer.Argument(help="What the summary is about")],
    max_sentences: Annotated[
        int | None, typer.Option("--max-sentences", help="Sentences at most (default 5)")
    ] = None,
    max_words: Annotated[int | None, typer.Option("--max-words", help="Words at most")] = None,
    index_dir: IndexDir = None,
    as_json: JsonFlag = False,
    filters: dict[str, Any] | None = None,
) -> None:
    """Extractive summary (verbatim, cited sentences) of what the matching passages say."""
    values = {"q": query, "max_sentences": max_sentences, "max_words": max_words, **(filters or {})}
    payload = run_operation("summarize", index_dir, values)
    if as_json:
        print_json(payload.model_dump())
        return
    if not payload.sentences:
        if payload.passages_considered:
            out.print(
                f"No sentence of the {payload.passages_considered} matching "
                f"passage{'s' if payload.passages_considered != 1 else ''} can be quoted for “{query}”.",
                highlight=False,
                markup=False,
            )
        else:
            _nothing_matched(query, filters)
        return
    _print_sentences(payload.sentences)


@app.command(cls=Command)
@with_filters
def timeline(
    query: Annotated[str, typer.Argument(help="What the timeline is about")],
    fmt: Annotated[str, typer.Option("--format", help="text, json or markdown")] = "text",
    sentences_per_year: Annotated[
        int | None, typer.Option("--sentences-per-year", help="Cited sentences per year (default 3)")
    ] = None,
    index_dir: IndexDir = None,
    as_json: JsonFlag = False,
    filters: dict[str, Any] | None = None,
) -> None:
    """Year by year: matching passages, the stated status, and a short cited summary."""
    if fmt not in ("text", "json", "markdown"):
        raise fail(InsightSearchError(f"--format must be text, json or markdown, got {fmt!r}"))
    values = {"q": query, "sentences_per_year": sentences_per_year, **(filters or {})}
    operation = "timeline_markdown" if fmt == "markdown" else "timeline"
    settings = settings_for(index_dir)
    try:
        from insight_search.service import Service

        request = parse(request_models(settings).timeline, {k: v for k, v in values.items() if v is not None})
        payload = getattr(Service.open(settings), operation)(request)
    except InsightSearchError as exc:
        raise fail(exc) from None
    if fmt == "markdown":
        sys.stdout.write(payload)
        return
    if as_json or fmt == "json":
        print_json(payload.model_dump())
        return
    if not payload.years:
        _nothing_matched(query, filters)
        return
    for y in payload.years:
        status = f" — status: {y.status}" if y.status else ""
        notes = f", {y.progress_notes} of them that year's progress notes" if y.progress_notes else ""
        out.print(f"\n[bold]{y.year}[/] ({y.count} matching passages{notes}){status}", highlight=False)
        _print_sentences(y.sentences)
        if y.active:
            out.print(
                f"   [dim]also active that year (not quoted): {len(y.active)} passage(s), "
                f"e.g. {y.active[0].title}[/]",
                highlight=False,
            )
        for i in y.indicators:
            comment = f" — {_cut(i.comment)}" if i.comment else ""
            out.print(f"   indicator: {i.title}: {i.line}{comment}", highlight=False, markup=False)
            out.print(f"   [dim]{i.doc_id}[/]", highlight=False)


@app.command(cls=Command)
@with_filters
def mentions(
    term: Annotated[str, typer.Argument(help="Name or phrase (accent- and case-insensitive)")],
    cursor: CursorOpt = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Passages per page (default 20)")] = None,
    index_dir: IndexDir = None,
    as_json: JsonFlag = False,
    filters: dict[str, Any] | None = None,
) -> None:
    """Every passage that mentions TERM (complete, not top-k), counted by year, country and document."""
    payload = run_operation(
        "mentions", index_dir, {"term": term, "cursor": cursor, "limit": limit, **(filters or {})}
    )
    if as_json:
        print_json(payload.model_dump())
        return
    if payload.total == 0:
        _nothing_matched(term, filters, what="No passage mentions")
        return
    years = ", ".join(f"{y.year}: {y.count}" for y in payload.years)
    out.print(f"[bold]{payload.total}[/] passages mention [italic]{term}[/] ({years})", highlight=False)
    for p in payload.passages:
        s, e = p.spans[0] if p.spans else (0, 0)
        lo = max(0, s - 80)
        snippet = p.text[lo:s] + "«" + p.text[s:e] + "»" + p.text[e : e + 80]
        where = _where(_years(p.year, p.year_end), p.country)
        language = f" [{p.language}]" if p.language else ""
        line = f"- {f'({where}) ' if where else ''}{p.doc_id}: …{snippet}…{language}"
        out.print(line, highlight=False, markup=False)
    if payload.next_cursor:
        out.print(f"[dim]more: --cursor {payload.next_cursor}[/]", highlight=False)


@app.command(cls=Command)
def funding(
    partner: Annotated[str | None, typer.Option("--partner", help="Partner name (part of it)")] = None,
    year: Annotated[int | None, typer.Option("--year", help=FILTER_HELP["year"])] = None,
    country: Annotated[str | None, typer.Option("--country", help=FILTER_HELP["country"])] = None,
    agency: Annotated[str | None, typer.Option("--agency", help=FILTER_HELP["agency"])] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", help="contribution, required, available, expenditure")
    ] = None,
    doc_id: Annotated[str | None, typer.Option("--doc-id", help="Only this document")] = None,
    cursor: CursorOpt = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Records per page (default 100)")] = None,
    index_dir: IndexDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Funding and resource records (amounts in USD) with totals per year and per partner."""
    values = {
        "partner": partner,
        "year": year,
        "country": country,
        "agency": agency,
        "kind": kind,
        "doc_id": doc_id,
        "cursor": cursor,
        "limit": limit,
    }
    payload = run_operation("funding", index_dir, values)
    if as_json:
        print_json(payload.model_dump())
        return
    table = Table("partner / agency", "year", "kind", "total (USD)", "source")
    for r in payload.records:
        who = r.partner or ", ".join(r.agencies) or ""
        table.add_row(
            who, str(r.year or ""), r.kind, f"{r.total:,.0f}" if r.total is not None else "", r.doc_id
        )
    out.print(table)
    for y, kinds in payload.totals.by_year.items():
        out.print(f"{y}: " + ", ".join(f"{k} {v:,.0f}" for k, v in kinds.items()), highlight=False)


@app.command(cls=Command)
def indicators(
    text: Annotated[
        str | None, typer.Argument(help="Words of the indicator's title", show_default=False)
    ] = None,
    country: Annotated[str | None, typer.Option("--country", help=FILTER_HELP["country"])] = None,
    agency: Annotated[str | None, typer.Option("--agency", help=FILTER_HELP["agency"])] = None,
    year: Annotated[
        int | None, typer.Option("--year", help="Only indicators with a period covering this year")
    ] = None,
    doc_id: Annotated[str | None, typer.Option("--doc-id", help="Only this activity")] = None,
    cursor: CursorOpt = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Indicators per page (default 100)")] = None,
    index_dir: IndexDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Results indicators (IATI activities): baseline, and per period target, actual and progress comment."""
    values = {
        "text": text,
        "country": country,
        "agency": agency,
        "year": year,
        "doc_id": doc_id,
        "cursor": cursor,
        "limit": limit,
    }
    payload = run_operation("indicators", index_dir, values)
    if as_json:
        print_json(payload.model_dump())
        return
    if payload.total == 0:
        given = {"--country": country, "--agency": agency, "--year": year, "--doc-id": doc_id}
        hint = " ".join(f"{k} {v}" for k, v in given.items() if v is not None)
        what = f" “{text}”" if text else ""
        out.print(
            f"No indicator{what}" + (f" with {hint}; try fewer or wider filters." if hint else "."),
            highlight=False,
            markup=False,
        )
        return
    out.print(f"[bold]{payload.total}[/] indicator{'s' if payload.total != 1 else ''}", highlight=False)
    for r in payload.indicators:
        _print_indicator(r)
    if payload.next_cursor:
        out.print(f"\n[dim]more: --cursor {payload.next_cursor}[/]", highlight=False)


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= COMMENT_CHARS else text[: COMMENT_CHARS - 1].rstrip() + "…"


def _print_indicator(r: IndicatorOut) -> None:
    """One block: activity, result, title, measure, baseline, then a line per period."""
    from insight_search.indicators import period_text, value_text

    activity = f"{r.activity} ({r.doc_id})" if r.activity else r.doc_id
    out.print(f"\n[bold]{r.title}[/]", highlight=False)
    lines = [f"activity: {activity}"]
    if r.result:
        lines.append(f"result: {r.result}")
    if r.measure:
        lines.append(f"measure: {r.measure}")
    if r.baseline is not None or r.baseline_year is not None:
        year = f" ({r.baseline_year})" if r.baseline_year is not None else ""
        note = f" — {_cut(r.baseline_comment)}" if r.baseline_comment else ""
        lines.append(f"baseline: {value_text(r.baseline)}{year}{note}")
    for p in r.periods:
        when = str(p.year) if p.year is not None else "undated"
        note = f" — {_cut(p.comment)}" if p.comment else ""
        lines.append(f"{when}: {period_text(p.target, p.actual)}{note}")
    for line in lines:
        out.print(f"   {line}", highlight=False, markup=False)
