"""``languages``: detection on real UN INFO and XQuAD text, stated languages winning over detection."""

from __future__ import annotations

import json

import pytest

from insight_search.languages import (
    LANGUAGES,
    SURE,
    LanguageCitation,
    detect,
    detect_with_confidence,
    normalise,
    stated_language,
    with_languages,
)
from insight_search.models import Citation, Document, Passage, SourceRef

from .conftest import need_shared
from .language_samples import uninfo_rows

SOURCE = SourceRef(path="x.jsonl", kind="jsonl")


def test_real_uninfo_sub_outputs_get_their_team_s_language() -> None:
    rows = uninfo_rows(per_country=8)
    assert {r["expected"] for r in rows} == {"es", "fr", "en"}
    wrong = [(r["id"], detect(r["text"])) for r in rows if detect(r["text"]) != r["expected"]]
    assert not wrong


def test_short_xquad_questions_in_arabic_russian_and_chinese() -> None:
    folder = need_shared("bench", "xquad")
    for lang in ("ar", "ru", "zh", "es", "en"):
        data = json.loads((folder / f"xquad.{lang}.json").read_text(encoding="utf-8"))["data"]
        questions = [q["question"] for p in data[0]["paragraphs"] for q in p["qas"]][:20]
        right = sum(detect(q) == lang for q in questions)
        assert right >= 19, (lang, right)


def test_only_the_restricted_languages_and_none_for_too_little_text() -> None:
    # Short Spanish that an unrestricted detector calls Galician or Catalan stays Spanish.
    assert detect("Fortalecimiento de las capacidades institucionales") == "es"
    assert detect("Renforcement des capacités des femmes rurales") == "fr"
    assert detect("2023") is None and detect("UNFPA") is None and detect("") is None
    assert detect("学校在哪里") == "zh"  # five Chinese characters are enough
    assert set(LANGUAGES) >= {"en", "es", "fr", "ar", "ru", "zh", "pt"}


@pytest.mark.parametrize(
    ("stated", "code"),
    [
        ("es", "es"),
        ("ES", "es"),
        ("es-MX", "es"),
        ("es_419", "es"),
        ("spa", "es"),
        ("Spanish", "es"),
        ("Español", "es"),
        ("fra", "fr"),
        ("French", "fr"),
        ("pt-BR", "pt"),
        ("sw", "sw"),
        ("", None),
        ("klingon", None),
        (None, None),
        (3, None),
    ],
)
def test_normalise(stated: object, code: str | None) -> None:
    assert normalise(stated) == code


def _doc(*passages: Passage, **metadata: object) -> Document:
    return Document("d", "T", SOURCE, tuple(passages), metadata=metadata)


def test_stated_languages_win_over_detection() -> None:
    spanish = "Las mujeres rurales acceden a servicios de cuidado infantil en sus comunidades."
    english = "Rural women have access to childcare services in their communities."
    # A passage's own statement (IATI xml:lang) wins, then the document's, then detection.
    doc = with_languages(_doc(Passage(spanish, "text", language="EN"), Passage(spanish, "text")))
    assert [p.language for p in doc.passages] == ["en", "es"]
    doc = with_languages(_doc(Passage(english, "text"), language="fr"))
    assert doc.passages[0].language == "fr"
    doc = with_languages(_doc(Passage(english, "text"), languages=["es", "es-MX"]))
    assert doc.passages[0].language == "es"
    # Several stated languages say nothing of a passage: it is detected.
    doc = with_languages(_doc(Passage(english, "text"), Passage(spanish, "text"), languages=["en", "es"]))
    assert [p.language for p in doc.passages] == ["en", "es"]
    assert stated_language(_doc(languages="es")) is None  # a string is not a list of languages


def test_an_unsure_short_text_takes_its_document_s_sure_language_or_stays_unknown() -> None:
    spanish = "Las mujeres rurales acceden a servicios de cuidado infantil en sus comunidades."
    for title in ("Salud materna e infantil", "An Algebraic Translator", "Fibonaccian Searching"):
        assert detect_with_confidence(title)[1] < SURE  # a guess (Italian, German, Italian)
        doc = with_languages(_doc(Passage(title, "title"), Passage(spanish, "text")))
        assert [p.language for p in doc.passages] == ["es", "es"]
        # a document of nothing but the short text: no guess is stored (analysed and ranked as English)
        assert with_languages(_doc(Passage(title, "title"))).passages[0].language is None


def test_a_document_that_already_has_its_languages_is_returned_as_it_is() -> None:
    doc = _doc(Passage("Some text", "text", language="en"))
    assert with_languages(doc) is doc


def test_language_citation_is_a_citation_with_a_language() -> None:
    c = LanguageCitation("d", "c", "T", SOURCE, language="es")
    assert isinstance(c, Citation) and c.language == "es"
    assert c != LanguageCitation("d", "c", "T", SOURCE, language="fr")
