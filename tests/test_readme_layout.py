"""The README's Layout section names every module of the package (so the map a new maintainer reads first
cannot drift from the code), and names no module that does not exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "insight_search"


def layout_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## Layout\n(.*?)(?=^## |\Z)", text, flags=re.S | re.M)
    assert match, "README.md has no '## Layout' section"
    return match.group(1)


def test_layout_lists_every_module() -> None:
    # module paths are relative to src/insight_search/ (test files named in the prose are not modules)
    named = {m for m in re.findall(r"`([\w/]+\.py)`", layout_section()) if not m.startswith("tests/")}
    modules = {p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py") if p.name != "__init__.py"}
    assert sorted(modules - named) == [], "modules missing from README's Layout section"
    assert sorted(named - modules) == [], "README's Layout section names modules that do not exist"
