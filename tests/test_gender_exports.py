"""The five gender-theme UN INFO exports, indexed in one command, searched with filters.

Uses the fake embedder: what is checked here (rows, filters, facets, de-duplication) does not depend on the
model, and embedding 20k passages with the real one takes minutes. The real model is exercised end to end in
test_e2e_cli.py and in benchmarks/gender_index.py.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from insight_search.indexer import build_index
from insight_search.models import Filters, Query, Section
from insight_search.search import open_searcher

from .conftest import FakeEmbedder, call, need_shared
from .match_reference import reference_matches


@pytest.fixture(scope="module")
def gender(tmp_path_factory):
    from insight_search.config import Settings

    root = need_shared("data", "uninfo-jwp")
    files = sorted(root.glob("*/gender.xlsx"))
    assert len(files) == 5
    settings = Settings(index_dir=tmp_path_factory.mktemp("gender") / "index")
    embedder = FakeEmbedder()
    report = build_index(files, settings, embedder)
    return files, report, open_searcher(settings, embedder)


def _rows(files: list[Path]) -> list[dict]:
    rows = []
    for f in files:
        wb = openpyxl.load_workbook(f, read_only=True)
        ws = wb.active
        it = ws.iter_rows(values_only=True)
        header = next(it)
        rows += [dict(zip(header, r, strict=False)) for r in it if any(v is not None for v in r)]
        wb.close()
    return rows


def test_one_command_indexes_every_sub_output_once(gender):
    files, report, searcher = gender
    ids = {str(r["ID"]) for r in _rows(files)}
    assert report.failed_files == 0 and report.files == 5
    assert report.documents == len(ids)
    assert {str(d.metadata.get("sub_output_id")) for d in searcher.data.documents.values()} == ids


def test_country_and_year_filters_return_only_matching_rows(gender):
    _, _, searcher = gender
    for country, year in (("Georgia", 2022), ("Uganda", 2023), ("Bangladesh", 2022)):
        eligible = [i for i, c in enumerate(searcher.chunks) if c.country == country and year in c.years]
        matching = reference_matches(searcher, "gender-based violence prevention", eligible)
        out = call(
            searcher,
            "search",
            q="gender-based violence prevention",
            k=50,
            filters=Filters(country=country, year=year),
        )
        # filtered before ranking: as many results as match, up to k, and only those
        assert len(out.results) == min(50, len(matching)) > 0 and out.total == len(matching), (country, year)
        # a year filter keeps the passages whose span holds the year (a sub-output's start to end)
        assert all(r.country == country and r.year <= year <= (r.year_end or r.year) for r in out.results)
        assert all(r.source.kind == "uninfo-xlsx" and r.source.row for r in out.results)
        assert set(out.facets.countries) == {country}
        # every counted passage covers the year; some also cover the years around it
        assert out.facets.years[str(year)] == sum(out.facets.countries.values())


def test_year_range_filter_and_facets_add_up(gender):
    _, _, searcher = gender
    out = call(
        searcher,
        "search",
        q="women's economic empowerment",
        k=100,
        filters=Filters(year_from=2021, year_to=2022),
    )
    # a range keeps the spans that overlap it
    assert out.results and all(r.year <= 2022 and (r.year_end or r.year) >= 2021 for r in out.results)
    counted = sum(out.facets.countries.values())
    assert counted == out.total
    years = out.facets.years
    in_range = years.get("2021", 0), years.get("2022", 0)
    assert max(in_range) <= counted <= sum(in_range)
    everything = call(searcher, "facets")
    # a passage counts in every year it covers, once in "unknown" without a year
    assert sum(everything.years.values()) == sum(max(1, len(c.years)) for c in searcher.chunks)
    assert sum(everything.countries.values()) == len(searcher.chunks)
    assert everything.year_counting == "a passage counts in every year it covers"


def test_narratives_carry_the_year_of_their_column(gender):
    files, _, searcher = gender
    expected = Counter()
    for row in _rows(files):
        for year in range(2015, 2028):
            value = row.get(f"{year} Narrative")
            if isinstance(value, str) and value.strip() not in ("", "-"):
                expected[year] += 1
    # one passage per non-empty narrative cell, duplicates across files counted once per sub-output
    narratives = Counter()
    for doc in searcher.data.documents.values():
        for p in doc.passages:
            if p.label == f"{p.year} Narrative":
                assert p.section == "progress_note"
                narratives[p.year] += 1
    assert set(narratives) <= set(expected)
    assert all(0 < narratives[y] <= expected[y] for y in narratives)


def test_agency_filter_and_partner_mentions_match_a_direct_scan(gender):
    files, _, searcher = gender
    out = call(searcher, "search", q="care economy", k=30, filters=Filters(agency="UN Women"))
    assert out.results and all(any(a.casefold() == "un women" for a in r.agencies) for r in out.results)
    partner = "European Union"
    docs_with_partner = {
        d.doc_id
        for d in searcher.data.documents.values()
        if any(partner.lower() in p.lower() for p in d.partners)
    }
    found: set[str] = set()
    cursor = None
    while True:
        page = call(
            searcher, "mentions", term=partner, filters=Filters(section="partners"), cursor=cursor, limit=200
        )
        found |= {p.doc_id for p in page.passages}
        cursor = page.next_cursor
        if cursor is None:
            break
    assert docs_with_partner and found == docs_with_partner


@pytest.fixture(scope="module")
def one_export(tmp_path_factory):
    from insight_search.config import Settings

    path = need_shared("data", "uninfo-jwp", "arab-states", "gender.xlsx")
    settings = Settings(index_dir=tmp_path_factory.mktemp("one-gender") / "index")
    build_index([path], settings, FakeEmbedder())
    return open_searcher(settings, FakeEmbedder())


def test_progress_note_filter_returns_the_yearly_narratives(one_export):
    """``--section progress_note`` finds UN INFO yearly narratives (they were section "narrative" before)."""
    searcher = one_export
    notes = [c for c in searcher.chunks if c.section == Section.PROGRESS_NOTE]
    assert notes and all(c.source.kind == "uninfo-xlsx" for c in notes)
    rows = [i for i, c in enumerate(searcher.chunks) if c.section == Section.PROGRESS_NOTE]
    matching = reference_matches(searcher, "women leadership", rows)
    for section in ("progress_note", "Progress_Note "):
        query = Query(text="women leadership", k=20, filters=Filters(section=section), related=False)
        result = searcher.search(query)
        assert result.total == len(matching) > 0 and len(result.hits) == min(20, len(matching))
        for hit in result.hits:
            passage = searcher.data.documents[hit.chunk.doc_id].passages[hit.chunk.passage_index]
            assert hit.chunk.section == "progress_note" and passage.label == f"{hit.chunk.year} Narrative"
    assert searcher.search(Query(text="women leadership", filters=Filters(section="narrative"))).total == 0


def test_funding_and_search_agree_on_agency(one_export):
    """The agency filter is the same exact, case- and accent-insensitive match in search and funding."""
    from insight_search.funding import funding

    searcher = one_export
    funded = {r.doc_id for r in searcher.data.funding}
    agencies = {a for r in searcher.data.funding for a in r.agencies}
    assert len(agencies) > 3
    for agency in sorted(agencies)[:8]:
        for spelling in (agency, agency.upper(), f" {agency.lower()} "):
            allowed = searcher.allowed(Filters(agency=spelling))
            assert allowed is not None
            in_search = {searcher.chunks[i].doc_id for i in allowed} & funded
            in_funding = {r.doc_id for r in funding(searcher.data.funding, agency=spelling).records}
            assert in_search == in_funding and in_funding, spelling
    assert funding(searcher.data.funding, agency="Women").records == ()  # no substring match
