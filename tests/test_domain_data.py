"""Typed domain data: documents and chunks carry outcome, themes, partners and office; the stored form keeps
them, indexes written before they were typed still load, and the JSON shapes keep a ``theme`` key."""

from __future__ import annotations

import json
from pathlib import Path

from insight_search.chunking import chunk_document
from insight_search.models import Document, FundingRecord, Passage, Section, SourceRef, section_name
from insight_search.records import chunk_from_dict, chunk_to_dict, document_from_dict, document_to_dict
from insight_search.schemas import ChunkOut, DocumentOut

SOURCE = SourceRef(path="americas/gender.xlsx", kind="uninfo-xlsx", row=2)

OLD_SOURCE = {"path": "americas/gender.xlsx", "kind": "uninfo-xlsx", "row": 2, "position": None}
# As the index format wrote them before the domain fields were typed (one line each of documents.jsonl and
# chunks.jsonl): a single "theme", the themes, outcome and partners in metadata, a "narrative" section.
OLD_DOCUMENT = json.dumps(
    {
        "doc_id": "uninfo-jwp:1",
        "title": "Shelters (Mexico)",
        "source": OLD_SOURCE,
        "passages": [
            {
                "text": "Women live free of violence.",
                "section": "outcome",
                "year": None,
                "status": None,
                "label": "Outcome",
            },
            {
                "text": "In 2023 the network opened 3 shelters.",
                "section": "narrative",
                "year": 2023,
                "status": None,
                "label": "2023 Narrative",
            },
        ],
        "country": "Mexico",
        "region": "americas",
        "theme": "gender",
        "agencies": ["UN Women", "UNW"],
        "year": None,
        "metadata": {
            "plan": "UNSDCF",
            "outcome": "Women live free of violence.",
            "contributing_partners": ["European Union"],
            "implementation_partners": ["INMUJERES", "European Union"],
            "themes": ["gender", "youth"],
            "sub_output_code": "5.1",
        },
        "funding": [
            {
                "kind": "required",
                "year": 2023,
                "total": 100.0,
                "doc_id": "uninfo-jwp:1",
                "source": OLD_SOURCE,
                "partner": None,
                "partner_type": None,
                "development": None,
                "humanitarian": None,
                "currency": "USD",
                "country": "Mexico",
                "agencies": ["UN Women", "UNW"],
            },
        ],
    }
)
OLD_CHUNK = json.dumps(
    {
        "chunk_id": "c1",
        "doc_id": "uninfo-jwp:1",
        "text": "In 2023 the network opened 3 shelters.",
        "section": "narrative",
        "passage_index": 1,
        "start": 0,
        "end": 38,
        "year": 2023,
        "status": None,
    }
)
OLD_PAGE = json.dumps(
    {
        "doc_id": "unwomen-page:p",
        "title": "Outcome: Care",
        "source": {"path": "p.txt", "kind": "unwomen-page", "row": None, "position": None},
        "passages": [
            {"text": "Care.", "section": "outcome", "year": None, "status": None, "label": "Outcome"}
        ],
        "country": "Mexico",
        "region": None,
        "theme": None,
        "agencies": ["UN Women"],
        "year": None,
        "metadata": {"office": "MCO", "outcome": "Care.", "content_sha1": "abc"},
        "funding": [],
    }
)


def _document() -> Document:
    return Document(
        doc_id="uninfo-jwp:1",
        title="Shelters (Mexico)",
        source=SOURCE,
        passages=(
            Passage("Women live free of violence.", Section.OUTCOME, label="Outcome"),
            Passage(
                "In 2023 the network opened 3 shelters.", Section.PROGRESS_NOTE, 2023, label="2023 Narrative"
            ),
        ),
        country="Mexico",
        region="americas",
        agencies=("UN Women", "UNW"),
        outcome="Women live free of violence.",
        themes=("gender", "youth"),
        partners=("European Union", "INMUJERES"),
        office="Mexico Country Office",
        metadata={"plan": "UNSDCF", "sub_output_code": "5.1"},
        funding=(
            FundingRecord(
                "required",
                2023,
                100.0,
                "uninfo-jwp:1",
                SOURCE,
                country="Mexico",
                agencies=("UN Women", "UNW"),
            ),
        ),
    )


def test_document_round_trips_through_its_stored_form() -> None:
    doc = _document()
    line = json.dumps(document_to_dict(doc))
    stored = json.loads(line)
    assert stored["themes"] == ["gender", "youth"] and stored["outcome"] == doc.outcome
    assert stored["partners"] == ["European Union", "INMUJERES"] and stored["office"] == doc.office
    assert "theme" not in stored and "themes" not in stored["metadata"]
    assert document_from_dict(stored) == doc
    for chunk in chunk_document(doc):
        again = chunk_from_dict(json.loads(json.dumps(chunk_to_dict(chunk))), doc)
        assert again == chunk and again.themes == ("gender", "youth") and again.outcome == doc.outcome


def test_index_written_before_typed_fields_still_loads() -> None:
    doc = document_from_dict(json.loads(OLD_DOCUMENT))
    assert doc.themes == ("gender", "youth")
    assert doc.outcome == "Women live free of violence."
    assert doc.partners == ("European Union", "INMUJERES")
    assert doc.office is None
    assert dict(doc.metadata) == {"plan": "UNSDCF", "sub_output_code": "5.1"}  # the copies moved out
    assert [p.section for p in doc.passages] == ["outcome", "progress_note"]
    assert doc.passages[1].label == "2023 Narrative" and doc.funding[0].agencies == ("UN Women", "UNW")
    chunk = chunk_from_dict(json.loads(OLD_CHUNK), doc)
    assert chunk.section == "progress_note" and chunk.themes == ("gender", "youth")
    assert chunk.outcome == doc.outcome and chunk.chunk_id == "c1"

    page = document_from_dict(json.loads(OLD_PAGE))
    assert page.office == "MCO" and page.outcome == "Care." and page.themes == ()
    assert dict(page.metadata) == {"content_sha1": "abc"}

    single = json.loads(OLD_PAGE)
    single["theme"] = "care"
    assert document_from_dict(single).themes == ("care",)


def test_old_section_names() -> None:
    assert section_name("narrative") == Section.PROGRESS_NOTE == "progress_note"
    assert section_name("marker_narrative") == Section.MARKER
    assert section_name("progress_in_2023") == "progress_in_2023"


def test_json_shapes_keep_theme_and_add_themes(tmp_path: Path) -> None:
    doc = _document()
    [chunk, _] = chunk_document(doc)
    out = ChunkOut.of(chunk).model_dump()
    assert out["theme"] == "gender" and out["themes"] == ["gender", "youth"]
    assert out["outcome"] == doc.outcome and out["section"] == "outcome"

    shown = DocumentOut.of(doc, [chunk.chunk_id]).model_dump()
    assert shown["theme"] == "gender" and shown["themes"] == ["gender", "youth"]
    assert shown["partners"] == ["European Union", "INMUJERES"]
    assert shown["office"] == "Mexico Country Office"
    bare = Document(doc_id="t", title="t", source=SOURCE, passages=(Passage("x", Section.TEXT),))
    plain = DocumentOut(**document_to_dict(bare), chunk_ids=[]).model_dump()
    assert plain["theme"] is None and plain["themes"] == []
