"""UN INFO Data Explorer export reader: tiny workbooks built here, bad files, and the real exports."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import random
import re
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from insight_search.errors import InsightSearchError, UnreadableFile
from insight_search.indexer import collect_corpus
from insight_search.models import Section
from insight_search.sources.uninfo_xlsx import cell_text, join_codes, read_uninfo_xlsx, repair_mojibake

SHARED = Path(__file__).parents[1] / ".." / "shared"
JWP = SHARED / "data" / "uninfo-jwp"

HEADER = [
    "Country",
    "Plan name",
    "Strategic priority code",
    "Strategic priority",
    "Outcome code",
    "Outcome",
    "Output code",
    "Output",
    "Sub-Output code",
    "Sub-Output",
    "ID",
    "Description",
    "Start date",
    "End date",
    "Status",
    "Agency abbreviations",
    "Agencies",
    "Contributing partners",
    "Implementation partners",
    "SDG Targets",
    "SDG Goals",
    "Gender marker",
    "Gender marker narrative",
    "Human rights marker narrative",
    "2021 Required",
    "2021 Available",
    "2021 Expenditure",
    "2021 Narrative",
    "2022 Required",
    "2022 Available",
    "2022 Expenditure",
    "2022 Narrative",
]


def row(**values: Any) -> list[Any]:
    names = {name.replace(" ", "_").replace("-", "_").lower(): name for name in HEADER}
    by_name = {names[key]: value for key, value in values.items()}
    return [by_name.get(name) for name in HEADER]


FULL_ROW = row(
    country="Mexico",
    plan_name="UNSDCF 2020-2025",
    strategic_priority_code=5,
    strategic_priority="5. Igualdad",
    outcome_code=1,
    outcome="5.1 By 2025 women live free of violence",
    output_code=3,
    output="5.1.3 Shelters strengthened",
    sub_output_code=1,
    sub_output="Support   the national\u00a0network of shelters",
    id=134839,
    description="Training for shelter staff.",
    start_date=dt.datetime(2021, 1, 1),
    end_date=dt.datetime(2022, 12, 31),
    status="Implementation",
    agency_abbreviations="UN Women; UNDP, UNFPA",
    agencies="UN Women; United Nations Development Programme; United Nations Educational, Scientific and "
    "Cultural Organisation",
    contributing_partners="European Union; Government of Spain",
    implementation_partners="INMUJERES; -",
    sdg_targets="5.1 End all forms of discrimination.,"
    "5.2 Eliminate all forms of violence, including trafficking.",
    sdg_goals="5 Gender Equality; 16 Peace",
    gender_marker="3 - principal objective",
    gender_marker_narrative="Gender equality is the principal objective.",
    human_rights_marker_narrative="-",
    **{
        "2021_required": 1000,
        "2021_available": 800.5,
        "2021_expenditure": "-",
        "2021_narrative": "In 2021 the network opened 3 shelters.",
        "2022_required": None,
        "2022_available": "1,200",
        "2022_expenditure": 0,
        "2022_narrative": " - ",
    },
)


def write_export(path: Path, rows: list[list[Any]], header: list[str] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(header or HEADER)
    for values in rows:
        sheet.append(values)
    workbook.save(path)
    return path


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(HEADER)
    for values in rows:
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_row_becomes_document(tmp_path: Path) -> None:
    path = write_export(tmp_path / "latin-america-caribbean" / "gender.xlsx", [FULL_ROW])
    [doc] = list(read_uninfo_xlsx(path))
    assert doc.doc_id == "uninfo-jwp:134839"
    assert doc.country == "Mexico"
    assert doc.region == "latin-america-caribbean"
    assert doc.themes == ("gender",)
    assert (doc.year, doc.year_end) == (2021, 2022)  # the row's start and end dates
    assert doc.title == "Support the national network of shelters (Mexico)"
    assert doc.source.kind == "uninfo-xlsx" and doc.source.row == 2 and doc.source.path == str(path)
    sections = [p.section for p in doc.passages]
    assert sections == [
        "strategic_priority",
        "outcome",
        "output",
        "sub_output",
        "description",
        Section.MARKER,
        Section.PARTNERS,
        Section.PROGRESS_NOTE,
    ]
    marker = doc.passages[5]
    assert marker.label == "Gender marker narrative"
    partners = doc.passages[6].text
    assert "European Union" in partners and "INMUJERES" in partners and "-" not in partners
    [narrative] = [p for p in doc.passages if p.section == Section.PROGRESS_NOTE]
    assert narrative.year == 2021 and narrative.year_end is None and narrative.label == "2021 Narrative"
    # the framework levels cover the plan's period ("UNSDCF 2020-2025"), the sub-output its own dates
    assert [(p.year, p.year_end) for p in doc.passages[:3]] == [(2020, 2025)] * 3
    assert all(p.year is None for p in doc.passages[3:7])
    assert doc.agencies == (
        "UN Women",
        "UNDP",
        "UNFPA",
        "United Nations Development Programme",
        "United Nations Educational, Scientific and Cultural Organisation",
    )
    meta = doc.metadata
    assert meta["sub_output_code"] == "5.1.3.1"
    assert meta["sub_output_id"] == "134839"
    assert doc.partners == ("European Union", "Government of Spain", "INMUJERES")
    assert doc.outcome == "5.1 By 2025 women live free of violence"
    assert meta["sdg_goals"] == ["5 Gender Equality", "16 Peace"]
    assert meta["sdg_targets"] == [
        "5.1 End all forms of discrimination.",
        "5.2 Eliminate all forms of violence, including trafficking.",
    ]
    assert meta["start_date"] == "2021-01-01" and meta["end_date"] == "2022-12-31"
    assert meta["row"] == 2
    assert not {"themes", "outcome", "contributing_partners", "implementation_partners"} & set(meta)
    assert meta["gender_marker"] == "3 - principal objective"
    funding = {(f.year, f.kind): f.total for f in doc.funding}
    assert funding == {
        (2021, "required"): 1000.0,
        (2021, "available"): 800.5,
        (2022, "available"): 1200.0,
        (2022, "expenditure"): 0.0,
    }
    assert all(f.doc_id == doc.doc_id and f.country == "Mexico" and f.partner is None for f in doc.funding)
    assert all(f.source == doc.source for f in doc.funding)


def test_repeated_sub_output_is_one_document_with_every_theme_and_partner(tmp_path: Path) -> None:
    """A sub-output exported in two theme files merges into one document (typed themes and partners)."""
    other = list(FULL_ROW)
    other[HEADER.index("Contributing partners")] = "Government of Spain; UNICEF National Committee"
    write_export(tmp_path / "americas" / "gender.xlsx", [FULL_ROW])
    write_export(tmp_path / "americas" / "youth.xlsx", [other])
    corpus = collect_corpus([tmp_path])
    [doc] = corpus.documents.values()
    assert doc.themes == ("gender", "youth")
    assert doc.partners == ("European Union", "Government of Spain", "INMUJERES", "UNICEF National Committee")
    assert doc.outcome == "5.1 By 2025 women live free of violence" and doc.region == "americas"


def test_row_numbers_follow_the_sheet_and_empty_rows_are_skipped(tmp_path: Path) -> None:
    second = list(FULL_ROW)
    second[HEADER.index("ID")] = 7
    blank: list[Any] = [None] * len(HEADER)
    dashes: list[Any] = ["  "] * len(HEADER)
    path = write_export(tmp_path / "africa" / "work.xlsx", [FULL_ROW, blank, dashes, second])
    docs = list(read_uninfo_xlsx(path))
    assert [(d.doc_id, d.source.row) for d in docs] == [("uninfo-jwp:134839", 2), ("uninfo-jwp:7", 5)]


def test_missing_id_gives_a_stable_hash(tmp_path: Path) -> None:
    values = list(FULL_ROW)
    values[HEADER.index("ID")] = None
    path = write_export(tmp_path / "x" / "gender.xlsx", [values])
    first = next(read_uninfo_xlsx(path)).doc_id
    again = next(read_uninfo_xlsx(path)).doc_id
    assert first == again and first.startswith("uninfo-jwp:h") and len(first) > len("uninfo-jwp:h") + 8


def test_row_without_text_is_reported(tmp_path: Path) -> None:
    path = write_export(tmp_path / "x" / "gender.xlsx", [row(country="Chile", id=1), FULL_ROW])
    problems: list[UnreadableFile] = []
    docs = list(read_uninfo_xlsx(path, problems.append))
    assert [d.doc_id for d in docs] == ["uninfo-jwp:134839"]
    assert len(problems) == 1 and "row 2" in problems[0].reason


def test_optional_columns_may_be_missing(tmp_path: Path) -> None:
    path = write_export(
        tmp_path / "x" / "y.xlsx", [["Peru", "A sub-output"]], header=["Country", "Sub-Output"]
    )
    [doc] = list(read_uninfo_xlsx(path))
    assert doc.country == "Peru" and [p.text for p in doc.passages] == ["A sub-output"]
    assert doc.funding == () and doc.agencies == ()


def test_missing_required_columns(tmp_path: Path) -> None:
    path = write_export(tmp_path / "x" / "y.xlsx", [["a", "b"]], header=["Outcome", "Output"])
    with pytest.raises(UnreadableFile) as info:
        list(read_uninfo_xlsx(path))
    assert "Country" in info.value.reason and "Sub-Output or Description" in info.value.reason


def test_mojibake_is_repaired() -> None:
    assert repair_mojibake("Gesti√≥n p√∫blica") == "Gestión pública"
    assert repair_mojibake("D‚Äôici 2027") == "D\u2019ici 2027"
    assert repair_mojibake("Até 2027 √ ok") == "Até 2027 √ ok"  # not an exact round trip: left alone


def test_cell_text_placeholders() -> None:
    assert cell_text("-") is None and cell_text(" . ") is None and cell_text("N/A") is None
    assert cell_text(None) is None and cell_text("  ") is None
    assert (
        cell_text(3.0) == "3"
        and cell_text(2.1) == "2.1"
        and cell_text(dt.datetime(2020, 5, 1)) == "2020-05-01"
    )


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        ((5, 1, 3, 1), "5.1.3.1"),
        ((1, 1, "1.1.2", 4), "1.1.2.4"),
        ((1, 1, 1, "1.1.1.19"), "1.1.1.19"),
        ((2, 2.1, "2.1.3", "1.1.1"), "2.1.3.1.1.1"),
        (("SP 3", 3, "3.1.4", 11), "3.1.4.11"),
        (("-", "-", None, None), None),
    ],
)
def test_join_codes(codes: tuple[Any, ...], expected: str | None) -> None:
    assert join_codes(codes) == expected


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    path.write_bytes(b"")
    with pytest.raises(UnreadableFile, match="empty file"):
        list(read_uninfo_xlsx(path))


def test_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "noise.xlsx"
    path.write_bytes(random.Random(1).randbytes(5000))
    with pytest.raises(UnreadableFile, match="not a valid xlsx"):
        list(read_uninfo_xlsx(path))


def test_truncated_xlsx(tmp_path: Path) -> None:
    data = xlsx_bytes([FULL_ROW] * 50)
    path = tmp_path / "cut.xlsx"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(UnreadableFile):
        list(read_uninfo_xlsx(path))


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "other.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(UnreadableFile, match="corrupt xlsx"):
        list(read_uninfo_xlsx(path))


def test_sheet_without_rows(tmp_path: Path) -> None:
    path = tmp_path / "blank.xlsx"
    openpyxl.Workbook().save(path)
    with pytest.raises(UnreadableFile, match="no header row"):
        list(read_uninfo_xlsx(path))


_VALID = xlsx_bytes([FULL_ROW, FULL_ROW])


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=3000))
def test_random_bytes_only_raise_domain_errors(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.xlsx"
    path.write_bytes(data)
    with contextlib.suppress(InsightSearchError):
        list(read_uninfo_xlsx(path, lambda problem: None))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    edits=st.lists(st.tuples(st.integers(0, len(_VALID) - 1), st.integers(0, 255)), min_size=1, max_size=8)
)
def test_damaged_workbook_only_raises_domain_errors(tmp_path: Path, edits: list[tuple[int, int]]) -> None:
    data = bytearray(_VALID)
    for position, value in edits:
        data[position] = value
    path = tmp_path / "damaged.xlsx"
    path.write_bytes(bytes(data))
    with contextlib.suppress(InsightSearchError):
        list(read_uninfo_xlsx(path, lambda problem: None))


# --- the real exports (../shared beside the repository) --------------------------------------------------


def _real(region: str, theme: str) -> Path:
    path = JWP / region / f"{theme}.xlsx"
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    return path


def test_real_yearly_narratives_are_progress_notes() -> None:
    """Every ``YYYY Narrative`` passage of the five gender exports is a progress note, its label kept."""
    files = sorted(JWP.glob("*/gender.xlsx"))
    if len(files) != 5:
        pytest.skip(f"shared data not available: {JWP}/*/gender.xlsx")
    labelled = [
        p
        for f in files
        for d in read_uninfo_xlsx(f, lambda problem: None)
        for p in d.passages
        if p.label and re.fullmatch(r"(19|20)\d\d Narrative", p.label)
    ]
    assert len(labelled) > 1000
    assert {p.section for p in labelled} == {Section.PROGRESS_NOTE}
    assert all(p.label == f"{p.year} Narrative" for p in labelled)


def _scan(path: Path) -> tuple[list[str], list[tuple[Any, ...]]]:
    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    finally:
        workbook.close()
    return [str(h) for h in rows[0]], rows[1:]


def test_real_gender_export() -> None:
    path = _real("latin-america-caribbean", "gender")
    problems: list[UnreadableFile] = []
    docs = list(read_uninfo_xlsx(path, problems.append))
    header, rows = _scan(path)
    assert problems == []
    assert len(docs) == len(rows)
    assert all(d.country and d.themes == ("gender",) and d.region == "latin-america-caribbean" for d in docs)
    assert all(p.year is not None for d in docs for p in d.passages if p.section == Section.PROGRESS_NOTE)

    # Every non-empty 2022 Narrative cell is exactly one 2022 narrative passage.
    column = header.index("2022 Narrative")
    expected = sum(1 for r in rows if isinstance(r[column], str) and r[column].strip() not in ("", "-"))
    found = sum(1 for d in docs for p in d.passages if p.section == Section.PROGRESS_NOTE and p.year == 2022)
    assert expected > 20 and found == expected

    # Funding records equal the cells they came from; doc rows point back at the right sheet row.
    id_column = header.index("ID")
    for doc in docs:
        values = rows[doc.source.row - 2]  # type: ignore[operator]
        assert doc.doc_id == f"uninfo-jwp:{values[id_column]}"
        for record in doc.funding:
            cell = values[header.index(f"{record.year} {record.kind.capitalize()}")]
            assert record.total == pytest.approx(float(cell))
    cells = sum(
        1
        for r in rows
        for i, name in enumerate(header)
        if name.endswith((" Required", " Available", " Expenditure")) and isinstance(r[i], int | float)
    )
    assert sum(len(d.funding) for d in docs) == cells
    assert sum(1 for d in docs if "UN Women" in d.agencies) > 100


def test_real_export_mojibake_is_repaired() -> None:
    path = _real("africa", "crime")
    docs = list(read_uninfo_xlsx(path))
    text = " ".join(p.text for d in docs for p in d.passages)
    assert "√" not in text and "Gestión" in text  # Mac Roman mojibake repaired


@pytest.mark.slow
def test_all_real_exports_read_without_problems() -> None:
    files = sorted(JWP.glob("*/*.xlsx"))
    if len(files) != 55:
        pytest.skip(f"shared data not available: {JWP}")
    problems: list[UnreadableFile] = []
    count = sum(1 for path in files for _ in read_uninfo_xlsx(path, problems.append))
    assert problems == [] and count == 17319
