#!/usr/bin/env bash
# `make install`: the built binary, man pages generated from its --help by
# help2man, an example configuration, the systemd unit and the docs, under
# DESTDIR (for packaging; empty: this machine). An existing configuration
# is never overwritten.
#   PREFIX=/usr/local BINDIR MANDIR DOCDIR UNITDIR SYSCONFDIR=/etc BUILD_DIR=build
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr/local}
BINDIR=${BINDIR:-$PREFIX/bin}
MANDIR=${MANDIR:-$PREFIX/share/man}
DOCDIR=${DOCDIR:-$PREFIX/share/doc/cordon}
UNITDIR=${UNITDIR:-$PREFIX/lib/systemd/system}
SYSCONFDIR=${SYSCONFDIR:-/etc}
# STRIP=1 leaves the debug line tables out of the installed binary.
STRIP=${STRIP:-0}

bin="$BUILD_DIR/cordon"
[ -x "$bin" ] || { echo "install: $bin is not built (make build)" >&2; exit 2; }
# The PDF reader (poppler) is a module cordon loads the first time it reads
# a PDF; cordon looks for it in PREFIX/lib/cordon beside PREFIX/bin.
pdf_module="$BUILD_DIR/cordon-pdf.so"
[ -f "$pdf_module" ] || { echo "install: $pdf_module is not built (make build)" >&2; exit 2; }
LIBDIR=${LIBDIR:-$PREFIX/lib/cordon}
command -v help2man >/dev/null || { echo "install: help2man is missing (make deps)" >&2; exit 2; }

install -d "$DESTDIR$BINDIR" "$DESTDIR$MANDIR/man1" "$DESTDIR$DOCDIR" "$DESTDIR$UNITDIR" \
  "$DESTDIR$SYSCONFDIR/cordon"
install -d "$DESTDIR$LIBDIR"
if [ "$STRIP" = 1 ]; then
  install -m 0755 -s "$bin" "$DESTDIR$BINDIR/cordon"
  install -m 0644 -s --strip-program=strip "$pdf_module" "$DESTDIR$LIBDIR/cordon-pdf.so"
else
  install -m 0755 "$bin" "$DESTDIR$BINDIR/cordon"
  install -m 0644 "$pdf_module" "$DESTDIR$LIBDIR/cordon-pdf.so"
fi

# One page for cordon and one per subcommand (cordon-run(1), ...), each from
# that command's --help, so a page never says what the binary does not do.
version=$("$bin" --version | awk '{print $2}')
man_page() {  # name, help option, one-line description
  local out="$DESTDIR$MANDIR/man1/$1.1"
  help2man --no-info --no-discard-stderr --version-string="$version" \
    --help-option="$2" --name="$3" --section=1 --source="cordon $version" \
    --output="$out" "$bin"
  # help2man titles every page after the program; a subcommand's page is its own.
  local title
  title=$(echo "$1" | tr '[:lower:]' '[:upper:]')
  sed -i "s/^\.TH CORDON /.TH $title /" "$out"
  gzip -9nf "$out"
}
man_page cordon "--help" "email Data Loss Prevention (gateway, prevent, monitor, milter, console)"
man_page cordon-run "run --help" "start the roles a configuration names"
man_page cordon-scan "scan --help" "inspect messages offline"
man_page cordon-check-config "check-config --help" "validate a configuration file"
man_page cordon-filter-test "filter-test --help" "show what the L7 sender and recipient filters decide"
man_page cordon-incidents "incidents --help" "list and purge recorded incidents"
man_page cordon-queue "queue --help" "list and act on the gateway's queue"
man_page cordon-monitor "monitor --help" "analyse an SMTP capture offline"

sed -e "s|@BINDIR@|$BINDIR|g" -e "s|@SYSCONFDIR@|$SYSCONFDIR|g" packaging/cordon.service.in \
  >"$DESTDIR$UNITDIR/cordon.service"
chmod 0644 "$DESTDIR$UNITDIR/cordon.service"

config="$DESTDIR$SYSCONFDIR/cordon/cordon.yaml"
if [ -e "$config" ]; then
  echo "install: $config exists, left as it is; the example is $DOCDIR/cordon.yaml" >&2
else
  install -m 0640 packaging/cordon.yaml "$config"
fi
install -m 0644 packaging/cordon.yaml README.md "$DESTDIR$DOCDIR/"
install -m 0644 docs/*.md "$DESTDIR$DOCDIR/"
