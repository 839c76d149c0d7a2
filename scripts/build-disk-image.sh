#!/usr/bin/env bash
# Builds a tiny BIOS-bootable raw disk image from a test guest (scripts/build-test-guest.sh) with Debian's
# SYSLINUX: an MBR (syslinux's mbr.bin), one active FAT partition from 1 MiB holding the guest's kernel and
# initramfs, and a syslinux.cfg whose kernel command line names the host "disk-boot" (or $3) — so the guest's
# "PVMLAB-GUEST-READY hostname=disk-boot" marker on the serial console proves it booted from this disk.
#
#   scripts/build-disk-image.sh GUEST_DIR OUT.raw [HOSTNAME] [SIZE_MIB]
#
# No mount, no loop device, no root: sfdisk, mkfs.vfat, mcopy and syslinux all work on image files.
# Host packages: fdisk dosfstools mtools syslinux syslinux-common coreutils. SIZE_MIB (default: what the files
# need + 8 MiB, at least 32) pads the image (the bench's 1 GiB image); the padding is zeros.
set -euo pipefail
die() { printf 'build-disk-image: error: %s\n' "$*" >&2; exit 1; }
[ $# -ge 2 ] || { echo "usage: $0 GUEST_DIR OUT.raw [HOSTNAME] [SIZE_MIB]" >&2; exit 2; }
GUEST=$1 OUT=$2 HOST=${3:-disk-boot} SIZE=${4:-}
for t in sfdisk:fdisk mkfs.vfat:dosfstools mcopy:mtools syslinux:syslinux; do
	command -v "${t%%:*}" >/dev/null 2>&1 || die "missing ${t%%:*}: apt-get install ${t#*:}"
done
MBR=/usr/lib/syslinux/mbr/mbr.bin
[ -f "$MBR" ] || die "missing $MBR: apt-get install syslinux-common"
[ -f "$GUEST/vmlinuz" ] && [ -f "$GUEST/initrd.img" ] || die "$GUEST has no vmlinuz + initrd.img (scripts/build-test-guest.sh x86_64)"
[[ $HOST =~ ^[a-z0-9-]{1,63}$ ]] || die "hostname '$HOST': lowercase letters, digits and -"
need=$(( ($(stat -c %s "$GUEST/vmlinuz") + $(stat -c %s "$GUEST/initrd.img")) / 1048576 + 8 ))
[ "$need" -ge 32 ] || need=32
[ -n "$SIZE" ] || SIZE=$need
[[ $SIZE =~ ^[0-9]+$ ]] && [ "$SIZE" -ge "$need" ] || die "SIZE_MIB must be a number of at least $need"

TMP=$(mktemp -d "$(dirname "$OUT")/.disk-image.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
cat >"$TMP/syslinux.cfg" <<CFG
SERIAL 0 115200
DEFAULT pvmlab
PROMPT 0
TIMEOUT 0
LABEL pvmlab
  KERNEL vmlinuz
  INITRD initrd.img
  APPEND console=ttyS0 pvmlab.hostname=$HOST pvmlab.dhcp=1
CFG
# the FAT partition: from 1 MiB to the end (FAT16 up to 2 GiB)
truncate -s $(( (SIZE - 1) * 1048576 )) "$TMP/part"
mkfs.vfat -F 16 -n PVMLAB -i 70766d6c "$TMP/part" >/dev/null
export MTOOLS_SKIP_CHECK=1
mcopy -i "$TMP/part" "$GUEST/vmlinuz" ::vmlinuz
mcopy -i "$TMP/part" "$GUEST/initrd.img" ::initrd.img
mcopy -i "$TMP/part" "$TMP/syslinux.cfg" ::syslinux.cfg
syslinux --install "$TMP/part"
# the disk: MBR boot code + one active partition (type 0x0e, FAT16 LBA) at sector 2048
truncate -s $(( SIZE * 1048576 )) "$TMP/disk"
printf 'label: dos\nstart=2048, type=e, bootable\n' | sfdisk -q "$TMP/disk"
dd if="$MBR" of="$TMP/disk" bs=440 count=1 conv=notrunc status=none
dd if="$TMP/part" of="$TMP/disk" bs=1M seek=1 conv=notrunc,sparse status=none
mv -f "$TMP/disk" "$OUT"
echo "$OUT"
