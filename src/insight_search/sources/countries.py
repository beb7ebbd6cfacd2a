"""Finding the country a report is about, from its own text (pycountry's names, accent-insensitive)."""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from insight_search.text import fold


@lru_cache(maxsize=1)
def _country_patterns() -> list[tuple[str, re.Pattern[str]]]:
    import pycountry

    out: list[tuple[str, re.Pattern[str]]] = []
    for c in pycountry.countries:
        display = getattr(c, "common_name", None) or c.name
        names = {c.name, display}
        if "," not in c.name:
            names.add(c.name)
        alternatives = "|".join(re.escape(fold(n)) for n in sorted(names, key=len, reverse=True))
        out.append((display, re.compile(rf"\b(?:{alternatives})\b")))
    return out


def detect_country(text: str, *, min_mentions: int = 3) -> str | None:
    """The country the text is clearly about: named at least ``min_mentions`` times and twice as often as any
    other. Returns None when the text does not make it clear."""
    folded = fold(text)
    counts: Counter[str] = Counter()
    for display, pattern in _country_patterns():
        n = len(pattern.findall(folded))
        if n:
            counts[display] = n
    if not counts:
        return None
    ranked = counts.most_common(2)
    best, n_best = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0
    if n_best >= min_mentions and n_best >= 2 * runner_up:
        return best
    return None
