"""Verbatim means verbatim: every summary and timeline sentence occurs in its source file's own text.

The index holds the sample outcome page and the five gender-theme UN INFO exports. The source text is read
here straight from the files, not through the readers: the page's text as it is on disk, the string cells
of the cited spreadsheet row through openpyxl. What the readers compose from fields (the funding-table
sentences, the partner lists) stays searchable but is never quoted. The fake embedder is enough: which
sentences are chosen depends on it, that each is a quote must not.
"""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from pathlib import Path

import openpyxl
import pytest

from insight_search.chunking import chunk_document
from insight_search.indexer import build_index
from insight_search.models import Document, Filters, Passage, Section, SourceRef
from insight_search.records import chunk_from_dict, chunk_to_dict, document_from_dict, document_to_dict
from insight_search.schemas import ChunkOut, DocumentOut
from insight_search.search import open_searcher

from .conftest import SEED, FakeEmbedder, call, need_shared

QUERIES = [
    "Multi-Partner Trust Fund contribution",
    "United Nations Entity for Gender Equality contributed",
    "funding partners contributions development humanitarian",
    "Total contribution 2021",
    "contributing partners European Union",
    "implementation partners ministry of women",
    "UN Women UNFPA UNDP partners",
    "care system legislation",
    "national care system Mexico",
    "Monterrey municipal care system",
    "domestic workers social security",
    "Global Alliance for Care",
    "gender-based violence prevention",
    "women's economic empowerment",
    "women's political participation and leadership",
    "gender statistics and data",
    "child marriage and harmful practices",
    "gender-responsive budgeting",
    "women peace and security",
    "sexual and reproductive health services",
    "violencia contra las mujeres",
    "égalité des sexes et autonomisation des femmes",
    "gender marker justification",
    "progress in 2023",
]
FILTERED = [
    ("Multi-Partner Trust Fund", Filters(country="Mexico")),
    ("contribution", Filters(section=Section.FUNDING)),
    ("partners", Filters(section=Section.PARTNERS)),
    ("care services", Filters(year=2022)),
    ("violence against women", Filters(country="Georgia")),
]


def _plain(text: str) -> str:
    """Whitespace aside: every run of white space (line breaks and no-break spaces too) as one space."""
    return " ".join(text.split())


def _sheet_rows(path: Path) -> dict[int, list[str]]:
    """The string cells of each row of the file's first sheet, by sheet row number."""
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        rows: dict[int, list[str]] = {}
        for number, values in enumerate(wb.worksheets[0].iter_rows(min_row=1, values_only=True), start=1):
            cells = [_plain(v) for v in values if isinstance(v, str) and v.strip()]
            if cells:
                rows[number] = cells
        return rows
    finally:
        wb.close()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from insight_search.config import Settings

    exports = sorted(need_shared("data", "uninfo-jwp").glob("*/gender.xlsx"))
    assert len(exports) == 5
    root = tmp_path_factory.mktemp("verbatim")
    (root / "corpus").mkdir()
    page = root / "corpus" / SEED.name
    shutil.copy(SEED, page)
    settings = Settings(index_dir=root / "index")
    embedder = FakeEmbedder()
    build_index([root / "corpus", *exports], settings, embedder)
    sources: dict[str, dict[int | None, list[str]]] = {
        str(page): {None: [_plain(page.read_text(encoding="utf-8"))]}
    }
    for path in exports:
        sources[str(path)] = dict(_sheet_rows(path))
    return open_searcher(settings, embedder), sources


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    from insight_search.config import Settings

    root = tmp_path_factory.mktemp("verbatim-page")
    (root / "corpus").mkdir()
    page = root / "corpus" / SEED.name
    shutil.copy(SEED, page)
    settings = Settings(index_dir=root / "index")
    build_index([root / "corpus"], settings, FakeEmbedder())
    return open_searcher(settings, FakeEmbedder()), {str(page): {None: [_plain(SEED.read_text("utf-8"))]}}


def test_the_sample_page_summaries_quote_only_the_page(sample):
    """The quick form of the property (the sample page alone), with the query the issue names."""
    searcher, sources = sample
    for q in ("Multi-Partner Trust Fund contribution", "UN Women contributed in 2021", "care system"):
        summary = call(searcher, "summarize", q=q, max_sentences=5)
        timeline = call(searcher, "timeline", q=q, sentences_per_year=3)
        sentences = [*summary.sentences, *(s for y in timeline.years for s in y.sentences)]
        assert sentences and _not_quoted(sentences, sources) == [], q
        assert not any(s.composed for s in sentences)


def test_composed_passages_take_no_evidence_place_from_quotable_ones(sample, monkeypatch):
    """A summary reads the first quotable matching passages: the funding-table sentences that match a
    funding query ahead of them do not push them out of its evidence."""
    from insight_search import summarize as summaries
    from insight_search.models import Query

    searcher, _ = sample
    q = "Multi-Partner Trust Fund contribution"
    rows = searcher.matching(Query(q))
    assert any(searcher.chunks[i].composed for i in rows[:3])  # the funding sentences rank first
    monkeypatch.setattr(summaries, "DEFAULT_EVIDENCE", 3)
    summary = call(searcher, "summarize", q=q, max_sentences=5)
    quotable = [i for i in rows if not searcher.chunks[i].composed]
    assert len(quotable) >= 3 and summary.passages_considered == 3


def _not_quoted(sentences, sources) -> list[str]:  # type: ignore[no-untyped-def]
    bad = []
    for s in sentences:
        rows = sources.get(s.source.path)
        assert rows is not None, f"cited a file outside the corpus: {s.source.path}"
        cells = rows.get(s.source.row, [])
        if not any(_plain(s.text) in cell for cell in cells):
            bad.append(f"{s.source.path} row {s.source.row}: {s.text!r}")
    return bad


@pytest.mark.slow  # indexing the five exports takes a minute or more on two cores
def test_every_summary_and_timeline_sentence_occurs_in_its_source_file(corpus):
    searcher, sources = corpus
    checked = 0
    bad: dict[str, list[str]] = defaultdict(list)
    requests = [(q, Filters()) for q in QUERIES] + FILTERED
    for q, filters in requests:
        summary = call(searcher, "summarize", q=q, filters=filters, max_sentences=5)
        timeline = call(searcher, "timeline", q=q, filters=filters, sentences_per_year=3)
        sentences = [*summary.sentences, *(s for y in timeline.years for s in y.sentences)]
        checked += len(sentences)
        bad[q] += _not_quoted(sentences, sources)
        assert not any(s.composed for s in sentences)
    assert {q: b for q, b in bad.items() if b} == {}
    assert checked >= 200  # the property was tried on many sentences, not on empty answers


@pytest.mark.slow
def test_composed_passages_stay_searchable_and_say_so(corpus):
    searcher, _ = corpus
    page = Filters(source="unwomen-page")
    out = call(searcher, "search", q="Multi-Partner Trust Fund contribution", k=10, filters=page)
    funding = [r for r in out.results if r.section == Section.FUNDING]
    assert funding and all(r.composed for r in funding)
    assert any("$267,469" in r.text for r in funding)
    # the record behind a funding sentence: the funding operation over the hit's document and year
    records = call(searcher, "funding", doc_id=funding[0].doc_id, year=funding[0].year).records
    assert records and any(r.partner and r.partner in funding[0].text for r in records)
    partners = call(searcher, "search", q="contributing partners", k=10, filters=Filters(section="partners"))
    assert partners.results and all(r.composed for r in partners.results)
    # text copied from the sources is not marked
    notes = call(searcher, "search", q="care system", k=10, filters=Filters(section=Section.PROGRESS_NOTE))
    assert notes.results and not any(r.composed for r in notes.results)


def test_composed_is_stored_and_older_indexes_load_it_as_false():
    doc = Document(
        doc_id="d",
        title="t",
        source=SourceRef(path="p.xlsx", kind="uninfo-xlsx", row=3),
        passages=(
            Passage("Women lead councils in four states.", Section.PROGRESS_NOTE, year=2023),
            Passage("Contributing partners: European Union", Section.PARTNERS, composed=True),
        ),
    )
    stored = json.loads(json.dumps(document_to_dict(doc)))
    assert [p["composed"] for p in stored["passages"]] == [False, True]
    assert document_from_dict(stored) == doc
    chunks = chunk_document(doc)
    assert [c.composed for c in chunks] == [False, True]
    for chunk in chunks:
        assert chunk_from_dict(json.loads(json.dumps(chunk_to_dict(chunk))), doc) == chunk
    assert [ChunkOut.of(c).model_dump()["composed"] for c in chunks] == [False, True]
    assert [p["composed"] for p in DocumentOut.of(doc, []).model_dump()["passages"]] == [False, True]
    for p in stored["passages"]:  # written before the field existed
        del p["composed"]
    old = document_from_dict(stored)
    assert not any(p.composed for p in old.passages)
    line = chunk_to_dict(chunks[1])
    del line["composed"]
    assert chunk_from_dict(line, old).composed is False
