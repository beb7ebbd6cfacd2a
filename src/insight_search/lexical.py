"""BM25 over chunk texts (bm25s), with accent/case folding, stop words and Snowball stemming.

:class:`LexicalBuilder` takes texts one at a time and spills their token ids to a file, so building the
index of a large corpus holds the vocabulary and the final score matrix in memory, never the token lists
(bm25s itself wants every tokenised text in a Python list).
"""

from __future__ import annotations

import io
import logging
from array import array
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

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
        builder = LexicalBuilder(k1=k1, b=b, method=method)
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


class _SpilledTokens:
    """The token ids of every text, read back from the spill file in order (bm25s iterates three times)."""

    BLOCK = 1 << 20  # token ids read per file access

    def __init__(self, spill: BinaryIO, lengths: array) -> None:
        self.spill, self.lengths = spill, lengths

    def __len__(self) -> int:
        return len(self.lengths)

    def __iter__(self) -> Iterator[list[int]]:
        self.spill.seek(0)
        buffer = np.zeros(0, dtype=np.int32)
        pos = 0
        for n in self.lengths:
            if pos + n > len(buffer):
                fresh = np.frombuffer(self.spill.read(4 * max(self.BLOCK, n)), dtype=np.int32)
                buffer = np.concatenate([buffer[pos:], fresh])
                pos = 0
            yield buffer[pos : pos + n].tolist()
            pos += n


class LexicalBuilder:
    """BM25 index built text by text: ``add`` each chunk's text in order, then ``finish``.

    Token ids go to ``spill`` (a file in the index being built) or to memory when none is given."""

    def __init__(
        self, spill: Path | None = None, *, k1: float = 1.2, b: float = 0.75, method: str = "lucene"
    ) -> None:
        self.params = {"k1": k1, "b": b, "method": method}
        self.vocab: dict[str, int] = {}
        self.lengths = array("I")
        self.spill_path = spill
        self.spill: BinaryIO = spill.open("w+b") if spill else io.BytesIO()

    def add(self, text: str) -> None:
        vocab = self.vocab
        ids = array("i", (vocab.setdefault(t, len(vocab)) for t in tokenize(text)))
        self.spill.write(ids.tobytes())
        self.lengths.append(len(ids))

    def finish(self) -> LexicalIndex:
        """The index over every added text (text i = document i). Removes the spill file."""
        try:
            self.spill.flush()
            retriever = bm25s.BM25(**self.params)  # type: ignore[arg-type]
            with np.errstate(invalid="ignore", divide="ignore"):  # texts without a single word: 0/0, unused
                retriever.scores = retriever.build_index_from_ids(
                    unique_token_ids=list(range(len(self.vocab))),
                    corpus_token_ids=_SpilledTokens(self.spill, self.lengths),  # type: ignore[arg-type]
                    show_progress=False,
                )
        finally:
            self.spill.close()
            if self.spill_path:
                self.spill_path.unlink(missing_ok=True)
        # as bm25s.BM25.index does: an empty token after the vocabulary
        retriever.vocab_dict = {**self.vocab, "": len(self.vocab)}
        retriever.unique_token_ids_set = set(retriever.vocab_dict.values())
        return LexicalIndex(retriever)
