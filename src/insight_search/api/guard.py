"""Protection at the edge, as plain ASGI middleware (so it also covers the mounted MCP endpoint):
security headers on every response, HEAD wherever GET works, the Host header checked against the names this
server answers to (DNS rebinding), an API key when one is configured, a token bucket per client address
(requests without the right key counted apart from those with it), and a request body size limit.

The limits come from the settings when they have the fields (``rate_limit_per_minute``, ``rate_limit_burst``,
``max_body_bytes``), else from the defaults below; ``create_app(limits=...)`` overrides both.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from insight_search.config import Settings

logger = logging.getLogger(__name__)

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
    """429 with Retry-After when a client address has used up its bucket.

    With ``api_key``, requests that present the right key and requests that do not (no key, a wrong one,
    the public page) have separate buckets per address: guessing keys cannot use up the allowance of a
    client that has the key."""

    def __init__(
        self,
        app: ASGIApp,
        limits: ApiLimits,
        clock: Callable[[], float] = time.monotonic,
        api_key: str | None = None,
    ) -> None:
        self.app = app
        self.buckets = TokenBuckets(limits, clock)
        self.key = api_key.encode() if api_key else None

    def _bucket(self, scope: Scope) -> str:
        client = scope.get("client")
        address = client[0] if client else "unknown"
        if self.key is None:
            return address
        given = presented_key(Headers(scope=scope))
        if given is not None and hmac.compare_digest(given.encode(), self.key):
            return f"{address} key"
        return f"{address} no-key"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        wait = self.buckets.take(self._bucket(scope))
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


# ---------------------------------------------------------------- Host header (DNS rebinding)

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
ANY_ADDRESS = ("", "0.0.0.0", "::")  # binding every interface names no host


def host_name(header: str) -> str:
    """The host of a Host header value without its port, lower case: ``[::1]:8000`` -> ``::1``."""
    value = header.strip().lower()
    if value.startswith("["):
        return value[1:].partition("]")[0]
    name, colon, port = value.rpartition(":")
    if colon and port.isdigit() and ":" not in name:
        value = name
    return value.rstrip(".")


class HostGuardMiddleware:
    """421 for a request whose Host header names none of the hosts this server answers to: the bound host,
    the localhost names (any port) and ``allowed_hosts`` (``*.example.org`` matches its subdomains). A page
    on another site that rebinds its DNS name to this machine sends its own name and is refused. ``/health``
    (no index data) answers any host, for probes that know only an address."""

    def __init__(self, app: ASGIApp, bound_host: str, allowed_hosts: Sequence[str] = ()) -> None:
        self.app = app
        names = {host_name(h) for h in (*LOCAL_HOSTS, *allowed_hosts) if not h.startswith("*.")}
        if bound_host not in ANY_ADDRESS:
            names.add(host_name(bound_host))
        elif not allowed_hosts:
            logger.warning(
                "serving on every interface (%r) but only localhost names are allowed in the Host header:"
                " set INSIGHT_SEARCH_ALLOWED_HOSTS to the names clients use",
                bound_host,
            )
        self.names = frozenset(names)
        self.suffixes = tuple(h[1:].lower() for h in allowed_hosts if h.startswith("*."))

    def allows(self, header: str | None) -> bool:
        if not header:
            return False
        name = host_name(header)
        return name in self.names or (bool(self.suffixes) and name.endswith(self.suffixes))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        header = Headers(scope=scope).get("host")
        if not self.allows(header):
            shown = (header or "")[:100]
            await _reject(
                scope,
                receive,
                send,
                421,  # Misdirected Request, as the MCP endpoint answers
                f"host {shown!r} is not served here: add it to INSIGHT_SEARCH_ALLOWED_HOSTS to allow it",
            )
            return
        await self.app(scope, receive, send)


# ---------------------------------------------------------------- security headers, HEAD

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
# HTML without a policy of its own (the /docs and /redoc pages and the OAuth2 redirect page): their scripts
# and styles come from this server (the fastapi-offline package's copies, nothing from a CDN), their inline
# scripts are allowed by hash (computed from the page as it is sent); inline styles are allowed (Redoc writes
# its styles at run time), and so are data: images (Swagger UI's icons) and blob: workers (Redoc's search).
HTML_POLICY = (
    "default-src 'none'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline'; font-src 'self' data:; "
    "img-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)


def html_policy(body: bytes) -> str:
    """The Content-Security-Policy for an HTML page without one: :data:`HTML_POLICY` with a hash of each
    of its inline scripts."""
    hashes = "".join(
        f" 'sha256-{base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode()}'"
        for m in _INLINE_SCRIPT.finditer(body)
    )
    return HTML_POLICY.format(hashes=hashes)


class SecurityHeadersMiddleware:
    """:data:`SECURITY_HEADERS` on every response (those the app set itself are kept) and a
    Content-Security-Policy on every HTML response that has none (:func:`html_policy`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] | None = None
        held: list[bytes] = []

        async def send_with_headers(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=list(message.get("headers", [])))
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                message = {**message, "headers": headers.raw}
                is_html = headers.get("content-type", "").startswith("text/html")
                if is_html and "content-security-policy" not in headers:
                    start = message  # held until the body is complete: the policy hashes its scripts
                    return
            elif message["type"] == "http.response.body" and start is not None:
                held.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                body = b"".join(held)
                headers = MutableHeaders(raw=start["headers"])
                headers["Content-Security-Policy"] = html_policy(body)
                await send({**start, "headers": headers.raw})
                start = None
                message = {"type": "http.response.body", "body": body, "more_body": False}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HeadMiddleware:
    """HEAD wherever GET works: a HEAD request is answered as the GET (status and headers, Content-Length
    included) without its body. ``/mcp`` is left to its own methods (its GET is an event stream)."""

    def __init__(self, app: ASGIApp, skip: Sequence[str] = ("/mcp",)) -> None:
        self.app = app
        self.skip = tuple(skip)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD" or scope["path"] in self.skip:
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_without_body)


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for ``serve``: where to listen, and whose forwarded headers to believe. uvicorn
    itself believes ``X-Forwarded-For`` from 127.0.0.1 by default, so any local client (or a page through a
    local proxy) could pick its own address and a fresh rate-limit bucket: here none is believed unless
    ``trusted_proxies`` names the proxy."""
    proxies = list(settings.trusted_proxies)
    return {
        "host": settings.host,
        "port": settings.port,
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies or None,
    }
