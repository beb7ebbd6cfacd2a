"""Every record dated, every count the same (issue 11, parts 2 and 3): on the sample outcome page the
timeline's per-year counts equal the year facet of the same query and filters, and on the UN INFO API data
a project is found by the years it runs through (the Monterrey care-system project, June 2023 to
December 2024)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from insight_search.config import Settings
from insight_search.facets import UNKNOWN
from insight_search.indexer import build_index
from insight_search.models import Filters, Section
from insight_search.search import open_searcher

from .conftest import SEED, FakeEmbedder, call, need_shared

QUERIES = ["care", "care system legislation", "Monterrey", "Generation Equality Forum", "funding partners"]
# "Bases para el establecimiento de un sistema municipal de cuidados en el Municipio de Monterrey"
MONTERREY = "uninfo-api:MEX:p:133119"


@pytest.fixture(scope="module")
def page_searcher(tmp_path_factory, real_embedder):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("year_counts")
    (root / "corpus").mkdir()
    shutil.copy(SEED, root / "corpus" / SEED.name)
    settings = Settings(index_dir=root / "index")
    build_index([root / "corpus"], settings, real_embedder)
    return open_searcher(settings, real_embedder)


@pytest.mark.parametrize("filters", [Filters(), Filters(year_from=2021, year_to=2022), Filters(year=2023)])
@pytest.mark.parametrize("q", QUERIES)
def test_timeline_counts_what_the_year_facet_counts(page_searcher, q: str, filters: Filters) -> None:  # type: ignore[no-untyped-def]
    """Seen before: the year bar said 2021: 10 where the timeline said 2021: 8 (it counted the funding
    table's 2021 rows, which do not match "care")."""
    facets = call(page_searcher, "facets", q=q, filters=filters)
    out = call(page_searcher, "timeline", q=q, filters=filters)
    # the page's year bar is the search's own facets: the same counts, over the same matching passages
    search = call(page_searcher, "search", q=q, filters=filters, k=10)
    assert search.facets.years == facets.years and search.total == sum(search.facets.countries.values())
    lo = filters.year if filters.year is not None else filters.year_from
    hi = filters.year if filters.year is not None else filters.year_to
    expected = {
        int(y): n
        for y, n in facets.years.items()
        if y != UNKNOWN and (lo is None or int(y) >= lo) and (hi is None or int(y) <= hi)
    }
    assert {y.year: y.count for y in out.years} == expected
    by_id = {c.chunk_id: c for c in page_searcher.chunks}
    for y in out.years:
        # the sentences come from that year's progress notes, which the count includes
        assert 0 <= y.progress_notes <= y.count
        assert len({s.chunk_id for s in y.sentences}) <= y.progress_notes
        for s in y.sentences:
            assert by_id[s.chunk_id].section == Section.PROGRESS_NOTE and by_id[s.chunk_id].year == y.year
        assert all(a.section != Section.PROGRESS_NOTE or a.year != y.year for a in y.active)
        assert y.progress_notes + len(y.active) <= y.count
        if not y.progress_notes:
            assert y.status is None and not y.sentences


def test_funding_rows_are_never_a_years_progress_note(page_searcher) -> None:  # type: ignore[no-untyped-def]
    out = call(page_searcher, "timeline", q="Multi-Partner Trust Fund contribution")
    by_id = {c.chunk_id: c for c in page_searcher.chunks}
    assert out.years
    for y in out.years:
        assert all(by_id[s.chunk_id].section == Section.PROGRESS_NOTE for s in y.sentences)
    assert any(a.section == Section.FUNDING for y in out.years for a in y.active)


@pytest.fixture(scope="module")
def mexico(tmp_path_factory):  # type: ignore[no-untyped-def]
    path = need_shared("data", "uninfo-api", "MEX.json")
    root = tmp_path_factory.mktemp("mexico")
    settings = Settings(index_dir=root / "index")
    embedder = FakeEmbedder()
    build_index([Path(path)], settings, embedder)
    return open_searcher(settings, embedder)


def test_monterrey_care_project_is_found_in_2024(mexico) -> None:  # type: ignore[no-untyped-def]
    """ "care", Mexico, 2024 missed the UN Women project of June 2023 to December 2024: its passages
    had no year, so every year filter left them out."""
    project = mexico.data.documents[MONTERREY]
    assert (project.year, project.year_end) == (2023, 2024)
    rows = [i for i, c in enumerate(mexico.chunks) if c.doc_id == MONTERREY]
    assert rows and all(list(mexico.chunks[i].years) == [2023, 2024] for i in rows)
    allowed = mexico.allowed(Filters(country="Mexico", year=2024))
    assert allowed is not None and set(rows) <= set(allowed.tolist())
    for year in (2023, 2024):
        q = "sistema municipal de cuidados Monterrey"
        out = call(mexico, "search", q=q, k=5, country="Mexico", year=year)
        assert MONTERREY in [r.doc_id for r in out.results], year
        hit = next(r for r in out.results if r.doc_id == MONTERREY)
        assert (hit.year, hit.year_end) == (2023, 2024)
    for filters in (Filters(year=2022), Filters(year=2025), Filters(year_to=2022), Filters(year_from=2025)):
        out = call(mexico, "search", q="sistema municipal de cuidados Monterrey", k=50, filters=filters)
        assert MONTERREY not in [r.doc_id for r in out.results], filters
    ranged = call(mexico, "search", q="cuidados Monterrey", k=5, year_from=2024, year_to=2026)
    assert MONTERREY in [r.doc_id for r in ranged.results]
    facets = call(mexico, "facets", q="cuidados Monterrey", country="Mexico", year=2024)
    assert facets.years["2024"] >= len(rows) and facets.years["2023"] >= len(rows)
