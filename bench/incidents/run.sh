#!/usr/bin/env bash
# Incident store benchmark: starts a throwaway PostgreSQL (fsync on, as in
# production) and prints incident writes per second into it (1 and 4
# writer threads, and two nodes) against SQLite in the same run; then
# blocked messages per second through cordon prevent with each store
# (prevent_bench.py: every message an incident write, none lost).
# Usage: run.sh [BUILD_DIR]  (INCIDENTS_BENCH_N: incidents per case, default 4000)
set -euo pipefail
build=${1:-build}
"$build/bench/incidents/incidents_bench" "${INCIDENTS_BENCH_N:-4000}"
python3 "$(dirname "$0")/prevent_bench.py" "$build" "${INCIDENTS_BENCH_MESSAGES:-2000}"
