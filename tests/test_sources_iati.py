"""The IATI activity reader on the real files of ../shared/data/iati (counts as ../shared/README.md states
them, typed indicators, progress notes, funding kinds, languages) and on small files made here for bad input
(truncated XML, XML that is not IATI, a malformed activity among good ones, lower-case ``xml:lang``)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from insight_search.errors import UnreadableFile
from insight_search.models import Document, Section
from insight_search.sources import iati
from insight_search.sources.registry import read_file, reader_for
from insight_search.sources.unwomen_page import read_unwomen_page

from .conftest import SEED, need_shared

# (file, activities, results, indicators, periods, budget elements, transactions)
FILES = [
    ("unwomen-activities.xml", 13, 41, 141, 141, 58, 209),
    ("unicef-activities.xml", 85, 85, 341, 341, 528, 4752),
    ("undp-activities.xml", 1343, 475, 500, 1172, 2397, 13878),
    ("dportal_111-mixed-publishers-2021-06.xml", 100, 62, 183, 183, 239, 1440),
]
_CACHE: dict[str, tuple[list[Document], list[UnreadableFile]]] = {}


def read_shared(name: str) -> tuple[list[Document], list[UnreadableFile]]:
    """The documents of a shared file and the problems reported, read once per test session."""
    if name not in _CACHE:
        problems: list[UnreadableFile] = []
        docs = list(read_file(need_shared("data", "iati", name), warn=problems.append))
        _CACHE[name] = (docs, problems)
    return _CACHE[name]


def by_id(docs: list[Document], doc_id: str) -> Document:
    [doc] = [d for d in docs if d.doc_id == doc_id]
    return doc


@pytest.mark.parametrize(("name", "activities", "results", "indicators", "periods", "budgets", "txs"), FILES)
def test_counts_per_file(
    name: str, activities: int, results: int, indicators: int, periods: int, budgets: int, txs: int
) -> None:
    docs, problems = read_shared(name)
    assert problems == []
    assert len(docs) == activities == len({d.doc_id for d in docs})
    assert {d.source.kind for d in docs} == {"iati"}
    assert sum(d.metadata.get("results", 0) for d in docs) == results
    assert sum(len(d.indicators) for d in docs) == indicators
    assert sum(len(i.periods) for d in docs for i in d.indicators) == periods
    # every budget element is either a budget record or an original replaced by a revised one
    budget_records = sum(1 for d in docs for r in d.funding if r.kind == "budget")
    replaced = sum(d.metadata.get("budgets_replaced", 0) for d in docs)
    assert budget_records + replaced == budgets == sum(d.metadata.get("budgets", 0) for d in docs)
    assert sum(d.metadata.get("transactions", 0) for d in docs) == txs
    assert all(d.title and d.passages for d in docs)


def test_unwomen_albania_drr_indicator() -> None:
    docs, _ = read_shared("unwomen-activities.xml")
    records = [
        i
        for d in docs
        for i in d.indicators
        if i.title.startswith("Number of national legal and policy frameworks on DRR that include gender")
    ]
    [record] = [r for r in records if r.country == "Albania"]
    assert record.doc_id == "XM-DAC-41146-ALB_D_4.1" and record.source.kind == "iati"
    assert record.baseline == 0.0 and isinstance(record.baseline, float) and record.baseline_year == 2020
    assert record.measure == "unit" and record.agencies == ("UN Women",)
    assert record.result and record.result.startswith("Government institutions and women CSOs")
    [period] = record.periods
    assert (period.start, period.end, period.year) == ("2021-01-01", "2021-12-31", 2021)
    assert period.target == 1.0
    assert period.actual is None and period.comment is None  # the file says "-"
    doc = by_id(docs, "XM-DAC-41146-ALB_D_4.1")
    assert doc.country == "Albania" and doc.metadata["country_codes"] == ["AL"]
    assert (doc.year, doc.year_end) == (2017, 2021)
    assert doc.metadata["status"] == "Implementation" and doc.metadata["hierarchy"] == 1
    assert doc.partners == ("Multi-Donor Trust Fund Office",)


def test_unwomen_actual_values_typed() -> None:
    docs, _ = read_shared("unwomen-activities.xml")
    actuals = [p.actual for d in docs for i in d.indicators for p in i.periods if p.actual is not None]
    kinds = Counter(type(a).__name__ for a in actuals)
    assert kinds["float"] == 47  # the numeric actuals; "True"/"False" stay text
    assert {a for a in actuals if isinstance(a, str)} <= {"True", "False"}
    assert Counter(i.measure for d in docs for i in d.indicators) == {
        "unit": 97,
        "nominal": 26,
        "percentage": 16,
        "qualitative": 2,
    }


def test_undp_progress_note_with_its_year() -> None:
    docs, _ = read_shared("undp-activities.xml")
    doc = by_id(docs, "XM-DAC-41114-OUTPUT-00054347")
    assert doc.country == "Egypt" and "UNDP" in doc.agencies
    notes = [p for p in doc.passages if p.section == Section.PROGRESS_NOTE]
    [note] = [p for p in notes if p.text.startswith("Four NGOs received the first patch of grants/loans")]
    assert (note.year, note.year_end) == (2019, None)
    assert note.label == "Progress 2019: Output Indicator [en]"
    [period] = [p for i in doc.indicators for p in i.periods if p.year == 2019]
    assert period.comment and period.comment.startswith("Four NGOs received")
    assert {p.year for p in notes} <= {p.year for i in doc.indicators for p in i.periods}
    # progress notes of the whole file: every one dated, none a bare "N/A" / "Not applicable"
    all_notes = [p for d in docs for p in d.passages if p.section == Section.PROGRESS_NOTE]
    assert len(all_notes) > 600 and all(p.year for p in all_notes)
    assert not any(p.text.casefold() in {"n/a", "na", "not applicable"} for p in all_notes)
    assert Counter(d.metadata["hierarchy"] for d in docs) == {2: 1106, 1: 237}
    assert sum(d.country == "Mexico" for d in docs) == 14


def test_funding_kinds_and_currencies() -> None:
    docs, _ = read_shared("unwomen-activities.xml")
    kinds = Counter(r.kind for d in docs for r in d.funding)
    # transactions: 34 incoming funds, 13 outgoing commitments, 162 expenditures; 58 budgets less 25
    # originals that a revised budget for the same period replaces
    assert kinds == {"contribution": 34, "commitment": 13, "expenditure": 162, "budget": 33}
    assert {r.currency for d in docs for r in d.funding} == {"USD"}
    doc = by_id(docs, "XM-DAC-41146-ALB_D_4.1")
    [budget] = [r for r in doc.funding if r.kind == "budget"]
    assert (budget.year, budget.total, budget.country) == (2021, 594028.0, "Albania")
    [incoming] = [r for r in doc.funding if r.kind == "contribution"]
    assert incoming.partner == "Multi-Donor Trust Fund Office" and incoming.year == 2021
    undp, _ = read_shared("undp-activities.xml")
    undp_kinds = Counter(r.kind for d in undp for r in d.funding)
    assert undp_kinds == {
        "budget": 2397,
        "expenditure": 7998,
        "commitment": 1106,
        "contribution": 835,
        "disbursement": 597,
    }
    assert sum(d.metadata.get("other_transactions", {}).get("incoming commitment", 0) for d in undp) == 3342


def test_languages_of_descriptions() -> None:
    docs, _ = read_shared("undp-activities.xml")
    mexico = by_id(docs, "XM-DAC-41114-OUTPUT-00120969")
    [description] = [p for p in mexico.passages if p.section == Section.DESCRIPTION]
    assert description.text.startswith("Fortalecimiento del gobierno de la Ciudad de México")
    assert description.label == "Description [es]" and mexico.metadata["languages"] == ["es"]
    french = by_id(docs, "XM-DAC-41114-OUTPUT-00104638")
    assert "fr" in french.metadata["languages"]
    assert any(p.label == "Description [fr]" and "Le programme conjoint" in p.text for p in french.passages)
    langs = Counter(
        p.label.rsplit("[", 1)[1].rstrip("]")
        for d in docs
        for p in d.passages
        if p.section == Section.DESCRIPTION and p.label
    )
    # the file's 928 en, 215 es, 190 fr, 10 pt less the 28 descriptions that repeat their title word for word
    assert langs == {"en": 902, "es": 214, "fr": 189, "pt": 10}


def test_multi_publisher_file_reads_whole() -> None:
    docs, _ = read_shared("dportal_111-mixed-publishers-2021-06.xml")
    refs = Counter(d.metadata["reporting_org_ref"] for d in docs)
    assert refs == {
        "XM-DAC-41301": 38,
        "XM-DAC-41123": 30,
        "XM-DAC-41122": 16,
        "XM-DAC-41146": 12,
        "XM-DAC-41140": 3,
        "XM-DAC-41130": 1,
    }
    assert {"FAO", "UNIDO", "UNICEF", "UN Women"} <= {a for d in docs for a in d.agencies}
    # a UN agency that funds another's activity is its partner, not one of its agencies
    unicef, _ = read_shared("unicef-activities.xml")
    assert {d.agencies for d in unicef} == {("UNICEF",)}
    assert any("FAO - Italy" in d.partners for d in unicef)
    # d-portal's dstore: attributes are not read into the documents
    assert not any("dstore" in json.dumps(dict(d.metadata)) for d in docs)


def test_outcome_page_and_its_activity_share_the_outcome_id(tmp_path: Path) -> None:
    docs, _ = read_shared("unwomen-activities.xml")
    activity = by_id(docs, "XM-DAC-41146-HTI_D_1.5")
    page = tmp_path / "page.txt"
    page.write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "page.txt.meta.json").write_text(json.dumps({"iati_identifier": "XM-DAC-41146-HTI_D_1.5"}))
    outcome_page = next(read_unwomen_page(page))
    assert outcome_page.metadata["iati_identifier"] == activity.metadata["iati_identifier"] == activity.doc_id
    assert activity.outcome and activity.outcome == activity.passages[0].text


# ---------------------------------------------------------------- small files: bad input

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<iati-activities version="2.03">\n'


def activity(identifier: str, title: str = "Women lead local recovery", extra: str = "") -> str:
    ident = f"<iati-identifier>{identifier}</iati-identifier>" if identifier else ""
    return (
        f'<iati-activity default-currency="EUR" xml:lang="en" hierarchy="1">{ident}'
        '<reporting-org ref="XM-DAC-41146" type="40"><narrative>UN Women</narrative></reporting-org>'
        f"<title><narrative>{title}</narrative></title>"
        '<description type="1"><narrative xml:lang="fr">Les femmes dirigent le relèvement.</narrative>'
        '<narrative xml:lang="EN">Women lead the recovery.</narrative></description>'
        '<recipient-country code="MX" percentage="100"/>'
        '<activity-date iso-date="2022-01-01" type="2"/><activity-date iso-date="2024-12-31" type="3"/>'
        f"{extra}</iati-activity>\n"
    )


def write(tmp_path: Path, text: str, name: str = "a.xml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_small_file_fields_and_lower_case_lang(tmp_path: Path) -> None:
    money = (
        '<budget type="1"><period-start iso-date="2022-01-01"/><period-end iso-date="2022-12-31"/>'
        "<value>100</value></budget>"
        '<transaction><transaction-type code="3"/><transaction-date iso-date="2023-03-01"/>'
        '<value currency="usd">50</value><receiver-org type="22"><narrative>Red de Mujeres</narrative>'
        "</receiver-org></transaction>"
        '<result type="2"><title><narrative>More women lead</narrative></title>'
        '<indicator measure="5"><title><narrative>Law adopted</narrative></title>'
        '<baseline iso-date="2021-06-30" value="No">'
        "<comment><narrative>none yet</narrative></comment></baseline>"
        '<period><period-start iso-date="2022-07-01"/><period-end iso-date="2023-06-30"/>'
        '<target value="Yes"/><actual value=" 1,250.5 "><comment><narrative xml:lang="es">Ley aprobada en '
        "junio.</narrative></comment></actual></period></indicator></result>"
    )
    path = write(tmp_path, HEAD + activity("XM-1", extra=money) + "</iati-activities>")
    assert reader_for(path) is iati
    [doc] = read_file(path)
    assert (doc.doc_id, doc.country, doc.year, doc.year_end) == ("XM-1", "Mexico", 2022, 2024)
    assert doc.agencies == ("UN Women",) and doc.outcome == "Women lead local recovery"
    labels = [p.label for p in doc.passages]
    assert labels[:3] == ["Activity title [en]", "Description [fr]", "Description [en]"]
    assert doc.metadata["languages"] == ["en", "fr", "es"]
    [budget, disbursement] = doc.funding
    assert (budget.kind, budget.year, budget.total, budget.currency) == ("budget", 2022, 100.0, "EUR")
    assert (disbursement.kind, disbursement.currency) == ("disbursement", "USD")
    assert disbursement.partner == "Red de Mujeres"
    assert disbursement.partner_type == "National NGO" and disbursement.year == 2023
    [record] = doc.indicators
    assert (record.measure, record.baseline, record.baseline_year) == ("qualitative", "No", 2021)
    [period] = record.periods
    assert (period.target, period.actual, period.comment) == ("Yes", 1250.5, "Ley aprobada en junio.")
    [note] = [p for p in doc.passages if p.section == Section.PROGRESS_NOTE]
    assert (note.year, note.year_end, note.label) == (2022, 2023, "Progress 2022: Law adopted [es]")
    [result] = [p for p in doc.passages if p.section == Section.OUTCOME and p.label != "Activity title [en]"]
    assert result.label == "Result (outcome) [en]"


def test_currency_unknown_when_file_does_not_say(tmp_path: Path) -> None:
    budget = '<budget><period-start iso-date="2022-01-01"/><value>5</value></budget>'
    text = HEAD + activity("XM-1", extra=budget).replace(' default-currency="EUR"', "")
    [doc] = read_file(write(tmp_path, text + "</iati-activities>"))
    assert [(r.kind, r.currency) for r in doc.funding] == [("budget", "")]


def test_truncated_file_keeps_what_was_read(tmp_path: Path) -> None:
    full = HEAD + activity("XM-1") + activity("XM-2") + activity("XM-3") + "</iati-activities>"
    cut = full[: full.index("XM-3") + 20]
    problems: list[UnreadableFile] = []
    docs = list(read_file(write(tmp_path, cut), warn=problems.append))
    assert [d.doc_id for d in docs] == ["XM-1", "XM-2"]
    [problem] = problems
    assert "XML breaks at line" in problem.reason and "after activity 2 (XM-2)" in problem.reason
    assert "2 activities read, the rest of the file lost" in problem.reason


def test_truncated_before_any_activity_is_refused(tmp_path: Path) -> None:
    cut = HEAD + activity("XM-1")[:60]
    with pytest.raises(UnreadableFile, match="broken XML at line"):
        list(read_file(write(tmp_path, cut)))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('<?xml version="1.0"?><rss><channel/></rss>', "not an IATI activity file: root element <rss>"),
        ("plain words, not markup", "not XML"),
        ("", "not XML"),
        (HEAD + "</iati-activities>", "without any iati-activity"),
    ],
)
def test_not_iati_is_refused_with_its_reason(tmp_path: Path, text: str, reason: str) -> None:
    with pytest.raises(UnreadableFile, match=reason):
        list(read_file(write(tmp_path, text)))


def test_malformed_activity_named_and_skipped(tmp_path: Path) -> None:
    text = HEAD + activity("XM-1") + activity("") + activity("XM-1") + activity("XM-4") + "</iati-activities>"
    problems: list[UnreadableFile] = []
    docs = list(read_file(write(tmp_path, text), warn=problems.append))
    assert [d.doc_id for d in docs] == ["XM-1", "XM-4"]
    reasons = [p.reason for p in problems]
    assert reasons == [
        "activity 2: no iati-identifier; skipped",
        "activity 3 (XM-1): repeats an earlier activity's identifier; skipped",
    ]


def test_file_of_bad_activities_only_is_refused(tmp_path: Path) -> None:
    problems: list[UnreadableFile] = []
    text = HEAD + activity("") + activity("") + "</iati-activities>"
    with pytest.raises(UnreadableFile, match="none of its 2 activities could be read"):
        list(read_file(write(tmp_path, text), warn=problems.append))
    assert [p.reason for p in problems] == ["activity 1: no iati-identifier; skipped"] + [
        "activity 2: no iati-identifier; skipped"
    ]


def test_activity_without_any_text_is_named(tmp_path: Path) -> None:
    empty = "<iati-activity><iati-identifier>XM-9</iati-identifier></iati-activity>"
    problems: list[UnreadableFile] = []
    path = write(tmp_path, HEAD + empty + activity("XM-1") + "</iati-activities>")
    docs = list(read_file(path, problems.append))
    assert [d.doc_id for d in docs] == ["XM-1"]
    assert [p.reason for p in problems] == ["activity 1: XM-9: no title, description or result text; skipped"]


def test_activities_are_cleared_as_they_stream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The parsed tree never holds the activities already read: it holds at most those parsed ahead in one
    16 KiB read of the parser (about 25 of these), however long the file."""
    text = HEAD + "".join(activity(f"XM-{i}") for i in range(500)) + "</iati-activities>"
    path = write(tmp_path, text)
    roots: list[Any] = []
    original = iati.ET.iterparse

    def spy(source: Any, events: Any = None) -> Any:
        for event, element in original(source, events=events):
            if not roots:
                roots.append(element)
            yield event, element

    monkeypatch.setattr(iati.ET, "iterparse", spy)
    held = []
    for doc in iati.read_iati(path):
        held.append(len(roots[0]))
        assert doc.passages
    assert len(held) == 500 and max(held) < 50 and held[-1] == 0


@pytest.mark.slow
def test_all_four_files_index_and_a_progress_note_is_found_by_its_year(tmp_path: Path) -> None:
    """The four shared files build one index; a UNDP period's progress narrative comes back for a search
    with its year, from its activity, as a progress note of that year; the activity's money is filtered by
    the agency's acronym and the country name."""
    from insight_search.config import Settings
    from insight_search.indexer import build_index
    from insight_search.search import open_searcher

    from .conftest import FakeEmbedder, service_for

    folder = need_shared("data", "iati")
    settings = Settings(index_dir=tmp_path / "index")
    embedder = FakeEmbedder()
    build_index([folder], settings, embedder)
    service = service_for(open_searcher(settings, embedder))
    query = "Four NGOs received the first patch of grants to upscale the household biogas units"
    found = service.run("search", {"q": query, "year": 2019, "section": "progress_note"})
    top = found.results[0]
    assert top.doc_id == "XM-DAC-41114-OUTPUT-00054347" and top.source.kind == "iati"
    assert top.section == "progress_note" and top.year == 2019
    money = service.run("funding", {"agency": "UNDP", "country": "Egypt", "year": 2019, "limit": 1000})
    assert money.records and {r.currency for r in money.records} == {"USD"}
    assert "XM-DAC-41114-OUTPUT-00054347" in {r.doc_id for r in money.records}
