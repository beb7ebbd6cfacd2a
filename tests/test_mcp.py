"""The MCP server: tools listed with the route parameter schemas, and called with the same JSON results as the
API; in process (FakeEmbedder) and over stdio through ``insight-search mcp`` (real model, as a chat client
would start it)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

pytest.importorskip("mcp", reason="the mcp package is a runtime dependency: pip install -e .")

from mcp import Client, ClientSession, StdioServerParameters, stdio_client  # noqa: E402

from insight_search.config import Settings  # noqa: E402
from insight_search.mcp_server import build_server  # noqa: E402
from insight_search.operations import TOOLS  # noqa: E402
from insight_search.search import Searcher, open_searcher  # noqa: E402
from insight_search.service import Service  # noqa: E402

from .conftest import FakeEmbedder, service_for  # noqa: E402
from .test_api import QUERY, build_settings  # noqa: E402


@pytest.fixture(scope="module")
def fake_service(tmp_path_factory: pytest.TempPathFactory) -> Service:
    embedder = FakeEmbedder()
    searcher: Searcher = open_searcher(build_settings(tmp_path_factory.mktemp("mcp"), embedder), embedder)
    return service_for(searcher)  # type: ignore[no-any-return]


def test_in_memory_client_lists_and_calls_every_tool(fake_service: Service) -> None:
    server = build_server(lambda: fake_service, fake_service.requests)

    async def session() -> dict[str, Any]:
        async with Client(server) as client:
            listed = await client.list_tools()
            search = await client.call_tool("search", {"q": QUERY, "k": 3, "year": 2023})
            timeline = await client.call_tool("timeline", {"q": QUERY})
            bad = await client.call_tool("search", {"q": QUERY, "k": 1000})
            unknown = await client.call_tool("delete_everything", {})
            return {
                "tools": listed.tools,
                "search": search,
                "timeline": timeline,
                "bad": bad,
                "unknown": unknown,
            }

    out = anyio.run(session)
    tools = {t.name: t for t in out["tools"]}
    assert set(tools) == {t.name for t in TOOLS}
    assert tools["search"].input_schema == fake_service.requests.search.model_json_schema()
    assert tools["timeline"].description and tools["timeline"].output_schema

    expected = fake_service.run("search", {"q": QUERY, "k": 3, "year": 2023}).model_dump(mode="json")
    assert out["search"].is_error is not True
    assert out["search"].structured_content == expected
    assert json.loads(out["search"].content[0].text) == expected
    assert {r["year"] for r in expected["results"]} == {2023}
    timeline = fake_service.run("timeline", {"q": QUERY}).model_dump(mode="json")
    assert out["timeline"].structured_content == timeline

    assert out["bad"].is_error is True and "k" in out["bad"].content[0].text
    assert out["unknown"].is_error is True and "unknown tool" in out["unknown"].content[0].text


@pytest.fixture(scope="module")
def real_index(tmp_path_factory: pytest.TempPathFactory, real_embedder: Any) -> Settings:
    return build_settings(tmp_path_factory.mktemp("mcp-real"), real_embedder)


@pytest.mark.slow
def test_stdio_server_started_by_the_cli(real_index: Settings, real_embedder: Any) -> None:
    """A chat client spawns ``insight-search mcp --index-dir DIR`` and talks MCP over its stdin/stdout."""
    params = StdioServerParameters(
        command=sys.executable,
        args=[
            "-c",
            "from insight_search.cli import main; main()",
            "mcp",
            "--index-dir",
            str(real_index.index_dir),
        ],
        cwd=str(Path(real_index.index_dir).parent),
    )

    async def session() -> tuple[list[str], Any, Any]:
        with anyio.fail_after(120):
            async with stdio_client(params) as (read, write), ClientSession(read, write) as s:
                await s.initialize()
                listed = await s.list_tools()
                found = await s.call_tool("search", {"q": QUERY, "k": 5})
                mentions = await s.call_tool("mentions", {"term": "Monterrey"})
                return [t.name for t in listed.tools], found, mentions

    names, found, mentions = anyio.run(session)
    assert sorted(names) == sorted(t.name for t in TOOLS)
    expected = service_for(open_searcher(real_index, real_embedder)).run("search", {"q": QUERY, "k": 5})
    got = found.structured_content
    assert [r["chunk_id"] for r in got["results"]] == [r.chunk_id for r in expected.results]
    assert got["results"][0]["country"] == "Mexico"
    assert mentions.structured_content["total"] >= 1
    assert all("monterrey" in p["text"].lower() for p in mentions.structured_content["passages"])
