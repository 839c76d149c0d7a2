// Test helper: a valid VM record and a bare lab home (the directories only, no key pair).
import fs from 'node:fs';
import { LabHome } from '../home.ts';
import { HOME_DIRS } from '../home-guard.ts';
import { ensureRunDir } from '../rundir.ts';
import type { VmRecord } from '../spec.ts';

export function testRecord(name: string, over: Partial<VmRecord> = {}): VmRecord {
  return {
    version: 1, name, role: 'target', arch: 'x86_64', cpus: 1, memoryMiB: 512, diskSizeMiB: 1024, boot: 'disk',
    image: null, kernel: null, initrd: null, append: null, mac: '52:54:00:12:34:56', uplinkMac: null, ip: null,
    sshPort: null, sshUser: 'pvmlab', createdAt: '2026-01-01T00:00:00.000Z', accel: null, crash: null, ...over,
  };
}

/** The lab layout under root (a short path: sockets live there). */
export function bareHome(root: string): LabHome {
  const home = new LabHome(root);
  for (const d of HOME_DIRS) fs.mkdirSync(home.dir(d), { recursive: true });
  fs.mkdirSync(home.lockDir, { recursive: true });
  ensureRunDir(home.runDir); // its sockets (QMP, events, serial) live in the per-lab run dir (rundir.ts)
  return home;
}
