"""Reader for Markdown files (``.md``, ``.markdown``): one document, one passage per heading section.

A passage's label is its heading, its year the one year the heading names, and its section the heading as a
slug ("Progress in 2023" -> ``progress_in_2023``), or the shared :class:`Section` the heading names once its
years are left out ("Progress note 2023" -> ``progress_note``). Text before any heading is section ``text``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from insight_search.errors import UnreadableFile
from insight_search.models import Document, Passage, Section, SourceRef
from insight_search.sources.common import Warn, doc_name, extension, read_text_file, short_title
from insight_search.text import clean_whitespace

KIND = "markdown"
EXTENSIONS = frozenset({".md", ".markdown"})

_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|`)")
_YEAR = re.compile(r"\b(19\d\d|20\d\d)\b")
_SLUG = re.compile(r"[^0-9a-z]+")


def sniff(path: Path, head: bytes) -> bool:
    return extension(path) in EXTENSIONS


def read(path: Path, warn: Warn, *, root: Path | None = None) -> Iterator[Document]:
    return read_markdown(path, name=doc_name(path, root))


def read_markdown(path: Path, *, name: str | None = None) -> Iterator[Document]:
    """One document per Markdown file; ``name`` (default: the file name) makes the doc_id ``text:<name>``."""
    text = read_text_file(path)
    yield markdown_document(text, path=path, name=name or path.name)


def markdown_document(text: str, *, path: Path, name: str) -> Document:
    sections: list[tuple[str | None, list[str]]] = [(None, [])]
    title: str | None = None
    in_fence = False
    for line in text.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        heading = None if in_fence else _HEADING.match(line)
        if heading:
            heading_text = _inline(heading.group(2))
            if title is None and len(heading.group(1)) == 1 and heading_text:
                title = heading_text
            sections.append((heading_text or None, []))
        else:
            sections[-1][1].append(line)
    passages = []
    for section_heading, lines in sections:
        body = _markdown_body(lines)
        if not body:
            continue
        passages.append(
            Passage(
                text=body,
                section=heading_slug(section_heading) if section_heading else Section.TEXT,
                year=single_year(section_heading) if section_heading else None,
                label=section_heading,
            )
        )
    if not passages:
        raise UnreadableFile(path, "no text in the Markdown file (only headings or markup)")
    if title is None:
        title = next((h for h, _ in sections if h), None) or name
    return Document(
        doc_id=f"text:{name}",
        title=short_title(title),
        source=SourceRef(path=str(path), kind=KIND),
        passages=tuple(passages),
    )


def _inline(text: str) -> str:
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    return clean_whitespace(_EMPHASIS.sub("", text))


def _markdown_body(lines: list[str]) -> str:
    """Paragraphs joined into lines; list items and table rows stay on lines of their own."""
    items: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            joined = _inline(" ".join(current))
            if joined:
                items.append(joined)
            current.clear()

    for raw in lines:
        line = raw.strip()
        if not line or _TABLE_RULE.match(line):
            flush()
            continue
        line = line.lstrip(">").strip()
        if _LIST_ITEM.match(line) or line.startswith("|"):
            flush()
            line = _LIST_ITEM.sub("", line).strip("| ").replace(" | ", "; ")
        current.append(line)
        if raw.strip().startswith("|"):
            flush()
    flush()
    return "\n".join(items)


_SECTIONS = {s.value: s for s in Section}


def heading_slug(heading: str) -> str:
    known = _SECTIONS.get(_SLUG.sub("_", _YEAR.sub(" ", heading).casefold()).strip("_"))
    return known or _SLUG.sub("_", heading.casefold()).strip("_")[:60] or Section.TEXT


def single_year(text: str) -> int | None:
    years = set(_YEAR.findall(text))
    return int(years.pop()) if len(years) == 1 else None
