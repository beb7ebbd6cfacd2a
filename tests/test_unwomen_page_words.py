"""Every word of an outcome page reaches the index unchanged: the repair of template labels glued to the
next word ("ComplementaryComplementary indicators") runs only in the indicator part, where the template
glues them, and never eats a word elsewhere ("WhatsApp groups" is not "App groups", "LinkedIn" not "In")."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from insight_search.chunking import chunk_document
from insight_search.indexer import build_index
from insight_search.models import Section
from insight_search.search import open_searcher
from insight_search.sources.unwomen_page import parse_unwomen_page, read_unwomen_page

from .conftest import SEED, FakeEmbedder, call

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

NAMED = ["WhatsApp", "LinkedIn", "YouTube", "iPhone", "McDonald", "PhD", "UNWomen", "eSwatini"]
# The shape the glued-label repair looks for: a capitalised word running into another.
CAMEL = st.from_regex(r"[A-Z][a-z]{2,8}[A-Z][a-z]{1,8}", fullmatch=True)
TRICKY = st.one_of(st.sampled_from(NAMED), CAMEL)
PLAIN = st.one_of(
    st.sampled_from(["women", "groups", "care", "the", "Mexico", "(UNW)", "2023", "co-operation", "policy,"]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzéñçABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=10),
)
WORD = st.one_of(TRICKY, PLAIN)

INDICATORS = [
    "Common indicators are those that appear verbatim the same in at least two entities' results frameworks.",
    "CommonComplementary indicators are identified as those in the results framework that are not repeated.",
    "ComplementaryOutcome resources allocated towards SDGs",
]


@st.composite
def sentences(draw: st.DrawFn) -> str:
    """One sentence on one line, starting with a word the repair could mistake for a glued label."""
    words = [draw(TRICKY), *draw(st.lists(WORD, min_size=5, max_size=12))]
    line = " ".join(words) + "."
    assume("lorem ipsum" not in line.lower() and "dolor sit amet" not in line.lower())
    return line


@st.composite
def pages(draw: st.DrawFn) -> tuple[str, str, list[str], list[list[str]]]:
    lines = draw(st.lists(sentences(), min_size=3, max_size=10, unique=True))
    outcome, rest = lines[0], lines[1:]
    cut = sorted(draw(st.sets(st.integers(1, len(rest) - 1), max_size=3))) if len(rest) > 1 else []
    notes = [rest[a:b] for a, b in zip([0, *cut], [*cut, len(rest)], strict=True)]
    partners = draw(
        st.lists(
            st.lists(WORD, min_size=0, max_size=3).flatmap(
                lambda tail: TRICKY.map(lambda first: " ".join([first, *tail]))
            ),
            min_size=1,
            max_size=3,
            unique=True,
        )
    )
    assume(not any(a != b and b.startswith(a) for a in partners for b in partners))
    text = ["Outcome summary", outcome, "Outcome and output results", *INDICATORS]
    text += ["Our funding partners contributions", "2023 | |", "---|---|"]
    for partner in partners:
        text += [f"{partner} | $1,000 2023", partner, "Total contribution:$1,000", "|"]
    text += ["Outcome insights and achievements", "Outcome progress note for the year"]
    for note in notes:
        text += [outcome, *note]
    text.append("Strategic plan contributions")
    return "\n".join(text) + "\n", outcome, partners, notes


@FUZZ
@given(pages())
def test_every_word_outside_the_indicator_part_reaches_the_index(tmp_path: Path, page) -> None:
    text, outcome, partners, notes = page
    doc = parse_unwomen_page(text, path=tmp_path / "page.txt")
    chunks = chunk_document(doc)
    assert doc.outcome == outcome and chunks[0].text == outcome
    quoted = [c.text for c in chunks if not c.composed]
    for line in [outcome, *(line for note in notes for line in note)]:
        assert any(line in c for c in quoted), line  # each line whole, every word as written
    assert [r.partner for r in doc.funding] == partners
    composed = [c.text for c in chunks if c.composed]
    assert all(any(p in c for c in composed) for p in partners)
    assert list(doc.partners) == partners
    # the indicator part still has its glued labels cut
    indicators = " ".join(c.text for c in chunks if c.section == Section.INDICATORS)
    assert indicators.startswith("Common indicators are those") and "CommonComplementary" not in indicators
    assert "Complementary indicators are identified" in indicators


def test_named_words_at_line_starts_are_searchable(tmp_path: Path) -> None:
    """The sample page with a note whose lines start with the words the old repair ate."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    raw = SEED.read_text(encoding="utf-8")
    outcome = raw.splitlines()[1]
    added = "\n".join(f"{w} groups were used to reach women caregivers in every municipality." for w in NAMED)
    page = corpus / SEED.name
    end = "Strategic plan contributions"
    page.write_text(raw.replace(end, f"{outcome}\n{added}\n{end}"))
    doc = next(read_unwomen_page(page))
    years = [p.year for p in doc.passages if p.section == Section.PROGRESS_NOTE]
    assert years == [2021, 2022, 2023, 2024, 2025]
    from insight_search.config import Settings

    settings = Settings(index_dir=tmp_path / "index")
    embedder = FakeEmbedder()
    build_index([corpus], settings, embedder)
    searcher = open_searcher(settings, embedder)
    for word in NAMED:
        found = call(searcher, "mentions", term=f"{word} groups")
        assert found.total == 1 and found.passages[0].year == 2025, word
    assert not call(searcher, "mentions", term="App groups").total  # "WhatsApp" is not cut to "App"
