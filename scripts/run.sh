#!/usr/bin/env bash
# The main job on a fresh machine: install, index the bundled corpus (only if there is no index yet; an
# existing index is rebuilt only from its own sources, when they changed) and serve the API and the search
# page on http://127.0.0.1:8000/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# A long-running server keeps its memory flat with jemalloc (glibc's malloc fragments under concurrent
# model calls: +110 % in a 10-minute soak against -2.5 % with jemalloc, docs/reliability.md part 8c).
jemalloc=$(ls /usr/lib/*/libjemalloc.so.2 2>/dev/null | head -n 1 || true)
if [ -z "$jemalloc" ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  apt-get install -y -qq libjemalloc2 >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq libjemalloc2 >/dev/null 2>&1; } || true
  jemalloc=$(ls /usr/lib/*/libjemalloc.so.2 2>/dev/null | head -n 1 || true)
fi
if [ -n "$jemalloc" ]; then
  export LD_PRELOAD="$jemalloc${LD_PRELOAD:+:$LD_PRELOAD}"
else
  echo "note: libjemalloc2 is not installed: serving with glibc's malloc (memory grows under load)" >&2
fi
exec .venv/bin/insight-search serve "$@"
