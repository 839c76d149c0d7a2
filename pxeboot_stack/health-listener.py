#!/usr/bin/python3
"""supervisord event listener: /run/pvmlab/health/ok exists exactly while dnsmasq is RUNNING.

nginx answers GET /health with that file (200 "ok") or 503 when it is missing, so /health is only
healthy when nginx answers *and* dnsmasq runs.
"""
import os
import sys

OK = "/run/pvmlab/health/ok"


def set_healthy(healthy):
    if healthy:
        tmp = OK + ".tmp"
        with open(tmp, "w") as f:
            f.write("ok\n")
        os.chmod(tmp, 0o644)
        os.rename(tmp, OK)
    else:
        try:
            os.unlink(OK)
        except FileNotFoundError:
            pass


def main():
    os.makedirs(os.path.dirname(OK), exist_ok=True)
    set_healthy(False)
    while True:
        sys.stdout.write("READY\n")
        sys.stdout.flush()
        header = dict(t.split(":", 1) for t in sys.stdin.readline().split())
        payload = sys.stdin.read(int(header["len"]))
        body = dict(t.split(":", 1) for t in payload.split("\n", 1)[0].split())
        if body.get("processname") == "dnsmasq":
            set_healthy(header.get("eventname") == "PROCESS_STATE_RUNNING")
        sys.stdout.write("RESULT 2\nOK")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
