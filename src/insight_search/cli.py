"""Command line: a thin Typer layer over the same functions the API calls."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from insight_search.config import Settings
from insight_search.errors import InsightSearchError
from insight_search.models import Filters

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Search and summarise UN results reporting."
)
console = Console(stderr=True)
out = Console(soft_wrap=True)

IndexDir = Annotated[
    Path | None,
    typer.Option(
        "--index-dir", help="Index folder (default: index/, or INSIGHT_SEARCH_INDEX_DIR)", show_default=False
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object")]
YearOpt = Annotated[int | None, typer.Option("--year", help="Only this year")]
YearFromOpt = Annotated[int | None, typer.Option("--year-from", help="From this year")]
YearToOpt = Annotated[int | None, typer.Option("--year-to", help="Up to this year")]
CountryOpt = Annotated[str | None, typer.Option("--country", help="Only this country")]
AgencyOpt = Annotated[str | None, typer.Option("--agency", help="Only this agency (abbreviation or name)")]
ThemeOpt = Annotated[str | None, typer.Option("--theme", help="Only this theme (e.g. gender)")]
SectionOpt = Annotated[
    str | None, typer.Option("--section", help="Only this section (e.g. progress_note, narrative)")
]
SourceOpt = Annotated[str | None, typer.Option("--source", help="Only this source kind or file path part")]
CursorOpt = Annotated[
    str | None, typer.Option("--cursor", help="Continue from a previous page's next_cursor")
]


def _settings(index_dir: Path | None) -> Settings:
    settings = Settings()
    if index_dir is not None:
        settings = settings.model_copy(update={"index_dir": index_dir})
    return settings


def _fail(exc: Exception) -> typer.Exit:
    console.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
    return typer.Exit(code=2)


def _print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


def _filters(year, year_from, year_to, country, agency, theme=None, section=None, source=None) -> Filters:  # type: ignore[no-untyped-def]
    return Filters(
        year=year,
        year_from=year_from,
        year_to=year_to,
        country=country,
        agency=agency,
        theme=theme,
        section=section,
        source=source,
    )


def run_index(paths: list[Path], settings: Settings, quiet: bool = False):  # type: ignore[no-untyped-def]
    """Build the index with progress bars; returns the report."""
    from insight_search.embedding import make_embedder
    from insight_search.indexer import Progress as BuildProgress
    from insight_search.indexer import build_index

    embedder = make_embedder(settings)
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=quiet,
        transient=False,
    ) as bars:
        reading = bars.add_task("reading files", total=None)
        embedding = bars.add_task("embedding chunks", total=None)
        queued = [0]

        def on_embed_start(window: int) -> None:  # once per window: the total grows as files are read
            queued[0] += window
            bars.update(embedding, total=queued[0])

        hooks = BuildProgress(
            on_file=lambda p: bars.advance(reading),
            on_embed_start=on_embed_start,
            on_embedded=lambda n: bars.advance(embedding, n),
        )
        report = build_index(paths, settings, embedder, progress=hooks)
        bars.update(reading, total=report.files)
        return report


@app.command()
def index(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to index (formats are detected)")],
    index_dir: IndexDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Index PATHS: afterwards the index holds exactly what these paths hold now."""
    settings = _settings(index_dir)
    try:
        report = run_index(paths, settings, quiet=as_json)
    except InsightSearchError as exc:
        raise _fail(exc) from None
    if as_json:
        from dataclasses import asdict

        _print_json(asdict(report))
    else:
        out.print(
            f"Indexed {report.documents} documents, {report.passages} passages, {report.chunks} chunks from "
            f"{report.files} files into {settings.index_dir} ({report.embedded} embedded, "
            f"{report.cached} reused "
            f"from cache) in {report.seconds:.1f} s."
        )
        for p in report.problems:
            out.print(f"[yellow]skipped[/] {p.path}: {p.reason}", highlight=False)
        if report.failed_files:
            out.print(f"[red]{report.failed_files} file(s) could not be read.[/]")
    if report.failed_files:
        raise typer.Exit(code=1)


def _open(index_dir: Path | None):  # type: ignore[no-untyped-def]
    from insight_search.search import open_searcher

    return open_searcher(_settings(index_dir))


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for, in plain words")],
    k: Annotated[int, typer.Option("--k", "-k", help="Number of results")] = 10,
    year: YearOpt = None,
    year_from: YearFromOpt = None,
    year_to: YearToOpt = None,
    country: CountryOpt = None,
    agency: AgencyOpt = None,
    theme: ThemeOpt = None,
    section: SectionOpt = None,
    source: SourceOpt = None,
    cursor: CursorOpt = None,
    index_dir: IndexDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Semantic + keyword search over the index."""
    from insight_search import service

    try:
        filters = _filters(year, year_from, year_to, country, agency, theme, section, source)
        payload = service.search(_open(index_dir), query, k=k, filters=filters, cursor=cursor)
    except InsightSearchError as exc:
        raise _fail(exc) from None
    if as_json:
        _print_json(payload.model_dump())
        return
    out.print(f"[bold]{payload.total}[/] candidate passages for [italic]{query}[/]", highlight=False)
    for r in payload.results:
        where = ", ".join(str(x) for x in (r.year, r.country, r.section) if x)
        loc = r.source.path + (f" row {r.source.row}" if r.source.row else "")
        out.print(f"\n[bold cyan]{r.rank}.[/] [bold]{r.title}[/]  [dim]({where})[/]", highlight=False)
        out.print(f"   {r.highlight}", highlight=False, markup=False)
        out.print(f"   [dim]{loc} · {r.chunk_id} · score {r.score:.4f}[/]", highlight=False)
    years = ", ".join(f"{y}: {n}" for y, n in payload.facets.years.items())
    out.print(f"\n[dim]by year: {years}[/]", highlight=False)
    if payload.next_cursor:
        out.print(f"[dim]more: --cursor {payload.next_cursor}[/]", highlight=False)


def _print_sentences(sentences) -> None:  # type: ignore[no-untyped-def]
    for n, s in enumerate(sentences, start=1):
        where = ", ".join(str(x) for x in (s.year, s.country) if x)
        out.print(f"{n}. {s.text}", highlight=False, markup=False)
        out.print(
            f"   [dim]({where}) {s.source.path} · {s.doc_id} · {s.chunk_id} [{s.start}:{s.end}][/]",
            highlight=False,
        )


@app.command()
def summarize(
    query: Annotated[str, typer.Argument(help="What the summary is about")],
    max_sentences: Annotated[int, typer.Option("--max-sentences", help="Sentences at most")] = 5,
    max_words: Annotated[int | None, typer.Option("--max-words", help="Words at most")] = None,
    year: YearOpt = None,
    year_from: YearFromOpt = None,
    year_to: YearToOpt = None,
    country: CountryOpt = None,
    agency: AgencyOpt = None,
    theme: ThemeOpt = None,
    section: SectionOpt = None,
    source: SourceOpt = None,
    index_dir: IndexDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Extractive summary (verbatim, cited sentences) of what the matching passages say."""
    from insight_search import service

    try:
        filters = _filters(year, year_from, year_to, country, agency, theme, section, source)
        payload = service.summary(
            _open(index_dir), query, filters=filters, max_sentences=max_sentences, max_words=max_words
        )
    except InsightSearchError as exc:
        raise _fail(exc) from None
    if as_json:
        _print_json(payload.model_dump())
        return
    _print_sentences(payload.sentences)


@app.command()
def timeline(
    query: Annotated[str, typer.Argument(help="What the timeline is about")],
    fmt: Annotated[str, typer.Option("--format", help="text, json or markdown")] = "text",
    sentences_per_year: Annotated[int, typer.Option("--sentences-per-year")] = 3,
    year: YearOpt = None,
    year_from: YearFromOpt = None,
    year_to: YearToOpt = None,
    country: CountryOpt = None,
    agency: AgencyOpt = None,
    theme: ThemeOpt = None,
    section: SectionOpt = None,
    source: SourceOpt = None,
    index_dir: IndexDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Year by year: matching passages, the stated status, and a short cited summary."""
    from insight_search import service

    if fmt not in ("text", "json", "markdown"):
        raise _fail(InsightSearchError(f"--format must be text, json or markdown, got {fmt!r}"))
    try:
        filters = _filters(year, year_from, year_to, country, agency, theme, section, source)
        searcher = _open(index_dir)
        if fmt == "markdown":
            sys.stdout.write(
                service.year_timeline_markdown(
                    searcher, query, filters=filters, sentences_per_year=sentences_per_year
                )
            )
            return
        payload = service.year_timeline(
            searcher, query, filters=filters, sentences_per_year=sentences_per_year
        )
    except InsightSearchError as exc:
        raise _fail(exc) from None
    if as_json or fmt == "json":
        _print_json(payload.model_dump())
        return
    for y in payload.years:
        status = f" — status: {y.status}" if y.status else ""
        out.print(f"\n[bold]{y.year}[/] ({y.count} passages){status}", highlight=False)
        _print_sentences(y.sentences)


@app.command()
def mentions(
    term: Annotated[str, typer.Argument(help="Name or phrase (accent- and case-insensitive)")],
    cursor: CursorOpt = None,
    limit: Annotated[int, typer.Option("--limit", help="Passages per page")] = 20,
    year: YearOpt = None,
    year_from: YearFromOpt = None,
    year_to: YearToOpt = None,
    country: CountryOpt = None,
    agency: AgencyOpt = None,
    theme: ThemeOpt = None,
    section: SectionOpt = None,
    source: SourceOpt = None,
    index_dir: IndexDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Every passage that mentions TERM (complete, not top-k), counted by year, country and document."""
    from insight_search import service

    try:
        filters = _filters(year, year_from, year_to, country, agency, theme, section, source)
        payload = service.term_mentions(_open(index_dir), term, filters=filters, cursor=cursor, limit=limit)
    except InsightSearchError as exc:
        raise _fail(exc) from None
    if as_json:
        _print_json(payload.model_dump())
        return
    years = ", ".join(f"{y.year}: {y.count}" for y in payload.years)
    out.print(f"[bold]{payload.total}[/] passages mention [italic]{term}[/] ({years})", highlight=False)
    for p in payload.passages:
        s, e = p.spans[0] if p.spans else (0, 0)
        lo = max(0, s - 80)
        snippet = p.text[lo:s] + "«" + p.text[s:e] + "»" + p.text[e : e + 80]
        out.print(f"- ({p.year}, {p.country}) {p.doc_id}: …{snippet}…", highlight=False, markup=False)
    if payload.next_cursor:
        out.print(f"[dim]more: --cursor {payload.next_cursor}[/]", highlight=False)


@app.command()
def funding(
    partner: Annotated[str | None, typer.Option("--partner", help="Partner name (part of it)")] = None,
    year: YearOpt = None,
    country: CountryOpt = None,
    agency: AgencyOpt = None,
    kind: Annotated[
        str | None, typer.Option("--kind", help="contribution, required, available, expenditure")
    ] = None,
    cursor: CursorOpt = None,
    limit: Annotated[int, typer.Option("--limit", help="Records per page")] = 100,
    index_dir: IndexDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Funding and resource records (amounts in USD) with totals per year and per partner."""
    from insight_search import service

    try:
        payload = service.funding_facts(
            _open(index_dir),
            partner=partner,
            year=year,
            country=country,
            agency=agency,
            kind=kind,
            cursor=cursor,
            limit=limit,
        )
    except InsightSearchError as exc:
        raise _fail(exc) from None
    if as_json:
        _print_json(payload.model_dump())
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


@app.command()
def info(index_dir: IndexDir = None, as_json: JsonFlag = False) -> None:
    """What the index holds."""
    from insight_search import store

    settings = _settings(index_dir)
    try:
        manifest = store.read_manifest(settings.index_dir)
    except InsightSearchError as exc:
        raise _fail(exc) from None
    if manifest is None:
        raise _fail(
            InsightSearchError(f"no index in {settings.index_dir}: run `insight-search index PATH...`")
        )
    if as_json:
        _print_json(manifest)
        return
    table = Table(show_header=False)
    for key, value in manifest.items():
        table.add_row(
            key, json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else str(value)
        )
    out.print(table)


@app.command()
def serve(
    index_dir: IndexDir = None,
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000)")] = None,
    corpus: Annotated[
        list[Path] | None, typer.Option("--corpus", help="Corpus paths (default: corpus/)")
    ] = None,
    no_build: Annotated[
        bool, typer.Option("--no-build", help="Serve the index as it is; never build or update it first")
    ] = False,
) -> None:
    """Serve the API and the search page; builds the index first if it is missing or older than the corpus."""
    import uvicorn

    from insight_search.api.app import create_app
    from insight_search.api.guard import server_options
    from insight_search.embedding import make_embedder
    from insight_search.indexer import index_is_current

    settings = _settings(index_dir)
    updates: dict[str, Any] = {}
    if host:
        updates["host"] = host
    if port:
        updates["port"] = port
    if corpus:
        updates["corpus_paths"] = corpus
    settings = settings.model_copy(update=updates)
    try:
        embedder = make_embedder(settings)
        if not no_build and not index_is_current(
            settings.index_dir, settings.corpus_paths, embedder.model_id
        ):
            console.print(
                f"Building the index in {settings.index_dir} "
                f"from {', '.join(map(str, settings.corpus_paths))}"
            )
            report = run_index(settings.corpus_paths, settings)
            console.print(
                f"Indexed {report.documents} documents, {report.chunks} chunks in {report.seconds:.1f} s"
            )
            for p in report.problems:
                console.print(f"skipped {p.path}: {p.reason}", highlight=False, markup=False)
        application = create_app(settings, embedder=embedder)
    except InsightSearchError as exc:
        raise _fail(exc) from None
    console.print(f"Serving on http://{settings.host}:{settings.port}/")
    uvicorn.run(application, log_level="info", **server_options(settings))


@app.command()
def mcp(index_dir: IndexDir = None) -> None:
    """Serve the chatbot tools (search, summarize, timeline, mentions, funding) over MCP on stdin/stdout."""
    import anyio

    from insight_search.mcp_server import serve_stdio

    try:
        anyio.run(serve_stdio, _settings(index_dir))
    except InsightSearchError as exc:
        raise _fail(exc) from None


def main() -> None:  # pragma: no cover
    logging.basicConfig(level=logging.WARNING)
    app()
