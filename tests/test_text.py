"""Sentence splitting: web addresses glued to the next sentence, and a split whose work is bounded by the size
of its input, never by the clock (issue 11, parts 5 and 6)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from insight_search.sources.unwomen_page import read_unwomen_page
from insight_search.text import (
    PUNKT_MAX_LINE_CHARS,
    _punkt,
    rule_sentence_spans,
    sentence_spans,
    split_sentences,
)

from .conftest import need_shared

ALLIANCE = "https://alianzadecuidados.forogeneracionigualdad.mx/"
# A web address, space, then a capital: the glued form the issue saw ("...mx/ At the national level").
GLUED = re.compile(r"(?:https?://|www\.)\S*\s+[A-Z]")


def _exact(text: str) -> list[str]:
    """The sentences of ``text``, checking that each span is an exact, trimmed slice of it."""
    out = []
    for s, e in sentence_spans(text):
        assert 0 <= s < e <= len(text) and text[s:e] == text[s:e].strip()
        out.append(text[s:e])
    return out


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        # The sample page's form: a sentence, the address, a new capitalised sentence.
        (
            "It reduces care work. https://example.org/alliance/ At the national level, it works.",
            ["It reduces care work.", "https://example.org/alliance/", "At the national level, it works."],
        ),
        # An address ending its sentence without a period, the next sentence glued to it.
        ("More at www.unwomen.org/en The law passed.", ["More at www.unwomen.org/en", "The law passed."]),
        # An address at the end of a sentence with a period stays in that sentence.
        ("Read https://example.org. The law passed.", ["Read https://example.org.", "The law passed."]),
        # An address in the middle of a sentence, lowercase words after it: one sentence.
        (
            "See https://example.org/a for the law and its rules. Next one.",
            ["See https://example.org/a for the law and its rules.", "Next one."],
        ),
        # A comma after the address is not a sentence end, whatever follows.
        ("Partners (https://x.org, Mexico) agreed.", ["Partners (https://x.org, Mexico) agreed."]),
    ],
)
def test_a_web_address_followed_by_a_capital_ends_its_sentence(text: str, sentences: list[str]) -> None:
    assert _exact(text) == sentences


def test_offsets_stay_exact_with_addresses_and_line_breaks() -> None:
    text = "Intro line\n  Care work. https://a.mx/  At home it grows.\n\nhttps://b.org The end."
    assert _exact(text) == [
        "Intro line",
        "Care work.",
        "https://a.mx/",
        "At home it grows.",
        "https://b.org",
        "The end.",
    ]


def test_sample_page_address_is_its_own_sentence() -> None:
    """The real sample page: "https://alianzadecuidados.forogeneracionigualdad.mx/ At the national level, ..."
    was one sentence (and so a summary sentence and the 2021 timeline line began with the address)."""
    doc = next(read_unwomen_page(need_shared("seeds", "000_9c9b05ac064ed03a.txt")))
    sentences = [s for p in doc.passages for s in _exact(p.text)]
    assert ALLIANCE in sentences
    assert any(s.startswith("At the national level, UN Women CO works closely") for s in sentences)
    assert not [s for s in sentences if GLUED.search(s)]


def test_summary_and_timeline_never_quote_a_glued_address(tmp_path: Path) -> None:
    from insight_search.config import Settings
    from insight_search.indexer import build_index
    from insight_search.search import open_searcher

    from .conftest import FakeEmbedder, call

    page = need_shared("seeds", "000_9c9b05ac064ed03a.txt")
    settings = Settings(index_dir=tmp_path / "index", corpus_paths=[page])
    build_index([page], settings, FakeEmbedder())
    searcher = open_searcher(settings, FakeEmbedder())
    query = "national level alliance for care visibility INMUJERES"
    summary = call(searcher, "summarize", q=query, max_sentences=10)
    timeline = call(searcher, "timeline", q=query, sentences_per_year=10)
    quoted = [s.text for s in summary.sentences] + [s.text for y in timeline.years for s in y.sentences]
    assert quoted and not [s for s in quoted if GLUED.search(s)]


def test_a_split_does_not_depend_on_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """NLTK puts a wall-clock limit (5 s) on Punkt's regular expressions: on a busy machine, or on a 20 MB
    record, the same text failed with TimeoutError. With the limit made tiny (a very busy machine), the split
    is the same."""
    redos = pytest.importorskip("nltk.redos")
    text = "The U.N. supported it. Ms. Rivera met the mayor on Jan. 5. " * 200
    expected = _exact(text)
    monkeypatch.setattr(redos, "DEFAULT_TIMEOUT", 1e-9)
    assert _exact(text) == expected


def test_a_20_mb_line_is_split_in_one_linear_pass() -> None:
    """Lines longer than PUNKT_MAX_LINE_CHARS go to the rule splitter (Punkt needed about 2 us a character
    and hit its clock on them); every sentence is still found and the offsets are exact."""
    sentence = "UN Women supported the municipal care system with training for officials. "
    line = (sentence * (20_000_000 // len(sentence) + 1))[:20_000_000]
    spans = sentence_spans(line)
    assert len(spans) == len(line) // len(sentence) + 1
    assert all(line[s:e] == sentence.strip() for s, e in spans[:-1])
    assert line[spans[-1][0] : spans[-1][1]] == line[spans[-1][0] :].strip()


def test_the_rule_splitter_agrees_with_punkt_on_ordinary_prose() -> None:
    text = (
        "The U.N. system supported the law, e.g. through training. Ms. Rivera met J. Smith in Monterrey. "
        "In 2023 the care law passed. It was “historic.” Was it enough? Partners (UNDP, ILO) said yes! "
    ) * 3
    punkt = [(s, e) for s, e in _punkt().span_tokenize(text)]
    assert rule_sentence_spans(text.strip()) == punkt
    long = (text * (PUNKT_MAX_LINE_CHARS // len(text) + 1)).strip()
    assert split_sentences(long)[:6] == split_sentences(text)[:6]
