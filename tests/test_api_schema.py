"""Property-based run of every operation in /openapi.json (schemathesis, in process, FakeEmbedder index):
valid and invalid inputs alike must never give a 5xx, an undocumented status, or a response that breaks its
declared schema. A few dozen examples per operation keep it fast; the slow variant tries many more.

(The operations are listed from the app itself; schemathesis' own ``from_fixture`` does not run on pytest 9.)
"""

from __future__ import annotations

from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is in the [dev] extra")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis import checks as st_checks  # noqa: E402

from insight_search.api import create_app  # noqa: E402
from insight_search.api.guard import ApiLimits  # noqa: E402
from insight_search.config import Settings  # noqa: E402

from .conftest import FakeEmbedder  # noqa: E402
from .test_api import BASE, build_settings  # noqa: E402

CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_schema_conformance,
]
# Every documented operation, with and without valid input (invalid input only where there is input);
# building the app loads nothing (the index loads in its lifespan).
CASES = [
    pytest.param(f"{method.upper()} {path}", mode, id=f"{method.upper()} {path} {mode.value}")
    for path, item in create_app(Settings()).openapi()["paths"].items()
    for method, op in item.items()
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode == GenerationMode.POSITIVE or op.get("parameters") or op.get("requestBody")
]
OPERATIONS = {c.values[0] for c in CASES}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Any:
    embedder = FakeEmbedder()
    app = create_app(
        build_settings(tmp_path_factory.mktemp("schema"), embedder),
        embedder=embedder,
        limits=ApiLimits(rate_per_minute=0),
    )
    # schemathesis fetches the schema as host "testserver"; the app serves loopback names (DNS rebinding)
    return schemathesis.openapi.from_asgi("/openapi.json", app, headers={"Host": "127.0.0.1"})


def _fuzz(api_schema: Any, label: str, mode: GenerationMode, examples: int, derandomize: bool) -> None:
    operation = api_schema.find_operation_by_label(label)
    assert operation is not None, label

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), derandomize=derandomize
    )
    def run(case: Any) -> None:
        case.call_and_validate(base_url=BASE, checks=CHECKS)

    run()


def test_every_operation_is_listed() -> None:
    assert {"GET /search", "POST /search", "GET /chunks/{chunk_id}", "GET /tools"} <= OPERATIONS


@pytest.mark.parametrize(("label", "mode"), CASES)
def test_no_input_gives_a_server_error(api_schema: Any, label: str, mode: GenerationMode) -> None:
    _fuzz(api_schema, label, mode, examples=15, derandomize=True)


@pytest.mark.slow
@pytest.mark.parametrize(("label", "mode"), CASES)
def test_no_input_gives_a_server_error_many_examples(
    api_schema: Any, label: str, mode: GenerationMode
) -> None:
    _fuzz(api_schema, label, mode, examples=200, derandomize=False)
