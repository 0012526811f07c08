#!/usr/bin/env bash
# Cost of cordon prevent in the mail path. Throughput: smtp-source (20
# sessions) through prevent in forward mode (the built-in policy pack) to
# Postfix's smtp-sink, beside smtp-source straight to smtp-sink, for clean
# 10 KB and 100 KB business messages (gen_message.py); prints messages/s and their ratio.
# CPU: the utime+stime (/proc/PID/stat) each process spent per message: the
# cordon process in the run through prevent, smtp-sink in the direct run
# (the cost of merely receiving a message), and their ratio. Latency: latency.py
# sends messages one at a time over one session and reports p50/p99 of the
# per-message time through prevent and direct, and the latency prevent adds.
# Usage: bench/prevent/run.sh BUILD_DIR
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
cordon="$build/cordon"
[ -x "$cordon" ] || { echo "missing $cordon (build target cordon)" >&2; exit 2; }
sessions=20

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

work=$(mktemp -d /tmp/cordon-bench-prevent-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

sink_port=$(free_port)
smtp-sink -u root "127.0.0.1:$sink_port" 256 &
pids+=($!)
sink_pid=$!
wait_port "$sink_port"

# The built-in policy pack, taken from the embedded default configuration
# so the benchmark always runs what `cordon run` ships with.
prevent_port=$(free_port)
python3 - "$src/src/config/default_config.cpp" "$work/cordon.yaml" "$work/data" "$prevent_port" "$sink_port" <<'PY'
import sys
source, out, data_dir, port, sink = sys.argv[1:6]
text = open(source).read()
start = text.index("\npolicies:\n") + 1
end = text.index(')yaml"', start)
with open(out, "w") as f:
    f.write(f"data_dir: {data_dir}\nlog: {{level: warn}}\n"
            f"prevent:\n  listen: 127.0.0.1:{port}\n  mode: forward\n  next_hop: 127.0.0.1:{sink}\n")
    f.write(text[start:end])
PY
"$cordon" run --config "$work/cordon.yaml" >"$work/cordon.log" 2>&1 &
pids+=($!)
cordon_pid=$!
wait_port "$prevent_port" || { cat "$work/cordon.log"; exit 1; }

python3 "$here/gen_message.py" 10240 "$work/10k.eml"
python3 "$here/gen_message.py" 102400 "$work/100k.eml"

# Prints the messages/s of one smtp-source run against PORT.
rate() {
  local port=$1 messages=$2 size=$3 start end
  start=$(date +%s.%N)
  smtp-source -s "$sessions" -m "$messages" -F "$work/$((size / 1024))k.eml" "127.0.0.1:$port"
  end=$(date +%s.%N)
  python3 -c "print(f'{$messages / ($end - $start):.0f}')"
}

# CPU time of a process so far, in clock ticks (utime + stime of all its threads).
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

echo "prevent (forward mode, built-in policy pack, $(grep -c '^  - name:' "$work/cordon.yaml") policies) vs smtp-sink direct"
for spec in "10240 4000" "102400 1000"; do
  set -- $spec
  size=$1 messages=$2
  sink0=$(ticks "$sink_pid")
  direct=$(rate "$sink_port" "$messages" "$size")
  sink1=$(ticks "$sink_pid")
  cordon0=$(ticks "$cordon_pid")
  through=$(rate "$prevent_port" "$messages" "$size")
  cordon1=$(ticks "$cordon_pid")
  python3 -c "print(f'throughput {$size//1024:>3} KB, smtp-source -s $sessions -m $messages: direct {$direct} msg/s, through prevent {$through} msg/s, ratio {$through/$direct:.2f}')"
  python3 -c "
sink = ($sink1 - $sink0) / $hz / $messages * 1e6
prevent = ($cordon1 - $cordon0) / $hz / $messages * 1e6
ratio = prevent / sink if sink else float(\"inf\")
print(f'cpu        {$size//1024:>3} KB: smtp-sink {sink:.0f} us/msg (direct), prevent {prevent:.0f} us/msg, ratio {ratio:.2f}')
print(f'goal: prevent <= 2.2x smtp-sink CPU per message at {$size//1024} KB: {\"met\" if ratio <= 2.2 else \"NOT met\"}')"
done
for spec in "10240 1000" "102400 300"; do
  set -- $spec
  size=$1 count=$2
  file="$work/$((size / 1024))k.eml"
  read -r d50 d99 < <(python3 "$here/latency.py" "$sink_port" "$count" "$file")
  read -r p50 p99 < <(python3 "$here/latency.py" "$prevent_port" "$count" "$file")
  python3 -c "
print(f'latency {$size//1024:>3} KB, {$count} sequential: direct p50 {$d50} ms p99 {$d99} ms; through prevent p50 {$p50} ms p99 {$p99} ms; added p50 {$p50-$d50:.2f} ms p99 {$p99-$d99:.2f} ms')
print(f'goal: added latency p99 < 5 ms at {$size//1024} KB: {\"met\" if $p99 - $d99 < 5 else \"NOT met\"}')"
done
# The figures mean nothing unless prevent really inspected: a card number
# must still be refused.
python3 - "$prevent_port" <<'PY'
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30) as c:
    try:
        c.sendmail("a@corp.test", ["b@ext.test"], "Subject: x\r\n\r\ncard 4111 1111 1111 1111\r\n")
        sys.exit("prevent passed a card number: the figures above are not of an inspecting prevent")
    except smtplib.SMTPDataError as e:
        print(f"check: a card number is refused with {e.smtp_code} (policies active)")
PY
if [ -s "$work/cordon.log" ]; then echo "cordon warnings:"; tail -5 "$work/cordon.log"; fi
exit 0
