#!/usr/bin/env bash
# Gateway throughput beside a private Postfix relaying the same load to the
# same smtp-sink (see bench.py). Usage: bench/gateway/run.sh BUILD_DIR [--no-dlp] [--messages N]
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
shift || true
[ -x "$build/cordon" ] || { echo "missing $build/cordon (build target cordon)" >&2; exit 2; }
exec python3 "$(dirname "$0")/bench.py" "$build" "$@"
