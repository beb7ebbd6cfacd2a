"""Command line: a thin Typer layer over the same functions the API calls."""

from __future__ import annotations

import functools
import inspect
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from insight_search.config import Settings
from insight_search.errors import InsightSearchError
from insight_search.requests import FILTER_HELP, parse, request_models

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
CursorOpt = Annotated[
    str | None, typer.Option("--cursor", help="Continue from a previous page's next_cursor")
]
FILTER_TYPES: dict[str, type] = {"year": int, "year_from": int, "year_to": int}


def with_filters(command: Callable[..., None]) -> Callable[..., None]:
    """Give ``command`` the filter options every query operation takes (``requests.FILTER_HELP``: --year,
    --year-from, --year-to, --country, --agency, --theme, --section, --source); it receives them as one
    ``filters`` dict of the options given."""
    signature = inspect.signature(command, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "filters"]
    added = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[
                FILTER_TYPES.get(name, str) | None,  # type: ignore[operator]
                typer.Option(f"--{name.replace('_', '-')}", help=help_text, show_default=False),
            ],
        )
        for name, help_text in FILTER_HELP.items()
    ]

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> None:
        filters = {name: kwargs.pop(name) for name in FILTER_HELP}
        command(filters=filters, **kwargs)

    params = [*own, *added]
    wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params} | {"return": None}
    return wrapper


LOG_LEVELS = ("WARNING", "INFO", "DEBUG")


@app.callback()
def configure(
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More log output: -v info, -vv debug")
    ] = 0,
) -> None:
    """Search and summarise UN results reporting."""
    configured = Settings().log_level
    level = LOG_LEVELS[min(verbose, 2)] if verbose else configured
    # Only the edge configures logging; library modules just log to their own loggers.
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("insight_search").setLevel(level)


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


def _run(operation: str, index_dir: Path | None, values: dict[str, Any]) -> Any:
    """Validate the request first (no model or index is loaded for a request that cannot be served), then
    run it on the index. Every domain error ends the command with one line and exit status 2."""
    settings = _settings(index_dir)
    try:
        request = parse(request_models(settings).of(operation), {k: v for k, v in values.items() if v is not None})
        from insight_search.service import Service

        return getattr(Service.open(settings), operation)(request)
    except InsightSearchError as exc:
        raise _fail(exc) from None


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


@app.command()
@with_filters
def search(
    query: Annotated[str, typer.Argument(help="What to look for, in plain words")],
    k: Annotated[int | None, typer.Option("--k", "-k", help="Number of results (default 10)")] = None,
    cursor: CursorOpt = None,
    index_dir: IndexDir = None,
    as_json: JsonFlag = False,
    filters: dict[str, Any] | None = None,
) -> None:
    """Semantic + keyword search over the index."""
    payload = _run("search", index_dir, {"q": query, "k": k, "cursor": cursor, **(filters or {})})
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
    payload = _run("summarize", index_dir, values)
    if as_json:
        _print_json(payload.model_dump())
        return
    _print_sentences(payload.sentences)


@app.command()
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
        raise _fail(InsightSearchError(f"--format must be text, json or markdown, got {fmt!r}"))
    values = {"q": query, "sentences_per_year": sentences_per_year, **(filters or {})}
    operation = "timeline_markdown" if fmt == "markdown" else "timeline"
    settings = _settings(index_dir)
    try:
        from insight_search.service import Service

        request = parse(
            request_models(settings).timeline, {k: v for k, v in values.items() if v is not None}
        )
        payload = getattr(Service.open(settings), operation)(request)
    except InsightSearchError as exc:
        raise _fail(exc) from None
    if fmt == "markdown":
        sys.stdout.write(payload)
        return
    if as_json or fmt == "json":
        _print_json(payload.model_dump())
        return
    for y in payload.years:
        status = f" — status: {y.status}" if y.status else ""
        out.print(f"\n[bold]{y.year}[/] ({y.count} passages){status}", highlight=False)
        _print_sentences(y.sentences)


@app.command()
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
    payload = _run("mentions", index_dir, {"term": term, "cursor": cursor, "limit": limit, **(filters or {})})
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
    payload = _run("funding", index_dir, values)
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
    uvicorn.run(application, host=settings.host, port=settings.port, log_level="info")


@app.command()
def mcp(index_dir: IndexDir = None) -> None:
    """Serve the chatbot tools (search, summarize, timeline, mentions, funding) over MCP on stdin/stdout."""
    import anyio

    from insight_search.mcp_server import serve_stdio

    try:
        anyio.run(serve_stdio, _settings(index_dir))
    except InsightSearchError as exc:
        raise _fail(exc) from None


def main() -> None:
    """The console entry point (``insight-search``)."""
    app()
