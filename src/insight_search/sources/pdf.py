"""Reader for PDF reports (``.pdf``, born-digital: annual reports, Executive Board documents, evaluations).

One document per file, one passage per paragraph (see :mod:`insight_search.sources.pdf_paragraphs` for
paragraphs, headings, running headers and hyphenation); a passage's section is the heading above it, as a
slug, and its label that heading ("I. Introduction" -> ``i_introduction``), as the Markdown reader does. Each
passage knows the page each piece of its text is on (``Passage.pages``), so each chunk's source names its
pages.

The document's year, in this order: a sidecar ``<file>.meta.json`` (``year``, ``year_end``; also ``title``,
``country``, ``region``, ``agencies``, ``doc_id``, the rest kept in metadata); else the results year the
first pages state ("results for 2024", "results in 2024", a title "... strategy in 2024"); else the date on
the cover ("11 April 2025", "February 2025"): the results year beats the cover date, because a report on
2024 is dated 2025.

A PDF without a text layer (scanned) is named and skipped ("no text layer (scanned?)"), as are an encrypted
one that needs a password and a file named .pdf that is not a PDF.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from insight_search.errors import UnreadableFile
from insight_search.models import Document, Passage, Section, SourceRef
from insight_search.sources.common import (
    Warn,
    clean_text,
    doc_name,
    extension,
    parse_year,
    read_sidecar,
    short_title,
    split_names,
)
from insight_search.sources.countries import detect_country
from insight_search.sources.markdown import heading_slug as heading_section
from insight_search.sources.pdf_lines import PDF_MAGIC, Page, open_pdf, read_pages
from insight_search.sources.pdf_paragraphs import Block, block_text, blocks, body_lines, vocabulary

KIND = "pdf"
EXTENSIONS = frozenset({".pdf"})
YEAR_PAGES = 4  # the pages where the results year and the cover date are looked for

_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_COVER_DATE = re.compile(rf"\b(?:\d{{1,2}}\s+)?(?:{_MONTHS})\s+((?:19|20)\d\d)\b", re.IGNORECASE)
_RESULTS_YEAR = re.compile(
    r"\bresults?\s+(?:achieved\s+)?(?:for|in|of)\s+(?:the\s+year\s+)?((?:19|20)\d\d)\b", re.IGNORECASE
)
_TITLE_YEAR = re.compile(
    r"\b(?:report|strategy|plan|activities|progress|results)\b[^.]{0,160}?\bin\s+((?:19|20)\d\d)\s*$",
    re.IGNORECASE,
)
_LETTERS = re.compile(r"[^\W\d_]")
_TITLE_MIN_WORDS = 6
_MASTHEAD = "Distr.:"  # a UN document's distribution mark, on the line of its organ's name


def sniff(path: Path, head: bytes) -> bool:
    """A ``.pdf`` file (one without the %PDF- header is then named as not a PDF), or a file of another
    name that starts like a PDF."""
    return extension(path) in EXTENSIONS or head.lstrip()[:5] == PDF_MAGIC


def read(path: Path, warn: Warn, *, root: Path | None = None) -> Iterator[Document]:
    yield read_pdf(path, name=doc_name(path, root))


def read_pdf(path: Path, *, name: str | None = None) -> Document:
    """The document of one PDF file; ``name`` (default: the file name) makes the doc_id ``pdf:<name>``."""
    sidecar = read_sidecar(path)
    doc = open_pdf(path)
    try:
        pages = list(read_pages(doc))
    finally:
        doc.close()
    return pdf_document(pages, path=path, name=name or path.name, sidecar=sidecar)


def pdf_document(
    pages: Sequence[Page], *, path: Path, name: str, sidecar: dict[str, Any] | None = None
) -> Document:
    """The document of a PDF's pages (pure: see :func:`read_pdf`)."""
    meta = dict(sidecar or {})
    if not any(_LETTERS.search(line.text) for page in pages for line in page.lines):
        raise UnreadableFile(path, "no text layer (scanned?)")
    words = vocabulary(pages)
    parts = blocks(body_lines(pages))
    passages: list[Passage] = []
    heading: str | None = None
    for block in parts:
        text, starts = block_text(block, words)
        if not _LETTERS.search(text):
            continue
        if block.heading:
            heading = text
            continue
        passages.append(
            Passage(
                text=text,
                section=heading_section(heading) if heading else Section.TEXT,
                label=heading,
                pages=starts,
            )
        )
    if not passages:
        raise UnreadableFile(path, "no text in the PDF (only headings or page furniture)")
    front = [text for text, _ in (block_text(b, words) for b in parts if b.pages[0] <= YEAR_PAGES)]
    year, year_source = document_year(front)
    if "year" in meta:
        year, year_source = parse_year(meta.pop("year")), "sidecar"
    year_end = parse_year(meta.pop("year_end", None))
    title = clean_text(meta.pop("title", None)) or _title(parts, words) or Path(name).stem
    country = clean_text(meta.pop("country", None)) or detect_country(title, min_mentions=1)
    doc_id = str(meta.pop("doc_id", None) or f"{KIND}:{name}")
    region, agencies = clean_text(meta.pop("region", None)), split_names(meta.pop("agencies", None))
    metadata: dict[str, Any] = {"pages": len(pages), "year_source": year_source, **meta}
    return Document(
        doc_id=doc_id,
        title=short_title(title),
        source=SourceRef(path=str(path), kind=KIND),
        passages=tuple(passages),
        country=country,
        region=region,
        agencies=agencies,
        year=year,
        year_end=year_end if year is not None and year_end is not None and year_end > year else None,
        metadata=metadata,
    )


def document_year(front: Sequence[str]) -> tuple[int | None, str | None]:
    """(year, how it was found) from the texts of the first pages: the results year they state ("results
    for 2024", a title ending "in 2024"), else the first date ("11 April 2025"); (None, None) if neither."""
    for text in front:
        match = _RESULTS_YEAR.search(text) or _TITLE_YEAR.search(text)
        if match:
            return int(match.group(1)), "results"
    for text in front:
        match = _COVER_DATE.search(text)
        if match:
            return int(match.group(1)), "cover date"
    return None, None


def _title(parts: Sequence[Block], words: Any) -> str | None:
    """The title on the first pages: the heading of at least 6 words in the largest font (not the UN
    masthead, "Economic and Social Council Distr.: General", one line for PDFium)."""
    best: tuple[float, str] | None = None
    for block in parts:
        if block.pages[0] > 2:
            break
        if not block.heading:
            continue
        text, _ = block_text(block, words)
        size = max(line.size for line in block.lines)
        if _MASTHEAD in text:
            continue
        if len(text.split()) >= _TITLE_MIN_WORDS and (best is None or size > best[0]):
            best = (size, text)
    return best[1] if best else None
