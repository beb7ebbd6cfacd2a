"""The PDF reader on the five real reports of ../shared/data/pdf: paragraphs, headings, running headers,
hyphenation, the year rule, pages carried to each chunk and shown in citations, and bad input.

"The page's extracted text" is PDFium's plain text of the page (pypdfium2 ``get_text_range``), compared
with letters and digits only (line breaks, hyphens and spaces left out), so a passage whose hyphenation was
repaired still matches the page it came from."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from insight_search.chunking import chunk_document, chunk_source
from insight_search.models import Chunk, Document, Passage, Query, SourceRef
from insight_search.records import Shared
from insight_search.schemas import SourceOut
from insight_search.sources import registry
from insight_search.sources.pdf import document_year, read_pdf
from insight_search.sources.pdf_paragraphs import join_hyphenated

from .conftest import need_shared

NAMES = {
    "DP_2025_13.en.pdf": (15, 2024, "results"),  # "... gender equality strategy in 2024"
    "E_2025_61.en.pdf": (48, 2024, "results"),  # "common results in 2024", dated 29 April 2025
    "E_CN.6_2025_3.en.pdf": (126, 2024, "cover date"),  # 27 December 2024
    "UNW_2025_2.en.pdf": (25, 2025, "cover date"),  # 11 April 2025
    "independent_country_programme_evaluation_liberia_-_main_report_4121.pdf": (65, 2025, "cover date"),
}
LIBERIA = "independent_country_programme_evaluation_liberia_-_main_report_4121.pdf"
_NOT_ALNUM = re.compile(r"[\W_]+")


def squash(text: str) -> str:
    return _NOT_ALNUM.sub("", text.casefold())


@cache
def document(name: str) -> Document:
    return read_pdf(need_shared("data", "pdf", name))


@cache
def page_texts(name: str) -> tuple[str, ...]:
    """PDFium's plain text of each page, squashed (see the module docstring)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(need_shared("data", "pdf", name))
    try:
        return tuple(squash(pdf[i].get_textpage().get_text_range()) for i in range(len(pdf)))
    finally:
        pdf.close()


def pieces_by_page(passage: Passage, start: int, end: int) -> list[tuple[int, str]]:
    """(page, text) of each page's piece of ``passage.text[start:end]``."""
    bounds = [*passage.pages, (len(passage.text), 0)]
    out = []
    for (offset, page), (next_offset, _) in zip(bounds, bounds[1:], strict=False):
        s, e = max(start, offset), min(end, next_offset)
        if s < e:
            out.append((page, passage.text[s:e]))
    return out


def assert_on_cited_pages(name: str, chunk: Chunk, passage: Passage) -> None:
    pages = page_texts(name)
    src = chunk.source
    assert src.page_from is not None and src.page_to is not None, chunk
    pieces = pieces_by_page(passage, chunk.start, chunk.end)
    assert [p for p, _ in pieces][0] == src.page_from and pieces[-1][0] == src.page_to
    for page, text in pieces:
        assert squash(text) in pages[page - 1], (name, page, text[:120])


@pytest.mark.parametrize("name", sorted(NAMES))
def test_each_pdf_reads_into_paragraphs_on_their_pages(name: str) -> None:
    doc = document(name)
    pages, _, _ = NAMES[name]
    assert doc.source.kind == "pdf" and doc.doc_id == f"pdf:{name}"
    assert doc.metadata["pages"] == pages == len(page_texts(name))
    assert len(doc.passages) > pages  # paragraphs, not pages
    for passage in doc.passages:  # every passage's text, page by page, is on the page it names
        assert passage.pages and all(1 <= page <= pages for _, page in passage.pages)
        for page, text in pieces_by_page(passage, 0, len(passage.text)):
            assert squash(text) in page_texts(name)[page - 1], (name, page, text[:120])


@pytest.mark.parametrize("name", sorted(NAMES))
def test_year_results_year_beats_the_cover_date(name: str) -> None:
    _, year, how = NAMES[name]
    doc = document(name)
    assert (doc.year, doc.metadata["year_source"]) == (year, how)


def test_year_rule_on_texts() -> None:
    cover = "Distr.: General 11 April 2025"
    assert document_year([cover, "This report presents results for 2024."]) == (2024, "results")
    title = "Annual report on the gender equality strategy in 2024"
    assert document_year([cover, title]) == (2024, "results")
    assert document_year([cover, "Six years into the reform"]) == (2025, "cover date")
    assert document_year(["Copyright © UNDP February 2025"]) == (2025, "cover date")
    assert document_year(["No date here, only 2030 Agenda"]) == (None, None)


def test_a_sidecar_sets_the_year(tmp_path: Path) -> None:
    pdf = tmp_path / "report.pdf"
    shutil.copy(need_shared("data", "pdf", "DP_2025_13.en.pdf"), pdf)
    (tmp_path / "report.pdf.meta.json").write_text('{"year": 2023, "country": "Mexico"}', encoding="utf-8")
    doc = read_pdf(pdf)
    assert (doc.year, doc.country, doc.metadata["year_source"]) == (2023, "Mexico", "sidecar")


def test_no_running_header_footer_or_page_number_in_any_passage() -> None:
    import pypdfium2 as pdfium

    for name in NAMES:
        doc = document(name)
        pdf = pdfium.PdfDocument(need_shared("data", "pdf", name))
        on_pages: Counter[str] = Counter()
        for i in range(len(pdf)):
            lines = pdf[i].get_textpage().get_text_range().split("\r\n")
            on_pages.update({re.sub(r"\d+", "#", line.strip()) for line in lines if line.strip()})
        count = len(pdf)
        pdf.close()
        # on most pages ("UNW/#/#", "#/# #-#"), or a footer with its page number on 5 pages or more
        # (the Liberia evaluation's "Chapter #. Findings #")
        repeated = [
            line
            for line, n in on_pages.items()
            if len(line) >= 5 and (n >= count / 2 or (n >= 5 and line.endswith(" #")))
        ]
        assert repeated, name
        for passage in doc.passages:
            digits_alike = re.sub(r"\d+", "#", passage.text)
            for line in repeated:  # as words of their own ("A/79/72-E/2025/53" in a sentence is a reference)
                alone = re.search(rf"(?:^|\s){re.escape(line)}(?:\s|$)", digits_alike)
                assert alone is None, (name, line, passage.text[:200])


def test_headings_become_sections_and_paragraphs_follow_the_text() -> None:
    doc = document("UNW_2025_2.en.pdf")
    first = next(p for p in doc.passages if p.text.startswith("1. UN-Women’s work with its partners in 2024"))
    assert (first.label, first.section) == ("I. Introduction", "i_introduction")
    assert first.text.endswith(".") and len(first.text.split()) > 50  # the whole numbered paragraph
    # paragraph 8 runs over two lines joined by PDFium's hyphen mark: one passage, the compound kept
    eight = next(p for p in doc.passages if p.text.startswith("8. Gender data gaps"))
    assert "52 gender-specific SDG indicators" in eight.text and "\ufffe" not in eight.text


def test_two_column_page_reads_each_column_in_order() -> None:
    doc = document(LIBERIA)
    column = (
        "The UNDP Independent Evaluation Office (IEO) conducts Independent Country Programme Evaluations "
        "(ICPEs) to gather and present evidence of the organization’s contributions to national development "
        "priorities"
    )
    assert any(column in p.text for p in doc.passages)
    assert doc.country == "Liberia"


def test_hyphenation_rule() -> None:
    words = Counter({"development": 3, "gender": 5, "responsive": 2, "day-to-day": 1, "to-day": 1, "day": 4})
    assert join_hyphenated("develop", "ment", words) == "development"  # the joined word is written
    assert join_hyphenated("gender", "responsive", words) == "gender-responsive"  # two words of the text
    assert join_hyphenated("to", "day", words) == "to-day"  # "day-to-day" is written, not "today"
    assert join_hyphenated("infor", "mation", Counter()) == "information"  # no word on either side
    assert join_hyphenated("gender", "specific", Counter({"gender-specific": 1})) == "gender-specific"


def test_hyphenation_on_the_reports_keeps_compounds_and_secretary_general() -> None:
    text = " ".join(p.text for p in document("E_CN.6_2025_3.en.pdf").passages)
    assert "Secretary- General" not in text and "Secretary-General" in text
    assert "genderresponsive" not in text and "gender-responsive" in text
    assert "\ufffe" not in text


def test_care_systems_chunks_cite_pages_that_hold_their_text() -> None:
    """Search-free: every chunk that mentions care systems, in every report, against its cited pages."""
    found = 0
    for name in NAMES:
        doc = document(name)
        for chunk in chunk_document(doc):
            if "care system" in chunk.text.casefold():
                found += 1
                assert_on_cited_pages(name, chunk, doc.passages[chunk.passage_index])
    assert found >= 20


def test_chunk_pages_span_a_page_break() -> None:
    passage = Passage("a" * 50 + " " + "b" * 50, "text", pages=((0, 3), (51, 4)))
    src = SourceRef("r.pdf", "pdf")
    assert chunk_source(src, passage, 0, 20) == SourceRef("r.pdf", "pdf", page_from=3, page_to=3)
    assert chunk_source(src, passage, 10, 80) == SourceRef("r.pdf", "pdf", page_from=3, page_to=4)
    assert chunk_source(src, passage, 60, 80) == SourceRef("r.pdf", "pdf", page_from=4, page_to=4)
    assert chunk_source(src, Passage("x", "text"), 0, 1) is src  # not a PDF: the document's source
    one, span = (
        SourceOut.of(SourceRef("r.pdf", "pdf", None, None, 12, 12)),
        SourceOut.of(SourceRef("r.pdf", "pdf", None, None, 3, 4)),
    )
    assert (one.page, one.page_from, one.page_to) == (12, None, None)
    assert (span.page, span.page_from, span.page_to) == (None, 3, 4)


def test_sources_of_older_indexes_still_load() -> None:
    same = Shared()
    assert same.source({"path": "a.txt", "kind": "text", "row": None, "position": None}) == SourceRef(
        "a.txt", "text"
    )
    one_page = SourceRef("r.pdf", "pdf", None, None, 7, 7)
    assert same.source({"path": "r.pdf", "kind": "pdf", "page": 7}) == one_page


def _pdf_folder(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A folder with a real PDF, one that opens with an empty password, and three bad ones."""
    import pypdf
    import pypdfium2 as pdfium

    folder = tmp_path / "pdfs"
    folder.mkdir()
    real = need_shared("data", "pdf", "DP_2025_13.en.pdf")
    shutil.copy(real, folder / "good.pdf")
    (folder / "not_a_pdf.pdf").write_text("<html>a saved web page, not a PDF</html>", encoding="utf-8")
    for password, target in (("secret", "encrypted.pdf"), ("", "owner_only.pdf")):
        writer = pypdf.PdfWriter(clone_from=real)
        writer.encrypt(user_password=password, owner_password="owner", algorithm="AES-128")
        with (folder / target).open("wb") as handle:
            writer.write(handle)
    blank = pdfium.PdfDocument.new()
    blank.new_page(595, 842)
    blank.save(str(folder / "scanned.pdf"))
    blank.close()
    bad = {
        "not_a_pdf.pdf": "not a PDF",
        "encrypted.pdf": "encrypted",
        "scanned.pdf": "no text layer (scanned?)",
    }
    return folder, bad


def test_bad_pdfs_are_named_with_their_reason(tmp_path: Path) -> None:
    folder, bad = _pdf_folder(tmp_path)
    for name, reason in bad.items():
        with pytest.raises(registry.UnreadableFile) as caught:
            list(registry.read_file(folder / name))
        assert reason in caught.value.reason
    assert list(registry.read_file(folder / "owner_only.pdf"))[0].metadata["pages"] == 15


@pytest.mark.slow
def test_search_care_systems_over_the_five_pdfs(
    tmp_path: Path, fake_embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's check: one command indexes the five PDFs (and names the bad files beside them); a search
    for "care systems" returns passages whose cited page holds their text."""
    from insight_search.config import Settings
    from insight_search.indexer import build_index
    from insight_search.search import open_searcher

    folder, bad = _pdf_folder(tmp_path)
    for name in NAMES:
        shutil.copy(need_shared("data", "pdf", name), folder / name)
    settings = Settings(index_dir=tmp_path / "index")
    report = build_index([folder], settings, fake_embedder)
    reasons = {Path(p.path).name: p.reason for p in report.problems}
    assert set(reasons) == set(bad) and all(bad[n] in reasons[n] for n in bad)
    assert report.documents == len(NAMES) + 2  # the five, the copy of DP and the owner-password one
    searcher = open_searcher(settings, fake_embedder)
    hits = searcher.search(Query("care systems", k=20)).hits
    assert len(hits) == 20
    for hit in hits:
        name = Path(hit.chunk.source.path).name
        name = name if name in NAMES else "DP_2025_13.en.pdf"  # good.pdf, owner_only.pdf: copies of DP
        doc = searcher.data.documents[hit.chunk.doc_id]
        assert_on_cited_pages(name, hit.chunk, doc.passages[hit.chunk.passage_index])
    assert any("care system" in h.chunk.text.casefold() for h in hits[:5])
    # /chunks/{id} names the page(s), as one page or a span, and the CLI's search lines show "p. N"
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from insight_search import embedding
    from insight_search.api import create_app
    from insight_search.cli import app as cli_app

    from .test_api import BASE, NO_LIMITS

    with TestClient(create_app(settings, embedder=fake_embedder, limits=NO_LIMITS), base_url=BASE) as client:
        for hit in hits[:5]:
            source = client.get(f"/chunks/{hit.chunk.chunk_id}").json()["source"]
            if hit.chunk.source.page_from == hit.chunk.source.page_to:
                assert (source["page"], source["page_from"]) == (hit.chunk.source.page_from, None)
            else:
                assert (source["page"], source["page_from"], source["page_to"]) == (
                    None,
                    hit.chunk.source.page_from,
                    hit.chunk.source.page_to,
                )
    top = hits[0].chunk.source
    shown = f"p. {top.page_from}" if top.page_from == top.page_to else f"pp. {top.page_from}–{top.page_to}"
    monkeypatch.setattr(embedding, "make_embedder", lambda settings, index_model_id=None: fake_embedder)
    args = ["search", "care systems", "-k", "1", "--index-dir", str(settings.index_dir)]
    out = CliRunner().invoke(cli_app, args)
    assert out.exit_code == 0 and shown in out.output, out.output
