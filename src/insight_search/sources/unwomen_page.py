"""Reader for the text of a UN Women Transparency Portal outcome page (the format of ../shared/seeds).

A page holds, in order: the outcome summary; indicator-type definitions (template text repeated once per
indicator); "Lorem Ipsum" placeholders; a funding-partner table; progress notes, each introduced by the
outcome statement again. Template noise is removed by rule, not by listing sentences:

* any paragraph or sentence that the page repeats is indexed once (its first copy);
* placeholder text (lorem ipsum) is dropped wherever it appears;
* a label glued to the next word by the page template ("ComplementaryComplementary indicators") is cut off
  in the indicator part, where the template glues them; elsewhere a line keeps every word ("WhatsApp",
  "LinkedIn"), and a glued label only helps to recognise a part heading;
* short heading-like lines only mark sections.

Each progress note gets its year: a statement of the outcome's status for a year ("has achieved substantial
progress in 2022", "was not achieved in 2023") wins; a heading "progress note for the year 2021" comes next;
otherwise the year is inferred from the neighbouring notes (notes are in year order). The funding table
becomes one passage per record, composed from its fields (``Passage.composed``). Country, office,
region and themes come from a sidecar ``<file>.meta.json`` when present ({"country": ..., "office": ...,
"region": ..., "themes": [...], any other metadata}); else the country comes from the text when it clearly
names one. The document's outcome is the outcome statement, its partners the funding partners. A sidecar's
``iati_identifier`` stays in ``metadata``, the key the IATI activity of that id has (sources/iati.py).

A ``.txt`` file is this kind when it has an "Outcome summary" line near the top (in the head that ``sniff``
is given) and a progress-note part (:func:`looks_like_outcome_page`).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from insight_search.errors import UnreadableFile
from insight_search.models import Document, FundingRecord, Passage, Section, SourceRef
from insight_search.sources.common import (
    Warn,
    clean_text,
    distinct,
    extension,
    read_bytes,
    read_sidecar,
    read_text_file,
    split_names,
)
from insight_search.sources.countries import detect_country
from insight_search.text import clean_whitespace, fold, sentence_spans

logger = logging.getLogger(__name__)

KIND = "unwomen-page"
EXTENSIONS = frozenset({".txt"})

# Headings of the portal's page template, folded. They only mark where a part starts.
_H_SUMMARY = "outcome summary"
_H_RESULTS = "outcome and output results"
_H_FUNDING = "our funding partners contributions"
_H_INSIGHTS = "outcome insights and achievements"
_H_NOTE = re.compile(r"^outcome progress note(?: for the year)?(?: (?P<year>(?:19|20)\d\d))?$")
_H_END = ("strategic plan contributions",)

_PLACEHOLDER = re.compile(r"lorem ipsum|dolor sit amet", re.IGNORECASE)
# A one-word label glued to the start of the next word: "CommonComplementary", "ComplementaryOutcome".
# The page template glues these in its indicator part only; elsewhere the same shape is a word ("WhatsApp").
_GLUED_LABEL = re.compile(r"^(?P<label>[A-Z][a-z]{2,})(?=[A-Z][a-z])")
_MONEY = r"\$\s?(?P<{name}>[\d,]+(?:\.\d+)?)"
_AMOUNT_YEAR = re.compile(
    r"^(?:(?P<partner>.+?)\s*\|\s*)?" + _MONEY.format(name="amount") + r"\s+(?P<year>(?:19|20)\d\d)$"
)
_FIELD = re.compile(
    r"^(?P<key>Total contribution|Development|Humanitarian)\s*:\s*" + _MONEY.format(name="value")
)
_STATUS = re.compile(
    r"\b(?:this|the)\s+outcome\s+(?:has\s+|have\s+|was\s+|is\s+|had\s+)?(?:been\s+)?"
    r"(?P<status>(?:not\s+|partially\s+|fully\s+)?achieved(?:\s+(?:substantial|significant|some|limited|"
    r"good|little|no)\s+progress)?|(?:made|shown|seen)\s+(?:substantial|significant|some|limited|good|little|no)"
    r"\s+progress|on\s+track|off\s+track)\s+(?:in|for|during)\s+(?P<year>(?:19|20)\d\d)",
    re.IGNORECASE,
)
_MIN_REPEAT_WORDS = 6  # sentences at least this long are indexed once even when the page repeats them


@dataclass
class _Page:
    outcome: str | None = None
    indicators: list[str] = field(default_factory=list)
    funding_lines: list[str] = field(default_factory=list)
    note_lines: list[tuple[str, int | None]] = field(default_factory=list)  # (line, heading year)


def _summary_line(text: str) -> bool:
    return any(len(line) < 80 and fold(line).strip() == _H_SUMMARY for line in text.split("\n", 400)[:400])


def looks_like_outcome_page(text: str) -> bool:
    """A UN Women Transparency Portal outcome page: an "Outcome summary" line and a progress-note part."""
    if not _summary_line(text):
        return False
    folded = fold(text)
    return _H_INSIGHTS in folded or "outcome progress note" in folded


def sniff(path: Path, head: bytes) -> bool:
    if extension(path) not in EXTENSIONS or not _summary_line(head.decode("utf-8", "replace")):
        return False
    return looks_like_outcome_page(read_bytes(path).decode("utf-8", "replace"))


def read(path: Path, warn: Warn, *, root: Path | None = None) -> Iterator[Document]:
    return read_unwomen_page(path)


def read_unwomen_page(path: Path) -> Iterator[Document]:
    text = read_text_file(path)
    yield parse_unwomen_page(text, path=path, sidecar=read_sidecar(path))


def _unglue(line: str) -> str:
    """Cut a template label glued to the next word ("ComplementaryComplementary indicators ...").

    Only for lines of the indicator part (and to recognise a heading): on any other line the same shape is
    a word of the text ("WhatsApp groups", "LinkedIn", "YouTube")."""
    m = _GLUED_LABEL.match(line)
    return line[m.end() :] if m else line


_HEADINGS = {_H_SUMMARY: "summary", _H_RESULTS: "indicators", _H_FUNDING: "funding", _H_INSIGHTS: "notes"}


def _heading_key(line: str) -> str | None:
    """The folded part heading on ``line`` (also with a template label glued before it), else None."""
    for candidate in dict.fromkeys((line, _unglue(line))):
        key = fold(candidate).rstrip(":")
        if key in _HEADINGS or key in _H_END or _H_NOTE.match(key):
            return key
    return None


def _is_heading(line: str) -> bool:
    """Short lines without sentence punctuation are template headings or widgets, never indexed."""
    return len(line.split()) <= 5 and not re.search(r"[.!?:$|]", line)


def _split_parts(lines: list[str]) -> _Page:
    page = _Page()
    part = "start"
    note_year: int | None = None
    for raw in lines:
        line = clean_whitespace(raw)
        if not line:
            continue
        key = _heading_key(line)
        if key is not None:
            m = _H_NOTE.match(key)
            if m:
                note_year = int(m.group("year")) if m.group("year") else None
            part = "end" if key in _H_END else "notes" if m else _HEADINGS[key]
            continue
        if part == "indicators":
            line = _unglue(line)
        if _PLACEHOLDER.search(line):
            continue
        if part == "funding":
            page.funding_lines.append(line)
        elif _is_heading(line):
            continue
        elif part == "summary" and page.outcome is None:
            page.outcome = line
        elif part == "indicators":
            page.indicators.append(line)
        elif part == "notes":
            page.note_lines.append((line, note_year))
    return page


def _parse_money(value: str) -> float:
    return float(value.replace(",", ""))


def _parse_funding(
    lines: list[str], doc_id: str, source: SourceRef, country: str | None
) -> list[FundingRecord]:
    records: list[FundingRecord] = []
    partner: str | None = None
    current: dict[str, Any] | None = None

    def flush() -> None:
        nonlocal current
        if current is not None:
            records.append(
                FundingRecord(
                    kind="contribution",
                    year=current["year"],
                    total=current.get("total", current["amount"]),
                    development=current.get("development"),
                    humanitarian=current.get("humanitarian"),
                    partner=current["partner"],
                    partner_type=current.get("partner_type"),
                    doc_id=doc_id,
                    source=source,
                    country=country,
                )
            )
        current = None

    for line in lines:
        m = _AMOUNT_YEAR.match(line)
        if m:
            flush()
            if m.group("partner"):
                partner = m.group("partner").strip()
            current = {
                "partner": partner,
                "amount": _parse_money(m.group("amount")),
                "year": int(m.group("year")),
            }
            continue
        if current is None:
            continue
        f = _FIELD.match(line)
        if f:
            name = {"Total contribution": "total"}.get(f.group("key"), f.group("key").lower())
            current[name] = _parse_money(f.group("value"))
        elif line == "|":
            flush()
        elif partner and line.startswith(partner):
            rest = line[len(partner) :].strip(" -–:()")
            if rest:
                current["partner_type"] = rest
        elif partner is None and "partner" not in current:
            current["partner"] = line
    flush()
    return records


def _funding_passage(r: FundingRecord) -> str:
    who = r.partner or "An unnamed partner"
    if r.partner_type:
        who += f" ({r.partner_type})"
    parts = [f"{who} contributed ${r.total:,.0f} in {r.year} to this outcome."]
    shares = []
    for label, value in (("Development", r.development), ("Humanitarian", r.humanitarian)):
        if value is not None:
            shares.append(f"{label}: ${value:,.0f}")
    if shares:
        parts.append("; ".join(shares) + ".")
    return " ".join(parts)


def _split_notes(lines: list[tuple[str, int | None]], outcome: str | None) -> list[tuple[str, int | None]]:
    """Progress notes are separated by the outcome statement repeated before each one."""
    notes: list[tuple[str, int | None]] = []
    current: list[str] = []
    heading_year: int | None = None
    outcome_key = fold(outcome) if outcome else None
    for line, year in lines:
        if outcome_key is not None and fold(line) == outcome_key:
            if current:
                notes.append((" ".join(current), heading_year))
            current, heading_year = [], year
            continue
        if not current:
            heading_year = year
        current.append(line)
    if current:
        notes.append((" ".join(current), heading_year))
    return notes


def _note_years(notes: list[str], heading_years: list[int | None]) -> list[tuple[int | None, str | None]]:
    years: list[int | None] = []
    statuses: list[str | None] = []
    for note, heading_year in zip(notes, heading_years, strict=True):
        m = _STATUS.search(note[:600])
        if m:
            years.append(int(m.group("year")))
            statuses.append(clean_whitespace(m.group("status")).lower())
        else:
            years.append(heading_year)
            statuses.append(None)
    # Notes are in year order: fill the gaps from known neighbours, both ways, until nothing changes.
    changed = True
    while changed:
        changed = False
        for i, y in enumerate(years):
            if y is not None:
                continue
            if i + 1 < len(years) and years[i + 1] is not None:
                years[i] = years[i + 1] - 1  # type: ignore[operator]
                changed = True
            elif i > 0 and years[i - 1] is not None:
                years[i] = years[i - 1] + 1  # type: ignore[operator]
                changed = True
    return list(zip(years, statuses, strict=True))


class _Dedup:
    """Keeps the first copy of every paragraph and of every long sentence the page repeats."""

    def __init__(self) -> None:
        self.seen_paragraphs: set[str] = set()
        self.seen_sentences: set[str] = set()

    def __call__(self, text: str) -> str:
        key = fold(text)
        if key in self.seen_paragraphs:
            return ""
        self.seen_paragraphs.add(key)
        kept: list[str] = []
        for s, e in sentence_spans(text):
            sentence = text[s:e]
            skey = fold(sentence)
            if len(sentence.split()) >= _MIN_REPEAT_WORDS:
                if skey in self.seen_sentences:
                    continue
                self.seen_sentences.add(skey)
            kept.append(sentence)
        return " ".join(kept)


def parse_unwomen_page(text: str, *, path: Path, sidecar: dict[str, Any] | None = None) -> Document:
    sidecar = dict(sidecar or {})
    page = _split_parts(text.splitlines())
    if page.outcome is None and not page.note_lines:
        raise UnreadableFile(path, "no outcome summary or progress notes found: not an outcome page")
    doc_id = str(sidecar.pop("doc_id", f"{KIND}:{path.stem}"))
    source = SourceRef(path=str(path), kind=KIND)
    country = clean_text(sidecar.pop("country", None)) or detect_country(text)
    office = clean_text(sidecar.pop("office", None)) or (f"{country} Country Office" if country else None)
    region = clean_text(sidecar.pop("region", None))
    themes = split_names(sidecar.pop("themes", sidecar.pop("theme", None)))

    dedup = _Dedup()
    passages: list[Passage] = []
    if page.outcome:
        passages.append(Passage(text=dedup(page.outcome), section=Section.OUTCOME, label="Outcome statement"))
    for line in page.indicators:
        kept = dedup(line)
        if kept:
            passages.append(Passage(text=kept, section=Section.INDICATORS, label="Indicators"))

    funding = _parse_funding(page.funding_lines, doc_id, source, country)
    for record in funding:
        passages.append(
            Passage(
                text=_funding_passage(record),
                section=Section.FUNDING,
                year=record.year,
                label="Funding partner",
                composed=True,
            )
        )

    notes = _split_notes(page.note_lines, page.outcome)
    years = _note_years([n for n, _ in notes], [y for _, y in notes])
    for (note, _), (year, status) in zip(notes, years, strict=True):
        kept = dedup(note)
        if kept:
            label = f"Progress note {year}" if year else "Progress note"
            passages.append(
                Passage(text=kept, section=Section.PROGRESS_NOTE, year=year, status=status, label=label)
            )

    outcome = page.outcome or ""
    title = f"Outcome: {outcome[:140]}{'...' if len(outcome) > 140 else ''}" if outcome else path.stem
    fingerprint = hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]
    metadata: dict[str, Any] = {"content_sha1": fingerprint, **sidecar}
    return Document(
        doc_id=doc_id,
        title=title,
        source=source,
        passages=tuple(p for p in passages if p.text),
        country=country,
        region=region,
        agencies=("UN Women",),
        outcome=page.outcome,
        themes=themes,
        partners=tuple(distinct(r.partner for r in funding)),
        office=office,
        metadata={k: v for k, v in metadata.items() if v is not None},
        funding=tuple(funding),
    )
