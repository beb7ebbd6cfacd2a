"""The package's layers, checked on its imports (every import statement, at module level or in a function):

* engine: readers, text, chunking, embedding, dense, lexical, fusion, store, indexer, search and its parts;
* operations: requests, the service and what it runs (summaries, timelines, mentions, funding), cursors,
  live index following, response schemas;
* edges: the CLI, the HTTP API, the MCP server.

Nothing in the engine or the operations imports an edge, the engine imports no operation, the MCP server
imports nothing from the HTTP API, and there are no import cycles. A new module must be given a layer here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "insight_search"

LAYERS: dict[str, tuple[str, ...]] = {
    "engine": (
        "insight_search",  # __init__: re-exports only
        "insight_search.config",
        "insight_search.errors",
        "insight_search.models",
        "insight_search.manifest",
        "insight_search.text",
        "insight_search.punkt_loader",
        "insight_search.chunking",
        "insight_search.embedding",
        "insight_search.embedding_backends",
        "insight_search.embedding_static",
        "insight_search.multilingual",
        "insight_search.model_config",
        "insight_search.records",
        "insight_search.checksums",
        "insight_search.version_writer",
        "insight_search.sentence_store",
        "insight_search.dense",
        "insight_search.lexical",
        "insight_search.languages",
        "insight_search.fusion",
        "insight_search.store",
        "insight_search.indexer",
        "insight_search.serve_check",
        "insight_search.filtering",
        "insight_search.facets",
        "insight_search.highlight",
        "insight_search.ranking",
        "insight_search.search",
        "insight_search.grouping",
        "insight_search.sources",
        "insight_search.sources.pdf",
        "insight_search.sources.pdf_lines",
        "insight_search.sources.pdf_paragraphs",
        "insight_search.distributed",  # the Ray build (issue 17)
    ),
    "operations": (
        "insight_search.requests",
        "insight_search.operations",
        "insight_search.service",
        "insight_search.caching",
        "insight_search.cursor",
        "insight_search.live",
        "insight_search.schemas",
        "insight_search.group_schemas",
        "insight_search.funding_schemas",
        "insight_search.indicator_schemas",
        "insight_search.status_schemas",
        "insight_search.indicators",
        "insight_search.summarize",
        "insight_search.sentence_ranking",
        "insight_search.mentions",
        "insight_search.funding",
        "insight_search.paths",
        "insight_search.memory",
    ),
    "edges": (
        "insight_search.cli",
        "insight_search.api",
        "insight_search.mcp_server",
        "insight_search.distributed.serve",  # Ray Serve replicas of the HTTP API
    ),
}
RANK = {"engine": 0, "operations": 1, "edges": 2}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> str | None:
    best = None
    for layer, prefixes in LAYERS.items():
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and (
                best is None or len(prefix) > len(best[1])
            ):
                best = (layer, prefix)
    return None if best is None else best[0]


def imports_of(path: Path, module: str) -> set[str]:
    """The insight_search modules ``path`` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return {m for m in found if m == "insight_search" or m.startswith("insight_search.")}


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        # "from insight_search.x import y" names y too: keep only names that are modules
        edges[name] = {m for m in imports_of(path, name) if m in modules and m != name}
    return edges


def test_every_module_has_a_layer() -> None:
    assert [m for m in graph() if layer_of(m) is None] == []


def test_no_module_imports_a_higher_layer() -> None:
    wrong = [
        f"{m} ({layer_of(m)}) imports {d} ({layer_of(d)})"
        for m, deps in graph().items()
        for d in deps
        if RANK[layer_of(d) or "edges"] > RANK[layer_of(m) or "engine"]
    ]
    assert wrong == []


def test_mcp_server_imports_nothing_of_the_http_api() -> None:
    assert {d for d in graph()["insight_search.mcp_server"] if d.startswith("insight_search.api")} == set()


def test_no_import_cycles() -> None:
    edges = graph()
    # A parent package importing its own children (``sources/__init__`` re-exporting) is not a cycle.
    edges = {m: {d for d in deps if not d.startswith(m + ".")} for m, deps in edges.items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for dep in sorted(edges.get(node, ())):
            if state.get(dep) == 1:
                cycles.append([*stack[stack.index(dep) :], dep])
            elif dep not in state:
                visit(dep, [*stack, dep])
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])
    assert cycles == []


def test_no_module_is_too_long() -> None:
    long = {module_name(p): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}


@pytest.mark.parametrize("module", ["insight_search.mcp_server", "insight_search.cli"])
def test_the_stdio_edges_do_not_load_fastapi(module: str) -> None:
    """``insight-search mcp`` and the CLI run without importing the HTTP framework."""
    import subprocess
    import sys

    code = f"import sys, {module}; print('fastapi' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_cli_module_loads_no_heavy_library() -> None:
    """``insight-search --help`` stays instant: importing the CLI loads no model, index or NLP library."""
    import subprocess
    import sys

    heavy = ("torch", "sentence_transformers", "faiss", "bm25s", "nltk", "fastapi", "onnxruntime")
    loaded = "{m.split('.')[0] for m in sys.modules}"
    code = f"import sys, insight_search.cli; print(sorted({loaded} & {set(heavy)!r}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
