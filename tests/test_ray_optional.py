"""Without ``--ray`` nothing of Ray is imported (the ``[ray]`` extra is optional): not by the CLI, not by the
distributed package itself, not by a local build. With ``--ray`` and no Ray installed, one line says what to
install."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from insight_search.distributed import cluster

from .conftest import ROOT


def test_the_cli_and_a_local_build_never_import_ray(tmp_path):
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from typer.testing import CliRunner
        from insight_search.cli import app
        import insight_search.cli.indexing, insight_search.distributed
        import insight_search.distributed.build, insight_search.distributed.serve
        from insight_search.config import Settings
        from insight_search.indexer import build_index
        from tests.conftest import FakeEmbedder, write_jsonl

        corpus = write_jsonl(Path({str(tmp_path)!r}) / "c" / "a.jsonl", [{{"id": "a", "text": "Care."}}])
        build_index([corpus], Settings(index_dir=Path({str(tmp_path)!r}) / "i"), FakeEmbedder())
        result = CliRunner().invoke(app, ["index", "--help"])
        assert result.exit_code == 0 and "--ray" in result.output, result.output
        result = CliRunner().invoke(app, ["serve", "--help"])
        assert "--replicas" in result.output, result.output
        loaded = sorted(m for m in sys.modules if m == "ray" or m.startswith("ray."))
        print("RAY-MODULES", loaded)
        """
    )
    path = os.pathsep.join(p for p in (str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONPATH": path, "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env
    )
    assert done.returncode == 0, done.stderr
    assert "RAY-MODULES []" in done.stdout


def test_without_ray_installed_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if absent: `import ray` raises ImportError
    with pytest.raises(cluster.ClusterError, match=r"pip install 'insight-search\[ray\]'"):
        cluster.import_ray()


def test_serve_on_ray_without_an_index_says_so_before_connecting(tmp_path):
    from insight_search.config import Settings
    from insight_search.distributed.serve import serve_on_ray
    from insight_search.errors import IndexNotFound

    with pytest.raises(IndexNotFound, match="no index in"):
        serve_on_ray(Settings(index_dir=tmp_path / "none"), "auto", 2)


def test_an_address_nobody_listens_on_is_one_line_at_once():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    started = time.monotonic()
    with pytest.raises(cluster.ClusterError, match="cannot reach the Ray cluster at '127.0.0.1:") as failed:
        cluster.check_reachable(f"127.0.0.1:{port}")
    assert time.monotonic() - started < 5 and "\n" not in str(failed.value)
    with pytest.raises(cluster.ClusterError, match="expected auto, local or host:port"):
        cluster.check_reachable("nowhere")
