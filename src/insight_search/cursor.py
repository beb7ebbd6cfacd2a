"""Opaque, signed pagination cursors. A cursor names the request it continues (a hash of its parameters)
and an offset; the HMAC makes a tampered or foreign cursor fail with a clear error instead of a wrong page."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from insight_search.errors import BadInput

MAX_CURSOR_CHARS = 512


def request_key(*parts: object) -> str:
    return hashlib.sha1(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()[:16]


def encode_cursor(secret: bytes, key: str, offset: int) -> str:
    body = json.dumps({"k": key, "o": offset}, separators=(",", ":")).encode()
    sig = hmac.new(secret, body, hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(body + sig).decode().rstrip("=")


def decode_cursor(secret: bytes, key: str, cursor: str) -> int:
    """The offset a cursor points to; BadInput when it is malformed, tampered with, or for another request."""
    if len(cursor) > MAX_CURSOR_CHARS:
        raise BadInput("invalid cursor: too long")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        body, sig = raw[:-12], raw[-12:]
        if not hmac.compare_digest(hmac.new(secret, body, hashlib.sha256).digest()[:12], sig):
            raise ValueError("bad signature")
        data = json.loads(body)
        offset = int(data["o"])
        if data["k"] != key or offset < 0:
            raise ValueError("cursor of another request")
    except (ValueError, KeyError, TypeError) as exc:
        raise BadInput(
            "invalid cursor: it was altered, or belongs to another query or index version"
        ) from exc
    return offset
