"""UN INFO API country file reader: small files built here, bad files, and the real dumps."""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from insight_search.errors import InsightSearchError, UnreadableFile
from insight_search.sources.uninfo_json import read_uninfo_json

SHARED = Path(__file__).parents[1] / ".." / "shared"
API = SHARED / "data" / "uninfo-api"

COUNTRY: dict[str, Any] = {
    "workspace_id": 113,
    "name": "Mexico",
    "totals": {"required": 10, "available": 5, "spent": 2},
    "sdgs": {"5": {"required": 1}},
    "framework": [
        {
            "id": 1,
            "code": "1",
            "name": "AT1. Igualdad e inclusión",
            "description": "Prioridad   nacional.",
            "required": 100,
            "available": 50,
            "spent": 25.5,
            "children": [
                {
                    "id": 2,
                    "code": "1",
                    "name": "ED1. Al 2025, el Estado cuenta con una estrategia",
                    "required": 60,
                    "available": 30,
                    "spent": 10,
                    "children": [
                        {"id": 3, "code": "1.1", "name": "Pr1.1. Instituciones fortalecidas", "required": 1},
                        {"id": 4, "code": "1.2", "name": "  ", "description": None},
                    ],
                }
            ],
        },
        "not a node",
    ],
    "projects": [
        {
            "id": 69371,
            "agency": "UNHCR",
            "sdg": None,
            "code": "4.1.12.",
            "name": "Las personas refugiadas acceden al mercado laboral.",
            "description": "Reubicación e integración local.",
            "start": "2020-01-01",
            "end": "2024-12-31",
            "outcome": "Pr4.1. Al 2025, las PYMEs fortalecen sus capacidades",
            "required": 21539430,
            "available": 10338926,
            "spent": 10235537,
        },
        {
            "id": 500,
            "agency": "WHO",
            "code": "4",
            "name": "Support preparedness",
            "description": None,
            "start": "2024-01-01",
            "end": "2024-12-31",
            "outcome": "Primary health care",
            "required": 10,
            "available": 8,
            "spent": 6,
        },
        {"id": 9, "agency": "UNDP", "name": None, "description": None},
        {
            "id": 500,
            "agency": "UNDP",
            "code": "4",
            "name": "Support preparedness",
            "description": None,
            "outcome": "Primary health care",
            "required": 3,
            "available": None,
            "spent": 1,
        },
    ],
}


def write(tmp_path: Path, data: Any, name: str = "MEX.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_framework_and_projects(tmp_path: Path) -> None:
    problems: list[UnreadableFile] = []
    docs = {d.doc_id: d for d in read_uninfo_json(write(tmp_path, COUNTRY), problems.append)}
    assert list(docs) == [
        "uninfo-api:MEX:fw:1",
        "uninfo-api:MEX:fw:2",
        "uninfo-api:MEX:fw:3",
        "uninfo-api:MEX:p:69371",
        "uninfo-api:MEX:p:500",
    ]
    reasons = sorted(p.reason for p in problems)
    assert reasons == [
        "framework node 1: not an object, skipped",
        "project 2 (id 9): no name or description, skipped",
    ]

    priority, outcome, output = (docs[f"uninfo-api:MEX:fw:{i}"] for i in (1, 2, 3))
    assert [(p.section, p.text) for p in priority.passages] == [
        ("strategic_priority", "AT1. Igualdad e inclusión"),
        ("description", "Prioridad nacional."),
    ]
    assert outcome.passages[0].section == "outcome" and output.passages[0].section == "output"
    assert output.metadata["parent_id"] == "uninfo-api:MEX:fw:2" and output.metadata["code"] == "1.1"
    assert priority.metadata["expenditure"] == 25.5 and priority.funding == ()
    assert all(d.country == "Mexico" and d.metadata["iso3"] == "MEX" for d in docs.values())

    project = docs["uninfo-api:MEX:p:69371"]
    assert [p.section for p in project.passages] == ["sub_output", "description", "outcome"]
    assert project.agencies == ("UNHCR",)
    assert project.source.kind == "uninfo-json" and project.source.position == 0
    assert project.metadata["start_date"] == "2020-01-01" and project.metadata["end_date"] == "2024-12-31"
    assert {(f.kind, f.year, f.total) for f in project.funding} == {
        ("required", None, 21539430.0),
        ("available", None, 10338926.0),
        ("expenditure", None, 10235537.0),
    }


def test_entries_sharing_an_id_are_one_joint_sub_output(tmp_path: Path) -> None:
    docs = {d.doc_id: d for d in read_uninfo_json(write(tmp_path, COUNTRY), lambda p: None)}
    joint = docs["uninfo-api:MEX:p:500"]
    assert joint.agencies == ("WHO", "UNDP")
    assert joint.source.position == 1 and joint.metadata["positions"] == [1, 3]
    assert [p.text for p in joint.passages] == ["Support preparedness", "Primary health care"]
    assert sorted((f.agencies, f.kind, f.total) for f in joint.funding) == [
        (("UNDP",), "expenditure", 1.0),
        (("UNDP",), "required", 3.0),
        (("WHO",), "available", 8.0),
        (("WHO",), "expenditure", 6.0),
        (("WHO",), "required", 10.0),
    ]
    assert joint.metadata["required"] == 13.0


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b'{"name": "X", "projects": [', "invalid JSON"),
        (b"[1, 2, 3]", "top level is a list"),
        (b'{"name": "X"}', "no 'projects' or 'framework'"),
        (b'{"name": "caf\xe9"}', "not UTF-8"),
        (b"[" * 100_000, "invalid JSON"),
    ],
)
def test_bad_files(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "BAD.json"
    path.write_bytes(content)
    with pytest.raises(UnreadableFile) as info:
        list(read_uninfo_json(path))
    assert reason in info.value.reason


def test_wrong_shapes_inside_are_warnings(tmp_path: Path) -> None:
    data = {
        "name": 5,
        "framework": {"id": 1},
        "projects": [{"id": True, "name": "x"}, {"id": "a", "name": ["x"]}],
    }
    problems: list[UnreadableFile] = []
    assert list(read_uninfo_json(write(tmp_path, data, "abc.json"), problems.append)) == []
    assert len(problems) == 3


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=30,
)
node_keys = st.sampled_from(["id", "code", "name", "description", "children", "agency", "required", "spent"])
shaped = st.fixed_dictionaries(
    {
        "name": json_values,
        "framework": st.lists(st.dictionaries(node_keys, json_values, max_size=6), max_size=4),
        "projects": st.lists(st.dictionaries(node_keys, json_values, max_size=6), max_size=4),
    }
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2000))
def test_random_bytes_only_raise_domain_errors(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "FUZ.json"
    path.write_bytes(data)
    with contextlib.suppress(InsightSearchError):
        list(read_uninfo_json(path, lambda problem: None))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=shaped | json_values)
def test_random_json_only_raises_domain_errors(tmp_path: Path, data: Any) -> None:
    path = write(tmp_path, data, "FUZ.json")
    try:
        for doc in read_uninfo_json(path, lambda problem: None):
            assert doc.passages and all(p.text.strip() for p in doc.passages)
    except InsightSearchError:
        pass


def _real(iso3: str) -> Path:
    path = API / f"{iso3}.json"
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    return path


def test_real_country_file() -> None:
    path = _real("AGO")
    raw = json.loads(path.read_text(encoding="utf-8"))
    problems: list[UnreadableFile] = []
    docs = list(read_uninfo_json(path, problems.append))
    assert problems == []
    projects = [d for d in docs if ":p:" in d.doc_id]
    assert len({d.doc_id for d in docs}) == len(docs)
    assert len(projects) == len({p["id"] for p in raw["projects"]})
    assert all(d.country == raw["name"] == "Angola" for d in docs)
    # Funding records add up to the file's own money, per kind.
    for field, kind in (("required", "required"), ("available", "available"), ("spent", "expenditure")):
        expected = sum(p[field] or 0 for p in raw["projects"])
        found = sum(f.total or 0 for d in projects for f in d.funding if f.kind == kind)
        assert found == pytest.approx(expected)
    # Every (id, agency) entry of the file is one agency of one document.
    entries = Counter((f"uninfo-api:AGO:p:{p['id']}", p["agency"]) for p in raw["projects"])
    assert set(entries) == {(d.doc_id, a) for d in projects for a in d.agencies}


def test_real_index_file_is_not_a_country_file() -> None:
    path = API / "_index.json"
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    with pytest.raises(UnreadableFile, match="not a UN INFO country file"):
        list(read_uninfo_json(path))
