#!/usr/bin/env bash
# Scan benchmark: generates a synthetic mail corpus (SCAN_BENCH_MB, default
# 64 MB of decoded text), runs scan_bench (bare Vectorscan, full engine,
# compile cold/cached), then ripgrep with the same keywords and regexes on
# the same file, and prints throughput and ratios. Usage: run.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
size=${SCAN_BENCH_MB:-64}
data="$build/bench-scan-data"

if [[ ! -f "$data/decoded.txt" || "$(cat "$data/size" 2>/dev/null)" != "$size" ]]; then
  python3 "$here/gen_corpus.py" "$data" --size-mb "$size"
  echo "$size" > "$data/size"
fi

"$build/bench/scan/scan_bench" "$data" 3 | tee "$data/engine.txt"

seconds() { python3 -c 'import sys,time; print(time.monotonic())'; }
# rg exits 1 when nothing matched; that is not a failure here.
t0=$(seconds)
rg -j1 -c -i -w -F -f "$data/keywords.txt" "$data/decoded.txt" > /dev/null || true
t1=$(seconds)
rg -j1 -c -f "$data/regexes.txt" "$data/decoded.txt" > /dev/null || true
t2=$(seconds)

python3 - "$data/engine.txt" "$t0" "$t1" "$t2" <<'PY'
import sys
values = dict(line.split() for line in open(sys.argv[1]))
t0, t1, t2 = map(float, sys.argv[2:5])
mb = float(values["corpus_mb"])
rg_kw, rg_re = mb / (t1 - t0), mb / (t2 - t1)
rg_total = mb / (t2 - t0)
raw, engine = float(values["raw_vectorscan_mbps"]), float(values["engine_mbps"])
print(f"rg_keywords_mbps {rg_kw:.1f}\nrg_regexes_mbps {rg_re:.1f}\nrg_both_mbps {rg_total:.1f}")
print(f"ratio_raw_vs_rg {raw / rg_total:.2f}\nratio_engine_vs_rg {engine / rg_total:.2f}")
print(f"ratio_engine_vs_raw {engine / raw:.2f}")
PY
