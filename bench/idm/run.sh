#!/usr/bin/env bash
# IDM benchmark. Usage: run.sh [BUILD_DIR]
# idm_bench generates IDM_BENCH_DOCS documents (default 1,000 of 2,000
# words), indexes them, loads the index and measures the policy evaluation
# of IDM_BENCH_MB (default 64) MB of mail text with an idm condition on
# one core; then `cordon idm index` indexes the same documents as files
# (wall time), which is the whole indexing path (text extraction too), and
# the same mail as message files goes through `cordon scan` without and
# with the idm condition (CPU time, best of three): the whole inspection
# path.
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
best() {
  local b=999999
  for _ in 1 2 3; do
    local t
    /usr/bin/time -o "$work/time" -f "%U %S" "$build/cordon" scan --config "$1" --format json \
      "$work"/mail/*.eml >/dev/null 2>&1 || true
    t=$(tail -1 "$work/time" | awk '{print $1+$2}')
    b=$(awk -v a="$b" -v c="$t" 'BEGIN{print (c<a)?c:a}')
  done
  echo "$b"
}
mb=$(du -sm "$work/mail" | cut -f1)
base=$(best "$work/base.yaml")
idm=$(best "$work/idm.yaml")
echo "cordon_scan_mail_mb $mb"
echo "cordon_scan_without_idm_cpu_s $base"
echo "cordon_scan_with_idm_cpu_s $idm"
awk -v m="$mb" -v a="$base" -v b="$idm" \
  'BEGIN{printf "cordon_scan_with_idm_mb_per_s %.1f\ncordon_scan_idm_overhead_percent %.1f\n", m/b, (b/a-1)*100}'
