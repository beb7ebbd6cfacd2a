from __future__ import annotations

import json
from pathlib import Path

import pytest

from insight_search.errors import UnreadableFile
from insight_search.models import Section
from insight_search.sources.unwomen_page import parse_unwomen_page, read_unwomen_page
from insight_search.text import fold

from .conftest import SEED


@pytest.fixture(scope="module")
def seed_doc():
    return next(read_unwomen_page(SEED))


def test_progress_notes_carry_their_years_and_status(seed_doc):
    notes = [p for p in seed_doc.passages if p.section == Section.PROGRESS_NOTE]
    assert [p.year for p in notes] == [2021, 2022, 2023, 2024]
    assert [p.status for p in notes] == [
        None,
        "achieved substantial progress",
        "not achieved",
        "not achieved",
    ]
    assert notes[0].text.startswith("The Generation Equality Forum 2021")
    assert "Monterrey" in notes[2].text and "Monterrey" in notes[3].text


def test_funding_table_gives_eight_exact_records(seed_doc):
    records = {(r.partner, r.year): r for r in seed_doc.funding}
    assert len(seed_doc.funding) == 8
    mptf = "United Nations Multi-Partner Trust Fund Office"
    unw = "United Nations Entity for Gender Equality and the Empowerment of Women (UN Women)"
    assert records[(mptf, 2021)].total == 267469
    assert records[(mptf, 2021)].partner_type == "United Nations pooled fund"
    assert records[(mptf, 2020)].total == 149177
    assert records[(mptf, 2023)].development == 203202 and records[(mptf, 2023)].humanitarian == 0
    assert [records[(unw, y)].total for y in (2023, 2022, 2021, 2020)] == [14958, 14958, 22090, 0]
    passages = [p for p in seed_doc.passages if p.section == Section.FUNDING]
    assert len(passages) == 8
    assert any(
        "$267,469" in p.text and "2021" in p.text and "Multi-Partner Trust Fund" in p.text for p in passages
    )


def test_no_placeholder_and_boilerplate_at_most_once(seed_doc):
    texts = [p.text for p in seed_doc.passages]
    assert not any("lorem ipsum" in t.lower() for t in texts)
    definition = "indicators are identified as those in the results framework that are not repeated verbatim"
    assert sum(t.count(definition) for t in texts) == 1
    indicators = [p for p in seed_doc.passages if p.section == Section.INDICATORS]
    assert all(
        not p.text.startswith(("CommonComplementary", "ComplementaryComplementary")) for p in indicators
    )
    # The outcome statement introduces every note on the page but is indexed once.
    outcome = seed_doc.outcome
    assert outcome and seed_doc.passages[0].text == outcome
    assert sum(fold(t) == fold(outcome) for t in texts) == 1


def test_country_from_text_and_sidecar(tmp_path: Path):
    doc = next(read_unwomen_page(SEED))
    assert doc.country == "Mexico"
    copy = tmp_path / "page.txt"
    copy.write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "page.txt.meta.json").write_text(
        json.dumps({"country": "Mexico", "office": "MCO", "region": "LAC"})
    )
    doc2 = next(read_unwomen_page(copy))
    assert doc2.office == "MCO" and doc2.region == "LAC" and "office" not in doc2.metadata


PAGE = """Outcome summary
Women lead in local government by 2027.
Outcome and output results
Note: social-norms data are self-reported and may understate the change in attitudes over time.
StandardNote: social-norms data are self-reported and may understate the change in attitudes over time.
Lorem Ipsum is simply dummy text of the printing and typesetting industry.
Our funding partners contributions
2022 | 2021 | |
---|---|---|
Government of Sweden | $1,000,500 2022
Government of SwedenGovernment
Total contribution:$1,000,500
Development:$900,000(90%)
Humanitarian:$100,500(10%)
|
$250 2021
Government of SwedenGovernment
Total contribution:$250
Development:$250(100%)
Humanitarian:$0(0%)
|
Outcome insights and achievements
Women lead in local government by 2027.
In the first year the programme trained 300 candidates. Results from the Trust Fund are reported under each indicator.
Women lead in local government by 2027.
Councils adopted quotas. Results from the Trust Fund are reported under each indicator.
Women lead in local government by 2027.
This outcome was partially achieved in 2023. Two more councils joined.
"""


def test_generic_page_rules_not_tied_to_the_seed(tmp_path: Path):
    doc = parse_unwomen_page(PAGE, path=tmp_path / "x.txt")
    notes = [p for p in doc.passages if p.section == Section.PROGRESS_NOTE]
    assert [p.year for p in notes] == [2021, 2022, 2023]
    assert notes[2].status == "partially achieved"
    joined = " ".join(p.text for p in doc.passages)
    assert joined.count("Results from the Trust Fund are reported under each indicator.") == 1
    assert joined.count("social-norms data are self-reported") == 1
    assert "Lorem" not in joined
    funding = sorted(doc.funding, key=lambda r: r.year or 0)
    assert [(r.partner, r.partner_type, r.year, r.total) for r in funding] == [
        ("Government of Sweden", "Government", 2021, 250.0),
        ("Government of Sweden", "Government", 2022, 1000500.0),
    ]
    assert funding[1].humanitarian == 100500.0


def test_not_a_page_and_bad_bytes(tmp_path: Path):
    with pytest.raises(UnreadableFile):
        parse_unwomen_page("just some words\n", path=tmp_path / "x.txt")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe\x00\x01binary")
    with pytest.raises(UnreadableFile, match="binary|UTF-8"):
        next(read_unwomen_page(bad))
