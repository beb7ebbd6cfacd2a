"""Opaque, signed pagination cursors. A cursor names the request it continues (a hash of its parameters),
the index version it was made on, and an offset. The HMAC makes a tampered or foreign cursor fail with a clear
error instead of a wrong page; a cursor of an earlier index version is refused as stale (the ranking it paged
through no longer exists), never answered with a shifted page."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets

from insight_search.errors import BadInput, StaleCursor

MAX_CURSOR_CHARS = 512
SIGNATURE_BYTES = 12


def request_key(*parts: object) -> str:
    return hashlib.sha1(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()[:16]


def cursor_secret(configured: str | None) -> bytes:
    """The signing key: derived from the configured secret (cursors then outlive a restart), else random."""
    return hashlib.sha256(configured.encode()).digest() if configured else secrets.token_bytes(32)


def encode_cursor(secret: bytes, key: str, version: str, offset: int) -> str:
    body = json.dumps({"k": key, "v": version, "o": offset}, separators=(",", ":")).encode()
    sig = hmac.new(secret, body, hashlib.sha256).digest()[:SIGNATURE_BYTES]
    return base64.urlsafe_b64encode(body + sig).decode().rstrip("=")


def decode_cursor(secret: bytes, key: str, version: str, cursor: str) -> int:
    """The offset a cursor points to. BadInput when it is malformed, tampered with or for another request;
    StaleCursor when it was made on another index version."""
    if len(cursor) > MAX_CURSOR_CHARS:
        raise BadInput("invalid cursor: too long")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        body, sig = raw[:-SIGNATURE_BYTES], raw[-SIGNATURE_BYTES:]
        expected = hmac.new(secret, body, hashlib.sha256).digest()[:SIGNATURE_BYTES]
        if not hmac.compare_digest(expected, sig):
            raise ValueError("bad signature")
        data = json.loads(body)
        offset, made_on = int(data["o"]), str(data["v"])
        if data["k"] != key or offset < 0:
            raise ValueError("cursor of another request")
    except (ValueError, KeyError, TypeError) as exc:
        raise BadInput("invalid cursor: it was altered, or belongs to another query") from exc
    if made_on != version:
        raise StaleCursor(
            f"the index changed since this cursor was made (version {made_on}, now {version}): "
            "repeat the request without a cursor"
        )
    return offset
