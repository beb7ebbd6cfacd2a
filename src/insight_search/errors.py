"""Domain errors. They are turned into HTTP or CLI errors only at the edge (api/, cli.py)."""

from __future__ import annotations

from pathlib import Path


class InsightSearchError(Exception):
    """Base class of every error this package raises on purpose."""


class BadInput(InsightSearchError):
    """A request or argument that cannot be served as given (empty query, k out of range...)."""


class NotFound(InsightSearchError):
    """An id (document, chunk) that the index does not hold."""


class IndexNotFound(InsightSearchError):
    """No built index where one was expected."""


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
