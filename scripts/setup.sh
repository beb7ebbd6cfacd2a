#!/usr/bin/env bash
# Creates .venv (if missing) and installs insight-search with the given extras, e.g. `scripts/setup.sh dev`.
# torch is pinned to the 2.13.0 CPU build in pyproject.toml; everything comes from the package registry, the
# Swagger UI and ReDoc files of /docs and /redoc included (fastapi-offline: the server needs no CDN).
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
spec="."
[ -n "$extras" ] && spec=".[$extras]"
.venv/bin/python -m pip install --quiet -e "$spec"
