"""Domain errors. They are turned into HTTP or CLI errors only at the edge (api/, cli.py, mcp_server.py).

Input faults (BadInput and its children, NotFound) are the caller's: HTTP 4xx. Server faults (IndexNotFound,
IndexBusy, IndexCorrupt, ModelMismatch, ModelNotAvailable) are the server's: HTTP 503. The CLI exits 2 with
one line for either."""

from __future__ import annotations

from pathlib import Path


class InsightSearchError(Exception):
    """Base class of every error this package raises on purpose."""


class BadInput(InsightSearchError):
    """A request or argument that cannot be served as given (empty query, k out of range...)."""


class InvalidRequest(BadInput):
    """A request that does not fit its request model (a missing value, a bound passed): HTTP 422."""


class StaleCursor(BadInput):
    """A pagination cursor made on another index version than the one served now (the index was rebuilt)."""


class NotFound(InsightSearchError):
    """An id (document, chunk) that the index does not hold."""


class IndexNotFound(InsightSearchError):
    """No built index where one was expected."""


class IndexBusy(InsightSearchError):
    """Another build holds the index folder's lock."""


class IndexCorrupt(InsightSearchError):
    """An index folder exists but cannot be read (missing file, unknown format version)."""


class ModelMismatch(InsightSearchError):
    """The index was built with another embedding model than the one configured."""


class ModelNotAvailable(InsightSearchError):
    """The configured embedding model cannot be loaded (missing directory, missing package)."""


class UnreadableFile(InsightSearchError):
    """A corpus file that a reader cannot turn into documents. Names the file and the reason."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")
