from __future__ import annotations

from pathlib import Path

from insight_search.chunking import CHARS_PER_WORD, chunk_document, default_max_chars, passage_windows
from insight_search.models import Document, Passage, SourceRef
from insight_search.sources.unwomen_page import read_unwomen_page
from insight_search.text import split_sentences

from .conftest import SEED


def _doc(*passages: Passage) -> Document:
    return Document(
        doc_id="d1", title="T", source=SourceRef("x.txt", "text"), passages=passages, country="Chile"
    )


def test_chunks_never_cross_passages_and_keep_offsets():
    doc = _doc(
        Passage("First note. It has two sentences.", "progress_note", year=2021),
        Passage("Second note in another year.", "progress_note", year=2022),
    )
    chunks = chunk_document(doc, max_words=50)
    assert [(c.year, c.text) for c in chunks] == [
        (2021, "First note. It has two sentences."),
        (2022, "Second note in another year."),
    ]
    for c in chunks:
        assert doc.passages[c.passage_index].text[c.start : c.end] == c.text
        assert c.country == "Chile" and c.doc_id == "d1"


def test_sentences_are_packed_up_to_the_word_budget_and_long_ones_cut():
    text = " ".join(f"Sentence number {i} has six words." for i in range(10))
    windows = passage_windows(text, max_words=13)
    assert len(windows) == 5  # two six-word sentences per window
    assert all(len(text[s:e].split()) <= 13 for s, e in windows)
    long = "word " * 300
    assert all(len(long[s:e].split()) <= 100 for s, e in passage_windows(long.strip(), max_words=100))


def test_ids_are_stable_and_content_derived():
    p = Passage("Same text here.", "narrative", year=2023)
    a = chunk_document(_doc(p))
    b = chunk_document(_doc(p))
    assert [c.chunk_id for c in a] == [c.chunk_id for c in b]
    changed = chunk_document(_doc(Passage("Other text here.", "narrative", year=2023)))
    assert changed[0].chunk_id != a[0].chunk_id


def test_seed_chunks_do_not_mix_years():
    doc = next(read_unwomen_page(SEED))
    for c in chunk_document(doc):
        passage = doc.passages[c.passage_index]
        assert c.year == passage.year
        assert c.text in passage.text


def test_domain_abbreviations_do_not_end_sentences():
    text = (
        "The UN Women CO met Ms. Rivera, e.g. on art. 4 of Law No. 12, i.e. the care law. "
        "About 1.3 million women were reached. U.N. agencies agreed."
    )
    assert split_sentences(text) == [
        "The UN Women CO met Ms. Rivera, e.g. on art. 4 of Law No. 12, i.e. the care law.",
        "About 1.3 million women were reached.",
        "U.N. agencies agreed.",
    ]


def test_chunks_are_capped_in_characters_and_one_huge_token_is_cut() -> None:
    """One 15 MB token was one 15 MB chunk (1.8 GB while indexing, a 30 MB search response)."""
    token = "x" * 15_000_000
    doc = _doc(Passage(f"Before it. {token} After it.", "narrative"))
    chunks = chunk_document(doc, max_words=120)
    cap = default_max_chars(120)
    assert cap == 120 * CHARS_PER_WORD
    assert max(len(c.text) for c in chunks) <= cap
    text = doc.passages[0].text
    windows = passage_windows(text, max_words=120)  # (the chunks hold each repeated piece once)
    assert "".join(text[s:e] for s, e in windows).replace(" ", "") == text.replace(" ", "")  # nothing lost
    for c in chunks:
        assert doc.passages[c.passage_index].text[c.start : c.end] == c.text


def test_long_words_pack_to_the_character_cap() -> None:
    text = " ".join(f"{'w' * 40}{i}." for i in range(100))  # 100 one-word sentences of 42-43 characters
    windows = passage_windows(text, max_words=120, max_chars=200)
    assert all(e - s <= 200 for s, e in windows)
    assert len(windows) >= len(text) // 200
    assert " ".join(text[s:e] for s, e in windows) == text
    # Prose is not touched by the default cap: the words bound comes first.
    prose = " ".join(f"Sentence number {i} has six words." for i in range(40))
    assert passage_windows(prose, max_words=13) == passage_windows(prose, max_words=13, max_chars=10**9)


def test_the_index_honours_chunk_chars_and_a_search_response_stays_small(tmp_path: Path) -> None:
    import json

    from fastapi.testclient import TestClient

    from insight_search.api import create_app
    from insight_search.config import Settings
    from insight_search.indexer import build_index

    from .conftest import FakeEmbedder
    from .test_api import BASE, NO_LIMITS

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    records = [
        {"id": "normal", "text": "The care law was adopted in Monterrey."},
        {"id": "blob", "text": "Attachment: " + "QUJD" * 3_750_000},  # one 15 MB token
    ]
    (corpus / "r.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    settings = Settings(index_dir=tmp_path / "index", corpus_paths=[corpus], chunk_chars=500)
    build_index([corpus], settings, FakeEmbedder())
    with TestClient(create_app(settings, embedder=FakeEmbedder(), limits=NO_LIMITS), base_url=BASE) as c:
        r = c.get("/search", params={"q": "attachment QUJD care law", "k": 10})
    assert r.status_code == 200
    assert len(r.content) < 100_000, len(r.content)
    results = r.json()["results"]
    assert {h["doc_id"] for h in results} >= {"blob"}
    assert max(len(h["text"]) for h in results) <= 500
