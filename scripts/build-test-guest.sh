#!/usr/bin/env bash
# Builds (or reuses from the cache) a tiny pvmlab test guest from Debian packages only:
# Debian's cloud kernel + an initramfs with busybox-static, a few kernel modules, dropbear
# (and gpiod on aarch64), and the /init in scripts/test-guest/rootfs/.
#
#   scripts/build-test-guest.sh x86_64|aarch64
#
# Prints progress on stderr and, as the last line of stdout, the absolute path of a directory
# holding vmlinuz, initrd.img and manifest.json. See scripts/build-test-guest.md.
#
# Host needs (Debian): apt, dpkg, cpio, gzip, binutils (readelf), busybox-static (depmod),
# coreutils, findutils, util-linux (flock), sed, gawk|mawk. Root only to add the arm64
# architecture to dpkg and run apt-get update the first time.
set -euo pipefail

SCRIPT_PATH=$(readlink -f "${BASH_SOURCE[0]}")
SCRIPT_DIR=$(dirname "$SCRIPT_PATH")
SRC_DIR=$SCRIPT_DIR/test-guest
CACHE=${PVMLAB_CACHE:-${HOME:?set PVMLAB_CACHE or HOME}/.cache/pvmlab}

log() { printf 'build-test-guest: [%3ss] %s\n' "$SECONDS" "$*" >&2; }
die() {
	printf 'build-test-guest: error: %s\n' "$*" >&2
	exit 1
}

usage() {
	echo "usage: $0 x86_64|aarch64" >&2
	exit 2
}
[ $# -eq 1 ] || usage
ARCH=$1
case "$ARCH" in
x86_64)
	DEBARCH=amd64 TRIPLET=x86_64-linux-gnu CONSOLE=ttyS0
	# ACPI power button (q35) + evdev to read it
	MODULES="button evdev"
	EXTRA_PKGS=""
	EXTRA_BINS=""
	;;
aarch64)
	DEBARCH=arm64 TRIPLET=aarch64-linux-gnu CONSOLE=ttyAMA0
	# virt without firmware: power key is a pl061 GPIO line (pl061 is built in; the cloud kernel
	# has no gpio-keys driver, so gpiomon from Debian's gpiod watches the line instead)
	MODULES="virtio_mmio"
	EXTRA_PKGS="gpiod libgpiod2"
	EXTRA_BINS="usr/bin/gpiomon usr/bin/gpiodetect"
	;;
*) usage ;;
esac
# Modules for both arches; their dependencies come from modules.dep. Built-in ones are skipped.
MODULES="virtio_pci virtio_net virtio_blk virtio_console virtio_scsi virtio-rng sr_mod sd_mod isofs $MODULES"
PKGS="busybox-static dropbear-bin libc6 libcrypt1 libtomcrypt1 libtommath1 libgmp10 zlib1g $EXTRA_PKGS"
BINS="usr/sbin/dropbear usr/bin/dropbearkey $EXTRA_BINS"

for tool in apt-cache:apt apt-get:apt dpkg:dpkg dpkg-deb:dpkg cpio:cpio gzip:gzip readelf:binutils \
	sha256sum:coreutils flock:util-linux busybox:busybox-static find:findutils sed:sed awk:mawk; do
	command -v "${tool%%:*}" >/dev/null 2>&1 || die "missing tool ${tool%%:*}: install it with: apt-get install ${tool#*:}"
done
[ -f "$SRC_DIR/rootfs/init" ] || die "missing $SRC_DIR/rootfs/init"

mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd -P) # the printed path must be absolute
DEBS=$CACHE/debs
GUESTS=$CACHE/guests
mkdir -p "$DEBS" "$GUESTS"

# ---- package versions ------------------------------------------------------------------------
# apt-cache rebuilds its binary cache on every call when the host disables it (Debian's docker
# images do): keep our own in the cache directory (apt revalidates it against the lists) and batch.
mkdir -p "$CACHE/apt"
apt_cache() { apt-cache -o Dir::Cache::pkgcache="$CACHE/apt/pkgcache.bin" -o Dir::Cache::srcpkgcache= "$@"; }
is_root() { [ "$(id -u)" = 0 ]; }
declare -A CAND=()
policy() { # fill CAND[name]=candidate version for name:$DEBARCH ...
	local name ver
	while read -r name ver; do
		[ "$ver" = "(none)" ] || CAND[$name]=$ver
	done < <(apt_cache policy "${@/%/:$DEBARCH}" 2>/dev/null |
		awk '/^[^ ]/ { n = $1; sub(/:$/, "", n); sub(/:.*/, "", n) } $1 == "Candidate:" { print n, $2 }')
}
META=linux-image-cloud-$DEBARCH
if [ "$DEBARCH" != "$(dpkg --print-architecture)" ] && ! dpkg --print-foreign-architectures | grep -qx "$DEBARCH"; then
	is_root || die "dpkg does not know $DEBARCH; run as root: dpkg --add-architecture $DEBARCH && apt-get update"
	log "dpkg --add-architecture $DEBARCH"
	dpkg --add-architecture "$DEBARCH"
	NEED_UPDATE=1
fi
[ -n "${NEED_UPDATE:-}" ] || policy "$META" $PKGS
if [ -z "${CAND[$META]:-}" ]; then
	is_root || die "apt knows no $META:$DEBARCH; run as root: apt-get update"
	log "apt-get update"
	apt-get update >&2 || die "apt-get update failed"
	policy "$META" $PKGS
	[ -n "${CAND[$META]:-}" ] || die "apt knows no $META:$DEBARCH even after apt-get update"
fi
META_VER=${CAND[$META]}
# the metapackage depends on exactly one concrete kernel package, usually pinned with (= version)
read -r KPKG KVER_PIN < <(apt_cache show "$META:$DEBARCH=$META_VER" |
	sed -n 's/^Depends: *\(linux-image-[^ ,]*\)\( *(= *\([^)]*\))\)\{0,1\}.*/\1 \3/p' | head -n 1) ||
	die "cannot resolve $META $META_VER to a concrete linux-image package"
[ -n "${KVER_PIN:-}" ] || policy "$KPKG"
KPKG_VER=${KVER_PIN:-${CAND[$KPKG]:-}}
[ -n "$KPKG_VER" ] || die "apt has no candidate for $KPKG:$DEBARCH"
SPECS=("$KPKG:$DEBARCH=$KPKG_VER") # name:arch=version of every package unpacked into the guest
for p in $PKGS; do
	[ -n "${CAND[$p]:-}" ] || die "apt has no candidate for $p:$DEBARCH (apt-get update?)"
	SPECS+=("$p:$DEBARCH=${CAND[$p]}")
done

# ---- content hash: this script + the guest's sources (test-guest/rootfs) + exact package versions
HASH=$(
	{
		echo "pvmlab-test-guest arch=$ARCH"
		echo "script $(sha256sum <"$SCRIPT_PATH" | cut -d' ' -f1)"
		(cd "$SCRIPT_DIR" && find test-guest/rootfs -type f -print | LC_ALL=C sort | while read -r f; do
			echo "file $f $(sha256sum <"$f" | cut -d' ' -f1)"
		done)
		echo "meta $META:$DEBARCH=$META_VER"
		printf 'pkg %s\n' "${SPECS[@]}"
	} | sha256sum | cut -d' ' -f1
)
OUT=$GUESTS/$ARCH-$HASH

is_complete() { [ -f "$1/manifest.json" ] && [ -f "$1/vmlinuz" ] && [ -f "$1/initrd.img" ]; }
if is_complete "$OUT"; then
	log "cached: $OUT"
	echo "$OUT"
	exit 0
fi

# One build at a time per cache (downloads and builds share $DEBS and $GUESTS).
exec 9>"$CACHE/.build-test-guest.lock"
if ! flock -n 9; then
	log "waiting for another build (lock $CACHE/.build-test-guest.lock)"
	flock 9
fi
if is_complete "$OUT"; then
	log "cached: $OUT"
	echo "$OUT"
	exit 0
fi
# We hold the lock: any temp dir left is from an interrupted build.
rm -rf "$GUESTS"/.tmp-* "$DEBS"/.tmp-*

# ---- download (verified against the SHA256 apt knows) -----------------------------------------
declare -A SHA=()
while read -r name ver sha; do
	SHA[$name=$ver]=$sha
done < <(apt_cache show "${SPECS[@]}" | awk '
	$1 == "Package:" { p = $2 } $1 == "Version:" { v = $2 } $1 == "SHA256:" { print p, v, $2 }')
deb_file() { # cached .deb path for name:arch=version (may not exist)
	local base=$DEBS/${1%%:*}_${1#*=}
	base=${base//:/%3a}
	if [ -e "${base}_all.deb" ]; then echo "${base}_all.deb"; else echo "${base}_${DEBARCH}.deb"; fi
}
deb_ok() {
	local f want=${SHA[${1%%:*}=${1#*=}]:-}
	f=$(deb_file "$1")
	[ -n "$want" ] || die "apt-cache show gave no SHA256 for $1"
	[ -f "$f" ] && [ "$(sha256sum <"$f" | cut -d' ' -f1)" = "$want" ]
}
missing=()
for s in "${SPECS[@]}"; do deb_ok "$s" || missing+=("$s"); done
if [ ${#missing[@]} -gt 0 ]; then
	dl=$(mktemp -d "$DEBS/.tmp-XXXXXX")
	log "apt-get download ${missing[*]}"
	(cd "$dl" && apt-get download "${missing[@]}" >&2) || die "apt-get download failed"
	mv -f "$dl"/*.deb "$DEBS"/
	rmdir "$dl"
	for s in "${missing[@]}"; do deb_ok "$s" || die "downloaded $s does not match apt's SHA256"; done
fi

# ---- unpack and assemble ---------------------------------------------------------------------
TMP=$(mktemp -d "$GUESTS/.tmp-$ARCH-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM # run the EXIT trap on signals too (a SIGKILLed build is cleaned next time)
SYSROOT=$TMP/sysroot
ROOT=$TMP/initramfs
STAGE=$TMP/out
mkdir -p "$SYSROOT" "$ROOT" "$STAGE"
for s in "${SPECS[@]}"; do
	log "unpack ${s%%:*} ${s#*=}"
	dpkg-deb -x "$(deb_file "$s")" "$SYSROOT"
done

KVER=$(cd "$SYSROOT/lib/modules" && ls -d -- *-cloud-"$DEBARCH" | head -n 1)
[ -n "$KVER" ] && [ -f "$SYSROOT/boot/vmlinuz-$KVER" ] || die "no kernel found in $KPKG"
log "kernel $KVER"

cp -R "$SRC_DIR/rootfs/." "$ROOT/"
# modes do not depend on the checkout's umask (git keeps only the x bit)
chmod -R u=rwX,go=rX "$ROOT"
chmod 755 "$ROOT/init" "$ROOT/usr/share/udhcpc/default.script"
chmod 600 "$ROOT/etc/shadow"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,run,tmp,root,mnt/seed,etc/pvmlab,lib/"$TRIPLET"}
chmod 700 "$ROOT/root"
install -m 755 "$SYSROOT/bin/busybox" "$ROOT/bin/busybox"
ln -s busybox "$ROOT/bin/sh" # for #!/bin/sh; /init installs the other applet links at boot

# kernel modules, in dependency order (deps first), from a modules.dep made by busybox depmod
MODDIR=$SYSROOT/lib/modules/$KVER
busybox depmod -b "$SYSROOT" "$KVER"
declare -A MODPATH=() SEEN=()
ORDER=()
while IFS=: read -r path _; do
	b=${path##*/}
	b=${b%.ko*}
	MODPATH[${b//-/_}]=$path
done <"$MODDIR/modules.dep"
visit() { # visit PATH: deps first, then PATH
	local path=$1 dep
	[ -z "${SEEN[$path]:-}" ] || return 0
	SEEN[$path]=1
	for dep in $(awk -F: -v p="$path" '$1 == p { print $2; exit }' "$MODDIR/modules.dep"); do
		visit "$dep"
	done
	ORDER+=("$path")
}
for m in $MODULES; do
	key=${m//-/_}
	if [ -n "${MODPATH[$key]:-}" ]; then
		visit "${MODPATH[$key]}"
	elif grep -qE "/$m\.ko(\..*)?$" "$MODDIR/modules.builtin" ||
		grep -qE "/${key//_/[-_]}\.ko(\..*)?$" "$MODDIR/modules.builtin"; then
		log "module $m is built in"
	else
		die "module $m is neither a module nor built into $KVER"
	fi
done
: >"$ROOT/etc/pvmlab/modules"
for path in "${ORDER[@]}"; do
	mkdir -p "$ROOT/lib/modules/$KVER/$(dirname "$path")"
	case "$path" in
	*.ko) cp "$MODDIR/$path" "$ROOT/lib/modules/$KVER/$path" ;;
	*.ko.xz) xz -dc "$MODDIR/$path" >"$ROOT/lib/modules/$KVER/${path%.xz}" && path=${path%.xz} ;;
	*.ko.zst) zstd -qdc "$MODDIR/$path" >"$ROOT/lib/modules/$KVER/${path%.zst}" && path=${path%.zst} ;;
	*) die "unknown module format $path" ;;
	esac
	echo "$path" >>"$ROOT/etc/pvmlab/modules"
done
log "modules: $(sed 's#.*/##; s#\.ko$##' "$ROOT/etc/pvmlab/modules" | tr '\n' ' ')"

# dynamically linked programs (dropbear, gpiod tools) + their libraries and the dynamic loader
in_sysroot() { # resolve symlinks of a path inside $SYSROOT, print the real host path
	local p=$1 t n=0
	while [ -L "$SYSROOT$p" ]; do
		t=$(readlink "$SYSROOT$p")
		case "$t" in /*) p=$t ;; *) p=$(dirname "$p")/$t ;; esac
		n=$((n + 1))
		[ $n -lt 20 ] || die "symlink loop at $1"
	done
	[ -e "$SYSROOT$p" ] || return 1
	echo "$SYSROOT$p"
}
declare -A LIBDONE=()
add_elf() { # add_elf HOSTFILE: copy the NEEDED libraries of HOSTFILE, recursively
	local lib dir found
	for lib in $(readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		[ -z "${LIBDONE[$lib]:-}" ] || continue
		LIBDONE[$lib]=1
		found=
		for dir in /lib/$TRIPLET /usr/lib/$TRIPLET /lib /usr/lib; do
			if found=$(in_sysroot "$dir/$lib"); then break; fi
			found=
		done
		[ -n "$found" ] || die "library $lib (needed by ${1#"$SYSROOT"}) is in none of the unpacked packages"
		install -m 755 "$found" "$ROOT/lib/$TRIPLET/$lib"
		add_elf "$found"
	done
}
INTERP=
for bin in $BINS; do
	[ -f "$SYSROOT/$bin" ] || die "missing $bin in the unpacked packages"
	install -D -m 755 "$SYSROOT/$bin" "$ROOT/$bin"
	i=$(readelf -l "$SYSROOT/$bin" | sed -n 's/.*Requesting program interpreter: \(.*\)\]/\1/p')
	[ -z "$i" ] || INTERP=$i
	add_elf "$SYSROOT/$bin"
done
[ -n "$INTERP" ] || die "no program interpreter found"
real=$(in_sysroot "$INTERP") || die "dynamic loader $INTERP not in libc6"
mkdir -p "$ROOT$(dirname "$INTERP")"
if [ -f "$ROOT/lib/$TRIPLET/${INTERP##*/}" ] && [ "$(dirname "$INTERP")" != "/lib/$TRIPLET" ]; then
	ln -s "/lib/$TRIPLET/${INTERP##*/}" "$ROOT$INTERP" # libc also NEEDs it: one copy
else
	install -m 755 "$real" "$ROOT$INTERP"
fi
log "dynamic loader $INTERP, libraries: ${!LIBDONE[*]}"

# cpio (newc) of the tree + a /dev/console node (written by hand: no mknod needed), gzip
newc_entry() { # newc_entry NAME MODE(octal) RDEVMAJOR RDEVMINOR: one data-less entry
	local name=$1 namesize=$((${#1} + 1)) pad
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%s\0' \
		300000 $((8#$2)) 0 0 1 0 0 0 0 "$3" "$4" "$namesize" 0 "$name"
	pad=$(((4 - (110 + namesize) % 4) % 4))
	head -c "$pad" /dev/zero
}
find "$ROOT" -exec touch -h -d @0 {} +
(
	cd "$ROOT"
	find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet
	newc_entry dev/console 020600 5 1
	newc_entry TRAILER!!! 0 0 0
) | gzip -9 -n >"$STAGE/initrd.img"
cp "$SYSROOT/boot/vmlinuz-$KVER" "$STAGE/vmlinuz"
cat >"$STAGE/manifest.json" <<EOF
{"arch":"$ARCH","kernelVersion":"$KVER","console":"$CONSOLE","hash":"$HASH","kernelPackage":"${SPECS[0]}","packages":[$(printf '"%s",' "${SPECS[@]}" | sed 's/,$//')]}
EOF
sync "$STAGE"/* 2>/dev/null || sync
mv -T "$STAGE" "$OUT"
log "built $OUT (initrd $(du -k "$OUT/initrd.img" | cut -f1) KiB)"
echo "$OUT"
