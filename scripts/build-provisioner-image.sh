#!/usr/bin/env bash
# Build the pvmlab provisioner image offline from Debian packages (see build-provisioner-image.md).
#
#   scripts/build-provisioner-image.sh [x86_64]
#
# Output: ${PVMLAB_CACHE:-$HOME/.cache/pvmlab}/images/provisioner-<arch>-<hash>/
#           disk.qcow2  vmlinuz  initrd.img  manifest.json
# The output directory is printed as the LAST line of stdout; progress goes to stderr as
#   [provisioner-image] NN% <stage>: <message>
# Needs (Debian): debootstrap qemu-system-x86 qemu-utils e2fsprogs xorriso openssh-client util-linux
#   curl; root (debootstrap, chroot). Reaches deb.debian.org (or $PVMLAB_DEBIAN_MIRROR) only.
# Env: PVMLAB_CACHE, PVMLAB_DEBIAN_MIRROR, PVMLAB_BUILD_KEEP_TMP=1 (debug: keep the temp dir),
#      PVMLAB_SKIP_FIRST_BOOT=1 (ship without the pre-imported Docker base; it is imported on first boot)
set -euo pipefail

ARCH=${1:-x86_64}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HELPERS="$HERE/provisioner-image"
CACHE=${PVMLAB_CACHE:-$HOME/.cache/pvmlab}
MIRROR=${PVMLAB_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
DISK_SIZE=16G
BASE_IMAGE_NAME=pvmlab/pxeboot-base:bookworm
APPEND="root=/dev/vda rw console=ttyS0 net.ifnames=0"
START=$(date +%s)

log() { printf '[provisioner-image] %3d%% %s: %s\n' "$1" "$2" "$3" >&2; }
die() { printf '[provisioner-image] error: %s\n' "$*" >&2; exit 1; }

case "$ARCH" in
  x86_64) DEB_ARCH=amd64 ;;
  aarch64) die "aarch64 is not supported yet (x86_64 only)" ;;
  *) die "unknown arch '$ARCH' (expected x86_64)" ;;
esac
[ "$(id -u)" = 0 ] || die "must run as root (debootstrap and chroot need it)"
for tool in debootstrap mke2fs qemu-img qemu-system-x86_64 xorriso ssh ssh-keygen unshare chroot flock sha256sum; do
  command -v "$tool" >/dev/null || die "missing '$tool': apt-get install debootstrap e2fsprogs qemu-utils qemu-system-x86 xorriso openssh-client util-linux"
done

read_list() { sed -e 's/#.*//' -e 's/[[:space:]]//g' "$1" | grep -v '^$' | paste -sd, -; }
PKGS_PROV=$(read_list "$HELPERS/packages-provisioner.txt")
PKGS_BASE=$(read_list "$HELPERS/packages-pxeboot-base.txt")

# Content hash: this script, every helper file (path + content) and the include lists.
HASH=$(
  {
    printf 'arch=%s suite=%s size=%s append=%s\n' "$ARCH" "$SUITE" "$DISK_SIZE" "$APPEND"
    printf 'provisioner=%s\nbase=%s\n' "$PKGS_PROV" "$PKGS_BASE"
    sha256sum "$HERE/build-provisioner-image.sh" | cut -d' ' -f1
    (cd "$HELPERS" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    (cd "$HELPERS" && find . -type f -perm -u+x -print0 | LC_ALL=C sort -z | xargs -0 -r printf 'x %s\n')
  } | sha256sum | cut -c1-16
)
NAME="provisioner-$ARCH-$HASH"
OUT="$CACHE/images/$NAME"
if [ -f "$OUT/manifest.json" ] && [ -f "$OUT/disk.qcow2" ]; then
  log 100 cached "$OUT"
  echo "$OUT"
  exit 0
fi

mkdir -p "$CACHE/images" "$CACHE/debs-provisioner"
# One build at a time per cache (they share the .deb cache and a 2-core machine); a build that waited
# for another one of the same hash just reuses its result.
exec 9>"$CACHE/images/.provisioner-build.lock"
if ! flock -n 9; then
  log 0 waiting "another provisioner image build is running; waiting for it"
  flock 9
fi
if [ -f "$OUT/manifest.json" ] && [ -f "$OUT/disk.qcow2" ]; then
  log 100 cached "$OUT"
  echo "$OUT"
  exit 0
fi
TMP=$(mktemp -d "$CACHE/images/.$NAME.tmp.XXXXXX")
QEMU_PID=""
cleanup() {
  local rc=$?
  [ -n "$QEMU_PID" ] && kill "$QEMU_PID" 2>/dev/null || true
  if [ $rc -ne 0 ] && [ -s "$TMP/first-boot-serial.log" ]; then
    echo "--- last lines of the first boot's serial console:" >&2
    tail -n 25 "$TMP/first-boot-serial.log" | tr -d '\r' >&2 || true
  fi
  if [ "${PVMLAB_BUILD_KEEP_TMP:-0}" = 1 ] && [ $rc -ne 0 ]; then
    log 0 failed "kept $TMP"
  else
    # rootfs trees contain /proc-style mount points only inside private mount namespaces, so a
    # plain rm is safe here.
    rm -rf --one-file-system "$TMP"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ROOT="$TMP/rootfs"
BASE="$TMP/pxeboot-base"

# Run a command inside a rootfs, in private mount/pid/net namespaces: nothing a maintainer script
# starts can listen on the host or outlive the call, and /proc /sys /dev mounts vanish with it.
in_root() { # in_root ROOT [--net] CMD...
  local root=$1; shift
  local net=--net
  if [ "${1:-}" = --net ]; then net=""; shift; fi
  # shellcheck disable=SC2086
  unshare --mount --pid --fork $net --propagation private -- /bin/sh -c '
    root=$1; shift
    mount -t proc proc "$root/proc"; mount -t sysfs sys "$root/sys"; mount --rbind /dev "$root/dev"
    exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"
  ' sh "$root" "$@"
}

# progress FROM TO: read debootstrap's output, print every 40th line with a percentage that moves
# from FROM towards TO (never reaching it: the number of lines is only known afterwards)
progress() {
  local from=$1 to=$2 stage=$3 n=0 line
  while IFS= read -r line; do
    n=$((n + 1))
    case "$line" in
      E:*|W:*) echo "$line" >&2 ;;
      *) [ $((n % 40)) = 0 ] && log $((from + (to - from) * n / (n + 300))) "$stage" "${line:0:100}" ;;
    esac
  done
  return 0
}

bootstrap() { # bootstrap TARGET INCLUDES PCT_FROM PCT_TO STAGE
  local target=$1 include=$2 from=$3 to=$4 stage=$5 mid=$(( ($3 + $4) / 2 ))
  log "$from" "$stage" "debootstrap $SUITE (download/unpack)"
  debootstrap --foreign --variant=minbase --arch="$DEB_ARCH" --include="$include" \
    --cache-dir="$CACHE/debs-provisioner" "$SUITE" "$target" "$MIRROR" 2>&1 | progress "$from" "$mid" "$stage"
  [ -x "$target/debootstrap/debootstrap" ] || die "$stage: debootstrap first stage failed"
  log "$mid" "$stage" "debootstrap second stage (configure packages, offline)"
  unshare --mount --pid --fork --net --propagation private -- \
    chroot "$target" /debootstrap/debootstrap --second-stage 2>&1 | progress "$mid" "$to" "$stage"
  [ ! -e "$target/debootstrap" ] || { tail -n 30 "$target/debootstrap/debootstrap.log" >&2 || true; die "$stage: debootstrap second stage failed"; }
}

# ---------------------------------------------------------------- pxeboot base (Docker offline base)
bootstrap "$BASE" "$PKGS_BASE" 1 20 pxeboot-base
log 21 pxeboot-base "fetching Debian's arm64 GRUB netboot image (grub-efi-arm64-signed:arm64)"
GRUB_DEB=$(ls "$CACHE/debs-provisioner"/grub-efi-arm64-signed_*_arm64.deb 2>/dev/null | sort -V | tail -n1 || true)
if [ -z "$GRUB_DEB" ]; then
  cp -L /etc/resolv.conf "$BASE/etc/resolv.conf"
  in_root "$BASE" --net /bin/sh -ec '
    dpkg --add-architecture arm64
    apt-get -q -o Acquire::Languages=none update >/dev/null
    cd /tmp && apt-get -q download grub-efi-arm64-signed:arm64 >/dev/null
    dpkg --remove-architecture arm64
    rm -rf /var/lib/apt/lists/*'
  mv "$BASE"/tmp/grub-efi-arm64-signed_*_arm64.deb "$CACHE/debs-provisioner/"
  GRUB_DEB=$(ls "$CACHE/debs-provisioner"/grub-efi-arm64-signed_*_arm64.deb | sort -V | tail -n1)
fi
mkdir -p "$TMP/grub"
dpkg-deb -x "$GRUB_DEB" "$TMP/grub"
install -D -m 0644 "$TMP/grub/usr/lib/grub/arm64-efi-signed/grubnetaa64.efi.signed" \
  "$BASE/usr/lib/grub/arm64-efi-signed/grubnetaa64.efi.signed"
# Trim what a container never uses; docker supplies /etc/resolv.conf, /etc/hosts, /etc/hostname.
rm -rf "$BASE"/var/lib/apt/lists/* "$BASE"/var/cache/apt/*.bin "$BASE"/var/cache/apt/archives/*.deb \
  "$BASE"/usr/share/doc/* "$BASE"/usr/share/man/* "$BASE"/usr/share/info/* "$BASE"/var/log/*.log \
  "$BASE"/var/log/apt/* "$BASE"/dev/* "$BASE"/tmp/* "$BASE"/run/*
find "$BASE/usr/share/locale" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
: >"$BASE/etc/resolv.conf"; echo pxeboot >"$BASE/etc/hostname"
tar -C "$BASE" --numeric-owner --xattrs -cf "$TMP/pxeboot-base.tar" .
rm -rf --one-file-system "$BASE"
log 24 pxeboot-base "pxeboot-base.tar $(du -m "$TMP/pxeboot-base.tar" | cut -f1) MB"

# ---------------------------------------------------------------- provisioner root filesystem
bootstrap "$ROOT" "$PKGS_PROV" 25 55 rootfs
log 56 configure "overlay, services, initramfs"
tar -C "$HELPERS/rootfs" --owner=0 --group=0 --numeric-owner -cf - . | tar -C "$ROOT" --no-overwrite-dir -xf -
install -d -m 0755 "$ROOT/opt/pvmlab"
mv "$TMP/pxeboot-base.tar" "$ROOT/opt/pvmlab/pxeboot-base.tar"
echo provisioner >"$ROOT/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tprovisioner\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$ROOT/etc/hosts"
printf '# <fs> <mount> <type> <options> <dump> <pass>\n/dev/vda / ext4 rw,errors=remount-ro 0 1\n' >"$ROOT/etc/fstab"
: >"$ROOT/etc/machine-id"; rm -f "$ROOT/var/lib/dbus/machine-id"
cat >"$ROOT/etc/initramfs-tools/modules" <<'EOF'
# pvmlab: the root disk is virtio-blk (root=/dev/vda), the NICs virtio-net
virtio_pci
virtio_blk
virtio_net
ext4
EOF
in_root "$ROOT" /bin/sh -ec '
  # no password for any account: root stays locked (key-only SSH through cloud-init)
  usermod -p "*" root
  systemctl enable ssh.service docker.service systemd-networkd.service systemd-resolved.service \
    pvmlab-nat.service pvmlab-pxeboot-base.service >/dev/null 2>&1
  systemctl disable apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer >/dev/null 2>&1 || true
  ln -sf ../run/systemd/resolve/stub-resolv.conf /etc/resolv.conf
  sed -i -e "s/^MODULES=.*/MODULES=most/" -e "s/^COMPRESS=.*/COMPRESS=gzip/" /etc/initramfs-tools/initramfs.conf
  update-initramfs -u -k all >/dev/null
  for m in virtio_blk virtio_pci virtio_net ext4; do
    grep -q "/$m.ko" /lib/modules/*/modules.builtin || lsinitramfs /boot/initrd.img-* | grep -q "/$m.ko" \
      || { echo "initramfs lacks $m" >&2; exit 1; }
  done
  rm -f /etc/ssh/ssh_host_*
  apt-get clean
  rm -rf /var/lib/apt/lists/* /var/log/*.log /var/log/apt/* /tmp/* /var/tmp/*'
KVER=$(ls "$ROOT/lib/modules" | sort -V | tail -n1)
[ -n "$KVER" ] || die "no kernel installed in the rootfs"
cp "$ROOT/boot/vmlinuz-$KVER" "$TMP/vmlinuz"
cp "$ROOT/boot/initrd.img-$KVER" "$TMP/initrd.img"
chmod 0644 "$TMP/vmlinuz" "$TMP/initrd.img"
rm -rf "$ROOT/dev"/*  # mke2fs -d copies device nodes; udev/devtmpfs provide them at boot

log 60 mkfs "ext4 ($DISK_SIZE sparse) from the rootfs tree"
truncate -s "$DISK_SIZE" "$TMP/disk.raw"
mke2fs -q -t ext4 -L pvmlab-root -E lazy_itable_init=1,lazy_journal_init=1 -d "$ROOT" -F "$TMP/disk.raw" \
  || die "mke2fs -d failed"
rm -rf --one-file-system "$ROOT"

# ---------------------------------------------------------------- first boot: import the Docker base
FIRST_BOOT='{}'
if [ "${PVMLAB_SKIP_FIRST_BOOT:-0}" != 1 ]; then
  # The accelerator the doctor proved for x86_64 guests (pvmlab doctor --qemu-accel x86_64 prints e.g.
  # "-accel kvm -cpu host"); PVMLAB_QEMU_ACCEL overrides it, TCG when neither answers.
  read -r -a ACCEL_ARGS <<<"${PVMLAB_QEMU_ACCEL:-$(node "$HERE/../bin/pvmlab.mjs" doctor --qemu-accel x86_64 2>/dev/null || true)}"
  [ ${#ACCEL_ARGS[@]} -gt 0 ] || ACCEL_ARGS=(-accel tcg -cpu max)
  log 62 first-boot "booting the image once (${ACCEL_ARGS[*]}) to import $BASE_IMAGE_NAME"
  SEED="$TMP/seed"; mkdir -p "$SEED"
  ssh-keygen -q -t ed25519 -N '' -C pvmlab-image-build -f "$TMP/build_key"
  printf 'instance-id: pvmlab-image-build\nlocal-hostname: provisioner\n' >"$SEED/meta-data"
  cat >"$SEED/user-data" <<EOF
#cloud-config
users:
  - name: root
    lock_passwd: true
    ssh_authorized_keys: [ "$(cat "$TMP/build_key.pub")" ]
disable_root: false
locale: C.UTF-8
EOF
  xorriso -as mkisofs -quiet -V cidata -J -r -o "$TMP/seed.iso" "$SEED" 2>/dev/null
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
    || shuf -i 20000-60000 -n1)
  BOOT_T0=$(date +%s.%N)
  qemu-system-x86_64 "${ACCEL_ARGS[@]}" -M q35 -smp 2 -m 2048 -display none -no-reboot \
    -kernel "$TMP/vmlinuz" -initrd "$TMP/initrd.img" -append "$APPEND" \
    -drive "file=$TMP/disk.raw,format=raw,if=virtio,discard=unmap,cache=unsafe" \
    -drive "file=$TMP/seed.iso,format=raw,if=virtio,readonly=on" \
    -netdev "user,id=up,restrict=on,hostfwd=tcp:127.0.0.1:$PORT-:22" -device virtio-net-pci,netdev=up \
    -serial "file:$TMP/first-boot-serial.log" -monitor none &
  QEMU_PID=$!
  SSH=(ssh -q -i "$TMP/build_key" -p "$PORT" -o BatchMode=yes -o ConnectTimeout=30 -o ServerAliveInterval=15
       -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR root@127.0.0.1)
  # ssh exits 255 when it cannot connect (a loaded TCG guest may not accept in time): retry those
  guest() {
    local i rc
    for i in 1 2 3 4 5 6; do
      "${SSH[@]}" "$@" && return 0
      rc=$?; [ $rc = 255 ] || return $rc
      sleep 5
    done
    return 255
  }
  since() { awk -v a="$BOOT_T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }
  deadline=$(( $(date +%s) + 900 ))
  until "${SSH[@]}" true 2>/dev/null; do
    kill -0 "$QEMU_PID" 2>/dev/null || { tail -n 40 "$TMP/first-boot-serial.log" >&2; die "first-boot: QEMU exited before SSH answered"; }
    [ "$(date +%s)" -lt "$deadline" ] || { tail -n 40 "$TMP/first-boot-serial.log" >&2; die "first-boot: SSH did not answer within 15 min"; }
    sleep 3
  done
  T_SSH=$(since); log 70 first-boot "SSH answered after ${T_SSH}s"
  restarts=0
  while :; do
    state=$(guest 'systemctl is-active docker.service' 2>/dev/null || true)
    [ "$state" = active ] && break
    if [ "$state" = failed ]; then
      # docker.service gives up after 3 quick failures (e.g. containerd slow to answer on a loaded host)
      restarts=$((restarts + 1))
      [ $restarts -le 3 ] || die "first-boot: docker.service keeps failing: $(guest 'journalctl -b -u containerd -u docker --no-pager | tail -n 25' || true)"
      log 72 first-boot "docker.service failed, starting it again ($restarts/3)"
      guest 'systemctl reset-failed docker.service docker.socket containerd.service; systemctl start --no-block docker.service' || true
    fi
    kill -0 "$QEMU_PID" 2>/dev/null || die "first-boot: QEMU exited while waiting for docker"
    [ "$(date +%s)" -lt "$deadline" ] || die "first-boot: docker.service not active within 15 min ($state)"
    sleep 3
  done
  T_DOCKER=$(since); log 75 first-boot "docker active after ${T_DOCKER}s"
  guest "systemctl start pvmlab-pxeboot-base.service && docker image inspect -f '{{.Id}} {{.Size}}' $BASE_IMAGE_NAME" >&2 \
    || die "first-boot: docker import failed: $(guest 'journalctl -b -u pvmlab-pxeboot-base --no-pager | tail -n 20' || true)"
  # the unit started by itself at boot: take the import's duration from its own timestamps
  T_IMPORT=$(guest 'systemctl show pvmlab-pxeboot-base.service -p ExecMainStartTimestampMonotonic -p ExecMainExitTimestampMonotonic --value' |
    paste -sd' ' | awk '{printf "%.1f", ($2-$1)/1e6}')
  T_IMPORTED=$(since); log 88 first-boot "imported $BASE_IMAGE_NAME in ${T_IMPORT}s"
  CI_STATUS=$(guest 'cloud-init status --wait >/dev/null 2>&1; cloud-init status 2>/dev/null | sed -n "s/^status: //p"' || true)
  T_CLOUDINIT=$(since)
  [ "$CI_STATUS" = done ] || log 88 first-boot "warning: cloud-init status '$CI_STATUS' (expected done)"
  log 89 first-boot "cloud-init $CI_STATUS after ${T_CLOUDINIT}s; cleaning instance state"
  guest '
    set -e
    cloud-init clean --logs --machine-id 2>/dev/null || { cloud-init clean --logs; : >/etc/machine-id; }
    rm -f /etc/ssh/ssh_host_* /root/.ssh/authorized_keys /etc/sudoers.d/90-cloud-init-users
    rm -f /etc/systemd/network/10-cloud-init-* /etc/systemd/network/*cloud-init* /var/lib/systemd/random-seed
    rm -rf /var/log/journal/* /var/lib/dhcp/* /tmp/* /var/tmp/*
    : >/etc/machine-id
    echo provisioner >/etc/hostname
    sync; fstrim -v / >&2 || true
    systemd-run --on-active=1 --timer-property=AccuracySec=100ms systemctl poweroff >/dev/null' >&2 \
    || die "first-boot: cleanup failed"
  for _ in $(seq 1 120); do kill -0 "$QEMU_PID" 2>/dev/null || break; sleep 1; done
  if kill -0 "$QEMU_PID" 2>/dev/null; then die "first-boot: guest did not power off"; fi
  wait "$QEMU_PID" || true; QEMU_PID=""
  FIRST_BOOT=$(printf '{"bootToSshSeconds":%s,"bootToDockerActiveSeconds":%s,"dockerImportSeconds":%s,"bootToImportedSeconds":%s,"bootToCloudInitDoneSeconds":%s,"cloudInitStatus":"%s"}' \
    "$T_SSH" "$T_DOCKER" "$T_IMPORT" "$T_IMPORTED" "$T_CLOUDINIT" "$CI_STATUS")
  PREIMPORTED=true
else
  PREIMPORTED=false
fi

log 92 compress "qemu-img convert -O qcow2 -c"
qemu-img convert -O qcow2 -c "$TMP/disk.raw" "$TMP/disk.qcow2"
rm -f "$TMP/disk.raw" "$TMP/seed.iso" "$TMP/build_key" "$TMP/build_key.pub"
rm -rf "$TMP/seed" "$TMP/grub"

BUILD_SECONDS=$(( $(date +%s) - START ))
cat >"$TMP/manifest.json" <<EOF
{
  "arch": "$ARCH",
  "hash": "$HASH",
  "suite": "$SUITE",
  "kernelVersion": "$KVER",
  "kernel": "vmlinuz",
  "initrd": "initrd.img",
  "disk": "disk.qcow2",
  "diskVirtualSize": "$DISK_SIZE",
  "append": "$APPEND",
  "builtAt": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "buildSeconds": $BUILD_SECONDS,
  "dockerBaseImage": "$BASE_IMAGE_NAME",
  "dockerBaseImported": $PREIMPORTED,
  "dockerBaseTarball": "/opt/pvmlab/pxeboot-base.tar",
  "firstBoot": $FIRST_BOOT
}
EOF
sync
# a directory without manifest.json is a leftover, never a finished build
if [ -e "$OUT" ]; then rm -rf "$OUT"; fi
chmod 0755 "$TMP"
mv "$TMP" "$OUT"
trap - EXIT
log 100 done "$(du -m "$OUT/disk.qcow2" | cut -f1) MB disk.qcow2 in ${BUILD_SECONDS}s"
echo "$OUT"
