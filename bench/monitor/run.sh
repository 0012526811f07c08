#!/usr/bin/env bash
# Offline analysis speed of `cordon monitor --pcap` against tshark on the
# same capture, made in this run: tcpdump on lo records smtp-source
# (MESSAGES messages of 10 KB, 10 sessions at a time; every tenth with a
# card number) delivering to Postfix's smtp-sink. Then, on one core each,
# `cordon monitor` with the built-in policy pack (detection on) and
# `tshark --export-objects imf` read the file; prints MB/s of capture,
# messages found, and the ratio. The goal is >= 125 MB/s per core.
# Usage: bench/monitor/run.sh BUILD_DIR [MESSAGES]   (default 3000)
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
messages=${2:-3000}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
cordon="$build/cordon"
[ -x "$cordon" ] || { echo "missing $cordon (build target cordon)" >&2; exit 2; }
for tool in tcpdump tshark smtp-sink smtp-source; do
  command -v "$tool" >/dev/null || { echo "missing $tool (scripts/install-deps.sh)" >&2; exit 2; }
done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

work=$(mktemp -d /tmp/cordon-bench-monitor-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
# BENCH_KEEP=DIR: keep the capture there (for a profile of the same input).

port=$(free_port)
smtp-sink -u root "127.0.0.1:$port" 256 &
pids+=($!)
wait_port "$port"
tcpdump -i lo -B 131072 -U -s 0 -w "$work/smtp.pcap" "tcp port $port" 2>"$work/tcpdump.log" &
dump=$!
pids+=($dump)
for _ in $(seq 100); do grep -q listening "$work/tcpdump.log" && break; sleep 0.05; done

python3 "$src/bench/prevent/gen_message.py" 10240 "$work/base.eml"
# tshark names exported files after the Subject and stops at 1000 of one
# name, so the clean messages come in batches of distinct subjects.
batch=900
card=$((messages / 10))
clean=$((messages - card))
python3 - "$work" "$clean" "$batch" <<'PY'
import re, sys
work, clean, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
text = open(f"{work}/base.eml", "rb").read()
head, _, body = text.partition(b"\r\n\r\n")
def subject(h, s):
    return re.sub(rb"(?mi)^Subject:.*$", b"Subject: " + s.encode(), h)
for i in range((clean + batch - 1) // batch):
    open(f"{work}/clean{i}.eml", "wb").write(subject(head, f"Weekly status {i}") + b"\r\n\r\n" + body)
open(f"{work}/card.eml", "wb").write(subject(head, "Card payment") + b"\r\n\r\n"
                                    b"Please charge card 4111 1111 1111 1111 today.\r\n" + body)
PY
left=$clean
i=0
while [ "$left" -gt 0 ]; do
  n=$((left < batch ? left : batch))
  smtp-source -s 10 -m "$n" -F "$work/clean$i.eml" "127.0.0.1:$port"
  left=$((left - n))
  i=$((i + 1))
done
smtp-source -s 10 -m "$card" -F "$work/card.eml" "127.0.0.1:$port"
sleep 1.5
kill -INT "$dump"
wait "$dump" 2>/dev/null || true
size=$(stat -c %s "$work/smtp.pcap")
if [ -n "${BENCH_KEEP:-}" ]; then mkdir -p "$BENCH_KEEP"; cp "$work/smtp.pcap" "$BENCH_KEEP/"; echo "$port" >"$BENCH_KEEP/port"; fi

dropped=$(sed -n 's/^\([0-9]*\) packets dropped by kernel/\1/p' "$work/tcpdump.log")
export XDG_CACHE_HOME="$work/cache"
# Warm the compiled-policy cache and the page cache; the second run counts.
"$cordon" monitor --pcap "$work/smtp.pcap" --port "$port" --format json >/dev/null || true
seconds() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$@"; }
start=$(date +%s.%N)
/usr/bin/time -f "%U %S" -o "$work/cordon.cpu" taskset -c 0 "$cordon" monitor --pcap "$work/smtp.pcap" \
  --port "$port" --format json >"$work/cordon.jsonl" || true
end=$(date +%s.%N)
cordon_s=$(seconds "$start" "$end")
cordon_found=$(wc -l <"$work/cordon.jsonl")
cordon_blocked=$(grep -c '"verdict":"block"' "$work/cordon.jsonl" || true)

# Start-up alone (loading the compiled pack): a capture with no packets.
python3 -c "import struct,sys; open(sys.argv[1],'wb').write(struct.pack('<IHHiIII',0xA1B2C3D4,2,4,0,0,65535,1))" "$work/empty.pcap"
start=$(date +%s.%N)
/usr/bin/time -f "%U %S" -o "$work/startup.cpu" taskset -c 0 "$cordon" monitor --pcap "$work/empty.pcap" \
  --format json >/dev/null || true
end=$(date +%s.%N)
startup_s=$(seconds "$start" "$end")

mkdir "$work/imf"
start=$(date +%s.%N)
/usr/bin/time -f "%U %S" -o "$work/tshark.cpu" taskset -c 0 tshark -r "$work/smtp.pcap" -q \
  -d "tcp.port==$port,smtp" --export-objects "imf,$work/imf" >/dev/null 2>&1
end=$(date +%s.%N)
tshark_s=$(seconds "$start" "$end")
tshark_found=$(ls "$work/imf" | wc -l)

python3 - "$size" "$messages" "$cordon_s" "$cordon_found" "$cordon_blocked" "$tshark_s" "$tshark_found" "$startup_s" "${dropped:-0}" "$(tail -1 "$work/cordon.cpu")" "$(tail -1 "$work/tshark.cpu")" "$(tail -1 "$work/startup.cpu")" <<'PY'
import sys
size, sent = int(sys.argv[1]), int(sys.argv[2])
cs, cf, cb, ts, tf = float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7])
su, dropped = float(sys.argv[8]), int(sys.argv[9])
ccpu = sum(map(float, sys.argv[10].split()))
tcpu = sum(map(float, sys.argv[11].split()))
scpu = sum(map(float, sys.argv[12].split()))
mb = size / 1e6
print(f"capture: {mb:.1f} MB, {sent} messages sent ({sent // 10} with a card number), "
      f"{dropped} packets dropped by tcpdump")
print(f"cordon start-up (policy pack from cache): {su:.2f} s; analysis alone: "
      f"{mb / max(cs - su, 1e-6):.1f} MB/s")
print(f"cordon monitor (detection on, 1 core): {cs:.2f} s  {mb / cs:7.1f} MB/s  {cf} messages found, {cb} would be blocked")
print(f"tshark --export-objects imf (1 core):  {ts:.2f} s  {mb / ts:7.1f} MB/s  {tf} messages found")
print(f"per CPU-second (user+sys, robust to a shared machine): cordon {mb / ccpu:.1f} MB/s "
      f"({mb / max(ccpu - scpu, 1e-6):.1f} MB/s without its {scpu:.2f} s start-up), "
      f"tshark {mb / tcpu:.1f} MB/s")
print(f"cordon / tshark speed: {ts / cs:.2f}x wall, {tcpu / ccpu:.2f}x CPU "
      f"(goal: >= 125 MB/s per core for cordon)")
PY
