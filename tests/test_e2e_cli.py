"""End to end through the CLI with the real bundled model (all-MiniLM-L6-v2) on the sample outcome page."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from insight_search.cli import app

from .conftest import SEED

runner = CliRunner()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("e2e")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    index_dir = root / "index"
    result = runner.invoke(app, ["index", str(corpus), "--index-dir", str(index_dir)])
    assert result.exit_code == 0, result.output
    assert "Indexed 1 documents" in result.output
    return corpus, index_dir


def _search(index_dir: Path, *args: str) -> dict:
    result = runner.invoke(app, ["search", *args, "--index-dir", str(index_dir), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_search_json_has_every_field(built):
    _, index_dir = built
    out = _search(index_dir, "care system legislation", "--k", "5")
    assert out["query"] == "care system legislation" and len(out["results"]) == 5
    first = out["results"][0]
    for field in (
        "rank",
        "score",
        "chunk_id",
        "doc_id",
        "title",
        "text",
        "highlight",
        "year",
        "country",
        "agencies",
        "section",
        "source",
    ):
        assert field in first
    assert first["source"]["path"].endswith(SEED.name) and first["country"] == "Mexico"
    assert set(out["facets"]) >= {"years", "countries", "agencies"}
    assert first["section"] == "progress_note"


def test_monterrey_finds_the_2023_and_2024_notes_first(built):
    _, index_dir = built
    matches = _search(index_dir, "Monterrey", "--k", "4", "--no-related")
    years = [r["year"] for r in matches["results"]]
    assert set(years) == {2023, 2024}  # only the 2023 and 2024 notes, both of them, come first
    assert all("Monterrey" in r["text"] for r in matches["results"])
    assert len(matches["results"]) == min(4, matches["total"]) and matches["related"] == 0
    out = _search(index_dir, "Monterrey", "--k", "10")  # the default: related passages too, marked
    assert out["total"] == matches["total"] and out["related"] > 0
    listed = [r["chunk_id"] for r in out["results"] if not r["related"]]
    assert listed[: len(matches["results"])] == [r["chunk_id"] for r in matches["results"]]
    assert all("Monterrey" not in r["text"] for r in out["results"] if r["related"])


def test_funding_passage_is_found_by_partner_and_year(built):
    _, index_dir = built
    out = _search(index_dir, "Multi-Partner Trust Fund 2021", "--k", "3")
    assert "$267,469" in out["results"][0]["text"]


def test_year_filter_and_info_and_errors(built):
    _, index_dir = built
    out = _search(index_dir, "care", "--year", "2022", "--k", "10")
    assert out["results"] and {r["year"] for r in out["results"]} == {2022}
    info = runner.invoke(app, ["info", "--index-dir", str(index_dir), "--json"])
    assert json.loads(info.stdout)["counts"]["documents"] == 1
    empty = runner.invoke(app, ["search", "  ", "--index-dir", str(index_dir)])
    assert empty.exit_code == 2 and "query is empty" in empty.output
    missing = runner.invoke(app, ["search", "care", "--index-dir", str(index_dir.parent / "nowhere")])
    assert missing.exit_code == 2 and "no index" in missing.output and "Traceback" not in missing.output


def test_reindex_unchanged_embeds_nothing(built):
    corpus, index_dir = built
    command = ["index", str(corpus), "--index-dir", str(index_dir), "--json"]
    skipped = runner.invoke(app, command)  # the same files and settings: nothing to build
    assert skipped.exit_code == 0 and json.loads(skipped.stdout)["unchanged"] is True
    result = runner.invoke(app, [*command, "--force"])  # built again: every vector from the cache
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["embedded"] == 0 and report["cached"] == report["chunks"] > 0


def test_bad_file_is_named_and_exit_status_says_so(built, tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    shutil.copy(SEED, corpus / "page.txt")
    (corpus / "junk.xlsx").write_bytes(b"\x00\x01garbage")
    result = runner.invoke(app, ["index", str(corpus), "--index-dir", str(tmp_path / "i")])
    assert result.exit_code == 1
    assert "junk.xlsx" in result.output and "Traceback" not in result.output


@pytest.mark.slow
def test_index_and_search_honour_the_configured_backend(tmp_path, monkeypatch):
    # `index` and `search` must build and open the same embedder, whatever backend is configured.
    monkeypatch.setenv("INSIGHT_SEARCH_EMBEDDING_BACKEND", "static")
    monkeypatch.setenv("INSIGHT_SEARCH_MODEL_CACHE_DIR", str(tmp_path / "models"))
    corpus = tmp_path / "c"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    index_dir = tmp_path / "i"
    built = runner.invoke(app, ["index", str(corpus), "--index-dir", str(index_dir)])
    assert built.exit_code == 0, built.output
    manifest = json.loads(runner.invoke(app, ["info", "--index-dir", str(index_dir), "--json"]).stdout)
    assert "static" in manifest["model_id"]
    out = _search(index_dir, "Monterrey", "--k", "3", "--no-related")
    assert out["results"] and all(r["year"] in (2023, 2024) for r in out["results"])
