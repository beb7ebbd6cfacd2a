"""Request dependencies: the loaded searcher and the settings, taken from the app state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from insight_search.config import Settings
from insight_search.search import Searcher


def get_searcher(request: Request) -> Searcher:
    return request.app.state.searcher  # type: ignore[no-any-return]


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


SearcherDep = Annotated[Searcher, Depends(get_searcher)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
