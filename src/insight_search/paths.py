"""How source file paths are shown in responses (``INSIGHT_SEARCH_PATHS``): ``absolute`` shows them as the
index recorded them; ``relative`` shows them from the indexed folder down, so that an answer does not tell
a client where the server keeps its files (pure: no file system access)."""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from pathlib import Path, PurePosixPath


def _parts(path: str | Path) -> tuple[str, ...]:
    normal = posixpath.normpath(str(path).replace("\\", "/"))
    return PurePosixPath(normal).parts


def display_path(path: str, roots: Sequence[Path]) -> str:
    """``path`` relative to the indexed path (of ``roots``) that holds it, that path's own name first:
    ``/srv/data/corpus/mexico/page.txt`` under the root ``/srv/data/corpus`` shows as
    ``corpus/mexico/page.txt``; an indexed file shows as its name. The deepest root wins. A path under no
    root shows as its file name only. Paths and roots are compared as written (normalised, not resolved):
    pass the roots as the index recorded them (its manifest's ``corpus_paths``)."""
    if not path:
        return path
    parts = _parts(path)
    best: tuple[str, ...] | None = None
    for root in roots:
        root_parts = _parts(root)
        if root_parts in ((), (".",), ("/",)) or parts[: len(root_parts)] != root_parts:
            continue
        if best is None or len(root_parts) > len(best):
            best = root_parts
    if best is None or best[-1] in ("..", "."):
        return parts[-1] if parts else path
    return "/".join((best[-1], *parts[len(best) :]))
