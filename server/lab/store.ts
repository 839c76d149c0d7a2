// VM records on disk: one JSON file per VM, atomic writes, a per-VM lock that also works across processes.
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic, type LabHome } from './home.ts';
import { vmRecord, type VmRecord } from './spec.ts';
import { ConflictError, NotFoundError } from './errors.ts';
export { ConflictError, NotFoundError };


export function readRecord(home: LabHome, name: string): VmRecord | null {
  const p = home.vmRecord(name);
  let raw: string;
  try { raw = fs.readFileSync(p, 'utf8'); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  return vmRecord.parse(JSON.parse(raw));
}

export function getRecord(home: LabHome, name: string): VmRecord {
  const r = readRecord(home, name);
  if (!r) throw new NotFoundError(`no VM named '${name}' (see: pvmlab vm list)`);
  return r;
}

export function writeRecord(home: LabHome, rec: VmRecord): void {
  writeFileAtomic(home.vmRecord(rec.name), JSON.stringify(vmRecord.parse(rec), null, 2) + '\n');
}

export function listRecords(home: LabHome): VmRecord[] {
  const out: VmRecord[] = [];
  for (const f of fs.readdirSync(home.dir('vms'))) {
    if (!f.endsWith('.json') || f.startsWith('.')) continue;
    const r = readRecord(home, f.slice(0, -5));
    if (r) out.push(r);
  }
  return out.sort((a, b) => (a.role === b.role ? a.name.localeCompare(b.name) : a.role === 'provisioner' ? -1 : 1));
}

function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

function readLock(lock: string): string | null {
  try { return fs.readFileSync(lock, 'utf8'); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** Create the lock with its content in one step: a temp file linked into place (fails if the lock exists). */
function createLock(lock: string, content: string): boolean {
  const tmp = `${lock}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  fs.writeFileSync(tmp, content, { mode: 0o644, flag: 'wx' });
  try {
    fs.linkSync(tmp, lock);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/**
 * Run fn holding the VM's lock. The lock is a file holding "pid\nwhat\n", created whole or not at all; a lock
 * whose owner process is gone is stale and taken over. Busy → ConflictError (the caller says what is going on).
 */
export async function withVmLock<T>(home: LabHome, name: string, what: string, fn: () => Promise<T>): Promise<T> {
  const lock = home.vmLock(name);
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  for (let attempt = 0; !createLock(lock, `${process.pid}\n${what}\n`); attempt++) {
    const held = readLock(lock);
    const [pid, op] = (held ?? '').split('\n');
    if (attempt >= 5 || (held !== null && Number(pid) && pidAlive(Number(pid)))) {
      throw new ConflictError(`VM '${name}' is busy (${op || 'another operation'} in process ${pid || '?'}): try again when it finishes`);
    }
    if (held === null) continue; // released meanwhile
    // Stale: its owner died. Move it aside and drop it only if it is still that stale lock: another process
    // may have taken over first, and then this puts its lock back.
    const aside = `${lock}.${process.pid}.stale`;
    try { fs.renameSync(lock, aside); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    if (readLock(aside) !== held) { try { fs.linkSync(aside, lock); } catch { /* a newer lock is in place */ } }
    fs.rmSync(aside, { force: true });
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}
