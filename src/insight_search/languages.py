"""The language of a passage: stated by its source, else detected (issue 13).

Detection is py3langid (Lui & Baldwin's langid.py, naive Bayes over byte n-grams, numpy only, 4.5 MB),
restricted to :data:`LANGUAGES` so that a short UN text is never labelled as a rare language
(docs/benchmarks.md, "Issue 13: language detection", for the comparison with lingua-language-detector).
A text with too few letters to tell (a code, a number, a name alone) gets None.

A source's own statement wins over detection: a passage's ``language`` set by its reader (IATI
``xml:lang``), else the document's ``metadata["language"]`` (an HTML page's ``<html lang>``, a sidecar's
``language``), else a single ``metadata["languages"]``. Stated codes are normalised to ISO 639-1 by
:func:`normalise` ("es-MX", "spa", "Spanish" -> "es").
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from insight_search.models import Citation, Document, Passage

logger = logging.getLogger(__name__)

# The six UN official languages, Portuguese (Brazil, Angola, Mozambique...), and German and Italian
# (donors' reports); nothing else is ever detected.
LANGUAGES = ("en", "es", "fr", "ar", "ru", "zh", "pt", "de", "it")
# ISO 639-2/3 codes and names (English and own) that sources write for the detected languages.
_ALIASES = {
    "eng": "en",
    "english": "en",
    "spa": "es",
    "spanish": "es",
    "espanol": "es",
    "castellano": "es",
    "fra": "fr",
    "fre": "fr",
    "french": "fr",
    "francais": "fr",
    "ara": "ar",
    "arabic": "ar",
    "rus": "ru",
    "russian": "ru",
    "zho": "zh",
    "chi": "zh",
    "chinese": "zh",
    "por": "pt",
    "portuguese": "pt",
    "portugues": "pt",
    "deu": "de",
    "ger": "de",
    "german": "de",
    "ita": "it",
    "italian": "it",
}
MIN_LETTERS = 12  # fewer letters than this: no detection (None)
CJK_WEIGHT = 4  # a CJK character counts as this many letters (a 5-character Chinese question is detected)
SURE = 0.8  # a detection at least this probable stands on its own (see ``with_languages``)
DETECT_CHARS = 600  # the first characters of a passage are enough to tell its language
_CODE = re.compile(r"[a-z]{2}")


def normalise(value: Any) -> str | None:
    """ISO 639-1 code of a stated language ("es", "ES", "es-MX", "es_419", "spa", "Spanish", "Español"),
    None when it is not one. Any two-letter code is kept as it is (lower case): a source may state a language
    the detector does not know."""
    if not isinstance(value, str):
        return None
    from insight_search.text import fold

    key = fold(value.strip()).replace("_", "-").split("-")[0]
    if _CODE.fullmatch(key):
        return key
    return _ALIASES.get(key)


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    if hasattr(identifier, "_full_model"):  # the 142-language tables, kept to undo set_languages: 27 MB
        identifier._full_model = (identifier.nb_ptc, identifier.nb_pc, identifier.nb_classes)
    return identifier


def _letters(text: str) -> int:
    """Letters of ``text``, a Chinese or Japanese character counting as :data:`CJK_WEIGHT` (one is a word)."""
    return sum(CJK_WEIGHT if c >= "\u2e80" else 1 for c in text if c.isalpha())


def detect_with_confidence(text: str) -> tuple[str | None, float]:
    """(language, probability among :data:`LANGUAGES`) of ``text``; (None, 0.0) when it has fewer than
    :data:`MIN_LETTERS` letters."""
    return _classify(text[:DETECT_CHARS])


def _classify(sample: str) -> tuple[str | None, float]:
    if _letters(sample) < MIN_LETTERS:
        return None, 0.0
    code, probability = _identifier().classify(sample)
    return str(code), float(probability)


def detect(text: str) -> str | None:
    """ISO 639-1 code of ``text``'s language among :data:`LANGUAGES`, None when it is too short to tell."""
    return detect_with_confidence(text)[0]


def stated_language(doc: Document) -> str | None:
    """The language the document's source states for all of it: ``metadata["language"]``, else the single
    one of ``metadata["languages"]``; None when it states none (or several)."""
    stated = normalise(doc.metadata.get("language"))
    if stated:
        return stated
    many = doc.metadata.get("languages")
    if isinstance(many, Sequence) and not isinstance(many, str):
        codes = {c for c in (normalise(v) for v in many) if c}
        if len(codes) == 1:
            return codes.pop()
    return None


def with_languages(doc: Document) -> Document:
    """``doc`` with each passage's language: its own stated one (normalised), else the document's
    (:func:`stated_language`), else detected from its text (one call a passage). A passage detected with
    less than :data:`SURE` (a short name: "Unidas Crecemos" reads as Portuguese) takes the language of the
    document's surely detected text (most characters win); when there is none, its language stays unknown
    (None): below SURE a short text's guess is mostly wrong ("Salud materna e infantil" reads as Italian,
    "Fibonaccian Searching" too, "An Algebraic Translator" as German), and an unknown passage is analysed
    and ranked as English is."""
    document_language = stated_language(doc)
    stated = [normalise(p.language) or document_language for p in doc.passages]
    detected: list[tuple[str | None, float]] = [
        (None, 0.0) if s else detect_with_confidence(p.text)
        for s, p in zip(stated, doc.passages, strict=True)
    ]
    sure: Counter[str] = Counter()
    for p, (code, confidence) in zip(doc.passages, detected, strict=True):
        if code is not None and confidence >= SURE:
            sure[code] += len(p.text)
    dominant = sure.most_common(1)[0][0] if sure else None
    passages: list[Passage] = []
    changed = False
    for p, given, (code, confidence) in zip(doc.passages, stated, detected, strict=True):
        language = given or (code if confidence >= SURE else dominant)
        if language != p.language:
            p = replace(p, language=language)
            changed = True
        passages.append(p)
    return replace(doc, passages=tuple(passages)) if changed else doc


@dataclass(frozen=True)
class LanguageCitation(Citation):
    """A :class:`~insight_search.models.Citation` that carries its passage's language: the citation of
    every summary and timeline sentence (``summarize.citation``), so that each verbatim sentence says which
    language it is in (``SentenceOut.language``)."""

    language: str | None = None
