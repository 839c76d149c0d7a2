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

/**
 * Run fn holding the VM's lock. The lock is a file created with O_EXCL holding "pid\n"; a lock whose
 * owner process is gone is stale and taken over. Busy → ConflictError (the caller says what is going on).
 */
export async function withVmLock<T>(home: LabHome, name: string, what: string, fn: () => Promise<T>): Promise<T> {
  const lock = home.vmLock(name);
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = fs.openSync(lock, 'wx', 0o644);
      fs.writeSync(fd, `${process.pid}\n${what}\n`);
      fs.closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) {
        const [pid, op] = (() => { try { return fs.readFileSync(lock, 'utf8').split('\n'); } catch { return ['', '']; } })();
        throw new ConflictError(`VM '${name}' is busy (${op || 'another operation'} in process ${pid || '?'}): try again when it finishes`);
      }
      const pid = Number(fs.readFileSync(lock, 'utf8').split('\n')[0]);
      if (pid && pidAlive(pid)) {
        const op = fs.readFileSync(lock, 'utf8').split('\n')[1];
        throw new ConflictError(`VM '${name}' is busy (${op || 'another operation'} in process ${pid}): try again when it finishes`);
      }
      fs.rmSync(lock, { force: true }); // stale: its owner died
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}
