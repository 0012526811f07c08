#!/usr/bin/env bash
# Memory of idle SMTP sessions: N sessions (default 10000) past EHLO held
# open against cordon's server (idle_sessions_bench); prints the server's
# RSS growth per session and checks that a new client is still served.
# Usage: bench/sessions/run.sh BUILD_DIR [N]
set -euo pipefail
build=${1:-build}
n=${2:-10000}
bench="$build/bench/sessions/idle_sessions_bench"
[ -x "$bench" ] || { echo "missing $bench (build target idle_sessions_bench)" >&2; exit 2; }
here=$(dirname "$0")

pid=
cleanup() { [ -n "$pid" ] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }; }
trap cleanup EXIT

out=$(mktemp)
"$bench" "$n" >"$out" &
pid=$!
for _ in $(seq 100); do grep -q '^port ' "$out" && break; sleep 0.05; done
port=$(awk '/^port /{print $2}' "$out")
[ -n "$port" ] || { echo "server did not start" >&2; cat "$out" >&2; exit 2; }
timeout 300 python3 "$here/idle_clients.py" "$port" "$pid" "$n"
rm -f "$out"
