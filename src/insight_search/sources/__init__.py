"""Corpus readers: one module per input format, each with ``KIND``, ``sniff`` and ``read`` (see common.py)."""

from insight_search.sources.jsonl import read_jsonl
from insight_search.sources.markdown import read_markdown
from insight_search.sources.plain import read_text
from insight_search.sources.registry import READERS, SUPPORTED_EXTENSIONS, iter_corpus_files, read_file
from insight_search.sources.uninfo_json import read_uninfo_json
from insight_search.sources.uninfo_xlsx import read_uninfo_xlsx
from insight_search.sources.unwomen_page import read_unwomen_page

__all__ = [
    "READERS",
    "SUPPORTED_EXTENSIONS",
    "iter_corpus_files",
    "read_file",
    "read_jsonl",
    "read_markdown",
    "read_text",
    "read_uninfo_json",
    "read_uninfo_xlsx",
    "read_unwomen_page",
]
