#!/bin/sh
# The attack run of issue 12 as a repeatable suite: a local attacker (another port of 127.0.0.1 in a real
# Chromium, another uid via setpriv) and a careless user (planted homes, symlinks, broken records, aborted
# uploads, blocking kernels, kill -9 leftovers). Runs as root (setpriv needs it); VMs boot under TCG.
# Usage: scripts/attack.sh            (about 3–4 min on 2 cores)
set -eu
cd "$(dirname "$0")/.."
KVM=scripts/without-kvm.sh
echo "== unit: guard, home, records, uploads, launch, hostile API inputs"
nice -n 10 npx vitest run server/guard.test.ts server/lab/home-guard.test.ts server/lab/records.test.ts \
  server/http/upload.test.ts server/lab/qemu/launch.test.ts server/api/hostile.test.ts
echo "== second uid and CLI (boots the test guest under TCG)"
nice -n 10 "$KVM" npx vitest run server/lab/local-user.int.test.ts server/cli-hostile.int.test.ts
echo "== browser: another port, rebinding, Origin, cookie replay, decoy cookies, dev endpoints"
nice -n 10 "$KVM" npx playwright test e2e/attack.spec.ts e2e/attack-local.spec.ts
echo "== dev mode: Next's dev server behind the guard"
nice -n 10 npx vitest run server/dev-mode.int.test.ts
