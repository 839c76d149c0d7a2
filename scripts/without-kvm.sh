#!/usr/bin/env bash
# Run a command on a simulated host without KVM: a private mount namespace whose /dev is a tmpfs holding
# every entry of the real /dev except `kvm` (devpts, shm and mqueue stay the real mounts and /dev/ptmx
# points into devpts, so node-pty and Chromium work). Nothing outside the namespace changes; the namespace ends with the command.
#
#   scripts/without-kvm.sh COMMAND [ARG…]
#
# Needs: root (or CAP_SYS_ADMIN) and util-linux's unshare. Exit code: the command's.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARG…]" >&2; exit 2; }
if [ "${PVMLAB_WITHOUT_KVM_INNER:-}" != 1 ]; then
  command -v unshare >/dev/null || { echo "without-kvm: unshare missing: apt-get install util-linux" >&2; exit 1; }
  exec env PVMLAB_WITHOUT_KVM_INNER=1 unshare --mount --propagation private "$0" "$@"
fi
unset PVMLAB_WITHOUT_KVM_INNER
real=$(mktemp -d /tmp/pvmlab-realdev.XXXXXX)
mount --rbind /dev "$real"
mount -t tmpfs -o mode=755,nosuid tmpfs /dev
for src in "$real"/* "$real"/.[!.]*; do
  [ -e "$src" ] || [ -L "$src" ] || continue
  name=${src##*/}
  [ "$name" = kvm ] && continue
  dst=/dev/$name
  # ptmx must find its devpts as ./pts beside it: the usual symlink does (a bind of the node would look
  # for pts beside the original, unmounted below).
  if [ "$name" = ptmx ]; then ln -s pts/ptmx /dev/ptmx
  elif [ -L "$src" ]; then cp -a "$src" "$dst"
  elif [ -d "$src" ]; then mkdir -p "$dst"; mount --rbind "$src" "$dst"
  else touch "$dst"; mount --bind "$src" "$dst"
  fi
done
umount -l "$real" && rmdir "$real"
exec "$@"
