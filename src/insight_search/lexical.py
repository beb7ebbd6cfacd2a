"""BM25 over chunk texts (bm25s), with accent/case folding, stop words and Snowball stemming.

bm25s scores queries and stores the index. Its own ``index()`` wants every tokenised text in a Python list
and needs several times the final matrix in temporaries, so the index is built here instead, out of core,
into bm25s's layout: :class:`LexicalBuilder` takes texts one at a time, counts document frequencies and
spills each text's (term id, term frequency) pairs to a file; ``finish`` then writes each BM25 score
(Lucene variant, as bm25s computes it) straight into its place in the CSC matrix, a block of texts at a
time. Memory: the vocabulary, eight bytes a text, and the final matrix.
"""

from __future__ import annotations

import io
import logging
from array import array
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

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
def _stemmer() -> Any:
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
        if method != "lucene":  # other variants (benchmarks only): bm25s's in-memory build
            retriever = bm25s.BM25(k1=k1, b=b, method=method)
            retriever.index([tokenize(t) for t in texts], show_progress=False)
            return cls(retriever)
        builder = LexicalBuilder(k1=k1, b=b)
        for text in texts:
            builder.add(text)
        return builder.finish()

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


class LexicalBuilder:
    """BM25 (Lucene variant) built text by text: ``add`` each chunk's text in order, then ``finish``.

    The (term, frequency) pairs go to ``spill`` (a file in the index being built) or to memory when none
    is given."""

    BLOCK_PAIRS = 1 << 18  # pairs scored and placed at a time (about 50 bytes of temporaries a pair)

    def __init__(self, spill: Path | None = None, *, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.vocab: dict[str, int] = {}
        self.doc_freq = array("I")  # texts holding each term
        self.distinct = array("I")  # distinct terms of each text
        self.lengths = array("I")  # terms of each text
        self.spill_path = spill
        self.spill: BinaryIO = spill.open("w+b") if spill else io.BytesIO()

    def add(self, text: str) -> None:
        vocab, doc_freq = self.vocab, self.doc_freq
        tokens = tokenize(text)
        counts = Counter(vocab.setdefault(t, len(vocab)) for t in tokens)
        if len(doc_freq) < len(vocab):
            doc_freq.extend([0] * (len(vocab) - len(doc_freq)))
        pairs = array("i")
        for term, tf in counts.items():
            doc_freq[term] += 1
            pairs.append(term)
            pairs.append(tf)
        self.spill.write(pairs.tobytes())
        self.distinct.append(len(counts))
        self.lengths.append(len(tokens))

    def finish(self) -> LexicalIndex:
        """The index over every added text (text i = document i). Removes the spill file."""
        try:
            self.spill.flush()
            self.spill.seek(0)
            scores = self._matrix()
        finally:
            self.spill.close()
            if self.spill_path:
                self.spill_path.unlink(missing_ok=True)
        retriever = bm25s.BM25(k1=self.k1, b=self.b, method="lucene")
        retriever.scores = scores
        retriever.nonoccurrence_array = None
        # as bm25s.BM25.index does: an empty token after the vocabulary (the builder is done with it)
        self.vocab.setdefault("", len(self.vocab))
        retriever.vocab_dict = self.vocab
        retriever.unique_token_ids_set = set(retriever.vocab_dict.values())
        return LexicalIndex(retriever)

    def _matrix(self) -> dict[str, object]:
        n_docs, n_terms = len(self.lengths), len(self.vocab)
        doc_freq = np.frombuffer(self.doc_freq, dtype=np.uint32).astype(np.float64)
        idf = np.log1p((n_docs - doc_freq + 0.5) / (doc_freq + 0.5)).astype(np.float32)
        lengths = np.frombuffer(self.lengths, dtype=np.uint32)
        distinct = np.frombuffer(self.distinct, dtype=np.uint32)
        avg_length = np.float32(lengths.mean() if n_docs and lengths.any() else 1.0)
        k1, b = np.float32(self.k1), np.float32(self.b)
        indptr = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum(self.doc_freq, out=indptr[1:])
        data = np.empty(int(indptr[-1]), dtype=np.float32)
        indices = np.empty(int(indptr[-1]), dtype=np.int32)
        next_free = indptr[:-1].copy()  # where each term's next (text, score) goes
        pairs_before = np.r_[0, np.cumsum(distinct, dtype=np.int64)]  # pairs of all texts before text i
        first = 0
        while first < n_docs:
            # a block of whole texts holding about BLOCK_PAIRS pairs (at least one text)
            limit = pairs_before[first] + self.BLOCK_PAIRS
            last = max(first + 1, int(np.searchsorted(pairs_before, limit, side="right")) - 1)
            count = int(pairs_before[last] - pairs_before[first])
            pairs = np.frombuffer(self.spill.read(8 * count), dtype=np.int32).reshape(-1, 2)
            terms, tf = pairs[:, 0], pairs[:, 1].astype(np.float32)
            docs = np.repeat(np.arange(first, last, dtype=np.int32), distinct[first:last])
            norm = k1 * ((1 - b) + b * lengths[docs].astype(np.float32) / avg_length)
            score = idf[terms] * (tf / (norm + tf))
            # Texts come in order, so a stable sort by term keeps each term's texts ascending (CSC order).
            order = np.argsort(terms, kind="stable")
            sorted_terms = terms[order]
            run_start = np.flatnonzero(np.r_[True, sorted_terms[1:] != sorted_terms[:-1]])
            rank = np.arange(count, dtype=np.int32) - np.repeat(run_start, np.diff(np.r_[run_start, count]))
            places = next_free[sorted_terms] + rank
            data[places] = score[order]
            indices[places] = docs[order]
            next_free += np.bincount(terms, minlength=n_terms)
            first = last
        return {"data": data, "indices": indices, "indptr": indptr, "num_docs": n_docs}
