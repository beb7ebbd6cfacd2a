"""Indicators at every edge: the CLI command (a block per indicator, --json, nothing found, bad input), the
CLI timeline's indicator lines (text, Markdown, JSON), GET and POST /indicators (the same answer; 4xx on bad
input), the timeline JSON of the API, the OpenAI-style tool list and the MCP tool."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from insight_search import embedding
from insight_search.api import create_app
from insight_search.cli import app
from insight_search.config import Settings

from .conftest import FakeEmbedder
from .indicator_samples import ALBANIA, DRR_TITLE, MEXICO, build
from .test_api import BASE, NO_LIMITS

runner = CliRunner()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return build(tmp_path_factory.mktemp("indicator-edges"))


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedding, "make_embedder", lambda settings, index_model_id=None: FakeEmbedder())


@pytest.fixture(scope="module")
def client(built: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(built, embedder=FakeEmbedder(), limits=NO_LIMITS), base_url=BASE) as c:
        yield c


def _cli(index_dir: Path, *args: str, code: int = 0) -> str:
    result = runner.invoke(app, [*args, "--index-dir", str(index_dir)])
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return " ".join(result.output.split()) if code else result.output


# ---------------------------------------------------------------- the command line


def test_cli_prints_one_block_per_indicator_with_its_periods(built: Settings, fake_model: None) -> None:
    filters = ("--country", "albania", "--year", "2021")
    out = _cli(built.index_dir, "indicators", "legal frameworks DRR", *filters)
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    assert lines == [
        "1 indicator",
        DRR_TITLE,
        f"activity: Gender-responsive disaster risk reduction in Albania ({ALBANIA})",
        "result: Gender equality is part of disaster risk reduction policy",
        "measure: unit",
        "baseline: 0 (2020) — No framework yet.",
        "2021: target 1, actual 2 — Two frameworks adopted: the DRR strategy and its action plan.",
        "2022: target Law adopted",
    ]
    every = _cli(built.index_dir, "indicators")
    assert every.startswith("3 indicators") and "undated: no target or actual" in every
    assert "2021: target 3, actual 1 — Monterrey approved its system" in every  # the 2019-2021 period


def test_cli_json_is_the_api_answer_and_nothing_found_says_so(
    built: Settings, fake_model: None, client: TestClient
) -> None:
    got = json.loads(_cli(built.index_dir, "indicators", "--agency", "UNDP", "--json"))
    assert got == client.get("/indicators", params={"agency": "UNDP"}).json()
    assert [i["doc_id"] for i in got["indicators"]] == [MEXICO] and got["total"] == 1
    none = _cli(built.index_dir, "indicators", "water", "--year", "2030")
    assert none.strip() == "No indicator “water” with --year 2030; try fewer or wider filters."
    assert "limit" in _cli(built.index_dir, "indicators", "--limit", "0", code=2)
    assert "year" in _cli(built.index_dir, "indicators", "--year", "1500", code=2)


def test_cli_timeline_lists_the_indicator_periods_under_their_year(built: Settings, fake_model: None) -> None:
    out = _cli(built.index_dir, "timeline", "disaster risk reduction frameworks Albania")
    year_2021 = out.split("\n2021 ")[1].split("\n2022 ")[0]
    assert f"indicator: {DRR_TITLE}: target 1, actual 2 — Two frameworks adopted" in year_2021
    year_2022 = out.split("\n2022 ")[1]
    assert f"indicator: {DRR_TITLE}: target Law adopted" in year_2022
    assert "indicator:" not in out.split("\n2021 ")[0]  # 2020: the baseline year, no period
    markdown = _cli(built.index_dir, "timeline", "disaster risk reduction frameworks", "--format", "markdown")
    assert markdown.endswith(
        "\nIndicators (target and actual of the year's period):\n"
        f"- **2021** {DRR_TITLE}: target 1, actual 2 ({ALBANIA})\n"
        f"- **2022** {DRR_TITLE}: target Law adopted ({ALBANIA})\n"
        f"- **2022** Proportion of municipalities with gender-responsive DRR plans: target 0.35 ({ALBANIA})\n"
    )
    data = json.loads(_cli(built.index_dir, "timeline", "disaster risk reduction frameworks", "--json"))
    lines = {y["year"]: [i["line"] for i in y["indicators"]] for y in data["years"]}
    assert lines[2021][0] == "target 1, actual 2" and lines.get(2020, []) == []


# ---------------------------------------------------------------- HTTP


def test_get_and_post_agree_and_type_the_values(client: TestClient) -> None:
    params = {"text": "frameworks", "year": 2021, "country": "Albania", "agency": "UN Women"}
    got = client.get("/indicators", params=params)
    posted = client.post("/indicators", json=params)
    assert got.status_code == posted.status_code == 200
    assert got.json() == posted.json()
    (ind,) = got.json()["indicators"]
    assert ind["baseline"] == 0 and ind["baseline_year"] == 2020 and ind["measure"] == "unit"
    assert [(p["year"], p["target"], p["actual"]) for p in ind["periods"]] == [
        (2021, 1, 2),
        (2022, "Law adopted", None),
    ]
    assert ind["source"]["kind"] == "iati" and ind["source"]["path"].endswith("/corpus/activities.iatitest")
    paged = client.get("/indicators", params={"limit": 1}).json()
    assert paged["total"] == 3 and paged["next_cursor"]
    second = client.post("/indicators", json={"limit": 1, "cursor": paged["next_cursor"]}).json()
    assert second["indicators"][0]["title"] != paged["indicators"][0]["title"]


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"year": 1800}, {"kind": "budget"}, {"doc_id": "x" * 1000}, {"limit": "many"}],
)
def test_bad_input_is_a_4xx_naming_the_field(client: TestClient, params: dict[str, Any]) -> None:
    for r in (client.get("/indicators", params=params), client.post("/indicators", json=params)):
        assert r.status_code == 422, r.text
        assert next(iter(params)) in r.json()["detail"]


def test_a_bad_cursor_is_refused(client: TestClient) -> None:
    r = client.get("/indicators", params={"cursor": "not-a-cursor"})
    assert 400 <= r.status_code < 500


def test_the_api_timeline_carries_the_indicator_lines(client: TestClient) -> None:
    years = client.get("/timeline", params={"q": "municipal care systems caregivers"}).json()["years"]
    by_year = {y["year"]: y["indicators"] for y in years}
    assert [(i["doc_id"], i["line"], i["title"]) for i in by_year[2021]] == [
        (MEXICO, "target 3, actual 1", "Número de sistemas municipales de cuidados")
    ]


def test_tools_list_and_mcp_call_give_the_route_answer(client: TestClient) -> None:
    from mcp import Client

    from insight_search.mcp_server import build_server

    defs = {d["function"]["name"]: d["function"] for d in client.get("/tools").json()}
    assert "text" in defs["indicators"]["parameters"]["properties"]
    service = client.app.state.service  # type: ignore[attr-defined]
    server = build_server(lambda: service, service.requests)

    async def session() -> Any:
        async with Client(server) as mcp:
            listed = await mcp.list_tools()
            good = await mcp.call_tool("indicators", {"text": "cuidados", "year": 2020})
            bad = await mcp.call_tool("indicators", {"limit": 0})
            return listed, good, bad

    listed, good, bad = anyio.run(session)
    assert "indicators" in {t.name for t in listed.tools}
    expected = client.get("/indicators", params={"text": "cuidados", "year": 2020}).json()
    assert good.is_error is not True and good.structured_content == expected
    assert [i["doc_id"] for i in expected["indicators"]] == [MEXICO]
    assert bad.is_error is True and "limit" in bad.content[0].text
