"""Command line (``insight-search``): a thin Typer layer over the same Service the API calls."""

from insight_search.cli import indexing, queries  # noqa: F401  (the commands register on ``app``)
from insight_search.cli.app import app, main

__all__ = ["app", "main"]
