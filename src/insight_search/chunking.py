"""Document -> chunks. Pure: no model, no I/O.

Sentences of one passage are packed into chunks of at most ``max_words`` words (a sentence longer than that
is cut at word boundaries). A chunk never crosses a passage boundary, so one year's progress note is never
mixed with another's. A chunk carries its passage's year span (else its document's: a project's start to
end). Chunk ids hash the document id, the passage's section and year, and the chunk's text:
re-indexing unchanged text keeps its ids.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator

from insight_search.models import Chunk, Document, Passage
from insight_search.text import sentence_spans

_WORD_SPAN = re.compile(r"\S+")


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


def _pieces(text: str, max_words: int) -> Iterator[tuple[int, int, int]]:
    """(start, end, words) of each sentence, long sentences cut into ``max_words``-word pieces."""
    for s, e in sentence_spans(text):
        spans = [m.span() for m in _WORD_SPAN.finditer(text, s, e)]
        for i in range(0, len(spans), max_words):
            part = spans[i : i + max_words]
            yield part[0][0], part[-1][1], len(part)


def passage_windows(text: str, max_words: int) -> list[tuple[int, int]]:
    """Character windows of ``text``: whole sentences packed up to ``max_words`` words each."""
    windows: list[tuple[int, int]] = []
    start = end = -1
    count = 0
    for s, e, n in _pieces(text, max_words):
        if start >= 0 and count + n > max_words:
            windows.append((start, end))
            start, count = -1, 0
        if start < 0:
            start = s
        end = e
        count += n
    if start >= 0:
        windows.append((start, end))
    return windows


def chunk_document(doc: Document, max_words: int = 120) -> list[Chunk]:
    chunks: list[Chunk] = []
    seen: set[str] = set()
    for p_index, passage in enumerate(doc.passages):
        year, year_end = passage_years(doc, passage)
        for start, end in passage_windows(passage.text, max_words):
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
                    **doc.chunk_fields(),
                    composed=passage.composed,
                )
            )
    return chunks


def chunk_documents(docs: Iterable[Document], max_words: int = 120) -> Iterator[Chunk]:
    for doc in docs:
        yield from chunk_document(doc, max_words)
