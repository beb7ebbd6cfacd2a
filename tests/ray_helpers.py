"""Embedders for the Ray tests, importable on the cluster's workers (the tests put the repository on their
PYTHONPATH): the fake embedder of conftest, and one whose process dies while embedding."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tests.conftest import FakeEmbedder


class DyingEmbedder(FakeEmbedder):
    """The fake embedder, in a process that kills itself (as an OOM kill or a lost node would) the first
    time it embeds while ``marker`` is absent (the marker is made first: the restarted actor embeds), or
    every time when ``always``."""

    def __init__(self, marker: Path, always: bool = False) -> None:
        super().__init__()
        self.marker, self.always = marker, always

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        if self.always or not self.marker.exists():
            self.marker.touch()
            os._exit(9)
        return super().embed_batch(texts)


class DyingFactory:
    """Makes a :class:`DyingEmbedder` on each actor (picklable: a class of an importable module)."""

    def __init__(self, marker: Path, always: bool = False) -> None:
        self.marker, self.always = marker, always

    def __call__(self) -> DyingEmbedder:
        return DyingEmbedder(self.marker, self.always)
