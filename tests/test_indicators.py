"""Indicator records end to end below the edges: stored with their documents and read back (an index written
before they existed loads with none), counted in the manifest, filtered (title words, country, agency, a year
a period covers, doc_id), values typed (numbers, text, missing), paged, and shown in a query's timeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from insight_search.errors import BadInput
from insight_search.indicators import indicators, period_covers, period_text, timeline_lines, value_text
from insight_search.manifest import Counts
from insight_search.models import IndicatorPeriod
from insight_search.records import document_from_dict, document_to_dict
from insight_search.search import open_searcher
from insight_search.store import current_version

from .conftest import FakeEmbedder, call, service_for
from .indicator_samples import ALBANIA, CHILE, DRR_TITLE, MEXICO, build, documents

RECORDS = [r for d in documents() for r in d.indicators]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return build(tmp_path_factory.mktemp("indicators"))


@pytest.fixture(scope="module")
def searcher(built):  # type: ignore[no-untyped-def]
    return open_searcher(built, FakeEmbedder())


# ---------------------------------------------------------------- stored and read back


def test_a_document_round_trips_through_its_json_line_with_typed_values() -> None:
    for doc in documents():
        line = json.loads(json.dumps(document_to_dict(doc)))
        assert document_from_dict(line) == doc
    first = document_from_dict(json.loads(json.dumps(document_to_dict(documents()[0])))).indicators[0]
    assert first.baseline == 0.0 and isinstance(first.baseline, float)
    assert first.periods[1].target == "Law adopted" and first.periods[1].actual is None


def test_a_stored_integer_reads_as_a_number_and_an_old_line_without_indicators_as_none() -> None:
    line = document_to_dict(documents()[0])
    line["indicators"][0]["baseline"] = 0  # an integer written by another writer
    assert document_from_dict(line).indicators[0].baseline == 0.0
    del line["indicators"]
    assert document_from_dict(line).indicators == ()


def test_the_built_index_holds_every_record_shared_from_its_documents(built, searcher) -> None:  # type: ignore[no-untyped-def]
    data = searcher.data
    assert [(r.doc_id, r.title) for r in data.indicators] == [(r.doc_id, r.title) for r in RECORDS]
    assert data.indicators[0] is data.documents[ALBANIA].indicators[0]  # one object, not a copy
    assert data.indicators[0].source.path.endswith("activities.iatitest")
    assert data.manifest.counts.indicator_records == 3
    manifest = json.loads((current_version(built.index_dir) / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["counts"]["indicator_records"] == 3


def test_an_index_written_before_indicators_existed_loads_with_none(built, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    old = tmp_path / "index"
    shutil.copytree(built.index_dir, old)
    version = current_version(old)
    lines = (version / "documents.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(x) for x in lines]
    for row in rows:
        row.pop("indicators")
    (version / "documents.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    manifest = json.loads((version / "manifest.json").read_text(encoding="utf-8"))
    manifest.pop("checksums")  # written before checksums too: loads unverified
    manifest["counts"].pop("indicator_records")
    (version / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    loaded = open_searcher(built.model_copy(update={"index_dir": old}), FakeEmbedder())
    assert loaded.data.indicators == [] and loaded.data.manifest.counts.indicator_records == 0
    assert call(loaded, "indicators").total == 0
    assert all(not y.indicators for y in call(loaded, "timeline", q="disaster risk reduction").years)


def test_manifest_counts_write_indicator_records_only_when_some() -> None:
    assert "indicator_records" not in Counts(documents=1).to_dict()
    assert Counts.from_dict({"documents": 1}).indicator_records == 0
    assert Counts.from_dict(Counts(indicator_records=4).to_dict()).indicator_records == 4


# ---------------------------------------------------------------- filters and values


def _titles(**filters: object) -> list[str]:
    return [r.title for r in indicators(RECORDS, **filters)]  # type: ignore[arg-type]


def test_text_needs_every_word_to_start_a_title_word_ignoring_case_and_accents() -> None:
    assert _titles(text="framework drr GENDER") == [DRR_TITLE]  # "framework" starts "frameworks"
    assert _titles(text="numero cuidados") == ["Número de sistemas municipales de cuidados"]
    assert _titles(text="frameworks water") == []  # every word must be there
    assert _titles(text="works") == []  # a word's start, not any part of it
    assert len(_titles(text="drr")) == 2 and len(_titles(text="")) == 3


def test_country_agency_and_doc_id_mean_what_they_mean_everywhere() -> None:
    assert len(_titles(country="albania")) == 2 and _titles(country="Alb") == []
    assert len(_titles(agency="unw")) == 2 and _titles(agency="Women") == []
    assert _titles(agency="undp") == _titles(doc_id=MEXICO) == ["Número de sistemas municipales de cuidados"]
    assert _titles(doc_id=CHILE) == []


def test_year_matches_a_period_covering_it_not_the_baseline_year() -> None:
    assert _titles(year=2021) == [DRR_TITLE, "Número de sistemas municipales de cuidados"]
    assert _titles(year=2020) == ["Número de sistemas municipales de cuidados"]  # 2019-2021 covers it
    assert _titles(year=2018) == []  # Mexico's baseline year only
    assert len(_titles(year=2022)) == 2
    assert not period_covers(IndicatorPeriod(None, None), 2021)
    assert period_covers(IndicatorPeriod("2021-03-01", None), 2021)


def test_values_read_as_a_person_writes_them() -> None:
    assert [value_text(v) for v in (1.0, 0.35, "Law adopted", None, 1500000.0)] == [
        "1",
        "0.35",
        "Law adopted",
        "-",
        "1500000",
    ]
    assert period_text(1.0, 2.0) == "target 1, actual 2"
    assert period_text("Law adopted", None) == "target Law adopted"
    assert period_text(None, None) == "no target or actual"


def test_timeline_lines_by_period_year_with_a_value_at_most_per_year() -> None:
    lines = timeline_lines(RECORDS, range(2018, 2023))
    assert sorted(lines) == [2021, 2022]  # the baseline year 2018 and the empty period give none
    assert [(i.doc_id, i.target, i.actual) for i in lines[2021]] == [(ALBANIA, 1.0, 2.0), (MEXICO, 3.0, 1.0)]
    assert [i.target for i in lines[2022]] == ["Law adopted", 0.35]
    assert [i.doc_id for i in timeline_lines(RECORDS, [2021], per_year=1)[2021]] == [ALBANIA]
    assert timeline_lines(RECORDS, [2023]) == {}


# ---------------------------------------------------------------- the operation


def test_the_operation_filters_pages_and_names_the_activity(searcher) -> None:  # type: ignore[no-untyped-def]
    out = call(searcher, "indicators", text="legal frameworks DRR", country="Albania", year=2021)
    assert out.total == 1
    (ind,) = out.indicators
    assert ind.title == DRR_TITLE and ind.activity == "Gender-responsive disaster risk reduction in Albania"
    assert ind.baseline == 0 and ind.baseline_year == 2020
    periods = [(p.year, p.target, p.actual) for p in ind.periods]
    assert periods == [(2021, 1.0, 2.0), (2022, "Law adopted", None)]
    dumped = out.model_dump(mode="json")["indicators"][0]
    assert dumped["periods"][0]["target"] == 1.0 and dumped["periods"][1]["target"] == "Law adopted"
    first = call(searcher, "indicators", limit=2)
    assert first.total == 3 and len(first.indicators) == 2 and first.next_cursor
    rest = call(searcher, "indicators", limit=2, cursor=first.next_cursor)
    assert [i.doc_id for i in rest.indicators] == [MEXICO] and rest.next_cursor is None
    with pytest.raises(BadInput):
        call(searcher, "indicators", limit=2, cursor=first.next_cursor, country="Mexico")  # another request
    with pytest.raises(BadInput, match="limit"):
        call(searcher, "indicators", limit=0)
    with pytest.raises(BadInput, match="partner"):
        call(searcher, "indicators", partner="x")
    relative = service_for(searcher, searcher.settings.model_copy(update={"paths": "relative"}))
    assert relative.run("indicators", {"limit": 1}).indicators[0].source.path == "corpus/activities.iatitest"


def test_a_query_timeline_lists_the_matching_documents_indicator_periods(searcher) -> None:  # type: ignore[no-untyped-def]
    out = call(searcher, "timeline", q="disaster risk reduction frameworks Albania")
    years = {y.year: y for y in out.years}
    assert 2021 in years
    lines = [(i.doc_id, i.line) for i in years[2021].indicators]
    assert (ALBANIA, "target 1, actual 2") in lines
    assert years[2021].indicators[0].comment.startswith("Two frameworks adopted")
    assert [i.line for i in years[2022].indicators] == ["target Law adopted", "target 0.35"]
    assert not years[2020].indicators  # the baseline year has no line
    # A query matching only Mexico's activity: its indicator alone, at the period's year (2021).
    care = call(searcher, "timeline", q="municipal care systems caregivers", country="Mexico")
    shown = {y.year: [i.doc_id for i in y.indicators] for y in care.years}
    assert shown.get(2021) == [MEXICO] and all(not v for y, v in shown.items() if y != 2021)
    # A year filter keeps the lines to that year.
    only = call(searcher, "timeline", q="disaster risk reduction frameworks", year=2022)
    assert [y.year for y in only.years] == [2022]
    assert {i.doc_id for i in only.years[0].indicators} == {ALBANIA}


def test_sample_records_are_distinct_values() -> None:
    # The samples exercise what they claim: numbers, text and missing values, and a document without any.
    values = [v for r in RECORDS for p in r.periods for v in (p.target, p.actual)]
    assert {type(v) for v in values} == {float, str, type(None)}
    assert not [d for d in documents() if d.doc_id == CHILE][0].indicators
