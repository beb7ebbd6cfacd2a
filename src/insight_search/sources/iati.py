"""Reader for IATI activity files (``.xml``, IATI standard 2.0x, as published or as d-portal returns them).

One document per ``iati-activity``, its ``doc_id`` the activity's ``iati-identifier`` (so an outcome page
whose sidecar names the same ``iati_identifier`` is the same outcome: both documents carry that metadata key,
see sources/unwomen_page.py). A document holds:

* passages: the title (section ``outcome``, ``output`` for an activity at hierarchy 2), each description
  narrative (``description``), and the results, indicators and progress notes of sources/iati_results.py.
  Each passage's label ends with its language in brackets ("Description [es]"); the document's languages
  are ``metadata["languages"]`` (``xml:lang``, lower case, the activity's own as the default);
* typed fields: the reporting organisation (and any UN agency implementing it) as ``agencies``, with the
  agency's acronym ("UNDP") beside the name the file gives; the other participating organisations as
  ``partners``; the first recipient country (ISO code -> name) and region; the year span from the actual
  start (else planned) to the actual end (else planned); the title as ``outcome``;
* metadata: iati_identifier, reporting_org_ref, countries, country_codes, regions, sectors, dates, status,
  hierarchy, related_activities, participating_orgs, default_currency and the counts read;
* ``funding`` (sources/iati_funding.py) and ``indicators`` (sources/iati_results.py).

The file is streamed (``iterparse``), each activity cleared once read, so memory holds one activity at a
time. Attributes of other namespaces (d-portal's ``dstore:``) are ignored; a file with several publishers is
read whole. An activity without an identifier, repeating one, or that cannot be read is named (identifier or
position) through ``warn`` and skipped. A file that breaks off (truncated XML) keeps the activities read
before the break and warns; when none could be read, or the root is not ``iati-activities``, the file is
refused with :class:`UnreadableFile`.

``sniff`` accepts every ``.xml`` file: this is the only XML reader, and it names why an XML file that is not
IATI is refused ("not an IATI activity file: root element <rss>").
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET
from xml.etree.ElementTree import Element

from insight_search.errors import UnreadableFile
from insight_search.models import Document, Passage, Section, SourceRef
from insight_search.sources.common import Warn, default_warn, distinct, extension, short_title, year_span
from insight_search.sources.iati_funding import read_funding
from insight_search.sources.iati_results import ActivityContext, read_results, with_lang
from insight_search.sources.iati_xml import (
    ACTIVITY_STATUS,
    AGENCY_ACRONYM,
    DESCRIPTION_TYPE,
    ORG_ROLE,
    ORG_TYPE,
    RELATED_ACTIVITY,
    code,
    iso_date,
    lang_of,
    narratives,
    pick,
    text_of,
)

logger = logging.getLogger(__name__)

KIND = "iati"
EXTENSIONS = frozenset({".xml"})
ROOTS = ("iati-activities", "iati-activity")
_DATE_TYPES = {"1": "planned_start", "2": "actual_start", "3": "planned_end", "4": "actual_end"}


class MalformedActivity(ValueError):
    """An activity that cannot become a document (the reason says why)."""


def looks_like_iati(head: bytes) -> bool:
    """The first bytes of a file hold an IATI root element."""
    return b"<iati-activities" in head or b"<iati-activity" in head


def sniff(path: Path, head: bytes) -> bool:
    return extension(path) in EXTENSIONS


def read(path: Path, warn: Warn, *, root: Path | None = None) -> Iterator[Document]:
    return read_iati(path, warn)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def read_iati(path: Path, warn: Warn | None = None) -> Iterator[Document]:
    """The activities of one IATI file, in file order, streamed."""
    report = warn or default_warn
    path = Path(path)
    read_count = 0
    position = 0  # activities met so far (1-based position of the current one)
    last_id: str | None = None
    seen: set[str] = set()
    top: Element | None = None
    file_lang: str | None = None
    depth = 0
    try:
        with path.open("rb") as handle:
            for event, element in ET.iterparse(handle, events=("start", "end")):
                if event == "start":
                    depth += 1
                    if top is None:
                        top = element
                        if element.tag not in ROOTS:
                            raise UnreadableFile(
                                path,
                                f"not an IATI activity file: root element <{_local(element.tag)}>"
                                " (expected <iati-activities>)",
                            )
                        file_lang = lang_of(element, None)
                    continue
                depth -= 1
                if element.tag != "iati-activity" or depth > 1:
                    continue
                position += 1
                try:
                    doc = activity_document(element, path, position, file_lang)
                except MalformedActivity as exc:
                    report(UnreadableFile(path, f"activity {position}: {exc}; skipped"))
                    doc = None
                element.clear()
                if top is not element:
                    top.remove(element)  # type: ignore[union-attr]  # top is set at the first start event
                if doc is None:
                    continue
                if doc.doc_id in seen:
                    reason = f"activity {position} ({doc.doc_id}): repeats an earlier activity's identifier"
                    report(UnreadableFile(path, f"{reason}; skipped"))
                    continue
                seen.add(doc.doc_id)
                last_id = doc.doc_id
                read_count += 1
                yield doc
    except ET.ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        if top is None:
            raise UnreadableFile(path, f"not XML: {exc}") from exc
        if read_count == 0:
            raise UnreadableFile(path, f"broken XML at line {line}, column {column}: {exc}") from exc
        last = f" ({last_id})" if last_id else ""
        report(
            UnreadableFile(
                path,
                f"XML breaks at line {line}, column {column}, after activity {position}{last}: "
                f"{read_count} activities read, the rest of the file lost",
            )
        )
        return
    except OSError as exc:
        raise UnreadableFile(path, f"cannot read file: {exc.strerror or exc}") from exc
    if position == 0:
        raise UnreadableFile(path, "IATI file without any iati-activity")
    if read_count == 0:
        raise UnreadableFile(path, f"none of its {position} activities could be read (each named above)")


def activity_document(activity: Element, path: Path, position: int, file_lang: str | None = None) -> Document:
    """One ``iati-activity`` element -> its document; :class:`MalformedActivity` when it has no identifier."""
    identifier = " ".join((activity.findtext("iati-identifier") or "").split())
    if not identifier:
        raise MalformedActivity("no iati-identifier")
    try:
        return _document(activity, identifier, path, position, file_lang)
    except MalformedActivity:
        raise
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        raise MalformedActivity(f"{identifier}: {type(exc).__name__}: {exc}") from exc


def _document(activity: Element, doc_id: str, path: Path, position: int, file_lang: str | None) -> Document:
    lang = lang_of(activity, file_lang)
    source = SourceRef(path=str(path), kind=KIND, position=position)
    reporting = activity.find("reporting-org")
    reporting_ref = code(reporting, "ref")
    agencies, partners, orgs = _organisations(activity, reporting, reporting_ref, lang)
    countries = _countries(activity, lang)
    regions = distinct(
        text_of(r, lang) or (f"region {code(r)}" if code(r) else None)
        for r in activity.findall("recipient-region")
    )
    country = countries[0][1] if countries else None
    ctx = ActivityContext(doc_id=doc_id, source=source, lang=lang, country=country, agencies=agencies)

    dates = {
        _DATE_TYPES[t]: iso_date(d)
        for d in activity.findall("activity-date")
        if (t := code(d, "type") or "") in _DATE_TYPES
    }
    year, year_end = year_span(
        dates.get("actual_start") or dates.get("planned_start"),
        dates.get("actual_end") or dates.get("planned_end"),
    )
    hierarchy = code(activity, "hierarchy")

    titles = narratives(activity.find("title"), lang)
    title_section = Section.OUTPUT if hierarchy == "2" else Section.OUTCOME
    passages = [
        Passage(t.text, title_section, label=with_lang("Activity title", t.lang), language=t.lang)
        for t in titles
    ]
    seen_texts = {t.text for t in titles}
    description_langs: list[str | None] = []
    for description in activity.findall("description"):
        label = DESCRIPTION_TYPE.get(code(description, "type") or "1", "Description")
        for note in narratives(description, lang):
            if note.text not in seen_texts:  # a description that repeats the title is indexed once
                seen_texts.add(note.text)
                description_langs.append(note.lang)
                passages.append(
                    Passage(
                        note.text, Section.DESCRIPTION, label=with_lang(label, note.lang), language=note.lang
                    )
                )
    results = read_results(activity, ctx)
    passages.extend(results.passages)
    default_currency = (activity.get("default-currency") or "").strip().upper()
    funding = read_funding(activity, ctx, default_currency)
    if funding.bad_values:
        logger.debug("%s: %d budget/transaction values are not numbers", doc_id, funding.bad_values)

    title = pick(titles, lang)
    if not passages:
        raise MalformedActivity(f"{doc_id}: no title, description or result text")
    status = code(activity.find("activity-status"))
    metadata: dict[str, Any] = {
        "iati_identifier": doc_id,
        "reporting_org_ref": reporting_ref,
        "languages": distinct([*(n.lang for n in titles), *description_langs, *results.languages]),
        "countries": [name for _, name in countries],
        "country_codes": [c for c, _ in countries],
        "regions": regions,
        "sectors": _sectors(activity, lang),
        "dates": {k: v for k, v in dates.items() if v},
        "status": ACTIVITY_STATUS.get(status or "", status),
        "hierarchy": int(hierarchy) if hierarchy and hierarchy.isdigit() else None,
        "related_activities": [
            {"ref": ref, "type": RELATED_ACTIVITY.get(code(r, "type") or "", code(r, "type"))}
            for r in activity.findall("related-activity")
            if (ref := code(r, "ref"))
        ],
        "participating_orgs": orgs,
        "default_currency": default_currency or None,
        "results": results.results,
        "indicator_count": len(results.indicators),
        "periods": results.periods,
        "budgets": funding.budgets,
        "budgets_replaced": funding.budgets_replaced,
        "transactions": funding.transactions,
        "other_transactions": dict(funding.other_transactions),
    }
    return Document(
        doc_id=doc_id,
        title=short_title(title) if title else short_title(passages[0].text),
        source=source,
        passages=tuple(passages),
        country=country,
        region=regions[0] if regions else None,
        agencies=agencies,
        year=year,
        year_end=year_end,
        outcome=title,
        partners=partners,
        metadata={k: v for k, v in metadata.items() if v not in (None, [], {})},
        funding=tuple(funding.records),
        indicators=tuple(results.indicators),
    )


def _organisations(
    activity: Element, reporting: Element | None, reporting_ref: str | None, lang: str | None
) -> tuple[tuple[str, ...], tuple[str, ...], list[dict[str, Any]]]:
    """(agencies, partners, participating organisations as metadata). Agencies: the reporting organisation
    and any UN agency accountable for it, extending or implementing it, each with its acronym; partners:
    every other participating organisation (funders included)."""
    agencies = [text_of(reporting, lang), AGENCY_ACRONYM.get(reporting_ref or "")]
    agency_refs = {reporting_ref} if reporting_ref else set()
    partners: list[str | None] = []
    orgs: list[dict[str, Any]] = []
    for org in activity.findall("participating-org"):
        name, ref = text_of(org, lang), code(org, "ref")
        role, kind = ORG_ROLE.get(code(org, "role") or ""), ORG_TYPE.get(code(org, "type") or "")
        if name or ref:
            fields = (("name", name), ("ref", ref), ("role", role), ("type", kind))
            orgs.append({k: v for k, v in fields if v})
        if ref in agency_refs or (name and name.casefold() in {a.casefold() for a in agencies if a}):
            continue  # the reporting organisation again (some files give it another's ref)
        if ref in AGENCY_ACRONYM and role != "funding":  # a UN agency that funds it is a partner
            agency_refs.add(ref)
            agencies += [name, AGENCY_ACRONYM[ref]]
        else:
            partners.append(name)
    agency_names = distinct(agencies)
    folded = {a.casefold() for a in agency_names}
    return (
        tuple(agency_names),
        tuple(p for p in distinct(partners) if p.casefold() not in folded),
        list({tuple(sorted(o.items())): o for o in orgs}.values()),
    )


@lru_cache(maxsize=512)
def country_name(iso2: str) -> str | None:
    """The short English name of an ISO 3166 alpha-2 code ("BO" -> "Bolivia"); None when unknown."""
    import pycountry

    found = pycountry.countries.get(alpha_2=iso2.upper())
    if found is None:
        return None
    return str(getattr(found, "common_name", None) or found.name)


def _countries(activity: Element, lang: str | None) -> list[tuple[str, str]]:
    """(code, name) of the recipient countries, the largest share first."""
    found: list[tuple[float, int, str, str]] = []
    for i, element in enumerate(activity.findall("recipient-country")):
        iso = code(element)
        narrative = text_of(element, lang)
        name = (country_name(iso) if iso else None) or narrative
        if not name:
            continue
        try:
            share = float(element.get("percentage") or 0)
        except ValueError:
            share = 0.0
        found.append((-share, i, (iso or "").upper(), name))
    return [(iso, name) for _, _, iso, name in sorted(found)]


def _sectors(activity: Element, lang: str | None) -> list[dict[str, str]]:
    out = []
    for sector in activity.findall("sector"):
        item = {
            "code": code(sector),
            "vocabulary": code(sector, "vocabulary") or "1",
            "name": text_of(sector, lang),
        }
        if item["code"] or item["name"]:
            out.append({k: v for k, v in item.items() if v})
    return out
