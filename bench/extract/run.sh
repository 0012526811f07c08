#!/usr/bin/env bash
# Extraction benchmark: generates a mixed attachment corpus (archives,
# Office/ODF documents, PDF, RTF, CSV; EXTRACT_BENCH_SCALE, default 1) and
# runs extract_bench on it: MB/s of extraction + scanning with the built-in
# policy pack, and the share of time in each. Usage: run.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
scale=${EXTRACT_BENCH_SCALE:-1}
data="$build/bench-extract-data"

if [[ ! -f "$data/bulk.xlsx" || "$(cat "$data/scale" 2>/dev/null)" != "$scale" ]]; then
  rm -rf "$data"
  python3 "$here/gen_corpus.py" "$data" --scale "$scale"
  echo "$scale" > "$data/scale"
fi
mkdir -p "$data/files"
# The benchmark reads every file but the scale marker.
find "$data" -maxdepth 1 -type f ! -name scale -exec cp -u {} "$data/files/" \;
"$build/bench/extract/extract_bench" "$data/files" "${EXTRACT_BENCH_ROUNDS:-3}"
