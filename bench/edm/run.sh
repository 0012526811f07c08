#!/usr/bin/env bash
# EDM benchmark. Usage: run.sh [BUILD_DIR]
# edm_bench generates a table (EDM_BENCH_ROWS rows x 4 columns, default
# 10,000,000), indexes it, loads the index, and compares the policy
# evaluation of EDM_BENCH_MB (default 64) MB of mail text with and without
# an edm condition (a profile of all four columns, and one of the typed
# columns only: digits and e-mail, no free text); then the same mail as
# message files goes through `cordon scan` with each configuration (the
# files given four times, so that CPU time is well above the clock's
# 10 ms; best of three), which is the whole inspection path.
set -euo pipefail
build=${1:-build}
work="$build/bench-edm-data"
rm -rf "$work"
"$build/bench/edm/edm_bench" "$work"
best() {
  local b=999999
  for _ in 1 2 3; do
    local t
    /usr/bin/time -o "$work/time" -f "%U %S" "$build/cordon" scan --config "$1" --format json \
      "${files[@]}" "${files[@]}" "${files[@]}" "${files[@]}" >/dev/null 2>&1 || true
    t=$(tail -1 "$work/time" | awk '{print $1+$2}')
    b=$(awk -v a="$b" -v c="$t" 'BEGIN{print (c<a)?c:a}')
  done
  echo "$b"
}
files=("$work"/mail/*.eml)
mb=$(( $(du -sm "$work/mail" | cut -f1) * 4 ))
base=$(best "$work/base.yaml")
edm=$(best "$work/edm.yaml")
typed=$(best "$work/typed.yaml")
echo "cordon_scan_mail_mb $mb"
echo "cordon_scan_without_edm_cpu_s $base"
echo "cordon_scan_with_edm_cpu_s $edm"
echo "cordon_scan_with_typed_edm_cpu_s $typed"
awk -v a="$base" -v b="$edm" 'BEGIN{printf "cordon_scan_edm_overhead_percent %.1f\n", (b/a-1)*100}'
awk -v a="$base" -v b="$typed" 'BEGIN{printf "cordon_scan_typed_edm_overhead_percent %.1f\n", (b/a-1)*100}'
