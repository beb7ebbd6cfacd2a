"""What the CLI prints, as a person reads it: progress lines off a terminal, repeats and cache hits
counted apart, records without a year, help without "<bool>", the "nothing to index" sentence, the
Markdown timeline's sources once each, and a plain "nothing matched"."""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from insight_search import embedding
from insight_search.cli import app, indexing
from insight_search.config import Settings
from insight_search.indexer import build_index

from .conftest import SEED, FakeEmbedder, write_jsonl

runner = CliRunner()
COMMANDS = [
    "index",
    "info",
    "serve",
    "mcp",
    "search",
    "summarize",
    "timeline",
    "mentions",
    "funding",
    "indicators",
]


class SlowEmbedder(FakeEmbedder):
    """The fake, taking a while per batch as a real model does."""

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        time.sleep(0.05)
        return super().embed_batch(texts)


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedding, "make_embedder", lambda settings, index_model_id=None: SlowEmbedder())


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample outcome page and a JSONL note with a country but no year, built with the fake model."""
    root = tmp_path_factory.mktemp("cli-output")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    note = {"id": "undated", "text": "Care cooperatives in Oaxaca trained caregivers.", "country": "Mexico"}
    project = {
        "id": "project",
        "text": "Daycare centres in Puebla opened for the children of market vendors.",
        "country": "Mexico",
        "year": 2022,
        "year_end": 2024,
    }
    write_jsonl(corpus / "notes.jsonl", [note, project])
    settings = Settings(index_dir=root / "index")
    build_index([corpus], settings, FakeEmbedder())
    return settings.index_dir


def _run(index_dir: Path, *args: str) -> Any:
    result = runner.invoke(app, [*args, "--index-dir", str(index_dir)])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result


def test_index_writes_progress_lines_when_not_on_a_terminal(
    tmp_path: Path, fake_model: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(indexing, "PROGRESS_SECONDS", 0.1)
    monkeypatch.setenv("INSIGHT_SEARCH_INDEX_WINDOW", "4")
    rows = [{"id": f"n{i}", "text": f"Note {i} on water point {i} in district {i}."} for i in range(60)]
    notes = write_jsonl(tmp_path / "notes.jsonl", rows)
    result = runner.invoke(app, ["index", str(notes), "--index-dir", str(tmp_path / "index"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["chunks"] == 60  # stdout keeps only the result
    lines = [line for line in result.stderr.splitlines() if line.startswith("indexing, ")]
    assert len(lines) >= 3, result.stderr
    pattern = re.compile(
        r"indexing, \d+ s in: 1 file read \(last: notes.jsonl\); (\d+) of the (\d+) chunks read so far "
        r"have vectors; [\d.]+ chunks/s(; about \d+ s left for those)?$"
    )
    counted = [m for line in lines if (m := pattern.match(line))]
    assert counted, lines
    assert all(int(m[1]) <= int(m[2]) <= 60 for m in counted)


def test_repeats_within_a_build_are_not_cache_hits(tmp_path: Path, fake_model: None, monkeypatch) -> None:
    monkeypatch.setenv("INSIGHT_SEARCH_INDEX_WINDOW", "2")  # repeats in one window and across windows
    texts = ["Water points were repaired in Chad.", "Midwives were trained in Chad.", "Clinics opened."]
    rows = [{"id": f"n{i}", "text": texts[i % 3]} for i in range(7)]
    notes = write_jsonl(tmp_path / "notes.jsonl", rows)
    command = ["index", str(notes), "--index-dir", str(tmp_path / "index")]
    first = runner.invoke(app, [*command, "--json"])
    report = json.loads(first.stdout)
    assert (report["embedded"], report["repeated"], report["cached"]) == (3, 4, 0)
    again = runner.invoke(app, [*command, "--force"])  # (unforced, the unchanged file is not rebuilt)
    assert again.exit_code == 0, again.output
    assert "0 embedded, 0 repeated in this build, 7 reused from the embedding cache" in again.stdout
    rows.append({"id": "n7", "text": "A new note on solar pumps."})
    write_jsonl(notes, [*rows, {"id": "n8", "text": "A new note on solar pumps."}])
    third = json.loads(runner.invoke(app, [*command, "--json"]).stdout)
    assert (third["embedded"], third["repeated"], third["cached"]) == (1, 1, 7)


def test_mentions_prints_a_record_without_a_year_as_a_person_would(sample_index: Path, fake_model) -> None:
    out = _run(sample_index, "mentions", "Oaxaca").stdout
    assert "None" not in out
    assert "- (Mexico) undated: …" in out


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_shows_no_value_for_a_flag(command: str) -> None:
    result = runner.invoke(app, [command, "--help"] if command else ["--help"])
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output and "--help" in result.output
    if command in ("search", "index", "info"):
        assert "--json" in result.output


def test_nothing_to_index_reads_as_a_sentence(tmp_path: Path) -> None:
    result = runner.invoke(app, ["index", "nope", "--index-dir", str(tmp_path / "index")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    message = " ".join(result.output.split())
    assert "error: nothing to index in nope: no such file or folder. The index was not changed." in message


def test_markdown_timeline_lists_each_source_once(sample_index: Path, fake_model: None) -> None:
    out = _run(sample_index, "timeline", "care system legislation Monterrey", "--format", "markdown").stdout
    body, sources = out.split("\nSources:\n")
    entries = sources.strip().splitlines()
    assert len(entries) == len({e.split("; doc ")[-1] for e in entries}) == 1, entries
    assert re.fullmatch(
        r"1\. .+ \(Mexico; 20\d\d(, 20\d\d)*; \d+ passages cited\)\. .+; doc unwomen-page:\S+\.", entries[0]
    )
    assert set(re.findall(r"\[(\d+)\]", body)) == {"1"}


@pytest.mark.parametrize("command", ["search", "summarize", "timeline"])
def test_nothing_matched_is_said_plainly(sample_index: Path, fake_model: None, command: str) -> None:
    out = _run(sample_index, command, "care", "--year", "1990").stdout
    assert out.strip() == "Nothing matched “care” (with --year 1990; try fewer or wider filters)."
    as_json = json.loads(_run(sample_index, command, "care", "--year", "1990", "--json").stdout)
    assert as_json["query"] == "care"


def test_nothing_matched_in_a_markdown_timeline(sample_index: Path, fake_model: None) -> None:
    out = _run(sample_index, "timeline", "care", "--year", "1990", "--format", "markdown").stdout
    assert out == "**care: year by year**\n\nNothing matched.\n"


def test_search_and_mentions_show_a_span_of_years(sample_index: Path, fake_model: None) -> None:
    """A record covering 2022 to 2024 reads "2022–2024" wherever its year is shown, and a year inside its
    span finds it."""
    out = _run(sample_index, "search", "Daycare Puebla vendors", "--year", "2023").stdout
    assert "(2022–2024, Mexico, text)" in out
    assert "(2022–2024, Mexico) project: …" in _run(sample_index, "mentions", "Puebla").stdout


def test_composed_hits_say_where_their_text_comes_from(sample_index: Path, fake_model: None) -> None:
    out = _run(sample_index, "search", "Multi-Partner Trust Fund contribution", "-k", "3").stdout
    assert "from the funding table" in out
