#!/usr/bin/env bash
# Installs the Debian packages cordon needs to build, test and benchmark.
# Idempotent: quiet when everything is present; runs apt-get update only
# when something is missing. Every package the build or tests use is here.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake pkg-config clang-format ccache
  # the libFuzzer targets (fuzz/run.sh) build with clang and its fuzzer runtime
  clang libclang-rt-14-dev
  # libraries
  libasio-dev libssl-dev libvectorscan-dev libgmime-3.0-dev libglib2.0-dev
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev
  libsqlite3-dev libpq-dev libpqxx-dev libarchive-dev libpoppler-cpp-dev
  libmagic-dev libpcap-dev libtins-dev libgtest-dev libgmock-dev libcpp-httplib-dev
  # real peers and tools used by tests and benchmarks
  # the shared incident store's tests start a throwaway PostgreSQL
  postgresql
  swaks libnet-ssleay-perl libio-socket-ssl-perl postfix python3 ripgrep openssl procps zip
  # the gateway's durability test reads its system calls (tests/e2e/test_gateway_durability.py)
  strace
  # miltertest drives the milter codec with Lua scripts (tests/milter)
  miltertest
  # the monitor's captures: tcpdump records real peers, scapy crafts edge cases,
  # tshark is the reference it is compared with
  tcpdump tshark python3-scapy time
  # the detection differential test's oracle (tests/detect_diff)
  python3-stdnum
  # the console's browser tests drive Debian's Chromium headless
  chromium
)
# Node.js runs the browser tests' driver (playwright-core from npm); the
# base image ships it, a bare Debian machine gets Debian's.
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# postfix asks how it should be configured; cordon's tests run private
# instances with their own config directories, so the system one stays idle.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
echo "postfix postfix/mailname string localhost" | $SUDO debconf-set-selections
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
