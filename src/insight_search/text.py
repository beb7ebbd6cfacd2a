"""Pure text helpers: sentence splitting, accent/case folding, word tokens, whitespace clean-up.

Sentence splitting uses NLTK's Punkt algorithm with parameters built here (no ``nltk.download``): the
abbreviations of UN reporting in English, Spanish and French are declared so that "UN", "No.", "e.g.",
"i.e.", "Ms." or "1.3 million" never end a sentence.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

# Lower-cased, without the final period, as Punkt stores them.
ABBREVIATIONS = frozenset(
    [
        "u.n",
        "u.s",
        "u.k",
        "e.u",
        "no",
        "nos",
        "nr",
        "núm",
        "art",
        "arts",
        "para",
        "paras",
        "fig",
        "figs",
        "vol",
        "vols",
        "p",
        "pp",
        "ch",
        "sec",
        "e.g",
        "i.e",
        "etc",
        "al",
        "cf",
        "viz",
        "vs",
        "approx",
        "est",
        "incl",
        "excl",
        "min",
        "max",
        "avg",
        "mr",
        "mrs",
        "ms",
        "mx",
        "dr",
        "prof",
        "sr",
        "sra",
        "srta",
        "dra",
        "lic",
        "ing",
        "mme",
        "mlle",
        "m",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "inc",
        "ltd",
        "co",
        "corp",
        "dept",
        "gov",
        "govt",
        "assn",
        "intl",
        "natl",
        "st",
        "ave",
        "rd",
        "mt",
        "ft",
        "km",
        "kg",
        "cm",
        "mm",
        "dir",
        "coord",
        "res",
        "doc",
        "docs",
        "ref",
        "refs",
        "ed",
        "eds",
    ]
)

_WS = re.compile(r"\s+")
_WORD = re.compile(r"\w+", re.UNICODE)


@lru_cache(maxsize=1)
def _punkt() -> PunktSentenceTokenizer:
    params = PunktParameters()
    params.abbrev_types = set(ABBREVIATIONS)
    # PunktSentenceTokenizer treats a non-string "training text" as ready-made parameters.
    return PunktSentenceTokenizer(params)


def clean_whitespace(text: str) -> str:
    """Collapse runs of whitespace (including non-breaking spaces) to one space and strip."""
    return _WS.sub(" ", text.replace("\u00a0", " ")).strip()


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text`` (offsets into ``text`` itself).

    Line breaks also end a sentence: outcome pages and spreadsheets put headings and list items on lines
    of their own without a final period.
    """
    spans: list[tuple[int, int]] = []
    tokenizer = _punkt()
    offset = 0
    for line in text.split("\n"):
        if line.strip():
            for start, end in tokenizer.span_tokenize(line):
                # Trim spaces that Punkt leaves inside a span.
                while start < end and line[start].isspace():
                    start += 1
                while end > start and line[end - 1].isspace():
                    end -= 1
                if end > start:
                    spans.append((offset + start, offset + end))
        offset += len(line) + 1
    return spans


def split_sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def fold(text: str) -> str:
    """Case- and accent-insensitive form: "Nuevo León" -> "nuevo leon"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def name_key(text: str) -> str:
    """The form in which names are compared: folded, without surrounding spaces."""
    return fold(text.strip())


def same_name(value: str, wanted: str) -> bool:
    """True when two names are the same ignoring case, accents and surrounding spaces ("Mexico" is
    "méxico "). The comparison of every exact filter (country, agency, theme, section)."""
    return name_key(value) == name_key(wanted)


def fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """Like :func:`fold`, plus for each folded character the index of the original character it came from."""
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        for c in unicodedata.normalize("NFKD", ch):
            if unicodedata.combining(c):
                continue
            for f in c.casefold():
                out.append(f)
                origin.append(i)
    return "".join(out), origin


def words(text: str) -> list[str]:
    """Folded word tokens (letters and digits), no stemming, no stop words."""
    return _WORD.findall(fold(text))


def word_count(text: str) -> int:
    return len(_WORD.findall(text))
