"""One meaning per filter in every operation (``models.Filters``): country, agency, theme and section
match one of a record's values ignoring case and accents, year is a year the record's span covers. On a
real UN INFO export, search, summarize, timeline, mentions and funding select the same kind of records
for the same filter, whatever the spelling of its value."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from insight_search.config import Settings
from insight_search.indexer import build_index
from insight_search.models import Chunk
from insight_search.search import open_searcher
from insight_search.service import Service
from insight_search.text import fold

from .conftest import FakeEmbedder, need_shared, service_for

COUNTRY, AGENCY, YEAR = "Brazil", "UN Women", 2022
SPELLINGS = [
    {"country": "Brazil", "agency": "UN Women"},
    {"country": "BRAZIL", "agency": "un women"},
    {"country": " brazil ", "agency": "UN WÓMEN"},
]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Service:
    export = need_shared("data", "uninfo-jwp", "latin-america-caribbean", "gender.xlsx")
    root = tmp_path_factory.mktemp("meaning")
    settings = Settings(index_dir=root / "index")
    embedder = FakeEmbedder()
    build_index([Path(export)], settings, embedder)
    return service_for(open_searcher(settings, embedder))  # type: ignore[no-any-return]


def wanted(chunk: Chunk | None, *, year: int | None = None) -> bool:
    assert chunk is not None
    return (
        chunk.country == COUNTRY
        and any(fold(a) == fold(AGENCY) for a in chunk.agencies)
        and (year is None or chunk.year == year)
    )


def covers(chunk: Chunk | None, year: int) -> bool:
    assert chunk is not None
    return year in chunk.years


def test_every_operation_gives_a_filter_one_meaning(service: Service) -> None:
    searcher = service.index.searcher
    by_id = {c.chunk_id: c for c in searcher.chunks}
    expected_rows = {c.chunk_id for c in searcher.chunks if wanted(c)}
    assert expected_rows, "the export has UN Women passages for Brazil"

    seen: list[tuple[object, ...]] = []
    for spelling in SPELLINGS:
        found = service.run("search", {"q": "women", "k": 100, **spelling})
        assert found.results and all(wanted(by_id[r.chunk_id]) for r in found.results)

        summary = service.run("summarize", {"q": "women", **spelling})
        assert summary.sentences and all(wanted(by_id[s.chunk_id]) for s in summary.sentences)

        timeline = service.run("timeline", {"q": "women", **spelling})
        assert timeline.years
        for y in timeline.years:
            assert all(wanted(by_id[s.chunk_id], year=y.year) for s in y.sentences)

        mentions = service.run("mentions", {"term": "women", "limit": 200, **spelling})
        scan = {i for i in expected_rows if re.search(r"(?<!\w)women(?!\w)", fold(by_id[i].text))}
        assert {p.chunk_id for p in mentions.passages} <= expected_rows
        assert mentions.total == len(scan)

        money = service.run("funding", {"year": YEAR, "limit": 1000, **spelling})
        assert money.records
        assert all(
            r.country == COUNTRY and r.year == YEAR and any(fold(a) == fold(AGENCY) for a in r.agencies)
            for r in money.records
        )
        seen.append(
            (
                [r.chunk_id for r in found.results],
                [s.chunk_id for s in summary.sentences],
                mentions.total,
                money.total_records,
            )
        )
    # every spelling selects the very same records
    assert all(s == seen[0] for s in seen)


def test_year_means_the_records_year_everywhere(service: Service) -> None:
    searcher = service.index.searcher
    by_id = {c.chunk_id: c for c in searcher.chunks}
    found = service.run("search", {"q": "violence", "k": 100, "year": YEAR})
    assert found.results and all(covers(by_id[r.chunk_id], YEAR) for r in found.results)
    mentions = service.run("mentions", {"term": "violence", "year": YEAR, "limit": 200})
    assert mentions.total and all(covers(by_id[p.chunk_id], YEAR) for p in mentions.passages)
    # counted in every year they cover, as the year facet counts: all of them in YEAR
    assert {y.year: y.count for y in mentions.years}[str(YEAR)] == mentions.total
    timeline = service.run("timeline", {"q": "violence", "year": YEAR})
    assert [y.year for y in timeline.years] == [YEAR]
    assert all(by_id[s.chunk_id].year == YEAR for y in timeline.years for s in y.sentences)
    money = service.run("funding", {"year": YEAR, "limit": 1000})
    assert money.records and all(r.year == YEAR for r in money.records)


def test_progress_note_section_finds_un_info_yearly_narratives(service: Service) -> None:
    """``--section progress_note`` (the CLI and API filter) returns the exports' ``YYYY Narrative`` notes."""
    found = service.run("search", {"q": "progress women", "k": 50, "section": "progress_note"})
    assert found.results
    assert all(r.section == "progress_note" and r.source.kind == "uninfo-xlsx" for r in found.results)
    assert all(r.year is not None for r in found.results)
