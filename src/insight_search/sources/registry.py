"""Which reader reads which file, and the walk over corpus folders.

* :func:`iter_corpus_files` lists the corpus files under some paths, sorted, following symbolic links safely.
  Problems (a missing path, a link loop, an unsupported file type) come out as :class:`UnreadableFile`
  values in the stream, so the caller decides whether to warn or stop.
* :func:`read_file` asks each reader of :data:`READERS` in turn whether the file is its kind (``sniff``,
  by extension and content) and reads it with the first that says yes: a ``.txt`` that is a UN Women
  Transparency Portal outcome page goes to that reader, any other ``.txt`` is plain text. Whatever the bytes,
  only :class:`InsightSearchError` escapes.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

from insight_search.errors import InsightSearchError, UnreadableFile
from insight_search.models import Document
from insight_search.sources import (
    docx,
    html,
    iati,
    jsonl,
    markdown,
    pdf,
    plain,
    uninfo_json,
    uninfo_xlsx,
    unwomen_page,
)
from insight_search.sources.common import SIDECAR_SUFFIX, Reader, Warn, default_warn, extension, read_head

logger = logging.getLogger(__name__)

# Asked in this order: a reader that claims files another also could (an outcome page is a .txt) comes first;
# plain text is the last resort for .txt. A PDF is a PDF whatever its name says (its %PDF- header).
READERS: tuple[Reader, ...] = (
    pdf,
    uninfo_xlsx,
    uninfo_json,
    jsonl,
    markdown,
    docx,
    html,
    unwomen_page,
    iati,
    plain,
)
SUPPORTED_EXTENSIONS = frozenset().union(*(reader.EXTENSIONS for reader in READERS))


def is_sidecar(path: Path) -> bool:
    return path.name.lower().endswith(SIDECAR_SUFFIX) and len(path.name) > len(SIDECAR_SUFFIX)


def _skipped_name(name: str) -> bool:
    """Hidden files and folders (.git, .DS_Store) and office lock files (~$report.xlsx)."""
    return name.startswith((".", "~$"))


def iter_corpus_files(paths: Sequence[Path]) -> Iterator[Path | UnreadableFile]:
    """Corpus files under ``paths`` (files or folders), each folder walked in sorted order.

    A file named directly is listed even when hidden. Files reached twice (through links) are listed once.
    """
    seen_files: set[tuple[int, int]] = set()
    seen_dirs: set[tuple[int, int]] = set()
    for path in paths:
        path = Path(path)
        try:
            info = path.stat()
        except FileNotFoundError:
            reason = "broken symbolic link" if path.is_symlink() else "no such file or folder"
            yield UnreadableFile(path, reason)
            continue
        except OSError as exc:
            yield UnreadableFile(path, f"cannot read: {exc.strerror or exc}")
            continue
        if stat.S_ISDIR(info.st_mode):
            yield from _walk(path, seen_dirs, seen_files, ancestors=())
        else:
            yield from _file(path, info, seen_files)


def _file(
    path: Path, info: os.stat_result, seen_files: set[tuple[int, int]]
) -> Iterator[Path | UnreadableFile]:
    key = (info.st_dev, info.st_ino)
    if key in seen_files:
        logger.debug("%s: already listed through another path", path)
        return
    seen_files.add(key)
    if not stat.S_ISREG(info.st_mode):
        yield UnreadableFile(path, "not a regular file")
    elif is_sidecar(path):
        logger.debug("%s: metadata sidecar, read with its document", path)
    elif extension(path) not in SUPPORTED_EXTENSIONS:
        yield UnreadableFile(path, _unsupported(path))
    else:
        yield path


def _unsupported(path: Path) -> str:
    ext = extension(path)
    return f"unsupported file type {ext}" if ext else "unsupported file type (no extension)"


def _walk(
    folder: Path,
    seen_dirs: set[tuple[int, int]],
    seen_files: set[tuple[int, int]],
    ancestors: tuple[tuple[int, int], ...],
) -> Iterator[Path | UnreadableFile]:
    try:
        info = folder.stat()
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        yield UnreadableFile(folder, f"cannot list folder: {exc.strerror or exc}")
        return
    key = (info.st_dev, info.st_ino)
    if key in ancestors:
        yield UnreadableFile(folder, "symbolic link loop (links back to a folder that contains it)")
        return
    if key in seen_dirs:
        logger.debug("%s: folder already walked through another path", folder)
        return
    seen_dirs.add(key)
    for entry in entries:
        if _skipped_name(entry.name):
            continue
        child = Path(entry.path)
        try:
            child_info = child.stat()  # follows links
        except FileNotFoundError:
            yield UnreadableFile(child, "broken symbolic link")
            continue
        except OSError as exc:
            yield UnreadableFile(child, f"cannot read: {exc.strerror or exc}")
            continue
        if stat.S_ISDIR(child_info.st_mode):
            yield from _walk(child, seen_dirs, seen_files, (*ancestors, key))
        else:
            yield from _file(child, child_info, seen_files)


def reader_for(path: Path) -> Reader:
    """The first reader of :data:`READERS` that says ``path`` is its kind; UnreadableFile when none does."""
    head = read_head(path)
    for reader in READERS:
        if reader.sniff(path, head):
            return reader
    raise UnreadableFile(path, _unsupported(path))


def read_file(path: Path, warn: Warn | None = None, *, root: Path | None = None) -> Iterator[Document]:
    """Documents of one corpus file, read by the first reader that says it is its kind.

    Whole-file problems raise :class:`UnreadableFile`; per-record problems go to ``warn`` (default: log a
    warning) and the rest of the file is still read. ``root`` makes text doc_ids relative to a corpus folder
    ("text:notes/a.txt") instead of the bare file name.
    """
    path = Path(path)
    report = warn or default_warn
    try:
        yield from _dispatch(path, report, root)
    except InsightSearchError:
        raise
    except OSError as exc:
        raise UnreadableFile(path, f"cannot read file: {exc.strerror or exc}") from exc
    except Exception as exc:  # a reader bug must not stop a whole corpus build
        logger.exception("reader failed on %s", path)
        raise UnreadableFile(path, f"reader failed: {type(exc).__name__}: {exc}") from exc


def _dispatch(path: Path, report: Warn, root: Path | None) -> Iterator[Document]:
    try:
        info = path.stat()
    except OSError as exc:
        raise UnreadableFile(path, f"cannot read file: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(info.st_mode):
        raise UnreadableFile(path, "not a regular file")
    yield from reader_for(path).read(path, report, root=root)
