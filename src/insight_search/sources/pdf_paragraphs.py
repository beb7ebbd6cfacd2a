"""PDF lines -> paragraphs and headings. Pure: works on :class:`~insight_search.sources.pdf_lines.Page`
values, no PDF library.

* **Running headers, footers and page numbers** are left out: a line is one when its text, with digits
  made alike ("6/126 24-23730" = "7/126 24-23730"), is on at least half of the pages (of a document of
  3 pages or more), or when it lies in the top or bottom 8% of the page and is either on 3 pages or more
  ("Chapter 2. Findings 14") or only digits, signs and roman numerals (a page number).
* **Paragraphs**: a line continues the paragraph above it when it lies just below it (a gap under
  1.55 line heights), in the same font size and weight; otherwise, or when it starts a numbered paragraph
  ("12. ", "(a) ", a bullet) after a line that ended a sentence, it starts a new one. A piece of the same row
  (a footnote mark cut out of the line) joins its line. A paragraph that a page break cuts (it does not end
  a sentence, and the next page's first text line in the same font does not start a numbered paragraph)
  goes on over the page.
* **Headings**: a block of at most 3 lines and 200 characters, all in bold or italic or larger than
  the body text (the font size most of the text has), never smaller than it.
* **Hyphenation at line ends** ("develop-" + "ment") is repaired by :func:`join_hyphenated`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from insight_search.sources.pdf_lines import Line, Page

MARGIN = 0.08  # the top and bottom bands of a page where headers, footers and page numbers are
MOST_PAGES = 0.5
MARGIN_REPEATS = 3
PARAGRAPH_GAP = 1.55  # line heights
HEADING_MAX_LINES = 3
HEADING_MAX_CHARS = 200

_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")
_PAGE_NUMBER = re.compile(r"^(?:[#\W_]|\b[ivxlc]+\b|\bpage\b|\bof\b)*$")
_NUMBERED = re.compile(r"^(?:\d{1,3}\.\s|\(?[a-z]{1,3}\)\s|[•▪●■◦‣–-]\s?)")
_SENTENCE_END = re.compile(r"[.!?:;”\"’)]$")
_HYPHEN_END = re.compile(r"([^\W\d_]+)-$")
_WORD_START = re.compile(r"^([^\W\d_]+)")
# Big print that is not a heading: an infographic's figure ("325 laws adopted", "Total expenditure: $80
# million", "90 per cent increase").
_FIGURE = re.compile(r"^[\d.,%$]+\s+[a-z]|[$%€£]|\bper cent\b")
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


def line_key(text: str) -> str:
    """A line's text with digits made alike, for finding lines repeated on many pages."""
    return _SPACES.sub(" ", _DIGITS.sub("#", text.casefold())).strip()


def running_keys(pages: Sequence[Page]) -> set[str]:
    """The keys (:func:`line_key`) of the running headers, footers and page numbers of a document."""
    on_pages: Counter[str] = Counter()
    in_margin: Counter[str] = Counter()
    for page in pages:
        keys = {line_key(line.text) for line in page.lines}
        on_pages.update(keys)
        in_margin.update({line_key(line.text) for line in page.lines if _in_margin(line, page)})
    running = set()
    if len(pages) >= 3:
        running = {key for key, n in on_pages.items() if n >= MOST_PAGES * len(pages)}
    running |= {key for key, n in in_margin.items() if n >= MARGIN_REPEATS}
    return running


def _in_margin(line: Line, page: Page) -> bool:
    return line.bottom >= page.height * (1 - MARGIN) or line.top <= page.height * MARGIN


def body_lines(pages: Sequence[Page]) -> list[Page]:
    """The pages without their running headers, footers and page numbers."""
    running = running_keys(pages)
    out = []
    for page in pages:
        kept = tuple(
            line
            for line in page.lines
            if line_key(line.text) not in running
            and not (_in_margin(line, page) and _PAGE_NUMBER.match(line_key(line.text)))
        )
        out.append(Page(page.number, page.width, page.height, kept))
    return out


@dataclass
class Block:
    """A paragraph or a heading: its lines, in reading order (possibly over a page break)."""

    lines: list[Line] = field(default_factory=list)
    heading: bool = False

    @property
    def pages(self) -> tuple[int, int]:
        return self.lines[0].page, self.lines[-1].page


def body_size(pages: Iterable[Page]) -> float:
    """The font size most of the text has."""
    sizes: Counter[float] = Counter()
    for page in pages:
        for line in page.lines:
            sizes[line.size] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 10.0


def blocks(pages: Sequence[Page]) -> list[Block]:
    """The paragraphs and headings of the pages (already without running lines), in reading order."""
    size = body_size(pages)
    out: list[Block] = []
    open_block: Block | None = None  # the previous page's last body-text paragraph (a page break may cut it)
    for page in pages:
        first_on_page = True
        current: Block | None = None
        for line in page.lines:
            if current is not None and _continues(current.lines[-1], line):
                current.lines.append(line)
                continue
            if (
                first_on_page
                and open_block is not None
                and abs(line.size - size) < 0.6
                and _cut_by_page_break(open_block.lines[-1], line)
            ):
                open_block.lines.append(line)
                current = open_block
            else:
                current = Block([line])
                out.append(current)
            if abs(line.size - size) < 0.6:
                first_on_page = False
        body = [b for b in out if b.lines[-1].page == page.number and abs(b.lines[-1].size - size) < 0.6]
        open_block = body[-1] if body else None
    for block in out:
        block.heading = _is_heading(block, size)
    return out


def _same_row(prev: Line, line: Line) -> bool:
    overlap = min(prev.top, line.top) - max(prev.bottom, line.bottom)
    return overlap > 0.5 * min(prev.height, line.height) and line.left >= prev.right - 2


def _continues(prev: Line, line: Line) -> bool:
    """Does ``line`` go on with the paragraph whose last line is ``prev``?"""
    if line.page != prev.page:
        return False
    if _same_row(prev, line):
        return True
    gap = prev.bottom - line.bottom
    if gap <= 0 or gap > PARAGRAPH_GAP * max(prev.height, line.height):
        return False
    if abs(prev.size - line.size) >= 0.6 or prev.bold != line.bold:
        return False
    if line.left > prev.right:  # the next column, level with the last line
        return False
    return not (_NUMBERED.match(line.text) and _SENTENCE_END.search(prev.text))


def _cut_by_page_break(prev: Line, line: Line) -> bool:
    if _SENTENCE_END.search(prev.text) or prev.bold != line.bold or prev.italic != line.italic:
        return False
    return line.text[:1].islower() or not _NUMBERED.match(line.text)


def _is_heading(block: Block, size: float) -> bool:
    text = " ".join(line.text for line in block.lines)
    if len(block.lines) > HEADING_MAX_LINES or len(text) > HEADING_MAX_CHARS or not _WORD.search(text):
        return False
    if any(line.size < size - 0.3 for line in block.lines) or _FIGURE.search(text):
        return False
    return all(line.bold or line.italic or line.size >= size + 0.8 for line in block.lines)


def vocabulary(pages: Iterable[Page]) -> Counter[str]:
    """How often each word (and hyphenated compound) is written whole on a line of the document."""
    counts: Counter[str] = Counter()
    for page in pages:
        for line in page.lines:
            words = _WORD.findall(line.text.casefold())
            if line.text.endswith("-") and words:  # the word cut at the line end is not whole
                words.pop()
            counts.update(words)
            for w in words:
                if "-" in w:  # "day-to-day": also "day", "to", "day-to", "to-day"
                    parts = w.split("-")
                    counts.update(parts)
                    counts.update(f"{a}-{b}" for a, b in zip(parts, parts[1:], strict=False))
    return counts


def join_hyphenated(head: str, tail: str, words: Counter[str]) -> str:
    """``head`` (a line's last word without its hyphen) and ``tail`` (the next line's first word) as one
    word: "develop" + "ment" -> "development", "gender" + "responsive" -> "gender-responsive".

    The rule, in order: the joined word written whole elsewhere in the document (more often than the
    hyphenated one) -> joined; the hyphenated compound written elsewhere -> hyphenated; either part a word of
    the document on its own ("live-saving", "gender-responsive") -> hyphenated; else (a word cut in two:
    "develop" and "ment" are no words of their own) -> joined. UN documents hyphenate compounds, not words,
    at line ends: of the 70 line-end hyphens of the five reports, all but a URL are compounds."""
    joined, compound = (head + tail).casefold(), f"{head}-{tail}".casefold()
    if words[joined] > words[compound]:
        return head + tail
    if words[compound] or words[head.casefold()] or words[tail.casefold()]:
        return f"{head}-{tail}"
    return head + tail


def block_text(block: Block, words: Counter[str]) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The text of a block on one line, hyphenation at line ends repaired, and where each of its pages
    starts: ((offset, page), ...)."""
    text = ""
    starts: list[tuple[int, int]] = []
    for line in block.lines:
        piece = line.text
        if not starts or starts[-1][1] != line.page:
            starts.append((len(text) + (1 if text else 0), line.page))
        if not text:
            text = piece
            continue
        cut = _HYPHEN_END.search(text, max(0, len(text) - 60)) if text.endswith("-") else None
        start = _WORD_START.match(piece)
        if cut and start:  # "Secretary-" + "General": the hyphen kept, no space
            head, tail = cut.group(1), start.group(1)
            word = join_hyphenated(head, tail, words) if tail[:1].islower() else f"{head}-{tail}"
            offset = cut.start(1)
            if starts[-1][0] > offset:  # the page starts inside the joined word: at its second part
                starts[-1] = (offset + len(word) - len(tail), line.page)
            text = text[:offset] + word + piece[start.end(1) :]
        else:
            text = f"{text} {piece}"
    return text, tuple(starts)
