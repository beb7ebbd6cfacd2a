"""JSON shapes of the status routes (/health, /ready, /admin/reload); re-exported by ``schemas``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class HealthOut(BaseModel):
    status: str


class ReadyOut(BaseModel):
    status: str
    chunks: int
    documents: int
    version: str | None = None
    manifest: dict[str, Any]


class ReloadOut(BaseModel):
    reloaded: bool
    version: str | None = None
