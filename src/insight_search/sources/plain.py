"""Reader for plain text files (``.txt``): one document, one passage per paragraph (blank-line separated).

The last reader the registry asks: a ``.txt`` that no other reader claims (an outcome page) is plain text.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from insight_search.errors import UnreadableFile
from insight_search.models import Document, Passage, Section, SourceRef
from insight_search.sources.common import Warn, doc_name, extension, paragraphs, read_text_file
from insight_search.text import clean_whitespace

KIND = "text"
EXTENSIONS = frozenset({".txt"})


def sniff(path: Path, head: bytes) -> bool:
    return extension(path) in EXTENSIONS


def read(path: Path, warn: Warn, *, root: Path | None = None) -> Iterator[Document]:
    return read_text(path, name=doc_name(path, root))


def read_text(path: Path, *, name: str | None = None) -> Iterator[Document]:
    """One document per text file; ``name`` (default: the file name) makes the doc_id ``text:<name>``."""
    text = read_text_file(path)
    yield text_document(text, path=path, name=name or path.name)


def text_document(text: str, *, path: Path, name: str) -> Document:
    parts = paragraphs(text)
    if not parts:
        raise UnreadableFile(path, "empty file")
    first_line = clean_whitespace(text.strip().split("\n", 1)[0])
    title = first_line if 0 < len(first_line) <= 120 else name
    return Document(
        doc_id=f"text:{name}",
        title=title,
        source=SourceRef(path=str(path), kind=KIND),
        passages=tuple(Passage(text=p, section=Section.TEXT) for p in parts),
    )
