"""Funding facts: filters mean what they mean in search (agency, country exact and folded), partner is the one
"part of the name" match, and totals add up."""

from __future__ import annotations

import pytest

from insight_search.config import Settings
from insight_search.errors import BadInput
from insight_search.funding import funding
from insight_search.models import FundingRecord, SourceRef
from insight_search.requests import parse, request_models
from insight_search.text import same_name

SOURCE = SourceRef(path="x", kind="uninfo-xlsx")


def _record(kind: str, year: int, total: float, **kw: object) -> FundingRecord:
    return FundingRecord(kind=kind, year=year, total=total, doc_id=f"d{year}", source=SOURCE, **kw)  # type: ignore[arg-type]


UNDP = ("UNDP", "United Nations Development Programme")
RECORDS = (
    _record("required", 2021, 100.0, country="México", agencies=("UN Women", "UNW")),
    _record("available", 2022, 50.0, country="Mexico", agencies=UNDP),
    _record("contribution", 2023, 30.0, partner="European Union", country="Chile"),
    _record("contribution", 2023, 20.0, partner="Government of Spain", agencies=("UN Women",)),
)


def test_same_name_ignores_case_accents_and_surrounding_spaces() -> None:
    assert same_name("México", " mexico ") and same_name("UN Women", "un women")
    assert not same_name("UN Women", "Women") and not same_name("UNDP", "UND")


def test_agency_is_an_exact_folded_match_on_a_listed_name_or_acronym() -> None:
    def docs(agency: str) -> list[str]:
        return [r.doc_id for r in funding(RECORDS, agency=agency).records]

    assert docs("un women") == ["d2021", "d2023"] == docs("UN WOMEN")
    assert docs("unw") == ["d2021"]  # the source lists the acronym for this record only
    assert docs("Women") == [] and docs("United Nations") == []  # no substring match (it used to be one)
    assert docs("united nations development programme") == ["d2022"] == docs("UNDP")


def test_country_exact_and_partner_part_of_the_name() -> None:
    assert [r.year for r in funding(RECORDS, country="mexico").records] == [2021, 2022]
    assert funding(RECORDS, country="Mex").records == ()
    europe = funding(RECORDS, partner="european")
    assert [r.partner for r in europe.records] == ["European Union"]
    assert dict(europe.totals_by_partner) == {"European Union": 30.0}


def test_totals_and_bad_input() -> None:
    out = funding(RECORDS, year=2023)
    assert dict(out.totals_by_kind) == {"contribution": 50.0}
    assert dict(out.totals_by_year) == {"2023": {"contribution": 50.0}}
    assert list(out.totals_by_partner) == ["European Union", "Government of Spain"]  # largest first
    # A kind outside the list is refused by the funding request (requests.py), before the engine runs.
    with pytest.raises(BadInput, match="kind: Input should be 'contribution'"):
        parse(request_models(Settings()).funding, {"kind": "gift"})
