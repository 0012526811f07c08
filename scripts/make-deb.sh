#!/usr/bin/env bash
# `make deb`: a Debian package of the built cordon with dpkg-deb, from
# `make install` into a staging tree (PREFIX=/usr, the unit under
# /usr/lib/systemd/system, /etc/cordon/cordon.yaml a conffile). Depends
# names the package of every shared library the binary links, at least the
# version it was built against. Prints the .deb's path.
#   BUILD_DIR=build OUT_DIR=$BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
OUT_DIR=${OUT_DIR:-$BUILD_DIR}
bin="$BUILD_DIR/cordon"
[ -x "$bin" ] || { echo "deb: $bin is not built (make build)" >&2; exit 2; }

stage=$(mktemp -d "${TMPDIR:-/tmp}/cordon-deb-XXXXXX")
trap 'rm -rf "$stage"' EXIT
root="$stage/root"
DESTDIR="$root" PREFIX=/usr SYSCONFDIR=/etc UNITDIR=/usr/lib/systemd/system STRIP=1 \
  BUILD_DIR="$BUILD_DIR" ./scripts/install.sh

# The package owning each linked library (merged /usr: dpkg may know it
# under /lib or /usr/lib). One dpkg-query for all: each call reads dpkg's
# whole file list.
# Only the libraries the binary names (DT_NEEDED); theirs are their packages'.
# The PDF module is linked like the binary; libpq is loaded with dlopen and
# libmagic (linked statically) reads its database from libmagic-mgc: both
# are named below.
module="$BUILD_DIR/cordon-pdf.so"
needed=$(objdump -p "$bin" "$module" | awk '$1 == "NEEDED" { print $2 }' | sort -u)
mapfile -t libs < <(ldd "$bin" "$module" | awk -v needed="$needed" '
  BEGIN { n = split(needed, list, "\n"); for (i = 1; i <= n; i++) want[list[i]] = 1 }
  $2 == "=>" && $3 ~ /^\// && ($1 in want) { print $3 }' | sort -u)
candidates=()
for lib in "${libs[@]}"; do
  real=$(readlink -f "$lib")
  candidates+=("$lib" "$real" "/usr$lib" "${real#/usr}")
done
declare -A owner_of
while IFS= read -r line; do
  owner_of["${line#*: }"]=${line%%:*}
done < <(dpkg-query -S "${candidates[@]}" 2>/dev/null | grep -v ', ')
depends=()
for lib in "${libs[@]}"; do
  real=$(readlink -f "$lib")
  pkg=""
  for candidate in "$lib" "$real" "/usr$lib" "${real#/usr}"; do
    pkg=${owner_of[$candidate]:-}
    [ -n "$pkg" ] && break
  done
  [ -n "$pkg" ] || { echo "deb: no Debian package provides $lib" >&2; exit 2; }
  depends+=("$pkg")
done
depends+=(libpq5 libmagic-mgc)
mapfile -t packages < <(printf '%s\n' "${depends[@]}" | sort -u)
depends=()
for pkg in "${packages[@]}"; do
  depends+=("$pkg (>= $(dpkg-query -W -f='${source:Upstream-Version}' "$pkg"))")
done
depends_line=$(printf '%s\n' "${depends[@]}" | sort -u | paste -sd, - | sed 's/,/, /g')

version=$("$bin" --version | awk '{print $2}')
arch=$(dpkg --print-architecture)
size=$(du -sk "$root" | cut -f1)
install -d "$root/DEBIAN"
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@SIZE@|$size|" \
  -e "s|@DEPENDS@|$depends_line|" packaging/debian/control.in >"$root/DEBIAN/control"
install -m 0644 packaging/debian/conffiles "$root/DEBIAN/conffiles"
install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm \
  "$root/DEBIAN/"

mkdir -p "$OUT_DIR"
deb="$OUT_DIR/cordon_${version}_${arch}.deb"
# gzip: a few seconds where xz takes a minute on a 2-core machine.
dpkg-deb --root-owner-group -Zgzip --build "$root" "$deb" >/dev/null
echo "$deb"
