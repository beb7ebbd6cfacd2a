"""The Word (.docx) and web page (.html) readers: headings as sections, passages, tables, title, year,
language, the page frame left out, bad files named with their reason, and both indexed and searched.

There is no saved page or Word report in ../shared: the files are made here, a Word report with python-docx
and a page modelled on a UN Women Transparency Portal outcome page (site menu, header, footer, cookie banner,
breadcrumb, a funding table)."""

from __future__ import annotations

import codecs
import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import pytest

from insight_search.errors import UnreadableFile
from insight_search.indexer import build_index
from insight_search.models import Document, Section
from insight_search.search import open_searcher
from insight_search.sources import docx as docx_reader
from insight_search.sources import html as html_reader
from insight_search.sources.headed_text import MERGE_WORDS, Block, section_passages, table_rows
from insight_search.sources.registry import read_file, reader_for

from .conftest import FakeEmbedder, call

CARE = (
    "The Senate approved the general law on the national care system, drafted with UN Women technical "
    "assistance and consultations with domestic workers' organisations in twelve states."
)
LONG = " ".join(["Municipal care services were mapped in Monterrey and in Guadalajara."] * 20)  # 200 words


def make_docx(
    path: Path, *, title: str | None = "Annual report on results 2023", created: int = 2024
) -> Path:
    import docx

    word = docx.Document()
    if title is not None:
        word.core_properties.title = title
    word.core_properties.created = dt.datetime(created, 2, 15, 9, 0, tzinfo=dt.UTC)
    word.sections[0].header.paragraphs[0].text = "Draft for internal review"  # a running header
    word.add_paragraph("UN Women Mexico Country Office", style="Title")
    word.add_paragraph("This report covers the work of the country office.")
    word.add_heading("Executive summary", level=1)
    word.add_paragraph("Mexico advanced towards a comprehensive care system.")
    word.add_paragraph("Three states of Mexico adopted care policies.", style="List Bullet")
    word.add_heading("Results in 2023", level=1)
    word.add_heading("Care systems", level=2)
    word.add_paragraph(CARE)
    word.add_paragraph(LONG)
    table = word.add_table(rows=3, cols=3)
    for row, values in zip(
        table.rows,
        (
            ("Partner", "Year", "Total contribution"),
            ("Spain", "2023", "$ 250,000"),
            ("Sweden", "2023", "$ 80,000"),
        ),
        strict=True,
    ):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    word.add_heading("Lessons learned", level=1)
    para = word.add_paragraph("Working with ")
    para.add_run("municipal governments").bold = True
    para.add_run(" made the policies last.")
    word.save(str(path))
    return path


PAGE = """<!DOCTYPE html>
<html lang="en-US">
<head>
  <meta charset="utf-8">
  <title>Outcome MEX_D_1.1 | UN Women Transparency Portal</title>
  <meta name="description" content="Results of UN Women in Mexico">
  <meta property="article:modified_time" content="2024-05-02T10:00:00Z">
  <meta name="dc.date.issued" content="2023-11-20">
  <link rel="stylesheet" href="/styles.css">
  <style>.hero { color: navy }</style>
  <script>window.dataLayer = [{"page": "outcome tracking script"}];</script>
</head>
<body>
  <div id="cookie-banner">We use cookies to improve your experience. Accept all cookies</div>
  <header class="site-header">
    <a href="/">UN Women Transparency Portal</a>
    <form role="search"><input name="q" placeholder="Search the portal"><button>Search</button></form>
  </header>
  <nav aria-label="Main menu">
    <ul><li><a href="/">Home</a></li><li><a href="/where">Where we work</a></li>
    <li><a href="/funding">Funding partners</a></li></ul>
  </nav>
  <div class="region-links">
    <a href="/africa">Africa region</a> <a href="/americas">Americas region</a>
    <a href="/asia">Asia region</a> <a href="/europe">Europe region</a>
  </div>
  <main>
    <ol class="breadcrumb"><li><a href="/">Home</a></li><li><a href="/mexico">Mexico</a></li></ol>
    <h1>Outcome MEX_D_1.1</h1>
    <p>By 2025, the population in conditions of greatest vulnerability has access to a comprehensive
       quality <b>care system</b> in Mexico.</p>
    <h2>Outcome summary</h2>
    <p>UN Women supports the design of the national care system with federal and local governments.</p>
    <ul><li>Technical assistance to the Senate</li><li>Training of care workers</li></ul>
    <h2>Our funding partners contributions</h2>
    <table>
      <thead><tr><th>Partner</th><th>Year</th><th>Total contribution</th></tr></thead>
      <tbody>
        <tr><td>Spain</td><td>2022</td><td>$ 120,000</td></tr>
        <tr><td>Sweden</td><td>2023</td><td>$ 95,500</td></tr>
      </tbody>
    </table>
    <h2>Outcome progress note for the year 2022</h2>
    <p>In 2022 the <a href="/senate">Senate</a> approved the reform that recognises care as a right.</p>
    <div style="display:none">Hidden share dialog text</div>
    <div class="social-share"><a href="#">Share on LinkedIn</a></div>
  </main>
  <footer>
    <p>&copy; 2024 UN Women. All rights reserved. Privacy notice. Terms of use.</p>
  </footer>
  <script src="/analytics.js"></script>
</body>
</html>
"""
FRAME_TEXT = (
    "cookies",
    "Search the portal",
    "Where we work",
    "Americas region",
    "All rights reserved",
    "tracking script",
    "navy",
    "Hidden share",
    "Share on LinkedIn",
    "Home",
)


def _all_text(doc: Document) -> str:
    return "\n".join(p.text for p in doc.passages)


def _one(path: Path) -> Document:
    [doc] = list(read_file(path))
    return doc


# ---------------------------------------------------------------- Word


def test_docx_headings_are_sections_with_their_year(tmp_path: Path) -> None:
    doc = _one(make_docx(tmp_path / "report.docx"))
    assert doc.source.kind == "docx" and doc.doc_id == "docx:report.docx"
    assert doc.title == "Annual report on results 2023"  # the core properties' title
    assert doc.year == 2024  # the creation date
    by_label = {}
    for p in doc.passages:
        by_label.setdefault(p.label, []).append(p)
    # the Title paragraph is a heading too: the text under it is its section
    [intro] = by_label["UN Women Mexico Country Office"]
    assert intro.text == "This report covers the work of the country office."
    [summary] = by_label["Executive summary"]
    assert summary.section == "executive_summary" and summary.year is None
    # short paragraphs of one section share a passage, each on a line of its own (list items too)
    assert summary.text.split("\n") == [
        "Mexico advanced towards a comprehensive care system.",
        "Three states of Mexico adopted care policies.",
    ]
    care = by_label["Care systems"]
    # a sub-heading takes the year of the heading above it; the long paragraph is a passage of its own;
    # the table is a passage of its own, composed from its cells
    assert [p.year for p in care] == [2023, 2023, 2023]
    assert care[0].text == CARE and care[1].text == LONG
    assert care[2].composed and care[2].text == (
        "Partner: Spain; Year: 2023; Total contribution: $ 250,000\n"
        "Partner: Sweden; Year: 2023; Total contribution: $ 80,000"
    )
    assert not care[0].composed and care[0].section == "care_systems"
    # runs of one paragraph are joined as written
    assert by_label["Lessons learned"][0].text == "Working with municipal governments made the policies last."
    assert doc.country == "Mexico"  # the text names it clearly
    assert "Draft for internal review" not in _all_text(doc)


def test_docx_title_from_the_first_heading_and_year_from_a_sidecar(tmp_path: Path) -> None:
    path = make_docx(tmp_path / "report.docx", title=None)
    assert _one(path).title == "UN Women Mexico Country Office"
    (tmp_path / "report.docx.meta.json").write_text(
        json.dumps({"year": 2022, "country": "Chile", "doc_id": "MEX-2022", "themes": ["care"], "code": "X1"})
    )
    doc = _one(path)
    assert (doc.year, doc.country, doc.doc_id, doc.themes) == (2022, "Chile", "MEX-2022", ("care",))
    assert doc.metadata["code"] == "X1"


def test_docx_made_from_the_python_docx_template_has_no_year(tmp_path: Path) -> None:
    import docx

    word = docx.Document()  # its core properties keep the template's 2013 date
    word.add_paragraph("Only a paragraph.")
    word.save(str(tmp_path / "bare.docx"))
    doc = _one(tmp_path / "bare.docx")
    assert doc.year is None and doc.title == "bare.docx"
    assert [(p.section, p.label) for p in doc.passages] == [(Section.TEXT, None)]


def test_docx_style_based_on_a_heading_is_a_heading(tmp_path: Path) -> None:
    import docx
    from docx.enum.style import WD_STYLE_TYPE

    word = docx.Document()
    custom = word.styles.add_style("Report Heading", WD_STYLE_TYPE.PARAGRAPH)
    custom.base_style = word.styles["Heading 2"]
    word.add_paragraph("Progress note 2021", style="Report Heading")
    word.add_paragraph("Care policies were drafted.")
    word.save(str(tmp_path / "custom.docx"))
    [p] = _one(tmp_path / "custom.docx").passages
    assert (p.section, p.year, p.label) == (Section.PROGRESS_NOTE, 2021, "Progress note 2021")


def test_docx_tracked_changes_keep_inserted_text_only(tmp_path: Path) -> None:
    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    word = docx.Document()
    para = word.add_paragraph("The policy was ")
    deleted = '<w:del {} w:id="1" w:author="a"><w:r><w:delText>rejected</w:delText></w:r></w:del>'
    inserted = '<w:ins {} w:id="2" w:author="a"><w:r><w:t>adopted</w:t></w:r></w:ins>'
    for change in (deleted, inserted):
        para._p.append(parse_xml(change.format(nsdecls("w"))))
    word.save(str(tmp_path / "changes.docx"))
    [p] = _one(tmp_path / "changes.docx").passages
    assert p.text == "The policy was adopted"


def _reason(path: Path) -> str:
    with pytest.raises(UnreadableFile) as err:
        list(read_file(path))
    assert err.value.path == str(path)
    return err.value.reason


def test_bad_docx_files_are_named_with_their_reason(tmp_path: Path) -> None:
    good = make_docx(tmp_path / "good.docx").read_bytes()
    (tmp_path / "truncated.docx").write_bytes(good[: len(good) // 2])
    assert "corrupt Word file" in _reason(tmp_path / "truncated.docx")

    (tmp_path / "notes.docx").write_text("Just some notes saved with the wrong name.\n", encoding="utf-8")
    assert _reason(tmp_path / "notes.docx") == "not a Word file: text, not a .docx (zip) archive"

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("content.xml", "<office/>")
    (tmp_path / "other.docx").write_bytes(buffer.getvalue())
    assert "without word/document.xml" in _reason(tmp_path / "other.docx")

    broken = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, b"<w:document><w:body><w:p>" if item.filename == "word/document.xml" else data)
    (tmp_path / "badxml.docx").write_bytes(broken.getvalue())
    assert "corrupt Word file" in _reason(tmp_path / "badxml.docx")

    stored = io.BytesIO()  # document.xml stored as it is, then one of its bytes changed: a bad CRC
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as dst:
        for item in src.infolist():
            dst.writestr(item.filename, src.read(item))
    damaged = stored.getvalue().replace(b"Executive summary", b"Executive summarx")
    (tmp_path / "crc.docx").write_bytes(damaged)
    assert "corrupt Word file" in _reason(tmp_path / "crc.docx")

    # An encrypted OOXML file is a Compound File holding an "EncryptedPackage" stream (the header and the
    # directory entry's UTF-16 name are what the reader looks at; office tools write the rest).
    stream = "EncryptedPackage".encode("utf-16-le")
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + stream + bytes(512)
    (tmp_path / "locked.docx").write_bytes(ole)
    assert "password-protected" in _reason(tmp_path / "locked.docx")
    (tmp_path / "old.docx").write_bytes(ole.replace(stream, bytes(32)))
    assert "Word 97-2003" in _reason(tmp_path / "old.docx")

    (tmp_path / "empty.docx").write_bytes(b"")
    assert _reason(tmp_path / "empty.docx") == "empty file"


# ---------------------------------------------------------------- web pages


@pytest.mark.parametrize("main", ["main", "div"])
def test_html_sections_without_the_page_frame(tmp_path: Path, main: str) -> None:
    # with a <main>, and without one: the frame is dropped by its tags, roles, classes and link density
    path = tmp_path / "outcome.html"
    path.write_text(PAGE.replace("<main>", f"<{main}>").replace("</main>", f"</{main}>"), encoding="utf-8")
    doc = _one(path)
    assert doc.source.kind == "html" and doc.doc_id == "html:outcome.html"
    # <title> holds the h1 and the site's name: the h1 is the title
    assert doc.title == "Outcome MEX_D_1.1"
    assert doc.metadata["language"] == "en"
    assert doc.year == 2023  # dc.date.issued (the publication date) wins over the modified time
    text = _all_text(doc)
    assert not [t for t in FRAME_TEXT if t in text]
    sections = [(p.section, p.label, p.year) for p in doc.passages]
    assert sections == [
        ("outcome_mex_d_1_1", "Outcome MEX_D_1.1", None),
        ("outcome_summary", "Outcome summary", None),
        ("our_funding_partners_contributions", "Our funding partners contributions", None),
        # as a Markdown heading: a heading is a shared section only when it names one ("Progress note 2022")
        ("outcome_progress_note_for_the_year_2022", "Outcome progress note for the year 2022", 2022),
    ]
    first, summary, funding, note = doc.passages
    # inline markup joins its words; list items are lines of their own
    assert "a comprehensive quality care system in Mexico." in first.text
    assert summary.text.split("\n") == [
        "UN Women supports the design of the national care system with federal and local governments.",
        "Technical assistance to the Senate",
        "Training of care workers",
    ]
    assert funding.composed and funding.text == (
        "Partner: Spain; Year: 2022; Total contribution: $ 120,000\n"
        "Partner: Sweden; Year: 2023; Total contribution: $ 95,500"
    )
    assert note.text == "In 2022 the Senate approved the reform that recognises care as a right."


def test_html_without_main_reads_the_body_and_title_from_title(tmp_path: Path) -> None:
    page = (
        "<html><head><title>Care systems in Latin America</title></head><body>"
        "<nav><a href='/'>Home</a></nav><h2>Chile</h2><p>Chile created a national care system in 2022.</p>"
        "<footer>Contact us</footer></body></html>"
    )
    path = tmp_path / "page.htm"
    path.write_text(page, encoding="utf-8")
    doc = _one(path)
    assert doc.title == "Care systems in Latin America"
    assert doc.year is None and "language" not in doc.metadata
    [p] = doc.passages
    assert (p.label, p.text) == ("Chile", "Chile created a national care system in 2022.")


def test_html_blocks_inside_a_heading_or_a_cell_are_a_space_apart(tmp_path: Path) -> None:
    page = (
        "<html><body><h2>Outcome<br>summary</h2><p>Care policies.</p><table><tr><td><p>Law</p><p>adopted</p>"
        "</td><td>2023</td></tr></table></body></html>"
    )
    path = tmp_path / "page.html"
    path.write_text(page, encoding="utf-8")
    text, table = _one(path).passages
    assert (text.label, text.text, table.text) == ("Outcome summary", "Care policies.", "Law adopted; 2023")


def test_html_encoding_from_meta_charset_and_byte_order_mark(tmp_path: Path) -> None:
    declared = "<meta charset='windows-1252'>"
    body = (
        f"<html><head>{declared}<title>Género</title></head>"
        "<body><p>Política de cuidados, año 2023.</p></body></html>"
    )
    path = tmp_path / "latin.html"
    path.write_bytes(body.encode("windows-1252"))
    doc = _one(path)
    assert doc.title == "Género" and doc.passages[0].text == "Política de cuidados, año 2023."
    legacy = body.replace(
        declared, "<meta http-equiv='Content-Type' content='text/html; charset=ISO-8859-1'>"
    )
    path.write_bytes(legacy.encode("latin-1"))
    assert _one(path).title == "Género"
    path.write_bytes(b"\xef\xbb\xbf" + body.replace("windows-1252", "utf-8").encode("utf-8"))
    assert _one(path).title == "Género"
    path.write_bytes(codecs.BOM_UTF16_LE + body.replace(declared, "").encode("utf-16-le"))
    assert _one(path).passages[0].text == "Política de cuidados, año 2023."
    # nothing declared and not UTF-8: what browsers assume (windows-1252)
    path.write_bytes(body.replace(declared, "").encode("windows-1252"))
    assert _one(path).title == "Género"


def test_html_sidecar_sets_year_and_metadata(tmp_path: Path) -> None:
    path = tmp_path / "outcome.html"
    path.write_text(PAGE, encoding="utf-8")
    sidecar = {"year": "2021", "language": "es", "office": "Mexico"}
    (tmp_path / "outcome.meta.json").write_text(json.dumps(sidecar))
    doc = _one(path)
    assert (doc.year, doc.metadata["language"], doc.office) == (2021, "es", "Mexico")


def test_bad_html_files_are_named_with_their_reason(tmp_path: Path) -> None:
    (tmp_path / "image.html").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    assert _reason(tmp_path / "image.html") == "binary file (NUL bytes), not an HTML page"
    (tmp_path / "empty.html").write_bytes(b"  \n")
    assert _reason(tmp_path / "empty.html") == "empty file"
    (tmp_path / "notes.html").write_text("Plain notes, no markup at all.\n", encoding="utf-8")
    assert _reason(tmp_path / "notes.html") == "not an HTML page (no HTML tags)"
    frame_only = "<html><body><nav><a href='/'>Home</a></nav><h1>Menu</h1><footer>(c) 2024</footer></body>"
    (tmp_path / "frame.html").write_text(frame_only, encoding="utf-8")
    assert "empty page" in _reason(tmp_path / "frame.html")


# ---------------------------------------------------------------- shared parts


def test_passages_merge_short_paragraphs_up_to_the_limit() -> None:
    words = "word " * (MERGE_WORDS // 2 - 1)
    blocks = [Block("Results", level=1), Block(words), Block(words), Block(words), Block("Tail")]
    passages = section_passages(blocks)
    assert [p.text.count("\n") + 1 for p in passages] == [2, 2]  # two halves fit, the third starts anew
    assert all(p.label == "Results" for p in passages)


def test_table_rows_without_a_header_row() -> None:
    long_cell = "A first cell that is far too long to be a column header of the table"
    rows = table_rows([[long_cell, "x"], ["b", "b", ""], ["", ""]])
    # no header; a cell repeated by a merge is written once; empty rows and cells left out
    assert [b.text for b in rows] == [f"{long_cell}; x", "b"]


def test_readers_claim_their_extensions() -> None:
    assert reader_for.__name__ and docx_reader.KIND == "docx" and html_reader.KIND == "html"
    assert docx_reader.sniff(Path("a.DOCX"), b"") and not docx_reader.sniff(Path("a.doc"), b"")
    assert html_reader.sniff(Path("a.htm"), b"") and html_reader.sniff(Path("a.html"), b"")


# ---------------------------------------------------------------- end to end


def test_index_a_folder_with_a_word_report_and_a_page_then_search(tmp_path: Path, settings) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    make_docx(corpus / "report.docx")
    (corpus / "outcome.html").write_text(PAGE, encoding="utf-8")
    embedder = FakeEmbedder()
    report = build_index([corpus], settings, embedder)
    assert report.documents == 2 and report.failed_files == 0
    searcher = open_searcher(settings, embedder)
    out = call(searcher, "search", q="Senate approved the general law on the national care system", k=3)
    top = out.results[0]
    assert (top.doc_id, top.section, top.source.kind, top.year) == (
        "docx:report.docx",
        "care_systems",
        "docx",
        2023,
    )
    assert top.text == CARE
    out = call(searcher, "search", q="reform that recognises care as a right", k=3)
    top = out.results[0]
    note = "outcome_progress_note_for_the_year_2022"
    assert (top.doc_id, top.section, top.year) == ("html:outcome.html", note, 2022)
    nothing = call(searcher, "search", q="cookies privacy notice analytics", k=5)
    assert all("cookies" not in r.text and "rights reserved" not in r.text for r in nothing.results)
