#!/bin/bash
# supervisord event listener: /run/pvmlab/health/ok exists exactly while dnsmasq is RUNNING.
# nginx answers GET /health from that file (200 "ok"), or 503 when it is missing: /health is healthy
# only when nginx answers *and* dnsmasq runs. (bash, not python: one interpreter start less under TCG)
export LC_ALL=C
ok=/run/pvmlab/health/ok
mkdir -p "${ok%/*}"
rm -f "$ok"
while :; do
  printf 'READY\n'
  IFS= read -r header || exit 0
  len=${header##*len:}; len=${len%% *}
  payload=""
  [ "${len:-0}" -gt 0 ] && IFS= read -r -N "$len" payload
  case "$payload" in
    "processname:dnsmasq "*)
      case "$header" in
        *eventname:PROCESS_STATE_RUNNING*) echo ok >"$ok.tmp" && mv -f "$ok.tmp" "$ok" ;;
        *) rm -f "$ok" ;;
      esac ;;
  esac
  printf 'RESULT 2\nOK'
done
