#!/usr/bin/env bash
# Builds the lab's own driver family (see README.md) for the kernel the lab boots: the Debian
# kernel that linux-image-amd64 depends on. Nothing is installed: the headers and kbuild
# packages of exactly that kernel are fetched with `apt-get download`, unpacked with
# `dpkg-deb -x` into the lab's cache, and the modules are built with the host's gcc-12.
#
# usage: build.sh [--out DIR] [--kernel RELEASE] [--versions "1.0 2.0"]
#   --out DIR         where the .ko files go (default: $CACHE/hs-driver-RELEASE)
#   --kernel RELEASE  e.g. 6.1.0-56-amd64 (default: from `apt-cache depends linux-image-amd64`)
#   --versions LIST   driver versions to build (default: "1.0 2.0"), each from its own copy
#                     of the sources with a generated hs_version.h, so that both `version`
#                     and `srcversion` differ between them
#   CACHE = $HOTSWAP_LAB_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/hotswap-lab
#
# Output, in DIR: hs_pdev.ko, hs_core.ko, and per version V: hs_lab-V.ko (mode=revoke|wait)
# and hs_lab-fenced-V.ko (mode=fenced, depends on hs_core); the kernel's module name of every
# hs_lab*.ko is hs_lab. manifest.tsv lists file, name, version, srcversion, vermagic.
# Warnings are errors (compiler: -Werror; modpost: this script fails on any WARNING).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${HOTSWAP_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hotswap-lab}
out=''
release=''
versions='1.0 2.0'

die() { echo "build.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case "$1" in
	--out) out=${2:?--out needs a folder}; shift 2 ;;
	--kernel) release=${2:?--kernel needs a release}; shift 2 ;;
	--versions) versions=${2:?--versions needs a list}; shift 2 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument: $1 (try --help)" ;;
	esac
done

# Tools: the host's gcc-12 is the kernel's compiler (CONFIG_CC_VERSION_TEXT); make; modinfo.
missing=()
command -v gcc-12 >/dev/null || missing+=(gcc-12)
command -v make >/dev/null || missing+=(make)
command -v modinfo >/dev/null || [ -x /usr/sbin/modinfo ] || missing+=(kmod)
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || die "missing ${missing[*]}: apt-get install ${missing[*]}"
	echo "build.sh: installing ${missing[*]}" >&2
	apt-get install -y --no-install-recommends "${missing[@]}" >&2
fi
PATH=$PATH:/usr/sbin:/sbin

# The kernel: the versioned image package linux-image-amd64 depends on, and its candidate
# version (the lab downloads the same one).
if [ -z "$release" ]; then
	image=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ && !v { v = $2 } END { print v }')
	[ -n "$image" ] || die "apt-cache depends linux-image-amd64 names no linux-image-<release> (apt-get update?)"
	release=${image#linux-image-}
fi
[[ "$release" =~ ^([0-9]+)\.([0-9]+)\.[0-9]+-[0-9]+-([a-z0-9]+)$ ]] ||
	die "unexpected kernel release '$release' (want e.g. 6.1.0-56-amd64)"
kbuild_series="${BASH_REMATCH[1]}.${BASH_REMATCH[2]}"
flavour=${BASH_REMATCH[3]}
abi=${release%-"$flavour"}
candidate() { apt-cache policy "$1" | awk '/Candidate:/ && !v { v = $2 } END { print v }'; }
pkgver=$(candidate "linux-headers-$release")
[ -n "$pkgver" ] && [ "$pkgver" != '(none)' ] || die "no candidate for linux-headers-$release"
imgver=$(candidate "linux-image-$release")
[ "$imgver" = "$pkgver" ] ||
	die "linux-image-$release is $imgver but linux-headers-$release is $pkgver: the modules would not match"

# Headers and kbuild, fetched once into the cache (under a lock: the lab may call us twice).
headers="$cache/headers-$release"
amd64_dir="$headers/root/usr/src/linux-headers-$release"
common_dir="$headers/root/usr/src/linux-headers-$abi-common"
mkdir -p "$cache"
exec 9>"$headers.lock"
flock 9
if [ "$(cat "$headers/complete" 2>/dev/null)" != "$pkgver" ]; then
	echo "build.sh: fetching headers and kbuild for $release ($pkgver) into $headers" >&2
	tmp=$(mktemp -d "$cache/.headers-XXXXXX")
	chmod 755 "$tmp"
	(
		cd "$tmp"
		apt-get download -q "linux-headers-$release=$pkgver" "linux-headers-$abi-common=$pkgver" \
			"linux-kbuild-$kbuild_series=$pkgver" 2>&1 | grep -v 'unsandboxed as root' >&2 || true
		ls ./*.deb >/dev/null
		mkdir root
		for deb in ./*.deb; do dpkg-deb -x "$deb" root; done
	) || { rm -rf "$tmp"; die "could not fetch the headers packages"; }
	echo "$pkgver" >"$tmp/complete"
	rm -rf "$headers"
	mv "$tmp" "$headers"
fi
flock -u 9
[ -f "$amd64_dir/.config" ] && [ -f "$common_dir/Makefile" ] || die "incomplete headers in $headers"

out=${out:-$cache/hs-driver-$release}
mkdir -p "$out/build"
out=$(cd "$out" && pwd)
exec 8>"$out/.lock" # two lab runs building into one folder take turns
flock 8

# One build: a fresh folder with the sources it needs, its hs_version.h, and make.
build() { # NAME HS_BUILD VERSION [extra make args...]
	local name=$1 kind=$2 version=$3 dir="$out/build/$1" log
	shift 3
	rm -rf "$dir"
	mkdir -p "$dir"
	cp "$here/Kbuild" "$here/hs_hw.h" "$here/hs_core.h" "$dir/"
	case "$kind" in
	core) cp "$here/hs_pdev.c" "$here/hs_core.c" "$dir/" ;;
	lab) cp "$here/hs_lab.c" "$dir/" ;;
	fenced) cp "$here/hs_lab_fenced.c" "$dir/" ;;
	esac
	printf '/* Generated by build.sh: the version of this build. */\n#define HS_LAB_VERSION "%s"\n' \
		"$version" >"$dir/hs_version.h"
	log="$dir/build.log"
	if ! make -C "$amd64_dir" -f "$common_dir/Makefile" M="$dir" HS_BUILD="$kind" \
		-j"$(nproc)" "$@" modules >"$log" 2>&1; then
		cat "$log" >&2
		die "build $name failed"
	fi
	if grep -E 'WARNING:|warning:' "$log" >&2; then
		die "build $name has warnings (see $log)"
	fi
	echo "build.sh: built $name ($kind, version $version)" >&2
}

build core core 1.0
cp "$out/build/core/hs_pdev.ko" "$out/build/core/hs_core.ko" "$out/"
files=(hs_pdev.ko hs_core.ko)
for v in $versions; do
	[[ "$v" =~ ^[0-9A-Za-z.+~]+$ ]] || die "bad version '$v'"
	build "lab-$v" lab "$v"
	build "fenced-$v" fenced "$v" KBUILD_EXTRA_SYMBOLS="$out/build/core/Module.symvers"
	cp "$out/build/lab-$v/hs_lab.ko" "$out/hs_lab-$v.ko"
	cp "$out/build/fenced-$v/hs_lab.ko" "$out/hs_lab-fenced-$v.ko"
	files+=("hs_lab-$v.ko" "hs_lab-fenced-$v.ko")
done

# What was built, as modinfo sees it.
field() { modinfo -F "$1" "$2"; }
printf 'file\tname\tversion\tsrcversion\tdepends\tvermagic\n' >"$out/manifest.tsv"
for f in "${files[@]}"; do
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$f" "$(field name "$out/$f")" "$(field version "$out/$f")" \
		"$(field srcversion "$out/$f")" "$(field depends "$out/$f")" "$(field vermagic "$out/$f")" \
		>>"$out/manifest.tsv"
done
column -t -s $'\t' "$out/manifest.tsv" 2>/dev/null || cat "$out/manifest.tsv"

# Every version must differ from every other in both version and srcversion, per build kind.
for kind in hs_lab hs_lab-fenced; do
	dups=$(awk -F'\t' -v k="$kind" '$1 ~ "^" k "-[^-]*\\.ko$" { print $3; print $4 }' "$out/manifest.tsv" |
		sort | uniq -d)
	[ -z "$dups" ] || die "$kind builds share a version or srcversion: $dups"
done
for f in "${files[@]}"; do
	vm=$(field vermagic "$out/$f")
	[ "${vm%% *}" = "$release" ] || die "$f has vermagic '$vm', not for $release"
done
echo "$out"
