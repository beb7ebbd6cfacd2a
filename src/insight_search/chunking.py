"""Document -> chunks. Pure: no model, no I/O.

Sentences of one passage are packed into chunks of at most ``max_words`` words and ``max_chars`` characters (a
sentence longer than that is cut at word boundaries, a single word longer than ``max_chars`` into pieces of
``max_chars``: one 15 MB token is not one 15 MB chunk). A chunk never crosses a passage boundary, so one
year's progress note is never mixed with another's. A chunk carries its passage's year span (else its
document's: a project's start to end) and, for a PDF, the pages its text lies on (:func:`chunk_source`).
Chunk ids hash the document id, the passage's section and year, and the chunk's text: re-indexing unchanged
text keeps its ids.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import replace

from insight_search.models import Chunk, Document, Passage, SourceRef
from insight_search.text import sentence_spans

_WORD_SPAN = re.compile(r"\S+")
# The character cap's default: this many characters a word. With 120 words (the default until issue 14; now
# 400: 6,000 characters), 1,800 characters: the longest of
# the 217,044 chunks of the sample page and the UN INFO exports (URLs and long names included) has 1,496, the
# longest SciFact chunk 1,063, so the cap cuts only text that is not prose.
CHARS_PER_WORD = 15


def default_max_chars(max_words: int) -> int:
    """The character cap that goes with ``max_words`` when none is configured (``Settings.chunk_chars``)."""
    return max_words * CHARS_PER_WORD


def chunk_id_for(doc_id: str, passage: Passage, text: str) -> str:
    key = "\x1f".join((doc_id, passage.section, str(passage.year or ""), text))
    return hashlib.blake2b(key.encode("utf-8"), digest_size=10).hexdigest()


def passage_years(doc: Document, passage: Passage) -> tuple[int | None, int | None]:
    """(year, year_end) of a passage: its own span, else its document's. ``year_end`` is None for one year
    (an end that is not after the start means one year too)."""
    year, end = (passage.year, passage.year_end) if passage.year is not None else (doc.year, doc.year_end)
    if year is None:
        return None, None
    return year, end if end is not None and end > year else None


def chunk_source(source: SourceRef, passage: Passage, start: int, end: int) -> SourceRef:
    """The source of ``passage.text[start:end]``: the document's, with the pages that text lies on when the
    passage knows its pages (a PDF's), else the document's as it is."""
    if not passage.pages:
        return source
    first = last = passage.pages[0][1]
    for offset, page in passage.pages:
        if offset <= start:
            first = page
        if offset < end:
            last = page
    return replace(source, page_from=first, page_to=last)


def _pieces(text: str, max_words: int, max_chars: int) -> Iterator[tuple[int, int, int]]:
    """(start, end, words) of each sentence, long sentences cut into pieces of at most ``max_words`` words and
    ``max_chars`` characters, and a word longer than ``max_chars`` into ``max_chars`` pieces. Words are
    streamed: a sentence of millions of words is never held as a list."""
    for s, e in sentence_spans(text):
        start = end = -1
        count = 0
        for m in _WORD_SPAN.finditer(text, s, e):
            ws, we = m.span()
            if we - ws > max_chars:  # an over-long word: its own pieces
                if start >= 0:
                    yield start, end, count
                    start, count = -1, 0
                while we - ws > max_chars:
                    yield ws, ws + max_chars, 1
                    ws += max_chars
            if start >= 0 and (count == max_words or we - start > max_chars):
                yield start, end, count
                start, count = -1, 0
            if start < 0:
                start = ws
            end = we
            count += 1
        if start >= 0:
            yield start, end, count


def passage_windows(text: str, max_words: int, max_chars: int | None = None) -> list[tuple[int, int]]:
    """Character windows of ``text``: whole sentences packed up to ``max_words`` words and ``max_chars``
    characters each (default :func:`default_max_chars`)."""
    cap = max_chars or default_max_chars(max_words)
    windows: list[tuple[int, int]] = []
    start = end = -1
    count = 0
    for s, e, n in _pieces(text, max_words, cap):
        if start >= 0 and (count + n > max_words or e - start > cap):
            windows.append((start, end))
            start, count = -1, 0
        if start < 0:
            start = s
        end = e
        count += n
    if start >= 0:
        windows.append((start, end))
    return windows


def chunk_document(doc: Document, max_words: int = 120, max_chars: int | None = None) -> list[Chunk]:
    """The chunks of ``doc``: at most ``max_words`` words and ``max_chars`` characters each (default
    :func:`default_max_chars` of ``max_words``)."""
    chunks: list[Chunk] = []
    seen: set[str] = set()
    for p_index, passage in enumerate(doc.passages):
        year, year_end = passage_years(doc, passage)
        for start, end in passage_windows(passage.text, max_words, max_chars):
            text = passage.text[start:end]
            cid = chunk_id_for(doc.doc_id, passage, text)
            if cid in seen:  # the same text twice in one document and section is indexed once
                continue
            seen.add(cid)
            chunks.append(
                Chunk(
                    chunk_id=cid,
                    text=text,
                    section=passage.section,
                    passage_index=p_index,
                    start=start,
                    end=end,
                    year=year,
                    year_end=year_end,
                    status=passage.status,
                    **{**doc.chunk_fields(), "source": chunk_source(doc.source, passage, start, end)},
                    composed=passage.composed,
                    language=passage.language,
                )
            )
    return chunks


def chunk_documents(
    docs: Iterable[Document], max_words: int = 120, max_chars: int | None = None
) -> Iterator[Chunk]:
    for doc in docs:
        yield from chunk_document(doc, max_words, max_chars)
