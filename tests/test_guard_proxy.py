"""Forwarded headers through a real uvicorn server started with ``serve``'s own options
(``guard.server_options``): by default X-Forwarded-For is ignored, so it cannot buy a fresh rate-limit
allowance; with the proxy in INSIGHT_SEARCH_TRUSTED_PROXIES it names the client."""

from __future__ import annotations

import contextlib

import httpx
import pytest

from insight_search.api import create_app
from insight_search.api.guard import server_options
from insight_search.config import Settings

from .conftest import FakeEmbedder, serve_in_thread
from .test_api import build_settings, free_port

BURST = 3


@pytest.fixture(scope="module")
def fake_built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, FakeEmbedder]:
    embedder = FakeEmbedder()
    settings = build_settings(
        tmp_path_factory.mktemp("proxy"), embedder, rate_limit_per_minute=1, rate_limit_burst=BURST
    )
    return settings, embedder


def serving(settings: Settings, embedder: FakeEmbedder) -> contextlib.AbstractContextManager[str]:
    settings = settings.model_copy(update={"port": free_port()})
    app = create_app(settings, embedder=embedder)  # the limits come from the settings, as in `serve`
    return serve_in_thread(app, **server_options(settings))  # type: ignore[no-any-return]


def test_default_options_believe_no_forwarded_header() -> None:
    options = server_options(Settings())
    assert options["proxy_headers"] is False and options["forwarded_allow_ips"] is None
    trusted = server_options(Settings(trusted_proxies=["10.0.0.1", "192.168.0.0/16"]))
    assert trusted["proxy_headers"] is True
    assert trusted["forwarded_allow_ips"] == ["10.0.0.1", "192.168.0.0/16"]


def test_forwarded_for_does_not_reset_the_rate_limit(fake_built: tuple[Settings, FakeEmbedder]) -> None:
    settings, embedder = fake_built
    with serving(settings, embedder) as base, httpx.Client(base_url=base) as c:
        assert [c.get("/facets").status_code for _ in range(BURST + 1)] == [200] * BURST + [429]
        codes = [
            c.get("/facets", headers={"X-Forwarded-For": f"203.0.113.{i}", "X-Forwarded-Proto": "https"})
            for i in range(100)
        ]
        assert {r.status_code for r in codes} == {429}, [r.status_code for r in codes]


def test_a_trusted_proxy_names_the_client(fake_built: tuple[Settings, FakeEmbedder]) -> None:
    settings, embedder = fake_built
    trusted = settings.model_copy(update={"trusted_proxies": ["127.0.0.1"]})
    with serving(trusted, embedder) as base, httpx.Client(base_url=base) as c:
        assert [c.get("/facets").status_code for _ in range(BURST + 1)] == [200] * BURST + [429]
        fresh = [
            c.get("/facets", headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(20)
        ]
        assert fresh == [200] * 20  # each forwarded client has its own bucket
        same = [c.get("/facets", headers={"X-Forwarded-For": "198.51.100.9"}).status_code for _ in range(4)]
        assert same == [200] * BURST + [429]  # and is limited by it
