#!/usr/bin/env bash
# IDM benchmark. Usage: run.sh [BUILD_DIR]
# idm_bench generates IDM_BENCH_DOCS documents (default 1,000 of 2,000
# words), indexes them, loads the index and measures the policy evaluation
# of IDM_BENCH_MB (default 64) MB of mail text with an idm condition on
# one core; then `cordon idm index` indexes the same documents as files
# (wall time), which is the whole indexing path (text extraction too).
set -euo pipefail
build=${1:-build}
work="$build/bench-idm-data"
rm -rf "$work"
"$build/bench/idm/idm_bench" "$work"
start=$(date +%s.%N)
"$build/cordon" idm index --config "$work/index.yaml" --profile docs "$work/docs" >"$work/cli.out"
end=$(date +%s.%N)
awk -v a="$start" -v b="$end" 'BEGIN{printf "cordon_idm_index_wall_s %.2f\n", b-a}'
sed 's/^/cordon_idm_index: /' "$work/cli.out"
