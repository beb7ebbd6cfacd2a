"""Year spans (issue 11, part 2): a record covers the years from ``year`` to ``year_end``. Filters, the year
facet, the query-year boost and timelines read the span; older indexes without ``year_end`` still load."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from insight_search.chunking import chunk_document
from insight_search.facets import UNKNOWN, FacetTable
from insight_search.filtering import FilterColumns, allowed_rows
from insight_search.models import Chunk, Document, Filters, Passage, Section, SourceRef, years_covered
from insight_search.ranking import year_list
from insight_search.records import chunk_from_dict, chunk_to_dict, document_from_dict, document_to_dict
from insight_search.sources.common import date_year, year_span
from insight_search.sources.uninfo_json import read_uninfo_json
from insight_search.sources.uninfo_xlsx import plan_period
from insight_search.summarize import timeline

from .conftest import FakeEmbedder

SOURCE = SourceRef(path="x.json", kind="uninfo-json")
# (year, year_end) of each test chunk: a yearly note, a project, a one-year project, an undated record...
SPANS = [(2021, None), (2022, 2024), (2023, 2023), (None, None), (2019, 2021), (2024, None), (2020, 2026)]


def chunk(i: int, year: int | None, year_end: int | None, section: str = Section.SUB_OUTPUT, **kw) -> Chunk:
    return Chunk(
        chunk_id=f"c{i}",
        doc_id=kw.pop("doc_id", f"d{i}"),
        text=kw.pop("text", f"text {i}"),
        title=f"T{i}",
        section=section,
        source=SOURCE,
        passage_index=0,
        start=0,
        end=6,
        year=year,
        year_end=year_end,
        **kw,
    )


CHUNKS = [chunk(i, y, e) for i, (y, e) in enumerate(SPANS)]


def covered(y: int | None, e: int | None) -> set[int]:
    """The reference: every year from y to e (y alone without e), nothing without y."""
    return set() if y is None else set(range(y, (e if e is not None else y) + 1))


def test_years_covered() -> None:
    assert list(years_covered(2022, 2024)) == [2022, 2023, 2024]
    assert list(years_covered(2022, None)) == list(years_covered(2022, 2022)) == [2022]
    assert list(years_covered(2022, 2020)) == [2022]  # an end before the start: the start alone
    assert list(years_covered(None, 2024)) == []
    assert list(CHUNKS[1].years) == [2022, 2023, 2024]


@pytest.mark.parametrize(
    ("year", "year_from", "year_to"),
    [
        *[(y, None, None) for y in range(2018, 2028)],
        *[(None, a, b) for a, b in itertools.product([None, 2020, 2022, 2024, 2027], repeat=2)],
        (2023, 2021, 2025),
        (2023, 2024, None),
    ],
)
def test_year_filters_match_spans(year: int | None, year_from: int | None, year_to: int | None) -> None:
    """``year`` keeps the spans holding it, a range the spans overlapping it; undated records never pass."""
    rows = allowed_rows(FilterColumns.of(CHUNKS), Filters(year=year, year_from=year_from, year_to=year_to))
    expected = []
    for i, (y, e) in enumerate(SPANS):
        years = covered(y, e)
        lo = year_from if year_from is not None else -(10**9)
        hi = year_to if year_to is not None else 10**9
        if (year is None or year in years) and years and any(lo <= v <= hi for v in years):
            expected.append(i)
    if year is None and year_from is None and year_to is None:
        assert rows is None
    else:
        assert rows is not None and rows.tolist() == expected


def test_year_filter_combines_with_other_fields() -> None:
    chunks = [*CHUNKS, chunk(9, 2022, 2024, country="Mexico")]
    rows = allowed_rows(FilterColumns.of(chunks), Filters(year=2023, country="mexico"))
    assert rows is not None and rows.tolist() == [len(CHUNKS)]


def test_year_facet_counts_each_covered_year() -> None:
    facets = FacetTable.of(CHUNKS).counts()
    expected: dict[str, int] = {}
    for y, e in SPANS:
        for v in sorted(covered(y, e)) or [UNKNOWN]:
            expected[str(v)] = expected.get(str(v), 0) + 1
    assert facets.years == dict(sorted(expected.items()))
    assert facets.years["2023"] == 3 and facets.years[UNKNOWN] == 1  # 2022-2024, 2023, 2020-2026
    # over some rows only
    assert FacetTable.of(CHUNKS).counts(np.array([1, 4])).years == {
        "2019": 1, "2020": 1, "2021": 1, "2022": 1, "2023": 1, "2024": 1,
    }  # fmt: skip


def test_query_year_boost_treats_a_span_holding_the_year_as_that_years() -> None:
    columns = FilterColumns.of(CHUNKS)
    lists = [[(i, 1.0 / (i + 1)) for i in range(len(CHUNKS))]]
    boosted = [i for i, _ in year_list(lists, [1.0], {2023}, columns.years, 10, columns.year_ends)]
    assert sorted(boosted) == [1, 2, 6]
    # without the end years, only the start year counts (as before spans)
    assert [i for i, _ in year_list(lists, [1.0], {2023}, columns.years, 10)] == [2]


def test_chunks_carry_the_passage_span_else_the_documents() -> None:
    doc = Document(
        doc_id="p1",
        title="Project",
        source=SOURCE,
        passages=(
            Passage("Sub-output name here.", Section.SUB_OUTPUT),
            Passage("A note of one year.", Section.PROGRESS_NOTE, year=2023),
            Passage("A plan outcome.", Section.OUTCOME, year=2020, year_end=2025),
        ),
        year=2023,
        year_end=2024,
    )
    assert [(c.year, c.year_end) for c in chunk_document(doc)] == [(2023, 2024), (2023, None), (2020, 2025)]
    one_year = Document(doc_id="p2", title="t", source=SOURCE, passages=(Passage("x y", "text"),), year=2022,
                        year_end=2022)  # fmt: skip
    assert [(c.year, c.year_end) for c in chunk_document(one_year)] == [(2022, None)]


def test_year_end_is_stored_and_old_indexes_load_without_it() -> None:
    doc = Document(
        doc_id="p1",
        title="Project",
        source=SOURCE,
        passages=(Passage("Name of it.", Section.SUB_OUTPUT), Passage("Plan.", "outcome", 2020, 2025)),
        year=2023,
        year_end=2024,
    )
    stored = json.loads(json.dumps(document_to_dict(doc)))
    again = document_from_dict(stored)
    assert again == doc
    [first, second] = chunk_document(doc)
    line = json.loads(json.dumps(chunk_to_dict(first)))
    assert line["year_end"] == 2024 and chunk_from_dict(line, again) == first
    # lines written before year spans: no year_end anywhere
    for p in stored["passages"]:
        del p["year_end"]
    del stored["year_end"]
    old = document_from_dict(stored)
    assert old.year == 2023 and old.year_end is None and old.passages[1].year_end is None
    old_line = chunk_to_dict(second)
    del old_line["year_end"]
    loaded = chunk_from_dict(old_line, old)
    assert (loaded.year, loaded.year_end, list(loaded.years)) == (2020, None, [2020])


def test_dates_and_plan_periods() -> None:
    assert date_year("2023-06-01") == 2023 and date_year(dt.datetime(2024, 12, 31)) == 2024
    assert date_year("June 2023") is None and date_year(None) is None and date_year(True) is None
    assert year_span("2023-06-01", "2024-12-31") == (2023, 2024)
    assert year_span("2024-01-01", "2024-12-31") == (2024, None)
    assert year_span("2024-01-01", None) == (2024, None) and year_span(None, "2026-12-31") == (2026, None)
    assert year_span("2025-01-01", "2023-01-01") == (2023, 2025)
    assert year_span("-", "") == (None, None)
    assert plan_period("UNSDCF 2022 \u2013 2026") == (2022, 2026)
    assert plan_period("UN Sudan Common Approach Result Framework 2024 to 2025") == (2024, 2025)
    assert plan_period("United Nations Sustainable Development Cooperation Framework") == (None, None)


def test_uninfo_api_projects_cover_start_to_end(tmp_path: Path) -> None:
    path = tmp_path / "MEX.json"
    projects = [
        {"id": 1, "agency": "UN Women", "code": "2.5.4.", "name": "Sistema municipal de cuidados",
         "description": "Bases de un sistema de cuidados.", "start": "2023-06-01", "end": "2024-12-31",
         "outcome": "Pr2.5. Al 2025"},
        {"id": 2, "agency": "UNDP", "name": "Only a start", "start": "2022-01-01", "end": None},
        {"id": 3, "agency": "UNICEF", "name": "No dates"},
        {"id": 4, "agency": "UNFPA", "name": "Joint", "start": "2021-01-01", "end": "2022-12-31"},
        {"id": 4, "agency": "UNICEF", "name": "Joint", "start": "2022-01-01", "end": "2025-12-31"},
    ]  # fmt: skip
    framework = [{"id": 7, "code": "1", "name": "AT1. Igualdad", "children": []}]
    path.write_text(json.dumps({"name": "Mexico", "projects": projects, "framework": framework}))
    docs = {d.doc_id.rsplit(":", 1)[1]: d for d in read_uninfo_json(path)}
    assert (docs["1"].year, docs["1"].year_end) == (2023, 2024)
    assert (docs["2"].year, docs["2"].year_end) == (2022, None)
    assert (docs["3"].year, docs["3"].year_end) == (None, None)
    assert (docs["4"].year, docs["4"].year_end) == (2021, 2025)  # the entries' earliest start, latest end
    assert docs["7"].year is None  # the file states no period for its framework
    assert {(c.year, c.year_end) for c in chunk_document(docs["1"])} == {(2023, 2024)}


def test_a_timeline_year_quotes_only_its_progress_notes() -> None:
    """A project running through 2023 counts in 2023 and is listed as active there, never quoted; the
    year's status and sentences come from its progress note alone."""
    note = chunk(
        1,
        2023,
        None,
        Section.PROGRESS_NOTE,
        doc_id="page",
        text="The care system law was approved by the state congress in 2023.",
        status="achieved",
    )
    project = chunk(2, 2022, 2024, doc_id="project", text="The municipal care system project trains carers.")
    funding = chunk(3, 2023, None, Section.FUNDING, doc_id="page", text="The fund gave 200 dollars to care.")
    undated = chunk(4, None, None, doc_id="other", text="Care work is unpaid work done mostly by women.")
    matches = [project, funding, note, undated]
    out = timeline("care system", matches, FakeEmbedder(), document_chunks=lambda ids: matches)
    years = {y.year: y for y in out.years}
    assert list(years) == [2022, 2023, 2024]
    y2023 = years[2023]
    assert (y2023.count, y2023.progress_notes, y2023.status) == (3, 1, "achieved")
    assert [s.citation.chunk_id for s in y2023.sentences] == ["c1"]
    assert [c.chunk_id for c in y2023.active] == ["c2", "c3"]  # best first, as matched
    for y in (2022, 2024):
        assert (years[y].count, years[y].progress_notes, years[y].status) == (1, 0, None)
        assert years[y].sentences == () and [c.chunk_id for c in years[y].active] == ["c2"]
    # within a year filter's range only
    clipped = timeline("care", matches, FakeEmbedder(), document_chunks=lambda ids: matches, first_year=2024)
    assert [y.year for y in clipped.years] == [2024]
