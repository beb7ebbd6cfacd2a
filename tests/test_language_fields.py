"""A passage's language kept everywhere (issue 13): records, facets, the ``lang`` filter at every edge,
Spanish and French sentence splitting, mentions in every language, summaries that carry the language."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from insight_search.chunking import chunk_document
from insight_search.config import Settings
from insight_search.errors import InvalidRequest
from insight_search.facets import UNKNOWN, FacetTable
from insight_search.filtering import FilterColumns, allowed_rows
from insight_search.indexer import build_index
from insight_search.mentions import mentions
from insight_search.models import Document, Filters, Passage, SourceRef
from insight_search.records import chunk_from_dict, chunk_to_dict, document_from_dict, document_to_dict
from insight_search.requests import FILTER_HELP, parse, request_models
from insight_search.search import open_searcher
from insight_search.text import fold, split_sentences

from .conftest import FakeEmbedder, call
from .language_samples import uninfo_rows, write_rows

SOURCE = SourceRef(path="x.jsonl", kind="jsonl")


def _doc() -> Document:
    return Document(
        "d",
        "T",
        SOURCE,
        (
            Passage("Las mujeres rurales acceden a créditos.", "text", language="es"),
            Passage("Rural women gain credit.", "text"),
        ),
    )


def test_chunks_carry_the_passage_language_and_records_keep_it() -> None:
    doc = _doc()
    chunks = chunk_document(doc)
    assert [c.language for c in chunks] == ["es", None]
    stored = [chunk_to_dict(c) for c in chunks]
    assert stored[0]["language"] == "es" and "language" not in stored[1]  # None is not written
    loaded_doc = document_from_dict(document_to_dict(doc))
    assert [p.language for p in loaded_doc.passages] == ["es", None]
    assert [chunk_from_dict(d, loaded_doc) for d in stored] == chunks
    # A line of an index written before issue 13 has no language: None.
    old = {k: v for k, v in stored[0].items() if k != "language"}
    assert chunk_from_dict(old, loaded_doc).language is None
    old_doc = document_to_dict(doc)
    for p in old_doc["passages"]:
        del p["language"]
    assert document_from_dict(old_doc).passages[0].language is None


def test_language_facet_and_filter() -> None:
    base = chunk_document(_doc())
    chunks = [base[0], base[1], replace(base[0], chunk_id="x", language="fr"), replace(base[1], chunk_id="y")]
    facets = FacetTable.of(chunks).counts()
    assert facets.languages == {UNKNOWN: 2, "es": 1, "fr": 1}
    assert FacetTable.of(chunks).counts(np.array([0, 2])).languages == {"es": 1, "fr": 1}
    columns = FilterColumns.of(chunks)
    assert allowed_rows(columns, Filters(language="es")).tolist() == [0]
    assert allowed_rows(columns, Filters(language="fr")).tolist() == [2]
    assert allowed_rows(columns, Filters(language="ar")).tolist() == []


def test_the_lang_filter_of_every_request() -> None:
    models = request_models(Settings())
    assert "lang" in FILTER_HELP  # so --lang on the CLI, lang= in GET/POST and in the MCP tool schemas
    for op in ("search", "summarize", "timeline", "mentions", "facets"):
        assert "lang" in models.of(op).model_json_schema()["properties"], op
    for given in ("es", "ES", "es-MX", "Spanish"):
        assert parse(models.search, {"q": "x", "lang": given}).filters() == Filters(language="es")
    with pytest.raises(InvalidRequest, match="lang: not a language code"):
        parse(models.search, {"q": "x", "lang": "not a language"})
    with pytest.raises(InvalidRequest, match="language"):  # the request's name is lang
        parse(models.search, {"q": "x", "language": "es"})


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        (
            "¿Qué es el sistema de cuidados? ¡Es un derecho! La Sra. Pérez lo explicó.",
            ["¿Qué es el sistema de cuidados?", "¡Es un derecho!", "La Sra. Pérez lo explicó."],
        ),
        (
            "Según el art. 4 de la Ley núm. 23, el Estado lo garantiza. Véase el párr. 12 y la pág. 4.",
            ["Según el art. 4 de la Ley núm. 23, el Estado lo garantiza.", "Véase el párr. 12 y la pág. 4."],
        ),
        (
            "Le plan « Égalité » est lancé. « Nous avançons », dit Mme Diallo. M. Traoré signe l'art. 5.",
            [
                "Le plan « Égalité » est lancé.",
                "« Nous avançons », dit Mme Diallo.",
                "M. Traoré signe l'art. 5.",
            ],
        ),
        (
            "La loi du 3 janv. 2020 est en vigueur. Apoyo al Edo. de México. El proyecto sigue.",
            ["La loi du 3 janv. 2020 est en vigueur.", "Apoyo al Edo. de México.", "El proyecto sigue."],
        ),
    ],
)
def test_spanish_and_french_sentences(text: str, sentences: list[str]) -> None:
    assert split_sentences(text) == sentences


def test_english_sentence_splitting_is_unchanged_where_no_spanish_or_french_mark_is() -> None:
    text = 'He said "yes." Then U.N. staff left. See para. 4 (p. 12). The end.'
    expected = ['He said "yes."', "Then U.N. staff left.", "See para. 4 (p. 12).", "The end."]
    assert split_sentences(text) == expected


def test_mentions_are_accent_and_case_insensitive_in_every_language() -> None:
    texts = ["Las NIÑAS de Nuevo León.", "Женщины и девочки.", "联合国儿童基金会支持妇女。", "L'Égalité."]
    doc = Document("d", "T", SOURCE, tuple(Passage(t, "text") for t in texts))
    chunks = chunk_document(doc)
    folded = [fold(c.text) for c in chunks]
    for term, row in [("niñas", 0), ("nuevo leon", 0), ("ЖЕНЩИНЫ", 1), ("儿童", 2), ("egalite", 3)]:
        found = mentions(term, chunks, folded, None)
        assert [m.chunk.chunk_id for m in found.mentions] == [chunks[row].chunk_id], term
        s, e = found.mentions[0].spans[0]
        assert fold(chunks[row].text[s:e]) == fold(term)


@pytest.fixture(scope="module")
def mixed_searcher(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("mixed")
    rows = uninfo_rows(per_country=6)
    write_rows(root / "corpus" / "teams.jsonl", rows)
    settings = Settings(index_dir=root / "index")
    build_index([root / "corpus"], settings, FakeEmbedder())
    return open_searcher(settings, FakeEmbedder())


def test_an_index_of_real_sub_outputs_holds_their_languages(mixed_searcher) -> None:  # type: ignore[no-untyped-def]
    by_country: dict[str, set[str | None]] = {}
    for c in mixed_searcher.chunks:
        by_country.setdefault(c.country, set()).add(c.language)
    assert by_country == {"Mexico": {"es"}, "Senegal": {"fr"}, "Kenya": {"en"}}
    assert mixed_searcher.data.lexical.languages == {
        "es": sum(c.language == "es" for c in mixed_searcher.chunks),
        "fr": sum(c.language == "fr" for c in mixed_searcher.chunks),
    }


def test_summaries_timelines_and_mentions_carry_each_sentence_s_language(mixed_searcher) -> None:  # type: ignore[no-untyped-def]
    chunks = {c.chunk_id: c for c in mixed_searcher.chunks}
    summary = call(mixed_searcher, "summarize", q="personas migrantes refugiadas capacidades femmes")
    assert summary.sentences
    for s in summary.sentences:
        chunk = chunks[s.chunk_id]
        assert s.language == chunk.language and s.text in chunk.text  # verbatim, in its own language
    assert {s.language for s in summary.sentences} >= {"es"}
    found = call(mixed_searcher, "mentions", term="senegal", lang="fr")
    assert found.total and all(p.language == "fr" for p in found.passages)
    hits = call(mixed_searcher, "search", q="renforcement des capacités", lang="fr", k=20)
    assert hits.results and all(r.language == "fr" for r in hits.results)
    assert set(hits.facets.languages) == {"fr"}


def test_cli_search_takes_lang_and_shows_the_language(  # type: ignore[no-untyped-def]
    mixed_searcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from insight_search import embedding
    from insight_search.cli import app

    monkeypatch.setattr(embedding, "make_embedder", lambda settings, index_model_id=None: FakeEmbedder())

    index_dir = mixed_searcher.settings.index_dir
    result = CliRunner().invoke(app, ["search", "migrantes", "--lang", "es", "--index-dir", str(index_dir)])
    assert result.exit_code == 0, result.output
    assert "[es]" in result.output and "by language: es:" in result.output
    assert "[fr]" not in result.output and "[en]" not in result.output


def test_an_index_written_in_format_3_loads_without_languages_and_is_rebuilt(tmp_path: Path) -> None:
    """Format 3 had no languages: it loads with every chunk's language None and English BM25 (no
    languages.json), and ``index`` no longer counts it as current, so a rebuild gives it its languages."""
    import json

    from insight_search import store
    from insight_search.indexer import index_is_current

    corpus = write_rows(tmp_path / "corpus" / "teams.jsonl", uninfo_rows(per_country=2))
    settings = Settings(index_dir=tmp_path / "index")
    build_index([corpus], settings, FakeEmbedder())
    version = store.current_version(settings.index_dir)
    assert version is not None
    for name in ("chunks.jsonl", "documents.jsonl"):
        lines = [json.loads(line) for line in (version / name).read_text().splitlines()]
        for d in lines:
            d.pop("language", None)
            for p in d.get("passages", ()):
                p.pop("language", None)
        (version / name).write_text("".join(json.dumps(d) + "\n" for d in lines))
    (version / "lexical" / "languages.json").unlink()
    manifest = json.loads((version / "manifest.json").read_text())
    del manifest["checksums"]
    (version / "manifest.json").write_text(json.dumps(dict(manifest, format_version=3)))
    old = store.load(settings.index_dir)
    assert old.chunks and all(c.language is None for c in old.chunks) and old.lexical.languages == {}
    assert FacetTable.of(old.chunks).counts().languages == {UNKNOWN: len(old.chunks)}
    assert not index_is_current(settings.index_dir, [corpus], FakeEmbedder().model_id)
    build_index([corpus], settings, FakeEmbedder())
    rebuilt = store.load(settings.index_dir)
    assert {c.language for c in rebuilt.chunks} == {"es", "fr", "en"}
