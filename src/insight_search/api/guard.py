"""Protection at the edge, as plain ASGI middleware (so it also covers the mounted MCP endpoint):
an API key when one is configured, a token bucket per client address, and a request body size limit.

The limits come from the settings when they have the fields (``rate_limit_per_minute``, ``rate_limit_burst``,
``max_body_bytes``), else from the defaults below; ``create_app(limits=...)`` overrides both.
"""

from __future__ import annotations

import hmac
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from insight_search.config import Settings

API_KEY_HEADER = "X-API-Key"
# Open without the key: liveness, and the search page with its files (they hold no index data; the page
# asks for the key). Everything else needs it, the API description (/openapi.json, /docs) included.
PUBLIC_PATHS = frozenset({"/health", "/", "/favicon.ico"})
PUBLIC_PREFIXES = ("/static/",)
UNLIMITED_PATHS = frozenset({"/health"})


@dataclass(frozen=True)
class ApiLimits:
    rate_per_minute: float = 600.0  # requests per client address and minute, sustained; 0 turns limiting off
    burst: int = 60  # requests a client may send at once
    max_body_bytes: int = 64 * 1024
    max_clients: int = 10_000  # buckets kept; the least recently seen go first

    @classmethod
    def from_settings(cls, settings: Settings) -> ApiLimits:
        return cls(
            rate_per_minute=settings.rate_limit_per_minute,
            burst=settings.rate_limit_burst,
            max_body_bytes=settings.max_body_bytes,
        )


async def _reject(
    scope: Scope, receive: Receive, send: Send, status: int, detail: str, **headers: str
) -> None:
    await JSONResponse({"detail": detail}, status_code=status, headers=headers or None)(scope, receive, send)


def _is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def presented_key(headers: Headers) -> str | None:
    key = headers.get(API_KEY_HEADER)
    if key:
        return key
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class ApiKeyMiddleware:
    """Every route but the public ones needs ``X-API-Key: KEY`` or ``Authorization: Bearer KEY``."""

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self.key = api_key.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        given = presented_key(Headers(scope=scope))
        if given is None or not hmac.compare_digest(given.encode(), self.key):
            await _reject(
                scope,
                receive,
                send,
                401,
                f"missing or wrong API key: send it as {API_KEY_HEADER}: KEY or Authorization: Bearer KEY",
                **{"WWW-Authenticate": 'Bearer realm="insight-search"'},
            )
            return
        await self.app(scope, receive, send)


class TokenBuckets:
    """One token bucket per key: ``burst`` tokens at most, refilled at ``rate_per_minute``."""

    def __init__(self, limits: ApiLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = limits.rate_per_minute / 60.0
        self.burst = max(1.0, float(limits.burst))
        self.max_clients = limits.max_clients
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, last time)

    def take(self, key: str) -> float:
        """0 when the request may go ahead, else the seconds until a token is there."""
        now = self.clock()
        tokens, last = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return wait


class RateLimitMiddleware:
    """429 with Retry-After when a client address has used up its bucket."""

    def __init__(self, app: ASGIApp, limits: ApiLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.buckets = TokenBuckets(limits, clock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        wait = self.buckets.take(client[0] if client else "unknown")
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            await _reject(
                scope,
                receive,
                send,
                429,
                f"too many requests: retry in {seconds} s",
                **{"Retry-After": str(seconds)},
            )
            return
        await self.app(scope, receive, send)


class BodyLimitMiddleware:
    """413 for a request body over ``max_bytes`` (by its Content-Length, or counted while it is read)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        length = headers.get("content-length")
        too_big = f"the request body is over {self.max_bytes} bytes"
        if length is not None:
            if not length.isdigit():
                await _reject(scope, receive, send, 400, "invalid Content-Length")
                return
            if int(length) > self.max_bytes:
                await _reject(scope, receive, send, 413, too_big)
                return
        elif "chunked" not in headers.get("transfer-encoding", "").lower():
            await self.app(scope, receive, send)  # no body
            return
        # Read the body up to the limit, then hand it on in one piece.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_bytes:
                await _reject(scope, receive, send, 413, too_big)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
