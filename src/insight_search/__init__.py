"""insight-search: semantic search and extractive summaries over UN results reporting."""

from insight_search.config import Settings
from insight_search.errors import InsightSearchError

__all__ = ["InsightSearchError", "Settings"]
__version__ = "0.1.0"
