"""What "matching" means, by brute force, for tests to compare the searcher against: a chunk matches a query
when the text BM25 indexed (``indexer.indexed_text``) holds one of its terms after BM25's analysis
(``lexical.tokenize``: the chunk in its own language; the query in English and, where the index holds its
detected language, in that one too: ``lexical.query_languages``), or when its stored vector's cosine with
the query reaches the match threshold."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from insight_search.indexer import indexed_text
from insight_search.lexical import query_languages, tokenize
from insight_search.search import Searcher


def reference_matches(searcher: Searcher, text: str, rows: Iterable[int] | None = None) -> set[int]:
    """The rows (of ``rows``; every row when None) that match ``text``."""
    terms = set(tokenize(text))
    for language in query_languages(text, frozenset(searcher.data.lexical.languages)):
        terms |= set(tokenize(text, language))
    with_title = searcher.data.manifest.title_in_lexical
    if with_title is None:
        with_title = searcher.settings.title_in_lexical
    query = searcher.embedder.embed_batch([text.strip()])[0]
    vectors = np.asarray(searcher.data.dense.vectors, dtype=np.float32)
    threshold = searcher.settings.match_threshold
    out = set()
    for i in range(len(searcher.chunks)) if rows is None else rows:
        chunk = searcher.chunks[i]
        indexed = set(tokenize(indexed_text(chunk, with_title), chunk.language))
        if terms & indexed or float(vectors[i] @ query) >= threshold:
            out.add(i)
    return out
