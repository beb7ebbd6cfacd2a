"""Corpus walk and reader dispatch: ordering, hidden files, links, unsupported types, content sniffing."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from insight_search.errors import InsightSearchError, UnreadableFile
from insight_search.models import Document, Passage, SourceRef
from insight_search.sources import READERS, jsonl, plain, registry, unwomen_page
from insight_search.sources.common import SNIFF_BYTES
from insight_search.sources.registry import iter_corpus_files, read_file, reader_for
from insight_search.sources.unwomen_page import looks_like_outcome_page

SHARED = Path(__file__).parents[1] / ".." / "shared"

OUTCOME_PAGE = """Outcome summary
By 2025, the population has access to a comprehensive care system.
Outcome resources
Outcome insights and achievements
Outcome progress note for the year
The outcome has achieved substantial progress in 2022.
"""


def listing(items: list[Path | UnreadableFile], root: Path) -> list[str]:
    out = []
    for item in items:
        if isinstance(item, UnreadableFile):
            out.append(f"! {Path(item.path).relative_to(root).as_posix()}: {item.reason}")
        else:
            out.append(item.relative_to(root).as_posix())
    return out


def test_walk_is_sorted_and_skips_hidden(tmp_path: Path) -> None:
    for name in [
        "b.txt",
        "a.md",
        "sub/z.jsonl",
        "sub/c.json",
        ".git/config.txt",
        ".hidden.txt",
        "x.pptx",
        "NOEXT",
    ]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("hello")
    (tmp_path / "page.txt.meta.json").write_text("{}")
    (tmp_path / "~$lock.xlsx").write_text("lock")
    (tmp_path / "C.TXT").write_text("upper case extension")
    items = list(iter_corpus_files([tmp_path]))
    assert listing(items, tmp_path) == [
        "C.TXT",
        "! NOEXT: unsupported file type (no extension)",
        "a.md",
        "b.txt",
        "sub/c.json",
        "sub/z.jsonl",
        "! x.pptx: unsupported file type .pptx",
    ]


def test_named_paths_keep_their_order(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("b")
    (tmp_path / ".a.txt").write_text("a")
    items = list(iter_corpus_files([tmp_path / "b.txt", tmp_path / ".a.txt", tmp_path / "missing"]))
    assert listing(items, tmp_path) == ["b.txt", ".a.txt", "! missing: no such file or folder"]


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links need privileges on Windows")
def test_symlink_loop_and_duplicates(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("a")
    (tmp_path / "docs" / "loop").symlink_to(tmp_path / "docs")
    (tmp_path / "docs" / "same.txt").symlink_to(tmp_path / "docs" / "a.txt")
    (tmp_path / "docs" / "broken.txt").symlink_to(tmp_path / "nowhere.txt")
    (tmp_path / "alias").symlink_to(tmp_path / "docs")
    items = list(iter_corpus_files([tmp_path]))
    assert listing(items, tmp_path) == [
        "alias/a.txt",
        "! alias/broken.txt: broken symbolic link",
        "! alias/loop: symbolic link loop (links back to a folder that contains it)",
    ]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_special_files_are_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    assert listing(list(iter_corpus_files([tmp_path])), tmp_path) == ["! pipe.txt: not a regular file"]
    with pytest.raises(UnreadableFile, match="not a regular file"):
        list(read_file(fifo))


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_permissions(tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_text("x")
    path.chmod(0)
    try:
        with pytest.raises(UnreadableFile, match="cannot read"):
            list(read_file(path))
    finally:
        path.chmod(0o600)


def test_dispatch_by_extension(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Plain text.")
    (tmp_path / "b.markdown").write_text("# Title\n\nBody.")
    (tmp_path / "c.jsonl").write_text(json.dumps({"id": "c1", "text": "Line."}) + "\n")
    (tmp_path / "XYZ.json").write_text(json.dumps({"name": "Xland", "projects": [{"id": 1, "name": "P"}]}))
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Country", "Sub-Output", "ID"])
    sheet.append(["Chile", "Sub-output text", 42])
    (tmp_path / "americas").mkdir()
    workbook.save(tmp_path / "americas" / "gender.xlsx")

    kinds = {}
    for item in iter_corpus_files([tmp_path]):
        assert isinstance(item, Path)
        for doc in read_file(item, root=tmp_path):
            kinds[doc.doc_id] = doc.source.kind
    assert kinds == {
        "text:a.txt": "text",
        "uninfo-jwp:42": "uninfo-xlsx",
        "text:b.markdown": "markdown",
        "c1": "jsonl",
        "uninfo-api:XYZ:p:1": "uninfo-json",
    }


def test_root_makes_text_ids_relative(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    path = tmp_path / "notes" / "a.txt"
    path.write_text("Text.")
    assert next(read_file(path, root=tmp_path)).doc_id == "text:notes/a.txt"
    assert next(read_file(path)).doc_id == "text:a.txt"


def test_outcome_page_detection() -> None:
    assert looks_like_outcome_page(OUTCOME_PAGE)
    assert not looks_like_outcome_page("Outcome summary\nJust a note.")
    assert not looks_like_outcome_page("We wrote an outcome summary. Outcome insights and achievements.")


@pytest.fixture
def fake_outcome_reader(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    calls: list[Path] = []

    def read(path: Path, warn: object, *, root: Path | None = None) -> Iterator[Document]:
        calls.append(path)
        yield Document(
            doc_id="page",
            title="Outcome",
            source=SourceRef(path=str(path), kind="unwomen-page"),
            passages=(Passage(text="x", section="outcome"),),
        )

    monkeypatch.setattr(unwomen_page, "read", read)
    return calls


def test_outcome_page_goes_to_its_reader(tmp_path: Path, fake_outcome_reader: list[Path]) -> None:
    page = tmp_path / "page.txt"
    page.write_text(OUTCOME_PAGE)
    other = tmp_path / "other.txt"
    other.write_text("Outcome summary\nnothing else")
    assert [d.source.kind for d in read_file(page)] == ["unwomen-page"]
    assert [d.source.kind for d in read_file(other)] == ["text"]
    assert fake_outcome_reader == [page]


def test_outcome_page_sniffed_beyond_the_head(tmp_path: Path) -> None:
    """The summary line is near the top; the progress-note part may come after the head sniff is given."""
    page = tmp_path / "long.txt"
    summary, notes = OUTCOME_PAGE.split("Outcome insights and achievements\n")
    filler = "Indicator definition text. " * (SNIFF_BYTES // 20)
    page.write_text(f"{summary}{filler}\nOutcome insights and achievements\n{notes}")
    assert page.read_text().index("Outcome insights") > SNIFF_BYTES
    assert reader_for(page) is unwomen_page
    [doc] = read_file(page)
    assert doc.source.kind == "unwomen-page" and doc.outcome and doc.outcome.startswith("By 2025")


def test_every_reader_states_its_kind(tmp_path: Path) -> None:
    """Each reader module has KIND, EXTENSIONS, sniff and read; plain text is asked last."""
    assert READERS[-1] is plain
    assert {
        ".xlsx",
        ".json",
        ".jsonl",
        ".md",
        ".markdown",
        ".txt",
        ".docx",
        ".html",
        ".htm",
        ".pdf",
        ".xml",
    } == (registry.SUPPORTED_EXTENSIONS)
    note = tmp_path / "note.txt"
    note.write_text("Outcome summary\nJust a note.")
    head = note.read_bytes()
    claims = [reader.KIND for reader in READERS if reader.sniff(note, head)]
    assert claims == ["text"]
    page = tmp_path / "page.txt"
    page.write_text(OUTCOME_PAGE)
    assert [r.KIND for r in READERS if r.sniff(page, page.read_bytes())] == ["unwomen-page", "text"]
    assert {r.KIND for r in READERS} == {
        "uninfo-xlsx",
        "uninfo-json",
        "jsonl",
        "markdown",
        "docx",
        "html",
        "unwomen-page",
        "iati",
        "text",
        "pdf",
    }


def test_reader_bug_becomes_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(path: Path, warn: object, *, root: Path | None = None) -> Iterator[Document]:
        raise KeyError("surprise")
        yield  # pragma: no cover

    monkeypatch.setattr(jsonl, "read", broken)
    path = tmp_path / "a.jsonl"
    path.write_text("{}")
    with pytest.raises(UnreadableFile, match="reader failed: KeyError"):
        list(read_file(path))


def test_default_warn_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"id": 1, "text": "ok"}\n{bad\n')
    assert len(list(read_file(path))) == 1
    assert "line 2: invalid JSON" in caplog.text


def test_unsupported_extension(tmp_path: Path) -> None:
    path = tmp_path / "a.pptx"
    path.write_text("x")
    with pytest.raises(UnreadableFile, match=r"unsupported file type \.pptx"):
        list(read_file(path))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.binary(max_size=2000),
    ext=st.sampled_from([".xlsx", ".json", ".jsonl", ".md", ".markdown", ".txt", ".docx", ".html", ".bin"]),
)
def test_random_bytes_only_raise_domain_errors(tmp_path: Path, data: bytes, ext: str) -> None:
    path = tmp_path / f"FUZ{ext}"
    path.write_bytes(data)
    try:
        for doc in read_file(path, lambda problem: None):
            assert doc.doc_id and doc.passages
    except InsightSearchError:
        pass


def test_real_data_folder() -> None:
    data = SHARED / "data"
    if not data.exists():
        pytest.skip(f"shared data not available: {data}")
    uninfo = [data / "uninfo-api", data / "uninfo-jwp"]
    items = list(iter_corpus_files(uninfo))
    files = [i for i in items if isinstance(i, Path)]
    assert [i for i in items if isinstance(i, UnreadableFile)] == []
    assert sum(1 for f in files if f.suffix == ".xlsx") == 55
    assert sum(1 for f in files if f.suffix == ".json") == 128  # 127 countries and _index.json
    assert files == sorted(files, key=lambda p: p.relative_to(data).parts)
    # Formats without a reader yet (IATI XML, PDF) are listed with their reason, never read as something else.
    others = [i for i in iter_corpus_files([data]) if isinstance(i, UnreadableFile)]
    assert all("unsupported file type" in o.reason for o in others)


def test_real_seed_page_is_recognised() -> None:
    seeds = sorted((SHARED / "seeds").glob("*.txt"))
    if not seeds:
        pytest.skip(f"shared seeds not available: {SHARED / 'seeds'}")
    assert looks_like_outcome_page(seeds[0].read_text(encoding="utf-8"))
