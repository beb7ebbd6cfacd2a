"""Summaries, timelines, mentions and funding facts on the sample outcome page (real model for the
sentence choices, since they depend on meaning)."""

from __future__ import annotations

import shutil

import pytest

from insight_search.errors import BadInput
from insight_search.indexer import build_index
from insight_search.models import Filters
from insight_search.search import open_searcher
from insight_search.sources.unwomen_page import read_unwomen_page

from .conftest import SEED, call, service_for


@pytest.fixture(scope="module")
def searcher(tmp_path_factory, real_embedder):
    from insight_search.config import Settings

    root = tmp_path_factory.mktemp("summaries")
    (root / "corpus").mkdir()
    shutil.copy(SEED, root / "corpus" / SEED.name)
    settings = Settings(index_dir=root / "index")
    build_index([root / "corpus"], settings, real_embedder)
    return open_searcher(settings, real_embedder)


@pytest.fixture(scope="module")
def page():
    return next(read_unwomen_page(SEED))


def test_summary_sentences_are_verbatim_cited_and_ordered(searcher, page):
    out = call(searcher, "summarize", q="care system legislation", max_sentences=5)
    assert 1 <= len(out.sentences) <= 5
    raw = SEED.read_text(encoding="utf-8")
    for s in out.sentences:
        assert s.text in raw  # never rewritten
        owner = [p for p in page.passages if p.text[s.start : s.end] == s.text]
        assert owner and owner[0].year == s.year  # the year of the note it came from
        assert s.doc_id == "unwomen-page:mexico_outcome_care_system" and s.country == "Mexico"
    years = [s.year or 0 for s in out.sentences]
    assert years == sorted(years)
    assert len({s.text for s in out.sentences}) == len(out.sentences)


def test_summary_word_budget_and_filters(searcher):
    out = call(searcher, "summarize", q="care services", max_sentences=10, max_words=60)
    assert sum(len(s.text.split()) for s in out.sentences) <= 60
    only_2024 = call(searcher, "summarize", q="care system", filters=Filters(year=2024), max_sentences=3)
    assert only_2024.sentences and {s.year for s in only_2024.sentences} == {2024}
    with pytest.raises(BadInput):
        call(searcher, "summarize", q="care", max_sentences=0)


def test_timeline_years_in_order_with_status(searcher):
    out = call(searcher, "timeline", q="care system legislation")
    years = [y.year for y in out.years]
    assert years == sorted(years) and {2021, 2022, 2023, 2024} <= set(years)
    status = {y.year: y.status for y in out.years}
    assert status[2022] == "achieved substantial progress"
    assert status[2023] == "not achieved" and status[2024] == "not achieved"
    assert status[2021] is None
    for y in out.years:
        assert y.count >= 1 and y.sentences
        assert all(s.year == y.year for s in y.sentences)
    service = service_for(searcher)
    md = service.timeline_markdown(service.parse("timeline", {"q": "care system legislation"}))
    assert "**2022**" in md and "Status: not achieved" in md and "Sources:" in md and "[1]" in md


def test_timeline_does_not_invent_years(searcher):
    out = call(searcher, "timeline", q="Monterrey")
    assert {y.year for y in out.years} <= {2023, 2024}


def test_mentions_monterrey_exactly_2023_and_2024(searcher):
    out = call(searcher, "mentions", term="Monterrey", limit=100)
    assert {p.year for p in out.passages} == {2023, 2024}
    direct = [c for c in searcher.chunks if "monterrey" in c.text.lower()]
    assert out.total == len(direct) == len(out.passages)
    for p in out.passages:
        assert all(p.text[s:e] == "Monterrey" for s, e in p.spans)


def test_mentions_accents_pagination_and_tampering(searcher):
    accent = call(searcher, "mentions", term="nuevo leon", limit=1)
    assert accent.total >= 1 and accent.passages[0].text[slice(*accent.passages[0].spans[0])] == "Nuevo León"
    # paging: a term in several passages (since issue 14's 400-word chunks "Nuevo León" is in one)
    first = call(searcher, "mentions", term="care system", limit=1)
    assert first.total >= 2 and first.next_cursor is not None
    second = call(searcher, "mentions", term="care system", limit=1, cursor=first.next_cursor)
    assert second.passages[0].chunk_id != first.passages[0].chunk_id
    assert (second.next_cursor is None) == (first.total == 2)
    tampered = first.next_cursor[:-2] + ("AA" if first.next_cursor[-2:] != "AA" else "BB")
    with pytest.raises(BadInput, match="invalid cursor"):
        call(searcher, "mentions", term="nuevo leon", limit=1, cursor=tampered)
    with pytest.raises(BadInput, match="invalid cursor"):
        call(searcher, "mentions", term="Monterrey", limit=1, cursor=first.next_cursor)  # another request's
    with pytest.raises(BadInput):
        call(searcher, "mentions", term="   ")


def test_funding_records_exact_with_totals(searcher):
    out = call(searcher, "funding")
    assert out.total_records == 8 and len(out.records) == 8
    mptf = call(searcher, "funding", partner="Multi-Partner Trust Fund", year=2021)
    assert [(r.total, r.kind, r.currency) for r in mptf.records] == [(267469.0, "contribution", "USD")]
    assert mptf.records[0].source.path.endswith(SEED.name)
    assert (
        out.totals.by_partner["United Nations Multi-Partner Trust Fund Office"]
        == 203202 * 2 + 267469 + 149177
    )
    assert out.totals.by_year["2021"]["contribution"] == 267469 + 22090
    with pytest.raises(BadInput):
        call(searcher, "funding", kind="gift")


def test_search_pagination_with_cursor(searcher):
    first = call(searcher, "search", q="care", k=3)
    second = call(searcher, "search", q="care", k=3, cursor=first.next_cursor)
    assert [r.rank for r in second.results] == [4, 5, 6]
    assert not {r.chunk_id for r in first.results} & {r.chunk_id for r in second.results}
    with pytest.raises(BadInput):
        call(searcher, "search", q="care", k=3, cursor="not-a-cursor")


def test_chunk_lookup(searcher):
    hit = call(searcher, "search", q="care", k=1).results[0]
    assert call(searcher, "chunk", chunk_id=hit.chunk_id).text == hit.text
    from insight_search.errors import NotFound

    with pytest.raises(NotFound):
        call(searcher, "chunk", chunk_id="../../etc/passwd")


def test_every_summary_year_matches_the_note_it_came_from(searcher, page):
    notes = [p for p in page.passages if p.section == "progress_note"]
    out = call(searcher, "timeline", q="care")
    for y in out.years:
        for s in y.sentences:
            owner = [p for p in page.passages if p.text[s.start : s.end] == s.text]
            assert owner and owner[0].year == s.year
    assert len(notes) == 4
