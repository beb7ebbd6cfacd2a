"""Pure text helpers: sentence splitting, accent/case folding, word tokens, whitespace clean-up.

Sentence splitting uses NLTK's Punkt algorithm with parameters built here (no ``nltk.download``): the
abbreviations of UN reporting in English, Spanish and French are declared so that "UN", "No.", "e.g.",
"i.e.", "Ms." or "1.3 million" never end a sentence.

The splitter's work is bounded by the size of its input, never by the clock, so a sentence split does not
depend on how busy the machine is: NLTK's wall-clock limit on its regular expressions (5 s, which a 20 MB
record exceeds) is turned off for Punkt's own patterns, and a line longer than :data:`PUNKT_MAX_LINE_CHARS`
(a machine-made record; the longest line of the UN INFO exports is about 32,000 characters) is split by
:func:`rule_sentence_spans`, a single linear pass, instead of Punkt. A web address followed by a new
capitalised sentence ends its sentence (pages glue "https://... At the national level").
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from insight_search.punkt_loader import load_punkt

_PUNKT, _REDOS = load_punkt()  # Punkt without the rest of NLTK (scipy, scikit-learn): punkt_loader.py
if TYPE_CHECKING:
    from nltk.tokenize.punkt import PunktLanguageVars, PunktParameters, PunktSentenceTokenizer, PunktToken
else:
    PunktLanguageVars = _PUNKT.PunktLanguageVars
    PunktParameters = _PUNKT.PunktParameters
    PunktSentenceTokenizer = _PUNKT.PunktSentenceTokenizer
    PunktToken = _PUNKT.PunktToken

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
        # Spanish and French reporting (issue 13): "párr. 12", "pág. 4", "Edo. de México", "janv. 2020"
        "párr",
        "parr",
        "pág",
        "pag",
        "págs",
        "pags",
        "sres",
        "sras",
        "dres",
        "mtro",
        "mtra",
        "gral",
        "edo",
        "depto",
        "dpto",
        "av",
        "avda",
        "cía",
        "aprox",
        "ej",
        "ee.uu",
        "uu",
        "janv",
        "févr",
        "fevr",
        "avr",
        "juil",
        "déc",
        "env",
        "éd",
        "coll",
        "chap",
    ]
)

# A longer line is split by the linear rule of ``rule_sentence_spans`` instead of Punkt, whose cost per
# character is high (about 2 us on prose, 50 us on a run of ". ") and grows faster than the line on some
# inputs.
PUNKT_MAX_LINE_CHARS = 50_000

_WS = re.compile(r"\s+")
_WORD = re.compile(r"\w+", re.UNICODE)
_CLOSERS = "\"'\u201d\u2019\u00bb)\\]"
_OPENERS = "\"'\u201c\u2018\u00ab(\\[\u00bf\u00a1"  # with Spanish's opening "¿" and "¡"
# Marks that open a sentence: a span that ends with them after a space hands them to the next one
# (French writes "« Nous..." with a space, which Punkt leaves at the end of the sentence before).
_LEADING = "\u00ab\u201c\u00bf\u00a1("
# A possible sentence end: the end mark and closing quotes, the space after, then a letter (maybe after
# opening quotes). Whether it ends a sentence is decided in ``rule_sentence_spans``.
_RULE_END = re.compile(rf"[.!?][{_CLOSERS}]*(\s+)(?=[{_OPENERS}]*([^\W\d_]))")
_HAS_ADDRESS = re.compile(r"://|www\.", re.IGNORECASE)
# A web address, then space, then a letter: a capital there starts a new sentence.
# (It starts a word, so a long run without spaces is scanned once, not from every "http" inside it.)
_URL_GAP = re.compile(
    rf"(?<!\S)[{_OPENERS}]*(?:https?://|www\.)\S*[^\s,;:]([^\S\n]+)(?=[{_OPENERS}]*([^\W\d_]))", re.IGNORECASE
)


def _untimed(pattern: Any) -> Any:
    """``pattern`` (one of Punkt's) without NLTK's wall-clock limit: the input is bounded instead."""
    if _REDOS is None:  # NLTK before 3.10 puts no time limit on its patterns
        return pattern
    return _REDOS.compile(pattern, timeout=None)


class _UntimedToken(PunktToken):
    _RE_ELLIPSIS = _untimed(PunktToken._RE_ELLIPSIS)
    _RE_NUMERIC = _untimed(PunktToken._RE_NUMERIC)
    _RE_INITIAL = _untimed(PunktToken._RE_INITIAL)
    _RE_ALPHA = _untimed(PunktToken._RE_ALPHA)


class _UntimedLanguageVars(PunktLanguageVars):
    re_boundary_realignment = _untimed(PunktLanguageVars.re_boundary_realignment)

    def period_context_re(self) -> Any:
        if "period" not in self.__dict__:
            self.__dict__["period"] = _untimed(super().period_context_re())
        return self.__dict__["period"]

    def _word_tokenizer_re(self) -> Any:
        if "words" not in self.__dict__:
            self.__dict__["words"] = _untimed(super()._word_tokenizer_re())
        return self.__dict__["words"]


class _Tokenizer(PunktSentenceTokenizer):
    """Punkt, with an abbreviation after an elided article also one: French "l'art. 5", "d'env. 3"."""

    def _first_pass_annotation(self, aug_tok: Any) -> None:
        super()._first_pass_annotation(aug_tok)
        if aug_tok.sentbreak and aug_tok.period_final:
            word = aug_tok.tok[:-1].lower().replace("\u2019", "'")
            if "'" in word and word.rsplit("'", 1)[-1] in self._params.abbrev_types:
                aug_tok.sentbreak, aug_tok.abbr = False, True


@lru_cache(maxsize=1)
def _punkt() -> PunktSentenceTokenizer:
    params = PunktParameters()
    params.abbrev_types = set(ABBREVIATIONS)
    # PunktSentenceTokenizer treats a non-string "training text" as ready-made parameters.
    return _Tokenizer(params, lang_vars=_UntimedLanguageVars(), token_cls=_UntimedToken)


def _openers_forward(line: str, spans: Any) -> list[tuple[int, int]]:
    """``spans`` with opening marks that end a span after a space ("lancé. «") moved to the next span."""
    out: list[tuple[int, int]] = []
    carry: int | None = None
    for start, end in spans:
        if carry is not None:
            start, carry = min(start, carry), None
        j = end
        while j > start and (line[j - 1] in _LEADING or line[j - 1].isspace()):
            j -= 1
        k = j
        while k < end and line[k].isspace():
            k += 1
        if start < j < k < end and any(c in _LEADING for c in line[k:end]):
            carry, end = k, j
        out.append((start, end))
    if carry is not None and out:  # marks at the very end of the line stay with the last sentence
        out[-1] = (out[-1][0], len(line.rstrip()))
    return out


def clean_whitespace(text: str) -> str:
    """Collapse runs of whitespace (including non-breaking spaces) to one space and strip."""
    return _WS.sub(" ", text.replace("\u00a0", " ")).strip()


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text`` (offsets into ``text`` itself).

    Line breaks also end a sentence: outcome pages and spreadsheets put headings and list items on lines
    of their own without a final period. Lines are split by Punkt, lines longer than
    :data:`PUNKT_MAX_LINE_CHARS` by :func:`rule_sentence_spans`; a web address followed by a capitalised word
    ends its sentence. The work is linear in the length of ``text`` (and a few microseconds a character).
    """
    spans: list[tuple[int, int]] = []
    tokenizer = _punkt()
    offset = 0
    for line in text.split("\n"):
        if line.strip():
            found = (
                _openers_forward(line, tokenizer.span_tokenize(line))
                if len(line) <= PUNKT_MAX_LINE_CHARS
                else rule_sentence_spans(line)
            )
            addresses = _HAS_ADDRESS.search(line) is not None
            for start, end in found:
                # Trim spaces that Punkt leaves inside a span.
                while start < end and line[start].isspace():
                    start += 1
                while end > start and line[end - 1].isspace():
                    end -= 1
                if end <= start:
                    continue
                if not addresses:
                    spans.append((offset + start, offset + end))
                    continue
                for s, e in _split_after_addresses(line, start, end):
                    spans.append((offset + s, offset + e))
        offset += len(line) + 1
    return spans


def rule_sentence_spans(line: str) -> list[tuple[int, int]]:
    """Sentence spans of one line by a plain rule, in one pass: a sentence ends at ".", "!" or "?" (and
    closing quotes or brackets) followed by space and a capital letter, unless the word before the period is
    one of :data:`ABBREVIATIONS` or a single letter (an initial). For lines too long for Punkt."""
    spans: list[tuple[int, int]] = []
    start = after_previous = 0
    for m in _RULE_END.finditer(line):
        mark, scanned_from, after_previous = m.start(), after_previous, m.end()
        if not m.group(2).isupper():
            continue
        if line[mark] == ".":
            # The word before the period lies after the previous candidate: each character is looked at once.
            word_start = max(line.rfind(" ", scanned_from, mark), line.rfind("\t", scanned_from, mark)) + 1
            word = line[max(word_start, scanned_from) : mark].lstrip(_OPENERS)
            if word.lower() in ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                continue
        spans.append((start, m.start(1)))
        start = m.end()
    if line[start:].strip():
        spans.append((start, len(line)))
    return spans


def _split_after_addresses(line: str, start: int, end: int) -> list[tuple[int, int]]:
    """The sentence ``line[start:end]``, cut after each web address that a capitalised word follows."""
    out: list[tuple[int, int]] = []
    for m in _URL_GAP.finditer(line, start, end):
        if m.group(2).isupper():
            out.append((start, m.start(1)))
            start = m.end(1)
    out.append((start, end))
    return out


def split_sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def fold(text: str) -> str:
    """Case- and accent-insensitive form: "Nuevo León" -> "nuevo leon"."""
    if text.isascii():  # nothing to decompose (ids, most English text): 10x faster, the same result
        return text.casefold()
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
