"""Corpus readers: one per input format, each ``path -> Iterator[Document]``."""

from insight_search.sources.plain import read_jsonl, read_markdown, read_text
from insight_search.sources.registry import SUPPORTED_EXTENSIONS, iter_corpus_files, read_file
from insight_search.sources.uninfo_json import read_uninfo_json
from insight_search.sources.uninfo_xlsx import read_uninfo_xlsx

__all__ = [
    "SUPPORTED_EXTENSIONS",
    "iter_corpus_files",
    "read_file",
    "read_jsonl",
    "read_markdown",
    "read_text",
    "read_uninfo_json",
    "read_uninfo_xlsx",
]
