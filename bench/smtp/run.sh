#!/usr/bin/env bash
# SMTP server throughput: smtp-source (20 sessions, 2000 messages of 10 KiB)
# against cordon's server (smtp_sink_bench) and against Postfix's smtp-sink,
# in the same run; prints messages/s for both and their ratio.
# Usage: bench/smtp/run.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
bench="$build/bench/smtp/smtp_sink_bench"
[ -x "$bench" ] || { echo "missing $bench (build target smtp_sink_bench)" >&2; exit 2; }
sessions=20 messages=2000 size=10240

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

# Prints the messages/s of one smtp-source run against PORT.
measure() {
  local start end
  start=$(date +%s.%N)
  smtp-source -s "$sessions" -m "$messages" -l "$size" "127.0.0.1:$1"
  end=$(date +%s.%N)
  python3 -c "print(f'{$messages / ($end - $start):.0f}')"
}

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

out=$(mktemp)
"$bench" 0 >"$out" &
pids+=($!)
for _ in $(seq 100); do grep -q '^port ' "$out" && break; sleep 0.05; done
cordon_port=$(awk '/^port /{print $2}' "$out")
wait_port "$cordon_port"

sink_port=$(free_port)
smtp-sink -u root "127.0.0.1:$sink_port" 100 &
pids+=($!)
wait_port "$sink_port"

cordon_rate=$(measure "$cordon_port")
sink_rate=$(measure "$sink_port")
echo "smtp-source -s $sessions -m $messages -l $size"
echo "cordon smtp_sink_bench: $cordon_rate messages/s"
echo "postfix smtp-sink:      $sink_rate messages/s"
python3 -c "print(f'ratio cordon/smtp-sink: {$cordon_rate / $sink_rate:.2f}')"
rm -f "$out"
