#!/usr/bin/env bash
# cordon's milter in a private Postfix beside the same Postfix without a
# milter, same load, same smtp-sink (see bench.py).
# Usage: bench/milter/run.sh BUILD_DIR [--messages N]
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
shift || true
[ -x "$build/cordon" ] || { echo "missing $build/cordon (build target cordon)" >&2; exit 2; }
exec python3 "$(dirname "$0")/bench.py" "$build" "$@"
