"""What the Word and HTML readers share: a document of headed sections, built from the blocks a reader took
from its file (headings, paragraphs, table rows), and the metadata sidecar beside it. Pure except for the
sidecar read.

Sections follow the headings the way Markdown's do (``sources/markdown.py``): a passage's section is its
heading as a slug ("Progress in 2023" -> ``progress_in_2023``) or the shared :class:`Section` the heading
names ("Progress note 2023" -> ``progress_note``), its label the heading, its year the one year the heading
names, else the year of the heading above it ("Results 2023" > "Care systems"). Text before any heading is
section ``text``. Consecutive paragraphs of one section share a passage up to :data:`MERGE_WORDS` words
(each on a line of its own); a longer paragraph is a passage alone (the chunker cuts it). Table rows form
passages of their own, marked ``composed``: the reader wrote "Header: value; Header: value" from the cells,
so they are searchable but never quoted in a summary.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from insight_search.errors import UnreadableFile
from insight_search.models import Document, Passage, Section, SourceRef
from insight_search.sources.common import clean_text, date_year, parse_year, short_title, split_names
from insight_search.sources.countries import detect_country
from insight_search.sources.markdown import heading_slug, single_year
from insight_search.text import clean_whitespace

# Paragraphs of one section are merged into one passage while it stays under this many words (about a chunk).
MERGE_WORDS = 100
# A table's first row is its header when each of its cells is at most this many words.
HEADER_CELL_WORDS = 8
# The country a document is about is looked for in its first this many characters (a report says it early).
COUNTRY_CHARS = 50_000


@dataclass(frozen=True, slots=True)
class Block:
    """One piece of a file's body, in reading order: a heading (``level`` 0 for a title, 1-9), a paragraph
    or list item (``level`` None), or a table row written as text (``table``)."""

    text: str
    level: int | None = None
    table: bool = False


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """What a reader knows of the whole file besides its body (all optional)."""

    title: str | None = None  # core properties title, <title>
    year: int | None = None  # a date the file states (core properties, <meta>)
    language: str | None = None  # "en", from <html lang>


def table_rows(rows: Iterable[Iterable[str]]) -> list[Block]:
    """Table rows as text blocks: "Header: value; Header: value" under a header row (a first row of short,
    non-empty cells, when the table has more rows), else the cells joined by "; ". Empty cells are left out,
    a cell repeated by a merge (the same text next to itself) is written once."""
    cleaned: list[list[str]] = []
    for row in rows:
        cells: list[str] = []
        for cell in row:
            text = clean_whitespace(cell)
            if not cells or text != cells[-1] or not text:
                cells.append(text)
        if any(cells):
            cleaned.append(cells)
    if not cleaned:
        return []
    header: list[str] | None = None
    first = cleaned[0]
    if len(cleaned) > 1 and all(c and len(c.split()) <= HEADER_CELL_WORDS for c in first):
        header, cleaned = first, cleaned[1:]
    blocks = []
    for cells in cleaned:
        if header is not None and len(cells) == len(header):
            parts = [f"{h}: {c}" if h and h != c else c for h, c in zip(header, cells, strict=True) if c]
        else:
            parts = [c for c in cells if c]
        if parts:
            blocks.append(Block("; ".join(parts), table=True))
    return blocks


def section_passages(blocks: Iterable[Block], *, merge_words: int = MERGE_WORDS) -> list[Passage]:
    """Passages of a headed text (see the module docstring)."""
    passages: list[Passage] = []
    headings: dict[int, tuple[str, int | None]] = {}  # level -> (heading, year) of the open headings
    heading: str | None = None
    year: int | None = None
    lines: list[str] = []
    words = 0
    in_table = False

    def flush() -> None:
        nonlocal words
        if lines:
            passages.append(
                Passage(
                    text="\n".join(lines),
                    section=heading_slug(heading) if heading else Section.TEXT,
                    year=year,
                    label=heading,
                    composed=in_table,
                )
            )
        lines.clear()
        words = 0

    for block in blocks:
        text = clean_whitespace(block.text)
        if not text:
            continue
        if block.level is not None:
            flush()
            for level in [lv for lv in headings if lv >= block.level]:
                del headings[level]
            above = [headings[lv][1] for lv in sorted(headings) if headings[lv][1] is not None]
            heading, year = text, single_year(text) or (above[-1] if above else None)
            headings[block.level] = (heading, year)
            continue
        size = len(text.split())
        if lines and (block.table != in_table or words + size > merge_words):
            flush()
        in_table = block.table
        lines.append(text)
        words += size
    flush()
    return passages


def first_heading(blocks: Iterable[Block]) -> str | None:
    """The text of the highest heading that comes first (a title, else the first level-1 heading...)."""
    best: tuple[int, str] | None = None
    for block in blocks:
        text = clean_whitespace(block.text)
        if block.level is not None and text and (best is None or block.level < best[0]):
            best = (block.level, text)
    return best[1] if best else None


def headed_document(
    blocks: list[Block],
    *,
    path: Path,
    name: str,
    kind: str,
    info: DocumentInfo,
    sidecar: Mapping[str, Any],
) -> Document:
    """One document from a file's blocks. The sidecar wins over what the file says: ``doc_id``, ``title``,
    ``year`` (and ``year_end``), ``language``, ``country``, ``region``, ``office``, ``agencies`` (or
    ``agency``), ``themes``, ``partners``, ``outcome``; any other key is kept as metadata. The country, when
    no sidecar gives it, is the one the text clearly names."""
    passages = section_passages(blocks)
    if not passages:
        raise UnreadableFile(path, "no text in the file (only headings, or nothing)")
    meta = dict(sidecar)
    title = clean_text(meta.pop("title", None)) or info.title or first_heading(blocks) or name
    year = date_year(meta.pop("year", None)) or info.year
    year_end = parse_year(meta.pop("year_end", None))
    language = clean_text(meta.pop("language", None)) or info.language
    text = "\n".join(b.text for b in blocks)[:COUNTRY_CHARS]
    country = clean_text(meta.pop("country", None)) or detect_country(f"{title}\n{text}")
    doc_id = clean_text(meta.pop("doc_id", None)) or f"{kind}:{name}"
    fields = {
        "region": clean_text(meta.pop("region", None)),
        "outcome": clean_text(meta.pop("outcome", None)),
        "office": clean_text(meta.pop("office", None)),
    }
    agencies = split_names(meta.pop("agencies", meta.pop("agency", None)))
    themes = split_names(meta.pop("themes", meta.pop("theme", None)))
    partners = split_names(meta.pop("partners", None))
    metadata = {"language": language, **meta}
    return Document(
        doc_id=doc_id,
        title=short_title(title),
        source=SourceRef(path=str(path), kind=kind),
        passages=tuple(passages),
        country=country,
        region=fields["region"],
        agencies=agencies,
        year=year,
        year_end=year_end if year is not None and year_end is not None and year_end > year else None,
        outcome=fields["outcome"],
        themes=themes,
        partners=partners,
        office=fields["office"],
        metadata={k: v for k, v in metadata.items() if v is not None},
    )
