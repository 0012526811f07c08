#!/usr/bin/env bash
# Scan benchmark, two parts. Usage: run.sh [BUILD_DIR]
#
# Engine only: a synthetic mail corpus (SCAN_BENCH_MB, default 64 MB of
# decoded text) through scan_bench (bare Vectorscan, full engine, compile
# cold/cached), then ripgrep with the same keywords and regexes on the same
# file.
#
# Whole path, on the SAME message files for every contender, one core each
# (taskset -c ${SCAN_BENCH_CPU:-0}):
#   plain/  7-bit text/plain messages of ~150 KB (SCAN_BENCH_FILES_MB, default 256)
#   mime/   mixed MIME mail: base64 attachments, QP, HTML, charsets
#           (SCAN_BENCH_MIME_MB, default 64), MB/s of raw message bytes
# contenders: `cordon scan --config C --format json FILES` as a process, the
# in-process inspection (inspect::inspect, as prevent runs it), raw
# Vectorscan over the file bytes (the engine's database, and a reference
# database of the keywords as plain literals plus the regexes), and
# `rg -j1 -i -c -f patterns FILES`. Also the start-up time of `cordon scan`
# on one tiny message (config loaded, database from the cache when cached).
# Prints "name value" lines, MB/s, and the ratios. Times are CPU time (user
# + system) of the one core each contender runs on, best of a few runs, so
# that other load on the machine does not skew the figures.
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
size=${SCAN_BENCH_MB:-64}
files_mb=${SCAN_BENCH_FILES_MB:-256}
mime_mb=${SCAN_BENCH_MIME_MB:-64}
cpu=${SCAN_BENCH_CPU:-0}
data="$build/bench-scan-data"
stamp="$size $files_mb $mime_mb"

if [[ ! -f "$data/decoded.txt" || "$(cat "$data/size" 2>/dev/null)" != "$stamp" ]]; then
  rm -rf "$data"
  python3 "$here/gen_corpus.py" "$data" --size-mb "$size" --files-mb "$files_mb" --mime-mb "$mime_mb"
  echo "$stamp" > "$data/size"
fi

echo "# engine only (pre-decoded text)"
taskset -c "$cpu" "$build/bench/scan/scan_bench" "$data" 3 | tee "$data/engine.txt"

# Best of N runs of a command: CPU seconds (user + system) of the command,
# stdout discarded. rg exits 1 when nothing matched, cordon scan 1 on a
# violation: neither is a failure here.
# getrusage, not os.times: its microseconds, not 10 ms clock ticks, so that
# a start-up of a few milliseconds is measured at all.
best_of() {
  python3 - "$@" <<'PY'
import resource, subprocess, sys
n, cmd = int(sys.argv[1]), sys.argv[2:]
best = None
for _ in range(n):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    best = t if best is None else min(best, t)
print(best)
PY
}
# Best wall-clock seconds of N runs (start-up as a user waits for it).
best_wall_of() {
  python3 - "$@" <<'PY'
import subprocess, sys, time
n, cmd = int(sys.argv[1]), sys.argv[2:]
best = None
for _ in range(n):
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL)
    t = time.perf_counter() - start
    best = t if best is None else min(best, t)
print(best)
PY
}
t_kw=$(best_of 1 taskset -c "$cpu" rg -j1 -c -i -w -F -f "$data/keywords.txt" "$data/decoded.txt")
t_re=$(best_of 1 taskset -c "$cpu" rg -j1 -c -f "$data/regexes.txt" "$data/decoded.txt")

python3 - "$data/engine.txt" "$t_kw" "$t_re" <<'PY'
import sys
values = dict(line.split() for line in open(sys.argv[1]))
t_kw, t_re = map(float, sys.argv[2:4])
mb = float(values["corpus_mb"])
rg_kw, rg_re = mb / t_kw, mb / t_re
rg_total = mb / (t_kw + t_re)
raw, engine = float(values["raw_vectorscan_mbps"]), float(values["engine_mbps"])
print(f"rg_keywords_mbps {rg_kw:.1f}\nrg_regexes_mbps {rg_re:.1f}\nrg_both_mbps {rg_total:.1f}")
print(f"ratio_raw_vs_rg {raw / rg_total:.2f}\nratio_engine_vs_rg {engine / rg_total:.2f}")
print(f"ratio_engine_vs_raw {engine / raw:.2f}")
PY

cordon="$build/cordon"
config="$data/config.yaml"
tiny="$data/tiny.eml"
printf 'From: a@example.com\nTo: b@example.com\nSubject: hi\n\nhello\n' > "$tiny"
# Once to fill the database cache (when the command uses one).
taskset -c "$cpu" "$cordon" scan --config "$config" --format json "$tiny" > /dev/null || true
startup=$(best_of 20 taskset -c "$cpu" "$cordon" scan --config "$config" --format json "$tiny")
rg_startup=$(best_of 20 taskset -c "$cpu" rg -j1 -i -c -f "$data/patterns.txt" "$tiny")
startup_wall=$(best_wall_of 20 taskset -c "$cpu" "$cordon" scan --config "$config" --format json "$tiny")
rg_startup_wall=$(best_wall_of 20 taskset -c "$cpu" rg -j1 -i -c -f "$data/patterns.txt" "$tiny")
ms() { python3 -c "print(round($1 * 1000, 1))"; }
echo "# start-up (one tiny message; CPU time, and wall time with taskset's own exec)"
echo "cordon_scan_startup_ms $(ms "$startup")"
echo "rg_startup_ms $(ms "$rg_startup")"
echo "cordon_scan_startup_wall_ms $(ms "$startup_wall")"
echo "rg_startup_wall_ms $(ms "$rg_startup_wall")"

for corpus in plain mime; do
  dir="$data/$corpus"
  [[ -d "$dir" ]] || continue
  list="$data/$corpus.list"
  find "$dir" -name '*.eml' | sort > "$list"
  mapfile -t files < "$list"
  echo "# whole path: $corpus messages"
  taskset -c "$cpu" "$build/bench/scan/scan_bench" --files "$config" "$list" 2 | tee "$data/$corpus.txt"
  process=$(best_of 3 taskset -c "$cpu" "$cordon" scan --config "$config" --format json "${files[@]}")
  rg=$(best_of 3 taskset -c "$cpu" rg -j1 -i -c -f "$data/patterns.txt" "${files[@]}")
  python3 - "$data/$corpus.txt" "$process" "$rg" "$startup" <<'PY'
import sys
v = dict(line.split() for line in open(sys.argv[1]))
process_s, rg_s, startup_s = map(float, sys.argv[2:5])
mb = float(v["files_mb"])
rg = mb / rg_s
raw = float(v["raw_reference_mbps"])
rows = [("cordon_scan_process", mb / process_s),
        ("cordon_scan_process_less_startup", mb / max(process_s - startup_s, 1e-9)),
        ("inspect_in_process", float(v["inspect_mbps"]))]
print(f"rg_mbps {rg:.1f}")
for name, mbps in rows:
    print(f"{name}_mbps {mbps:.1f}  vs_rg {mbps / rg:.2f}  vs_raw_reference {mbps / raw:.3f}")
PY
done
