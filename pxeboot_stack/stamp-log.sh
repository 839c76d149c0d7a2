#!/bin/bash
# stamp-log.sh FILE COMMAND [ARG...]: run COMMAND (exec: it keeps this PID, supervisord signals it directly)
# with its stdout and stderr lines appended to FILE, each prefixed with the time the line was read, in
# seconds since the epoch with microseconds (bash's $EPOCHREALTIME, the provisioner's clock), and passed on
# unchanged to stdout (`docker logs pxeboot`). Used for dnsmasq: its own timestamps (log-facility=FILE) have
# one-second resolution and no year — too coarse for the boot flight recorder. FILE is reopened per line,
# so moving it away rotates it.
set -euo pipefail
export LC_ALL=C
file=$1
shift
exec > >(
  while IFS= read -r line || [ -n "$line" ]; do
    printf '%s %s\n' "$EPOCHREALTIME" "$line" >>"$file" || true
    printf '%s\n' "$line"
  done
) 2>&1
exec "$@"
