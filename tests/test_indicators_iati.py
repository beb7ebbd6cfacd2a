"""Indicators from the real UN Women IATI file, through the edges a user has: `insight-search index` and
`insight-search indicators` in a shell, and GET /indicators. The issue's example: the Albania DRR indicator
comes back with its baseline 0 (2020) and its 2021 target of 1."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from insight_search import embedding
from insight_search.api import create_app
from insight_search.cli import app
from insight_search.config import Settings

from .conftest import FakeEmbedder, need_shared
from .test_api import BASE, NO_LIMITS

runner = CliRunner()
DRR = "Number of national legal and policy frameworks on DRR that include gender equality"


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = need_shared("data", "iati", "unwomen-activities.xml")
    target = tmp_path_factory.mktemp("unwomen-iati") / "index"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(embedding, "make_embedder", lambda settings, index_model_id=None: FakeEmbedder())
        result = runner.invoke(app, ["index", str(source), "--index-dir", str(target)])
    assert result.exit_code == 0, result.output
    assert "Indexed 13 documents" in result.output
    return target


def test_cli_finds_the_albania_drr_indicator_with_baseline_and_target(
    index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedding, "make_embedder", lambda settings, index_model_id=None: FakeEmbedder())
    query = ["indicators", "legal and policy frameworks DRR", "--country", "Albania"]
    result = runner.invoke(app, [*query, "--index-dir", str(index_dir)])
    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.output.splitlines()]
    assert lines[0] == "1 indicator"
    assert any(line.startswith(DRR) for line in lines)
    assert "baseline: 0 (2020)" in lines
    assert any(line.startswith("2021: target 1") for line in lines)


def test_api_types_the_values(index_dir: Path) -> None:
    settings = Settings(index_dir=index_dir)
    with TestClient(create_app(settings, embedder=FakeEmbedder(), limits=NO_LIMITS), base_url=BASE) as client:
        response = client.get("/indicators", params={"text": "frameworks on DRR", "country": "Albania"})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total"] == 1
        (record,) = body["indicators"]
        assert record["title"].startswith(DRR) and record["doc_id"].startswith("XM-DAC-41146-ALB")
        assert record["baseline"] == 0 and record["baseline_year"] == 2020
        (period,) = [p for p in record["periods"] if (p["end"] or "").startswith("2021")]
        assert period["target"] == 1
        every = client.get("/indicators", params={"limit": 1000}).json()
        assert every["total"] == 141  # the file's indicators (../shared/README.md)


def test_an_outcome_page_and_the_activity_its_sidecar_names_are_one_outcome(tmp_path: Path) -> None:
    """The sample page, given a sidecar naming the Albania activity, indexed beside the UN Women IATI file: a
    timeline of the page's own words (filtered to the page's file) carries the activity's indicator lines;
    without the sidecar it carries none."""
    from insight_search.indexer import build_index
    from insight_search.search import open_searcher

    from .conftest import SEED, service_for

    albania = "XM-DAC-41146-ALB_D_4.1"
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "page.txt").write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    (corpus / "page.txt.meta.json").write_text(f'{{"iati_identifier": "{albania}"}}', encoding="utf-8")
    (corpus / "unwomen.xml").write_bytes(need_shared("data", "iati", "unwomen-activities.xml").read_bytes())
    settings = Settings(index_dir=tmp_path / "index")
    embedder = FakeEmbedder()
    build_index([corpus], settings, embedder)
    service = service_for(open_searcher(settings, embedder))

    timeline = service.run("timeline", {"q": "comprehensive care system Monterrey", "source": "page.txt"})
    by_year = {y.year: y for y in timeline.years}
    assert 2021 in by_year
    assert any(line.title.startswith(DRR) for line in by_year[2021].indicators)
    unlinked = tmp_path / "unlinked"
    unlinked.mkdir()
    (unlinked / "page.txt").write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    (unlinked / "unwomen.xml").write_bytes((corpus / "unwomen.xml").read_bytes())
    other = Settings(index_dir=tmp_path / "index2")
    build_index([unlinked], other, embedder)
    plain = service_for(open_searcher(other, embedder)).run(
        "timeline", {"q": "comprehensive care system Monterrey", "source": "page.txt"}
    )
    assert plain.years and not any(y.indicators for y in plain.years)
