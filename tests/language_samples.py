"""Real UN INFO sub-outputs in Spanish (Mexico), French (Senegal) and English (Kenya) from
../shared/data/uninfo-api, for the language tests: each as a JSONL row the ``jsonl`` reader reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .conftest import need_shared

TEAMS = {"MEX": ("Mexico", "es"), "SEN": ("Senegal", "fr"), "KEN": ("Kenya", "en")}


def uninfo_rows(per_country: int = 8) -> list[dict[str, Any]]:
    """The first ``per_country`` sub-outputs of each team with a description (name and description as
    two paragraphs), with the team's working language as ``expected`` (not a field the reader reads)."""
    folder = need_shared("data", "uninfo-api")
    rows: list[dict[str, Any]] = []
    for code, (country, language) in TEAMS.items():
        projects = json.loads((folder / f"{code}.json").read_text(encoding="utf-8"))["projects"]
        seen: set[str] = set()
        for p in projects:
            name, description = (p.get("name") or "").strip(), (p.get("description") or "").strip()
            if len(description) < 60 or description in seen or description.startswith(name[:40]):
                continue
            seen.add(description)
            rows.append(
                {
                    "id": f"{code}-{p['id']}",
                    "title": name[:120],
                    "text": f"{name}\n\n{description}",
                    "country": country,
                    "agency": p.get("agency"),
                    "expected": language,
                }
            )
            if len(seen) == per_country:
                break
    return rows


def write_rows(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    clean = [{k: v for k, v in r.items() if k != "expected"} for r in rows]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in clean), encoding="utf-8")
    return path
