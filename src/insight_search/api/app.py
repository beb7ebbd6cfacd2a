"""FastAPI app factory. Nothing is built at import: the service (model and index) is opened once, by
``serve`` before the server starts or else in the lifespan.

Besides the routes (``api/routes.py``, generated from the operation table) the app serves the search page at
``/`` (``api/static/``), the API description at ``/docs`` (Swagger UI) and ``/redoc`` with their scripts and
styles from the ``fastapi-offline`` package (under :data:`DOCS_ASSETS`: no CDN, so they work offline), the
MCP tools over streamable HTTP at ``/mcp``, and guards everything with the middleware of ``api/guard.py``:
HEAD as GET, security headers on every response, the Host check (DNS rebinding), CORS (only the configured
origins), rate limit per client address, API key (when configured), body size. Domain errors become JSON
``{"detail": ...}`` with the status of :data:`HTTP_STATUS`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from insight_search import __version__
from insight_search.api.guard import (
    ApiKeyMiddleware,
    ApiLimits,
    BodyLimitMiddleware,
    HeadMiddleware,
    HostGuardMiddleware,
    RateLimitMiddleware,
    SecurityHeadersMiddleware,
)
from insight_search.api.routes import STATIC, build_router
from insight_search.config import Settings
from insight_search.embedding import Embedder
from insight_search.errors import (
    BadInput,
    IndexBusy,
    IndexCorrupt,
    IndexNotFound,
    InsightSearchError,
    InvalidRequest,
    ModelMismatch,
    ModelNotAvailable,
    NotFound,
    StaleCursor,
)
from insight_search.requests import describe_errors, request_models
from insight_search.service import Service

logger = logging.getLogger(__name__)

# Where the Swagger UI and ReDoc files are served: under /static/, so that they are public like the page's own
# files (they hold no index data). Mounted before /static itself, so this prefix is matched first.
DOCS_ASSETS = "/static/docs"

# Domain errors -> HTTP status, most specific first. Input faults are 4xx; server faults (no index, a corrupt
# one, another model, a missing model, a build holding the folder) are 503; anything else is a 500.
HTTP_STATUS: tuple[tuple[type[InsightSearchError], int], ...] = (
    (InvalidRequest, 422),
    (StaleCursor, 409),
    (BadInput, 400),
    (NotFound, 404),
    (IndexNotFound, 503),
    (IndexBusy, 503),
    (IndexCorrupt, 503),
    (ModelMismatch, 503),
    (ModelNotAvailable, 503),
)


def http_status(exc: InsightSearchError) -> int:
    return next((status for kind, status in HTTP_STATUS if isinstance(exc, kind)), 500)


def create_app(
    settings: Settings | None = None,
    *,
    embedder: Embedder | None = None,
    limits: ApiLimits | None = None,
    service: Service | None = None,
) -> FastAPI:
    """The app. ``service``: an already opened one (``serve`` opens it first, so that an index that cannot
    be served is said in one line before the server starts); else it is opened in the lifespan."""
    settings = settings or Settings()
    limits = limits or ApiLimits.from_settings(settings)

    from mcp.server.streamable_http_manager import StreamableHTTPASGIApp

    from insight_search.mcp_server import build_server, http_session_manager

    def current_service() -> Service:
        return app.state.service  # type: ignore[no-any-return]

    mcp_server = build_server(current_service, request_models(settings))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The index is loaded once here; a rebuilt index is swapped in by the watcher (or POST /admin/reload).
        served = service if service is not None else Service.open(settings, embedder)
        served.watch()
        app.state.service = served
        app.state.live = served.index
        # A session manager runs once: each start of the app gets a new one.
        sessions = http_session_manager(mcp_server, settings)
        app.state.mcp_endpoint = StreamableHTTPASGIApp(sessions)
        try:
            async with sessions.run():
                yield
        finally:
            served.close()

    async def mcp_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        await app.state.mcp_endpoint(scope, receive, send)

    app = FastAPIOffline(
        static_url=DOCS_ASSETS,
        # No call to the online validator (its badge is an image from another site).
        swagger_ui_parameters={"validatorUrl": None},
        title="insight-search",
        version=__version__,
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
        status = http_status(exc)
        if status >= 500:
            logger.warning("request failed (%s): %s", status, exc)
        return JSONResponse(status_code=status, content={"detail": str(exc)})

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": describe_errors(exc.errors())})

    app.include_router(build_router(request_models(settings)))
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
