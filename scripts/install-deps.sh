#!/usr/bin/env bash
# Installs the Debian packages cordon needs, by profile:
#   run    what a built cordon needs beside its shared libraries
#   build  the toolchain and the -dev packages (they bring the shared libraries)
#   test   build + run + every peer the tests and benchmarks drive
# Usage: install-deps.sh [run] [build] [test]   (no argument: test)
# `make run` asks for run+build, `make build` for build, `make test` for test.
#
# Idempotent: quiet when everything is present; runs apt-get update only
# when something is missing. Never removes a package: apt-get runs with
# --no-remove, and Postfix is left out when another MTA (exim4, OpenSMTPD,
# sendmail, ...) is installed, since installing it would replace that MTA.
set -euo pipefail

profiles=("$@")
[ ${#profiles[@]} -eq 0 ] && profiles=(test)

run_packages=(
  # TLS to smarthosts, DLP hosts and PostgreSQL verifies against the system store
  ca-certificates
)
build_packages=(
  build-essential cmake pkg-config clang-format ccache
  libasio-dev libssl-dev libvectorscan-dev libgmime-3.0-dev libglib2.0-dev
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev
  libsqlite3-dev libpq-dev libpqxx-dev libarchive-dev libpoppler-cpp-dev
  libmagic-dev libpcap-dev libtins-dev libgtest-dev libgmock-dev libcpp-httplib-dev
  # `make install` and `make deb`: man pages generated from --help
  help2man
)
test_packages=(
  # the libFuzzer targets (fuzz/run.sh) build with clang and its fuzzer runtime
  clang libclang-rt-14-dev
  # the shared incident store's tests start a throwaway PostgreSQL
  postgresql
  swaks libnet-ssleay-perl libio-socket-ssl-perl python3 ripgrep openssl procps zip
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

packages=()
want_postfix=0
for profile in "${profiles[@]}"; do
  case "$profile" in
    run) packages+=("${run_packages[@]}") ;;
    build) packages+=("${build_packages[@]}") ;;
    test)
      packages+=("${run_packages[@]}" "${build_packages[@]}" "${test_packages[@]}")
      want_postfix=1
      # Node.js runs the browser tests' driver (playwright-core from npm);
      # the base image ships it, a bare Debian machine gets Debian's.
      command -v node >/dev/null || packages+=(nodejs)
      command -v npm >/dev/null || packages+=(npm)
      ;;
    *)
      echo "install-deps: unknown profile '$profile' (run, build or test)" >&2
      exit 2
      ;;
  esac
done

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

# Postfix (smtp-source, smtp-sink, private instances) is a test peer. It is
# an MTA: on a machine whose MTA is another one, apt would remove that MTA
# to install Postfix. The tests that need Postfix skip, saying why.
if [ "$want_postfix" -eq 1 ] && ! installed postfix; then
  other_mta=$(dpkg-query -W -f='${Package}\t${Status}\t${Provides}\n' 2>/dev/null |
    awk -F'\t' '$2 ~ /install ok installed/ && $3 ~ /mail-transport-agent/ { print $1 }' |
    head -n1)
  if [ -n "$other_mta" ]; then
    echo "install-deps: not installing postfix: the MTA '$other_mta' is installed and" \
      "Postfix would replace it; the tests that need Postfix will skip" >&2
  else
    packages+=(postfix)
  fi
fi

missing=()
for p in "${packages[@]}"; do
  installed "$p" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
# One entry per package, in first-asked order.
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | awk '!seen[$0]++')

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
# --no-remove: a package that would need another one removed fails the
# install instead of removing it.
$SUDO apt-get install -y -qq --no-install-recommends --no-remove "${missing[@]}" >/dev/null
