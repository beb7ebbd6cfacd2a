#!/usr/bin/env bash
# The main job on a fresh machine: install, index the bundled corpus (only if the index is missing or older
# than the corpus) and serve the API and the search page on http://127.0.0.1:8000/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/insight-search serve "$@"
