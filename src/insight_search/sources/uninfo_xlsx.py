"""Reader for UN INFO Data Explorer exports of Joint Work Plans (``<region>/<theme>.xlsx``).

One sheet, one row per sub-output. Each row becomes one :class:`Document` whose passages are the results
chain (strategic priority, outcome, output, sub-output), the description, the marker narratives, the partners
and the yearly progress notes (``YYYY Narrative``: section ``progress_note``, label "YYYY Narrative", each
passage carrying its year). The row covers the years from its ``Start date`` to its ``End date`` (the
document's ``year`` .. ``year_end``, which its other passages carry); the framework levels of its chain
(strategic priority, outcome, output) cover the plan's period instead where the ``Plan name`` states one
("2017-2021 MSDF"). Every passage is a cell's text except the partners passage, which the reader composes
from the two partner cells ("Contributing partners: A; B. Implementation partners: C") and marks
``composed``. ``YYYY Required``, ``YYYY Available`` and ``YYYY Expenditure`` become
:class:`FundingRecord` values. The document's outcome is the row's outcome, its partners the contributing and
implementation partners.

Rows are streamed (openpyxl read-only mode), so memory stays bounded whatever the file size. The region is
the parent folder name and the theme the file stem, as in the exported data set.

Some exports carry UTF-8 text that was decoded as Mac Roman somewhere upstream ("At√© 2027" for
"Até 2027"); such cells are repaired when the repair is exact.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import re
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from insight_search.errors import InsightSearchError, UnreadableFile
from insight_search.models import Document, FundingRecord, Passage, Section, SourceRef
from insight_search.sources.common import (
    Warn,
    amount,
    clean_text,
    default_warn,
    extension,
    short_error,
    short_title,
    split_names,
    year_span,
)
from insight_search.text import clean_whitespace

logger = logging.getLogger(__name__)

KIND = "uninfo-xlsx"
EXTENSIONS = frozenset({".xlsx"})
ID_PREFIX = "uninfo-jwp"

# Results chain: (column, passage section, label).
_CHAIN = (
    ("Strategic priority", Section.STRATEGIC_PRIORITY, "Strategic priority"),
    ("Outcome", Section.OUTCOME, "Outcome"),
    ("Output", Section.OUTPUT, "Output"),
    ("Sub-Output", Section.SUB_OUTPUT, "Sub-output"),
    ("Description", Section.DESCRIPTION, "Description"),
)
_CODES = ("Strategic priority code", "Outcome code", "Output code", "Sub-Output code")
_MARKERS = ("Humanitarian marker", "Gender marker", "Human rights marker", "Sustaining peace marker")
_TEXT_COLUMNS = ("Sub-Output", "Description")  # at least one of them is required, with Country
_FUNDING_KINDS = {"required": "required", "available": "available", "expenditure": "expenditure"}
_YEAR_COLUMN = re.compile(r"^((?:19|20)\d\d)\s+(required|available|expenditure|narrative)$", re.IGNORECASE)
_CODE = re.compile(r"\d+(?:\.\d+)*")
_PLAN_PERIOD = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*(?:[-\u2013\u2014/]|to)\s*((?:19|20)\d\d)(?!\d)")
# The framework levels of the results chain: their passages cover the plan's period when its name says it.
_FRAMEWORK_SECTIONS = frozenset({Section.STRATEGIC_PRIORITY, Section.OUTCOME, Section.OUTPUT})
_SDG_TARGET_SPLIT = re.compile(r"[,;]\s*(?=\d{1,2}\.[0-9a-z]{1,2}\s)")
_MOJIBAKE = ("√", "‚Ä", "¬†")  # Mac Roman renderings of UTF-8 lead bytes

# Metadata copied as text when present: (column, metadata key).
_EXTRA_TEXT = (
    ("Sub-Output publication status", "publication_status"),
    ("Joint Programmes / Initiatives names", "joint_programmes"),
    ("Geography", "geography"),
    ("QCPR function", "qcpr_function"),
    ("LNOB groups targeted", "lnob_groups"),
    ("Humanitarian marker", "humanitarian_marker"),
    ("Human rights marker", "human_rights_marker"),
    ("Sustaining peace marker", "sustaining_peace_marker"),
)
_TOTALS = (
    ("Total required resources", "total_required"),
    ("Total available resources", "total_available"),
    ("Total expenditure resources", "total_expenditure"),
)


def sniff(path: Path, head: bytes) -> bool:
    """Any ``.xlsx`` file: a workbook of another shape is refused by the reader with its reason."""
    return extension(path) in EXTENSIONS


def read(path: Path, warn: Warn, *, root: Path | None = None) -> Iterator[Document]:
    return read_uninfo_xlsx(path, warn)


def read_uninfo_xlsx(path: Path, warn: Warn | None = None) -> Iterator[Document]:
    """Documents of one UN INFO export, one per sub-output row, in sheet order."""
    report = warn or default_warn
    region = path.parent.name or None
    theme = path.stem or None
    workbook = _open_workbook(path)
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True) if workbook.worksheets else iter(())
        header_row, header = _find_header(rows)
        if header is None:
            raise UnreadableFile(path, "no header row (the sheet is empty)")
        columns = _columns(path, header)
        for row_number, values in enumerate(rows, start=header_row + 1):
            if not any(_present(v) for v in values):
                continue
            try:
                doc = row_document(values, columns, path=path, row=row_number, region=region, theme=theme)
            except (ValueError, TypeError, ArithmeticError) as exc:
                report(UnreadableFile(path, f"row {row_number}: {type(exc).__name__}: {exc}"))
                continue
            if doc is None:
                report(UnreadableFile(path, f"row {row_number}: no sub-output or description text"))
                continue
            yield doc
    except InsightSearchError:
        raise
    except Exception as exc:  # openpyxl raises many kinds of error on a damaged sheet
        raise UnreadableFile(path, f"corrupt xlsx: {type(exc).__name__}: {short_error(exc)}") from exc
    finally:
        workbook.close()


def _open_workbook(path: Path) -> Any:
    import openpyxl  # a few hundred ms to import: only when an xlsx is read

    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UnreadableFile(path, f"cannot read file: {exc.strerror or exc}") from exc
    if size == 0:
        raise UnreadableFile(path, "empty file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Workbook contains no default style" and the like
            return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except zipfile.BadZipFile as exc:
        raise UnreadableFile(path, f"not a valid xlsx (zip) file: {short_error(exc)}") from exc
    except OSError as exc:
        raise UnreadableFile(path, f"cannot read file: {exc.strerror or exc}") from exc
    except Exception as exc:  # openpyxl/XML/zlib errors on a damaged or foreign workbook
        raise UnreadableFile(path, f"corrupt xlsx: {type(exc).__name__}: {short_error(exc)}") from exc


def _find_header(rows: Iterator[tuple[Any, ...]]) -> tuple[int, tuple[Any, ...] | None]:
    for number, values in enumerate(rows, start=1):
        if any(_present(v) for v in values):
            return number, values
    return 0, None


class _Columns:
    """Column positions by header name, plus the year columns."""

    def __init__(self, index: dict[str, int], years: dict[tuple[int, str], int]) -> None:
        self.index = index
        self.years = years  # (year, "required" | "available" | "expenditure" | "narrative") -> position


def _columns(path: Path, header: Sequence[Any]) -> _Columns:
    index: dict[str, int] = {}
    years: dict[tuple[int, str], int] = {}
    for position, name in enumerate(header):
        if not isinstance(name, str) or not name.strip():
            continue
        name = clean_whitespace(name)
        index.setdefault(name.casefold(), position)
        match = _YEAR_COLUMN.match(name)
        if match:
            years.setdefault((int(match.group(1)), match.group(2).lower()), position)
    missing = []
    if "country" not in index:
        missing.append("Country")
    if not any(c.casefold() in index for c in _TEXT_COLUMNS):
        missing.append(" or ".join(_TEXT_COLUMNS))
    if missing:
        raise UnreadableFile(path, f"not a UN INFO export: missing column(s) {', '.join(missing)}")
    return _Columns(index, years)


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 read as Mac Roman ("Gesti√≥n" -> "Gestión") when the round trip is exact."""
    if not any(mark in text for mark in _MOJIBAKE):
        return text
    try:
        return text.encode("mac_roman").decode("utf-8")
    except UnicodeError:
        return text


def cell_text(value: Any) -> str | None:
    """A cell as clean text; None for empty cells and placeholders such as "-", "." or "N/A"."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, dt.datetime | dt.date):
        return _iso_date(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    return clean_text(repair_mojibake(str(value)))


def _iso_date(value: Any) -> str | None:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return cell_text(value)


def join_codes(codes: Sequence[Any]) -> str | None:
    """The full code of a sub-output from its per-level codes: (5, 1, 3, 1) -> "5.1.3.1".

    Exports mix styles: a level may hold its own number (3) or the full dotted code ("1.2.2"). A dotted code
    that extends the code so far, or starts with the same top-level number, replaces it; a bare number is
    appended. Best effort: the raw codes are kept in the metadata too.
    """
    full: list[str] = []
    for value in codes:
        text = cell_text(value)
        match = _CODE.search(text) if text else None
        if not match:
            continue
        parts = match.group(0).split(".")
        if len(parts) > 1 and (not full or parts[0] == full[0]):
            full = parts
        else:
            full.extend(parts)
    return ".".join(full) if full else None


def row_document(
    values: Sequence[Any], columns: _Columns, *, path: Path, row: int, region: str | None, theme: str | None
) -> Document | None:
    """One sub-output row as a Document; None when it has no sub-output or description text."""

    def get(name: str) -> Any:
        position = columns.index.get(name.casefold())
        return values[position] if position is not None and position < len(values) else None

    texts: dict[str, str | None] = {}

    def text(name: str) -> str | None:
        if name not in texts:
            texts[name] = cell_text(get(name))
        return texts[name]

    if not any(text(name) for name in _TEXT_COLUMNS):
        return None
    country = text("Country")
    sub_output = text("Sub-Output")
    code = join_codes([get(name) for name in _CODES])
    doc_id = _doc_id(get("ID"), country, code, sub_output, text("Description"))
    source = SourceRef(path=str(path), kind=KIND, row=row)

    plan_year, plan_end = plan_period(text("Plan name"))
    passages = [
        Passage(text=t, section=s, label=label)
        if s not in _FRAMEWORK_SECTIONS or plan_year is None
        else Passage(text=t, section=s, year=plan_year, year_end=plan_end, label=label)
        for column, s, label in _CHAIN
        if (t := text(column))
    ]
    for marker in _MARKERS:
        narrative = text(f"{marker} narrative")
        if narrative:
            passages.append(Passage(text=narrative, section=Section.MARKER, label=f"{marker} narrative"))
    contributing = split_names(text("Contributing partners"))
    implementing = split_names(text("Implementation partners"))
    partner_text = ". ".join(
        f"{label}: {'; '.join(names)}"
        for label, names in (
            ("Contributing partners", contributing),
            ("Implementation partners", implementing),
        )
        if names
    )
    if partner_text:
        # Written here from two cells: searchable, never quoted as the export's words.
        passages.append(Passage(text=partner_text, section=Section.PARTNERS, label="Partners", composed=True))

    agencies = tuple(
        dict.fromkeys(split_names(text("Agency abbreviations"), ";,") + split_names(text("Agencies"), ";"))
    )
    funding: list[FundingRecord] = []
    for (year, kind), position in sorted(columns.years.items()):
        value = values[position] if position < len(values) else None
        if kind == "narrative":
            note = cell_text(value)
            if note:  # a yearly progress note; the export's own name is kept as the label
                passages.append(Passage(note, Section.PROGRESS_NOTE, year=year, label=f"{year} Narrative"))
            continue
        money = amount(value)
        if money is not None:
            funding.append(
                FundingRecord(
                    kind=_FUNDING_KINDS[kind],
                    year=year,
                    total=money,
                    doc_id=doc_id,
                    source=source,
                    country=country,
                    agencies=agencies,
                )
            )

    metadata: dict[str, Any] = {
        "plan": text("Plan name"),
        "strategic_priority": text("Strategic priority"),
        "output": text("Output"),
        "sub_output_code": code,
        "codes": [c for c in (cell_text(get(name)) for name in _CODES) if c],
        "sub_output_id": cell_text(get("ID")),
        "sdg_goals": list(split_names(text("SDG Goals"))),
        "sdg_targets": [t.strip() for t in _SDG_TARGET_SPLIT.split(text("SDG Targets") or "") if t.strip()],
        "gender_marker": text("Gender marker"),
        "status": text("Status"),
        "start_date": _iso_date(get("Start date")),
        "end_date": _iso_date(get("End date")),
        "row": row,
    }
    for column, key in _EXTRA_TEXT:
        metadata[key] = text(column)
    for column, key in _TOTALS:
        metadata[key] = amount(get(column))

    title_text = sub_output or text("Description") or ""
    first_year, last_year = year_span(get("Start date"), get("End date"))
    return Document(
        doc_id=doc_id,
        title=f"{short_title(title_text)} ({country})" if country else short_title(title_text),
        source=source,
        passages=tuple(passages),
        country=country,
        region=region,
        agencies=agencies,
        year=first_year,
        year_end=last_year,
        outcome=text("Outcome"),
        themes=(theme,) if theme else (),
        partners=split_names([*contributing, *implementing]),
        metadata=metadata,
        funding=tuple(funding),
    )


def plan_period(name: str | None) -> tuple[int | None, int | None]:
    """The period a plan's name states ("UNDAF 2018 - 2022" -> (2018, 2022)); (None, None) when it states
    none (most names are just "United Nations Sustainable Development Cooperation Framework")."""
    match = _PLAN_PERIOD.search(name or "")
    if not match:
        return None, None
    return year_span(int(match.group(1)), int(match.group(2)))


def _doc_id(raw_id: Any, country: str | None, code: str | None, *texts: str | None) -> str:
    row_id = cell_text(raw_id)
    if row_id:
        return f"{ID_PREFIX}:{row_id}"
    key = "\x1f".join(t or "" for t in (country, code, *texts))
    return f"{ID_PREFIX}:h{hashlib.sha1(key.encode('utf-8')).hexdigest()[:16]}"
