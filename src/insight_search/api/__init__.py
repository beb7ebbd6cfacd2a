"""HTTP API: the app factory lives in ``insight_search.api.app``."""

from insight_search.api.app import create_app

__all__ = ["create_app"]
