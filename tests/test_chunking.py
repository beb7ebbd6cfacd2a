from __future__ import annotations

from insight_search.chunking import chunk_document, passage_windows
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
