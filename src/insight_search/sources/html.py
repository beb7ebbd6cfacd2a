"""Reader for saved web pages (``.html``, ``.htm``; lxml's HTML parser): one document per page, headings as
sections.

The page's main content is read, not its frame: scripts, styles, forms, ``nav``, ``aside``, the page's own
``header`` and ``footer`` (those outside an ``article`` or ``main``), hidden elements, ARIA banners,
navigation and footers (``role``), and link lists (a list or block whose text is mostly links: a menu without
a ``nav``) are dropped; then the ``main`` element (or ``role="main"``, or a page's only ``article``) is
read when the page has one, else the whole body. Headings h1-h6 start sections, paragraphs, list items and
other blocks are their text, each table row a line "Header: value; ..." (see
:mod:`insight_search.sources.headed_text`). The title is the ``<title>``, or the first h1 when the
``<title>`` holds it with the site's name; the language the ``<html lang>`` (primary subtag, "en"); the
year the first publication date a ``<meta>`` gives (published/issued, then created and modified dates),
unless a sidecar ``page.html.meta.json`` says it.

Bytes become text by the byte-order mark, else the ``<meta charset>`` (or ``http-equiv`` Content-Type),
else UTF-8, else windows-1252 (what browsers assume for a page that declares nothing).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from insight_search.errors import UnreadableFile
from insight_search.models import Document
from insight_search.sources.common import (
    SNIFF_BYTES,
    Warn,
    clean_text,
    date_year,
    doc_name,
    extension,
    read_bytes,
    read_sidecar,
    short_error,
)
from insight_search.sources.headed_text import Block, DocumentInfo, headed_document, table_rows
from insight_search.text import clean_whitespace

KIND = "html"
EXTENSIONS = frozenset({".html", ".htm"})

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([a-zA-Z0-9_.:-]+)", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_HTML_TAG = re.compile(
    r"<(?:!doctype\s+html|html|head|body|title|meta|p|div|h[1-6]|article|main|section|table|ul|ol|span|a)\b",
    re.IGNORECASE,
)
# Dropped wherever they are: not text a reader of the page reads as its content.
_DROP_TAGS = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "nav",
        "aside",
        "form",
        "button",
        "select",
        "textarea",
        "input",
        "label",
        "svg",
        "canvas",
        "iframe",
        "object",
        "embed",
        "dialog",
        "menu",
        "head",
    }
)
_DROP_ROLES = frozenset(
    {
        "navigation",
        "banner",
        "contentinfo",
        "search",
        "complementary",
        "menu",
        "menubar",
        "dialog",
        "alert",
        "toolbar",
    }
)
# Class or id words of page furniture (a whole word of the attribute: "cookie-banner", "site_menu").
_FURNITURE = re.compile(
    r"(?:^|[\s_-])(?:cookies?|breadcrumbs?|skip-link|share|social|menu|navbar|sidebar|newsletter|"
    r"visually-hidden|sr-only|screen-reader-text|pagination|related-links)(?:$|[\s_-])",
    re.IGNORECASE,
)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
# Elements that end the text before them and start a new paragraph.
_BLOCKS = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "main",
        "li",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "blockquote",
        "pre",
        "figure",
        "figcaption",
        "address",
        "details",
        "summary",
        "header",
        "footer",
        "hr",
        "br",
        "body",
        "center",
        "fieldset",
        "caption",
        "tr",
        "td",
        "th",
    }
)
_LINK_LISTS = frozenset({"ul", "ol", "div", "section", "p"})
_LINK_SHARE = 0.6  # a list or block whose text is at least this share link text (and 3 links) is a menu
# Meta dates, best first: when the page was published, then when it was made or changed.
_DATE_META = (
    "citation_publication_date",
    "dc.date.issued",
    "dcterms.issued",
    "article:published_time",
    "datepublished",
    "publication_date",
    "pubdate",
    "date",
    "dc.date",
    "dcterms.date",
    "dcterms.created",
    "dc.date.created",
    "citation_date",
    "article:modified_time",
    "og:updated_time",
    "dcterms.modified",
    "last-modified",
)


def sniff(path: Path, head: bytes) -> bool:
    """Any ``.html``/``.htm`` file: one that is not a web page is refused by the reader with its reason."""
    return extension(path) in EXTENSIONS


def read(path: Path, warn: Warn, *, root: Path | None = None) -> Iterator[Document]:
    return read_html(path, name=doc_name(path, root))


def read_html(path: Path, *, name: str | None = None) -> Iterator[Document]:
    """One document per page; ``name`` (default: the file name) makes the doc_id ``html:<name>``."""
    text = decode_html(path, read_bytes(path))
    yield html_document(text, path=path, name=name or path.name)


def decode_html(path: Path, data: bytes) -> str:
    """A page's bytes as text (see the module docstring); UnreadableFile for an empty or binary file."""
    if not data.strip():
        raise UnreadableFile(path, "empty file")
    mark = next(((bom, name) for bom, name in _BOMS if data.startswith(bom)), None)
    encoding: str | None
    if mark is not None:
        encoding, data = mark[1], data[len(mark[0]) :]
    elif b"\x00" in data[:SNIFF_BYTES]:
        raise UnreadableFile(path, "binary file (NUL bytes), not an HTML page")
    else:
        encoding = _declared_charset(data[:SNIFF_BYTES])
    if encoding is None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("windows-1252", errors="replace")
    else:
        text = data.decode(encoding, errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _declared_charset(head: bytes) -> str | None:
    match = _CHARSET.search(head)
    if not match:
        return None
    try:
        name = codecs.lookup(match.group(1).decode("ascii")).name
    except (LookupError, UnicodeDecodeError):
        return None
    # As browsers do: Latin-1 and ASCII labels mean windows-1252; a page in bytes cannot really be UTF-16.
    if name in ("latin-1", "iso8859-1", "ascii"):
        return "windows-1252"
    return "utf-8" if name.startswith("utf-16") else name


def html_document(text: str, *, path: Path, name: str) -> Document:
    """The document of a page's text (see the module docstring)."""
    if not _HTML_TAG.search(text[: SNIFF_BYTES * 8]):
        raise UnreadableFile(path, "not an HTML page (no HTML tags)")
    import lxml.etree  # lazy: only a corpus with web pages pays for it

    try:  # plain etree elements: lxml.html's element classes make a walk over a big page several times slower
        root = lxml.etree.fromstring(_XML_DECLARATION.sub("", text, count=1), lxml.etree.HTMLParser())
    except (lxml.etree.ParserError, ValueError) as exc:
        raise UnreadableFile(path, f"not a readable HTML page: {short_error(exc)}") from exc
    if root is None:
        raise UnreadableFile(path, "not a readable HTML page (no elements)")
    info = DocumentInfo(title=_title(root), year=_meta_year(root), language=_language(root))
    blocks = _Blocks()
    blocks.walk(_main_content(root))
    blocks.flush()
    if not any(b.level is None for b in blocks.out):
        raise UnreadableFile(path, "empty page (no text outside the page's navigation, header and footer)")
    heading = next((b.text for b in blocks.out if b.level == 1), None)
    if heading and (not info.title or heading.casefold() in info.title.casefold()):
        info = DocumentInfo(title=heading, year=info.year, language=info.language)
    return headed_document(blocks.out, path=path, name=name, kind=KIND, info=info, sidecar=read_sidecar(path))


def _tag(element: Any) -> str:
    tag = element.tag
    return tag.lower() if isinstance(tag, str) else ""  # comments and processing instructions have no name


def _title(root: Any) -> str | None:
    node = root.find(".//title")
    return clean_text("".join(node.itertext())) if node is not None else None


def _language(root: Any) -> str | None:
    value = root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang")
    if not value:
        for meta in root.iter("meta"):
            if (meta.get("http-equiv") or "").casefold() == "content-language":
                value = meta.get("content")
                break
    code = clean_text(value)
    return code.replace("_", "-").split("-")[0].casefold() if code else None


def _meta_year(root: Any) -> int | None:
    found: dict[str, int] = {}
    for meta in root.iter("meta"):
        key = meta.get("name") or meta.get("property") or meta.get("itemprop") or meta.get("http-equiv") or ""
        year = date_year(meta.get("content") or "")
        if year is not None:
            found.setdefault(key.strip().casefold(), year)
    return next((found[k] for k in _DATE_META if k in found), None)


def _dropped(element: Any, tag: str, in_article: bool) -> bool:
    if not tag or tag in _DROP_TAGS:
        return True
    if (element.get("role") or "").strip().casefold() in _DROP_ROLES:
        return True
    if element.get("hidden") is not None or (element.get("aria-hidden") or "").casefold() == "true":
        return True
    if _HIDDEN_STYLE.search(element.get("style") or ""):
        return True
    if tag in ("header", "footer"):  # the page's own, not an article's
        return not in_article
    names = f"{element.get('class') or ''} {element.get('id') or ''}"
    return tag not in ("body", "main", "article") and bool(_FURNITURE.search(names))


def _chars(text: str | None) -> int:
    return sum(map(len, text.split())) if text else 0


def _remove(element: Any) -> None:
    """Take ``element`` out of the tree, keeping the text that follows it."""
    parent = element.getparent()
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def _prune(element: Any, in_article: bool = False) -> tuple[int, int, int]:
    """Drop the page furniture under ``element`` (one pass, children first); returns the (text characters,
    link characters, links) left under it, by which a list or block that is mostly links is dropped too."""
    total, linked, links = _chars(element.text), 0, 0
    for child in list(element):
        tail = _chars(child.tail)
        total += tail
        tag = _tag(child)
        if _dropped(child, tag, in_article):
            _remove(child)
            continue
        child_total, child_linked, child_links = _prune(child, in_article or tag in ("article", "main"))
        if tag in _LINK_LISTS and child_links >= 3 and child_linked >= _LINK_SHARE * child_total > 0:
            _remove(child)
            continue
        total, linked, links = total + child_total, linked + child_linked, links + child_links
    if _tag(element) == "a":
        linked, links = total, links + 1
    return total, linked, links


def _main_content(root: Any) -> Any:
    body = root.find("body")
    if body is None:
        body = root
    _prune(body)
    mains = [e for e in body.iter() if _tag(e) == "main" or (e.get("role") or "").casefold() == "main"]
    articles = [e for e in body.iter("article")]
    candidates = mains[:1] or (articles if len(articles) == 1 else [])
    for candidate in candidates:
        if clean_whitespace("".join(candidate.itertext())):
            return candidate
    return body


class _Blocks:
    """The blocks of an element tree in reading order: text gathered until a block element ends it."""

    def __init__(self) -> None:
        self.out: list[Block] = []
        self._text: list[str] = []

    def flush(self) -> None:
        if self._text:
            text = clean_whitespace("".join(self._text))
            if text:
                self.out.append(Block(text))
            self._text.clear()

    def walk(self, element: Any) -> None:
        tag = _tag(element)
        if tag in _HEADINGS:
            self.flush()
            self.out.append(Block(_inner_text(element), level=_HEADINGS[tag]))
            return
        if tag == "table":
            self.flush()
            self.out.extend(table_rows(_table_cells(element)))
            return
        block = tag in _BLOCKS
        if block:
            self.flush()
        self.walk_children(element)
        if block:
            self.flush()

    def walk_children(self, element: Any) -> None:
        if element.text:
            self._text.append(element.text)
        for child in element:
            if _tag(child):
                self.walk(child)
            if child.tail:
                self._text.append(child.tail)


def _inner_text(element: Any) -> str:
    """An element's text on one line, its blocks (paragraphs in a cell, a <br> in a heading) a space apart."""
    blocks = _Blocks()
    blocks.walk_children(element)
    blocks.flush()
    return " ".join(b.text for b in blocks.out)


def _table_cells(table: Any) -> Iterator[list[str]]:
    for row in table.iter("tr"):
        if next(row.iterancestors("table"), None) is not table:
            continue  # a row of a table inside a cell: read with its cell's text
        yield [_inner_text(cell) for cell in row if _tag(cell) in ("td", "th")]
