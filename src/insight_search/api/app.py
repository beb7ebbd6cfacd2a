"""FastAPI app factory. Nothing is built at import: the model and the index load once, in the lifespan.

Besides the routes (``api/routes.py``) the app serves the search page at ``/`` (``api/static/``), the MCP
tools over streamable HTTP at ``/mcp``, and guards everything with the middleware of ``api/guard.py``:
CORS (only the configured origins), rate limit per client address, API key (when configured), body size.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from insight_search.api.guard import (
    ApiKeyMiddleware,
    ApiLimits,
    BodyLimitMiddleware,
    HeadMiddleware,
    HostGuardMiddleware,
    RateLimitMiddleware,
    SecurityHeadersMiddleware,
)
from insight_search.config import Settings
from insight_search.embedding import Embedder
from insight_search.errors import BadInput, IndexNotFound, InsightSearchError, NotFound
from insight_search.search import Searcher

logger = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


def create_app(
    settings: Settings | None = None, *, embedder: Embedder | None = None, limits: ApiLimits | None = None
) -> FastAPI:
    settings = settings or Settings()
    limits = limits or ApiLimits.from_settings(settings)

    from mcp.server.streamable_http_manager import StreamableHTTPASGIApp

    from insight_search.mcp_server import build_server, http_session_manager

    def current_searcher() -> Searcher:
        return app.state.live.searcher  # type: ignore[no-any-return]

    mcp_server = build_server(current_searcher)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from insight_search.live import LiveSearcher

        # The index is loaded once here; a rebuilt index is swapped in by the watcher (or POST /admin/reload).
        live = LiveSearcher(settings, embedder)
        app.state.live = live
        if settings.index_reload_seconds > 0:
            live.start_watching(settings.index_reload_seconds)
        # A session manager runs once: each start of the app gets a new one.
        sessions = http_session_manager(mcp_server, settings)
        app.state.mcp_endpoint = StreamableHTTPASGIApp(sessions)
        try:
            async with sessions.run():
                yield
        finally:
            live.stop()

    async def mcp_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        await app.state.mcp_endpoint(scope, receive, send)

    app = FastAPI(
        title="insight-search",
        version="0.1.0",
        description=(
            "Semantic search and extractive summaries over UN results reporting. "
            "When the server has an API key, send it as `X-API-Key: KEY` or `Authorization: Bearer KEY` "
            "(every API route, /mcp, /docs and /openapi.json; only /health and the search page stay open). "
            "Chatbot tools: `GET /tools` (function definitions) and MCP (streamable HTTP) at `/mcp`."
        ),
        lifespan=lifespan,
    )
    app.state.settings = settings

    @app.exception_handler(InsightSearchError)
    async def domain_error(request: Request, exc: InsightSearchError) -> JSONResponse:
        status = 400
        if isinstance(exc, NotFound):
            status = 404
        elif isinstance(exc, IndexNotFound):
            status = 503
        elif not isinstance(exc, BadInput):
            logger.warning("request failed: %s", exc)
        return JSONResponse(status_code=status, content={"detail": str(exc)})

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        messages = [
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'request'}: {e['msg']}" for e in exc.errors()
        ]
        return JSONResponse(status_code=422, content={"detail": "; ".join(messages)})

    from insight_search.api.routes import router

    app.include_router(router)
    app.router.routes.append(
        Route(
            "/mcp",
            endpoint=_AsgiEndpoint(mcp_endpoint),
            methods=["GET", "POST", "DELETE"],
            include_in_schema=False,
        )
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    # The last added runs first: HEAD as GET, the security headers, the Host check, CORS, then the rate
    # limit, the API key, the body size.
    app.add_middleware(BodyLimitMiddleware, max_bytes=limits.max_body_bytes)
    if settings.api_key:
        app.add_middleware(ApiKeyMiddleware, api_key=settings.api_key)
    if limits.rate_per_minute > 0:
        app.add_middleware(RateLimitMiddleware, limits=limits, api_key=settings.api_key)
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=[str(o) for o in settings.cors_origins],
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "X-API-Key",
                "Mcp-Session-Id",
                "Mcp-Protocol-Version",
            ],
            expose_headers=["Retry-After", "Mcp-Session-Id"],
        )
    if "*" not in settings.allowed_hosts:
        app.add_middleware(
            HostGuardMiddleware, bound_host=settings.host, allowed_hosts=settings.allowed_hosts
        )
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(HeadMiddleware)
    return app


class _AsgiEndpoint:
    """Marks a plain ASGI callable as an app for ``Route`` (a bare function would be taken for a handler)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
