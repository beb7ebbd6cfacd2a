#!/usr/bin/env bash
# The test command: install with the dev extras, lint (ruff), type-check (mypy), then the whole pytest suite
# (slow tests included). Pass pytest arguments through, e.g. `scripts/test.sh -m "not slow"`.
set -euo pipefail
cd "$(dirname "$0")/.."
# ray: the Ray build and serve tests (tests/test_ray_cluster.py, a two-node local cluster, about 4 min at load 20)
bash scripts/setup.sh dev,onnx,ray
.venv/bin/ruff check src tests benchmarks
.venv/bin/ruff format --check src tests benchmarks
.venv/bin/mypy
# The browser test of the search page drives Debian's chromium (Playwright cannot download a browser here).
if ! command -v chromium >/dev/null; then
  if command -v apt-get >/dev/null && apt-get update -qq && apt-get install -y -qq chromium >/dev/null; then
    echo "installed chromium for the browser test"
  else
    echo "warning: chromium is missing and could not be installed: the browser test will be skipped" >&2
  fi
fi
.venv/bin/python -m pytest "$@"
