"""Checksums of an index version (store.file_checksums / verify_checksums): recorded at publish time, verified
on load; same-size damage is refused naming the file; a version without checksums still loads; the fallback
to the newest intact older version, and a running server keeping its version when the new one is damaged."""

from __future__ import annotations

import json
import logging
import shutil
import zlib
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from insight_search import store
from insight_search.cli import app
from insight_search.config import Settings
from insight_search.dense import VECTORS_FILE
from insight_search.embedding import make_embedder
from insight_search.errors import IndexCorrupt
from insight_search.indexer import build_index
from insight_search.live import LiveSearcher

from .conftest import SEED, FakeEmbedder

EXTRA_NOTE = "The national care system law was passed in 2024 with support from civil society partners."


def _build(tmp_path: Path, embedder: FakeEmbedder, *, extra: bool = False) -> Settings:
    corpus = tmp_path / "corpus"
    corpus.mkdir(exist_ok=True)
    shutil.copy(SEED, corpus / SEED.name)
    if extra:
        (corpus / "note.txt").write_text(EXTRA_NOTE + "\n", encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index", corpus_paths=[corpus])
    build_index([corpus], settings, embedder)
    return settings


@pytest.fixture
def built(tmp_path: Path) -> tuple[Settings, Path]:
    settings = _build(tmp_path, FakeEmbedder())
    version = store.current_version(settings.index_dir)
    assert version is not None
    return settings, version


def _raw_manifest(version: Path) -> dict:
    """The manifest's JSON object as written (the tests edit it to damage a version on purpose)."""
    return dict(json.loads((version / "manifest.json").read_text(encoding="utf-8")))


def _vectors(version: Path) -> np.ndarray:
    dim = _raw_manifest(version)["dimension"]
    return np.fromfile(version / VECTORS_FILE, dtype=np.float32).reshape(-1, dim)


def _all_nan(version: Path) -> Path:
    vectors = _vectors(version)
    np.full_like(vectors, np.nan).tofile(version / VECTORS_FILE)
    return version / VECTORS_FILE


def _swap_rows(version: Path) -> Path:
    vectors = _vectors(version)
    first, other = 0, next(i for i in range(1, len(vectors)) if not np.array_equal(vectors[i], vectors[0]))
    vectors[[first, other]] = vectors[[other, first]]
    vectors.tofile(version / VECTORS_FILE)
    return version / VECTORS_FILE


def _flip_a_chunk_byte(version: Path) -> Path:
    path = version / "chunks.jsonl"
    raw = bytearray(path.read_bytes())
    at = raw.index(b'"text": "') + 9
    raw[at] = ord("X") if raw[at] != ord("X") else ord("Y")
    path.write_bytes(bytes(raw))
    return path


def _zero_a_lexical_file(version: Path) -> Path:
    path = max((p for p in (version / "lexical").iterdir() if p.is_file()), key=lambda p: p.stat().st_size)
    path.write_bytes(bytes(path.stat().st_size))
    return path


def test_the_manifest_records_a_checksum_of_every_file(built: tuple[Settings, Path]) -> None:
    _, version = built
    checksums = _raw_manifest(version)["checksums"]
    files = {p.relative_to(version).as_posix() for p in version.rglob("*") if p.is_file()}
    assert set(checksums) == files - {"manifest.json"}
    assert {VECTORS_FILE, "chunks.jsonl", "documents.jsonl", "funding.jsonl"} <= set(checksums)
    assert any(name.startswith("lexical/") for name in checksums)
    for name, value in checksums.items():  # against zlib over the whole file in one piece
        assert value == f"crc32:{zlib.crc32((version / name).read_bytes()):08x}"
    store.verify_checksums(version, checksums)  # an intact version passes


@pytest.mark.parametrize("damage", [_all_nan, _swap_rows, _flip_a_chunk_byte, _zero_a_lexical_file])
def test_same_size_damage_is_refused_in_one_line_naming_the_file(
    built: tuple[Settings, Path], damage
) -> None:
    settings, version = built
    size_before = {p: p.stat().st_size for p in version.rglob("*") if p.is_file()}
    damaged = damage(version)
    assert {p: p.stat().st_size for p in version.rglob("*") if p.is_file()} == size_before
    with pytest.raises(IndexCorrupt) as caught:
        store.load(settings.index_dir)
    message = str(caught.value)
    assert message.startswith(f"{damaged}: checksum mismatch") and "\n" not in message


def test_a_file_listed_in_the_manifest_but_gone_is_named(built: tuple[Settings, Path]) -> None:
    settings, version = built
    (version / "funding.jsonl").unlink()
    with pytest.raises(IndexCorrupt, match=r"funding\.jsonl: missing"):
        store.load(settings.index_dir)


def test_cli_search_on_a_damaged_index_exits_2_naming_the_file(built: tuple[Settings, Path]) -> None:
    settings, version = built
    # The CLI configures the bundled model (only its id is read here): name it in the manifest, which has
    # no checksum of its own, so that loading gets past the model check to the files.
    manifest = _raw_manifest(version)
    manifest["model_id"] = make_embedder(Settings()).model_id
    (version / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    _swap_rows(version)
    result = CliRunner().invoke(app, ["search", "care", "--index-dir", str(settings.index_dir)])
    assert result.exit_code == 2, result.output
    assert "checksum mismatch" in result.output and VECTORS_FILE in result.output
    assert "Traceback" not in result.output


def test_a_version_without_checksums_still_loads(built: tuple[Settings, Path]) -> None:
    settings, version = built
    expected = len(store.load(settings.index_dir).chunks)
    manifest = _raw_manifest(version)
    del manifest["checksums"]
    (version / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    _swap_rows(version)  # unverifiable: it loads (as every index did before checksums)
    assert len(store.load(settings.index_dir).chunks) == expected


def test_a_truncated_vector_file_without_checksums_is_still_caught_by_its_size(
    built: tuple[Settings, Path],
) -> None:
    settings, version = built
    manifest = _raw_manifest(version)
    del manifest["checksums"]
    (version / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    vectors = version / VECTORS_FILE
    vectors.write_bytes(vectors.read_bytes()[:-3])
    with pytest.raises(IndexCorrupt, match="float32 vectors"):
        store.load(settings.index_dir)


def test_versions_are_ordered_by_publication_even_within_one_second(tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    first = _build(tmp_path, embedder).index_dir
    names = []
    for _ in range(3):  # several builds a second: the random part of the names decides nothing
        _build(tmp_path, embedder, extra=True)
        names.append(store.current_version(first))
    assert store.versions(first)[:2] == [names[-1], names[-2]]


def test_a_manifest_with_malformed_checksums_is_refused(built: tuple[Settings, Path]) -> None:
    settings, version = built
    manifest = _raw_manifest(version)
    for bad in (["crc32:0"], {"../../etc/passwd": "crc32:00000000"}, {VECTORS_FILE: "md9:00"}):
        (version / "manifest.json").write_text(json.dumps(dict(manifest, checksums=bad)), encoding="utf-8")
        with pytest.raises(IndexCorrupt, match="manifest|checksum"):
            store.load(settings.index_dir)


def test_fallback_serves_the_newest_intact_older_version_and_logs_both(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    embedder = FakeEmbedder()
    _build(tmp_path, embedder)
    settings = _build(tmp_path, embedder, extra=True)
    newest, older = store.versions(settings.index_dir)
    assert store.current_version(settings.index_dir) == newest
    assert list(store.intact_versions(settings.index_dir)) == [newest, older]
    older_chunks = len(store.load(settings.index_dir, version=older).chunks)
    assert len(store.load(settings.index_dir).chunks) > older_chunks  # the new note added chunks

    _all_nan(newest)
    assert list(store.intact_versions(settings.index_dir)) == [older]
    with pytest.raises(IndexCorrupt, match="checksum mismatch"):
        store.load(settings.index_dir)  # without the option: refused
    with caplog.at_level(logging.WARNING, logger="insight_search.store"):
        data = store.load(settings.index_dir, expected_model_id=embedder.model_id, fallback=True)
    assert data.path == older and len(data.chunks) == older_chunks
    warning = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING][-1]
    assert newest.name in warning and older.name in warning and VECTORS_FILE in warning

    _swap_rows(older)  # nothing intact left: the current version's own error
    with pytest.raises(IndexCorrupt, match=f"{newest.name}.*checksum mismatch"):
        store.load(settings.index_dir, fallback=True)


def test_a_running_server_keeps_its_version_when_the_new_one_is_damaged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    embedder = FakeEmbedder()
    settings = _build(tmp_path, embedder)
    live = LiveSearcher(settings, embedder)
    serving = live.version
    _build(tmp_path, embedder, extra=True)
    newest = store.current_version(settings.index_dir)
    assert newest is not None and newest.name != serving
    _swap_rows(newest)
    with caplog.at_level(logging.WARNING, logger="insight_search.live"):
        assert live.reload_if_changed() is False
    assert live.version == serving
    assert any("checksum mismatch" in r.getMessage() and serving in r.getMessage() for r in caplog.records)


def _same_size_damages(data: bytes) -> list[bytes]:
    """Ways a disk or a stray write changes a file without changing its size."""
    n = len(data)
    mid = n // 2
    out = [
        data[:mid] + bytes([data[mid] ^ 0x01]) + data[mid + 1 :],  # one bit
        data[:-1] + bytes([data[-1] ^ 0x80]),  # the last byte
        bytes(min(n, 4096)) + data[4096:],  # the first block zeroed
        data[: n - min(n, 512)] + b"\xff" * min(n, 512),  # the tail overwritten
    ]
    if n >= 128:  # two blocks swapped (rows of a matrix, lines of equal length)
        a, b = data[:64], data[n - 64 :]
        out.append(b + data[64 : n - 64] + a)
    return [d for d in out if d != data]


def test_every_same_size_damage_of_every_file_is_refused(built: tuple[Settings, Path]) -> None:
    settings, version = built
    files = sorted(p for p in version.rglob("*") if p.is_file() and p.name != "manifest.json")
    tried = 0
    for path in files:
        original = path.read_bytes()
        for damaged in _same_size_damages(original):
            path.write_bytes(damaged)
            with pytest.raises(IndexCorrupt, match="checksum mismatch") as caught:
                store.load(settings.index_dir)
            assert str(caught.value).startswith(str(path)), path
            tried += 1
        path.write_bytes(original)
    assert len(files) >= 8 and tried >= 5 * len(files) - 2  # docs/reliability.md gives the count
    store.load(settings.index_dir)  # restored: loads again
