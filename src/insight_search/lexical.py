"""BM25 over chunk texts (bm25s), with accent/case folding, stop words and Snowball stemming per language.

Each chunk is analysed in its own language (``Chunk.language``, issue 13): English (and a chunk of unknown
language) exactly as before this was per language (:func:`tokenize`: the English Snowball stemmer, English,
Spanish and French stop words); Spanish, French, Portuguese, German, Italian, Russian and Arabic with their
own Snowball stemmer (PyStemmer) and stop words, the word stemmed before its accents are folded; Chinese as
character bigrams. Every language shares one vocabulary, so a name ("UNICEF", "COVID") is one term in all of
them. A query is analysed in English and, when it is detected with confidence in another language that the
index holds, in that language too (:meth:`LexicalIndex.query_tokens`): a Spanish query finds Spanish
passages as an English one finds English passages, and an English index answers exactly as before.

bm25s scores queries and stores the index. Its own ``index()`` wants every tokenised text in a Python list
and needs several times the final matrix in temporaries, so the index is built here instead, out of core,
into bm25s's layout: :class:`LexicalBuilder` takes texts one at a time, counts document frequencies and
spills each text's (term id, term frequency) pairs to a file; ``finish`` then writes each BM25 score
(Lucene variant, as bm25s computes it) straight into its place in the CSC matrix, a block of texts at a
time. Memory: the vocabulary, eight bytes a text, and the final matrix.
"""

from __future__ import annotations

import io
import json
import logging
import re
from array import array
from collections import Counter
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO

import bm25s
import numpy as np
from bm25s.stopwords import (
    STOPWORDS_EN,
    STOPWORDS_FRENCH,
    STOPWORDS_GERMAN,
    STOPWORDS_ITALIAN,
    STOPWORDS_PORTUGUESE,
    STOPWORDS_RUSSIAN,
    STOPWORDS_SPANISH,
)

from insight_search.fusion import Ranked
from insight_search.text import fold, words

logger = logging.getLogger(__name__)

# English, Spanish and French reports all occur in UN INFO; their stop words are dropped (folded like text).
# "un" stays: in this domain it is the United Nations far more often than the Spanish or French article.
KEEP = frozenset({"un", "onu", "ue"})
STOPWORDS = frozenset(fold(w) for w in (*STOPWORDS_EN, *STOPWORDS_SPANISH, *STOPWORDS_FRENCH)) - KEEP


# Arabic function words (bm25s ships no Arabic list), folded as text is (short vowels dropped).
STOPWORDS_ARABIC = tuple(
    "في من على إلى عن مع هذا هذه ذلك تلك التي الذي الذين و أو ثم أن إن كان كانت يكون لا لم لن ما هو هي هم "  # noqa: SIM905
    "نحن أنت كل بعض غير بين حتى قد عند منذ أي كما لكن بل إذا لقد وقد ولا ومن وفي".split()
)
# Snowball stemmer and stop words of each language analysed in its own way (English is :func:`tokenize`).
ANALYSED = {
    "es": ("spanish", STOPWORDS_SPANISH),
    "fr": ("french", STOPWORDS_FRENCH),
    "pt": ("portuguese", STOPWORDS_PORTUGUESE),
    "de": ("german", STOPWORDS_GERMAN),
    "it": ("italian", STOPWORDS_ITALIAN),
    "ru": ("russian", STOPWORDS_RUSSIAN),
    "ar": ("arabic", STOPWORDS_ARABIC),
}
ACRONYM_MAX = 6  # capitals up to this long are an acronym, not stemmed outside English ("UNICEF")
QUERY_MIN_CONFIDENCE = 0.5  # a query's detected language is analysed too from this probability on
_RAW_WORD = re.compile(r"\w+", re.UNICODE)
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
LANGUAGES_FILE = "languages.json"  # beside bm25s's files: chunks per analysed language


@cache
def _stemmer(algorithm: str = "english") -> Any:
    """PyStemmer's stemmer; the other languages' without a cache (a word cache grows with the corpus up to
    10,000 words a language, and stems distinct words no faster than Snowball itself)."""
    import Stemmer

    return Stemmer.Stemmer(algorithm) if algorithm == "english" else Stemmer.Stemmer(algorithm, 0)


@cache
def _stopwords(language: str) -> frozenset[str]:
    """The language's own stop words and English's (the English, Spanish and French ones), "un" kept."""
    return (frozenset(fold(w) for w in ANALYSED[language][1]) | STOPWORDS) - KEEP


def tokenize(text: str, language: str | None = None) -> list[str]:
    """Folded, stop-word-free, stemmed word tokens of ``text`` analysed in ``language`` (ISO 639-1). English,
    None and a language without an analysis of its own: the English analysis (the same tokens as before
    analysis was per language)."""
    if language == "zh":
        return _han_bigrams(text)
    if language not in ANALYSED:
        kept = [w for w in words(text) if w not in STOPWORDS]
        return list(_stemmer().stemWords(kept))
    stop = _stopwords(language)
    stemmer = _stemmer(ANALYSED[language][0])
    tokens: list[str] = []
    for w in _RAW_WORD.findall(text):
        lower = w.casefold()
        if fold(lower) in stop:
            continue
        # An acronym ("UNICEF", "COVID", "ODS": capitals, at most 6) is a name, kept whole; a word is stemmed
        # before its accents are folded (Snowball's suffixes carry them: "-ación").
        acronym = 1 < len(w) <= ACRONYM_MAX and w.isupper()
        tokens.append(fold(lower if acronym else stemmer.stemWord(lower)))
    return tokens


def _han_bigrams(text: str) -> list[str]:
    """Chinese: each run of Han characters as overlapping character bigrams (a lone character alone); the
    rest of the text (Latin names, numbers) as English."""
    tokens: list[str] = []
    for run in _HAN.findall(text):
        tokens.extend([run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)])
    rest = _HAN.sub(" ", text)
    return tokens + tokenize(rest) if rest.strip() else tokens


def query_languages(text: str, held: Sequence[str] | frozenset[str]) -> list[str]:
    """The languages a query is analysed in besides English, among those the index holds chunks in
    (``held``): its detected language when the detector gives it at least :data:`QUERY_MIN_CONFIDENCE`
    (none when that is English); every held language when the detector cannot tell (a query of one or two
    words: "niñas", "salud materna"), since a token only counts where the index holds it."""
    if not held:
        return []
    from insight_search.languages import detect_with_confidence

    language, confidence = detect_with_confidence(text)
    if language is None or confidence < QUERY_MIN_CONFIDENCE:
        return sorted(held)
    return [language] if language != "en" and language in held else []


class LexicalIndex:
    def __init__(self, retriever: bm25s.BM25, languages: dict[str, int] | None = None) -> None:
        self.retriever = retriever
        self.vocab: dict[str, int] = retriever.vocab_dict
        # chunks analysed in each language other than English's analysis (empty: an English-only index,
        # or one written before analysis was per language)
        self.languages: dict[str, int] = dict(languages or {})

    @classmethod
    def build(
        cls,
        texts: Sequence[str],
        *,
        k1: float = 1.2,
        b: float = 0.75,
        method: str = "lucene",
        languages: Sequence[str | None] | None = None,
    ) -> LexicalIndex:
        """BM25 over ``texts``; ``languages``: each text's language (None: all analysed as English)."""
        langs: Sequence[str | None] = languages if languages is not None else [None] * len(texts)
        if method != "lucene":  # other variants (benchmarks only): bm25s's in-memory build
            retriever = bm25s.BM25(k1=k1, b=b, method=method)
            tokens = [tokenize(t, lang) for t, lang in zip(texts, langs, strict=True)]
            retriever.index(tokens, show_progress=False)
            held = Counter(lang for lang in langs if lang in ANALYSED or lang == "zh")
            return cls(retriever, dict(held))
        builder = LexicalBuilder(k1=k1, b=b)
        for text, lang in zip(texts, langs, strict=True):
            builder.add(text, lang)
        return builder.finish()

    def query_tokens(self, text: str) -> list[str]:
        """The query's English tokens, then those of its own language's analysis that English's lack
        (:func:`query_languages`), each kept when the index holds it."""
        tokens = [t for t in tokenize(text) if t in self.vocab]
        for language in query_languages(text, frozenset(self.languages)):
            seen = set(tokens)
            more = dict.fromkeys(tokenize(text, language))
            tokens += [t for t in more if t in self.vocab and t not in seen]
        return tokens

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
        held = json.dumps(self.languages, sort_keys=True)
        (path / LANGUAGES_FILE).write_text(held + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> LexicalIndex:
        languages_path = path / LANGUAGES_FILE  # absent in an index written before issue 13
        languages = json.loads(languages_path.read_text(encoding="utf-8")) if languages_path.exists() else {}
        return cls(bm25s.BM25.load(str(path)), languages)


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
        self.languages: Counter[str] = Counter()  # texts analysed in each language other than English

    def add(self, text: str, language: str | None = None) -> None:
        """Add the next text, analysed in ``language`` (:func:`tokenize`)."""
        vocab, doc_freq = self.vocab, self.doc_freq
        tokens = tokenize(text, language)
        if language in ANALYSED or language == "zh":
            self.languages[language] += 1
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
        return LexicalIndex(retriever, dict(self.languages))

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
