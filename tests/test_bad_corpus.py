"""A messy folder: every bad file is reported by name with a reason, everything else is indexed, and the
exit status says that some files failed. Nothing raises past the CLI."""

from __future__ import annotations

import io
import json
import os
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from insight_search import store
from insight_search.cli import app
from insight_search.indexer import build_index

from .conftest import SEED

runner = CliRunner()


def _xlsx(path: Path, header: list[str], rows: list[list[object]]) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)


def make_messy_folder(root: Path) -> tuple[Path, dict[str, str]]:
    """The folder and, for each bad file, a word its reason must contain."""
    folder = root / "messy"
    folder.mkdir()
    shutil.copy(SEED, folder / "page.txt")
    (folder / "good.jsonl").write_text(
        json.dumps({"id": "ok-1", "text": "A good note on care services."})
        + "\n"
        + "{not json\n"
        + json.dumps({"id": "ok-2", "text": "Another good note on water."})
        + "\n",
        encoding="utf-8",
    )
    _xlsx(
        folder / "good.xlsx",
        ["Country", "Sub-Output", "ID", "Description", "2022 Narrative"],
        [["Chile", "Care services expanded", 1, "Municipal care.", "Progress made in 2022."]],
    )
    bad: dict[str, str] = {}
    (folder / "empty.txt").write_bytes(b"")
    bad["empty.txt"] = "empty"
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 4)
    bad["binary.txt"] = "binary"
    (folder / "latin1.txt").write_bytes("Informe de Nuevo León".encode("latin-1"))
    bad["latin1.txt"] = "UTF-8"
    good = io.BytesIO()
    _xlsx(folder / "tmp.xlsx", ["Country", "Sub-Output", "ID"], [["Chile", "x", 2]])
    data = (folder / "tmp.xlsx").read_bytes()
    (folder / "tmp.xlsx").unlink()
    (folder / "truncated.xlsx").write_bytes(data[: len(data) // 2])
    bad["truncated.xlsx"] = ""
    (folder / "renamed.xlsx").write_bytes(b"Country,Sub-Output\nChile,x\n")
    bad["renamed.xlsx"] = ""
    with zipfile.ZipFile(good, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    (folder / "zip_not_xlsx.xlsx").write_bytes(good.getvalue())
    bad["zip_not_xlsx.xlsx"] = ""
    _xlsx(folder / "wrong_columns.xlsx", ["Name", "Value"], [["a", 1]])
    bad["wrong_columns.xlsx"] = "column"
    (folder / "broken.json").write_text('{"name": "Chile", "projects": [', encoding="utf-8")
    bad["broken.json"] = "JSON"
    (folder / "wrong_shape.json").write_text("[1, 2, 3]", encoding="utf-8")
    bad["wrong_shape.json"] = ""
    (folder / "notes.pdf").write_bytes(b"%PDF-1.4")
    bad["notes.pdf"] = "damaged PDF"  # only the header: PDFium cannot load it
    (folder / "long_line.txt").write_text("word " * 420_000, encoding="utf-8")  # a 2 MB single line: indexed
    (folder / "loop").symlink_to(folder, target_is_directory=True)
    bad["loop"] = "loop"
    (folder / "dangling.txt").symlink_to(folder / "missing-target.txt")
    bad["dangling.txt"] = ""
    locked = folder / "locked.txt"
    locked.write_text("secret", encoding="utf-8")
    locked.chmod(0)
    if os.geteuid() != 0:  # root reads any file
        bad["locked.txt"] = ""
    return folder, bad


def test_messy_folder_reports_each_bad_file_and_indexes_the_rest(tmp_path: Path):
    folder, bad = make_messy_folder(tmp_path)
    index_dir = tmp_path / "index"
    result = runner.invoke(app, ["index", str(folder), "--index-dir", str(index_dir), "--json"])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    report = json.loads(result.stdout)
    reasons = {Path(p["path"]).name: p["reason"] for p in report["problems"]}
    for name, word in bad.items():
        assert name in reasons, f"{name} not reported: {reasons}"
        assert word.lower() in reasons[name].lower()
    assert "good.jsonl" in reasons and "line 2" in reasons["good.jsonl"]  # the bad line, by number
    data = store.load(index_dir)
    assert {"ok-1", "ok-2"} <= set(data.documents)
    kinds = {d.source.kind for d in data.documents.values()}
    assert {"unwomen-page", "jsonl", "uninfo-xlsx", "text"} <= kinds
    assert any(Path(d.source.path).name == "long_line.txt" for d in data.documents.values())
    assert report["failed_files"] == len(bad)


def test_a_failed_update_keeps_the_index_intact(tmp_path: Path, fake_embedder):
    from insight_search.config import Settings

    corpus = tmp_path / "c"
    corpus.mkdir()
    shutil.copy(SEED, corpus / "page.txt")
    settings = Settings(index_dir=tmp_path / "i")
    build_index([corpus], settings, fake_embedder)
    before = store.load(settings.index_dir)

    class Broken(type(fake_embedder)):  # type: ignore[misc]
        def embed_batch(self, texts):
            raise RuntimeError("model crashed")

    (corpus / "new.txt").write_text("A new note that needs embedding.", encoding="utf-8")
    with pytest.raises(RuntimeError):
        build_index([corpus], settings, Broken())
    after = store.load(settings.index_dir)
    assert [c.chunk_id for c in after.chunks] == [c.chunk_id for c in before.chunks]


def test_a_20_mb_jsonl_record_does_not_lose_the_rest_of_the_file(tmp_path: Path) -> None:
    """A 20 MB record made Punkt hit NLTK's 5-second clock: the file was reported as "cannot read file" and
    every record after it was lost, unnamed. Now it is indexed, and so are the records after it, in time
    bounded by the input (about 15 s here, on a busy 2-core machine; the old code failed after 20 s)."""
    import time

    from insight_search.chunking import default_max_chars
    from insight_search.config import Settings

    from .conftest import FakeEmbedder

    sentence = "UN Women supported the municipal care system with training for officials. "
    huge = (sentence * (20_000_000 // len(sentence) + 1))[:20_000_000]
    records = [{"id": f"before-{i}", "text": f"Before record {i} about water."} for i in range(3)]
    records.append({"id": "huge", "text": huge})
    records += [{"id": f"after-{i}", "text": f"After record {i} about the equality law."} for i in range(3)]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "records.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    settings = Settings(index_dir=tmp_path / "index", corpus_paths=[corpus])
    started = time.perf_counter()
    report = build_index([corpus], settings, FakeEmbedder())
    assert time.perf_counter() - started < 300
    assert report.problems == ()
    data = store.load(settings.index_dir, expected_model_id=FakeEmbedder.model_id)
    assert {c.doc_id for c in data.chunks} == {r["id"] for r in records}
    assert max(len(c.text) for c in data.chunks) <= default_max_chars(settings.chunk_words)
