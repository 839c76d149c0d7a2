#!/bin/bash
# stamp-log.sh FILE COMMAND [ARG...]: run COMMAND (exec: it keeps this PID, supervisord signals it directly)
# with its stdout and stderr lines appended to FILE, each prefixed with the time the line was read, in
# seconds since the epoch with microseconds (the provisioner's clock), and passed on unchanged to stdout
# (`docker logs pxeboot`). Used for dnsmasq: its own timestamps (log-facility=FILE) have one-second resolution
# and no year — too coarse for the boot flight recorder. The stamper is python3 (there for supervisord): it
# reads the pipe in chunks, where a bash `read` loop takes a syscall per byte and fell ~10 ms per line behind
# on a loaded TCG provisioner (log-dhcp writes ~25 lines per DHCP packet). FILE is opened once: rotate it by
# restarting the container (entrypoint.sh keeps one old generation).
set -euo pipefail
file=$1
shift
exec > >(exec python3 -c '
import sys, time
out = open(sys.argv[1], "ab", buffering=0)
for line in sys.stdin.buffer:
    out.write(b"%.6f %s" % (time.time(), line if line.endswith(b"\n") else line + b"\n"))
    sys.stdout.buffer.write(line)
    sys.stdout.buffer.flush()
' "$file") 2>&1
exec "$@"
