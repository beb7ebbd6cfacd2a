"""BM25 over chunk texts (bm25s), with accent/case folding, stop words and Snowball stemming."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_FRENCH, STOPWORDS_SPANISH

from insight_search.fusion import Ranked
from insight_search.text import fold, words

logger = logging.getLogger(__name__)

# English, Spanish and French reports all occur in UN INFO; their stop words are dropped (folded like text).
# "un" stays: in this domain it is the United Nations far more often than the Spanish or French article.
KEEP = frozenset({"un", "onu", "ue"})
STOPWORDS = frozenset(fold(w) for w in (*STOPWORDS_EN, *STOPWORDS_SPANISH, *STOPWORDS_FRENCH)) - KEEP


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Folded, stop-word-free, stemmed word tokens."""
    tokens = [w for w in words(text) if w not in STOPWORDS]
    return list(_stemmer().stemWords(tokens))


class LexicalIndex:
    def __init__(self, retriever: bm25s.BM25) -> None:
        self.retriever = retriever
        self.vocab: dict[str, int] = retriever.vocab_dict

    @classmethod
    def build(
        cls, texts: Sequence[str], *, k1: float = 1.2, b: float = 0.75, method: str = "lucene"
    ) -> LexicalIndex:
        retriever = bm25s.BM25(k1=k1, b=b, method=method)
        retriever.index([tokenize(t) for t in texts], show_progress=False)
        return cls(retriever)

    def query_tokens(self, text: str) -> list[str]:
        return [t for t in tokenize(text) if t in self.vocab]

    def scores(self, text: str) -> np.ndarray:
        """BM25 score of every chunk for the query (0 where no query word occurs)."""
        tokens = self.query_tokens(text)
        n = int(self.retriever.scores["num_docs"])
        if not tokens:
            return np.zeros(n, dtype=np.float32)
        return np.asarray(self.retriever.get_scores(tokens), dtype=np.float32)

    def search(self, text: str, k: int, allowed: np.ndarray | None = None) -> tuple[Ranked, np.ndarray]:
        """Top ``k`` (id, score) with a positive score, and the ids of every matching chunk (score > 0)."""
        scores = self.scores(text)
        if allowed is not None:
            mask = np.zeros(len(scores), dtype=bool)
            mask[allowed] = True
            scores = np.where(mask, scores, 0.0)
        matching = np.flatnonzero(scores > 0)
        if len(matching) == 0:
            return [], matching
        n = min(k, len(matching))
        sub = scores[matching]
        best = np.argpartition(-sub, n - 1)[:n]
        best = best[np.lexsort((matching[best], -sub[best]))]
        return [(int(matching[j]), float(sub[j])) for j in best], matching

    def save(self, path: Path) -> None:
        self.retriever.save(str(path))

    @classmethod
    def load(cls, path: Path) -> LexicalIndex:
        return cls(bm25s.BM25.load(str(path)))
