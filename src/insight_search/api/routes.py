"""Routes, generated from the operation table (``insight_search.operations``) for one set of request models.

Every query operation gets ``GET /<name>`` (query parameters) and ``POST /<name>`` (a JSON body) taking
the same request model, and returns its response model; ``/documents/{doc_id}`` and ``/chunks/{chunk_id}``
take the id from the path. Each route only calls the :class:`~insight_search.service.Service`; none holds
logic.

This module does not use ``from __future__ import annotations``: FastAPI reads the annotations of the
generated endpoints, whose request models are made per settings at run time.
"""

from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import FileResponse
from pydantic import BaseModel

from insight_search.api.deps import LiveDep, ServiceDep
from insight_search.operations import BY_NAME, TOOLS, Operation, openai_tools
from insight_search.requests import RequestModels, parse
from insight_search.schemas import ChunkOut, DocumentOut, HealthOut, ReadyOut, ReloadOut, SearchBatchOut

STATIC = FilePath(__file__).parent / "static"
QUERY_OPERATIONS = (*(op.name for op in TOOLS), "facets")


class ErrorOut(BaseModel):
    detail: str


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "The request cannot be served as given (e.g. a bad cursor)"},
    401: {"model": ErrorOut, "description": "Missing or wrong API key (only when the server has one)"},
    409: {"model": ErrorOut, "description": "The cursor was made on an earlier index version"},
    413: {"model": ErrorOut, "description": "Request body too large"},
    422: {"model": ErrorOut, "description": "A parameter is missing, malformed or out of range"},
    429: {"model": ErrorOut, "description": "Too many requests: see the Retry-After header"},
    503: {"model": ErrorOut, "description": "No index is loaded, or it cannot be read"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut, "description": "No such id"}}
TAGS = {"facets": "search", "mentions": "search", "summarize": "summaries", "timeline": "summaries"}

# The page runs only its own script and style: even text that slipped into the page as HTML could not run.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class FunctionOut(BaseModel):
    name: str
    description: str
    parameters: dict[str, Any]


class ToolOut(BaseModel):
    type: Literal["function"] = "function"
    function: FunctionOut


def _add_query_routes(router: APIRouter, op: Operation, model: type[BaseModel]) -> None:
    """GET (query parameters) and POST (JSON body) of one operation, both validated by ``model``."""
    tags: list[str | Any] = [TAGS.get(op.name, op.name)]

    def get(service: ServiceDep, request: Annotated[model, Query()]) -> Any:  # type: ignore[valid-type]
        return op.run(service, request)

    def post(service: ServiceDep, request: model) -> Any:  # type: ignore[valid-type]
        return op.run(service, request)

    for method, endpoint, how in (("GET", get, "query parameters"), ("POST", post, "a JSON body")):
        router.add_api_route(
            f"/{op.name}",
            endpoint,
            methods=[method],
            response_model=op.output,
            tags=tags,
            summary=f"{op.name} ({how})",
            description=op.description,
            name=f"{op.name}_{method.lower()}",
        )


def build_router(models: RequestModels) -> APIRouter:
    router = APIRouter(responses=ERRORS)

    @router.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html", headers=PAGE_HEADERS)

    @router.get("/health", response_model=HealthOut, tags=["status"])
    def health() -> HealthOut:
        """Liveness: the process answers."""
        return HealthOut(status="ok")

    @router.get("/ready", response_model=ReadyOut, tags=["status"])
    def ready(service: ServiceDep) -> ReadyOut:
        """Readiness: the index is loaded; its counts, version and manifest."""
        return service.ready()

    @router.post("/admin/reload", response_model=ReloadOut, tags=["status"])
    def reload(live: LiveDep) -> ReloadOut:
        """Swap in the current index version now if it is newer than the one served (the server also checks
        by itself every INSIGHT_SEARCH_INDEX_RELOAD_SECONDS). Needs the API key when one is configured."""
        return ReloadOut(reloaded=live.reload_if_changed(), version=live.version)

    for name in QUERY_OPERATIONS:
        _add_query_routes(router, BY_NAME[name], models.of(name))

    batch_model = models.search_batch

    @router.post("/search/batch", response_model=SearchBatchOut, tags=["search"], summary="search (a batch)")
    def search_batch(service: ServiceDep, request: batch_model) -> SearchBatchOut:  # type: ignore[valid-type]
        """Several searches in one request (at most INSIGHT_SEARCH_MAX_BATCH_QUERIES), their query texts
        embedded together. Each is answered on its own: one that does not fit (a query too long, a bad
        cursor) gets its ``error`` in its place of ``results``, the others their ``result``."""
        return service.search_batch(request)

    @router.get("/tools", response_model=list[ToolOut], tags=["tools"])
    def tool_definitions() -> list[ToolOut]:
        """The chatbot tools (search, summarize, timeline, mentions, funding, indicators) as OpenAI-style
        function definitions; each takes the parameters of its route and returns its JSON. Also served over
        MCP at /mcp."""
        return [ToolOut.model_validate(t) for t in openai_tools(models)]

    # The path parameters publish the bounds of their request models (the same Settings.max_id_chars).
    id_chars = {
        field: models.of(name).model_json_schema()["properties"][field]["maxLength"]
        for name, field in (("document", "doc_id"), ("chunk", "chunk_id"))
    }

    @router.get(
        "/documents/{doc_id:path}", response_model=DocumentOut, tags=["documents"], responses=NOT_FOUND
    )
    def document(
        service: ServiceDep,
        doc_id: Annotated[
            str,
            Path(min_length=1, max_length=id_chars["doc_id"], description="doc_id of a result or citation"),
        ],
    ) -> DocumentOut:
        """A whole document with its passages, metadata and the ids of its chunks."""
        return service.document(parse(models.document, {"doc_id": doc_id}))

    @router.get("/chunks/{chunk_id}", response_model=ChunkOut, tags=["documents"], responses=NOT_FOUND)
    def chunk(
        service: ServiceDep,
        chunk_id: Annotated[
            str,
            Path(
                min_length=1, max_length=id_chars["chunk_id"], description="chunk_id of a result or citation"
            ),
        ],
    ) -> ChunkOut:
        """One chunk (the unit results and citations point to)."""
        return service.chunk(parse(models.chunk, {"chunk_id": chunk_id}))

    return router
