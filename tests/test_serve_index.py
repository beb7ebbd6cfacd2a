"""``serve`` never loses an index: it builds a missing index from corpus/, rebuilds an existing one only
from its own sources (the paths its manifest records) when their files changed, serves it as it is when
those are gone, and builds from other paths only when asked (``--corpus``). Each decision is one line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from insight_search import embedding
from insight_search.cli import app

from .conftest import SEED, FakeEmbedder, write_jsonl

runner = CliRunner()
NOTES = [
    {"id": "note-1", "text": "Solar pumps brought water to rural clinics in Chad.", "year": 2022},
    {"id": "note-2", "text": "Midwives were trained in three districts of Chad.", "year": 2023},
]


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """uvicorn.run replaced (the app it would serve is kept, nothing listens); the model is the fake."""
    apps: list[Any] = []
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda application, **options: apps.append(application))
    monkeypatch.setattr(embedding, "make_embedder", lambda settings, index_model_id=None: FakeEmbedder())
    monkeypatch.delenv("INSIGHT_SEARCH_CORPUS_PATHS", raising=False)
    monkeypatch.delenv("INSIGHT_SEARCH_INDEX_DIR", raising=False)
    return apps


def _project(root: Path) -> Path:
    """A project folder as the README sets it up: corpus/ holds the sample outcome page."""
    project = root / "project"
    (project / "corpus").mkdir(parents=True)
    shutil.copy(SEED, project / "corpus" / SEED.name)
    return project


def _index(*args: str) -> None:
    result = runner.invoke(app, ["index", *args])
    assert result.exit_code == 0, result.output


def _serve(apps: list[Any], *args: str) -> tuple[str, set[str]]:
    """The output of ``serve ARGS`` and the document ids the served index holds."""
    result = runner.invoke(app, ["serve", *args])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and len(apps) == 1
    with TestClient(apps.pop(), base_url="http://127.0.0.1") as client:
        hits = client.get("/search", params={"q": "Chad water midwives care", "k": 50}).json()["results"]
    return result.output, {h["doc_id"] for h in hits}


def test_plain_serve_keeps_an_index_built_from_other_paths(
    tmp_path: Path, served: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path)
    notes = write_jsonl(tmp_path / "data" / "notes.jsonl", NOTES)
    monkeypatch.chdir(project)
    _index(str(notes))
    output, docs = _serve(served)
    assert docs == {"note-1", "note-2"}  # the JSONL's documents still answer, the sample page was not built
    assert "up to date" in output and "Building" not in output


def test_an_index_built_in_another_folder_is_checked_against_its_own_files(
    tmp_path: Path, served: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path)
    data = tmp_path / "data"
    write_jsonl(data / "notes.jsonl", NOTES)
    write_jsonl(project / "notes.jsonl", [{"id": "decoy", "text": "Not the indexed file."}])
    index_dir = str(tmp_path / "index")
    monkeypatch.chdir(data)
    _index("notes.jsonl", "--index-dir", index_dir)  # relative to data/
    monkeypatch.chdir(project)  # here notes.jsonl names another file
    output, docs = _serve(served, "--index-dir", index_dir)
    assert docs == {"note-1", "note-2"} and "up to date" in output


def test_serve_rebuilds_from_the_index_own_sources_when_they_change(
    tmp_path: Path, served: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path)
    notes = write_jsonl(tmp_path / "data" / "notes.jsonl", NOTES)
    monkeypatch.chdir(project)
    _index(str(notes))
    write_jsonl(
        notes, [*NOTES, {"id": "note-3", "text": "A water committee was set up in Chad.", "year": 2024}]
    )
    output, docs = _serve(served)
    assert docs == {"note-1", "note-2", "note-3"}
    assert f"rebuilding it from {notes}" in output and "corpus" not in output


def test_serve_keeps_an_index_whose_sources_are_gone(
    tmp_path: Path, served: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path)
    notes = write_jsonl(tmp_path / "data" / "notes.jsonl", NOTES)
    monkeypatch.chdir(project)
    _index(str(notes))
    notes.unlink()
    output, docs = _serve(served)
    assert docs == {"note-1", "note-2"}
    assert f"{notes} is gone, so it is served as it is" in " ".join(output.split())


def test_serve_builds_a_missing_index_from_corpus_and_other_paths_only_when_asked(
    tmp_path: Path, served: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path)
    notes = write_jsonl(tmp_path / "data" / "notes.jsonl", NOTES)
    monkeypatch.chdir(project)
    output, docs = _serve(served)
    assert "No index in index yet: building it from corpus" in output
    assert docs and not docs & {"note-1", "note-2"}
    output, docs = _serve(served, "--corpus", str(notes))
    assert "as asked" in output and docs == {"note-1", "note-2"}
    output, docs = _serve(served, "--corpus", str(notes))  # already holds what the path holds
    assert "Building" not in output and docs == {"note-1", "note-2"}
    monkeypatch.setenv("INSIGHT_SEARCH_CORPUS_PATHS", json.dumps(["corpus"]))  # the setting asks too
    output, docs = _serve(served)
    assert "as asked" in output and docs and not docs & {"note-1", "note-2"}


def test_the_build_folder_is_recorded_and_hidden_with_relative_paths(
    tmp_path: Path, served: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path)
    monkeypatch.chdir(project)
    _index("corpus")
    info = json.loads(runner.invoke(app, ["info", "--json"]).stdout)
    assert info["corpus_paths"] == ["corpus"] and Path(info["working_dir"]) == project.resolve()
    for mode, shown in (("absolute", True), ("relative", False)):
        monkeypatch.setenv("INSIGHT_SEARCH_PATHS", mode)
        assert runner.invoke(app, ["serve", "--no-build"]).exit_code == 0
        with TestClient(served.pop(), base_url="http://127.0.0.1") as client:
            manifest = client.get("/ready").json()["manifest"]
        assert ("working_dir" in manifest) is shown and manifest["corpus_paths"] == ["corpus"]


def test_asking_for_the_index_own_sources_keeps_it_when_they_are_gone(
    tmp_path: Path, served: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # benchmarks/http_load.py serves an index with INSIGHT_SEARCH_CORPUS_PATHS set to its own paths
    project = _project(tmp_path)
    notes = write_jsonl(tmp_path / "data" / "notes.jsonl", NOTES)
    monkeypatch.chdir(project)
    _index(str(notes))
    output, docs = _serve(served, "--corpus", str(notes))
    assert "up to date" in output and docs == {"note-1", "note-2"}
    notes.unlink()
    monkeypatch.setenv("INSIGHT_SEARCH_CORPUS_PATHS", json.dumps([str(notes)]))
    output, docs = _serve(served)
    assert "is gone, so it is served as it is" in " ".join(output.split()) and docs == {"note-1", "note-2"}
