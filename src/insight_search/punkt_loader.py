"""NLTK's Punkt sentence splitter without the rest of NLTK: ``import nltk.tokenize.punkt`` first runs
``nltk/__init__.py``, which imports most of NLTK, scipy and scikit-learn with it (2.3 s of CPU on this 2-core
machine, the largest part of a cold ``insight-search search``). Punkt itself needs eleven small NLTK modules
(0.16 s). They are imported here under stand-in ``nltk`` and ``nltk.tokenize`` packages that run no
``__init__``, and every ``nltk`` module is then dropped from ``sys.modules`` again, so that a later
``import nltk`` (a benchmark's sumy, say) gets the whole package as usual. The classes stay usable: they keep
their own module's globals.

When NLTK is already imported (or a stand-in cannot be made), the ordinary import is used.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
import types
from pathlib import Path


def _ordinary() -> tuple[types.ModuleType, types.ModuleType | None]:
    punkt = importlib.import_module("nltk.tokenize.punkt")
    try:
        redos = importlib.import_module("nltk.redos")
    except ImportError:  # NLTK before 3.10 puts no time limit on its patterns
        redos = None
    return punkt, redos


def load_punkt() -> tuple[types.ModuleType, types.ModuleType | None]:
    """The modules ``nltk.tokenize.punkt`` and ``nltk.redos`` (None before NLTK 3.10)."""
    if "nltk" in sys.modules:
        return _ordinary()
    spec = importlib.util.find_spec("nltk")
    if spec is None or not spec.submodule_search_locations:
        return _ordinary()  # raises the ImportError that says NLTK is missing
    root = list(spec.submodule_search_locations)
    packages = (("nltk", root), ("nltk.tokenize", [str(Path(p) / "tokenize") for p in root]))
    for name, path in packages:
        stand_in = types.ModuleType(name)
        stand_in.__path__ = path
        stand_in.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=True)
        stand_in.__spec__.submodule_search_locations = path
        sys.modules[name] = stand_in
    try:
        return _ordinary()
    finally:
        for name in [n for n in sys.modules if n == "nltk" or n.startswith("nltk.")]:
            del sys.modules[name]
