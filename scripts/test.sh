#!/usr/bin/env bash
# The test command: install with the dev extras, lint (ruff), type-check (mypy), then the whole pytest suite
# (slow tests included). Pass pytest arguments through, e.g. `scripts/test.sh -m "not slow"`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
.venv/bin/ruff check src tests benchmarks
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
