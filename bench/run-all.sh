#!/usr/bin/env bash
# Runs every benchmark: each bench/<name>/run.sh gets the build directory.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
for b in bench/*/run.sh; do
  echo "== ${b%/run.sh}"
  bash "$b" "$build"
done
