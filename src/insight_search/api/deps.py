"""Request dependencies: the loaded searcher and the settings, taken from the app state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from insight_search.config import Settings
from insight_search.live import LiveSearcher
from insight_search.search import Searcher


def get_live(request: Request) -> LiveSearcher:
    return request.app.state.live  # type: ignore[no-any-return]


def get_searcher(request: Request) -> Searcher:
    """The searcher of the index version being served (requests keep it even if a reload happens)."""
    return get_live(request).searcher


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


SearcherDep = Annotated[Searcher, Depends(get_searcher)]
LiveDep = Annotated[LiveSearcher, Depends(get_live)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
