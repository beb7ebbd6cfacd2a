"""Every request bound is read from Settings and enforced the same way by every edge: the CLI, HTTP GET,
HTTP POST and the MCP tools accept the bound and refuse bound+1 with the same message."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient
from mcp import Client
from typer.testing import CliRunner

from insight_search import embedding
from insight_search.api import create_app
from insight_search.cli import app as cli_app
from insight_search.config import Settings
from insight_search.mcp_server import build_server
from insight_search.service import Service

from .conftest import FakeEmbedder
from .test_api import BASE, NO_LIMITS, QUERY, build_settings


@dataclass(frozen=True)
class Bound:
    setting: str  # the Settings field (env INSIGHT_SEARCH_<SETTING>)
    limit: int  # the value the test sets it to
    operation: str  # the operation whose request carries the bounded field
    field: str
    cli_option: str  # how the CLI spells the field ("" = the positional argument)
    value: Any  # a function of the limit: the field's value at n
    base: dict[str, Any]  # the other values of the request

    def at(self, n: int) -> Any:
        return self.value(n)


def _text(n: int) -> str:
    return "c" * n


# Each limit is above the engine's old hard-coded one (k 100, query 1,000 characters, 50 sentences, 5,000
# words, 20 a year, 200 mentions, 1,000 funding records, 200-character names, 300-character ids), so a copy
# of a limit left anywhere refuses the accepted case.
BOUNDS = (
    Bound("max_k", 150, "search", "k", "--k", int, {"q": QUERY}),
    Bound("max_query_chars", 1200, "search", "q", "", _text, {}),
    Bound("max_summary_sentences", 60, "summarize", "max_sentences", "--max-sentences", int, {"q": QUERY}),
    Bound("max_summary_words", 6000, "summarize", "max_words", "--max-words", int, {"q": QUERY}),
    Bound(
        "max_sentences_per_year",
        25,
        "timeline",
        "sentences_per_year",
        "--sentences-per-year",
        int,
        {"q": QUERY},
    ),
    Bound("max_mentions_page", 250, "mentions", "limit", "--limit", int, {"term": "Monterrey"}),
    Bound("max_funding_page", 1100, "funding", "limit", "--limit", int, {}),
    Bound("max_name_chars", 250, "search", "country", "--country", _text, {"q": QUERY}),
    Bound("max_name_chars", 250, "mentions", "term", "", _text, {}),
    Bound("max_id_chars", 350, "funding", "doc_id", "--doc-id", _text, {}),
    Bound("max_funding_page", 1100, "indicators", "limit", "--limit", int, {}),
    Bound("max_id_chars", 350, "indicators", "doc_id", "--doc-id", _text, {}),
)
IDS = [f"{b.setting}-{b.operation}-{b.field}" for b in BOUNDS]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return build_settings(tmp_path_factory.mktemp("bounds"), FakeEmbedder())


@pytest.fixture
def bounded(
    built: Settings, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Bound]:
    """The bound of the test case, set through the environment as a user would (the model is the fake)."""
    bound: Bound = request.param
    monkeypatch.setenv(f"INSIGHT_SEARCH_{bound.setting.upper()}", str(bound.limit))
    monkeypatch.setenv("INSIGHT_SEARCH_INDEX_DIR", str(built.index_dir))
    monkeypatch.setattr(embedding, "make_embedder", lambda settings, index_model_id=None: FakeEmbedder())
    yield bound


def _values(bound: Bound, n: int) -> dict[str, Any]:
    return {**bound.base, bound.field: bound.at(n)}


def _cli(bound: Bound, n: int) -> tuple[int, str]:
    values = _values(bound, n)
    positional = values.pop("q", None) or values.pop("term", None)
    args = [bound.operation] + ([positional] if positional is not None else [])
    for field, value in values.items():
        args += [f"--{field.replace('_', '-')}", str(value)]
    result = CliRunner().invoke(cli_app, [*args, "--json"])
    return result.exit_code, result.output


def _http(bound: Bound, n: int) -> list[tuple[int, str]]:
    settings = Settings()
    with TestClient(create_app(settings, embedder=FakeEmbedder(), limits=NO_LIMITS), base_url=BASE) as c:
        get = c.get(f"/{bound.operation}", params=_values(bound, n))
        post = c.post(f"/{bound.operation}", json=_values(bound, n))
    return [(r.status_code, r.json().get("detail", "") if r.status_code != 200 else "") for r in (get, post)]


def _mcp(bound: Bound, n: int) -> tuple[bool, str]:
    service = Service.open(Settings(), FakeEmbedder())
    server = build_server(lambda: service, service.requests)

    async def call() -> Any:
        async with Client(server) as client:
            return await client.call_tool(bound.operation, _values(bound, n))

    result = anyio.run(call)
    text = result.content[0].text if result.content else ""
    return bool(result.is_error), text


@pytest.mark.parametrize("bounded", BOUNDS, ids=IDS, indirect=True)
def test_every_edge_accepts_the_bound_and_refuses_one_more_with_one_message(bounded: Bound) -> None:
    bound = bounded
    code, output = _cli(bound, bound.limit)
    assert code == 0, output
    assert all(status == 200 for status, _ in _http(bound, bound.limit))
    assert _mcp(bound, bound.limit)[0] is False

    code, output = _cli(bound, bound.limit + 1)
    assert code == 2
    message = output.split("error:", 1)[1].strip()
    assert message.startswith(f"{bound.field}: ") and str(bound.limit) in message, message
    for status, detail in _http(bound, bound.limit + 1):
        assert (status, detail) == (422, message)
    assert _mcp(bound, bound.limit + 1) == (True, message)


def test_default_bounds_are_published_in_the_schemas(built: Settings) -> None:
    with TestClient(create_app(built, embedder=FakeEmbedder(), limits=NO_LIMITS), base_url=BASE) as c:
        openapi = c.get("/openapi.json").json()
        tools = {t["function"]["name"]: t["function"]["parameters"] for t in c.get("/tools").json()}
    k = tools["search"]["properties"]["k"]
    assert k["maximum"] == Settings().max_k
    params = {p["name"]: p for p in openapi["paths"]["/search"]["get"]["parameters"]}
    assert params["k"]["schema"]["maximum"] == Settings().max_k


def test_cli_refuses_before_loading_anything(tmp_path: Path) -> None:
    """A request that cannot be served is refused without a model or an index (none exists here)."""
    result = CliRunner().invoke(cli_app, ["search", QUERY, "--k", "0", "--index-dir", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert "k: Input should be greater than or equal to 1" in result.output


def test_by_default_a_query_may_be_as_long_as_a_request_body(
    built: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old default refused queries over 1,000 characters; now the bound is the request-body limit, on
    every edge (the CLI and MCP have no body, and take the same bound)."""
    monkeypatch.setenv("INSIGHT_SEARCH_INDEX_DIR", str(built.index_dir))
    monkeypatch.setattr(embedding, "make_embedder", lambda settings, index_model_id=None: FakeEmbedder())
    assert Settings().max_query_chars == Settings().max_body_bytes
    assert Settings(max_body_bytes=2000).max_query_chars == 2000
    bound = Bound("max_query_chars", Settings().max_body_bytes, "search", "q", "", _text, {})
    code, output = _cli(bound, 5000)
    assert code == 0, output
    assert all(status == 200 for status, _ in _http(bound, 5000))
    assert _mcp(bound, 5000)[0] is False
