"""Highlights (pure): the sentence of a passage that holds the most distinct query terms."""

from __future__ import annotations

from insight_search.lexical import tokenize
from insight_search.text import sentence_spans

# Each sentence of a text: (start, end, its distinct search terms)
SentenceTerms = tuple[tuple[int, int, frozenset[str]], ...]


def sentence_terms(text: str) -> SentenceTerms:
    """Each sentence of ``text``: its span and its distinct search terms."""
    return tuple((s, e, frozenset(tokenize(text[s:e]))) for s, e in sentence_spans(text))


def highlight(text: str, terms: set[str], sentences: SentenceTerms | None = None) -> str:
    """The sentence of ``text`` holding the most distinct query terms (the first sentence if none does).
    ``sentences``: :func:`sentence_terms` of ``text`` when already known."""
    spans = sentence_terms(text) if sentences is None else sentences
    if not spans:
        return text
    best, best_score = spans[0], 0
    for sentence in spans:
        score = len(terms.intersection(sentence[2]))
        if score > best_score:
            best, best_score = sentence, score
    return text[best[0] : best[1]]
