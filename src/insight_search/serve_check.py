"""What ``serve`` does with an index before serving it. An index is never replaced by other files than
its own: a missing index is built from the default corpus, an existing one is rebuilt only from its own
sources (the paths its manifest records, relative ones from the folder the build ran in) when their files
changed, and served as it is when they are gone or it cannot be checked. Other paths are built only when
the user asks for them. And what ``index`` skips: a build that would write the index it already holds."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from insight_search import store
from insight_search.errors import InsightSearchError
from insight_search.indexer import corpus_fingerprint, index_is_current
from insight_search.manifest import Manifest


def own_sources(manifest: Manifest) -> tuple[Path, ...]:
    """The paths an index was built from, as they open from here: relative ones under the folder the build
    ran in (``working_dir``), or as written when that is here or not recorded."""
    paths = tuple(Path(p) for p in manifest.corpus_paths or ())
    base = Path(manifest.working_dir) if manifest.working_dir else None
    if base is None or _same_folder(base, Path.cwd()):
        return paths
    return tuple(p if p.is_absolute() else base / p for p in paths)


def _absolute(paths: Sequence[Path]) -> list[str]:
    return [os.path.abspath(p) for p in paths]


def _same_folder(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


@dataclass(frozen=True)
class ServeCheck:
    """What ``serve`` does with the index before serving it: build it from ``build`` first (None: serve it
    as it is), and the one line that tells the user why."""

    build: tuple[Path, ...] | None
    message: str


def check_before_serving(
    index_dir: Path,
    model_id: str,
    default: Sequence[Path],
    requested: Sequence[Path] | None = None,
    lane_model_id: str | None = None,
) -> ServeCheck:
    """Decide whether ``serve`` builds first. Paths the user asked for (``requested``) are built unless
    the index already holds exactly what they hold. Otherwise an index is never replaced by other files:
    a missing index is built from ``default``; an existing one is rebuilt only from its own sources (the
    paths its manifest records), when their files changed or the index was built with another model or
    format, or without the multilingual lane ``lane_model_id`` names (None: the lane is off); an index whose
    sources are gone, or that cannot be checked, is served as it is."""
    where = str(index_dir)
    try:
        manifest = store.read_manifest(index_dir)
    except InsightSearchError as exc:
        if not requested:
            return ServeCheck(None, f"The index in {where} cannot be checked ({exc}); serving it as it is.")
        manifest = None
    if requested and (manifest is None or _absolute(requested) != _absolute(own_sources(manifest))):
        names = ", ".join(map(str, requested))
        if index_is_current(index_dir, requested, model_id, lane_model_id):
            return ServeCheck(None, f"The index in {where} holds what {names} hold now.")
        return ServeCheck(tuple(requested), f"Building the index in {where} from {names} (as asked).")
    # Not asked for other paths (or asked for the index's own): the index's own sources decide.
    if manifest is None:
        names = ", ".join(map(str, default))
        return ServeCheck(tuple(default), f"No index in {where} yet: building it from {names}.")
    recorded = ", ".join(manifest.corpus_paths or ())
    built = f" on {manifest.built_at}" if manifest.built_at else ""
    sources = own_sources(manifest)
    if not sources:
        return ServeCheck(None, f"The index in {where} does not record its sources; serving it as it is.")
    gone = [str(p) for p in sources if not p.exists()]
    if gone:
        return ServeCheck(
            None,
            f"The index in {where} was built{built} from {recorded}; {', '.join(gone)} "
            f"{'is' if len(gone) == 1 else 'are'} gone, so it is served as it is.",
        )
    if manifest.model_id != model_id:
        why = f"was built with the model {manifest.model_id}, not {model_id}"
    elif manifest.format_version != store.FORMAT_VERSION:
        why = "was built by an older version"
    elif lane_model_id is not None and manifest.multilingual_model_id != lane_model_id:
        why = "has no multilingual lane (INSIGHT_SEARCH_MULTILINGUAL)"
        if manifest.multilingual_model_id:
            why = f"has a multilingual lane of {manifest.multilingual_model_id}, not {lane_model_id}"
    else:
        base = Path(manifest.working_dir) if manifest.working_dir else None
        if manifest.corpus_fingerprint == corpus_fingerprint(manifest.corpus_paths or (), base):
            return ServeCheck(None, f"The index in {where} is up to date with its sources ({recorded}).")
        why = f"is older than its sources: their files changed since it was built{built}"
    return ServeCheck(sources, f"The index in {where} {why}; rebuilding it from {recorded}.")


def unchanged_index(
    index_dir: Path, paths: Sequence[Path], build_settings: str, model_id: str
) -> Manifest | None:
    """The manifest of the index in ``index_dir`` when building ``paths`` again would write the same index:
    it was built from these paths (as they open from here), by this format, with the model ``model_id`` and
    the build settings ``build_settings`` (``Settings.build_settings``), from files whose names and contents
    are unchanged (``corpus_fingerprint``), its build's problems recorded (``Manifest.problems``, for the
    caller to name again). None otherwise, and when the index cannot be read."""
    try:
        manifest = store.read_manifest(index_dir)
    except InsightSearchError:
        return None
    if manifest is None or manifest.format_version != store.FORMAT_VERSION or not manifest.corpus_paths:
        return None
    if manifest.counts is None or manifest.counts.skipped_files != len(manifest.problems or ()):
        return None  # built before the problems were recorded: a build names them again
    if manifest.build_settings != build_settings or manifest.model_id != model_id:
        return None
    if _absolute(paths) != _absolute(own_sources(manifest)):
        return None
    base = Path(manifest.working_dir) if manifest.working_dir else None
    same = manifest.corpus_fingerprint == corpus_fingerprint(manifest.corpus_paths, base)
    return manifest if same else None
