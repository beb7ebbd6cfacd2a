"""Query-focused extractive summaries and year-by-year timelines over the passages that match a query.

A timeline year counts every matching passage whose year span covers it, but its status and sentences
come only from that year's progress notes; a project merely running that year is listed, not quoted.

Sentences are whole and verbatim; each carries its citation and its character offsets in its passage.
Composed passages (``Chunk.composed``: text a reader wrote from table fields) are never quoted.
The functions take the matching passages and an embedder, not a searcher: the caller finds the matches.
Selection (centrality + query relevance + redundancy removal) is ``sentence_ranking.select_sentences``
over sentence embeddings; this module gathers the evidence and puts the chosen sentences in order
(year, then document position). The sentences and their vectors come from the index when the caller gives
a lookup (``sentences``: ``sentence_store.SentenceStore.lookup``, split and embedded once at build time);
a passage the lookup does not know is split and embedded here. The query's vector may be given too
(``query_vector``: the one its search computed).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from insight_search.embedding import Embedder
from insight_search.languages import LanguageCitation
from insight_search.models import (
    Chunk,
    Citation,
    Section,
    Summary,
    SummarySentence,
    Timeline,
    TimelineYear,
)
from insight_search.sentence_ranking import select_sentences
from insight_search.sentence_store import MIN_SENTENCE_WORDS as MIN_SENTENCE_WORDS
from insight_search.sentence_store import SentenceLookup, quotable_spans

DEFAULT_EVIDENCE = 20  # best-ranked matching passages a summary draws from


@dataclass(frozen=True)
class _Candidate:
    chunk: Chunk
    start: int  # offsets in the chunk text
    end: int
    rank: int  # rank of its chunk among the matches
    vector: np.ndarray | None = None  # its stored embedding, when the index has it

    @property
    def text(self) -> str:
        return self.chunk.text[self.start : self.end]


def citation(chunk: Chunk) -> Citation:
    """The citation of a sentence of ``chunk``, with the chunk's language (a :class:`LanguageCitation`)."""
    return LanguageCitation(
        doc_id=chunk.doc_id,
        chunk_id=chunk.chunk_id,
        title=chunk.title,
        source=chunk.source,
        year=chunk.year,
        year_end=chunk.year_end,
        country=chunk.country,
        composed=chunk.composed,
        language=chunk.language,
    )


def _candidates(chunks: Sequence[Chunk], sentences: SentenceLookup | None = None) -> list[_Candidate]:
    """The quotable sentences of ``chunks`` (``sentence_store.quotable_spans``), each text once."""
    out: list[_Candidate] = []
    seen: set[str] = set()
    for rank, chunk in enumerate(chunks):
        if chunk.composed:  # the reader wrote it from table fields: never quoted as the source's words
            continue
        stored = sentences(chunk) if sentences is not None else None
        spans = quotable_spans(chunk) if stored is None else stored.spans.tolist()
        for j, (s, e) in enumerate(spans):
            key = " ".join(chunk.text[s:e].lower().split())
            if key in seen:
                continue
            seen.add(key)
            out.append(_Candidate(chunk, s, e, rank, None if stored is None else stored.vectors[j]))
    return out


def _vectors(candidates: Sequence[_Candidate], embedder: Embedder) -> np.ndarray:
    """The candidates' vectors: stored ones as they are, the others embedded in one batch."""
    missing = [i for i, c in enumerate(candidates) if c.vector is None]
    if len(missing) == len(candidates):
        return np.asarray(embedder.embed_batch([c.text for c in candidates]))
    out = np.empty((len(candidates), embedder.dimension), dtype=np.float32)
    if missing:
        out[missing] = embedder.embed_batch([candidates[i].text for i in missing])
    for i, c in enumerate(candidates):
        if c.vector is not None:
            out[i] = c.vector
    return out


def order_key(s: SummarySentence) -> tuple:
    year = s.citation.year if s.citation.year is not None else 10_000
    return (year, s.citation.doc_id, s.passage_index, s.start)


def summarize_chunks(
    query: str,
    chunks: Sequence[Chunk],
    embedder: Embedder,
    *,
    max_sentences: int = 5,
    max_words: int | None = None,
    sentences: SentenceLookup | None = None,
    query_vector: np.ndarray | None = None,
) -> tuple[SummarySentence, ...]:
    """Choose up to ``max_sentences`` sentences (and ``max_words`` words) of ``chunks`` for ``query``
    (``sentences``, ``query_vector``: stored sentence vectors and the query's own, see the module doc)."""
    candidates = _candidates(chunks, sentences)
    if not candidates:
        return ()
    texts = [c.text for c in candidates]
    vectors = _vectors(candidates, embedder)
    if query_vector is None:
        query_vector = embedder.embed_batch([query])[0]
    chosen = select_sentences(
        texts,
        max_sentences=max_sentences,
        max_words=max_words,
        query=query,
        sentence_vectors=vectors,
        query_vector=query_vector,
        positions=[c.rank for c in candidates],
        position_weight=0.1,
    )
    out = [
        SummarySentence(
            text=candidates[r.index].text,
            citation=citation(candidates[r.index].chunk),
            start=candidates[r.index].chunk.start + candidates[r.index].start,
            end=candidates[r.index].chunk.start + candidates[r.index].end,
            score=r.score,
            passage_index=candidates[r.index].chunk.passage_index,
        )
        for r in chosen
    ]
    return tuple(sorted(out, key=order_key))


def summarize(
    query_text: str,
    evidence: Sequence[Chunk],
    embedder: Embedder,
    *,
    max_sentences: int = 5,
    max_words: int | None = None,
    sentences: SentenceLookup | None = None,
    query_vector: np.ndarray | None = None,
) -> Summary:
    """Extractive summary of what ``evidence`` says about ``query_text``.

    ``evidence``: the best matching passages, best first, already cut to the depth the caller wants
    (:data:`DEFAULT_EVIDENCE` by default). ``passages_considered`` counts the quotable ones (composed
    passages are never quoted). ``sentences``, ``query_vector``: see :func:`summarize_chunks`."""
    chosen = summarize_chunks(
        query_text.strip(),
        evidence,
        embedder,
        max_sentences=max_sentences,
        max_words=max_words,
        sentences=sentences,
        query_vector=query_vector,
    )
    quotable = sum(not c.composed for c in evidence)
    return Summary(query=query_text, sentences=chosen, passages_considered=quotable)


def is_progress_note(chunk: Chunk, year: int) -> bool:
    """Whether ``chunk`` is a progress note of ``year`` (a yearly note: its year alone)."""
    return chunk.section == Section.PROGRESS_NOTE and chunk.year == year and chunk.years[-1] == year


def year_status(
    notes: Sequence[Chunk], year: int, document_chunks: Callable[[set[str]], Sequence[Chunk]]
) -> str | None:
    """The outcome status stated for ``year`` by progress notes: by ``notes`` (the year's matching
    progress notes), else by the other progress notes of ``year`` in their documents (``document_chunks``:
    every chunk of some documents, by document id). None without a progress note of the year."""
    statuses = Counter(c.status for c in notes if c.status)
    if not statuses and notes:
        docs = {c.doc_id for c in notes}
        statuses = Counter(c.status for c in document_chunks(docs) if c.status and is_progress_note(c, year))
    return statuses.most_common(1)[0][0] if statuses else None


def _spans(chunks: Sequence[Chunk]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First year (-1 without one), last year and "is a progress note" of each chunk, as arrays."""
    n = len(chunks)
    starts = np.fromiter((-1 if c.year is None else c.year for c in chunks), np.int64, n)
    stated_ends = np.fromiter((-1 if c.year_end is None else c.year_end for c in chunks), np.int64, n)
    ends = np.where(starts >= 0, np.maximum(starts, stated_ends), -1)
    return starts, ends, np.fromiter((c.section == Section.PROGRESS_NOTE for c in chunks), bool, n)


def timeline(
    query_text: str,
    matches: Sequence[Chunk],
    embedder: Embedder,
    *,
    document_chunks: Callable[[set[str]], Sequence[Chunk]],
    sentences_per_year: int = 3,
    evidence_per_year: int = 10,
    active_per_year: int = 5,
    first_year: int | None = None,
    last_year: int | None = None,
    sentences: SentenceLookup | None = None,
    query_vector: np.ndarray | None = None,
    spans: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> Timeline:
    """Per year with evidence, ascending: what matches, the stated status, a short cited summary.

    ``matches``: every passage that matches the query, best first. A passage counts in every year its span
    covers (as the year facet counts it), within ``first_year``..``last_year`` when given (a year filter).
    A year's status and sentences come only from its own progress notes (section ``progress_note`` of that
    year); the other passages covering it (a project running that year) are listed as ``active``, at most
    ``active_per_year``, never quoted. ``document_chunks``: every chunk of some documents, by document id
    (where a year's status is looked up when its matching notes state none). ``sentences``,
    ``query_vector``: see :func:`summarize_chunks` (the query is embedded once for all years). ``spans``:
    per match, its first year (-1 without one), its last year and whether its section is a progress note,
    when the caller has them as columns (``FilterColumns``); else they are read from the chunks."""
    # A timeline query can match thousands of passages: their spans go into arrays once, and each year
    # takes its notes and the first of its other passages with a mask (in the order of ``matches``).
    if spans is None:
        spans = _spans(matches)
    starts, ends, sections = spans
    yearly_note = sections & (starts == ends)
    dated = starts >= 0
    first, last = 0, -1  # no year at all: no timeline year
    if dated.any():
        first = max(int(starts[dated].min()), first_year if first_year is not None else -(10**9))
        last = min(int(ends[dated].max()), last_year if last_year is not None else 10**9)
    years = []
    text = query_text.strip()
    for year in range(first, last + 1):
        covers = dated & (starts <= year) & (ends >= year)
        count = int(np.count_nonzero(covers))
        if not count:
            continue
        is_note = covers & yearly_note & (starts == year)
        notes = [matches[i] for i in np.flatnonzero(is_note).tolist()]
        others = [matches[i] for i in np.flatnonzero(covers & ~is_note)[:active_per_year].tolist()]
        if query_vector is None and notes:
            query_vector = embedder.embed_batch([text])[0]
        chosen = summarize_chunks(
            text,
            notes[:evidence_per_year],
            embedder,
            max_sentences=sentences_per_year,
            sentences=sentences,
            query_vector=query_vector,
        )
        years.append(
            TimelineYear(
                year=year,
                count=count,
                status=year_status(notes, year, document_chunks),
                sentences=chosen,
                progress_notes=len(notes),
                active=tuple(others),
            )
        )
    return Timeline(query=query_text, years=tuple(years))


def timeline_markdown(result: Timeline) -> str:
    """A year-over-year snippet ready to paste in a report.

    One paragraph per year, numbered citations (one number per source document), and a source list at
    the end naming each document once, with the years and the number of passages cited from it. A
    timeline with no year says that nothing matched."""
    lines = [f"**{result.query}: year by year**", ""]
    if not result.years:
        lines.append("Nothing matched.")
    cited: dict[str, list[SummarySentence]] = {}  # document -> its cited sentences, in citation order
    for y in result.years:
        parts = []
        for s in y.sentences:
            cited.setdefault(s.citation.doc_id, []).append(s)
            parts.append(f"{s.text} [{list(cited).index(s.citation.doc_id) + 1}]")
        status = f" *Status: {y.status}.*" if y.status else ""
        lines.append(
            f"**{y.year}** ({y.count} passage{'s' if y.count != 1 else ''}).{status} " + " ".join(parts)
        )
        lines.append("")
    if cited:
        lines.append("Sources:")
    for n, (doc_id, sentences) in enumerate(cited.items(), start=1):
        c = sentences[0].citation
        years = sorted({s.citation.year for s in sentences if s.citation.year is not None})
        passages = len({s.citation.chunk_id for s in sentences})
        where = "; ".join(
            x
            for x in (
                c.country,
                ", ".join(map(str, years)),
                f"{passages} passage{'s' if passages != 1 else ''} cited",
            )
            if x
        )
        rows = sorted({s.citation.source.row for s in sentences if s.citation.source.row})
        row = f", row{'s' if len(rows) > 1 else ''} {', '.join(map(str, rows))}" if rows else ""
        lines.append(f"{n}. {c.title} ({where}). {c.source.path}{row}; doc {doc_id}.")
    return "\n".join(lines).rstrip() + "\n"
