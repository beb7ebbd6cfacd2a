"""The commands that build, describe and serve an index: index, info, serve, mcp."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from insight_search.cli.app import (
    Command,
    IndexDir,
    JsonFlag,
    app,
    console,
    fail,
    out,
    print_json,
    settings_for,
)
from insight_search.config import Settings
from insight_search.errors import InsightSearchError

if TYPE_CHECKING:
    from insight_search.indexer import IndexReport


RayAddress = Annotated[
    str | None,
    typer.Option(
        "--ray",
        metavar="ADDRESS",
        help="Run on a Ray cluster (needs the [ray] extra): auto (the running cluster), host:port (its "
        "head), or local (start one in this process)",
        show_default=False,
    ),
]

PROGRESS_SECONDS = 5.0  # how often ``index`` writes a progress line when stderr is not a terminal


class ProgressLines:
    """The build's progress as a line on stderr every ``every`` seconds (for logs and pipes, where a
    progress bar shows nothing until the end): files read, chunks with vectors of those queued, the rate
    and the time left for the chunks read so far (more are queued as files are read)."""

    def __init__(self, every: float | None = None) -> None:
        self.every = PROGRESS_SECONDS if every is None else every
        self.files = 0
        self.current = ""
        self.queued = 0
        self.done = 0
        self.started = time.monotonic()
        self.embedding_since: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="index-progress", daemon=True)

    def on_file(self, path: Path) -> None:
        self.files += 1
        self.current = path.name

    def on_embed_start(self, window: int) -> None:
        if self.embedding_since is None:
            self.embedding_since = time.monotonic()
        self.queued += window

    def on_embedded(self, n: int) -> None:
        self.done += n

    def line(self) -> str:
        elapsed = time.monotonic() - self.started
        parts = [f"indexing, {_duration(elapsed)} in: {_count(self.files, 'file')} read"]
        if self.current:
            parts[0] += f" (last: {self.current})"
        if self.queued:
            parts.append(f"{self.done:,} of the {_count(self.queued, 'chunk')} read so far have vectors")
            spent = time.monotonic() - (self.embedding_since or self.started)
            rate = self.done / spent if spent > 0 else 0.0
            if rate > 0:
                parts.append(f"{rate:,.1f} chunks/s")
                if self.queued > self.done:
                    parts.append(f"about {_duration((self.queued - self.done) / rate)} left for those")
            else:
                parts.append("embedding the first batch (the model loads first)")
        return "; ".join(parts)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            console.print(self.line(), highlight=False, markup=False, soft_wrap=True)

    def __enter__(self) -> ProgressLines:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def run_index(
    paths: list[Path], settings: Settings, quiet: bool = False, ray_address: str | None = None
) -> IndexReport:
    """Build the index, showing progress on stderr: bars on a terminal (none when ``quiet``), a line
    every ``PROGRESS_SECONDS`` otherwise (a log or a pipe; stdout keeps only the result). Returns the
    report. With ``ray_address`` the build runs on that Ray cluster (``distributed.build``)."""
    from insight_search.indexer import Progress as BuildProgress

    def build(hooks: BuildProgress) -> IndexReport:
        if ray_address is not None:
            from insight_search.distributed.build import ray_build_index

            return ray_build_index(paths, settings, ray_address, progress=hooks)
        from insight_search.embedding import make_embedder
        from insight_search.indexer import build_index

        return build_index(paths, settings, make_embedder(settings), progress=hooks)

    if not console.is_terminal:
        with ProgressLines() as lines:
            hooks = BuildProgress(lines.on_file, lines.on_embed_start, lines.on_embedded)
            return build(hooks)
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
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
        report = build(hooks)
        bars.update(reading, total=report.files)
        return report


@app.command(cls=Command)
def index(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to index (formats are detected)")],
    index_dir: IndexDir = None,
    as_json: JsonFlag = False,
    ray_address: RayAddress = None,
    force: Annotated[
        bool, typer.Option("--force", help="Build even when the index already holds what PATHS hold")
    ] = False,
) -> None:
    """Index PATHS: afterwards the index holds exactly what these paths hold now (an index that already
    does, built with the same settings, is left as it is)."""
    settings = settings_for(index_dir)
    try:
        if not force and _already_holds(paths, settings, as_json):
            return
        report = run_index(paths, settings, quiet=as_json, ray_address=ray_address)
    except InsightSearchError as exc:
        raise fail(exc) from None
    if as_json:
        from dataclasses import asdict

        print_json(asdict(report))
    else:
        out.print(
            f"Indexed {report.documents} documents, {report.passages} passages, {report.chunks} chunks from "
            f"{report.files} files into {settings.index_dir} ({report.embedded} embedded, "
            f"{report.repeated} repeated in this build, {report.cached} reused from the embedding cache) "
            f"in {report.seconds:.1f} s."
        )
        for p in report.problems:
            out.print(f"[yellow]skipped[/] {p.path}: {p.reason}", highlight=False)
        if report.failed_files:
            out.print(f"[red]{report.failed_files} file(s) could not be read.[/]")
    if report.failed_files:
        raise typer.Exit(code=1)


def _already_holds(paths: list[Path], settings: Settings, as_json: bool) -> bool:
    """Whether the index already holds what ``paths`` hold, built with these settings and model
    (``serve_check.unchanged_index``): then say so, name the files its build skipped, and return True
    (exit status 1 when one could not be read, as the build said)."""
    from insight_search.embedding import make_embedder
    from insight_search.serve_check import unchanged_index

    started = time.perf_counter()
    model_id = make_embedder(settings).model_id
    held = unchanged_index(settings.index_dir, paths, settings.build_settings(), model_id)
    if held is None or held.counts is None:
        return False
    c = held.counts
    problems = list(held.problems or ())
    if as_json:
        print_json(
            {
                "unchanged": True,
                "index_dir": str(settings.index_dir),
                "built_at": held.built_at,
                "counts": c.to_dict(),
                "problems": problems,
                "failed_files": c.failed_files,
                "seconds": round(time.perf_counter() - started, 3),
            }
        )
    else:
        names = ", ".join(map(str, paths)) + (" holds" if len(paths) == 1 else " hold")
        held_text = (
            f"{_count(c.documents, 'document')}, {_count(c.chunks, 'chunk')} from {_count(c.files, 'file')}"
        )
        out.print(
            f"The index in {settings.index_dir} already holds what {names} ({held_text}, built "
            f"{held.built_at} with these settings): nothing to do (--force builds it again).",
            highlight=False,
        )
        for problem in problems:
            out.print(f"[yellow]skipped[/] {problem}", highlight=False)
        if c.failed_files:
            out.print(f"[red]{c.failed_files} file(s) could not be read.[/]")
    if c.failed_files:
        raise typer.Exit(code=1)
    return True


@app.command(cls=Command)
def info(index_dir: IndexDir = None, as_json: JsonFlag = False) -> None:
    """What the index holds."""
    from insight_search import store

    settings = settings_for(index_dir)
    try:
        manifest = store.read_manifest(settings.index_dir)
    except InsightSearchError as exc:
        raise fail(exc) from None
    if manifest is None:
        raise fail(
            InsightSearchError(f"no index in {settings.index_dir}: run `insight-search index PATH...`")
        )
    fields = manifest.to_dict()
    if as_json:
        print_json(fields)
        return
    table = Table(show_header=False)
    for key, value in fields.items():
        table.add_row(
            key, json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else str(value)
        )
    out.print(table)


SERVE_HELP = (
    "Serve the API and the search page; builds the index first when there is none.\n\n"
    "With no index yet, builds one from corpus/ (or INSIGHT_SEARCH_CORPUS_PATHS). An existing index is never "
    "replaced by other files: it is rebuilt only from its own sources (the paths it was built from) when "
    "their files changed, and served as it is when they are gone. --corpus PATH (repeated for more paths) "
    "builds from other paths."
)


@app.command(cls=Command, help=SERVE_HELP)
def serve(
    index_dir: IndexDir = None,
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000)")] = None,
    corpus: Annotated[
        list[Path] | None,
        typer.Option(
            "--corpus",
            metavar="PATH",
            help="Build the index from this path first (repeat for more paths; nothing is built when the "
            "index already holds what they hold). "
            "Without it, an index is rebuilt only from its own sources.",
        ),
    ] = None,
    no_build: Annotated[
        bool, typer.Option("--no-build", help="Serve the index as it is; never build or update it first")
    ] = False,
    ray_address: RayAddress = None,
    replicas: Annotated[
        int, typer.Option("--replicas", min=1, help="With --ray: how many copies of the API serve requests")
    ] = 1,
) -> None:
    """Serve the API and the search page (``SERVE_HELP`` says when it builds the index first)."""
    import uvicorn

    from insight_search.api.app import create_app
    from insight_search.api.guard import server_options
    from insight_search.memory import limit_arenas
    from insight_search.multilingual import lane_model_id
    from insight_search.search import index_embedder
    from insight_search.serve_check import check_before_serving
    from insight_search.service import Service

    settings = settings_for(index_dir)
    # Paths given on the command line or in INSIGHT_SEARCH_CORPUS_PATHS are the user's ask; the default
    # corpus/ only fills a missing index.
    requested = corpus or (settings.corpus_paths if "corpus_paths" in settings.model_fields_set else None)
    updates: dict[str, Any] = {}
    if host:
        updates["host"] = host
    if port:
        updates["port"] = port
    if corpus:
        updates["corpus_paths"] = corpus
    settings = settings.model_copy(update=updates)
    try:
        # The index's own backend of the configured model: an index built with torch is served, not rebuilt
        embedder = index_embedder(settings)
        if not no_build:
            lane = lane_model_id(settings)
            check = check_before_serving(
                settings.index_dir, embedder.model_id, settings.corpus_paths, requested, lane
            )
            console.print(check.message, highlight=False, markup=False, soft_wrap=True)
            if check.build is not None:
                report = run_index(list(check.build), settings, ray_address=ray_address)
                console.print(
                    f"Indexed {report.documents} documents, {report.chunks} chunks in {report.seconds:.1f} s"
                )
                for p in report.problems:
                    console.print(f"skipped {p.path}: {p.reason}", highlight=False, markup=False)
                embedder = index_embedder(settings)  # built with the configured backend
        if ray_address is not None:
            from insight_search.distributed.serve import serve_on_ray

            def ready(url: str) -> None:
                console.print(f"Serving {replicas} replica(s) on Ray at {url}/ (Ctrl-C stops them)")

            serve_on_ray(settings, ray_address, replicas, on_ready=ready)
            return
        limit_arenas()  # before the server's threads exist: a long-running server keeps few malloc arenas
        # Opened here, before the server starts: an index that cannot be served is one line and exit 2
        # (a damaged current version gives way to the newest intact older one, with a warning).
        service = Service.open(settings, embedder, fallback=True)
        application = create_app(settings, service=service)
    except InsightSearchError as exc:
        raise fail(exc) from None
    console.print(f"Serving on http://{settings.host}:{settings.port}/")
    uvicorn.run(application, log_level="info", **server_options(settings))


@app.command(cls=Command)
def mcp(index_dir: IndexDir = None) -> None:
    """Serve the chatbot tools (search, summarize, timeline, mentions, funding) over MCP on stdin/stdout."""
    import anyio

    from insight_search.mcp_server import serve_stdio

    try:
        anyio.run(serve_stdio, settings_for(index_dir))
    except InsightSearchError as exc:
        raise fail(exc) from None
