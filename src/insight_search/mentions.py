"""Mentions: complete recall for a name or phrase (not top-k), accent- and case-insensitive.

Every chunk whose folded text holds the folded term at word boundaries is a mention ("Nuevo Leon" finds
"Nuevo León", "NIÑAS" finds "niñas", "женщины" finds "Женщины"; a Chinese term needs no boundary) among
the rows the caller's filters allow, in whichever language the passage is. Results come in index order,
counted by year, country and document, with offset pagination over all of them and the matched spans.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from insight_search.errors import BadInput
from insight_search.facets import UNKNOWN, year_values
from insight_search.models import Chunk, Mention, MentionsResult
from insight_search.text import fold, fold_with_offsets

# Chinese and Japanese write no spaces between words: a term that starts (or ends) with such a character
# needs no word boundary there.
_UNSPACED = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\u3040-\u30ff]")


def term_pattern(term: str) -> re.Pattern[str]:
    folded = " ".join(fold(term).split())
    if not folded:
        raise BadInput("the term is empty")
    body = r"\s+".join(re.escape(part) for part in folded.split(" "))
    before = "" if _UNSPACED.match(folded[0]) else r"(?<!\w)"
    after = "" if _UNSPACED.match(folded[-1]) else r"(?!\w)"
    return re.compile(rf"{before}{body}{after}")


def find_spans(text: str, pattern: re.Pattern[str]) -> tuple[tuple[int, int], ...]:
    """Spans of ``pattern`` (which matches folded text) in the original ``text``."""
    folded, origin = fold_with_offsets(text)
    return tuple((origin[m.start()], origin[m.end() - 1] + 1) for m in pattern.finditer(folded))


def mentions(
    term: str,
    chunks: Sequence[Chunk],
    folded_texts: Sequence[str],
    rows: Sequence[int] | None,
    *,
    offset: int = 0,
    limit: int = 20,
) -> MentionsResult:
    """Every chunk among ``rows`` (all when None) whose text mentions ``term``, counted, one page of them.

    ``folded_texts``: :func:`text.fold` of each chunk's text, in the order of ``chunks``."""
    pattern = term_pattern(term)
    ids = range(len(chunks)) if rows is None else rows
    hits = [i for i in ids if pattern.search(folded_texts[i])]
    years: Counter[str] = Counter()
    countries: Counter[str] = Counter()
    documents: Counter[str] = Counter()
    for i in hits:
        c = chunks[i]
        years.update(year_values(c))  # each year the passage covers, as the year facet counts
        countries[c.country or UNKNOWN] += 1
        documents[c.doc_id] += 1
    page = hits[offset : offset + limit]
    result = tuple(Mention(chunks[i], find_spans(chunks[i].text, pattern)) for i in page)
    return MentionsResult(
        term=term,
        total=len(hits),
        years=dict(sorted(years.items())),
        countries=dict(countries.most_common()),
        documents=dict(documents.most_common()),
        mentions=result,
        next_offset=offset + limit if offset + limit < len(hits) else None,
    )
