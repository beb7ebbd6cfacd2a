"""The command line's application: the Typer app, the options and helpers every command shares, logging
configuration, and the console entry point. The commands live in ``cli/queries.py`` and ``cli/indexing.py``;
each builds the request of its operation (``requests.py``) and calls the same Service as the API."""

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
from typer.core import TyperCommand, TyperGroup

from insight_search.config import Settings
from insight_search.errors import InsightSearchError
from insight_search.requests import FILTER_HELP, parse, request_models


def _flags_take_no_value(params: list[Any]) -> list[Any]:
    # Typer's help writes a type beside every option, "<bool>" beside a flag (--json, --help) as if it took
    # a value: a flag shows none.
    for param in params:
        if getattr(param, "is_flag", False) and not getattr(param, "count", False):
            param.metavar = ""
    return params


class Command(TyperCommand):
    """A command whose help shows no value for a flag."""

    def get_params(self, ctx: Any) -> Any:
        return _flags_take_no_value(super().get_params(ctx))


class Group(TyperGroup):
    """The command group, whose help shows no value for a flag."""

    def get_params(self, ctx: Any) -> Any:
        return _flags_take_no_value(super().get_params(ctx))


app = typer.Typer(
    cls=Group, add_completion=False, no_args_is_help=True, help="Search and summarise UN results reporting."
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
                FILTER_TYPES.get(name, str) | None,
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


def settings_for(index_dir: Path | None) -> Settings:
    settings = Settings()
    if index_dir is not None:
        settings = settings.model_copy(update={"index_dir": index_dir})
    return settings


def fail(exc: Exception) -> typer.Exit:
    # One line whatever the terminal's width (a script reading stderr gets the whole message on it).
    console.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


def run_operation(operation: str, index_dir: Path | None, values: dict[str, Any]) -> Any:
    """Validate the request first (no model or index is loaded for a request that cannot be served), then
    run it on the index. Every domain error ends the command with one line and exit status 2."""
    settings = settings_for(index_dir)
    try:
        request = parse(
            request_models(settings).of(operation), {k: v for k, v in values.items() if v is not None}
        )
        from insight_search.service import Service

        return getattr(Service.open(settings), operation)(request)
    except InsightSearchError as exc:
        raise fail(exc) from None


def main() -> None:
    """The console entry point (``insight-search``)."""
    app()
