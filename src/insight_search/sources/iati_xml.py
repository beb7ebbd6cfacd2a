"""Reading the parts of an IATI activity element (standard 2.0x): narratives with their language, codes,
dates and indicator values. Pure functions over ``xml.etree`` elements; no file access.

IATI elements carry no namespace; attributes of other namespaces (d-portal's ``dstore:``/``ns0:``) are
never read. A narrative's language is its ``xml:lang``, else the activity's (``default_lang``), lower case.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from insight_search.sources.common import clean_text
from insight_search.text import clean_whitespace

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?$")


@dataclass(frozen=True, slots=True)
class Narrative:
    """One ``narrative`` element: its text on one line and its language ("en", or None when unknown)."""

    text: str
    lang: str | None


def lang_of(element: Element, default: str | None) -> str | None:
    value = element.get(XML_LANG)
    value = value.strip().lower() if value else ""
    return value or default


def narratives(element: Element | None, default_lang: str | None) -> list[Narrative]:
    """The narratives of ``element`` (its ``narrative`` children; IATI 1.x put the text in the element
    itself). Blanks and placeholders ("-", "N/A") are left out."""
    if element is None:
        return []
    out: list[Narrative] = []
    children = element.findall("narrative")
    for child in children:
        text = clean_text(child.text or "")
        if text:
            out.append(Narrative(text, lang_of(child, default_lang)))
    if not children:
        text = clean_text(element.text or "")
        if text:
            out.append(Narrative(text, lang_of(element, default_lang)))
    return out


def best(items: list[Narrative], lang: str | None) -> Narrative | None:
    """The narrative in language ``lang`` (the activity's), else the first one; None when there is none."""
    for item in items:
        if item.lang == lang:
            return item
    return items[0] if items else None


def pick(items: list[Narrative], lang: str | None) -> str | None:
    """The text of :func:`best`."""
    chosen = best(items, lang)
    return chosen.text if chosen else None


def text_of(element: Element | None, default_lang: str | None) -> str | None:
    return pick(narratives(element, default_lang), default_lang)


def code(element: Element | None, name: str = "code") -> str | None:
    if element is None:
        return None
    value = element.get(name)
    return value.strip() if value and value.strip() else None


def iso_date(element: Element | None) -> str | None:
    """An element's ``iso-date`` ("2021-12-31"), else None."""
    value = code(element, "iso-date")
    return value[:10] if value else None


def value_of(raw: str | None) -> float | str | None:
    """An indicator value as the file states it: a number as float ("2", "0.35", "1,200"), "-" or empty as
    None, any other text kept as text ("True", "Law adopted")."""
    if raw is None:
        return None
    text = clean_whitespace(raw)
    if clean_text(text) is None:
        return None
    if _NUMBER.match(text) and any(c.isdigit() for c in text):
        number = float(text.replace(",", ""))
        if math.isfinite(number):
            return number
    return text


def year_of(value: str | None) -> int | None:
    if value and len(value) >= 4 and value[:4].isdigit():
        year = int(value[:4])
        return year if 1800 <= year <= 2999 else None
    return None


# Code lists of the IATI standard (https://iatistandard.org/en/iati-standard/203/codelists/), only the
# parts a reader of results needs.
ACTIVITY_STATUS = {
    "1": "Pipeline/identification",
    "2": "Implementation",
    "3": "Finalisation",
    "4": "Closed",
    "5": "Cancelled",
    "6": "Suspended",
}
ORG_ROLE = {"1": "funding", "2": "accountable", "3": "extending", "4": "implementing"}
ORG_TYPE = {
    "10": "Government",
    "11": "Local Government",
    "15": "Other Public Sector",
    "21": "International NGO",
    "22": "National NGO",
    "23": "Regional NGO",
    "24": "Partner Country based NGO",
    "30": "Public Private Partnership",
    "40": "Multilateral",
    "60": "Foundation",
    "70": "Private Sector",
    "71": "Private Sector in Provider Country",
    "72": "Private Sector in Aid Recipient Country",
    "73": "Private Sector in Third Country",
    "80": "Academic, Training and Research",
    "90": "Other",
}
RELATED_ACTIVITY = {"1": "parent", "2": "child", "3": "sibling", "4": "co-funded", "5": "third party"}
RESULT_TYPE = {"1": "output", "2": "outcome", "3": "impact", "9": "other"}
MEASURE = {"1": "unit", "2": "percentage", "3": "nominal", "4": "ordinal", "5": "qualitative"}
DESCRIPTION_TYPE = {"1": "Description", "2": "Objectives", "3": "Target groups", "4": "Other description"}
# Transaction types that become funding records; the others (incoming commitment 11, pledges 12/13, loan and
# equity flows 5-10) are counted in the document's metadata only.
TRANSACTION_KIND = {
    "1": "contribution",  # incoming funds: a partner's money received by the activity
    "2": "commitment",  # outgoing commitment
    "3": "disbursement",
    "4": "expenditure",
}
TRANSACTION_TYPE = {
    "1": "incoming funds",
    "2": "outgoing commitment",
    "3": "disbursement",
    "4": "expenditure",
    "5": "interest payment",
    "6": "loan repayment",
    "7": "reimbursement",
    "8": "purchase of equity",
    "9": "sale of equity",
    "10": "credit guarantee",
    "11": "incoming commitment",
    "12": "outgoing pledge",
    "13": "incoming pledge",
}
# Reporting organisations of the UN system by IATI organisation identifier: the acronym the agency filter
# matches ("UNDP") beside the name the file gives ("United Nations Development Programme").
AGENCY_ACRONYM = {
    "XM-DAC-41114": "UNDP",
    "XM-DAC-41146": "UN Women",
    "XM-DAC-41122": "UNICEF",
    "XM-DAC-41119": "UNFPA",
    "XM-DAC-41301": "FAO",
    "XM-DAC-41123": "UNIDO",
    "XM-DAC-41140": "WFP",
    "XM-DAC-41130": "UNRWA",
    "XM-DAC-41120": "UN-Habitat",
    "XM-DAC-41121": "UNHCR",
    "XM-DAC-41302": "ILO",
    "XM-DAC-41304": "UNESCO",
}
