"""Plain readers: .txt paragraphs, .md heading sections, .jsonl records, and bad bytes."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from insight_search.errors import InsightSearchError, UnreadableFile
from insight_search.sources.common import read_text_file
from insight_search.sources.jsonl import read_jsonl
from insight_search.sources.markdown import read_markdown
from insight_search.sources.plain import read_text

FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def test_text_paragraphs(tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_text("Annual report 2023\n\nFirst   paragraph\nwrapped line.\n\n\n  \nSecond paragraph.\n")
    [doc] = list(read_text(path))
    assert doc.doc_id == "text:note.txt" and doc.title == "Annual report 2023"
    assert [p.text for p in doc.passages] == [
        "Annual report 2023",
        "First paragraph wrapped line.",
        "Second paragraph.",
    ]
    assert {p.section for p in doc.passages} == {"text"}
    assert doc.source.kind == "text" and doc.source.path == str(path)


def test_text_long_first_line_title_is_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text("word " * 100)
    [doc] = list(read_text(path, name="sub/long.txt"))
    assert doc.title == "sub/long.txt" and doc.doc_id == "text:sub/long.txt"


def test_text_with_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffTítulo\r\n\r\nTexto en español.\r\n".encode())
    [doc] = list(read_text(path))
    assert doc.title == "Título" and [p.text for p in doc.passages] == ["Título", "Texto en español."]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b" \n\t\n", "empty file"),
        (b"caf\xe9 au lait", "not UTF-8 text"),
        (b"abc\x00def", "binary file"),
        ("hello".encode("utf-16"), "UTF-16"),
    ],
)
def test_bad_text(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(UnreadableFile) as info:
        list(read_text(path))
    assert reason in info.value.reason and info.value.path == str(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="cannot read file"):
        read_text_file(tmp_path / "nope.txt")


MARKDOWN = """Intro before any heading.

# Gender equality in Mexico

## Progress in 2023

The outcome was **partially achieved** in 2023,
see [the report](http://example.org).

- first item
- second item

```
# not a heading
code line
```

## Partners

| Partner | Amount |
|---|---|
| EU | 100 |
"""


def test_markdown_sections(tmp_path: Path) -> None:
    path = tmp_path / "report.md"
    path.write_text(MARKDOWN)
    [doc] = list(read_markdown(path))
    assert doc.title == "Gender equality in Mexico" and doc.doc_id == "text:report.md"
    assert doc.source.kind == "markdown"
    sections = [(p.section, p.label, p.year) for p in doc.passages]
    assert sections == [
        ("text", None, None),
        ("progress_in_2023", "Progress in 2023", 2023),
        ("partners", "Partners", None),
    ]
    progress = doc.passages[1].text.split("\n")
    assert progress == [
        "The outcome was partially achieved in 2023, see the report.",
        "first item",
        "second item",
        "# not a heading code line",
    ]
    assert doc.passages[2].text.split("\n") == ["Partner; Amount", "EU; 100"]


def test_markdown_only_headings(tmp_path: Path) -> None:
    path = tmp_path / "empty.md"
    path.write_text("# Title\n\n## Sub\n")
    with pytest.raises(UnreadableFile, match="no text"):
        list(read_markdown(path))


def test_markdown_heading_naming_a_shared_section(tmp_path: Path) -> None:
    """A heading that names a shared section (years aside) gives that section: one name per idea."""
    path = tmp_path / "notes.md"
    path.write_text("## Progress note 2023\n\nShelters opened.\n\n## Outcome\n\nWomen live free of violence.")
    [doc] = list(read_markdown(path))
    assert [(p.section, p.label, p.year) for p in doc.passages] == [
        ("progress_note", "Progress note 2023", 2023),
        ("outcome", "Outcome", None),
    ]


def _jsonl(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "docs.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_jsonl_records(tmp_path: Path) -> None:
    lines = [
        json.dumps(
            {
                "id": "mx-2023",
                "text": "First paragraph.\n\nSecond.",
                "title": "Mexico 2023",
                "year": "2023",
                "country": "Mexico",
                "agency": "UN Women; UNDP",
                "office": "MCO",
            }
        ),
        "",
        json.dumps({"id": 7, "text": "Seven.", "agencies": ["UNICEF", "unicef", "WHO"], "year": 2021}),
    ]
    problems: list[UnreadableFile] = []
    docs = list(read_jsonl(_jsonl(tmp_path, lines), problems.append))
    assert problems == []
    first, second = docs
    assert first.doc_id == "mx-2023" and first.title == "Mexico 2023" and first.year == 2023
    assert [p.text for p in first.passages] == ["First paragraph.", "Second."]
    assert all(p.year == 2023 for p in first.passages)
    assert first.country == "Mexico" and first.agencies == ("UN Women", "UNDP")
    assert first.office == "MCO" and dict(first.metadata) == {}
    assert first.source.kind == "jsonl" and first.source.row == 1
    assert second.doc_id == "7" and second.title == "Seven." and second.source.row == 3
    assert second.agencies == ("UNICEF", "WHO") and second.year == 2021


def test_jsonl_domain_fields_are_typed(tmp_path: Path) -> None:
    record = {
        "id": "a",
        "text": "Text.",
        "themes": ["gender", "Gender", "youth"],
        "outcome": " Women lead ",
        "partners": "European Union; Spain",
        "office": "-",
        "sdg": 5,
    }
    again = {"id": "b", "text": "Text.", "theme": "work"}
    first, second = read_jsonl(_jsonl(tmp_path, [json.dumps(record), json.dumps(again)]))
    assert first.themes == ("gender", "youth") and first.outcome == "Women lead"
    assert first.partners == ("European Union", "Spain") and first.office is None  # "-" is no office
    assert dict(first.metadata) == {"sdg": 5}
    assert second.themes == ("work",) and second.partners == ()


def test_jsonl_bad_lines_are_warnings(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "a", "text": "ok"}),
        "{not json",
        json.dumps({"text": "no id"}),
        json.dumps({"id": "b"}),
        json.dumps(["a", "list"]),
        json.dumps({"id": "a", "text": "again"}),
        json.dumps({"id": "c", "text": "bad year", "year": "soon"}),
    ]
    problems: list[UnreadableFile] = []
    docs = list(read_jsonl(_jsonl(tmp_path, lines), problems.append))
    assert [d.doc_id for d in docs] == ["a", "c"]
    assert docs[1].year is None
    reasons = [p.reason for p in problems]
    assert reasons[0].startswith("line 2: invalid JSON")
    assert reasons[1] == "line 3: missing or empty 'id' (a string or integer)"
    assert reasons[2] == "line 4: record 'b': missing or empty 'text'"
    assert reasons[3] == "line 5: expected a JSON object, got list"
    assert reasons[4] == "line 6: duplicate id 'a', skipped"
    assert reasons[5].startswith("line 7: record 'c': year 'soon'")


def test_jsonl_non_utf8_line(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b'{"id": "a", "text": "caf\xe9"}\n{"id": "b", "text": "ok"}\n')
    problems: list[UnreadableFile] = []
    assert [d.doc_id for d in read_jsonl(path, problems.append)] == ["b"]
    assert problems[0].reason.startswith("line 1: not UTF-8")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"\n\n  \n", "empty file"),
        (b"\x00\x01\x02", "binary file"),
        (b"garbage\n" * 30, "not JSON Lines"),
        (b'{"id": 1}\n', "no valid records (1 lines rejected)"),
    ],
)
def test_bad_jsonl_files(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    with pytest.raises(UnreadableFile) as info:
        list(read_jsonl(path, lambda problem: None))
    assert reason in info.value.reason


@FUZZ
@given(data=st.binary(max_size=2000))
def test_random_bytes_only_raise_domain_errors(tmp_path: Path, data: bytes) -> None:
    for name, reader in (("f.txt", read_text), ("f.md", read_markdown)):
        path = tmp_path / name
        path.write_bytes(data)
        with contextlib.suppress(InsightSearchError):
            list(reader(path))
    path = tmp_path / "f.jsonl"
    path.write_bytes(data)
    with contextlib.suppress(InsightSearchError):
        list(read_jsonl(path, lambda problem: None))


json_line = st.one_of(
    st.text(max_size=40),
    st.builds(
        json.dumps,
        st.dictionaries(
            st.sampled_from(["id", "text", "title", "year", "country", "agency", "agencies", "x"]),
            st.none() | st.booleans() | st.integers() | st.text(max_size=15) | st.lists(st.text(max_size=5)),
        ),
    ),
)


@FUZZ
@given(lines=st.lists(json_line, max_size=15))
def test_random_lines_only_raise_domain_errors(tmp_path: Path, lines: list[str]) -> None:
    path = tmp_path / "f.jsonl"
    path.write_text("\n".join(line.replace("\n", " ").replace("\r", " ") for line in lines), encoding="utf-8")
    try:
        docs = list(read_jsonl(path, lambda problem: None))
    except InsightSearchError:
        return
    assert len({d.doc_id for d in docs}) == len(docs)
    assert all(d.passages for d in docs)


def test_jsonl_record_over_the_size_limit_is_named_and_the_rest_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from insight_search.sources import jsonl

    monkeypatch.setattr(jsonl, "MAX_RECORD_BYTES", 1000)
    big = json.dumps({"id": "big", "text": "word " * 1000})
    lines = [json.dumps({"id": "a", "text": "First."}), big, json.dumps({"id": "b", "text": "Last."})]
    problems: list[UnreadableFile] = []
    docs = list(read_jsonl(_jsonl(tmp_path, lines), problems.append))
    assert [d.doc_id for d in docs] == ["a", "b"]
    assert [d.source.row for d in docs] == [1, 3]
    reason = f"line 2: record of {len(big):,} bytes is over the limit of 1,000"
    assert [p.reason for p in problems] == [reason]
