"""MCP server (Model Context Protocol, official ``mcp`` SDK): the chatbot tools of ``operations.py``.

Two transports: stdio (``insight-search mcp``, for a chat client that spawns the server) and streamable HTTP
(mounted by the API app at ``/mcp``). Tool inputs are the JSON schemas of the operations' request models (the
same the HTTP routes take); a tool's result is the route's JSON, as structured content and as text. Nothing
here imports the HTTP API, so the stdio server does not load FastAPI.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from insight_search.errors import InsightSearchError
from insight_search.operations import TOOLS, call_tool

if TYPE_CHECKING:
    from mcp.server import Server
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

    from insight_search.config import Settings
    from insight_search.embedding import Embedder
    from insight_search.requests import RequestModels
    from insight_search.service import Service

logger = logging.getLogger(__name__)

SERVER_NAME = "insight-search"
INSTRUCTIONS = (
    "Search and summarise UN results reporting (UN Women outcome pages, UN INFO work plans). "
    "Use search to find passages, summarize for a cited overview, timeline for year-by-year progress, "
    "mentions for every passage naming a term, funding for partner contributions and resources, "
    "indicators for results indicators with baseline, targets and actuals per period. "
    "Cite doc_id and year from the results."
)
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def build_server(get_service: Callable[[], Service], models: RequestModels) -> Server[Any]:
    """A low-level MCP server whose tools run the operations of ``get_service()``; their input schemas are
    ``models``' (the request models of the service's settings)."""
    import anyio.to_thread
    import mcp.types as types
    from mcp.server import Server, ServerRequestContext

    from insight_search import __version__

    tools = [
        types.Tool(
            name=t.name,
            description=t.description,
            input_schema=t.request(models).model_json_schema(),
            output_schema=t.output.model_json_schema(),
        )
        for t in TOOLS
    ]

    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools)

    async def run_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        try:
            out = await anyio.to_thread.run_sync(call_tool, get_service(), params.name, params.arguments)
        except InsightSearchError as exc:
            return types.CallToolResult(
                content=[types.TextContent(type="text", text=str(exc))], is_error=True
            )
        data = out.model_dump(mode="json")
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=json.dumps(data, ensure_ascii=False))],
            structured_content=data,
        )

    schemas = {t.name: t.request(models).model_json_schema() for t in TOOLS}

    def input_schema(name: str) -> dict[str, Any] | None:
        return schemas.get(name)

    return Server(
        SERVER_NAME,
        version=__version__,
        instructions=INSTRUCTIONS,
        get_tool_input_schema=input_schema,
        on_list_tools=list_tools,
        on_call_tool=run_tool,
    )


def http_session_manager(server: Server[Any], settings: Settings) -> StreamableHTTPSessionManager:
    """Streamable HTTP for the API app: stateless JSON responses (the tools need no session). When the app
    listens on a loopback address, requests must name a loopback host (protection from DNS rebinding)."""
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
    from mcp.server.transport_security import TransportSecuritySettings

    security = None
    if settings.host in LOOPBACK:
        security = TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=["127.0.0.1", "127.0.0.1:*", "localhost", "localhost:*", "[::1]", "[::1]:*"],
            allowed_origins=[
                "http://127.0.0.1:*",
                "http://localhost:*",
                "http://[::1]:*",
                *settings.cors_origins,
            ],
        )
    return StreamableHTTPSessionManager(
        app=server, json_response=True, stateless=True, security_settings=security
    )


async def serve_stdio(settings: Settings, embedder: Embedder | None = None) -> None:
    """Load the index, then answer MCP requests on stdin/stdout until the client closes them."""
    from mcp.server.stdio import stdio_server

    from insight_search.service import Service

    service = Service.open(settings, embedder)
    server = build_server(lambda: service, service.requests)
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())
