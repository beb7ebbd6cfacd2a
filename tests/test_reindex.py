"""Indexing what the index already holds (issue 15, goal 5): ``insight-search index PATHS`` again, with the
same files and build settings, leaves the index as it is and says so; a changed file, a changed build
setting, a skipped file or ``--force`` builds again. Fake model (its model id is fixed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from insight_search import embedding, store
from insight_search.cli import app
from insight_search.config import Settings

from .conftest import FakeEmbedder, write_jsonl

runner = CliRunner()
ROWS = [
    {"id": "a", "text": "Water points were repaired in Chad.", "year": 2022},
    {"id": "b", "text": "Midwives were trained in Niger.", "year": 2023},
]


@pytest.fixture(autouse=True)
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedding, "make_embedder", lambda settings, index_model_id=None: FakeEmbedder())


def _index(tmp_path: Path, *extra: str) -> tuple[int, str, str | None]:
    """Run ``index`` on the corpus folder; (exit code, output, the current version's name afterwards)."""
    index_dir = tmp_path / "index"
    result = runner.invoke(app, ["index", str(tmp_path / "corpus"), "--index-dir", str(index_dir), *extra])
    assert "Traceback" not in result.output
    current = store.current_version(index_dir)
    return result.exit_code, result.stdout, None if current is None else current.name


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    write_jsonl(folder / "notes.jsonl", ROWS)
    return folder


def test_the_same_files_again_leave_the_index_as_it_is(tmp_path: Path, corpus: Path) -> None:
    code, built, first = _index(tmp_path)
    assert code == 0 and built.startswith("Indexed 2 documents") and first
    code, again, current = _index(tmp_path)
    assert code == 0 and current == first
    assert "already holds what" in again and "2 documents" in again and "--force" in again
    code, as_json, current = _index(tmp_path, "--json")
    report = json.loads(as_json)
    assert code == 0 and report["unchanged"] is True and report["counts"]["chunks"] == 2 and current == first
    code, forced, current = _index(tmp_path, "--force")
    assert code == 0 and forced.startswith("Indexed 2 documents") and current != first
    assert "2 reused from the embedding cache" in forced


def test_a_changed_file_or_build_setting_builds_again(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, first = _index(tmp_path)
    write_jsonl(corpus / "notes.jsonl", [*ROWS, {"id": "c", "text": "Clinics opened in Mali."}])
    code, out, second = _index(tmp_path)
    assert code == 0 and out.startswith("Indexed 3 documents") and second != first
    monkeypatch.setenv("INSIGHT_SEARCH_CHUNK_WORDS", "50")
    code, out, third = _index(tmp_path)
    assert code == 0 and out.startswith("Indexed 3 documents") and third != second
    code, out, fourth = _index(tmp_path)
    assert "already holds" in out and fourth == third  # the new setting is now the index's own
    (corpus / "extra.jsonl").write_text('{"id": "d", "text": "Seeds were given out."}\n', encoding="utf-8")
    code, out, fifth = _index(tmp_path)
    assert out.startswith("Indexed 4 documents") and fifth != fourth  # a new file


def test_what_the_build_skipped_is_named_again(tmp_path: Path, corpus: Path) -> None:
    """An unchanged index whose build skipped something: left as it is, the problems named again and the
    exit status the build had (1 for a file it could not read)."""
    (corpus / "broken.jsonl").write_text("{not json\n", encoding="utf-8")
    (corpus / "locked.txt").write_text("Clinics opened.", encoding="utf-8")
    (corpus / "locked.txt").chmod(0)
    try:
        code, first_out, first = _index(tmp_path)
        unreadable = code == 1  # (root reads any file: then only the bad record is a problem)
        assert "broken.jsonl" in first_out
        again_code, again, second = _index(tmp_path)
        assert "already holds" in again and second == first and again_code == code
        skipped = [line for line in first_out.splitlines() if line.startswith("skipped")]
        assert skipped and all(line in again for line in skipped)  # each problem named again
        assert ("could not be read" in again) == unreadable
        report = json.loads(_index(tmp_path, "--json")[1])
        assert report["unchanged"] and len(report["problems"]) == len(skipped)
    finally:
        (corpus / "locked.txt").chmod(0o644)


def test_build_settings_name_what_a_build_depends_on() -> None:
    base = Settings()
    assert base.build_settings() == Settings(query_threads=4, embed_batch_size=8).build_settings()
    for change in ({"chunk_words": 120}, {"title_in_dense": False}, {"multilingual": False}):
        assert Settings(**change).build_settings() != base.build_settings(), change
