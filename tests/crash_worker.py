"""Subprocess used by test_crash_safety.py: builds an index with a slow deterministic embedder and prints
the phase it is in (reading, embedding, writing, current), so the parent can kill it at any moment.

The small test corpus is written out in a few milliseconds, too fast to aim a kill at; saving the BM25 index
(the middle of the writing phase) is slowed the way the embedder is, so kills can land while it writes."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from insight_search.config import Settings
from insight_search.indexer import Progress, build_index
from insight_search.lexical import LexicalIndex
from tests.conftest import FakeEmbedder


class SlowEmbedder(FakeEmbedder):
    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        time.sleep(0.01 * len(texts))
        return super().embed_batch(texts)


def slow_save(save):  # type: ignore[no-untyped-def]
    def wrapped(self: LexicalIndex, path: Path) -> None:
        time.sleep(0.03)
        save(self, path)
        time.sleep(0.03)

    return wrapped


def say(phase: str) -> None:
    print(phase, flush=True)


def main() -> None:
    corpus, index_dir = Path(sys.argv[1]), Path(sys.argv[2])
    LexicalIndex.save = slow_save(LexicalIndex.save)  # type: ignore[method-assign]
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    for name in ("insight_search.store", "insight_search.version_writer"):  # "is now current", "writing ..."
        logging.getLogger(name).addHandler(handler)
        logging.getLogger(name).setLevel(logging.INFO)
    # small batches: many cache transactions; small windows: kills land between windows of a streamed build
    settings = Settings(index_dir=index_dir, embed_batch_size=1, index_window=16)
    progress = Progress(on_file=lambda p: say("reading"), on_embed_start=lambda n: say("embedding"))
    build_index([corpus], settings, SlowEmbedder(), progress=progress)
    say("done")


if __name__ == "__main__":
    main()
