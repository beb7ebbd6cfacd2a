"""BM25 analysis per language (``lexical``): English exactly as before, Spanish/French/Russian/Arabic
stems and stop words, accent folding, a query analysed in its own language too, old indexes."""

from __future__ import annotations

import json
from pathlib import Path

import Stemmer
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_FRENCH, STOPWORDS_SPANISH

from insight_search.lexical import LANGUAGES_FILE, LexicalBuilder, LexicalIndex, query_languages, tokenize
from insight_search.text import fold, words

from .conftest import ROOT, SEED
from .language_samples import uninfo_rows

# The English analysis as it was before analysis was per language (issue 13), written out again here.
_OLD_WORDS = (*STOPWORDS_EN, *STOPWORDS_SPANISH, *STOPWORDS_FRENCH)
_OLD_STOP = frozenset(fold(w) for w in _OLD_WORDS) - {"un", "onu", "ue"}
_OLD_STEMMER = Stemmer.Stemmer("english")


def _old_tokenize(text: str) -> list[str]:
    return list(_OLD_STEMMER.stemWords([w for w in words(text) if w not in _OLD_STOP]))


def test_english_tokens_are_the_same_as_before() -> None:
    texts = [SEED.read_text(encoding="utf-8"), (ROOT / "README.md").read_text(encoding="utf-8")]
    texts += [r["text"] for r in uninfo_rows(per_country=8)]  # Spanish and French too, analysed as English
    for text in texts:
        expected = _old_tokenize(text)
        assert tokenize(text) == expected
        assert tokenize(text, "en") == expected
        assert tokenize(text, None) == expected
        assert tokenize(text, "sw") == expected  # a language without an analysis of its own: English's


def test_spanish_french_russian_arabic_are_stemmed_in_their_own_language() -> None:
    es = tokenize("Fortalecer las políticas públicas del Sistema Nacional de Cuidados", "es")
    assert es == ["fortalec", "polit", "public", "sistem", "nacional", "cuid"]
    # Inflections meet at one stem; accents are folded after stemming, so either spelling is one term.
    assert tokenize("la política de cuidado", "es") == tokenize("las políticas de cuidados", "es")
    assert tokenize("educación", "es") == tokenize("educacion", "es") == tokenize("EDUCACIÓN", "es")
    fr = tokenize("Renforcement des capacités des femmes et des filles", "fr")
    assert fr == ["renforc", "capac", "femm", "fill"]
    assert tokenize("Женщины и девочки", "ru") == ["женщин", "девочк"]  # "и" is a stop word
    assert "في" not in tokenize("العنف ضد المرأة في المدارس", "ar")
    assert tokenize("el apoyo de la ONU", "es") == ["apoy", "onu"]  # the UN is no stop word
    assert tokenize("UNICEF y COVID-19", "es") == [t for t in tokenize("UNICEF and COVID-19") if t != "and"]


def test_chinese_is_indexed_as_character_bigrams() -> None:
    assert tokenize("联合国儿童", "zh") == ["联合", "合国", "国儿", "儿童"]
    assert tokenize("妇女 UNICEF 2023", "zh") == ["妇女", "unicef", "2023"]


def _spanish_and_english_index() -> tuple[LexicalIndex, list[str]]:
    texts = [
        "El Sistema Nacional de Cuidados garantiza servicios de cuidado a las personas mayores.",
        "Las mujeres rurales acceden a créditos productivos y capacitación.",
        "The national care system guarantees care services for older persons.",
        "Rural women gain access to productive credit and training.",
    ]
    return LexicalIndex.build(texts, languages=["es", "es", "en", "en"]), texts


def test_a_spanish_query_finds_spanish_passages_as_an_english_query_finds_english_ones() -> None:
    index, _ = _spanish_and_english_index()
    assert index.languages == {"es": 2}
    spanish, _ = index.search("sistemas de cuidado para personas mayores", 4)
    english, _ = index.search("care systems for older persons", 4)
    assert spanish[0][0] == 0 and english[0][0] == 2
    # Inflected Spanish ("sistemas", "cuidado") meets the passage's "Sistema", "Cuidados" only through
    # Spanish stems: analysed in English alone, "sistemas" is "sistema" and "personas" "persona".
    assert "sistem" in index.query_tokens("sistemas de cuidado para personas mayores")
    women, _ = index.search("mujeres rurales capacitadas", 4)
    assert women[0][0] == 1


def test_a_short_spanish_query_the_detector_cannot_tell_still_meets_spanish_stems() -> None:
    index, _ = _spanish_and_english_index()
    # Too short to detect ("créditos": 8 letters), so analysed in every language the index holds as well:
    # English's stem "credito" is not the Spanish passage's "credit" (its "créditos productivos")
    assert query_languages("créditos", frozenset(index.languages)) == ["es"]
    assert "credit" in index.query_tokens("créditos")
    hits, _ = index.search("créditos", 4)
    assert hits[0][0] == 1  # (English "credit" of row 3 shares the Spanish stem: listed after it)
    confident = "care services for older persons in rural areas of the country"
    assert query_languages(confident, frozenset(index.languages)) == []


def test_english_queries_and_english_indexes_keep_the_english_analysis() -> None:
    index, _ = _spanish_and_english_index()
    query = "care services for rural women"
    assert index.query_tokens(query) == [t for t in _old_tokenize(query) if t in index.vocab]
    english_only = LexicalIndex.build(["El sistema de cuidados", "The care system"])  # no languages given
    assert english_only.languages == {}
    assert query_languages("sistemas de cuidado para personas mayores", frozenset()) == []
    spanish = "sistemas de cuidado para personas mayores"
    expected = [t for t in _old_tokenize(spanish) if t in english_only.vocab]
    assert english_only.query_tokens(spanish) == expected


def test_builder_counts_languages_and_they_survive_save_and_load(tmp_path: Path) -> None:
    builder = LexicalBuilder()
    for text, lang in [
        ("Las mujeres rurales", "es"),
        ("Les femmes rurales", "fr"),
        ("Rural women", "en"),
        ("Rural women again", None),
    ]:
        builder.add(text, lang)
    index = builder.finish()
    assert index.languages == {"es": 1, "fr": 1}
    index.save(tmp_path / "lexical")
    assert json.loads((tmp_path / "lexical" / LANGUAGES_FILE).read_text()) == {"es": 1, "fr": 1}
    loaded = LexicalIndex.load(tmp_path / "lexical")
    assert loaded.languages == {"es": 1, "fr": 1}
    assert loaded.search("femmes rurales", 2)[0][0][0] == 1


def test_an_index_written_before_languages_loads_as_english_only(tmp_path: Path) -> None:
    index = LexicalIndex.build(["Las mujeres rurales acceden a créditos", "Rural women gain credit"])
    index.save(tmp_path / "lexical")
    (tmp_path / "lexical" / LANGUAGES_FILE).unlink()  # as an older version wrote it
    loaded = LexicalIndex.load(tmp_path / "lexical")
    assert loaded.languages == {}
    assert loaded.search("mujeres rurales", 2)[0][0][0] == 0  # English analysis, as it was built
