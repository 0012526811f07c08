#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for a few seconds
# over its committed seed corpus (fuzz/corpus/<target>); exits non-zero on
# the first crash, leak or failed invariant. New inputs the fuzzer finds go
# to a scratch copy of the corpus, so the committed seeds stay small.
# Usage: fuzz/run.sh [SECONDS] [TARGET...]   (default: 10 s, every target)
# Targets: smtp_command_fuzz smtp_address_fuzz mime_fuzz milter_fuzz monitor_fuzz
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(smtp_command_fuzz smtp_address_fuzz mime_fuzz milter_fuzz monitor_fuzz)
out=${FUZZ_BUILD_DIR:-build-fuzz}
mkdir -p "$out"
flags=(-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Isrc)

build() {
  case "$1" in
    smtp_command_fuzz)
      clang++ "${flags[@]}" fuzz/smtp_command_fuzz.cpp src/smtp/command.cpp src/smtp/address.cpp \
        src/smtp/reply.cpp src/util/ascii.cpp -o "$out/$1" ;;
    smtp_address_fuzz)
      clang++ "${flags[@]}" fuzz/smtp_address_fuzz.cpp src/smtp/address.cpp src/util/ascii.cpp \
        -o "$out/$1" ;;
    mime_fuzz)
      # shellcheck disable=SC2046
      clang++ "${flags[@]}" fuzz/mime_fuzz.cpp src/mime/*.cpp src/util/ascii.cpp \
        $(pkg-config --cflags --libs gmime-3.0) -o "$out/$1" ;;
    milter_fuzz)
      clang++ "${flags[@]}" fuzz/milter_fuzz.cpp src/milter/codec.cpp src/milter/session.cpp \
        -o "$out/$1" ;;
    monitor_fuzz)
      # shellcheck disable=SC2046
      clang++ "${flags[@]}" fuzz/monitor_fuzz.cpp src/monitor/engine.cpp src/capture/decode.cpp \
        src/capture/reassembly.cpp src/smtp/observer.cpp src/smtp/command.cpp \
        src/smtp/address.cpp src/smtp/reply.cpp src/policy/ip_filter.cpp src/policy/filter.cpp src/policy/address_mask.cpp \
        src/util/ascii.cpp \
        $(pkg-config --cflags --libs libtins) -o "$out/$1" ;;
    *) echo "unknown target $1" >&2; exit 2 ;;
  esac
}

max_len() {
  case "$1" in
    smtp_command_fuzz) echo 1024 ;;
    smtp_address_fuzz) echo 512 ;;
    milter_fuzz) echo 16384 ;;
    monitor_fuzz) echo 32768 ;;
    *) echo 65536 ;;
  esac
}

# Every target builds at once (each is one clang++ process), then each runs.
pids=()
for t in "${targets[@]}"; do
  echo "== $t: build"
  build "$t" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done

for t in "${targets[@]}"; do
  work="$out/corpus-$t"
  rm -rf "$work" && mkdir -p "$work"
  seeds="fuzz/corpus/${t%_fuzz}"
  [ -d "$seeds" ] && cp "$seeds"/* "$work"/
  echo "== $t: ${seconds} s"
  "$out/$t" -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=5 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$out/$t-" "$work" 2>&1 | tail -n 12
done
echo "fuzz: ${#targets[@]} targets ran ${seconds} s each with no crash"
