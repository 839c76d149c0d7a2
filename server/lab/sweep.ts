// On panel start: remove what interrupted operations left in the home (a panel or CLI killed mid-way).
// Only pvmlab's own temp names, only when no live process holds the lock that made them.
import fs from 'node:fs';
import path from 'node:path';
import type { LabHome } from './home.ts';
import { lockHolder, scanRecords } from './store.ts';

/** Returns the paths removed. */
export function sweepHome(home: LabHome): string[] {
  const removed: string[] = [];
  const rm = (p: string) => { fs.rmSync(p, { recursive: true, force: true }); removed.push(p); };
  // Stale locks: their owner is gone.
  for (const f of fs.readdirSync(home.lockDir)) {
    if (f.endsWith('.lock') && !lockHolder(path.join(home.lockDir, f))) rm(path.join(home.lockDir, f));
  }
  // A create in progress (the lab lock) owns half-made files: leave them to it.
  if (lockHolder(home.vmLock('_lab'))) return removed;
  const { records, broken } = scanRecords(home);
  const names = new Set([...records.map((r) => r.name), ...broken.map((b) => b.name)]);
  for (const f of fs.readdirSync(home.dir('images'))) {
    const m = /^vm-([a-z][a-z0-9-]*?)(-efivars\.fd|\.qcow2)$/.exec(f);
    if (m && !names.has(m[1])) rm(path.join(home.dir('images'), f));
  }
  for (const f of fs.readdirSync(home.dir('configs'))) {
    if (/^\..+\.iso\.seed-/.test(f)) rm(path.join(home.dir('configs'), f));
    const m = /^([a-z][a-z0-9-]*)\.iso$/.exec(f);
    if (m && !names.has(m[1])) rm(path.join(home.dir('configs'), f));
  }
  for (const f of fs.readdirSync(home.dir('pids'))) if (f.endsWith('.launch-out')) rm(path.join(home.dir('pids'), f));
  return removed;
}
