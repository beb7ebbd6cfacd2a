"""FastAPI app factory. Nothing is built at import: the model and the index load once, in the lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from insight_search.config import Settings
from insight_search.embedding import Embedder
from insight_search.errors import BadInput, IndexNotFound, InsightSearchError, NotFound

logger = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None, *, embedder: Embedder | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from insight_search.search import open_searcher

        app.state.searcher = open_searcher(settings, embedder)
        yield

    app = FastAPI(
        title="insight-search",
        version="0.1.0",
        description="Semantic search and extractive summaries over UN results reporting.",
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
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
