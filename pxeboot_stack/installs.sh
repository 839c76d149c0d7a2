#!/bin/bash
# supervisord program: follows /pxe/installs.log (nginx, one JSON object per GET /installed) and, when a target
# reports status=installed, puts the "boot from disk" files the panel published beside its install files in place:
#   /pxe/http/ipxe/<mac>.disk               -> /pxe/http/ipxe/<mac>
#   /pxe/tftp/grub/grub.cfg-01-<mac>.disk   -> /pxe/tftp/grub/grub.cfg-01-<mac>
# only when the .disk file names the same install id (its first lines: "# pvmlab-local-boot <id>"), so a stale
# report of an earlier install changes nothing. (The id is not a secret: any guest on the lab network can read it
# from /ipxe/<mac> — the private network is trusted, as everywhere in the stack.) The panel folds the same report into its own records (the
# host stays the truth) before it renders these files again.
set -u
LOG=/pxe/installs.log
say() { printf 'pvmlab-installs: %s\n' "$*" >&2; }

flip() { # flip FILE ID
  local f=$1 id=$2
  [ -s "$f.disk" ] || return 1
  head -n 2 "$f.disk" | grep -qx "# pvmlab-local-boot $id" || return 1
  cp "$f.disk" "$f.flip.$$" && chmod 0644 "$f.flip.$$" && mv -f "$f.flip.$$" "$f"
}

[ -e "$LOG" ] || install -m 0644 /dev/null "$LOG"
say "following $LOG"
tail -n 0 -F "$LOG" 2>/dev/null | while IFS= read -r line; do
  [[ $line =~ \"status\":\"installed\" ]] || continue
  [[ $line =~ \"mac\":\"([0-9A-Fa-f%:]+)\" ]] || continue
  mac=${BASH_REMATCH[1]}
  mac=${mac//%3A/:}; mac=${mac//%3a/:}; mac=${mac,,}
  [[ $mac =~ ^([0-9a-f]{2}:){5}[0-9a-f]{2}$ ]] || continue
  [[ $line =~ \"id\":\"([a-z0-9]{8,32})\" ]] || continue
  id=${BASH_REMATCH[1]}
  n=0
  flip "/pxe/http/ipxe/$mac" "$id" && n=$((n + 1))
  flip "/pxe/tftp/grub/grub.cfg-01-${mac//:/-}" "$id" && n=$((n + 1))
  if [ "$n" -gt 0 ]; then say "$mac installed (install $id): it boots from its disk now"; else say "$mac reported install $id, which is not the armed one: nothing changed"; fi
done
