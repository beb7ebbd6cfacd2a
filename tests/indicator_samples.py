"""Documents with indicator records, built in code (the IATI reader fills them from files), and a fake reader
that yields them for a ``.iatitest`` file, so that they go through a real build, store and load."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from insight_search.config import Settings
from insight_search.indexer import build_index
from insight_search.models import Document, IndicatorPeriod, IndicatorRecord, Passage, SourceRef
from insight_search.sources import registry

from .conftest import FakeEmbedder

ALBANIA = "XM-DAC-41146-ALB-DRR"
MEXICO = "XM-DAC-41114-MEX-CARE"
CHILE = "XM-DAC-41114-CHL-WATER"
DRR_TITLE = "Number of national legal and policy frameworks on DRR that include gender equality"
SOURCE = SourceRef(path="activities.iatitest", kind="iati")
DESCRIPTION, NOTE = "description", "progress_note"


def _period(year: int, target: Any = None, actual: Any = None, comment: str | None = None) -> IndicatorPeriod:
    return IndicatorPeriod(f"{year}-01-01", f"{year}-12-31", target, actual, comment)


def documents(source: SourceRef = SOURCE) -> list[Document]:
    """Three activities: Albania (two indicators: numbers, a text target, a missing actual), Mexico (an
    accented title, a period of three years) and Chile (no indicator)."""
    albania = [
        IndicatorRecord(
            doc_id=ALBANIA,
            source=source,
            title=DRR_TITLE,
            result="Gender equality is part of disaster risk reduction policy",
            measure="unit",
            baseline=0.0,
            baseline_year=2020,
            baseline_comment="No framework yet.",
            periods=(
                _period(2021, 1.0, 2.0, "Two frameworks adopted: the DRR strategy and its action plan."),
                _period(2022, "Law adopted", None),
            ),
            country="Albania",
            agencies=("UN Women", "UNW"),
        ),
        IndicatorRecord(
            doc_id=ALBANIA,
            source=source,
            title="Proportion of municipalities with gender-responsive DRR plans",
            measure="percentage",
            periods=(_period(2022, 0.35, None), IndicatorPeriod(None, None, None, None, None)),
            country="Albania",
            agencies=("UN Women", "UNW"),
        ),
    ]
    mexico = [
        IndicatorRecord(
            doc_id=MEXICO,
            source=source,
            title="Número de sistemas municipales de cuidados",
            result="Care systems",
            measure="unit",
            baseline=1.0,
            baseline_year=2018,
            periods=(IndicatorPeriod("2019-01-01", "2021-12-31", 3.0, 1.0, "Monterrey approved its system"),),
            country="Mexico",
            agencies=("UNDP",),
        ),
    ]
    doc = Document(doc_id="", title="", source=source, passages=())
    return [
        replace(
            doc,
            doc_id=ALBANIA,
            title="Gender-responsive disaster risk reduction in Albania",
            passages=(
                Passage("Disaster risk reduction policy in Albania includes gender equality.", DESCRIPTION),
                Passage("In 2021 two disaster risk reduction frameworks were adopted.", NOTE, 2021),
            ),
            country="Albania",
            agencies=("UN Women", "UNW"),
            year=2020,
            year_end=2022,
            indicators=tuple(albania),
        ),
        replace(
            doc,
            doc_id=MEXICO,
            title="Care systems in Mexico",
            passages=(Passage("Municipal care systems for caregivers in Mexico.", DESCRIPTION),),
            country="Mexico",
            agencies=("UNDP",),
            year=2019,
            year_end=2021,
            indicators=tuple(mexico),
        ),
        replace(
            doc,
            doc_id=CHILE,
            title="Water in Chile",
            passages=(Passage("Rural water committees in Chile, disaster risk reduction too.", DESCRIPTION),),
            country="Chile",
            year=2021,
        ),
    ]


def _read(path: Path, warn: Any, *, root: Path | None = None) -> Iterator[Document]:
    source = SourceRef(path=str(path), kind="iati")
    for doc in documents(source):
        yield replace(doc, indicators=tuple(replace(i, source=source) for i in doc.indicators))


FAKE_READER = SimpleNamespace(
    KIND="iati",
    EXTENSIONS=frozenset({".iatitest"}),
    sniff=lambda path, head: path.suffix == ".iatitest",
    read=_read,
)


def build(root: Path) -> Settings:
    """An index of the three activities, read by the fake reader from ``root/corpus/activities.iatitest``."""
    corpus = root / "corpus"
    corpus.mkdir(parents=True)
    (corpus / "activities.iatitest").write_text("three activities\n", encoding="utf-8")
    settings = Settings(index_dir=root / "index", corpus_paths=[corpus])
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(registry, "READERS", (FAKE_READER, *registry.READERS))
        mp.setattr(registry, "SUPPORTED_EXTENSIONS", registry.SUPPORTED_EXTENSIONS | {".iatitest"})
        build_index([corpus], settings, FakeEmbedder())
    return settings
