"""Request dependencies: the service and the live index, taken from the app state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from insight_search.live import LiveSearcher
from insight_search.service import Service


def get_service(request: Request) -> Service:
    return request.app.state.service  # type: ignore[no-any-return]


def get_live(request: Request) -> LiveSearcher:
    return request.app.state.live  # type: ignore[no-any-return]


ServiceDep = Annotated[Service, Depends(get_service)]
LiveDep = Annotated[LiveSearcher, Depends(get_live)]
